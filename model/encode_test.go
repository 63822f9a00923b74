package model

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decoded is a JSON document as a tree, numbers kept as written.
func decoded(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	return v
}

// TestAppendJSON: a history page written by AppendJSON is the document
// encoding/json writes for it, for random pages of every kind of value and
// for the edge cases of each member.
func TestAppendJSON(t *testing.T) {
	check := func(name string, o *GetPropertyValueHistoryOutput) {
		t.Helper()
		want, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		got := o.AppendJSON([]byte("prefix"))
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("%s: the buffer's bytes were lost", name)
		}
		got = got[len("prefix"):]
		if !json.Valid(got) {
			t.Fatalf("%s: invalid JSON %s", name, got)
		}
		if !reflect.DeepEqual(decoded(t, got), decoded(t, want)) {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	odd := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "line\nbreak\ttab\r\b\f", "\x00\x01\x1f\x7f",
		"\u2028\u2029", "héllo wörld ✓ 🏭", "bad \xff utf-8 \xc3", strings.Repeat("x", 300)}
	check("empty", &GetPropertyValueHistoryOutput{})
	check("no pages", &GetPropertyValueHistoryOutput{PropertyValues: []PropertyValueHistory{}})
	check("nil reference and values", &GetPropertyValueHistoryOutput{PropertyValues: []PropertyValueHistory{{}}})
	check("no values", &GetPropertyValueHistoryOutput{PropertyValues: []PropertyValueHistory{{Values: []PropertyValue{}}}})
	check("empty values", &GetPropertyValueHistoryOutput{PropertyValues: []PropertyValueHistory{{
		EntityPropertyReference: &EntityPropertyReference{ExternalIdProperty: map[string]string{}}, Values: []PropertyValue{{}}}}})
	check("empty data value", &GetPropertyValueHistoryOutput{PropertyValues: []PropertyValueHistory{{
		Values: []PropertyValue{{Value: &DataValue{ListValue: []DataValue{}, MapValue: map[string]DataValue{}, RelationshipValue: &RelationshipValue{}}}}}}})
	for _, s := range odd {
		check("string "+s, &GetPropertyValueHistoryOutput{NextToken: String(s), PropertyValues: []PropertyValueHistory{{
			EntityPropertyReference: &EntityPropertyReference{EntityId: String(s), ComponentName: String(s), ComponentPath: String(s),
				PropertyName: String(s), ExternalIdProperty: map[string]string{s: s, s + "2": s}},
			Values: []PropertyValue{{Time: String(s), Value: &DataValue{StringValue: String(s), Expression: String(s),
				MapValue: map[string]DataValue{s: {StringValue: String(s)}}, RelationshipValue: &RelationshipValue{TargetEntityId: String(s), TargetComponentName: String(s)}}}}}}})
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-7, 1e-6, 123456789012345678901234567890, 1e21, 1e20, 5e-324, math.MaxFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1), 0.1 + 0.2} {
		check("double", &GetPropertyValueHistoryOutput{PropertyValues: []PropertyValueHistory{{Values: []PropertyValue{{Value: &DataValue{DoubleValue: NewDouble(f)}}}}}})
	}
	for _, ts := range []time.Time{time.Unix(0, 0), time.Unix(-1, -500e6), time.UnixMilli(1700000000123), time.UnixMilli(1700000000100), time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)} {
		check("timestamp", &GetPropertyValueHistoryOutput{PropertyValues: []PropertyValueHistory{{Values: []PropertyValue{{Timestamp: NewTimestamp(ts), Value: &DataValue{}}}}}})
	}

	rng := rand.New(rand.NewPCG(1, 2))
	str := func() *string {
		if rng.IntN(4) == 0 {
			return nil
		}
		return String(odd[rng.IntN(len(odd))])
	}
	var value func(depth int) DataValue
	value = func(depth int) DataValue {
		var v DataValue
		switch rng.IntN(9) {
		case 0:
			b := rng.IntN(2) == 0
			v.BooleanValue = &b
		case 1:
			v.DoubleValue = NewDouble(math.Float64frombits(rng.Uint64()))
		case 2:
			v.DoubleValue = NewDouble(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(50)-25)))
		case 3:
			i := rng.Int32() - 1<<30
			v.IntegerValue = &i
		case 4:
			l := rng.Int64() - 1<<62
			v.LongValue = &l
		case 5:
			v.StringValue = str()
		case 6:
			if depth < 3 {
				v.ListValue = make([]DataValue, rng.IntN(4))
				for i := range v.ListValue {
					v.ListValue[i] = value(depth + 1)
				}
			}
		case 7:
			if depth < 3 {
				v.MapValue = map[string]DataValue{}
				for range rng.IntN(4) {
					v.MapValue[*String(odd[rng.IntN(len(odd))])] = value(depth + 1)
				}
			}
		case 8:
			v.RelationshipValue = &RelationshipValue{TargetEntityId: str(), TargetComponentName: str()}
		}
		if rng.IntN(10) == 0 {
			v.Expression = str()
		}
		return v
	}
	for i := range 2000 {
		o := &GetPropertyValueHistoryOutput{NextToken: str()}
		for range rng.IntN(3) {
			h := PropertyValueHistory{EntityPropertyReference: &EntityPropertyReference{EntityId: str(), ComponentName: str(), PropertyName: str()}}
			if rng.IntN(5) == 0 {
				h.EntityPropertyReference = nil
			}
			for range rng.IntN(30) {
				v := value(0)
				pv := PropertyValue{Time: str(), Value: &v}
				if rng.IntN(5) == 0 {
					pv.Timestamp = NewTimestamp(time.UnixMilli(rng.Int64N(1e13) - 5e12))
				}
				h.Values = append(h.Values, pv)
			}
			o.PropertyValues = append(o.PropertyValues, h)
		}
		check("random page "+strings.Repeat("·", i%3), o)
	}
}

// BenchmarkEncodeHistoryPage writes a page of 25 doubles, TwinMaker's
// default page, with AppendJSON and, as the baseline, with encoding/json.
func BenchmarkEncodeHistoryPage(b *testing.B) {
	h := PropertyValueHistory{EntityPropertyReference: &EntityPropertyReference{EntityId: String("mixer-1"), ComponentName: String("telemetry"), PropertyName: String("temperature")}}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 25 {
		h.Values = append(h.Values, PropertyValue{Time: String(t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)),
			Value: &DataValue{DoubleValue: NewDouble(20.5 + float64(i)*0.123)}})
	}
	o := &GetPropertyValueHistoryOutput{PropertyValues: []PropertyValueHistory{h}, NextToken: String(strings.Repeat("t", 120))}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o.AppendJSON(make([]byte, 0, 4096))
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(o); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzAppendJSON: for any strings and numbers, AppendJSON and
// encoding/json write the same document.
func FuzzAppendJSON(f *testing.F) {
	f.Add("mixer-1", "2026-01-02T03:04:05Z", "token", 20.5, int64(7), true)
	f.Add("<&>\u2028", "bad \xff", "\x00\"\\", math.Inf(-1), int64(-1)<<63, false)
	f.Fuzz(func(t *testing.T, id, s, tok string, d float64, n int64, bit bool) {
		i := int32(n)
		o := &GetPropertyValueHistoryOutput{NextToken: &tok, PropertyValues: []PropertyValueHistory{{
			EntityPropertyReference: &EntityPropertyReference{EntityId: &id, PropertyName: &s, ExternalIdProperty: map[string]string{s: id, id: s}},
			Values: []PropertyValue{
				{Time: &s, Value: &DataValue{DoubleValue: NewDouble(d)}, Timestamp: NewTimestamp(time.UnixMilli(n % 253402300799000))},
				{Value: &DataValue{LongValue: &n, IntegerValue: &i, BooleanValue: &bit, StringValue: &id,
					ListValue: []DataValue{{StringValue: &s}}, MapValue: map[string]DataValue{tok: {DoubleValue: NewDouble(-d)}},
					RelationshipValue: &RelationshipValue{TargetEntityId: &id, TargetComponentName: &tok}, Expression: &s}},
			}}}}
		want, err := json.Marshal(o)
		if err != nil {
			t.Skip() // encoding/json refuses it; nothing to compare
		}
		got := o.AppendJSON(nil)
		if !reflect.DeepEqual(decoded(t, got), decoded(t, want)) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
