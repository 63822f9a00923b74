package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// sensorWorkspace makes a workspace with one entity whose component has a
// time-series property of every kind and a static one.
func sensorWorkspace(t *testing.T, tm *iottwinmaker.Client, ws string) {
	t.Helper()
	ctx := context.Background()
	mustWorkspace(t, tm, ws)
	ts := func(dt *types.DataType) types.PropertyDefinitionRequest {
		return types.PropertyDefinitionRequest{DataType: dt, IsTimeSeries: aws.Bool(true)}
	}
	dt := func(t types.Type) *types.DataType { return &types.DataType{Type: t} }
	_, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{
		WorkspaceId: aws.String(ws), ComponentTypeId: aws.String("com.example.sensor"),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{
			"d":      ts(dt(types.TypeDouble)),
			"i":      ts(dt(types.TypeInteger)),
			"l":      ts(dt(types.TypeLong)),
			"b":      ts(dt(types.TypeBoolean)),
			"s":      ts(dt(types.TypeString)),
			"list":   ts(&types.DataType{Type: types.TypeList, NestedType: dt(types.TypeDouble)}),
			"map":    ts(&types.DataType{Type: types.TypeMap, NestedType: dt(types.TypeString)}),
			"rel":    ts(dt(types.TypeRelationship)),
			"serial": {DataType: dt(types.TypeString), IsExternalId: aws.Bool(true)},
		},
		PropertyGroups: map[string]types.PropertyGroupRequest{"table": {GroupType: types.GroupTypeTabular, PropertyNames: []string{"d", "s", "serial"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"), EntityName: aws.String("Device 1"),
		Components: map[string]types.ComponentRequest{"sensor": {ComponentTypeId: aws.String("com.example.sensor"),
			Properties: map[string]types.PropertyRequest{"serial": strProp("SN-1")}}}})
	if err != nil {
		t.Fatal(err)
	}
}

func at(sec int) *string {
	return aws.String(time.Unix(1700000000+int64(sec), 0).UTC().Format(time.RFC3339))
}

func ref(prop string) *types.EntityPropertyReference {
	return &types.EntityPropertyReference{EntityId: aws.String("dev1"), ComponentName: aws.String("sensor"), PropertyName: aws.String(prop)}
}

func history(t *testing.T, tm *iottwinmaker.Client, ws, prop string) []types.PropertyValue {
	t.Helper()
	out, err := tm.GetPropertyValueHistory(context.Background(), &iottwinmaker.GetPropertyValueHistoryInput{
		WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"), ComponentName: aws.String("sensor"),
		SelectedProperties: []string{prop}, StartTime: at(-100000), EndTime: at(100000), MaxResults: aws.Int32(200)})
	if err != nil {
		t.Fatalf("history of %s: %v", prop, err)
	}
	var vals []types.PropertyValue
	for _, h := range out.PropertyValues {
		vals = append(vals, h.Values...)
	}
	return vals
}

func TestBatchPutEveryTypeAndPartialFailure(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	const ws = "sensors"
	sensorWorkspace(t, tm, ws)
	pv := func(sec int, v types.DataValue) types.PropertyValue {
		return types.PropertyValue{Time: at(sec), Value: &v}
	}
	good := []types.PropertyValueEntry{
		{EntityPropertyReference: ref("d"), PropertyValues: []types.PropertyValue{pv(2, types.DataValue{DoubleValue: aws.Float64(2.5)}), pv(1, types.DataValue{DoubleValue: aws.Float64(1.5)})}},
		{EntityPropertyReference: ref("i"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{IntegerValue: aws.Int32(-7)})}},
		{EntityPropertyReference: ref("l"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{LongValue: aws.Int64(1 << 62)})}},
		{EntityPropertyReference: ref("b"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{BooleanValue: aws.Bool(true)})}},
		{EntityPropertyReference: &types.EntityPropertyReference{ExternalIdProperty: map[string]string{"serial": "SN-1"}, PropertyName: aws.String("s")},
			PropertyValues: []types.PropertyValue{pv(1, types.DataValue{StringValue: aws.String("ok")})}},
		{EntityPropertyReference: ref("list"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{ListValue: []types.DataValue{{DoubleValue: aws.Float64(1)}, {DoubleValue: aws.Float64(2)}}})}},
		{EntityPropertyReference: ref("map"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{MapValue: map[string]types.DataValue{"k": {StringValue: aws.String("v")}}})}},
		{EntityPropertyReference: ref("rel"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{RelationshipValue: &types.RelationshipValue{TargetEntityId: aws.String("dev2")}})}},
	}
	bad := []types.PropertyValueEntry{
		{EntityPropertyReference: &types.EntityPropertyReference{EntityId: aws.String("ghost"), ComponentName: aws.String("sensor"), PropertyName: aws.String("d")},
			PropertyValues: []types.PropertyValue{pv(1, types.DataValue{DoubleValue: aws.Float64(1)})}},
		{EntityPropertyReference: ref("serial"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{StringValue: aws.String("x")})}},
	}
	out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String(ws), Entries: append(append([]types.PropertyValueEntry{}, good...), bad...)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ErrorEntries) != 2 {
		t.Fatalf("errorEntries %+v, want 2", out.ErrorEntries)
	}
	for i, code := range []string{"ResourceNotFoundException", "ValidationException"} {
		e := out.ErrorEntries[i].Errors[0]
		if aws.ToString(e.ErrorCode) != code || e.Entry == nil {
			t.Errorf("error entry %d: %s %s", i, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
		}
	}
	// More failures, one at a time, each beside a good entry that lands.
	failures := []struct {
		name  string
		entry types.PropertyValueEntry
	}{
		{"unknown property", types.PropertyValueEntry{EntityPropertyReference: ref("nope"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{DoubleValue: aws.Float64(1)})}}},
		{"unknown component", types.PropertyValueEntry{EntityPropertyReference: &types.EntityPropertyReference{EntityId: aws.String("dev1"), ComponentName: aws.String("nope"), PropertyName: aws.String("d")}, PropertyValues: []types.PropertyValue{pv(1, types.DataValue{DoubleValue: aws.Float64(1)})}}},
		{"wrong type", types.PropertyValueEntry{EntityPropertyReference: ref("d"), PropertyValues: []types.PropertyValue{pv(5, types.DataValue{DoubleValue: aws.Float64(5)}), pv(6, types.DataValue{StringValue: aws.String("x")})}}},
		{"bad time", types.PropertyValueEntry{EntityPropertyReference: ref("d"), PropertyValues: []types.PropertyValue{{Time: aws.String("2023-13-45T99:00:00Z"), Value: &types.DataValue{DoubleValue: aws.Float64(1)}}}}},
		{"unknown external ID", types.PropertyValueEntry{EntityPropertyReference: &types.EntityPropertyReference{ExternalIdProperty: map[string]string{"serial": "SN-404"}, PropertyName: aws.String("s")}, PropertyValues: []types.PropertyValue{pv(1, types.DataValue{StringValue: aws.String("x")})}}},
	}
	for i, f := range failures {
		sec := 100 + i
		okEntry := types.PropertyValueEntry{EntityPropertyReference: ref("i"), PropertyValues: []types.PropertyValue{pv(sec, types.DataValue{IntegerValue: aws.Int32(int32(sec))})}}
		out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String(ws), Entries: []types.PropertyValueEntry{f.entry, okEntry}})
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if len(out.ErrorEntries) != 1 {
			t.Errorf("%s: %d error entries", f.name, len(out.ErrorEntries))
		}
	}
	// Nothing of the failed "wrong type" entry was written, though its first
	// value was good.
	for _, v := range history(t, tm, ws, "d") {
		if *v.Time == *at(5) {
			t.Error("a failed entry was half written")
		}
	}
	if got := history(t, tm, ws, "i"); len(got) != 1+len(failures) {
		t.Errorf("good entries beside failures: %d values of i, want %d", len(got), 1+len(failures))
	}

	// Every type reads back; out-of-order writes come back sorted.
	d := history(t, tm, ws, "d")
	if len(d) != 2 || *d[0].Value.DoubleValue != 1.5 || *d[1].Value.DoubleValue != 2.5 {
		t.Errorf("d: %+v", d)
	}
	checks := map[string]func(v *types.DataValue) bool{
		"i":    func(v *types.DataValue) bool { return aws.ToInt32(v.IntegerValue) == -7 },
		"l":    func(v *types.DataValue) bool { return aws.ToInt64(v.LongValue) == 1<<62 },
		"b":    func(v *types.DataValue) bool { return aws.ToBool(v.BooleanValue) },
		"s":    func(v *types.DataValue) bool { return aws.ToString(v.StringValue) == "ok" },
		"list": func(v *types.DataValue) bool { return len(v.ListValue) == 2 && *v.ListValue[1].DoubleValue == 2 },
		"map":  func(v *types.DataValue) bool { return aws.ToString(v.MapValue["k"].StringValue) == "v" },
		"rel": func(v *types.DataValue) bool {
			return v.RelationshipValue != nil && aws.ToString(v.RelationshipValue.TargetEntityId) == "dev2"
		},
	}
	for prop, ok := range checks {
		got := history(t, tm, ws, prop)
		if len(got) == 0 || !ok(got[0].Value) {
			t.Errorf("%s: %+v", prop, got)
		}
	}

	// A value written twice at one time replaces the first.
	if _, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String(ws), Entries: []types.PropertyValueEntry{
		{EntityPropertyReference: ref("d"), PropertyValues: []types.PropertyValue{pv(1, types.DataValue{DoubleValue: aws.Float64(9)})}}}}); err != nil {
		t.Fatal(err)
	}
	if d := history(t, tm, ws, "d"); len(d) != 2 || *d[0].Value.DoubleValue != 9 {
		t.Errorf("after overwrite: %+v", d)
	}

	// Whole-request failures.
	_, err = tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("nowhere"), Entries: good[:1]})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown workspace: %v", err)
	}
	many := make([]types.PropertyValueEntry, 11)
	for i := range many {
		many[i] = good[1]
	}
	_, err = tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String(ws), Entries: many})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("11 entries: %v", err)
	}

	// GetPropertyValue: latest and static values, and a tabular group.
	latest, err := tm.GetPropertyValue(ctx, &iottwinmaker.GetPropertyValueInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"),
		ComponentName: aws.String("sensor"), SelectedProperties: []string{"d", "serial", "s"}})
	if err != nil {
		t.Fatal(err)
	}
	if *latest.PropertyValues["d"].PropertyValue.DoubleValue != 2.5 || aws.ToString(latest.PropertyValues["serial"].PropertyValue.StringValue) != "SN-1" {
		t.Errorf("GetPropertyValue: %+v", latest.PropertyValues)
	}
	tab, err := tm.GetPropertyValue(ctx, &iottwinmaker.GetPropertyValueInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"),
		ComponentName: aws.String("sensor"), SelectedProperties: []string{"d", "s", "serial"}, PropertyGroupName: aws.String("table"),
		TabularConditions: &types.TabularConditions{OrderBy: []types.OrderBy{{PropertyName: aws.String("d"), Order: types.OrderDescending}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.TabularPropertyValues) != 1 || len(tab.TabularPropertyValues[0]) != 2 {
		t.Fatalf("tabular: %+v", tab.TabularPropertyValues)
	}
	row := tab.TabularPropertyValues[0][0]
	if *row["d"].DoubleValue != 9 || aws.ToString(row["s"].StringValue) != "ok" || aws.ToString(row["serial"].StringValue) != "SN-1" {
		t.Errorf("first tabular row: %+v", row)
	}

	// History goes with its entity.
	if _, err := tm.DeleteEntity(ctx, &iottwinmaker.DeleteEntityInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1")}); err != nil {
		t.Fatal(err)
	}
	sensorEntityAgain(t, tm, ws)
	if got := history(t, tm, ws, "d"); len(got) != 0 {
		t.Errorf("a re-created entity inherited %d points", len(got))
	}
	_, err = tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"),
		ComponentName: aws.String("sensor"), SelectedProperties: []string{"d"}})
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "startTime") {
		t.Errorf("history without a time range: %v", err)
	}
}

func sensorEntityAgain(t *testing.T, tm *iottwinmaker.Client, ws string) {
	t.Helper()
	_, err := tm.CreateEntity(context.Background(), &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"), EntityName: aws.String("Device 1"),
		Components: map[string]types.ComponentRequest{"sensor": {ComponentTypeId: aws.String("com.example.sensor"),
			Properties: map[string]types.PropertyRequest{"serial": strProp("SN-1")}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// The deprecated epoch forms, property filters, and paging while writes go
// on: a page token resumes after the last point returned, so points written
// later past it appear and none is returned twice.
func TestHistoryFiltersAndLivePaging(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	const ws = "live"
	sensorWorkspace(t, tm, ws)
	put := func(from, to int) {
		t.Helper()
		for s := from; s < to; s += 10 {
			var vals []types.PropertyValue
			for j := s; j < min(s+10, to); j++ {
				// The deprecated epoch timestamp, on every other point.
				if j%2 == 0 {
					//lint:ignore SA1019 the deprecated form is what is tested
					vals = append(vals, types.PropertyValue{Timestamp: aws.Time(time.Unix(1700000000+int64(j), 0)), Value: &types.DataValue{DoubleValue: aws.Float64(float64(j))}})
				} else {
					vals = append(vals, types.PropertyValue{Time: at(j), Value: &types.DataValue{DoubleValue: aws.Float64(float64(j))}})
				}
			}
			out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String(ws),
				Entries: []types.PropertyValueEntry{{EntityPropertyReference: ref("d"), PropertyValues: vals}}})
			if err != nil || len(out.ErrorEntries) > 0 {
				t.Fatalf("BatchPutPropertyValues: %v %+v", err, out)
			}
		}
	}
	put(0, 100)
	seen := map[float64]bool{}
	var token *string
	pages := 0
	for {
		out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"),
			ComponentName: aws.String("sensor"), SelectedProperties: []string{"d"},
			//lint:ignore SA1019 the deprecated form is what is tested
			StartDateTime: aws.Time(time.Unix(1700000000, 0)), EndDateTime: aws.Time(time.Unix(1700000000+1000, 0)),
			MaxResults: aws.Int32(15), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range out.PropertyValues {
			for _, v := range h.Values {
				if seen[*v.Value.DoubleValue] {
					t.Fatalf("value %v returned twice", *v.Value.DoubleValue)
				}
				seen[*v.Value.DoubleValue] = true
			}
		}
		pages++
		if pages == 2 {
			put(100, 130) // after the cursor: must show up
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if len(seen) != 130 {
		t.Errorf("paging while writing saw %d values, want 130", len(seen))
	}

	// A filter on the series' own values keeps the matching points.
	out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"),
		ComponentName: aws.String("sensor"), SelectedProperties: []string{"d"}, StartTime: at(0), EndTime: at(1000),
		PropertyFilters: []types.PropertyFilter{{PropertyName: aws.String("d"), Operator: aws.String(">="), Value: &types.DataValue{DoubleValue: aws.Float64(120)}}},
		MaxResults:      aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range out.PropertyValues {
		for _, v := range h.Values {
			if *v.Value.DoubleValue < 120 {
				t.Errorf("filtered value %v", *v.Value.DoubleValue)
			}
			n++
		}
	}
	if n != 7 || out.NextToken == nil {
		t.Errorf("filtered page: %d values, token %v", n, out.NextToken)
	}
	// A filter on a static property selects components across entities.
	for _, serial := range []string{"SN-1", "SN-2"} {
		out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String(ws), ComponentTypeId: aws.String("com.example.sensor"),
			SelectedProperties: []string{"d"}, StartTime: at(0), EndTime: at(1000),
			PropertyFilters: []types.PropertyFilter{{PropertyName: aws.String("serial"), Operator: aws.String("="), Value: &types.DataValue{StringValue: aws.String(serial)}}},
			MaxResults:      aws.Int32(200)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(out.PropertyValues), map[string]int{"SN-1": 1, "SN-2": 0}[serial]; got != want {
			t.Errorf("serial %s: %d series, want %d", serial, got, want)
		}
	}
	_, err = tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"),
		ComponentName: aws.String("sensor"), SelectedProperties: []string{"d"}, StartTime: at(0), EndTime: at(1000),
		PropertyFilters: []types.PropertyFilter{{PropertyName: aws.String("d"), Operator: aws.String("~"), Value: &types.DataValue{DoubleValue: aws.Float64(1)}}}})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("unknown operator: %v", err)
	}
}

// A history page stops at about 20 KB of data, as TwinMaker's do, and the
// token carries on from there; without maxResults it holds 25 values.
func TestHistoryPageSizeCap(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	const ws = "bulky"
	sensorWorkspace(t, tm, ws)
	long := strings.Repeat("x", 250)
	for s := 0; s < 200; s += 10 {
		var vals []types.PropertyValue
		for j := s; j < s+10; j++ {
			vals = append(vals, types.PropertyValue{Time: at(j), Value: &types.DataValue{StringValue: aws.String(long)}})
		}
		if _, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String(ws),
			Entries: []types.PropertyValueEntry{{EntityPropertyReference: ref("s"), PropertyValues: vals}}}); err != nil {
			t.Fatal(err)
		}
	}
	total, pages := 0, 0
	var token *string
	for {
		out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"),
			ComponentName: aws.String("sensor"), SelectedProperties: []string{"s"}, StartTime: at(0), EndTime: at(1000), MaxResults: aws.Int32(200), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, h := range out.PropertyValues {
			n += len(h.Values)
		}
		if n*len(long) > 20<<10 {
			t.Errorf("page of %d values of %d bytes", n, len(long))
		}
		total += n
		pages++
		if token = out.NextToken; token == nil {
			break
		}
	}
	if total != 200 || pages < 3 {
		t.Errorf("%d values in %d pages, want 200 in 3 or more", total, pages)
	}
	// Without maxResults (or with 0), a page holds TwinMaker's default 25.
	for _, max := range []*int32{nil, aws.Int32(0)} {
		out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String(ws), EntityId: aws.String("dev1"),
			ComponentName: aws.String("sensor"), SelectedProperties: []string{"s"}, StartTime: at(0), EndTime: at(1000), MaxResults: max})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.PropertyValues) != 1 || len(out.PropertyValues[0].Values) != 25 || out.NextToken == nil {
			t.Errorf("default page (maxResults %v): %+v, want 25 values and a nextToken", max, out.PropertyValues)
		}
	}
}

// TestDataPlaneSeesTypeChanges: the data plane shares decoded types between
// requests; a property added to a type, or to the type it extends, must be
// writable the moment the update returns, and a removed one refused.
func TestDataPlaneSeesTypeChanges(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	ws := aws.String("typechange")
	mustWorkspace(t, tm, "typechange")
	double := &types.DataType{Type: types.TypeDouble}
	defs := func(names ...string) map[string]types.PropertyDefinitionRequest {
		m := map[string]types.PropertyDefinitionRequest{}
		for _, n := range names {
			m[n] = types.PropertyDefinitionRequest{DataType: double, IsTimeSeries: aws.Bool(true)}
		}
		return m
	}
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.base"), PropertyDefinitions: defs("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.child"),
		ExtendsFrom: []string{"com.example.base"}, PropertyDefinitions: defs("b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String("dev1"), EntityName: aws.String("d"),
		Components: map[string]types.ComponentRequest{"sensor": {ComponentTypeId: aws.String("com.example.child")}}}); err != nil {
		t.Fatal(err)
	}
	put := func(prop string) []types.BatchPutPropertyError {
		t.Helper()
		out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: ws, Entries: []types.PropertyValueEntry{{
			EntityPropertyReference: ref(prop), PropertyValues: []types.PropertyValue{{Time: at(1), Value: &types.DataValue{DoubleValue: aws.Float64(1)}}}}}})
		if err != nil {
			t.Fatalf("put %s: %v", prop, err)
		}
		var errs []types.BatchPutPropertyError
		for _, e := range out.ErrorEntries {
			errs = append(errs, e.Errors...)
		}
		return errs
	}
	wait := func(id string) {
		t.Helper()
		for range 200 {
			out, err := tm.GetComponentType(ctx, &iottwinmaker.GetComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != nil && out.Status.State == types.StateActive {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s never became ACTIVE", id)
	}
	for _, p := range []string{"a", "b"} {
		if errs := put(p); len(errs) > 0 {
			t.Fatalf("put %s: %+v", p, errs)
		}
	}
	if errs := put("c"); len(errs) != 1 || aws.ToString(errs[0].ErrorCode) != "ResourceNotFoundException" {
		t.Fatalf("put to an undefined property: %+v", errs)
	}
	// The parent gains c.
	if _, err := tm.UpdateComponentType(ctx, &iottwinmaker.UpdateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.base"), PropertyDefinitions: defs("c")}); err != nil {
		t.Fatal(err)
	}
	wait("com.example.base")
	if errs := put("c"); len(errs) > 0 {
		t.Fatalf("put to the parent's new property: %+v", errs)
	}
	// The child gains d.
	if _, err := tm.UpdateComponentType(ctx, &iottwinmaker.UpdateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.child"),
		ExtendsFrom: []string{"com.example.base"}, PropertyDefinitions: defs("b", "d")}); err != nil {
		t.Fatal(err)
	}
	wait("com.example.child")
	if errs := put("d"); len(errs) > 0 {
		t.Fatalf("put to the child's new property: %+v", errs)
	}
}
