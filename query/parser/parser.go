package parser

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse parses an ExecuteQuery statement with the default limits.
func Parse(query string) (*Query, error) {
	return ParseWithLimits(query, DefaultLimits())
}

// ParseWithLimits parses an ExecuteQuery statement, enforcing l (zero fields
// take their defaults). Every error is an *Error. The query is also checked
// for variables that are used but never bound, variables bound twice with
// conflicting kinds, and misplaced aggregates.
func ParseWithLimits(query string, l Limits) (q *Query, err error) {
	p := &parser{lx: newLexer(query), lim: l.withDefaults()}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			q, err = nil, b.err
		}
	}()
	p.next()
	q = p.parseQuery()
	if _, e := check(q, p.quoted); e != nil {
		return nil, e
	}
	return q, nil
}

// bailout carries an *Error up through the recursive descent.
type bailout struct{ err *Error }

type parser struct {
	lx     lexer
	tok    token
	ahead  []token
	lim    Limits
	depth  int
	conds  int
	joins  int
	quoted map[int]bool // offsets of variables written as "quoted identifiers"
}

func (p *parser) next() {
	if len(p.ahead) > 0 {
		p.tok = p.ahead[0]
		p.ahead = p.ahead[1:]
	} else {
		p.tok = p.lx.next()
	}
	if p.tok.kind == tErr {
		p.fail(p.tok.pos, "%s", p.tok.val)
	}
}

func (p *parser) peek() token {
	if len(p.ahead) == 0 {
		p.ahead = append(p.ahead, p.lx.next())
	}
	return p.ahead[0]
}

func (p *parser) fail(pos Pos, format string, args ...any) {
	panic(bailout{Errorf(pos, format, args...)})
}

// describe names the current token for "found ..." in error messages.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tWord:
		if t.kw != kwNone {
			return "reserved word " + quote(t.text)
		}
	case tString:
		return "string " + quote(t.text)
	}
	return quote(t.text)
}

// expected fails with "expected WHAT, found <current token>".
func (p *parser) expected(what string) {
	p.fail(p.tok.pos, "expected %s, found %s", what, describe(p.tok))
}

func (p *parser) isKw(k keyword) bool { return p.tok.kind == tWord && p.tok.kw == k }

// isName reports whether the current token can be a variable name or an
// alias: an identifier that is not a reserved word, or a quoted identifier.
func (p *parser) isName() bool {
	return p.tok.kind == tWord && p.tok.kw == kwNone || p.tok.kind == tQuoted
}

// name consumes a variable name or alias.
func (p *parser) name(what string) (string, Pos) {
	if !p.isName() {
		p.noKeyword()
		p.expected(what)
	}
	n, pos := p.tokName(), p.tok.pos
	p.next()
	return n, pos
}

func (p *parser) tokName() string {
	if p.tok.kind == tQuoted {
		return p.tok.val
	}
	return p.tok.text
}

// noKeyword fails if the current token is a reserved word where a name
// was expected.
func (p *parser) noKeyword() {
	if p.tok.kind == tWord && p.tok.kw != kwNone {
		p.fail(p.tok.pos, "%s is a reserved word; to use it as a name, quote it: %s", quote(p.tok.text), quoteIdent(p.tok.text))
	}
}

// enter and leave bound the recursion of the parser (and of everything that
// walks the AST it builds).
func (p *parser) enter(pos Pos) {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		p.fail(pos, "the query is nested too deeply: the limit is %d levels", p.lim.MaxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) countCondition(pos Pos) {
	p.conds++
	if p.conds > p.lim.MaxConditions {
		p.fail(pos, "too many conditional expressions (AND, OR, NOT): the limit is %d", p.lim.MaxConditions)
	}
}

func (p *parser) countJoin(pos Pos) {
	p.joins++
	if p.joins > p.lim.MaxSelfJoins {
		p.fail(pos, "too many self joins (edge patterns and extra graph patterns): the limit is %d", p.lim.MaxSelfJoins)
	}
}

// unsupported gives a clearer message for well-known SQL clauses found where
// the query should end.
var unsupported = map[string]string{
	"ORDER": "ORDER BY is not supported", "GROUP": "GROUP BY is not supported",
	"HAVING": "HAVING is not supported", "UNION": "UNION is not supported",
	"INTERSECT": "INTERSECT is not supported", "EXCEPT": "EXCEPT is not supported",
	"JOIN": "JOIN is not supported: add another pattern to MATCH", "FETCH": "FETCH is not supported: use LIMIT",
}

func (p *parser) parseQuery() *Query {
	q := &Query{Pos: p.tok.pos}
	if !p.isKw(kwSelect) {
		p.expected("SELECT at the start of the query")
	}
	p.next()
	if p.isKw(kwDistinct) {
		q.Distinct = true
		p.next()
	}
	for {
		if len(q.Select) == p.lim.MaxProjected {
			p.fail(p.tok.pos, "too many projected fields: the limit is %d", p.lim.MaxProjected)
		}
		q.Select = append(q.Select, p.parseSelectItem())
		if p.tok.kind != tComma {
			break
		}
		p.next()
	}
	if !p.isKw(kwFrom) {
		p.expected(`"," or FROM after a select item`)
	}
	p.next()
	if !(p.tok.kind == tWord && strings.EqualFold(p.tok.text, "EntityGraph") || p.tok.kind == tQuoted && p.tok.val == "EntityGraph") {
		p.expected("EntityGraph after FROM (the only graph there is)")
	}
	p.next()
	if !p.isKw(kwMatch) {
		p.expected("MATCH after FROM EntityGraph")
	}
	p.next()
	if !p.isPatternStart() {
		p.expected("a graph pattern such as (e) after MATCH")
	}
	q.Match = append(q.Match, p.parsePattern())
	for p.tok.kind == tComma {
		p.next()
		if p.isPatternStart() {
			p.countJoin(p.tok.pos)
			q.Match = append(q.Match, p.parsePattern())
		} else {
			q.Unnest = append(q.Unnest, p.parseUnnest())
		}
	}
	ends := []string{`","`, "WHERE", "LIMIT", "OFFSET", "end of query"}
	if p.isKw(kwWhere) {
		p.next()
		q.Where = p.parseExpr()
		ends = []string{"AND", "OR", "LIMIT", "OFFSET", "end of query"}
		if p.tok.kind == tComma {
			if nt := p.peek(); nt.kind == tWord && (nt.kw == kwAnd || nt.kw == kwOr) {
				// One example in the TwinMaker docs has "x = 'a', AND y = 'b'".
				// The comma is refused, with a message that says what to do.
				p.fail(p.tok.pos, `unexpected "," before %s: join conditions with AND or OR alone`, strings.ToUpper(nt.text))
			}
			p.fail(p.tok.pos, `unexpected "," after the WHERE condition: join conditions with AND or OR`)
		}
	}
	p.parseLimitOffset(q)
	if p.tok.kind == tSemi {
		p.next()
		if p.tok.kind != tEOF {
			p.expected(`end of query after ";"`)
		}
	}
	if p.tok.kind != tEOF {
		if p.tok.kind == tWord {
			if msg, ok := unsupported[strings.ToUpper(p.tok.text)]; ok {
				p.fail(p.tok.pos, "%s", msg)
			}
		}
		if q.Limit != nil || q.Offset != nil {
			ends = []string{"LIMIT", "OFFSET", "end of query"}
			if q.Limit != nil && q.Offset != nil {
				ends = []string{"end of query"}
			}
		}
		p.expected(alternatives(ends...))
	}
	return q
}

func (p *parser) parseSelectItem() SelectItem {
	if p.tok.kind == tStar {
		p.fail(p.tok.pos, "SELECT * is not supported: list the variables or fields to return")
	}
	it := SelectItem{Pos: p.tok.pos}
	it.Expr = p.parseExpr()
	if p.isKw(kwAs) {
		p.next()
		it.Alias, it.AliasPos = p.name("a column name after AS")
	}
	return it
}

// parseLimitOffset parses LIMIT n and OFFSET n, in either order.
func (p *parser) parseLimitOffset(q *Query) {
	for p.isKw(kwLimit) || p.isKw(kwOffset) {
		kw, kwPos := strings.ToUpper(p.tok.text), p.tok.pos
		isLimit := p.tok.kw == kwLimit
		if isLimit && q.Limit != nil || !isLimit && q.Offset != nil {
			p.fail(kwPos, "%s is given twice", kw)
		}
		p.next()
		max := p.lim.MaxOffset
		if isLimit {
			max = p.lim.MaxLimit
		}
		if p.tok.kind != tNumber || p.tok.float {
			p.expected("a whole number from 0 to " + strconv.Itoa(max) + " after " + kw)
		}
		n, numPos, text := p.integer(), p.tok.pos, p.tok.text
		if n > max {
			p.fail(numPos, "%s %s exceeds the limit of %d", kw, quoteNumber(text), max)
		}
		p.next()
		if isLimit {
			q.Limit, q.LimitPos = &n, kwPos
		} else {
			q.Offset, q.OffsetPos = &n, kwPos
		}
		if q.Limit != nil && q.Offset != nil && *q.Limit+*q.Offset > p.lim.MaxLimitOffset {
			p.fail(numPos, "LIMIT %d plus OFFSET %d is %d: together they may be at most %d",
				*q.Limit, *q.Offset, *q.Limit+*q.Offset, p.lim.MaxLimitOffset)
		}
	}
}

// integer is the value of the current tNumber token, which has no fraction
// or exponent; values beyond int range give math.MaxInt (every limit is
// smaller, so the caller reports them as too large).
func (p *parser) integer() int {
	n, err := strconv.Atoi(p.tok.text)
	if err != nil {
		return math.MaxInt
	}
	return n
}

// quoteNumber shortens a run of digits for an error message.
func quoteNumber(s string) string {
	if len(s) > snippetRunes {
		return s[:snippetRunes] + "..."
	}
	return s
}

// ---- graph patterns ----

// isPatternStart reports whether a graph pattern starts here: "(" or a path
// variable followed by "=".
func (p *parser) isPatternStart() bool {
	if p.tok.kind == tLParen {
		return true
	}
	return p.isName() && p.peek().kind == tEq
}

func (p *parser) parsePattern() Pattern {
	pat := Pattern{Pos: p.tok.pos}
	if p.tok.kind != tLParen {
		pat.Var, pat.VarPos = p.name("a path variable")
		p.next() // "="
		if p.tok.kind != tLParen {
			p.expected(`"(" to start the pattern after "` + pat.Var + ` ="`)
		}
	}
	pat.Nodes = append(pat.Nodes, p.parseNode())
	for p.tok.kind == tMinus || p.tok.kind == tLt || p.tok.kind == tTilde {
		pat.Edges = append(pat.Edges, p.parseEdge())
		p.countJoin(pat.Edges[len(pat.Edges)-1].Pos)
		if p.tok.kind != tLParen {
			p.expected(`"(" after an edge pattern (a pattern alternates nodes and edges)`)
		}
		pat.Nodes = append(pat.Nodes, p.parseNode())
	}
	return pat
}

func (p *parser) parseNode() NodePattern {
	n := NodePattern{Pos: p.tok.pos}
	p.next() // "("
	if p.isName() {
		n.Var, n.VarPos = p.name("")
	}
	switch {
	case p.tok.kind == tRParen:
		p.next()
		return n
	case p.tok.kind == tColon:
		p.fail(p.tok.pos, "node labels are not supported: every node is an entity; filter entities with WHERE")
	case p.tok.kind == tLParen && n.Var == "":
		p.fail(p.tok.pos, "parenthesized path patterns are not supported: quantify a single edge instead, e.g. -[]->{1,3}")
	case p.isKw(kwWhere):
		p.fail(p.tok.pos, "WHERE inside a node pattern is not supported: put the condition in the query's WHERE clause")
	case n.Var == "":
		p.noKeyword()
		p.expected(`a variable or ")" in a node pattern`)
	}
	p.expected(`")" after node pattern`)
	panic("unreachable")
}

// parseEdge parses one edge pattern: the full forms -[f]->, <-[f]-, -[f]-
// and <-[f]-> (f = [var][:label]), the abbreviated forms ->, <-, - and <->,
// then an optional quantifier.
func (p *parser) parseEdge() EdgePattern {
	e := EdgePattern{Pos: p.tok.pos, Min: 1, Max: 1}
	tilde := func() {
		if p.tok.kind == tTilde {
			p.fail(p.tok.pos, "undirected edges (~) are not supported: use -[...]- to match relationships in either direction")
		}
	}
	tilde()
	left := false
	if p.tok.kind == tLt {
		left = true
		p.next()
		if p.tok.kind != tMinus {
			p.expected(`"-" after "<" in an edge pattern`)
		}
	}
	p.next() // "-"
	if p.tok.kind == tLBrack {
		p.next()
		if p.isName() {
			e.Var, e.VarPos = p.name("")
		}
		if p.tok.kind == tColon {
			p.next()
			if p.tok.kind != tWord && p.tok.kind != tQuoted {
				p.expected(`a relationship name after ":"`)
			}
			e.Label, e.LabelPos = p.tokName(), p.tok.pos
			p.next()
		}
		if p.tok.kind != tRBrack {
			switch {
			case p.isKw(kwWhere):
				p.fail(p.tok.pos, "WHERE inside an edge pattern is not supported: put the condition in the query's WHERE clause")
			case e.Var == "" && e.Label == "":
				p.noKeyword()
				p.expected(`a variable, ":relationshipName" or "]" in an edge pattern`)
			case e.Label == "":
				p.expected(`":relationshipName" or "]" in an edge pattern`)
			}
			p.expected(`"]" to close the edge pattern`)
		}
		p.next()
		tilde()
		if p.tok.kind != tMinus {
			if left {
				p.expected(`"-" after "]" in an edge pattern`)
			}
			p.expected(`"->" or "-" after "]" in an edge pattern`)
		}
		p.next()
	}
	right := false
	if p.tok.kind == tGt {
		right = true
		p.next()
	}
	switch {
	case left && !right:
		e.Direction = DirIn
	case right && !left:
		e.Direction = DirOut
	default:
		e.Direction = DirBoth
	}
	p.parseQuantifier(&e)
	return e
}

// parseQuantifier parses {m,n}, {m,}, {n}, {,n}, * (= {0,}) or + (= {1,}).
// An open upper bound is the hop limit.
func (p *parser) parseQuantifier(e *EdgePattern) {
	maxHops := p.lim.MaxHops
	switch p.tok.kind {
	case tStar, tPlus:
		e.Quantified, e.Min, e.Max = true, 0, maxHops
		if p.tok.kind == tPlus {
			e.Min = 1
		}
		p.next()
		return
	case tLBrace:
	default:
		return
	}
	open := p.tok.pos
	p.next()
	bound := func() (int, Pos, string, bool) {
		if p.tok.kind != tNumber {
			return 0, Pos{}, "", false
		}
		if p.tok.float {
			p.fail(p.tok.pos, "quantifier bounds are whole numbers, found %s", quote(p.tok.text))
		}
		n, pos, text := p.integer(), p.tok.pos, p.tok.text
		p.next()
		return n, pos, text, true
	}
	lo, loPos, loText, hasLo := bound()
	hi, hiPos, hiText, hasHi := lo, loPos, loText, hasLo
	comma := p.tok.kind == tComma
	if comma {
		p.next()
		hi, hiPos, hiText, hasHi = bound()
	}
	if p.tok.kind != tRBrace {
		switch {
		case !comma && !hasLo:
			p.expected("a number in the quantifier")
		case comma && !hasHi:
			p.expected(`a number or "}" after "," in the quantifier`)
		case !comma:
			p.expected(`"," or "}" in the quantifier`)
		}
		p.expected(`"}" to close the quantifier`)
	}
	p.next()
	switch {
	case !hasLo && !hasHi:
		p.fail(open, "empty quantifier: write {m,n}, {m,} or {n}")
	case comma && !hasLo:
		lo = 0
	case comma && !hasHi:
		if lo > maxHops {
			p.fail(loPos, "quantifier lower bound %s exceeds the hop limit of %d", quoteNumber(loText), maxHops)
		}
		hi = maxHops
	}
	if hasHi && hi > maxHops {
		p.fail(hiPos, "quantifier upper bound %s exceeds the hop limit of %d", quoteNumber(hiText), maxHops)
	}
	if lo > hi {
		p.fail(open, "quantifier lower bound %d is greater than its upper bound %d", lo, hi)
	}
	if hi == 0 {
		p.fail(open, "quantifier upper bound must be at least 1")
	}
	e.Quantified, e.Min, e.Max = true, lo, hi
}

// parseUnnest parses "var.field... AS alias".
func (p *parser) parseUnnest() Unnest {
	if !p.isName() {
		p.expected(`a graph pattern or an unnest such as e.components AS c after ","`)
	}
	u := Unnest{Pos: p.tok.pos}
	root := p.parsePath()
	path, ok := root.(*Path)
	if !ok {
		p.expected(`"." and a field name (only lists such as e.components or c.properties can be unnested)`)
	}
	u.Source = path
	if !p.isKw(kwAs) {
		p.expected("AS and an alias after the unnested path")
	}
	p.next()
	u.Alias, u.AliasPos = p.name("an alias after AS")
	return u
}

// ---- expressions ----
//
// Precedence, loosest first: OR, AND, NOT, predicates (comparisons, IN,
// LIKE, IS), primaries. Predicates do not chain: "a = b = c" is an error.

func (p *parser) parseExpr() Expr {
	l := p.parseAnd()
	for p.isKw(kwOr) {
		pos := p.tok.pos
		p.countCondition(pos)
		p.next()
		l = &Binary{Op: OpOr, L: l, R: p.parseAnd(), Pos: pos}
	}
	return l
}

func (p *parser) parseAnd() Expr {
	l := p.parseNot()
	for p.isKw(kwAnd) {
		pos := p.tok.pos
		p.countCondition(pos)
		p.next()
		l = &Binary{Op: OpAnd, L: l, R: p.parseNot(), Pos: pos}
	}
	return l
}

func (p *parser) parseNot() Expr {
	if !p.isKw(kwNot) {
		return p.parsePredicate()
	}
	pos := p.tok.pos
	p.countCondition(pos)
	p.enter(pos)
	p.next()
	x := p.parseNot()
	p.leave()
	return &Not{X: x, Pos: pos}
}

var comparisons = map[tokKind]BinaryOp{tEq: OpEq, tNe: OpNe, tLt: OpLt, tLe: OpLe, tGt: OpGt, tGe: OpGe}

// atPredicate reports whether a predicate operator follows.
func (p *parser) atPredicate() bool {
	if _, ok := comparisons[p.tok.kind]; ok {
		return true
	}
	if p.isKw(kwNot) {
		nt := p.peek()
		return nt.kind == tWord && (nt.kw == kwIn || nt.kw == kwLike)
	}
	return p.isKw(kwIn) || p.isKw(kwLike) || p.isKw(kwIs)
}

func (p *parser) parsePredicate() Expr {
	x := p.parsePrimary()
	if p.isKw(kwNot) && !p.atPredicate() {
		p.next()
		p.expected("IN or LIKE after NOT")
	}
	if !p.atPredicate() {
		return x
	}
	var e Expr
	if op, ok := comparisons[p.tok.kind]; ok {
		pos := p.tok.pos
		p.next()
		e = &Binary{Op: op, L: x, R: p.parsePrimary(), Pos: pos}
	} else {
		not := false
		if p.isKw(kwNot) {
			not = true
			p.next()
		}
		switch p.tok.kw {
		case kwIn:
			e = p.parseIn(x, not)
		case kwLike:
			e = p.parseLike(x, not)
		case kwIs:
			e = p.parseIs(x)
		}
	}
	if p.atPredicate() {
		p.fail(p.tok.pos, "comparisons cannot be chained: join them with AND or OR, or use parentheses")
	}
	return e
}

func (p *parser) parseIn(x Expr, not bool) Expr {
	in := &In{X: x, Not: not, Pos: p.tok.pos}
	p.next()
	if p.tok.kind != tLParen {
		switch p.tok.kind {
		case tWord, tQuoted:
			if p.tok.kw == kwNone {
				in.Right = p.parsePrimary() // a variable, path or call
				return in
			}
		}
		p.expected(`a list in parentheses, e.g. IN ('a', 'b'), or a list value such as p.propertyValue after IN`)
	}
	p.next()
	if p.tok.kind == tRParen {
		p.fail(p.tok.pos, "empty IN list")
	}
	for {
		if len(in.List) == p.lim.MaxInItems {
			p.fail(p.tok.pos, "too many items in the IN list: the limit is %d", p.lim.MaxInItems)
		}
		in.List = append(in.List, p.parsePrimary())
		if p.tok.kind != tComma {
			break
		}
		p.next()
	}
	if p.tok.kind != tRParen {
		p.expected(`"," or ")" in the IN list`)
	}
	p.next()
	return in
}

func (p *parser) parseLike(x Expr, not bool) Expr {
	lk := &Like{X: x, Not: not, Pos: p.tok.pos}
	p.next()
	if p.tok.kind != tString {
		p.expected("a pattern in single quotes after LIKE")
	}
	lk.Pattern, lk.PatternPos = p.tok.val, p.tok.pos
	if n := utf8.RuneCountInString(lk.Pattern); n > p.lim.MaxLikePattern {
		p.fail(lk.PatternPos, "the LIKE pattern is %d characters long: the limit is %d", n, p.lim.MaxLikePattern)
	}
	p.next()
	if p.isKw(kwEscape) {
		p.next()
		if p.tok.kind != tString {
			p.expected("a one-character string after ESCAPE")
		}
		esc := p.tok.val
		if n := utf8.RuneCountInString(esc); n != 1 {
			p.fail(p.tok.pos, "ESCAPE takes exactly one character, not %d", n)
		}
		if esc == "%" || esc == "_" {
			p.fail(p.tok.pos, "the ESCAPE character cannot be %% or _")
		}
		lk.Escape = esc
		p.next()
		r, _ := utf8.DecodeRuneInString(esc)
		for i, prev := 0, false; i < len(lk.Pattern); {
			c, n := utf8.DecodeRuneInString(lk.Pattern[i:])
			i += n
			switch {
			case prev:
				if c != '%' && c != '_' && c != r {
					p.fail(lk.PatternPos, "in the LIKE pattern, the escape character %s must be followed by %%, _ or itself", quoteChar(esc))
				}
				prev = false
			case c == r:
				prev = true
				if i == len(lk.Pattern) {
					p.fail(lk.PatternPos, "the LIKE pattern ends with the escape character %s", quoteChar(esc))
				}
			}
		}
	}
	return lk
}

func (p *parser) parseIs(x Expr) Expr {
	pos := p.tok.pos
	p.next()
	not := false
	if p.isKw(kwNot) {
		not = true
		p.next()
	}
	switch {
	case p.isKw(kwNull):
		p.next()
		return &IsNull{X: x, Not: not, Pos: pos}
	case p.isKw(kwMissing):
		p.next()
		return &IsMissing{X: x, Not: not, Pos: pos}
	}
	if not {
		p.expected("NULL or MISSING after IS NOT")
	}
	p.expected("NULL, MISSING or NOT after IS")
	panic("unreachable")
}

func (p *parser) parsePrimary() Expr {
	t := p.tok
	switch t.kind {
	case tString:
		p.next()
		return &Literal{Kind: LitString, Str: t.val, Pos: t.pos}
	case tNumber:
		p.next()
		return p.number(t, "")
	case tMinus:
		p.next()
		if p.tok.kind != tNumber {
			p.expected(`a number after "-" (arithmetic is not supported)`)
		}
		n := p.tok
		p.next()
		return p.number(n, "-").withPos(t.pos)
	case tLParen:
		p.enter(t.pos)
		p.next()
		e := p.parseExpr()
		if p.tok.kind != tRParen {
			p.expected(`")" to close the parenthesis opened at ` + t.pos.String())
		}
		p.next()
		p.leave()
		p.noFieldAccess()
		return e
	case tQuoted:
		return p.parsePath()
	case tStar:
		p.fail(t.pos, "* is only allowed in COUNT(*)")
	case tWord:
		switch t.kw {
		case kwNone:
			if p.peek().kind == tLParen {
				return p.parseCall()
			}
			return p.parsePath()
		case kwTrue, kwFalse:
			p.next()
			return &Literal{Kind: LitBool, Bool: t.kw == kwTrue, Pos: t.pos}
		case kwNull:
			p.next()
			return &Literal{Kind: LitNull, Pos: t.pos}
		case kwMissing:
			p.next()
			return &Literal{Kind: LitMissing, Pos: t.pos}
		case kwNot:
			p.fail(t.pos, "NOT needs parentheses here, e.g. x = (NOT y)")
		case kwDistinct:
			p.fail(t.pos, "DISTINCT is only allowed right after SELECT")
		}
	}
	p.expected("an expression")
	panic("unreachable")
}

// noFieldAccess refuses ".field" after something that is not a variable.
func (p *parser) noFieldAccess() {
	if p.tok.kind == tDot {
		p.fail(p.tok.pos, "field access is only allowed on variables, e.g. e.entityName")
	}
}

// number makes a Literal from a tNumber token; sign is "" or "-".
func (p *parser) number(t token, sign string) *Literal {
	if !t.float {
		n, err := strconv.ParseInt(sign+t.text, 10, 64)
		if err != nil {
			p.fail(t.pos, "integer %s is out of range", quote(sign+t.text))
		}
		return &Literal{Kind: LitInt, Int: n, Pos: t.pos}
	}
	f, err := strconv.ParseFloat(sign+t.text, 64)
	if err != nil {
		p.fail(t.pos, "number %s is out of range", quote(sign+t.text))
	}
	return &Literal{Kind: LitFloat, Float: f, Pos: t.pos}
}

func (l *Literal) withPos(pos Pos) *Literal {
	l.Pos = pos
	return l
}

// parsePath parses a variable and any ".field" steps after it.
func (p *parser) parsePath() Expr {
	v := Ident{Name: p.tokName(), Pos: p.tok.pos}
	if p.tok.kind == tQuoted {
		if p.quoted == nil {
			p.quoted = map[int]bool{}
		}
		p.quoted[v.Pos.Offset] = true
	}
	p.next()
	if p.tok.kind != tDot {
		return &v
	}
	path := &Path{Var: v}
	for p.tok.kind == tDot {
		p.next()
		if p.tok.kind != tWord && p.tok.kind != tQuoted {
			p.expected(`a field name after "."`)
		}
		path.Fields = append(path.Fields, Field{Name: p.tokName(), Pos: p.tok.pos})
		p.next()
	}
	return path
}

// parseCall parses name(args...); COUNT(...) becomes an Aggregate.
func (p *parser) parseCall() Expr {
	name, pos := p.tok.text, p.tok.pos
	p.next() // name
	p.enter(pos)
	p.next() // "("
	defer p.leave()
	if strings.EqualFold(name, "COUNT") {
		agg := &Aggregate{Func: "COUNT", Pos: pos}
		switch {
		case p.tok.kind == tStar:
			agg.Star = true
			p.next()
		case p.isKw(kwDistinct):
			p.fail(p.tok.pos, "COUNT(DISTINCT ...) is not supported")
		case p.tok.kind == tRParen:
			p.fail(p.tok.pos, "COUNT needs an argument: COUNT(x) or COUNT(*)")
		default:
			agg.Arg = p.parseExpr()
		}
		if p.tok.kind == tComma {
			p.fail(p.tok.pos, "COUNT takes one argument")
		}
		if p.tok.kind != tRParen {
			p.expected(`")" after the argument of COUNT`)
		}
		p.next()
		p.noFieldAccess()
		return agg
	}
	call := &Call{Name: strings.ToLower(name), Pos: pos}
	if p.tok.kind != tRParen {
		for {
			call.Args = append(call.Args, p.parseExpr())
			if p.tok.kind != tComma {
				break
			}
			p.next()
		}
		if p.tok.kind != tRParen {
			p.expected(`"," or ")" in the arguments of ` + call.Name)
		}
	}
	p.next()
	p.noFieldAccess()
	return call
}
