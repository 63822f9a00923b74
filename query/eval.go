package query

import (
	"strings"

	"github.com/twinvault/twinvault/query/parser"
)

// eval computes e on a row. Conditions follow SQL's three-valued logic: a
// comparison with NULL or MISSING is unknown (nil), NOT unknown is unknown,
// and WHERE keeps a row only when its condition is true.
func (x *executor) eval(e parser.Expr, row []any) (any, error) {
	switch e := e.(type) {
	case *parser.Literal:
		switch e.Kind {
		case parser.LitNull:
			return nil, nil
		case parser.LitMissing:
			return missing, nil
		case parser.LitBool:
			return e.Bool, nil
		case parser.LitInt:
			return e.Int, nil
		case parser.LitFloat:
			return e.Float, nil
		}
		return e.Str, nil
	case *parser.Ident:
		return row[x.slots[e.Name]], nil
	case *parser.Path:
		v := row[x.slots[e.Var.Name]]
		for _, f := range e.Fields {
			var err error
			if v, err = x.field(v, f.Name); err != nil {
				return nil, err
			}
			if v == missing {
				return missing, nil
			}
		}
		return v, nil
	case *parser.Call:
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			v, err := x.eval(a, row)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
		return call(e.Name, args), nil
	case *parser.Binary:
		switch e.Op {
		case parser.OpAnd, parser.OpOr:
			l, err := x.eval(e.L, row)
			if err != nil {
				return nil, err
			}
			lt := truth(l)
			if e.Op == parser.OpAnd && lt == isFalse || e.Op == parser.OpOr && lt == isTrue {
				return lt == isTrue, nil
			}
			r, err := x.eval(e.R, row)
			if err != nil {
				return nil, err
			}
			return logic(e.Op, lt, truth(r)), nil
		}
		l, err := x.eval(e.L, row)
		if err != nil {
			return nil, err
		}
		r, err := x.eval(e.R, row)
		if err != nil {
			return nil, err
		}
		return comparison(e.Op, l, r), nil
	case *parser.Not:
		v, err := x.eval(e.X, row)
		if err != nil {
			return nil, err
		}
		switch truth(v) {
		case isTrue:
			return false, nil
		case isFalse:
			return true, nil
		}
		return nil, nil
	case *parser.In:
		v, err := x.eval(e.X, row)
		if err != nil {
			return nil, err
		}
		var list []any
		if e.Right != nil {
			r, err := x.eval(e.Right, row)
			if err != nil {
				return nil, err
			}
			l, ok := r.([]any)
			if !ok {
				return nil, nil
			}
			list = l
		} else {
			for _, item := range e.List {
				iv, err := x.eval(item, row)
				if err != nil {
					return nil, err
				}
				list = append(list, iv)
			}
		}
		if absent(v) {
			return nil, nil
		}
		found := false
		for _, item := range list {
			if !absent(item) && equal(v, item) {
				found = true
				break
			}
		}
		return found != e.Not, nil
	case *parser.Like:
		v, err := x.eval(e.X, row)
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			return nil, nil
		}
		return e.Match(s) != e.Not, nil
	case *parser.IsNull:
		v, err := x.eval(e.X, row)
		if err != nil {
			return nil, err
		}
		return absent(v) != e.Not, nil
	case *parser.IsMissing:
		v, err := x.eval(e.X, row)
		if err != nil {
			return nil, err
		}
		return (v == missing) != e.Not, nil
	}
	return missing, nil
}

func absent(v any) bool { return v == nil || v == missing }

type truthValue uint8

const (
	isUnknown truthValue = iota
	isTrue
	isFalse
)

func truth(v any) truthValue {
	b, ok := v.(bool)
	switch {
	case !ok:
		return isUnknown
	case b:
		return isTrue
	}
	return isFalse
}

// logic is Kleene's AND and OR; unknown is nil.
func logic(op parser.BinaryOp, l, r truthValue) any {
	if op == parser.OpAnd {
		switch {
		case l == isFalse || r == isFalse:
			return false
		case l == isTrue && r == isTrue:
			return true
		}
		return nil
	}
	switch {
	case l == isTrue || r == isTrue:
		return true
	case l == isFalse && r == isFalse:
		return false
	}
	return nil
}

func comparison(op parser.BinaryOp, l, r any) any {
	if absent(l) || absent(r) {
		return nil
	}
	switch op {
	case parser.OpEq:
		return equal(l, r)
	case parser.OpNe:
		return !equal(l, r)
	}
	c, ok := compare(l, r)
	if !ok {
		return nil
	}
	switch op {
	case parser.OpLt:
		return c < 0
	case parser.OpLe:
		return c <= 0
	case parser.OpGt:
		return c > 0
	}
	return c >= 0
}

// functions are the scalar functions a query may call, by lower-case name,
// with their number of arguments.
var functions = map[string]int{"lower": 1, "upper": 1}

func call(name string, args []any) any {
	s, ok := args[0].(string)
	if !ok {
		if args[0] == nil {
			return nil
		}
		return missing
	}
	if name == "lower" {
		return strings.ToLower(s)
	}
	return strings.ToUpper(s)
}
