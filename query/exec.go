package query

import (
	"context"
	"encoding/json"
	"errors"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/query/parser"
)

// Graph is the knowledge graph of one workspace at one moment, as the
// executor reads it; *catalog.Graph is the one the server uses. Every
// method but Entities is an index lookup.
type Graph interface {
	Meta(id string) (*catalog.Node, error) // without components
	Node(id string) (*catalog.Node, error)
	ByName(name string) ([]string, error)
	ByComponentType(typeID string) ([]string, error)
	Out(id, label string) ([]catalog.Edge, error)
	In(id, label string) ([]catalog.Edge, error)
	EdgesLabeled(label string) ([]catalog.Edge, error)
	Entities(fn func(id string) error) error
}

// Column types of a result, as TwinMaker names them.
const (
	Node  = "NODE"
	Edge  = "EDGE"
	Value = "VALUE"
	Path  = "PATH"
)

// Column describes one column of a result.
type Column struct {
	Name, Type string
}

// Result is a whole query result: its columns and its rows, each cell a
// value encoding/json can write.
type Result struct {
	Columns []Column
	Rows    [][]any
}

// MaxRows bounds a result; a query that would return more must narrow
// itself or use LIMIT.
const MaxRows = 100_000

// errStop ends the search once LIMIT is reached.
var errStop = errors.New("stop")

// executor runs one query over one graph.
type executor struct {
	ctx   context.Context
	g     Graph
	q     *parser.Query
	slots map[string]int // variable → row slot
	kinds map[string]parser.VarKind
	width int // slots in a row: the variables, then hidden ones

	metas map[string]*catalog.Node // nil value: no such entity
	nodes map[string]*catalog.Node
	work  int

	steps   []step
	filters [][]parser.Expr // conjuncts of WHERE to test after steps[i]
	pre     []parser.Expr   // conjuncts with no variables

	// output
	agg      bool
	counts   []int64
	distinct map[string]bool
	skip     int
	limit    int // -1: none
	rows     [][]any
}

// step extends a row by binding more slots, calling next for each way.
type step func(row []any, next func() error) error

// Execute runs q over g. Problems with the query are ValidationExceptions
// with a position; running past ctx's deadline is a QueryTimeoutException.
func Execute(ctx context.Context, g Graph, q *parser.Query) (*Result, error) {
	x := &executor{ctx: ctx, g: g, q: q, slots: map[string]int{}, kinds: map[string]parser.VarKind{},
		metas: map[string]*catalog.Node{}, nodes: map[string]*catalog.Node{}, limit: -1}
	for _, b := range q.Vars() {
		x.slots[b.Name] = x.width
		x.kinds[b.Name] = b.Kind
		x.width++
	}
	if err := x.validate(); err != nil {
		return nil, err
	}
	res := &Result{}
	for i, it := range q.Select {
		res.Columns = append(res.Columns, Column{Name: it.ColumnName(i), Type: x.columnType(it.Expr)})
		if _, ok := it.Expr.(*parser.Aggregate); ok {
			x.agg = true
		}
	}
	x.counts = make([]int64, len(q.Select))
	if q.Distinct {
		x.distinct = map[string]bool{}
	}
	if q.Offset != nil {
		x.skip = *q.Offset
	}
	if q.Limit != nil {
		x.limit = *q.Limit
	}
	if err := x.plan(); err != nil {
		return nil, x.wrap(err)
	}
	err := x.run()
	if err != nil && err != errStop {
		return nil, x.wrap(err)
	}
	if x.agg {
		row := make([]any, len(x.counts))
		for i, c := range x.counts {
			row[i] = c
		}
		res.Rows = x.window([][]any{row})
	} else {
		res.Rows = x.rows
	}
	return res, nil
}

// window applies OFFSET and LIMIT to the one row of an aggregate query.
func (x *executor) window(rows [][]any) [][]any {
	if x.skip >= len(rows) {
		return nil
	}
	rows = rows[x.skip:]
	if x.limit >= 0 && x.limit < len(rows) {
		rows = rows[:x.limit]
	}
	return rows
}

func (x *executor) wrap(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return twinvault.Errorf(twinvault.QueryTimeoutException, "the query ran past its time limit")
	}
	return err
}

// validate checks what the parser leaves to the executor: which functions
// exist.
func (x *executor) validate() error {
	var err error
	check := func(e parser.Expr) bool {
		if c, ok := e.(*parser.Call); ok && err == nil {
			n, known := functions[c.Name]
			switch {
			case !known:
				err = invalid(parser.Errorf(c.Pos, "unknown function %s: lower and upper are supported", c.Name))
			case len(c.Args) != n:
				err = invalid(parser.Errorf(c.Pos, "%s takes %d argument", c.Name, n))
			}
		}
		return err == nil
	}
	for _, it := range x.q.Select {
		parser.Walk(it.Expr, check)
	}
	parser.Walk(x.q.Where, check)
	return err
}

func invalid(e *parser.Error) error {
	return twinvault.Errorf(twinvault.ValidationException, "%s", e.Error())
}

func (x *executor) columnType(e parser.Expr) string {
	if id, ok := e.(*parser.Ident); ok {
		switch x.kinds[id.Name] {
		case parser.VarNode:
			return Node
		case parser.VarEdge:
			return Edge
		case parser.VarPath:
			return Path
		}
	}
	return Value
}

// tick counts work and checks the deadline now and then.
func (x *executor) tick() error {
	x.work++
	if x.work&1023 == 0 {
		return x.ctx.Err()
	}
	return nil
}

func (x *executor) meta(id string) (*catalog.Node, error) {
	if n, ok := x.metas[id]; ok {
		return n, nil
	}
	if n, ok := x.nodes[id]; ok {
		return n, nil
	}
	n, err := x.g.Meta(id)
	if err != nil {
		return nil, err
	}
	x.metas[id] = n
	return n, nil
}

func (x *executor) node(id string) (*catalog.Node, error) {
	if n, ok := x.nodes[id]; ok {
		return n, nil
	}
	n, err := x.g.Node(id)
	if err != nil {
		return nil, err
	}
	x.nodes[id] = n
	return n, nil
}

func (x *executor) exists(id string) (bool, error) {
	n, err := x.meta(id)
	return n != nil, err
}

// run walks the plan depth first.
func (x *executor) run() error {
	row := make([]any, x.width)
	for _, c := range x.pre {
		v, err := x.eval(c, row)
		if err != nil {
			return err
		}
		if truth(v) != isTrue {
			return nil
		}
	}
	var at func(i int) error
	at = func(i int) error {
		if err := x.tick(); err != nil {
			return err
		}
		if i == len(x.steps) {
			return x.emit(row)
		}
		return x.steps[i](row, func() error {
			for _, c := range x.filters[i] {
				v, err := x.eval(c, row)
				if err != nil {
					return err
				}
				if truth(v) != isTrue {
					return nil
				}
			}
			return at(i + 1)
		})
	}
	return at(0)
}

// emit counts or projects one matching row.
func (x *executor) emit(row []any) error {
	if x.agg {
		for i, it := range x.q.Select {
			a := it.Expr.(*parser.Aggregate)
			if a.Star {
				x.counts[i]++
				continue
			}
			v, err := x.eval(a.Arg, row)
			if err != nil {
				return err
			}
			if !absent(v) {
				x.counts[i]++
			}
		}
		return nil
	}
	out := make([]any, len(x.q.Select))
	for i, it := range x.q.Select {
		v, err := x.eval(it.Expr, row)
		if err != nil {
			return err
		}
		if out[i], err = x.render(v); err != nil {
			return err
		}
	}
	if x.distinct != nil {
		key, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if x.distinct[string(key)] {
			return nil
		}
		x.distinct[string(key)] = true
	}
	if x.skip > 0 {
		x.skip--
		return nil
	}
	if x.limit >= 0 && len(x.rows) >= x.limit {
		return errStop
	}
	if len(x.rows) >= MaxRows {
		return twinvault.Errorf(twinvault.ServiceQuotaExceededException, "the result has more than %d rows; narrow the query or add LIMIT", MaxRows)
	}
	x.rows = append(x.rows, out)
	if x.limit >= 0 && len(x.rows) == x.limit {
		return errStop
	}
	return nil
}
