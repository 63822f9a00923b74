package catalog

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/tsdb"
)

// The knowledge graph of a workspace, as the query engine reads it: every
// entity is a node; every relationship value is an edge named after its
// property (Edge); every parent link is an "isChildOf" edge from child to
// parent. Each walk is answered by an index, never by reading every entity,
// except Entities, which is that scan.

// ChildOf is the label of the hierarchy's edges.
const ChildOf = "isChildOf"

// Graph reads one workspace's graph from one snapshot, so a query sees a
// single state of the twin: every write acknowledged before it began.
type Graph struct {
	s    *Service
	tx   *barrier.Tx
	v    *barrier.View
	ws   *workspace
	pr   *propResolver
	memo *graphMemo // nil: read every list from its index
	// version is the graph's version in this snapshot.
	version string
}

// ReadGraph runs fn over a snapshot of the workspace's graph. Lists the
// graph returns are shared and must not be modified.
func (s *Service) ReadGraph(ctx context.Context, workspaceID string, fn func(g *Graph) error) error {
	return s.viewAt(ctx, func(tx *barrier.Tx, gen uint64, _ tsdb.Stamp) error {
		ws, v, err := s.loadWorkspace(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		g := &Graph{s: s, tx: tx, v: v, ws: ws, pr: s.newPropResolver(tx, v, gen)}
		version, err := tx.Get(v, graphVersionKey)
		switch {
		case err == nil:
			g.version = string(version)
			g.memo = s.graphs.memo(v.Name(), g.version)
		case !isNotFound(err):
			return err
		}
		return fn(g)
	})
}

// graphVersionKey holds the graph's version: random bytes that every
// change to its indexes replaces, in the same transaction. Two snapshots
// with the same version hold the same graph, so what one reader learned
// from the indexes serves the next.
var graphVersionKey = []byte("n/graph")

// graphDelta is what one transaction changed in a workspace's graph: the
// version it found and the one it wrote, and the index keys it set or
// deleted. Once the transaction commits, the memo of the old version
// becomes the memo of the new one, less the lists those keys belong to.
type graphDelta struct {
	view     string
	old, new []byte
	keys     [][]byte
}

// bumpGraph gives the graph a new version, once per transaction.
func bumpGraph(tx *barrier.Tx, v *barrier.View, d *graphDelta) error {
	if d.new != nil {
		return nil
	}
	old, err := tx.Get(v, graphVersionKey)
	if err != nil && !isNotFound(err) {
		return err
	}
	version := make([]byte, 16)
	rand.Read(version)
	if err := tx.Set(v, graphVersionKey, version); err != nil {
		return err
	}
	d.view, d.old, d.new = v.Name(), old, version
	return nil
}

// graphMemos remember, per workspace, the index lists of one version of
// its graph: walks of a large hierarchy then cost a map lookup per entity
// instead of a store seek, for as long as the graph does not change, and
// a change forgets only the lists it touched.
type graphMemos struct {
	mu sync.Mutex
	m  map[string]*graphMemo // by view
}

// graphMemo holds lists read at one version; a reader uses it only while
// the memo is at the reader's own version.
type graphMemo struct {
	mu      sync.Mutex
	version string
	ids     map[string][]string
	edges   map[string][]Edge
}

// memoLists bounds what one memo remembers.
const memoLists = 1 << 20

func (gm *graphMemos) memo(view, version string) *graphMemo {
	gm.mu.Lock()
	defer gm.mu.Unlock()
	m := gm.m[view]
	if m == nil {
		if gm.m == nil {
			gm.m = map[string]*graphMemo{}
		}
		m = &graphMemo{}
		gm.m[view] = m
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != version {
		m.version, m.ids, m.edges = version, map[string][]string{}, map[string][]Edge{}
	}
	return m
}

// advance carries the memo over a committed change.
func (gm *graphMemos) advance(d *graphDelta) {
	if d.new == nil || d.old == nil {
		return
	}
	gm.mu.Lock()
	m := gm.m[d.view]
	gm.mu.Unlock()
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != string(d.old) {
		return // the memo is of another version; the next reader starts afresh
	}
	// A list is remembered under its index prefix, which ends in '/'.
	for _, k := range d.keys {
		for i, c := range k {
			if c == '/' {
				delete(m.ids, string(k[:i+1]))
				delete(m.edges, string(k[:i+1]))
			}
		}
	}
	m.version = string(d.new)
}

// Node is an entity with the values of its properties, as the graph shows
// it. Time-series properties have no value here.
type Node struct {
	ID, Name, Description, Parent, ARN, Workspace string
	Created, Updated                              time.Time
	Components                                    []NodeComponent // by name
}

// NodeComponent is a component of a node, composite ones included (by
// path).
type NodeComponent struct {
	Name, TypeID string
	Properties   []NodeProperty // by name
}

// NodeProperty is a property with its definition and its value (the
// entity's, else the definition's default; nil when neither).
type NodeProperty struct {
	Name       string
	Definition model.PropertyDefinitionResponse
	Value      *model.DataValue
}

// Meta returns the entity id without its components (Components is nil),
// or nil when there is none: what a query needs to test names and dates.
func (g *Graph) Meta(id string) (*Node, error) {
	e, err := g.pr.entity(id)
	if err != nil || e == nil {
		return nil, err
	}
	return g.meta(e), nil
}

func (g *Graph) meta(e *entity) *Node {
	return &Node{ID: e.ID, Name: e.Name, Description: deref(e.Description), Parent: e.Parent,
		ARN: g.s.entityARN(g.ws.ID, e.ID), Workspace: g.ws.ID, Created: e.Created, Updated: e.Updated}
}

// Node returns the entity id with its components, or nil when there is
// none.
func (g *Graph) Node(id string) (*Node, error) {
	e, err := g.pr.entity(id)
	if err != nil || e == nil {
		return nil, err
	}
	n := g.meta(e)
	paths := append(sortedKeys(e.Components), sortedKeys(e.Composite)...)
	for _, path := range paths {
		c := e.Components[path]
		if c == nil {
			c = e.Composite[path]
		}
		props, err := g.pr.props(e, path)
		if err != nil {
			return nil, err
		}
		nc := NodeComponent{Name: path, TypeID: c.TypeID}
		for _, name := range sortedKeys(props) {
			p := props[name]
			np := NodeProperty{Name: name, Definition: definitionResponse(p.def, p.inherited, false)}
			if !deref(p.def.IsTimeSeries) {
				np.Value = p.value
				if np.Value == nil {
					np.Value = p.def.DefaultValue
				}
			}
			nc.Properties = append(nc.Properties, np)
		}
		n.Components = append(n.Components, nc)
	}
	return n, nil
}

// ByName returns the entities named name.
func (g *Graph) ByName(name string) ([]string, error) {
	return g.ids(append(key("nm", g.v.Index(name)), '/'))
}

// ByComponentType returns the entities with a component of the type.
func (g *Graph) ByComponentType(typeID string) ([]string, error) {
	return g.ids(append(key("ctu", g.v.Index(typeID)), '/'))
}

// Children returns the entities whose parent is id.
func (g *Graph) Children(id string) ([]string, error) {
	return g.ids(append(key("ch", g.v.Index(id)), '/'))
}

func (g *Graph) ids(prefix []byte) ([]string, error) {
	if g.memo != nil {
		g.memo.mu.Lock()
		ids, ok := g.memo.ids[string(prefix)]
		ok = ok && g.memo.version == g.version
		g.memo.mu.Unlock()
		if ok {
			return ids, nil
		}
	}
	ids, err := listIndex(g.tx, g.v, prefix, 0)
	if err != nil {
		return nil, err
	}
	sort.Strings(ids)
	ids = slices.Clip(ids) // an append by a caller copies
	if g.memo != nil {
		g.memo.mu.Lock()
		if g.memo.version == g.version && len(g.memo.ids) < memoLists {
			g.memo.ids[string(prefix)] = ids
		}
		g.memo.mu.Unlock()
	}
	return ids, nil
}

// Entities calls fn with every entity's ID; fn may return kv.Stop.
func (g *Graph) Entities(fn func(id string) error) error {
	err := g.tx.Scan(g.v, prefixRange("en/"), func(_, val []byte) error {
		var e struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(val, &e); err != nil {
			return fmt.Errorf("decode entity: %w", err)
		}
		return fn(e.ID)
	})
	return err
}

// Out returns the edges that leave id, with the given label or with any
// ("" label), the hierarchy's isChildOf edge included. A relationship may
// name an entity that does not exist (any more): callers check the target
// with Node, as TwinMaker's graph has no such nodes.
func (g *Graph) Out(id, label string) ([]Edge, error) {
	var out []Edge
	if label == "" || label == ChildOf {
		e, err := g.pr.entity(id)
		if err != nil {
			return nil, err
		}
		if e != nil && e.Parent != root {
			out = append(out, Edge{Label: ChildOf, Source: id, Target: e.Parent})
		}
		if label == ChildOf {
			return out, nil
		}
	}
	more, err := g.edges(g.edgePrefix("rf", id, label))
	return append(out, more...), err
}

// In returns the edges that arrive at id, with the given label or any.
func (g *Graph) In(id, label string) ([]Edge, error) {
	var out []Edge
	if label == "" || label == ChildOf {
		kids, err := g.Children(id)
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			out = append(out, Edge{Label: ChildOf, Source: k, Target: id})
		}
		if label == ChildOf {
			return out, nil
		}
	}
	more, err := g.edges(g.edgePrefix("rr", id, label))
	return append(out, more...), err
}

// EdgesLabeled returns every edge with the label.
func (g *Graph) EdgesLabeled(label string) ([]Edge, error) {
	if label == ChildOf {
		var out []Edge
		err := g.Entities(func(id string) error {
			e, err := g.pr.entity(id)
			if err == nil && e != nil && e.Parent != root {
				out = append(out, Edge{Label: ChildOf, Source: id, Target: e.Parent})
			}
			return err
		})
		return out, err
	}
	return g.edges(append(key("lb", g.v.Index(label)), '/'))
}

func (g *Graph) edgePrefix(kind, id, label string) []byte {
	if label == "" {
		return append(key(kind, g.v.Index(id)), '/')
	}
	return append(key(kind, g.v.Index(id), g.v.Index(label)), '/')
}

func (g *Graph) edges(prefix []byte) ([]Edge, error) {
	if g.memo != nil {
		g.memo.mu.Lock()
		out, ok := g.memo.edges[string(prefix)]
		ok = ok && g.memo.version == g.version
		g.memo.mu.Unlock()
		if ok {
			return out, nil
		}
	}
	out, err := g.readEdges(prefix)
	if err != nil {
		return nil, err
	}
	out = slices.Clip(out)
	if g.memo != nil {
		g.memo.mu.Lock()
		if g.memo.version == g.version && len(g.memo.edges) < memoLists {
			g.memo.edges[string(prefix)] = out
		}
		g.memo.mu.Unlock()
	}
	return out, nil
}

func (g *Graph) readEdges(prefix []byte) ([]Edge, error) {
	var out []Edge
	err := g.tx.Scan(g.v, kv.Prefix(prefix), func(_, val []byte) error {
		var ed Edge
		if err := json.Unmarshal(val, &ed); err != nil {
			return fmt.Errorf("decode edge: %w", err)
		}
		out = append(out, ed)
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		if a.Label != b.Label {
			return a.Label < b.Label
		}
		return a.Component < b.Component
	})
	return out, err
}
