package e2e

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"

	"github.com/twinvault/twinvault/twinvaulttest"
)

func strProp(v string) types.PropertyRequest {
	return types.PropertyRequest{Value: &types.DataValue{StringValue: aws.String(v)}}
}

func TestWorkspaceLifecycle(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()

	created, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{
		WorkspaceId: aws.String("plant"), Description: aws.String("first"),
		Tags: map[string]string{"env": "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantARN := "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/plant"
	if *created.Arn != wantARN || created.CreationDateTime == nil {
		t.Errorf("CreateWorkspace = %v %v", *created.Arn, created.CreationDateTime)
	}
	_, err = tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("plant")})
	var ce *types.ConflictException
	if !errors.As(err, &ce) {
		t.Errorf("second CreateWorkspace: %v, want ConflictException", err)
	}
	for _, id := range []string{"plant", wantARN} {
		got, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetWorkspace(%s): %v", id, err)
		}
		if *got.WorkspaceId != "plant" || aws.ToString(got.Description) != "first" || !got.CreationDateTime.Equal(*created.CreationDateTime) {
			t.Errorf("GetWorkspace(%s) = %+v", id, got)
		}
	}
	if _, err := tm.UpdateWorkspace(ctx, &iottwinmaker.UpdateWorkspaceInput{WorkspaceId: aws.String("plant"), Description: aws.String("second")}); err != nil {
		t.Fatal(err)
	}
	got, _ := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")})
	if aws.ToString(got.Description) != "second" || !got.UpdateDateTime.After(*got.CreationDateTime) && !got.UpdateDateTime.Equal(*got.CreationDateTime) {
		t.Errorf("after update: %+v", got)
	}
	tags, err := tm.ListTagsForResource(ctx, &iottwinmaker.ListTagsForResourceInput{ResourceARN: aws.String(wantARN)})
	if err != nil || tags.Tags["env"] != "test" {
		t.Errorf("ListTagsForResource: %v %v", tags, err)
	}

	// A workspace with contents is not deleted; an empty one is.
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("e1"), EntityName: aws.String("E1")}); err != nil {
		t.Fatal(err)
	}
	_, err = tm.DeleteWorkspace(ctx, &iottwinmaker.DeleteWorkspaceInput{WorkspaceId: aws.String("plant")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("DeleteWorkspace of a non-empty workspace: %v", err)
	}
	if _, err := tm.DeleteEntity(ctx, &iottwinmaker.DeleteEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("e1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.DeleteWorkspace(ctx, &iottwinmaker.DeleteWorkspaceInput{WorkspaceId: aws.String("plant")}); err != nil {
		t.Fatal(err)
	}
	_, err = tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("GetWorkspace after delete: %v", err)
	}
	// The same name again starts empty.
	mustWorkspace(t, tm, "plant")
	ents, err := tm.ListEntities(ctx, &iottwinmaker.ListEntitiesInput{WorkspaceId: aws.String("plant")})
	if err != nil || len(ents.EntitySummaries) != 0 {
		t.Errorf("re-created workspace lists %v %v", ents, err)
	}
}

func TestWorkspacePagination(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	var want []string
	for i := range 30 {
		id := "ws" + string(rune('a'+i%26)) + strings.Repeat("z", i/26)
		mustWorkspace(t, tm, id)
		want = append(want, id)
	}
	var got []string
	var pages int
	p := iottwinmaker.NewListWorkspacesPaginator(tm, &iottwinmaker.ListWorkspacesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, w := range page.WorkspaceSummaries {
			got = append(got, *w.WorkspaceId)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 2 {
		t.Errorf("%d pages of default size 25 gave %v", pages, got)
	}

	// A token is bound to its operation and cannot be forged.
	first, err := tm.ListWorkspaces(ctx, &iottwinmaker.ListWorkspacesInput{MaxResults: aws.Int32(5)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	tok := *first.NextToken
	b := []byte(tok)
	if b[len(b)/2] == 'A' {
		b[len(b)/2] = 'B'
	} else {
		b[len(b)/2] = 'A'
	}
	forged := string(b)
	for _, bad := range []string{forged, "garbage", tok + "x"} {
		_, err = tm.ListWorkspaces(ctx, &iottwinmaker.ListWorkspacesInput{NextToken: aws.String(bad)})
		var ve *types.ValidationException
		if !errors.As(err, &ve) {
			t.Errorf("token %q: %v, want ValidationException", bad, err)
		}
	}
	_, err = tm.ListScenes(ctx, &iottwinmaker.ListScenesInput{WorkspaceId: aws.String(want[0]), NextToken: first.NextToken})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("token replayed on another operation: %v", err)
	}
}

func TestHierarchy(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	ws := aws.String("hier")
	mustWorkspace(t, tm, "hier")
	create := func(id, parent string) {
		t.Helper()
		in := &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String(id), EntityName: aws.String(strings.ToUpper(id))}
		if parent != "" {
			in.ParentEntityId = aws.String(parent)
		}
		if _, err := tm.CreateEntity(ctx, in); err != nil {
			t.Fatalf("CreateEntity %s: %v", id, err)
		}
	}
	create("site", "")
	create("line", "site")
	create("cell", "line")
	create("robot", "cell")

	get := func(id string) *iottwinmaker.GetEntityOutput {
		t.Helper()
		e, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetEntity %s: %v", id, err)
		}
		return e
	}
	if e := get("site"); *e.ParentEntityId != "$ROOT" || !*e.HasChildEntities {
		t.Errorf("site: parent %s children %v", *e.ParentEntityId, *e.HasChildEntities)
	}
	if e := get("robot"); *e.ParentEntityId != "cell" || *e.HasChildEntities {
		t.Errorf("robot: parent %s children %v", *e.ParentEntityId, *e.HasChildEntities)
	}

	// A generated ID when none is given.
	out, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityName: aws.String("anon")})
	if err != nil || len(aws.ToString(out.EntityId)) != 36 {
		t.Fatalf("CreateEntity without ID: %v %v", out, err)
	}
	// Duplicate IDs conflict.
	_, err = tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String("site"), EntityName: aws.String("again")})
	var ce *types.ConflictException
	if !errors.As(err, &ce) {
		t.Errorf("duplicate entity: %v", err)
	}
	// A parent that does not exist.
	_, err = tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String("orphan"), EntityName: aws.String("o"), ParentEntityId: aws.String("nowhere")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("missing parent: %v", err)
	}

	// Moving under a descendant would cut the tree loose.
	_, err = tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: ws, EntityId: aws.String("line"),
		ParentEntityUpdate: &types.ParentEntityUpdateRequest{UpdateType: types.ParentEntityUpdateTypeUpdate, ParentEntityId: aws.String("robot")}})
	if !errors.As(err, &ve) {
		t.Errorf("move under a descendant: %v", err)
	}
	// A real move.
	if _, err := tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: ws, EntityId: aws.String("robot"),
		ParentEntityUpdate: &types.ParentEntityUpdateRequest{UpdateType: types.ParentEntityUpdateTypeUpdate, ParentEntityId: aws.String("line")}}); err != nil {
		t.Fatal(err)
	}
	if e := get("cell"); *e.HasChildEntities {
		t.Error("cell still has children after the move")
	}
	kids := listAll(t, tm, "hier", &types.ListEntitiesFilterMemberParentEntityId{Value: "line"})
	sort.Strings(kids)
	if strings.Join(kids, ",") != "cell,robot" {
		t.Errorf("children of line: %v", kids)
	}
	// Back to the root.
	if _, err := tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: ws, EntityId: aws.String("robot"),
		ParentEntityUpdate: &types.ParentEntityUpdateRequest{UpdateType: types.ParentEntityUpdateTypeDelete}}); err != nil {
		t.Fatal(err)
	}
	if e := get("robot"); *e.ParentEntityId != "$ROOT" {
		t.Errorf("robot parent %s after moving to the root", *e.ParentEntityId)
	}

	// Deleting a parent needs isRecursive, then takes the subtree.
	_, err = tm.DeleteEntity(ctx, &iottwinmaker.DeleteEntityInput{WorkspaceId: ws, EntityId: aws.String("site")})
	if !errors.As(err, &ve) {
		t.Errorf("non-recursive delete of a parent: %v", err)
	}
	del, err := tm.DeleteEntity(ctx, &iottwinmaker.DeleteEntityInput{WorkspaceId: ws, EntityId: aws.String("site"), IsRecursive: aws.Bool(true)})
	if err != nil || del.State != types.StateDeleting {
		t.Fatalf("recursive delete: %v %v", del, err)
	}
	for _, id := range []string{"site", "line", "cell"} {
		_, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String(id)})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("%s after recursive delete: %v", id, err)
		}
	}
	get("robot")
}

func TestComponentsAndProperties(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	ws := aws.String("comps")
	mustWorkspace(t, tm, "comps")
	dt := func(t types.Type) *types.DataType { return &types.DataType{Type: t} }
	_, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{
		WorkspaceId: ws, ComponentTypeId: aws.String("com.example.base"),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{
			"serial":  {DataType: dt(types.TypeString), IsRequiredInEntity: aws.Bool(true), IsExternalId: aws.Bool(true)},
			"ratedKw": {DataType: dt(types.TypeDouble), DefaultValue: &types.DataValue{DoubleValue: aws.Float64(7.5)}},
		},
		PropertyGroups: map[string]types.PropertyGroupRequest{"nameplate": {GroupType: types.GroupTypeTabular, PropertyNames: []string{"serial", "ratedKw"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{
		WorkspaceId: ws, ComponentTypeId: aws.String("com.example.pump"), ExtendsFrom: []string{"com.example.base"},
		IsSingleton: aws.Bool(true),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{
			"count":  {DataType: dt(types.TypeInteger)},
			"big":    {DataType: dt(types.TypeLong)},
			"on":     {DataType: dt(types.TypeBoolean)},
			"tags":   {DataType: &types.DataType{Type: types.TypeList, NestedType: dt(types.TypeString)}},
			"limits": {DataType: &types.DataType{Type: types.TypeMap, NestedType: dt(types.TypeDouble)}},
			"nested": {DataType: &types.DataType{Type: types.TypeList, NestedType: &types.DataType{Type: types.TypeMap, NestedType: dt(types.TypeLong)}}},
			"feeds":  {DataType: &types.DataType{Type: types.TypeList, NestedType: dt(types.TypeRelationship)}},
			"mode":   {DataType: &types.DataType{Type: types.TypeString, AllowedValues: []types.DataValue{{StringValue: aws.String("AUTO")}, {StringValue: aws.String("MANUAL")}}}},
			"temp":   {DataType: dt(types.TypeDouble), IsTimeSeries: aws.Bool(true)},
		},
		CompositeComponentTypes: map[string]types.CompositeComponentTypeRequest{"motor": {ComponentTypeId: aws.String("com.example.base")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := tm.GetComponentType(ctx, &iottwinmaker.GetComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.pump")})
	if err != nil {
		t.Fatal(err)
	}
	if !*ct.PropertyDefinitions["serial"].IsInherited || *ct.PropertyDefinitions["count"].IsInherited || !*ct.IsSingleton || *ct.IsAbstract {
		t.Errorf("inheritance: %+v", ct.PropertyDefinitions)
	}
	if g := ct.PropertyGroups["nameplate"]; !*g.IsInherited || len(g.PropertyNames) != 2 {
		t.Errorf("inherited group: %+v", ct.PropertyGroups)
	}
	if c := ct.CompositeComponentTypes["motor"]; aws.ToString(c.ComponentTypeId) != "com.example.base" {
		t.Errorf("composite types: %+v", ct.CompositeComponentTypes)
	}

	nested := &types.DataValue{ListValue: []types.DataValue{{MapValue: map[string]types.DataValue{"a": {LongValue: aws.Int64(1 << 60)}}}}}
	_, err = tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{
		WorkspaceId: ws, EntityId: aws.String("p1"), EntityName: aws.String("Pump 1"),
		Components: map[string]types.ComponentRequest{"pump": {
			ComponentTypeId: aws.String("com.example.pump"),
			Properties: map[string]types.PropertyRequest{
				"serial": strProp("SN-1"),
				"count":  {Value: &types.DataValue{IntegerValue: aws.Int32(3)}},
				"big":    {Value: &types.DataValue{LongValue: aws.Int64(9007199254740993)}},
				"on":     {Value: &types.DataValue{BooleanValue: aws.Bool(true)}},
				"tags":   {Value: &types.DataValue{ListValue: []types.DataValue{{StringValue: aws.String("a")}, {StringValue: aws.String("b")}}}},
				"limits": {Value: &types.DataValue{MapValue: map[string]types.DataValue{"max": {DoubleValue: aws.Float64(9.5)}}}},
				"nested": {Value: nested},
				"feeds":  {Value: &types.DataValue{ListValue: []types.DataValue{{RelationshipValue: &types.RelationshipValue{TargetEntityId: aws.String("p2"), TargetComponentName: aws.String("pump")}}}}},
				"mode":   strProp("AUTO"),
				"note":   {Definition: &types.PropertyDefinitionRequest{DataType: dt(types.TypeString)}, Value: &types.DataValue{StringValue: aws.String("entity-level")}},
				// Empty values stay a list and a map, not a value of no kind.
				"noAlarms": {Definition: &types.PropertyDefinitionRequest{DataType: &types.DataType{Type: types.TypeList, NestedType: dt(types.TypeString)}},
					Value: &types.DataValue{ListValue: []types.DataValue{}}},
				"noLimits": {Definition: &types.PropertyDefinitionRequest{DataType: &types.DataType{Type: types.TypeMap, NestedType: dt(types.TypeDouble)}},
					Value: &types.DataValue{MapValue: map[string]types.DataValue{}}},
			},
		}},
		CompositeComponents: map[string]types.CompositeComponentRequest{"pump/motor": {Properties: map[string]types.PropertyRequest{"serial": strProp("M-1")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String("p1")})
	if err != nil {
		t.Fatal(err)
	}
	props := e.Components["pump"].Properties
	if *props["big"].Value.LongValue != 9007199254740993 || *props["count"].Value.IntegerValue != 3 || !*props["on"].Value.BooleanValue {
		t.Errorf("scalars: %+v", props)
	}
	if *props["ratedKw"].Value.DoubleValue != 7.5 || !*props["ratedKw"].Definition.IsInherited {
		t.Errorf("default value: %+v", props["ratedKw"])
	}
	if *props["nested"].Value.ListValue[0].MapValue["a"].LongValue != 1<<60 {
		t.Errorf("nested: %+v", props["nested"].Value)
	}
	if r := props["feeds"].Value.ListValue[0].RelationshipValue; *r.TargetEntityId != "p2" || *r.TargetComponentName != "pump" {
		t.Errorf("relationship: %+v", r)
	}
	if *props["note"].Value.StringValue != "entity-level" || *props["note"].Definition.IsInherited {
		t.Errorf("entity-level property: %+v", props["note"])
	}
	if v := props["noAlarms"].Value; v == nil || v.ListValue == nil || len(v.ListValue) != 0 {
		t.Errorf("empty list: %+v", v)
	}
	if v := props["noLimits"].Value; v == nil || v.MapValue == nil || len(v.MapValue) != 0 {
		t.Errorf("empty map: %+v", v)
	}
	if props["temp"].Value != nil || !*props["temp"].Definition.IsTimeSeries {
		t.Errorf("time series: %+v", props["temp"])
	}
	if sub := e.Components["pump"].CompositeComponents["pump/motor"]; aws.ToString(sub.ComponentTypeId) != "com.example.base" {
		t.Errorf("composite: %+v", e.Components["pump"].CompositeComponents)
	}

	// ListProperties pages through every property.
	var names []string
	var token *string
	for {
		out, err := tm.ListProperties(ctx, &iottwinmaker.ListPropertiesInput{WorkspaceId: ws, EntityId: aws.String("p1"), ComponentName: aws.String("pump"), MaxResults: aws.Int32(4), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.PropertySummaries {
			names = append(names, *p.PropertyName)
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(names) != 14 {
		t.Errorf("ListProperties: %v", names)
	}
	comps, err := tm.ListComponents(ctx, &iottwinmaker.ListComponentsInput{WorkspaceId: ws, EntityId: aws.String("p1")})
	if err != nil || len(comps.ComponentSummaries) != 1 {
		t.Errorf("ListComponents: %v %v", comps, err)
	}
	subs, err := tm.ListComponents(ctx, &iottwinmaker.ListComponentsInput{WorkspaceId: ws, EntityId: aws.String("p1"), ComponentPath: aws.String("pump")})
	if err != nil || len(subs.ComponentSummaries) != 1 || aws.ToString(subs.ComponentSummaries[0].ComponentPath) != "pump/motor" {
		t.Errorf("ListComponents under pump: %+v %v", subs, err)
	}
	byExt := listAll(t, tm, "comps", &types.ListEntitiesFilterMemberExternalId{Value: "SN-1"})
	if len(byExt) != 1 || byExt[0] != "p1" {
		t.Errorf("by external ID: %v", byExt)
	}

	var ve *types.ValidationException
	bad := []struct {
		name string
		comp types.ComponentRequest
	}{
		{"value not allowed", types.ComponentRequest{ComponentTypeId: aws.String("com.example.pump"), Properties: map[string]types.PropertyRequest{"serial": strProp("x"), "mode": strProp("TURBO")}}},
		{"missing required", types.ComponentRequest{ComponentTypeId: aws.String("com.example.pump")}},
		{"unknown type", types.ComponentRequest{ComponentTypeId: aws.String("com.example.nope")}},
		{"abstract type", types.ComponentRequest{ComponentTypeId: aws.String("com.amazon.iottwinmaker.alarm.basic"), Properties: map[string]types.PropertyRequest{"alarm_key": strProp("k")}}},
		{"time series value", types.ComponentRequest{ComponentTypeId: aws.String("com.example.pump"), Properties: map[string]types.PropertyRequest{"serial": strProp("x"), "temp": {Value: &types.DataValue{DoubleValue: aws.Float64(1)}}}}},
		{"undeclared property", types.ComponentRequest{ComponentTypeId: aws.String("com.example.pump"), Properties: map[string]types.PropertyRequest{"serial": strProp("x"), "ghost": strProp("boo")}}},
	}
	for _, b := range bad {
		_, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String("bad"), EntityName: aws.String("bad"),
			Components: map[string]types.ComponentRequest{"c": b.comp}})
		if !errors.As(err, &ve) {
			t.Errorf("%s: %v, want ValidationException", b.name, err)
		}
	}
	// A singleton type once per entity.
	_, err = tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: ws, EntityId: aws.String("p1"), ComponentUpdates: map[string]types.ComponentUpdateRequest{
		"pump2": {UpdateType: types.ComponentUpdateTypeCreate, ComponentTypeId: aws.String("com.example.pump"), PropertyUpdates: map[string]types.PropertyRequest{"serial": strProp("y")}}}})
	if !errors.As(err, &ve) {
		t.Errorf("second singleton component: %v", err)
	}

	// Updates: all or nothing.
	_, err = tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: ws, EntityId: aws.String("p1"), EntityName: aws.String("renamed"),
		ComponentUpdates: map[string]types.ComponentUpdateRequest{"pump": {UpdateType: types.ComponentUpdateTypeUpdate, PropertyUpdates: map[string]types.PropertyRequest{
			"count": {Value: &types.DataValue{IntegerValue: aws.Int32(4)}},
			"mode":  strProp("TURBO"),
		}}}})
	if !errors.As(err, &ve) {
		t.Fatalf("update with a bad value: %v", err)
	}
	e, _ = tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String("p1")})
	if *e.EntityName != "Pump 1" || *e.Components["pump"].Properties["count"].Value.IntegerValue != 3 {
		t.Errorf("a refused update was half applied: name %s count %d", *e.EntityName, *e.Components["pump"].Properties["count"].Value.IntegerValue)
	}
	_, err = tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: ws, EntityId: aws.String("p1"), EntityName: aws.String("renamed"),
		ComponentUpdates: map[string]types.ComponentUpdateRequest{"pump": {UpdateType: types.ComponentUpdateTypeUpdate, PropertyUpdates: map[string]types.PropertyRequest{
			"count":   {Value: &types.DataValue{IntegerValue: aws.Int32(4)}},
			"ratedKw": {UpdateType: types.PropertyUpdateTypeResetValue},
			"note":    {UpdateType: types.PropertyUpdateTypeDelete},
			"extra":   {UpdateType: types.PropertyUpdateTypeCreate, Definition: &types.PropertyDefinitionRequest{DataType: dt(types.TypeLong)}, Value: &types.DataValue{LongValue: aws.Int64(5)}},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	e, _ = tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String("p1")})
	props = e.Components["pump"].Properties
	if *e.EntityName != "renamed" || *props["count"].Value.IntegerValue != 4 || *props["extra"].Value.LongValue != 5 {
		t.Errorf("after update: %+v", props)
	}
	if _, ok := props["note"]; ok {
		t.Error("deleted property still present")
	}

	// A type in use cannot be deleted; once unused it can.
	_, err = tm.DeleteComponentType(ctx, &iottwinmaker.DeleteComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.pump")})
	if !errors.As(err, &ve) {
		t.Errorf("deleting a type in use: %v", err)
	}
	_, err = tm.DeleteComponentType(ctx, &iottwinmaker.DeleteComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.base")})
	if !errors.As(err, &ve) {
		t.Errorf("deleting an extended type: %v", err)
	}
	if _, err := tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: ws, EntityId: aws.String("p1"),
		ComponentUpdates: map[string]types.ComponentUpdateRequest{"pump": {UpdateType: types.ComponentUpdateTypeDelete}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.DeleteComponentType(ctx, &iottwinmaker.DeleteComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.pump")}); err != nil {
		t.Errorf("deleting an unused type: %v", err)
	}
}

func TestConcurrentCreatesConflict(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	mustWorkspace(t, tm, "race")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = tm.CreateEntity(context.Background(), &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("race"), EntityId: aws.String("same"), EntityName: aws.String("same")})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var ce *types.ConflictException
		switch {
		case err == nil:
			ok++
		case !errors.As(err, &ce):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent creates of one ID succeeded, want 1", ok)
	}
}

func TestTagsAndPricing(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	mustWorkspace(t, tm, "tags")
	ws := aws.String("tags")
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String("e1"), EntityName: aws.String("e1"), Tags: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateScene(ctx, &iottwinmaker.CreateSceneInput{WorkspaceId: ws, SceneId: aws.String("s1"), ContentLocation: aws.String(sceneDocument(t, srv, "tags", "s1.json", "{}"))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.x")}); err != nil {
		t.Fatal(err)
	}
	base := "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/tags"
	for _, arn := range []string{base, base + "/entity/e1", base + "/scene/s1", base + "/component-type/com.example.x"} {
		if _, err := tm.TagResource(ctx, &iottwinmaker.TagResourceInput{ResourceARN: aws.String(arn), Tags: map[string]string{"owner": "ops", "b": "2"}}); err != nil {
			t.Fatalf("TagResource %s: %v", arn, err)
		}
		if _, err := tm.UntagResource(ctx, &iottwinmaker.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"b", "absent"}}); err != nil {
			t.Fatalf("UntagResource %s: %v", arn, err)
		}
		out, err := tm.ListTagsForResource(ctx, &iottwinmaker.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
		if err != nil || out.Tags["owner"] != "ops" || out.Tags["b"] != "" {
			t.Errorf("%s tags: %v %v", arn, out, err)
		}
	}
	_, err := tm.TagResource(ctx, &iottwinmaker.TagResourceInput{ResourceARN: aws.String(base + "/entity/e1"), Tags: manyTags(49)})
	var tt *types.TooManyTagsException
	if !errors.As(err, &tt) {
		t.Errorf("51 tags: %v, want TooManyTagsException", err)
	}
	_, err = tm.TagResource(ctx, &iottwinmaker.TagResourceInput{ResourceARN: aws.String(base + "/entity/nope"), Tags: map[string]string{"a": "b"}})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("tagging a missing entity: %v", err)
	}

	plan, err := tm.GetPricingPlan(ctx, &iottwinmaker.GetPricingPlanInput{})
	if err != nil || plan.CurrentPricingPlan.PricingMode != types.PricingModeBasic || *plan.CurrentPricingPlan.BillableEntityCount != 1 {
		t.Fatalf("GetPricingPlan: %+v %v", plan, err)
	}
	up, err := tm.UpdatePricingPlan(ctx, &iottwinmaker.UpdatePricingPlanInput{PricingMode: types.PricingModeTieredBundle, BundleNames: []string{"Bundle1"}})
	if err != nil || up.CurrentPricingPlan.PricingMode != types.PricingModeTieredBundle || up.CurrentPricingPlan.BundleInformation == nil {
		t.Fatalf("UpdatePricingPlan: %+v %v", up, err)
	}
	plan, _ = tm.GetPricingPlan(ctx, &iottwinmaker.GetPricingPlanInput{})
	if plan.CurrentPricingPlan.PricingMode != types.PricingModeTieredBundle || plan.CurrentPricingPlan.UpdateReason != types.UpdateReasonPricingModeUpdate {
		t.Errorf("plan after update: %+v", plan.CurrentPricingPlan)
	}
}

// GetEntity returns at most 30 components and says so; ListComponents
// pages through all of them.
func TestGetEntityTruncation(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	mustWorkspace(t, tm, "big")
	comps := map[string]types.ComponentRequest{}
	for i := range 31 {
		comps["doc"+string(rune('A'+i%26))+strings.Repeat("z", i/26)] = types.ComponentRequest{
			ComponentTypeId: aws.String("com.amazon.iottwinmaker.documents"),
			Properties:      map[string]types.PropertyRequest{"documents": {Value: &types.DataValue{MapValue: map[string]types.DataValue{"manual": {StringValue: aws.String("https://example.com")}}}}},
		}
	}
	long := make([]types.DataValue, 50)
	for i := range long {
		long[i] = types.DataValue{LongValue: aws.Int64(int64(i))}
	}
	comps["params"] = types.ComponentRequest{ComponentTypeId: aws.String("com.amazon.iottwinmaker.parameters"), Properties: map[string]types.PropertyRequest{
		"series": {Definition: &types.PropertyDefinitionRequest{DataType: &types.DataType{Type: types.TypeList, NestedType: &types.DataType{Type: types.TypeLong}}}, Value: &types.DataValue{ListValue: long}},
	}}
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("big"), EntityId: aws.String("many"), EntityName: aws.String("many"), Components: comps}); err != nil {
		t.Fatal(err)
	}
	e, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("big"), EntityId: aws.String("many")})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Components) != 30 || aws.ToBool(e.AreAllComponentsReturned) {
		t.Errorf("GetEntity: %d components, areAllComponentsReturned %v", len(e.Components), aws.ToBool(e.AreAllComponentsReturned))
	}
	seen := map[string]bool{}
	var token *string
	for {
		out, err := tm.ListComponents(ctx, &iottwinmaker.ListComponentsInput{WorkspaceId: aws.String("big"), EntityId: aws.String("many"), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ComponentSummaries) > 25 {
			t.Errorf("page of %d, default is 25", len(out.ComponentSummaries))
		}
		for _, c := range out.ComponentSummaries {
			seen[*c.ComponentName] = true
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(seen) != 32 {
		t.Errorf("ListComponents found %d components, want 32", len(seen))
	}
	props, err := tm.ListProperties(ctx, &iottwinmaker.ListPropertiesInput{WorkspaceId: aws.String("big"), EntityId: aws.String("many"), ComponentName: aws.String("params")})
	if err != nil || len(props.PropertySummaries) != 1 || len(props.PropertySummaries[0].Value.ListValue) != 50 || !aws.ToBool(props.PropertySummaries[0].AreAllPropertyValuesReturned) {
		t.Errorf("ListProperties: %+v %v", props, err)
	}
}
