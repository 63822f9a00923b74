package query

import (
	"slices"
	"sort"

	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/query/parser"
)

// The planner turns MATCH into steps. Each graph pattern starts from its
// most selective node: one already bound by an earlier pattern, else the
// node whose candidates an index gives in the fewest IDs (an entity ID or
// name in WHERE, a component type its unnested components must have, the
// label of an adjacent edge); only a pattern with none of these scans every
// entity. From there the pattern is walked edge by edge, to the right and
// then to the left. Each conjunct of WHERE is tested as soon as the
// variables it reads are bound, so a chain is cut where it stops matching.

// hop is what an edge of a pattern with a path variable walked: its
// relationships and the nodes between them, in the order of the text.
type hop struct {
	edges []catalog.Edge
	inner []string
}

// patternSlots are the row slots of one pattern's nodes and edges.
type patternSlots struct {
	nodes []int // a variable's slot, or a hidden one for ()
	edges []int // the edge variable's slot, or -1
	hops  []int // hidden slots for path building, or nil
}

func (x *executor) hidden() int {
	x.width++
	return x.width - 1
}

func (x *executor) plan() error {
	conj := conjuncts(x.q.Where)
	bound := map[string]bool{}
	var stepVars [][]string // names bound by each step

	add := func(s step, names ...string) {
		x.steps = append(x.steps, s)
		var fresh []string
		for _, n := range names {
			if n != "" && !bound[n] {
				bound[n] = true
				fresh = append(fresh, n)
			}
		}
		stepVars = append(stepVars, fresh)
	}

	for pi := range x.q.Match {
		pat := &x.q.Match[pi]
		ps := patternSlots{}
		for _, n := range pat.Nodes {
			if n.Var != "" {
				ps.nodes = append(ps.nodes, x.slots[n.Var])
			} else {
				ps.nodes = append(ps.nodes, x.hidden())
			}
		}
		for _, e := range pat.Edges {
			if e.Var != "" {
				ps.edges = append(ps.edges, x.slots[e.Var])
			} else {
				ps.edges = append(ps.edges, -1)
			}
			if pat.Var != "" {
				ps.hops = append(ps.hops, x.hidden())
			}
		}
		labels := make([]string, len(pat.Edges))
		for i, e := range pat.Edges {
			labels[i] = e.Label
			if labels[i] == "" && e.Var != "" && !e.Quantified {
				labels[i] = labelHint(conj, e.Var)
			}
		}

		// The start: a node bound before, else the fewest candidates.
		start, cands, scan := -1, []string(nil), true
		for i, n := range pat.Nodes {
			if n.Var != "" && bound[n.Var] {
				start, scan = i, false
				break
			}
		}
		// Conditions in WHERE name few entities; a label may name many, so
		// its edges are read only when no condition helps.
		for _, byLabel := range []bool{false, true} {
			if start >= 0 {
				break
			}
			for i := range pat.Nodes {
				c, ok, err := x.candidates(pat, i, labels, conj, byLabel)
				if err != nil {
					return err
				}
				if ok && (scan || len(c) < len(cands)) {
					start, cands, scan = i, c, false
				}
			}
		}
		if start < 0 {
			start = 0
		}
		startVar := pat.Nodes[start].Var
		switch {
		case startVar != "" && bound[startVar]:
			// joined on a node of an earlier pattern: nothing to bind.
		case scan:
			add(x.scanStep(ps.nodes[start]), startVar)
		default:
			add(x.listStep(ps.nodes[start], cands), startVar)
		}
		for i := start; i < len(pat.Edges); i++ {
			join := pat.Nodes[i+1].Var != "" && bound[pat.Nodes[i+1].Var]
			add(x.edgeStep(pat, ps, labels, i, true, join), pat.Edges[i].Var, pat.Nodes[i+1].Var)
		}
		for i := start - 1; i >= 0; i-- {
			join := pat.Nodes[i].Var != "" && bound[pat.Nodes[i].Var]
			add(x.edgeStep(pat, ps, labels, i, false, join), pat.Edges[i].Var, pat.Nodes[i].Var)
		}
		if pat.Var != "" {
			add(x.pathStep(ps, x.slots[pat.Var]), pat.Var)
		}
	}
	for _, u := range x.q.Unnest {
		add(x.unnestStep(u), u.Alias)
	}

	// Each conjunct after the first step that binds all it reads.
	x.filters = make([][]parser.Expr, len(x.steps))
	seen := map[string]bool{}
	placed := make([]bool, len(conj))
	for i, c := range conj {
		if len(varsOf(c)) == 0 {
			x.pre = append(x.pre, c)
			placed[i] = true
		}
	}
	for si, names := range stepVars {
		for _, n := range names {
			seen[n] = true
		}
		for i, c := range conj {
			if placed[i] {
				continue
			}
			all := true
			for _, v := range varsOf(c) {
				all = all && seen[v]
			}
			if all {
				x.filters[si] = append(x.filters[si], c)
				placed[i] = true
			}
		}
	}
	return nil
}

// conjuncts splits a condition at its top-level ANDs.
func conjuncts(e parser.Expr) []parser.Expr {
	if e == nil {
		return nil
	}
	if b, ok := e.(*parser.Binary); ok && b.Op == parser.OpAnd {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	return []parser.Expr{e}
}

func varsOf(e parser.Expr) []string {
	var names []string
	parser.Walk(e, func(e parser.Expr) bool {
		switch e := e.(type) {
		case *parser.Ident:
			names = append(names, e.Name)
		case *parser.Path:
			names = append(names, e.Var.Name)
		}
		return true
	})
	return names
}

// fieldLiterals returns the strings that a conjunct requires v.field to
// equal: v.field = 'a', v.field IN ('a', 'b'), or an OR of such terms.
func fieldLiterals(e parser.Expr, v, field string) ([]string, bool) {
	isField := func(e parser.Expr) bool {
		p, ok := e.(*parser.Path)
		return ok && p.Var.Name == v && len(p.Fields) == 1 && p.Fields[0].Name == field
	}
	str := func(e parser.Expr) (string, bool) {
		l, ok := e.(*parser.Literal)
		if !ok || l.Kind != parser.LitString {
			return "", false
		}
		return l.Str, true
	}
	switch e := e.(type) {
	case *parser.Binary:
		switch e.Op {
		case parser.OpEq:
			if isField(e.L) {
				s, ok := str(e.R)
				return []string{s}, ok
			}
			if isField(e.R) {
				s, ok := str(e.L)
				return []string{s}, ok
			}
		case parser.OpOr:
			l, ok := fieldLiterals(e.L, v, field)
			if !ok {
				return nil, false
			}
			r, ok := fieldLiterals(e.R, v, field)
			return append(l, r...), ok
		}
	case *parser.In:
		if e.Not || e.List == nil || !isField(e.X) {
			return nil, false
		}
		var out []string
		for _, item := range e.List {
			s, ok := str(item)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// labelHint finds r.relationshipName = 'label' for an unlabeled edge r.
func labelHint(conj []parser.Expr, edgeVar string) string {
	for _, c := range conj {
		if l, ok := fieldLiterals(c, edgeVar, "relationshipName"); ok && len(l) == 1 {
			return l[0]
		}
	}
	return ""
}

// candidates lists, sorted, the entities node i of pat can be, when an
// index can tell.
func (x *executor) candidates(pat *parser.Pattern, i int, labels []string, conj []parser.Expr, byLabel bool) ([]string, bool, error) {
	var sets [][]string
	if v := pat.Nodes[i].Var; v != "" && !byLabel {
		for _, c := range conj {
			if ids, ok := fieldLiterals(c, v, "entityId"); ok {
				sets = append(sets, ids)
			}
			if names, ok := fieldLiterals(c, v, "entityName"); ok {
				var ids []string
				for _, n := range names {
					more, err := x.g.ByName(n)
					if err != nil {
						return nil, false, err
					}
					ids = append(ids, more...)
				}
				sets = append(sets, ids)
			}
		}
		for _, u := range x.q.Unnest {
			if u.Source.Var.Name != v || len(u.Source.Fields) != 1 || u.Source.Fields[0].Name != "components" {
				continue
			}
			for _, c := range conj {
				if types, ok := fieldLiterals(c, u.Alias, "componentTypeId"); ok {
					var ids []string
					for _, t := range types {
						more, err := x.g.ByComponentType(t)
						if err != nil {
							return nil, false, err
						}
						ids = append(ids, more...)
					}
					sets = append(sets, ids)
				}
			}
		}
	}
	if byLabel {
		// An adjacent labeled edge that must be walked at least once.
		for _, side := range []struct {
			edge  int
			right bool // the edge is to the right of the node
		}{{i, true}, {i - 1, false}} {
			if side.edge < 0 || side.edge >= len(pat.Edges) {
				continue
			}
			e := pat.Edges[side.edge]
			label := labels[side.edge]
			if label == "" || label == catalog.ChildOf || e.Min < 1 {
				continue
			}
			edges, err := x.g.EdgesLabeled(label)
			if err != nil {
				return nil, false, err
			}
			var ids []string
			for _, ed := range edges {
				out := e.Direction == parser.DirOut == side.right
				if e.Direction == parser.DirBoth || out {
					ids = append(ids, ed.Source)
				}
				if e.Direction == parser.DirBoth || !out {
					ids = append(ids, ed.Target)
				}
			}
			sets = append(sets, ids)
			break
		}
	}
	if len(sets) == 0 {
		return nil, false, nil
	}
	result := unique(sets[0])
	for _, s := range sets[1:] {
		s = unique(s)
		result = slices.DeleteFunc(result, func(id string) bool {
			_, found := slices.BinarySearch(s, id)
			return !found
		})
	}
	return result, true, nil
}

func unique(ids []string) []string {
	ids = slices.Clone(ids)
	sort.Strings(ids)
	return slices.Compact(ids)
}

// listStep binds slot to each existing entity of ids.
func (x *executor) listStep(slot int, ids []string) step {
	return func(row []any, next func() error) error {
		for _, id := range ids {
			ok, err := x.exists(id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			row[slot] = nodeValue(id)
			if err := next(); err != nil {
				return err
			}
		}
		return nil
	}
}

// scanStep binds slot to every entity, in the order of their IDs so that
// LIMIT and OFFSET cut the same rows on every run.
func (x *executor) scanStep(slot int) step {
	return func(row []any, next func() error) error {
		var ids []string
		err := x.g.Entities(func(id string) error {
			ids = append(ids, id)
			return x.tick()
		})
		if err != nil {
			return err
		}
		sort.Strings(ids)
		for _, id := range ids {
			row[slot] = nodeValue(id)
			if err := next(); err != nil {
				return err
			}
		}
		return nil
	}
}

// neighbour is an edge and the node at its far end. known says the index
// that gave the edge vouches for that node: an edge is indexed with its
// source, and a parent cannot be deleted before its children, but a
// relationship may name an entity that no longer exists.
type neighbour struct {
	e     catalog.Edge
	other string
	known bool
}

// adjacent lists the edges of pattern direction dir at id, walked from the
// left node to the right one (forward) or back.
func (x *executor) adjacent(id, label string, dir parser.Direction, forward bool) ([]neighbour, error) {
	var out []neighbour
	if dir == parser.DirBoth || (dir == parser.DirOut) == forward {
		edges, err := x.g.Out(id, label)
		if err != nil {
			return nil, err
		}
		for _, e := range edges {
			out = append(out, neighbour{e, e.Target, e.Label == catalog.ChildOf})
		}
	}
	if dir == parser.DirBoth || (dir == parser.DirIn) == forward {
		edges, err := x.g.In(id, label)
		if err != nil {
			return nil, err
		}
		for _, e := range edges {
			out = append(out, neighbour{e, e.Source, true})
		}
	}
	return out, nil
}

// edgeStep walks edge i of pat from its left node to its right one
// (forward) or back, binding the far node (or, when join, checking it) and
// the edge's variables.
func (x *executor) edgeStep(pat *parser.Pattern, ps patternSlots, labels []string, i int, forward, join bool) step {
	e := pat.Edges[i]
	from, to := ps.nodes[i], ps.nodes[i+1]
	if !forward {
		from, to = to, from
	}
	edgeSlot := ps.edges[i]
	hopSlot := -1
	if ps.hops != nil {
		hopSlot = ps.hops[i]
	}
	label := labels[i]
	bind := func(row []any, far string, known bool, walked []catalog.Edge, inner []string, next func() error) error {
		if join {
			if row[to] != nodeValue(far) {
				return nil
			}
		} else {
			if !known {
				ok, err := x.exists(far)
				if err != nil || !ok {
					return err
				}
			}
			row[to] = nodeValue(far)
		}
		if edgeSlot >= 0 || hopSlot >= 0 {
			walked = slices.Clone(walked)
			inner = slices.Clone(inner)
			if !forward {
				slices.Reverse(walked)
				slices.Reverse(inner)
			}
		}
		if edgeSlot >= 0 {
			if e.Quantified {
				row[edgeSlot] = walkValue(walked)
			} else {
				row[edgeSlot] = edgeValue(walked[0])
			}
		}
		if hopSlot >= 0 {
			row[hopSlot] = hop{edges: walked, inner: inner}
		}
		return next()
	}
	if !e.Quantified {
		return func(row []any, next func() error) error {
			near, err := x.adjacent(string(row[from].(nodeValue)), label, e.Direction, forward)
			if err != nil {
				return err
			}
			for _, n := range near {
				if err := bind(row, n.other, n.known, []catalog.Edge{n.e}, nil, next); err != nil {
					return err
				}
			}
			return nil
		}
	}
	// A quantified edge: every walk of Min..Max relationships that uses no
	// relationship twice.
	return func(row []any, next func() error) error {
		var walked []catalog.Edge
		var nodes []string // the nodes reached, the start first
		var walk func(at string, known bool) error
		walk = func(at string, known bool) error {
			if err := x.tick(); err != nil {
				return err
			}
			if !known {
				// A walk goes on only through entities that exist.
				ok, err := x.exists(at)
				if err != nil || !ok {
					return err
				}
			}
			if len(walked) >= e.Min {
				inner := []string(nil)
				if len(nodes) > 2 {
					inner = nodes[1 : len(nodes)-1]
				}
				if err := bind(row, at, true, walked, inner, next); err != nil {
					return err
				}
			}
			if len(walked) == e.Max {
				return nil
			}
			near, err := x.adjacent(at, label, e.Direction, forward)
			if err != nil {
				return err
			}
			for _, n := range near {
				if slices.Contains(walked, n.e) {
					continue
				}
				walked = append(walked, n.e)
				nodes = append(nodes, n.other)
				err := walk(n.other, n.known)
				walked = walked[:len(walked)-1]
				nodes = nodes[:len(nodes)-1]
				if err != nil {
					return err
				}
			}
			return nil
		}
		start := string(row[from].(nodeValue))
		nodes = append(nodes, start)
		return walk(start, true)
	}
}

// pathStep assembles a path variable from its pattern's nodes and hops.
func (x *executor) pathStep(ps patternSlots, slot int) step {
	return func(row []any, next func() error) error {
		p := pathValue{nodes: []string{string(row[ps.nodes[0]].(nodeValue))}}
		for i, hs := range ps.hops {
			h := row[hs].(hop)
			p.nodes = append(p.nodes, h.inner...)
			p.edges = append(p.edges, h.edges...)
			p.nodes = append(p.nodes, string(row[ps.nodes[i+1]].(nodeValue)))
		}
		row[slot] = p
		return next()
	}
}

// unnestStep binds the alias to each element of the list at the source.
func (x *executor) unnestStep(u parser.Unnest) step {
	slot := x.slots[u.Alias]
	return func(row []any, next func() error) error {
		v, err := x.eval(u.Source, row)
		if err != nil {
			return err
		}
		var list []any
		switch v := v.(type) {
		case []any:
			list = v
		case nil, missingValue:
		default:
			list = []any{v}
		}
		for _, item := range list {
			row[slot] = item
			if err := next(); err != nil {
				return err
			}
		}
		return nil
	}
}
