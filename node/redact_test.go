package node

import (
	"encoding/json"
	"encoding/json/jsontext"
	"reflect"
	"strings"
	"testing"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/audit"
	"github.com/twinvault/twinvault/model"
)

// tree is the redaction done on a decoded document: what the streaming
// copy must equal.
func tree(v any, data bool) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch {
			case hiddenMember(k, data):
				v[k] = audit.Hidden
			case member(urlMember, k):
				if s, ok := x.(string); ok {
					v[k] = bareURL(s)
				} else {
					v[k] = tree(x, data)
				}
			default:
				v[k] = tree(x, data)
			}
		}
	case []any:
		for i := range v {
			v[i] = tree(v[i], data)
		}
	}
	return v
}

func decode(t testing.TB, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

func TestRedacted(t *testing.T) {
	for _, c := range []struct {
		in   string
		data bool
		want string
	}{
		{`{"name":"n","secretAccessKey":"S","nested":[{"SessionToken":{"x":1}},{"password":["p"]}]}`, false,
			`{"name":"n","secretAccessKey":"HIDDEN_DUE_TO_SECURITY_REASONS","nested":[{"SessionToken":"HIDDEN_DUE_TO_SECURITY_REASONS"},{"password":"HIDDEN_DUE_TO_SECURITY_REASONS"}]}`},
		{`{"ſecretString":"s","Kelvin":"k"}`, false, `{"ſecretString":"HIDDEN_DUE_TO_SECURITY_REASONS","Kelvin":"k"}`},
		{`{"endpoint":"https://u:p@h.example/x?token=t#f","url":{"endpoint":"http://a/b?c"},"contentLocation":7}`, false,
			`{"endpoint":"https://h.example/x","url":{"endpoint":"http://a/b"},"contentLocation":7}`},
		{`{"entries":[{"entityPropertyReference":{"entityId":"e"},"propertyValues":[{"value":{"doubleValue":1}}]}],"Value":2}`, true,
			`{"entries":[{"entityPropertyReference":{"entityId":"e"},"propertyValues":"HIDDEN_DUE_TO_SECURITY_REASONS"}],"Value":"HIDDEN_DUE_TO_SECURITY_REASONS"}`},
		{`{"propertyValues":[1],"value":true}`, false, `{"propertyValues":[1],"value":true}`},
		{`[1,"<a>",null,{"a":[[]]},-0.5e3]`, false, `[1,"<a>",null,{"a":[[]]},-0.5e3]`},
		{`"text"`, false, `"text"`},
	} {
		got := redacted(json.RawMessage(c.in), c.data)
		if string(got) != c.want {
			t.Errorf("redacted(%s, %v)\n got  %s\n want %s", c.in, c.data, got, c.want)
		}
		if want := tree(decode(t, []byte(c.in)), c.data); !reflect.DeepEqual(decode(t, got), want) {
			t.Errorf("redacted(%s) differs from the tree's %v", c.in, want)
		}
	}
	// Values that are not JSON text are encoded first.
	if got := redacted(map[string]any{"password": "p", "n": 1}, false); string(got) != `{"n":1,"password":"HIDDEN_DUE_TO_SECURITY_REASONS"}` {
		t.Errorf("map: %s", got)
	}
	for _, bad := range []string{`{"a":`, `{"a" 1}`, `nul`} {
		if got := redacted(json.RawMessage(bad), false); string(got) != "null" {
			t.Errorf("redacted(%s) = %s, want null", bad, got)
		}
	}
}

func TestRedactedParams(t *testing.T) {
	for _, c := range []struct {
		body  string
		extra map[string]string
		data  bool
		want  string
	}{
		{`{"description":"d","workspaceId":"from-body","tags":{"a":"b"}}`, map[string]string{"workspaceId": "ws", "maxResults": "5"}, false,
			`{"description":"d","tags":{"a":"b"},"maxResults":"5","workspaceId":"ws"}`},
		{``, map[string]string{"workspaceId": "ws"}, false, `{"workspaceId":"ws"}`},
		{`null`, nil, false, `{}`},
		{`{"entries":[{"propertyValues":[{"time":"t","value":{"stringValue":"secret data"}}]}]}`, map[string]string{"workspaceId": "ws"}, true,
			`{"entries":[{"propertyValues":"HIDDEN_DUE_TO_SECURITY_REASONS"}],"workspaceId":"ws"}`},
		{`{}`, map[string]string{"password": "p", "endpoint": "https://u:p@h/x?q", "bad": "\xff"}, false,
			`{"bad":"` + "\uFFFD" + `","endpoint":"https://h/x","password":"HIDDEN_DUE_TO_SECURITY_REASONS"}`},
	} {
		got := redacted(&api.RequestParams{Body: []byte(c.body), Extra: c.extra}, c.data)
		if string(got) != c.want {
			t.Errorf("redacted(%s, %v)\n got  %s\n want %s", c.body, c.extra, got, c.want)
		}
	}
}

// FuzzRedacted: any JSON document is copied as the tree redaction would
// leave it, and any other input yields null.
func FuzzRedacted(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"password":"p","x":[{"secretAccessKey":{}}]}`, `{"endpoint":"https://u:p@h/?q"}`,
		`{"propertyValues":[{"value":1}]}`, `[{"ſessionToken":"t"}]`, `{"a":"\u2028<>&"}`, `{"a":`, `"s"`, `1e400`} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, data bool) {
		got := redacted(json.RawMessage(in), data)
		var v any
		if json.Unmarshal([]byte(in), &v) != nil || strings.Contains(in, `\ud8`) || strings.Contains(in, `\udc`) {
			// Not JSON (or holding lone surrogates the decoders read
			// differently): nothing more to compare.
			if !json.Valid(got) {
				t.Fatalf("redacted(%q) = %q: not JSON", in, got)
			}
			return
		}
		if string(got) == "null" && in != "null" && strings.TrimSpace(in) != "null" {
			return // the tokenizer's stricter limits (depth, duplicates in strict mode)
		}
		if want := tree(v, data); !reflect.DeepEqual(decode(t, got), want) {
			t.Fatalf("redacted(%q) = %s, the tree gives %v", in, got, want)
		}
	})
}

// TestScrubFailsSafe: when masking a finding breaks the event's JSON (the
// value also appears inside a number), the fields a finding can be in are
// hidden whole instead of kept.
func TestScrubFailsSafe(t *testing.T) {
	e := &audit.Event{EventName: "CreateEntity", ErrorMessage: "entity 12345 refused",
		RequestParameters: json.RawMessage(`{"n":12345,"s":"x12345"}`), ResponseElements: json.RawMessage(`null`),
		Resources: []audit.Resource{{ARN: "arn:aws:iottwinmaker:us-east-1:1:workspace/12345"}}}
	out := scrub(e, []string{"12345"})
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "12345") {
		t.Errorf("a finding is still in the event: %s", raw)
	}
	if out.EventName != "CreateEntity" || e.Resources[0].ARN == audit.Hidden {
		t.Errorf("scrub changed what it must keep: %+v / %+v", out, e)
	}
	// When masking keeps the JSON whole, only the finding goes.
	e.RequestParameters = json.RawMessage(`{"s":"x12345y"}`)
	out = scrub(e, []string{"12345"})
	if string(out.RequestParameters) != `{"s":"xHIDDENy"}` || out.ErrorMessage != "entity HIDDEN refused" {
		t.Errorf("got %s / %q", out.RequestParameters, out.ErrorMessage)
	}
}

// FuzzRedactPlain holds redactPlain to the token-level copy: whatever it
// takes, it writes the same bytes.
func FuzzRedactPlain(f *testing.F) {
	for _, s := range []string{`{"a":1}`, ` { "a" : [ 1 , -2.5e+3 , true , null , { } , [ ] ] } `, `{"password":"p","x":[{"secretAccessKey":{}}]}`,
		`{"endpoint":"https://u:p@h/?q"}`, `{"workspaceId":"w","a":"b"}`, `{"a":1,"a":2}`, `{"a":{"b":"\u0041"}}`, `{"a":1} x`, `{"a":01}`,
		`{"entries":[{"entityPropertyReference":{"entityId":"e"},"propertyValues":[{"time":"t","value":{"doubleValue":1}}]}]}`,
		`{"propertyValues":[{"value":{"doubleValue":1}]}`, `{}`, ``, ` `, `[1]`, `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`} {
		f.Add(s, false, "workspaceId", "w")
		f.Add(s, true, "endpoint", "https://a:b@h/x?y")
	}
	f.Fuzz(func(t *testing.T, body string, data bool, k, v string) {
		// A valid body is copied both as one known valid (passing over
		// what it hides unread) and as one to check.
		for _, valid := range []bool{false, jsontext.Value(body).IsValid()} {
			p := &api.RequestParams{Body: []byte(body), Extra: map[string]string{k: v}, Valid: valid}
			got, ok := redactPlain(p, data)
			if !ok {
				continue
			}
			if want := redactTokens(p, data); string(got) != string(want) {
				t.Fatalf("redactPlain(%q, %v, %q=%q, valid %v) = %s\nthe token-level copy writes %s", body, data, k, v, valid, got, want)
			}
		}
	})
}

func TestRedactPlainTakesBatchPut(t *testing.T) {
	for _, valid := range []bool{false, true} {
		p := &api.RequestParams{Body: []byte(`{"entries":[{"entityPropertyReference":{"entityId":"e"},"propertyValues":[{"time":"t","value":{"doubleValue":1}}]}]}`),
			Extra: map[string]string{"workspaceId": "w"}, Valid: valid}
		got, ok := redactPlain(p, true)
		want := `{"entries":[{"entityPropertyReference":{"entityId":"e"},"propertyValues":"` + audit.Hidden + `"}],"workspaceId":"w"}`
		if !ok || string(got) != want {
			t.Errorf("redactPlain (valid %v) = %s, %v; want %s", valid, got, ok, want)
		}
	}
}

// TestRedactSkip: a hidden value of a valid body is passed over to its
// end, whatever it is, and the members after it are still copied.
func TestRedactSkip(t *testing.T) {
	for _, hidden := range []string{`1`, `-2.5e+3`, `true`, `null`, `"s"`, `"a\\\"]}"`, `"ü"`, `{}`, `[]`, `[1,[2,{"a":"]"}],3]`,
		` { "x" : [ 1 , "}" ] } `,
		strings.Repeat("[", 70) + "1" + strings.Repeat("]", 70)} {
		for _, body := range []string{`{"password":` + hidden + `,"a":1}`, `{"a":[{"password":` + hidden + `}],"b":2}`, `{"b":2,"password":` + hidden + `}`} {
			p := &api.RequestParams{Body: []byte(body), Valid: true}
			got, ok := redactPlain(p, false)
			want := redactTokens(p, false)
			if !ok || string(got) != string(want) || strings.Contains(string(got), "password\":"+hidden) {
				t.Errorf("redactPlain(%s) = %s, %v; want %s", body, got, ok, want)
			}
		}
	}
}

// usualBatchPuts are BatchPut bodies in their usual form, members in the
// SDKs' order.
var usualBatchPuts = []string{
	`{"entries":[{"entityPropertyReference":{"componentName":"c","entityId":"e","propertyName":"p"},"propertyValues":[{"time":"2026-01-01T00:00:00Z","value":{"doubleValue":1}}]}]}`,
	`{"entries":[{"entityPropertyReference":{"componentName":"c","componentPath":"c/d","entityId":"e","propertyName":"p"},"propertyValues":[]},{"entityPropertyReference":{}},{"propertyValues":[{"time":"t","value":{"stringValue":"<&>"}}]},{}]}`,
	`{"entries":[]}`, `{}`,
}

// TestRedactBatchPut: a BatchPut in its usual form is written from its
// decoded input, in the bytes its body gives; a query parameter named
// after a member leaves it to the body's copy.
func TestRedactBatchPut(t *testing.T) {
	for _, body := range usualBatchPuts {
		var in model.BatchPutPropertyValuesInput
		if !in.DecodeUsual([]byte(body)) {
			t.Fatalf("DecodeUsual declined %s", body)
		}
		p := &api.RequestParams{Body: []byte(body), Extra: map[string]string{"workspaceId": "w"}, Valid: true, Usual: &in}
		if _, ok := redactBatchPut(&in, p); !ok {
			t.Errorf("redactBatchPut declined %s", body)
		}
		got := redacted(p, true)
		want, ok := redactPlain(p, true)
		if !ok || string(got) != string(want) {
			t.Errorf("redacted(%s) = %s; want %s", body, got, want)
		}
		p.Extra["entries"] = "x"
		if _, ok := redactBatchPut(&in, p); ok {
			t.Errorf("redactBatchPut took %s with a query parameter named entries", body)
		}
	}
	for _, out := range []*model.BatchPutPropertyValuesOutput{{ErrorEntries: []model.BatchPutPropertyErrorEntry{}}, {},
		{ErrorEntries: []model.BatchPutPropertyErrorEntry{{Errors: []model.BatchPutPropertyError{{ErrorCode: model.String("c"), ErrorMessage: model.String("m"),
			Entry: &model.PropertyValueEntry{PropertyValues: []model.PropertyValue{{Time: model.String("t")}}}}}}}}} {
		if got, want := redacted(out, false), redactTokens(out, false); string(got) != string(want) {
			t.Errorf("redacted(%+v) = %s; want %s", out, got, want)
		}
	}
}

// FuzzRedactBatchPut holds redactBatchPut to the token-level copy of the
// body: whatever body DecodeUsual takes, the two give the same document
// (members may come in another order).
func FuzzRedactBatchPut(f *testing.F) {
	for _, s := range usualBatchPuts {
		f.Add(s, "workspaceId", "w")
	}
	f.Add(`{"entries":[{"propertyValues":[],"entityPropertyReference":{"propertyName":"p","entityId":"e"}}]}`, "entries", "x")
	f.Add(`{"entries":[{"entityPropertyReference":{"entityId":"e"}}]}`, "password", "p")
	f.Fuzz(func(t *testing.T, body, k, v string) {
		var in model.BatchPutPropertyValuesInput
		if !in.DecodeUsual([]byte(body)) {
			return
		}
		p := &api.RequestParams{Body: []byte(body), Extra: map[string]string{k: v}, Valid: true, Usual: &in}
		got, ok := redactBatchPut(&in, p)
		if !ok {
			return
		}
		want := redactTokens(p, true)
		if !reflect.DeepEqual(decode(t, got), decode(t, want)) {
			t.Fatalf("redactBatchPut(%q, %q=%q) = %s\nthe token-level copy writes %s", body, k, v, got, want)
		}
	})
}
