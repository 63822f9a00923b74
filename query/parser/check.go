package parser

import "strconv"

// VarKind is what a variable is bound to.
type VarKind uint8

const (
	VarNode     VarKind = iota + 1 // an entity, bound by (v)
	VarEdge                        // one relationship, bound by -[v]->
	VarEdgeList                    // the relationships walked by a quantified edge, -[v]->{m,n}
	VarPath                        // a whole path, bound by v = (a)-[]->(b)
	VarUnnest                      // one element of a list, bound by "e.components AS v"
)

func (k VarKind) String() string {
	switch k {
	case VarNode:
		return "node"
	case VarEdge:
		return "edge"
	case VarEdgeList:
		return "variable-length edge"
	case VarPath:
		return "path"
	case VarUnnest:
		return "unnest alias"
	}
	return "VarKind(" + strconv.Itoa(int(k)) + ")"
}

// article gives the kind with "a" or "an".
func (k VarKind) article() string {
	if s := k.String(); s[0] == 'e' || s[0] == 'u' {
		return "an " + s
	}
	return "a " + k.String()
}

// Binding is a variable of the query: its name, its kind and where it is
// first bound.
type Binding struct {
	Name string
	Kind VarKind
	Pos  Pos
}

// Vars lists the variables q binds, in the order they are first bound:
// pattern variables (path, nodes and edges in text order), then unnest
// aliases. A query returned by Parse binds each name once, except that a
// node variable may recur (which joins the patterns on that entity).
func (q *Query) Vars() []Binding {
	c := checker{index: map[string]int{}}
	c.bindPatterns(q)
	for _, u := range q.Unnest {
		c.bind(u.Alias, VarUnnest, u.AliasPos)
	}
	return c.vars
}

type checker struct {
	vars   []Binding
	index  map[string]int
	quoted map[int]bool
	err    *Error
}

func (c *checker) failf(pos Pos, format string, args ...any) {
	if c.err == nil {
		c.err = Errorf(pos, format, args...)
	}
}

func (c *checker) bind(name string, kind VarKind, pos Pos) {
	if name == "" {
		return
	}
	i, ok := c.index[name]
	if !ok {
		c.index[name] = len(c.vars)
		c.vars = append(c.vars, Binding{Name: name, Kind: kind, Pos: pos})
		return
	}
	b := c.vars[i]
	switch {
	case b.Kind == VarNode && kind == VarNode:
		// The same entity in two places: a join (or a cycle).
	case b.Kind == kind:
		c.failf(pos, "%s variable %s is bound twice (first at %s)", kind, quote(name), b.Pos)
	default:
		c.failf(pos, "variable %s is already bound as %s at %s, so it cannot also be %s", quote(name), b.Kind.article(), b.Pos, kind.article())
	}
}

func (c *checker) bindPatterns(q *Query) {
	for _, pat := range q.Match {
		c.bind(pat.Var, VarPath, pat.VarPos)
		for i, n := range pat.Nodes {
			c.bind(n.Var, VarNode, n.VarPos)
			if i < len(pat.Edges) {
				e := pat.Edges[i]
				kind := VarEdge
				if e.Quantified {
					kind = VarEdgeList
				}
				c.bind(e.Var, kind, e.VarPos)
			}
		}
	}
}

func (c *checker) use(v Ident) {
	if _, ok := c.index[v.Name]; ok {
		return
	}
	if c.quoted[v.Pos.Offset] {
		c.failf(v.Pos, "unbound variable %s: double quotes make a name; write strings in single quotes, e.g. 'text'", quote(v.Name))
		return
	}
	c.failf(v.Pos, "unbound variable %s: bind it in MATCH, e.g. (e) or -[r]->, or with an unnest such as e.components AS c", quote(v.Name))
}

// expr checks the variables and aggregates of e. It returns the first
// variable used outside an aggregate, if any, and whether e holds an
// aggregate.
func (c *checker) expr(e Expr, inAgg, inWhere bool) (outside *Ident, hasAgg bool) {
	note := func(o *Ident, a bool) {
		if outside == nil {
			outside = o
		}
		hasAgg = hasAgg || a
	}
	switch e := e.(type) {
	case *Ident:
		c.use(*e)
		if !inAgg {
			outside = e
		}
	case *Path:
		c.use(e.Var)
		if !inAgg {
			outside = &e.Var
		}
	case *Aggregate:
		switch {
		case inWhere:
			c.failf(e.Pos, "%s is not allowed in WHERE", e.Func)
		case inAgg:
			c.failf(e.Pos, "aggregates cannot be nested")
		}
		hasAgg = true
		if e.Arg != nil {
			c.expr(e.Arg, true, inWhere)
		}
	case *Call:
		for _, a := range e.Args {
			note(c.expr(a, inAgg, inWhere))
		}
	case *Binary:
		note(c.expr(e.L, inAgg, inWhere))
		note(c.expr(e.R, inAgg, inWhere))
	case *Not:
		note(c.expr(e.X, inAgg, inWhere))
	case *In:
		note(c.expr(e.X, inAgg, inWhere))
		for _, v := range e.List {
			note(c.expr(v, inAgg, inWhere))
		}
		if e.Right != nil {
			note(c.expr(e.Right, inAgg, inWhere))
		}
	case *Like:
		note(c.expr(e.X, inAgg, inWhere))
	case *IsNull:
		note(c.expr(e.X, inAgg, inWhere))
	case *IsMissing:
		note(c.expr(e.X, inAgg, inWhere))
	}
	return outside, hasAgg
}

// check runs the checks that need the whole query: every variable used is
// bound, no name is bound twice with different meanings, and aggregates stand
// only in the select list, unnested, and not beside plain fields (there is
// no GROUP BY). quoted holds the offsets of variables written in double
// quotes, for a better message.
func check(q *Query, quoted map[int]bool) ([]Binding, *Error) {
	c := checker{index: map[string]int{}, quoted: quoted}
	c.bindPatterns(q)
	for _, u := range q.Unnest {
		c.use(u.Source.Var)
		c.bind(u.Alias, VarUnnest, u.AliasPos)
	}
	var plain *Ident
	aggregated := false
	for _, it := range q.Select {
		outside, hasAgg := c.expr(it.Expr, false, false)
		if plain == nil {
			plain = outside
		}
		aggregated = aggregated || hasAgg
	}
	if aggregated && plain != nil {
		c.failf(plain.Pos, "%s is used outside an aggregate in a query with COUNT (GROUP BY is not supported)", quote(plain.Name))
	}
	if q.Where != nil {
		c.expr(q.Where, false, true)
	}
	return c.vars, c.err
}
