package catalog

import (
	"context"
	"reflect"
	"testing"

	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/tsdb"
)

func newTestService(t testing.TB) *Service {
	t.Helper()
	store := kvtest.NewMem()
	b := barriertest.Open(t, store)
	ts := tsdb.Open(b, nil)
	t.Cleanup(ts.Close)
	return New(b, Config{TS: ts})
}

// mustOK returns a check that fails t on a call's error.
func mustOK(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func rel(id string) *model.DataValue {
	return &model.DataValue{RelationshipValue: &model.RelationshipValue{TargetEntityId: model.String(id)}}
}

func rels(ids ...string) *model.DataValue {
	v := &model.DataValue{ListValue: []model.DataValue{}}
	for _, id := range ids {
		v.ListValue = append(v.ListValue, *rel(id))
	}
	return v
}

func TestGraph(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	must := mustOK(t)
	must(s.CreateWorkspace(ctx, &model.CreateWorkspaceInput{WorkspaceId: "gw"}))
	relType := &model.DataType{Type: model.TypeRelationship}
	must(s.CreateComponentType(ctx, &model.CreateComponentTypeInput{WorkspaceId: "gw", ComponentTypeId: "com.example.room",
		PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"isLocationOf": {DataType: &model.DataType{Type: model.TypeList, NestedType: relType}},
			"feeds":        {DataType: relType},
			"area":         {DataType: &model.DataType{Type: model.TypeDouble}},
		}}))
	entity := func(id, name, parent string, props map[string]model.PropertyRequest) {
		t.Helper()
		in := &model.CreateEntityInput{WorkspaceId: "gw", EntityId: model.String(id), EntityName: model.String(name),
			Components: map[string]model.ComponentRequest{"room": {ComponentTypeId: model.String("com.example.room"), Properties: props}}}
		if parent != "" {
			in.ParentEntityId = model.String(parent)
		}
		must(s.CreateEntity(ctx, in))
	}
	entity("floor", "Floor", "", nil)
	entity("room1", "Room 1", "floor", map[string]model.PropertyRequest{
		"isLocationOf": {Value: rels("lamp1", "lamp2")},
		"area":         {Value: &model.DataValue{DoubleValue: model.NewDouble(12.5)}},
	})
	entity("room2", "Room 2", "floor", nil)
	entity("lamp1", "Lamp", "", map[string]model.PropertyRequest{"feeds": {Value: rel("lamp2")}})
	entity("lamp2", "Lamp", "", nil)

	read := func(fn func(g *Graph)) {
		t.Helper()
		if err := s.ReadGraph(ctx, "gw", func(g *Graph) error { fn(g); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	ends := func(es []Edge) [][3]string {
		var out [][3]string
		for _, e := range es {
			out = append(out, [3]string{e.Source, e.Label, e.Target})
		}
		return out
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %v\n want %v", what, got, want)
		}
	}
	read(func(g *Graph) {
		ids, _ := g.ByName("Lamp")
		check("ByName(Lamp)", ids, []string{"lamp1", "lamp2"})
		ids, _ = g.ByComponentType("com.example.room")
		check("ByComponentType", len(ids), 5)
		ids, _ = g.Children("floor")
		check("Children(floor)", ids, []string{"room1", "room2"})
		out, _ := g.Out("room1", "isLocationOf")
		check("Out(room1, isLocationOf)", ends(out), [][3]string{{"room1", "isLocationOf", "lamp1"}, {"room1", "isLocationOf", "lamp2"}})
		if e := out[0]; e.Component != "room" || e.ComponentType != "com.example.room" {
			t.Errorf("edge source component: %+v", e)
		}
		out, _ = g.Out("room1", "")
		check("Out(room1)", len(out), 3)
		in, _ := g.In("lamp2", "")
		check("In(lamp2)", ends(in), [][3]string{{"lamp1", "feeds", "lamp2"}, {"room1", "isLocationOf", "lamp2"}})
		in, _ = g.In("floor", ChildOf)
		check("In(floor, isChildOf)", ends(in), [][3]string{{"room1", ChildOf, "floor"}, {"room2", ChildOf, "floor"}})
		lb, _ := g.EdgesLabeled("feeds")
		check("EdgesLabeled(feeds)", ends(lb), [][3]string{{"lamp1", "feeds", "lamp2"}})
		lb, _ = g.EdgesLabeled(ChildOf)
		check("EdgesLabeled(isChildOf)", len(lb), 2)
		n, _ := g.Node("room1")
		if n == nil || n.Name != "Room 1" || n.Parent != "floor" || len(n.Components) != 1 || len(n.Components[0].Properties) != 3 {
			t.Fatalf("Node(room1) = %+v", n)
		}
		if a := n.Components[0].Properties[0]; a.Name != "area" || float64(*a.Value.DoubleValue) != 12.5 {
			t.Errorf("area: %+v", a)
		}
		n, _ = g.Node("nobody")
		check("Node(nobody)", n == nil, true)
	})

	// The graph follows writes: a relationship dropped, a name changed, an
	// entity deleted.
	must(s.UpdateEntity(ctx, &model.UpdateEntityInput{WorkspaceId: "gw", EntityId: "room1", EntityName: model.String("Kitchen"),
		ComponentUpdates: map[string]model.ComponentUpdateRequest{"room": {PropertyUpdates: map[string]model.PropertyRequest{
			"isLocationOf": {Value: rels("lamp1")}}}}}))
	must(s.DeleteEntity(ctx, &model.DeleteEntityInput{WorkspaceId: "gw", EntityId: "lamp1"}))
	read(func(g *Graph) {
		ids, _ := g.ByName("Room 1")
		check("ByName(Room 1) after rename", len(ids), 0)
		ids, _ = g.ByName("Kitchen")
		check("ByName(Kitchen)", ids, []string{"room1"})
		in, _ := g.In("lamp2", "")
		check("In(lamp2) after the changes", len(in), 0)
		lb, _ := g.EdgesLabeled("feeds")
		check("EdgesLabeled(feeds) after deleting lamp1", len(lb), 0)
		out, _ := g.Out("room1", "isLocationOf")
		check("Out(room1) after the update", ends(out), [][3]string{{"room1", "isLocationOf", "lamp1"}})
	})

	// Lists are remembered for as long as the graph does not change: a
	// second read of one version is served from memory, a write starts a
	// new version.
	read(func(g *Graph) {
		ids, _ := g.Children("floor")
		check("Children(floor)", ids, []string{"room1", "room2"})
		_, remembered := g.memo.ids[string(append(key("ch", g.v.Index("floor")), '/'))]
		check("Children(floor) remembered", remembered, true)
	})
	read(func(g *Graph) {
		g.ByName("Kitchen")
	})
	entity("room3", "Room 3", "floor", nil)
	read(func(g *Graph) {
		// The change forgot the lists it touched and kept the others.
		_, kept := g.memo.ids[string(append(key("nm", g.v.Index("Kitchen")), '/'))]
		check("ByName(Kitchen) kept across an unrelated change", kept, true)
		_, kept = g.memo.ids[string(append(key("ch", g.v.Index("floor")), '/'))]
		check("Children(floor) kept across a new child", kept, false)
		ids, _ := g.Children("floor")
		check("Children(floor) after a new child", ids, []string{"room1", "room2", "room3"})
		ids, _ = g.ByName("Room 3")
		check("ByName(Room 3)", ids, []string{"room3"})
	})
}
