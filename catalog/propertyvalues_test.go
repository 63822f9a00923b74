package catalog

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/model"
)

// TestPlainPoint checks the short path of BatchPut's point checks against
// the full checks: whatever it accepts, they accept with the same time, and
// it accepts the usual point of every scalar type.
func TestPlainPoint(t *testing.T) {
	types := []model.Type{model.TypeDouble, model.TypeString, model.TypeInteger, model.TypeLong, model.TypeBoolean,
		model.TypeList, model.TypeMap, model.TypeRelationship, ""}
	times := []string{"2026-11-27T10:00:00Z", "2026-11-27T10:00:00.123456789+02:00", "1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z",
		"2026-11-27 10:00:00Z", "2026-11-27T10:00:00", "", "1678-01-01T00:00:00Z"}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(p float64) bool { return r.Float64() < p }
	accepted := map[model.Type]int{}
	for range 20000 {
		dt := &model.DataType{Type: types[r.IntN(len(types))]}
		if pick(.1) {
			dt.AllowedValues = []model.DataValue{{DoubleValue: new(model.Double(1))}, {StringValue: model.String("a")}}
		}
		if pick(.03) {
			dt = nil
		}
		pv := &model.PropertyValue{}
		if pick(.9) {
			pv.Time = model.String(times[r.IntN(len(times))])
		}
		if pick(.1) {
			pv.Timestamp = model.NewTimestamp(time.Unix(r.Int64N(4e9), 0))
		}
		if pick(.95) {
			v := &model.DataValue{}
			for range 1 + r.IntN(2) {
				switch r.IntN(9) {
				case 0:
					v.DoubleValue = new(model.Double(1))
				case 1:
					v.StringValue = model.String("a")
				case 2:
					v.IntegerValue = model.Int32(1)
				case 3:
					v.LongValue = model.Int64(1)
				case 4:
					v.BooleanValue = model.Bool(true)
				case 5:
					v.ListValue = []model.DataValue{}
				case 6:
					v.MapValue = map[string]model.DataValue{}
				case 7:
					v.RelationshipValue = &model.RelationshipValue{}
				case 8:
					v.Expression = model.String("x")
				}
			}
			pv.Value = v
		}
		got, ok := plainPoint(pv, dt)
		if !ok {
			continue
		}
		accepted[dt.Type]++
		want, err := checkPoint("f", pv, dt)
		if err != nil {
			t.Fatalf("plainPoint accepted %+v (type %+v), which the full checks refuse: %v", pv, dt, err)
		}
		if got != want {
			t.Fatalf("plainPoint read %d, the full checks %d, for %+v", got, want, pv)
		}
	}
	for _, typ := range types[:5] {
		if accepted[typ] == 0 {
			t.Errorf("plainPoint accepted no %s point", typ)
		}
	}
	for _, typ := range types[5:] {
		if accepted[typ] != 0 {
			t.Errorf("plainPoint accepted %d %q points; they need the full checks", accepted[typ], typ)
		}
	}
}

// TestDataPlaneCache: the data plane serves entities, types and workspaces
// it has read without reading them again until a catalog write ends; after
// one, it reads what the store holds.
func TestDataPlaneCache(t *testing.T) {
	s, must := typedWorkspace(t, map[string]model.PropertyDefinitionRequest{
		"p": {DataType: &model.DataType{Type: model.TypeDouble}, IsTimeSeries: model.Bool(true)}})
	ctx := context.Background()
	for _, id := range []string{"e", "f"} {
		must(s.CreateEntity(ctx, &model.CreateEntityInput{WorkspaceId: "w", EntityId: model.String(id), EntityName: model.String(id),
			Components: map[string]model.ComponentRequest{"c": {ComponentTypeId: model.String("com.example.t")}}}))
	}
	put := func(id string) string {
		t.Helper()
		out, err := s.BatchPutPropertyValues(ctx, &model.BatchPutPropertyValuesInput{WorkspaceId: "w", Entries: []model.PropertyValueEntry{{
			EntityPropertyReference: &model.EntityPropertyReference{EntityId: model.String(id), ComponentName: model.String("c"), PropertyName: model.String("p")},
			PropertyValues:          []model.PropertyValue{{Time: model.String("2026-11-27T10:00:00Z"), Value: &model.DataValue{DoubleValue: model.NewDouble(1)}}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ErrorEntries) > 0 {
			return *out.ErrorEntries[0].Errors[0].ErrorCode
		}
		return ""
	}
	if code := put("e"); code != "" {
		t.Fatalf("first write: %s", code)
	}
	// Behind the catalog's back (no catalog write ends), the record goes:
	// the cached one still serves.
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		v, err := s.workspaceView(tx, "w", 0)
		if err != nil {
			return err
		}
		return tx.Delete(v, entityKey(v, "e"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if code := put("e"); code != "" {
		t.Fatalf("with the entity cached: %s", code)
	}
	// Any catalog write ends the cache's generation.
	if _, err := s.DeleteEntity(ctx, &model.DeleteEntityInput{WorkspaceId: "w", EntityId: "f"}); err != nil {
		t.Fatal(err)
	}
	if code := put("e"); code != "ResourceNotFoundException" {
		t.Fatalf("after a catalog write, the write to the removed entity got %q", code)
	}
	// The same for a component type changed by a write the catalog made.
	must(s.CreateEntity(ctx, &model.CreateEntityInput{WorkspaceId: "w", EntityId: model.String("g"), EntityName: model.String("g"),
		Components: map[string]model.ComponentRequest{"c": {ComponentTypeId: model.String("com.example.t")}}}))
	if code := put("g"); code != "" {
		t.Fatalf("write to g: %s", code)
	}
	must(s.UpdateComponentType(ctx, &model.UpdateComponentTypeInput{WorkspaceId: "w", ComponentTypeId: "com.example.t",
		PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"p": {DataType: &model.DataType{Type: model.TypeDouble}, IsTimeSeries: model.Bool(false)}}}))
	if code := put("g"); code != "ValidationException" {
		t.Fatalf("after p stopped being a time series, the write got %q", code)
	}
}

// TestHistoryScope: the usual request's scope covers every member but
// nextToken and maxResults, tells an absent member from an empty one, and
// a member the short form does not write sends the request the long way.
func TestHistoryScope(t *testing.T) {
	scope := func(in *model.GetPropertyValueHistoryInput, from, to int64) string {
		s, _ := historyScope(in, from, to)
		return s
	}
	written := map[string]bool{"WorkspaceId": true, "EntityId": true, "ComponentName": true, "ComponentPath": true, "ComponentTypeId": true,
		"SelectedProperties": true, "OrderByTime": true, "StartTime": true, "EndTime": true}
	longWay := map[string]bool{"PropertyFilters": true, "StartDateTime": true, "EndDateTime": true, "Interpolation": true}
	unscoped := map[string]bool{"NextToken": true, "MaxResults": true}
	for f := range reflect.TypeFor[model.GetPropertyValueHistoryInput]().Fields() {
		if !written[f.Name] && !longWay[f.Name] && !unscoped[f.Name] {
			t.Errorf("GetPropertyValueHistoryInput.%s is new: usualScope must write it, or historyScope take the long way when it is set", f.Name)
		}
	}
	base := func() *model.GetPropertyValueHistoryInput {
		return &model.GetPropertyValueHistoryInput{WorkspaceId: "w", EntityId: model.String("e"), ComponentName: model.String("c"),
			SelectedProperties: []string{"p", "q"}, StartTime: model.String("2026-01-01T00:00:00Z"), EndTime: model.String("2026-01-02T00:00:00Z")}
	}
	seen := map[string]string{scope(base(), 1, 2): "base"}
	for name, change := range map[string]func(*model.GetPropertyValueHistoryInput){
		"workspace":        func(in *model.GetPropertyValueHistoryInput) { in.WorkspaceId = "w2" },
		"entity":           func(in *model.GetPropertyValueHistoryInput) { in.EntityId = model.String("e2") },
		"no entity":        func(in *model.GetPropertyValueHistoryInput) { in.EntityId = nil },
		"empty entity":     func(in *model.GetPropertyValueHistoryInput) { in.EntityId = model.String("") },
		"component":        func(in *model.GetPropertyValueHistoryInput) { in.ComponentName = model.String("c2") },
		"path":             func(in *model.GetPropertyValueHistoryInput) { in.ComponentPath = model.String("c") },
		"type":             func(in *model.GetPropertyValueHistoryInput) { in.ComponentTypeId = model.String("t") },
		"properties":       func(in *model.GetPropertyValueHistoryInput) { in.SelectedProperties = []string{"pq"} },
		"no properties":    func(in *model.GetPropertyValueHistoryInput) { in.SelectedProperties = nil },
		"empty properties": func(in *model.GetPropertyValueHistoryInput) { in.SelectedProperties = []string{} },
		"order":            func(in *model.GetPropertyValueHistoryInput) { in.OrderByTime = model.OrderByTimeDescending },
		"start":            func(in *model.GetPropertyValueHistoryInput) { in.StartTime = model.String("2026-01-01T00:00:00+00:00") },
		"end":              func(in *model.GetPropertyValueHistoryInput) { in.EndTime = nil },
		"filters":          func(in *model.GetPropertyValueHistoryInput) { in.PropertyFilters = []model.PropertyFilter{} },
		"interpolation":    func(in *model.GetPropertyValueHistoryInput) { in.Interpolation = &model.InterpolationParameters{} },
	} {
		in := base()
		change(in)
		s := scope(in, 1, 2)
		if other, ok := seen[s]; ok {
			t.Errorf("%s has the scope of %s", name, other)
		}
		seen[s] = name
	}
	in := base()
	in.NextToken, in.MaxResults = model.String("t"), new(int32(5))
	if scope(in, 1, 2) != scope(base(), 1, 2) {
		t.Error("nextToken or maxResults changed the scope")
	}
	if scope(base(), 1, 3) == scope(base(), 1, 2) {
		t.Error("the time range is not in the scope")
	}
	// Earlier releases bound every request through encoding/json.
	if _, legacy := historyScope(base(), 1, 2); legacy == nil || legacy() != hashScope(jsonScope(base(), 1, 2)) {
		t.Error("the usual request does not offer the scope earlier releases gave it")
	}
	if _, legacy := historyScope(&model.GetPropertyValueHistoryInput{Interpolation: &model.InterpolationParameters{}}, 1, 2); legacy != nil {
		t.Error("a request the long way offers a second scope")
	}
}

// TestOnlyMember holds onlyMember to valueMembers for every set of members.
func TestOnlyMember(t *testing.T) {
	full := model.DataValue{BooleanValue: new(true), DoubleValue: new(model.Double(1)), IntegerValue: new(int32(1)), LongValue: new(int64(1)),
		StringValue: model.String("s"), ListValue: []model.DataValue{}, MapValue: map[string]model.DataValue{},
		RelationshipValue: &model.RelationshipValue{}, Expression: model.String("x")}
	for bits := range 1 << len(valueMembers) {
		// Clear the members whose bit is 0, one field at a time.
		v := full
		fields := reflect.ValueOf(&v).Elem()
		if fields.NumField() != len(valueMembers) {
			t.Fatalf("DataValue has %d members, valueMembers %d", fields.NumField(), len(valueMembers))
		}
		for i := range fields.NumField() {
			if bits&(1<<i) == 0 {
				fields.Field(i).SetZero()
			}
		}
		n, want := 0, model.Type("")
		for _, m := range valueMembers {
			if m.set(&v) {
				n, want = n+1, m.typ
			}
		}
		wantOK := n == 1 && want != ""
		if got, ok := onlyMember(&v); ok != wantOK || ok && got != want {
			t.Errorf("members %09b: onlyMember = %q, %v; valueMembers give %q, %v", bits, got, ok, want, wantOK)
		}
	}
}

// TestHistoryTokenAcrossUpgrade: a page token an earlier release issued,
// bound through encoding/json, resumes the same request; it resumes no
// other.
func TestHistoryTokenAcrossUpgrade(t *testing.T) {
	s := newTestService(t)
	in := &model.GetPropertyValueHistoryInput{WorkspaceId: "w", EntityId: model.String("e"), ComponentName: model.String("c"),
		SelectedProperties: []string{"p"}, StartTime: model.String("2026-01-01T00:00:00Z"), EndTime: model.String("2026-01-02T00:00:00Z")}
	old := pager{sys: s.b.System(), scope: hashScope(jsonScope(in, 1, 2))}
	tok := old.encode([]byte("after"))
	scope, legacy := historyScope(in, 1, 2)
	if got, err := (pager{sys: s.b.System(), scope: scope, legacy: legacy}).decode(&tok); err != nil || string(got) != "after" {
		t.Errorf("an earlier release's token: %q, %v", got, err)
	}
	other := *in
	other.EntityId = model.String("f")
	scope, legacy = historyScope(&other, 1, 2)
	if _, err := (pager{sys: s.b.System(), scope: scope, legacy: legacy}).decode(&tok); err == nil {
		t.Error("an earlier release's token resumed another request")
	}
}

// TestRefCache: a reference resolved once serves the calls that follow
// until a catalog write ends; after one, by entity ID or by external ID,
// it resolves to what the catalog holds.
func TestRefCache(t *testing.T) {
	s, must := typedWorkspace(t, map[string]model.PropertyDefinitionRequest{
		"id": {DataType: &model.DataType{Type: model.TypeString}, IsExternalId: model.Bool(true), IsStoredExternally: model.Bool(false)},
		"p":  {DataType: &model.DataType{Type: model.TypeDouble}, IsTimeSeries: model.Bool(true)}})
	ctx := context.Background()
	create := func(id, ext string) {
		t.Helper()
		must(s.CreateEntity(ctx, &model.CreateEntityInput{WorkspaceId: "w", EntityId: model.String(id), EntityName: model.String(id),
			Components: map[string]model.ComponentRequest{"c": {ComponentTypeId: model.String("com.example.t"),
				Properties: map[string]model.PropertyRequest{"id": {Value: &model.DataValue{StringValue: model.String(ext)}}}}}}))
	}
	create("e", "A")
	put := func(ref model.EntityPropertyReference, sec int, v float64) string {
		t.Helper()
		ref.PropertyName = model.String("p")
		out, err := s.BatchPutPropertyValues(ctx, &model.BatchPutPropertyValuesInput{WorkspaceId: "w", Entries: []model.PropertyValueEntry{{
			EntityPropertyReference: &ref,
			PropertyValues: []model.PropertyValue{{Time: model.String(time.Unix(int64(1_800_000_000+sec), 0).UTC().Format(time.RFC3339)),
				Value: &model.DataValue{DoubleValue: model.NewDouble(v)}}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ErrorEntries) > 0 {
			return *out.ErrorEntries[0].Errors[0].ErrorCode
		}
		return ""
	}
	byID := model.EntityPropertyReference{EntityId: model.String("e"), ComponentName: model.String("c")}
	byExt := func(v string) model.EntityPropertyReference {
		return model.EntityPropertyReference{ExternalIdProperty: map[string]string{"id": v}}
	}
	for i := range 3 { // the second and third calls find the references cached
		if code := put(byID, i, 1); code != "" {
			t.Fatalf("by ID: %s", code)
		}
		if code := put(byExt("A"), 10+i, 1); code != "" {
			t.Fatalf("by external ID: %s", code)
		}
	}
	if n := s.refs.Len(); n != 2 {
		t.Fatalf("the reference cache holds %d references; want the 2 written to", n)
	}
	// Its names are its own: a request's strings share the request's body.
	s.refs.Each(func(k refKey, r *seriesRef) {
		if !k.byExternal && (unsafe.StringData(k.entity) == unsafe.StringData(*byID.EntityId) ||
			unsafe.StringData(r.path) == unsafe.StringData(*byID.ComponentName)) {
			t.Error("the reference cache keeps a request's strings")
		}
	})
	// The external ID changes: A names no entity, B names e.
	must(s.UpdateEntity(ctx, &model.UpdateEntityInput{WorkspaceId: "w", EntityId: "e", ComponentUpdates: map[string]model.ComponentUpdateRequest{
		"c": {UpdateType: model.ComponentUpdateTypeUpdate, PropertyUpdates: map[string]model.PropertyRequest{"id": {Value: &model.DataValue{StringValue: model.String("B")}}}}}}))
	if code := put(byExt("A"), 20, 1); code != "ResourceNotFoundException" {
		t.Fatalf("by the old external ID: got %q", code)
	}
	if code := put(byExt("B"), 21, 1); code != "" {
		t.Fatalf("by the new external ID: %s", code)
	}
	// The entity is made again under its ID: the reference names the new
	// one's series, which holds only what was written after.
	must(s.DeleteEntity(ctx, &model.DeleteEntityInput{WorkspaceId: "w", EntityId: "e"}))
	create("e", "C")
	if code := put(byID, 30, 2); code != "" {
		t.Fatalf("by ID after the entity was made again: %s", code)
	}
	out, err := s.GetPropertyValueHistory(ctx, &model.GetPropertyValueHistoryInput{WorkspaceId: "w", EntityId: model.String("e"), ComponentName: model.String("c"),
		SelectedProperties: []string{"p"}, StartTime: model.String("2000-01-01T00:00:00Z"), EndTime: model.String("2100-01-01T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.PropertyValues) != 1 || len(out.PropertyValues[0].Values) != 1 || float64(*out.PropertyValues[0].Values[0].Value.DoubleValue) != 2 {
		t.Fatalf("history of the entity made again: %+v", out.PropertyValues)
	}
}

// typedWorkspace returns a service holding workspace w and, in it,
// component type com.example.t with the given properties, and a check
// that fails t on a call's error.
func typedWorkspace(t *testing.T, props map[string]model.PropertyDefinitionRequest) (*Service, func(any, error)) {
	t.Helper()
	s := newTestService(t)
	ctx := context.Background()
	must := mustOK(t)
	must(s.CreateWorkspace(ctx, &model.CreateWorkspaceInput{WorkspaceId: "w"}))
	must(s.CreateComponentType(ctx, &model.CreateComponentTypeInput{WorkspaceId: "w", ComponentTypeId: "com.example.t", PropertyDefinitions: props}))
	return s, must
}
