package model

import (
	jsonv2 "encoding/json/v2"
	"reflect"
	"testing"
)

// checkUsual decodes body both ways: whatever DecodeUsual accepts,
// encoding/json/v2 must decode to the same value, down to the sign of a
// zero. It reports whether DecodeUsual accepted.
func checkUsual(t *testing.T, body []byte) bool {
	t.Helper()
	var got BatchPutPropertyValuesInput
	if !got.DecodeUsual(body) {
		if !reflect.DeepEqual(got, BatchPutPropertyValuesInput{}) {
			t.Fatalf("DecodeUsual declined %q but changed its input: %+v", body, got)
		}
		return false
	}
	var want BatchPutPropertyValuesInput
	if err := jsonv2.Unmarshal(body, &want); err != nil {
		t.Fatalf("DecodeUsual accepted %q, which encoding/json/v2 refuses: %v", body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q decoded\n%+v\nnot as encoding/json/v2 does\n%+v", body, got, want)
	}
	g, err1 := jsonv2.Marshal(&got)
	w, err2 := jsonv2.Marshal(&want)
	if err1 != nil || err2 != nil || string(g) != string(w) {
		t.Fatalf("%q: re-encoded %s, encoding/json/v2's value %s (%v, %v)", body, g, w, err1, err2)
	}
	return true
}

var usualBodies = []struct {
	body   string
	usual  bool // DecodeUsual takes it
	reason string
}{
	{string(batchPutBody()), true, "the SDK's full batch"},
	{`{}`, true, "no entries"},
	{` { "entries" : [ ] } `, true, "whitespace, empty list"},
	{`{"entries":[{}]}`, true, "an empty entry"},
	{`{"entries":[{"entityPropertyReference":{},"propertyValues":[]}]}`, true, "empty members"},
	{`{"entries":[{"propertyValues":[{"value":{}},{"time":"t"}]}]}`, true, "values without a member"},
	{`{"entries":[{"entityPropertyReference":{"componentPath":"a/b","entityId":"e","propertyName":"p","componentName":"c"},"propertyValues":[` +
		`{"value":{"stringValue":"x"},"time":"2026-01-01T00:00:00.5+01:00"},{"time":"t","value":{"booleanValue":true}},` +
		`{"time":"t","value":{"booleanValue":false}},{"time":"t","value":{"integerValue":-2147483648}},` +
		`{"time":"t","value":{"longValue":9223372036854775807}},{"time":"t","value":{"doubleValue":-0}},` +
		`{"time":"t","value":{"doubleValue":-0.0e-0}},{"time":"t","value":{"doubleValue":1.7976931348623157e308}},` +
		`{"time":"t","value":{"doubleValue":5e-324}},{"time":"t","value":{"doubleValue":1E+2}}]}]}`, true, "every scalar, members in any order"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":1e400}}]}]}`, false, "a double out of range"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":"NaN"}}]}]}`, false, "a double as a string"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"integerValue":2147483648}}]}]}`, false, "an integer out of range"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"integerValue":1.0}}]}]}`, false, "an integer with a fraction"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"longValue":1e3}}]}]}`, false, "a long with an exponent"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":01}}]}]}`, false, "a leading zero"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":.5}}]}]}`, false, "no integer part"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":1.}}]}]}`, false, "no fraction digits"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":+1}}]}]}`, false, "a plus sign"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":1,"stringValue":"x"}}]}]}`, false, "two members"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"listValue":[]}}]}]}`, false, "a list"},
	{`{"entries":[{"propertyValues":[{"time":null,"value":{"doubleValue":1}}]}]}`, false, "null"},
	{`{"entries":[{"propertyValues":[{"time":"t","timestamp":1,"value":{"doubleValue":1}}]}]}`, false, "the deprecated timestamp"},
	{`{"entries":[{"propertyValues":[{"time":"t","time":"u"}]}]}`, false, "a repeated member"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":1},"time":"u"}]}]}`, false, "a repeated member after the SDKs' form"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":1 } },{"time":"t","value":{"doubleValue":2}}]}]}`, true, "the SDKs' form with spaces"},
	{`{"entries":[{"propertyValues":[{"time":"t","value":{"doubleValue":-}}]}]}`, false, "a sign alone"},
	{`{"entries":[],"entries":[]}`, false, "a repeated top-level member"},
	{`{"entries":[{"entityPropertyReference":{"entityId":"\u0065"}}]}`, false, "an escape"},
	{`{"entries":[{"entityPropertyReference":{"entityId":"é"}}]}`, false, "non-ASCII"},
	{`{"entries":[{"entityPropertyReference":{"externalIdProperty":{"a":"b"}}}]}`, false, "external IDs"},
	{`{"entries":[{"other":1}]}`, false, "an unknown member"},
	{`{"entries":[{}],}`, false, "a trailing comma"},
	{`{"entries":[{}]} x`, false, "trailing bytes"},
	{`{"entries":[{"propertyValues":[{"value":{"booleanValue":tru}}]}]}`, false, "a broken literal"},
	{`{"entries":[{"propertyValues":[{"value":{"booleanValue":truex}}]}]}`, false, "a literal run on"},
	{`{"entries":[{"entityPropertyReference":{"entityId":"e`, false, "cut short"},
	{`[]`, false, "not an object"},
}

func TestDecodeUsual(t *testing.T) {
	for _, tc := range usualBodies {
		if got := checkUsual(t, []byte(tc.body)); got != tc.usual {
			t.Errorf("%s: DecodeUsual took it: %v, want %v", tc.reason, got, tc.usual)
		}
	}
}

// FuzzUsual checks DecodeUsual against encoding/json/v2 on any body.
func FuzzUsual(f *testing.F) {
	for _, tc := range usualBodies {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkUsual(t, body) })
}

// BenchmarkDecodeUsual decodes the body of BenchmarkDecodeBatchPut the way
// the API now does.
func BenchmarkDecodeUsual(b *testing.B) {
	body := batchPutBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var in BatchPutPropertyValuesInput
		if !in.DecodeUsual(body) {
			b.Fatal("declined")
		}
	}
}
