package e2e

import (
	"context"
	"encoding/csv"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// sample is one telemetry row of the CookieFactory sample.
type sample struct {
	t      int64 // Unix milliseconds
	double float64
	str    string
	isStr  bool
}

// telemetrySeries is one series of the sample telemetry: rows reach their
// entity through an external-ID property.
type telemetrySeries struct {
	extProp, extID, prop string
	points               []sample
}

func loadTelemetry(t *testing.T) []*telemetrySeries {
	t.Helper()
	path := filepath.Join(sampleDir(t), "..", "telemetry", "telemetry.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	bySeries := map[[2]string]*telemetrySeries{}
	var out []*telemetrySeries
	for _, r := range rows {
		ms, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ext := "telemetryAssetId"
		if r[1] == "Alarm" {
			ext = "alarm_key"
		}
		k := [2]string{r[2], r[3]}
		s := bySeries[k]
		if s == nil {
			s = &telemetrySeries{extProp: ext, extID: r[2], prop: r[3]}
			bySeries[k] = s
			out = append(out, s)
		}
		p := sample{t: ms}
		if r[5] == "DOUBLE" {
			if p.double, err = strconv.ParseFloat(r[4], 64); err != nil {
				t.Fatal(err)
			}
		} else {
			p.str, p.isStr = r[4], true
		}
		s.points = append(s.points, p)
	}
	for _, s := range out {
		sort.Slice(s.points, func(i, j int) bool { return s.points[i].t < s.points[j].t })
	}
	return out
}

func isoMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

func (p sample) value() *types.DataValue {
	if p.isStr {
		return &types.DataValue{StringValue: aws.String(p.str)}
	}
	return &types.DataValue{DoubleValue: aws.Float64(p.double)}
}

// putTelemetry writes every series through BatchPutPropertyValues, 10
// entries of 10 values per request, addressing entities by external ID.
func putTelemetry(t *testing.T, tm *iottwinmaker.Client, ws string, series []*telemetrySeries) int {
	t.Helper()
	var entries []types.PropertyValueEntry
	for _, s := range series {
		for i := 0; i < len(s.points); i += 10 {
			var vals []types.PropertyValue
			for _, p := range s.points[i:min(i+10, len(s.points))] {
				vals = append(vals, types.PropertyValue{Time: aws.String(isoMillis(p.t)), Value: p.value()})
			}
			entries = append(entries, types.PropertyValueEntry{
				EntityPropertyReference: &types.EntityPropertyReference{ExternalIdProperty: map[string]string{s.extProp: s.extID}, PropertyName: aws.String(s.prop)},
				PropertyValues:          vals,
			})
		}
	}
	// Interleave series across requests, as concurrent devices would.
	sort.SliceStable(entries, func(i, j int) bool { return *entries[i].PropertyValues[0].Time < *entries[j].PropertyValues[0].Time })
	requests := 0
	for i := 0; i < len(entries); i += 10 {
		out, err := tm.BatchPutPropertyValues(context.Background(), &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String(ws), Entries: entries[i:min(i+10, len(entries))]})
		if err != nil {
			t.Fatalf("BatchPutPropertyValues: %v", err)
		}
		if len(out.ErrorEntries) > 0 {
			e := out.ErrorEntries[0].Errors[0]
			t.Fatalf("BatchPutPropertyValues: %d failed entries: %s %s", len(out.ErrorEntries), aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
		}
		requests++
	}
	return requests
}

// locate finds the entity and component of each series, the way the
// server must: by the external-ID property's value.
func locate(t *testing.T, entities []*sampleEntity, s *telemetrySeries) (entity, component string) {
	for _, se := range entities {
		for cname, c := range se.create.Components {
			if p, ok := c.Properties[s.extProp]; ok && p.Value != nil && aws.ToString(p.Value.StringValue) == s.extID {
				return aws.ToString(se.create.EntityId), cname
			}
		}
	}
	t.Fatalf("no entity has %s=%s", s.extProp, s.extID)
	return "", ""
}

func TestTelemetryHistory(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker() // with the SDK's data. host prefix
	ctx := context.Background()
	const ws = "cookiefactory"
	typesIn, entities := loadCookieFactory(t, srv, tm, ws)
	series := loadTelemetry(t)
	// The sample's telemetry names one property "flowRate2" while its
	// component type declares "flowrate2"; property names are
	// case-sensitive, so the rows are loaded under the declared name, as a
	// loader of this data must.
	declared := map[string]string{}
	for _, st := range typesIn {
		for name := range st.raw["propertyDefinitions"].(map[string]any) {
			declared[strings.ToLower(name)] = name
		}
	}
	for _, s := range series {
		if name, ok := declared[strings.ToLower(s.prop)]; ok {
			s.prop = name
		}
	}
	total := 0
	for _, s := range series {
		total += len(s.points)
	}
	if total != 19970 || len(series) != 83 {
		t.Fatalf("telemetry: %d points in %d series", total, len(series))
	}
	putTelemetry(t, tm, ws, series)

	first, last := series[0].points[0].t, series[0].points[0].t
	for _, s := range series {
		first, last = min(first, s.points[0].t), max(last, s.points[len(s.points)-1].t)
	}
	start, end := aws.String(isoMillis(first)), aws.String(isoMillis(last+1))

	readAll := func(t *testing.T, s *telemetrySeries, order types.OrderByTime, page int32) []types.PropertyValue {
		entity, comp := locate(t, entities, s)
		var got []types.PropertyValue
		var token *string
		for {
			out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{
				WorkspaceId: aws.String(ws), EntityId: aws.String(entity), ComponentName: aws.String(comp),
				SelectedProperties: []string{s.prop}, StartTime: start, EndTime: end, OrderByTime: order,
				MaxResults: aws.Int32(page), NextToken: token,
			})
			if err != nil {
				t.Fatalf("GetPropertyValueHistory %s.%s: %v", entity, s.prop, err)
			}
			n := 0
			for _, h := range out.PropertyValues {
				if aws.ToString(h.EntityPropertyReference.EntityId) != entity || aws.ToString(h.EntityPropertyReference.PropertyName) != s.prop {
					t.Fatalf("reference %+v", h.EntityPropertyReference)
				}
				got = append(got, h.Values...)
				n += len(h.Values)
			}
			if n > int(page) {
				t.Fatalf("page of %d values, maxResults %d", n, page)
			}
			if token = out.NextToken; token == nil {
				return got
			}
		}
	}
	check := func(t *testing.T) {
		for _, s := range series {
			for _, order := range []types.OrderByTime{types.OrderByTimeAscending, types.OrderByTimeDescending} {
				got := readAll(t, s, order, 37)
				if len(got) != len(s.points) {
					t.Fatalf("%s.%s %s: %d values, want %d", s.extID, s.prop, order, len(got), len(s.points))
				}
				for i, g := range got {
					want := s.points[i]
					if order == types.OrderByTimeDescending {
						want = s.points[len(s.points)-1-i]
					}
					tm, err := time.Parse(time.RFC3339Nano, aws.ToString(g.Time))
					if err != nil || tm.UnixMilli() != want.t {
						t.Fatalf("%s.%s %s[%d]: time %v, want %s", s.extID, s.prop, order, i, aws.ToString(g.Time), isoMillis(want.t))
					}
					if want.isStr && aws.ToString(g.Value.StringValue) != want.str || !want.isStr && aws.ToFloat64(g.Value.DoubleValue) != want.double {
						t.Fatalf("%s.%s %s[%d]: value %+v, want %+v", s.extID, s.prop, order, i, g.Value, want)
					}
				}
			}
		}
	}
	t.Run("every series, both orders", check)

	// What the series take once the compactor has merged them: the goal
	// is at most 3 bytes a point, keys, nonces and tags included.
	t.Run("storage usage", func(t *testing.T) {
		var u node.StorageUsage
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if code := keyCallWith(t, srv, "GetStorageUsage", []byte(`{"workspaceId":"`+ws+`"}`), &u); code != http.StatusOK {
				t.Fatalf("GetStorageUsage: %d", code)
			}
			if u.PendingPoints == 0 || time.Now().After(deadline) {
				break
			}
		}
		if u.Points != int64(total) || u.BlockPoints != int64(total) || u.Series != len(series) {
			t.Fatalf("usage: %+v; want %d points in %d series, all compacted", u, total, len(series))
		}
		perPoint := float64(u.BlockBytes) / float64(u.BlockPoints)
		t.Logf("%d points in %d series, %d blocks: %.2f bytes per point in blocks, %d bytes stored in all %+v", u.Points, u.Series, u.Blocks, perPoint, u.StoredBytes, u)
		if perPoint > 3 {
			t.Errorf("%.2f bytes per point", perPoint)
		}
	})

	// Interpolation, checked against values computed here.
	var mixer *telemetrySeries
	for _, s := range series {
		if s.prop == "Temperature" && len(s.points) > 100 {
			mixer = s
			break
		}
	}
	entity, comp := locate(t, entities, mixer)
	from := mixer.points[0].t - 30_000
	to := mixer.points[len(mixer.points)-1].t + 30_000
	const interval = 45
	out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{
		WorkspaceId: aws.String(ws), EntityId: aws.String(entity), ComponentName: aws.String(comp),
		SelectedProperties: []string{"Temperature"}, StartTime: aws.String(isoMillis(from)), EndTime: aws.String(isoMillis(to)),
		Interpolation: &types.InterpolationParameters{InterpolationType: types.InterpolationTypeLinear, IntervalInSeconds: aws.Int64(interval)},
		MaxResults:    aws.Int32(200),
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []sample
	for ts := from; ts < to; ts += interval * 1000 {
		i := sort.Search(len(mixer.points), func(i int) bool { return mixer.points[i].t >= ts })
		if i == len(mixer.points) {
			continue
		}
		next := mixer.points[i]
		if next.t == ts {
			want = append(want, sample{t: ts, double: next.double})
			continue
		}
		if i == 0 {
			continue
		}
		prev := mixer.points[i-1]
		want = append(want, sample{t: ts, double: prev.double + (next.double-prev.double)*float64(ts-prev.t)/float64(next.t-prev.t)})
	}
	var got []types.PropertyValue
	for _, h := range out.PropertyValues {
		got = append(got, h.Values...)
	}
	if len(got) != len(want) || len(want) < 10 {
		t.Fatalf("interpolation: %d values, want %d", len(got), len(want))
	}
	for i := range want {
		gt, _ := time.Parse(time.RFC3339Nano, aws.ToString(got[i].Time))
		if gt.UnixMilli() != want[i].t || math.Abs(aws.ToFloat64(got[i].Value.DoubleValue)-want[i].double) > 1e-9 {
			t.Fatalf("interpolation[%d]: %s %v, want %s %v", i, aws.ToString(got[i].Time), aws.ToFloat64(got[i].Value.DoubleValue), isoMillis(want[i].t), want[i].double)
		}
	}

	// Across entities by component type.
	n := 0
	var token *string
	for {
		out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{
			WorkspaceId: aws.String(ws), ComponentTypeId: aws.String("com.example.cookiefactory.mixer"),
			SelectedProperties: []string{"RPM"}, StartTime: start, EndTime: end, MaxResults: aws.Int32(200), NextToken: token,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range out.PropertyValues {
			n += len(h.Values)
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	if n != 9216 {
		t.Errorf("RPM across mixers: %d values, want 9216", n)
	}

	// The latest value.
	latest, err := tm.GetPropertyValue(ctx, &iottwinmaker.GetPropertyValueInput{WorkspaceId: aws.String(ws), EntityId: aws.String(entity),
		ComponentName: aws.String(comp), SelectedProperties: []string{"Temperature", "telemetryAssetType"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := latest.PropertyValues["Temperature"].PropertyValue; v == nil || *v.DoubleValue != mixer.points[len(mixer.points)-1].double {
		t.Errorf("latest Temperature: %+v", v)
	}
	if v := latest.PropertyValues["telemetryAssetType"].PropertyValue; v == nil || aws.ToString(v.StringValue) != "Mixer" {
		t.Errorf("static telemetryAssetType: %+v", v)
	}

	srv.Restart(t)
	tm = srv.TwinMaker()
	t.Run("after restart", check)
}
