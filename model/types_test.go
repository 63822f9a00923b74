package model

import (
	"encoding/json"
	jsonv2 "encoding/json/v2"
	"math"
	"strings"
	"testing"
	"time"
)

func TestTimestampMarshal(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Unix(1700000000, 0), "1700000000"},
		{time.Unix(1700000000, 123_000_000), "1700000000.123"},
		{time.Unix(1700000000, 500_000_000), "1700000000.5"},
		{time.Unix(1700000000, 120_000_000), "1700000000.12"},
		{time.Unix(1700000000, 123_999_999), "1700000000.123"}, // truncated to the millisecond
		{time.Unix(1700000000, 999_000), "1700000000"},
		{time.Unix(0, 0), "0"},
		{time.Unix(-1, -500_000_000), "-1.5"},
		{time.Unix(-1, 999_000_000), "-0.001"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC), "253402300799.999"},
		{time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), "9214646400"},
		{time.Date(3000, 1, 1, 0, 0, 0, 1_000_000, time.UTC), "32503680000.001"},
	} {
		b, err := json.Marshal(Timestamp{tc.in})
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: got %s, %v; want %s", tc.in, b, err, tc.want)
		}
		if strings.ContainsAny(string(b), "eE") {
			t.Errorf("%s uses exponent notation", b)
		}
	}
}

func TestTimestampUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000.123", time.Unix(1700000000, 123_000_000)},
		{"1700000000.5", time.Unix(1700000000, 500_000_000)},
		{"1700000000.123456789", time.Unix(1700000000, 123_456_789)},
		{"1700000000.1234567891", time.Unix(1700000000, 123_456_789)},
		{"1700000000.000", time.Unix(1700000000, 0)},
		{"1.7e9", time.Unix(1700000000, 0)},
		{"1.700000000123E9", time.Unix(1700000000, 123_000_000)},
		{"-1.5", time.Unix(-1, -500_000_000)},
		{"0", time.Unix(0, 0)},
		{"253402300799", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
	} {
		var ts Timestamp
		if err := json.Unmarshal([]byte(tc.in), &ts); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !ts.Equal(tc.want) || ts.Location() != time.UTC {
			t.Errorf("%s: got %v, want %v", tc.in, ts.Time, tc.want.UTC())
		}
	}
	for _, bad := range []string{`"2023-11-14T22:13:20Z"`, `"1700000000"`, `true`, `{}`, `[]`, `1e400`, `253402300800`, `-62135596801`, `99999999999999999999`, `1e12`} {
		var ts Timestamp
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("%s: accepted as %v", bad, ts.Time)
		}
	}
	var s struct {
		T *Timestamp `json:"t"`
	}
	if err := json.Unmarshal([]byte(`{"t":null}`), &s); err != nil || s.T != nil {
		t.Fatalf("null: %v %v", s.T, err)
	}
	if err := json.Unmarshal([]byte(`{"t":"2023-11-14T22:13:20Z"}`), &s); err == nil || !strings.Contains(err.Error(), "expected Timestamp to be a JSON number") {
		t.Fatalf("string: %v", err)
	}
}

func TestTimestampRoundTrip(t *testing.T) {
	out := CreateEntityOutput{
		EntityId:         String("e1"),
		Arn:              String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1/entity/e1"),
		CreationDateTime: NewTimestamp(time.UnixMilli(1700000000123)),
		State:            StateCreating,
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"entityId":"e1","arn":"arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1/entity/e1","creationDateTime":1700000000.123,"state":"CREATING"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back CreateEntityOutput
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.CreationDateTime.Equal(out.CreationDateTime.Time) {
		t.Fatalf("got %v", back.CreationDateTime)
	}
}

func TestDouble(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{math.NaN(), `"NaN"`},
		{math.Inf(1), `"Infinity"`},
		{math.Inf(-1), `"-Infinity"`},
		{1.5, `1.5`},
		{-0.25, `-0.25`},
		{0, `0`},
		{1e21, `1e+21`},
		{1e-7, `1e-7`},
		{123456789.125, `123456789.125`},
		{math.MaxFloat64, `1.7976931348623157e+308`},
		{5e-324, `5e-324`},
	} {
		b, err := json.Marshal(Double(tc.in))
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: got %s %v, want %s", tc.in, b, err, tc.want)
			continue
		}
		var d Double
		if err := json.Unmarshal(b, &d); err != nil {
			t.Errorf("%s: %v", b, err)
			continue
		}
		if f := float64(d); !(f == tc.in || math.IsNaN(f) && math.IsNaN(tc.in)) {
			t.Errorf("%s: round trip gave %v", b, f)
		}
	}
	for _, in := range []string{`2`, `-3`, `1E2`, `0.1`} {
		var d Double
		if err := json.Unmarshal([]byte(in), &d); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	for _, bad := range []string{`"nan"`, `"Inf"`, `"1.5"`, `true`, `1e400`, `-1e400`, `{}`} {
		var d Double
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s: accepted as %v", bad, d)
		}
	}
	// Inside a DataValue, as the wire carries it.
	var dv DataValue
	if err := json.Unmarshal([]byte(`{"doubleValue":"-Infinity"}`), &dv); err != nil || !math.IsInf(float64(*dv.DoubleValue), -1) {
		t.Fatalf("%v %v", dv.DoubleValue, err)
	}
	b, _ := json.Marshal(DataValue{DoubleValue: NewDouble(math.NaN()), ListValue: []DataValue{{DoubleValue: NewDouble(2.5)}}})
	if string(b) != `{"doubleValue":"NaN","listValue":[{"doubleValue":2.5}]}` {
		t.Fatalf("got %s", b)
	}
}

func TestLongKeepsPrecision(t *testing.T) {
	var dv DataValue
	if err := json.Unmarshal([]byte(`{"longValue":9007199254740993}`), &dv); err != nil || *dv.LongValue != 9007199254740993 {
		t.Fatalf("%v %v", dv.LongValue, err)
	}
	b, _ := json.Marshal(dv)
	if string(b) != `{"longValue":9007199254740993}` {
		t.Fatalf("got %s", b)
	}
	if err := json.Unmarshal([]byte(`{"integerValue":2147483648}`), &dv); err == nil {
		t.Fatal("an integer beyond int32 was accepted")
	}
}

func TestOutputsCarryRequiredMembers(t *testing.T) {
	b, _ := json.Marshal(BatchPutPropertyValuesOutput{ErrorEntries: []BatchPutPropertyErrorEntry{}})
	if string(b) != `{"errorEntries":[]}` {
		t.Fatalf("got %s", b)
	}
	b, _ = json.Marshal(DeleteSceneOutput{})
	if string(b) != `{}` {
		t.Fatalf("got %s", b)
	}
	b, _ = json.Marshal(ListEntitiesOutput{})
	if string(b) != `{}` {
		t.Fatalf("optional members must be left out: %s", b)
	}
	b, _ = json.Marshal(PropertyDefinitionResponse{
		DataType: &DataType{Type: TypeString}, IsTimeSeries: Bool(false), IsRequiredInEntity: Bool(false),
		IsExternalId: Bool(false), IsStoredExternally: Bool(false), IsImported: Bool(false), IsFinal: Bool(false), IsInherited: Bool(false),
	})
	want := `{"dataType":{"type":"STRING"},"isTimeSeries":false,"isRequiredInEntity":false,"isExternalId":false,"isStoredExternally":false,"isImported":false,"isFinal":false,"isInherited":false}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestLabelsAndQueryStayOutOfTheBody(t *testing.T) {
	in := &DeleteEntityInput{WorkspaceId: "ws1", EntityId: "e1", IsRecursive: Bool(true)}
	b, _ := json.Marshal(in)
	if string(b) != `{}` {
		t.Fatalf("got %s", b)
	}
	var ce CreateEntityInput
	if err := json.Unmarshal([]byte(`{"workspaceId":"evil","entityName":"n"}`), &ce); err != nil || ce.WorkspaceId != "" {
		t.Fatalf("a body member filled a label: %+v %v", ce, err)
	}
	// ExecuteQuery carries its workspaceId in the body.
	var eq ExecuteQueryInput
	if err := json.Unmarshal([]byte(`{"workspaceId":"ws1","queryStatement":"SELECT 1"}`), &eq); err != nil || Deref(eq.WorkspaceId) != "ws1" {
		t.Fatalf("%+v %v", eq, err)
	}
}

func TestDocumentsAreAny(t *testing.T) {
	out := ExecuteQueryOutput{
		ColumnDescriptions: []ColumnDescription{{Name: String("e"), Type: ColumnTypeNode}},
		Rows:               []Row{{RowData: []any{map[string]any{"entityId": "e1", "creationDate": int64(1700000000123)}, nil, 2.5}}},
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"columnDescriptions":[{"name":"e","type":"NODE"}],"rows":[{"rowData":[{"creationDate":1700000000123,"entityId":"e1"},null,2.5]}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestHelpers(t *testing.T) {
	if *String("a") != "a" || !*Bool(true) || *Int32(3) != 3 || *Int64(1 << 40) != 1<<40 || *Ptr(StateActive) != StateActive {
		t.Fatal("constructors")
	}
	if Deref[string](nil) != "" || Deref(Int32(7)) != 7 {
		t.Fatal("Deref")
	}
	if float64(*NewDouble(2.5)) != 2.5 || NewTimestamp(time.Unix(5, 0).In(time.FixedZone("x", 3600))).Location() != time.UTC {
		t.Fatal("NewDouble/NewTimestamp")
	}
}

// Double writes numbers exactly as encoding/json writes a float64, through
// either of its methods.
func TestDoubleMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1e-7, 1.5e-7, 123456789, 1e20, 1e21, 1.7976931348623157e308, 5e-324, -2.5e-9, 3.14159, math.Copysign(0, -1), -1e21, -1e-7} {
		want, _ := json.Marshal(f)
		got, err := Double(f).MarshalJSON()
		if err != nil || string(got) != string(want) {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
		if got, err := jsonv2.Marshal(Double(f)); err != nil || string(got) != string(want) {
			t.Errorf("%v through MarshalJSONTo: %s, want %s (%v)", f, got, want, err)
		}
	}
}

// The v2 decoder path reads Doubles as the v1 path does.
func TestDoubleDecodersAgree(t *testing.T) {
	for _, in := range []string{`1.5`, `-0`, `1e308`, `"NaN"`, `"Infinity"`, `"-Infinity"`, `null`, `"x"`, `true`, `1e999`, `{}`} {
		var a, b struct{ D *Double }
		errA := json.Unmarshal([]byte(`{"D":`+in+`}`), &a)
		errB := jsonv2.Unmarshal([]byte(`{"D":`+in+`}`), &b)
		if (errA == nil) != (errB == nil) {
			t.Errorf("%s: v1 error %v, v2 error %v", in, errA, errB)
			continue
		}
		if errA == nil && (a.D == nil) != (b.D == nil) {
			t.Errorf("%s: v1 %v, v2 %v", in, a.D, b.D)
			continue
		}
		if errA == nil && a.D != nil && math.Float64bits(float64(*a.D)) != math.Float64bits(float64(*b.D)) {
			t.Errorf("%s: v1 %v, v2 %v", in, *a.D, *b.D)
		}
	}
}
