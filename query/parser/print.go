package parser

import (
	"strconv"
	"strings"
)

// String prints q in canonical form: keywords in upper case, one space
// between tokens, full edge forms (-[]-> rather than ->), explicit
// quantifier bounds ({1,10} for {1,}), patterns before unnests, LIMIT before
// OFFSET, and only the parentheses that precedence requires. Parsing the
// result gives an AST equal to q apart from positions.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if q.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, it := range q.Select {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(&b, it.Expr, precLowest)
		if it.Alias != "" {
			b.WriteString(" AS ")
			b.WriteString(varName(it.Alias))
		}
	}
	b.WriteString(" FROM EntityGraph MATCH ")
	for i, pat := range q.Match {
		if i > 0 {
			b.WriteString(", ")
		}
		writePattern(&b, pat)
	}
	for _, u := range q.Unnest {
		b.WriteString(", ")
		writeExpr(&b, u.Source, precLowest)
		b.WriteString(" AS ")
		b.WriteString(varName(u.Alias))
	}
	if q.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(&b, q.Where, precLowest)
	}
	if q.Limit != nil {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(*q.Limit))
	}
	if q.Offset != nil {
		b.WriteString(" OFFSET ")
		b.WriteString(strconv.Itoa(*q.Offset))
	}
	return b.String()
}

// String prints the pattern as Query.String does.
func (pat Pattern) String() string {
	var b strings.Builder
	writePattern(&b, pat)
	return b.String()
}

func writePattern(b *strings.Builder, pat Pattern) {
	if pat.Var != "" {
		b.WriteString(varName(pat.Var))
		b.WriteString(" = ")
	}
	for i, n := range pat.Nodes {
		b.WriteByte('(')
		if n.Var != "" {
			b.WriteString(varName(n.Var))
		}
		b.WriteByte(')')
		if i < len(pat.Edges) {
			writeEdge(b, pat.Edges[i])
		}
	}
}

func writeEdge(b *strings.Builder, e EdgePattern) {
	if e.Direction == DirIn {
		b.WriteString("<-[")
	} else {
		b.WriteString("-[")
	}
	if e.Var != "" {
		b.WriteString(varName(e.Var))
	}
	if e.Label != "" {
		b.WriteByte(':')
		b.WriteString(fieldName(e.Label))
	}
	if e.Direction == DirOut {
		b.WriteString("]->")
	} else {
		b.WriteString("]-")
	}
	if e.Quantified {
		b.WriteByte('{')
		b.WriteString(strconv.Itoa(e.Min))
		if e.Max != e.Min {
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(e.Max))
		}
		b.WriteByte('}')
	}
}

// Precedence levels of the printer, loosest first.
const (
	precLowest    = iota
	precOr        // a OR b
	precAnd       // a AND b
	precNot       // NOT a
	precPredicate // a = b, a IN (...), a LIKE 'p', a IS NULL
	precPrimary   // literals, variables, paths, calls
)

func precedence(e Expr) int {
	switch e := e.(type) {
	case *Binary:
		switch e.Op {
		case OpOr:
			return precOr
		case OpAnd:
			return precAnd
		}
		return precPredicate
	case *Not:
		return precNot
	case *In, *Like, *IsNull, *IsMissing:
		return precPredicate
	}
	return precPrimary
}

// ExprString prints e as Query.String does.
func ExprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, precLowest)
	return b.String()
}

// writeExpr prints e, in parentheses if it binds more loosely than min.
func writeExpr(b *strings.Builder, e Expr, min int) {
	if precedence(e) < min {
		b.WriteByte('(')
		writeExpr(b, e, precLowest)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *Ident:
		b.WriteString(varName(e.Name))
	case *Path:
		b.WriteString(varName(e.Var.Name))
		for _, f := range e.Fields {
			b.WriteByte('.')
			b.WriteString(fieldName(f.Name))
		}
	case *Literal:
		writeLiteral(b, e)
	case *Call:
		b.WriteString(e.Name)
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, a, precLowest)
		}
		b.WriteByte(')')
	case *Aggregate:
		b.WriteString(e.Func)
		b.WriteByte('(')
		if e.Star {
			b.WriteByte('*')
		} else {
			writeExpr(b, e.Arg, precLowest)
		}
		b.WriteByte(')')
	case *Binary:
		switch e.Op {
		case OpOr, OpAnd:
			// Left-associative: a right operand of the same precedence
			// keeps its parentheses.
			p := precedence(e)
			writeExpr(b, e.L, p)
			b.WriteByte(' ')
			b.WriteString(e.Op.String())
			b.WriteByte(' ')
			writeExpr(b, e.R, p+1)
		default:
			writeExpr(b, e.L, precPrimary)
			b.WriteByte(' ')
			b.WriteString(e.Op.String())
			b.WriteByte(' ')
			writeExpr(b, e.R, precPrimary)
		}
	case *Not:
		b.WriteString("NOT ")
		writeExpr(b, e.X, precNot)
	case *In:
		writeExpr(b, e.X, precPrimary)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN ")
		if e.List != nil {
			b.WriteByte('(')
			for i, v := range e.List {
				if i > 0 {
					b.WriteString(", ")
				}
				writeExpr(b, v, precPrimary)
			}
			b.WriteByte(')')
		} else {
			writeExpr(b, e.Right, precPrimary)
		}
	case *Like:
		writeExpr(b, e.X, precPrimary)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" LIKE ")
		writeString(b, e.Pattern)
		if e.Escape != "" {
			b.WriteString(" ESCAPE ")
			writeString(b, e.Escape)
		}
	case *IsNull:
		writeExpr(b, e.X, precPrimary)
		if e.Not {
			b.WriteString(" IS NOT NULL")
		} else {
			b.WriteString(" IS NULL")
		}
	case *IsMissing:
		writeExpr(b, e.X, precPrimary)
		if e.Not {
			b.WriteString(" IS NOT MISSING")
		} else {
			b.WriteString(" IS MISSING")
		}
	}
}

func writeLiteral(b *strings.Builder, l *Literal) {
	switch l.Kind {
	case LitNull:
		b.WriteString("NULL")
	case LitMissing:
		b.WriteString("MISSING")
	case LitBool:
		if l.Bool {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case LitInt:
		b.WriteString(strconv.FormatInt(l.Int, 10))
	case LitFloat:
		s := strconv.FormatFloat(l.Float, 'g', -1, 64)
		b.WriteString(s)
		if !strings.ContainsAny(s, ".eIN") { // keep it a float: 20.0, not 20
			b.WriteString(".0")
		}
	case LitString:
		writeString(b, l.Str)
	}
}

func writeString(b *strings.Builder, s string) {
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.WriteByte('\'')
}

// isPlain reports whether s can be written without quotes where any name is
// allowed (field and relationship names).
func isPlain(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) {
			return false
		}
	}
	return true
}

// fieldName prints a field or relationship name, quoted when it must be.
func fieldName(s string) string {
	if isPlain(s) {
		return s
	}
	return quoteIdent(s)
}

// varName prints a variable or alias, quoted when it must be (reserved
// words too).
func varName(s string) string {
	if isPlain(s) && lookupKeyword(s) == kwNone {
		return s
	}
	return quoteIdent(s)
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
