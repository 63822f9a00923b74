package parser

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a syntax or validation error in a query. Pos is the byte offset
// (from 0) of the offending token, Line and Col its line and column (from 1;
// Col counts characters). Msg never quotes more than a short snippet of the
// query, so it is safe to send back to the client (as a ValidationException).
type Error struct {
	Pos  int
	Line int
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	return "line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Col) + ": " + e.Msg
}

// Errorf makes an *Error at pos; later stages (planner, executor) use it to
// report a problem at a node's position.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos.Offset, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}
}

// snippetRunes is how many characters of user input an error message quotes
// at most, and snippetBytes how long their escaped form may be: an escape
// takes up to ten bytes for one character.
const (
	snippetRunes = 24
	snippetBytes = 48
)

// quote renders user text for an error message: at most snippetRunes
// characters and snippetBytes bytes between the double quotes, with
// non-ASCII and control characters escaped, and "..." after a cut.
func quote(s string) string {
	cut := false
	n := 0
	for i := range s {
		if n == snippetRunes {
			s, cut = s[:i], true
			break
		}
		n++
	}
	q := strconv.QuoteToASCII(s)
	for len(q) > snippetBytes+2 {
		_, size := utf8.DecodeLastRuneInString(s)
		s, cut = s[:len(s)-size], true
		q = strconv.QuoteToASCII(s)
	}
	if cut {
		q += "..."
	}
	return q
}

// quoteChar renders a one-character string the way the query writes it:
// 'c' for printable ASCII, else as an escaped Go string.
func quoteChar(s string) string {
	if len(s) == 1 && s[0] >= 0x20 && s[0] < 0x7f {
		return "'" + s + "'"
	}
	return quote(s)
}

// Limits are the documented ExecuteQuery limits that show in the text of a
// query. A zero field means the default (DefaultLimits). The executor may
// read the same values (e.g. MaxHops for {m,} quantifiers, which the parser
// has already resolved to {m,MaxHops}).
type Limits struct {
	MaxHops        int // upper bound of a variable-length edge quantifier
	MaxConditions  int // AND, OR and NOT operators in the whole query
	MaxLikePattern int // characters in a LIKE pattern
	MaxInItems     int // values in an IN (...) list
	MaxLimit       int // LIMIT value
	MaxOffset      int // OFFSET value
	MaxLimitOffset int // LIMIT + OFFSET
	MaxProjected   int // items in the SELECT list
	MaxSelfJoins   int // edge patterns plus extra comma-separated graph patterns
	MaxDepth       int // nesting of parentheses, NOT and function calls
}

// DefaultLimits are TwinMaker's documented defaults, plus a nesting depth
// that keeps the recursive-descent parser's stack small.
func DefaultLimits() Limits {
	return Limits{
		MaxHops:        10,
		MaxConditions:  10,
		MaxLikePattern: 20,
		MaxInItems:     10,
		MaxLimit:       3000,
		MaxOffset:      3000,
		MaxLimitOffset: 3000,
		MaxProjected:   20,
		MaxSelfJoins:   20,
		MaxDepth:       64,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxHops, d.MaxHops)
	set(&l.MaxConditions, d.MaxConditions)
	set(&l.MaxLikePattern, d.MaxLikePattern)
	set(&l.MaxInItems, d.MaxInItems)
	set(&l.MaxLimit, d.MaxLimit)
	set(&l.MaxOffset, d.MaxOffset)
	set(&l.MaxLimitOffset, d.MaxLimitOffset)
	set(&l.MaxProjected, d.MaxProjected)
	set(&l.MaxSelfJoins, d.MaxSelfJoins)
	set(&l.MaxDepth, d.MaxDepth)
	return l
}

// article-free list of alternatives, e.g. `"," or FROM`.
func alternatives(alts ...string) string {
	switch len(alts) {
	case 0:
		return ""
	case 1:
		return alts[0]
	}
	return strings.Join(alts[:len(alts)-1], ", ") + " or " + alts[len(alts)-1]
}
