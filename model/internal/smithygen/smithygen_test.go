package smithygen

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestTranslatePattern(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		match    []string
		noMatch  []string
	}{
		{`^[^\u0000-\u001F\u007F]+$`, `^[^\x{0000}-\x{001F}\x{007F}]+$`, []string{"a b", "ü"}, []string{"a\x00", "\x1f", "\x7f", ""}},
		{`\u{1F600}`, `\x{1F600}`, []string{"😀"}, []string{"x"}},
		{`^\$ROOT|^[a-z]+$`, `^\$ROOT|^[a-z]+$`, []string{"$ROOT", "$ROOTS", "abc"}, []string{"ROOT", "a1"}},
		{`^[\/a-z_-]+$`, `^[\/a-z_-]+$`, []string{"a/b-c_"}, []string{"a.b"}},
		{`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, []string{"Ключ 1", ""}, []string{"a#"}},
		{`^a.b$`, `^a` + ecmaDot + `b$`, []string{"a-b", "a\x00b"}, []string{"a\nb", "a\rb", "a\u2028b"}},
		{`^[.]$`, `^[.]$`, []string{"."}, []string{"x"}},
		{`^[\s\S]+$`, `^[` + ecmaSpace + `\S]+$`, []string{"x\ny", " \u00a0"}, []string{""}},
		{`^\s$`, `^[` + ecmaSpace + `]$`, []string{" ", "\u3000", "\ufeff"}, []string{"x"}},
		{`^\S$`, `^[^` + ecmaSpace + `]$`, []string{"x"}, []string{"\u00a0"}},
		{`^\x41$`, `^\x{41}$`, []string{"A"}, nil},
		{`(?:ab)+`, `(?:ab)+`, []string{"abab"}, []string{"ba"}},
		{`[a[]`, `[a\[]`, []string{"["}, []string{"b"}},
		{`^\$\{Parameters\.[a-zA-z]+([a-zA-z_0-9]*)}$`, `^\$\{Parameters\.[a-zA-z]+([a-zA-z_0-9]*)}$`, []string{"${Parameters.tableName}"}, []string{"${Parameters.1}"}},
	} {
		got, err := TranslatePattern(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %s want %s", tc.in, got, tc.want)
		}
		re := regexp.MustCompile(got)
		for _, s := range tc.match {
			if !re.MatchString(s) {
				t.Errorf("%s should match %q", tc.in, s)
			}
		}
		for _, s := range tc.noMatch {
			if re.MatchString(s) {
				t.Errorf("%s should not match %q", tc.in, s)
			}
		}
	}
	for _, bad := range []string{
		`(?=a)`, `(?!a)`, `(?<=a)b`, `(?<!a)b`, `(a)\1`, `\k<x>`, `\u12`, `\uZZZZ`, `\cA`, `\q`, `\z`, `[]`, `[^]`,
		`[a-`, `a\`, `a**`, `(`, `\p`, `\x4`, `\012`,
	} {
		if got, err := TranslatePattern(bad); err == nil {
			t.Errorf("%s: translated to %s, want an error", bad, got)
		}
	}
}

// TestEveryModelPatternTranslates checks the real model, when it is here.
func TestEveryModelPatternTranslates(t *testing.T) {
	data, err := os.ReadFile("../../../../shared/reference/iottwinmaker.smithy.json")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	m, err := parseModel(data)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range m.Shapes {
		if p, ok := s.Traits.str("smithy.api#pattern"); ok {
			n++
			if _, err := TranslatePattern(p); err != nil {
				t.Errorf("%s: %v", s.ID, err)
			}
		}
	}
	if n != 34 {
		t.Errorf("%d patterns, want 34", n)
	}
}

// mini builds a one-operation model around extra shapes.
func mini(t *testing.T, input map[string]any, extra map[string]any) []byte {
	t.Helper()
	shapes := map[string]any{
		"ex#Svc": map[string]any{"type": "service", "version": "1", "operations": []any{map[string]any{"target": "ex#Op"}}},
		"ex#Op": map[string]any{"type": "operation",
			"input":  map[string]any{"target": "ex#OpRequest"},
			"output": map[string]any{"target": "smithy.api#Unit"},
			"traits": map[string]any{"smithy.api#http": map[string]any{"method": "POST", "uri": "/x/{id}", "code": 200}},
		},
		"ex#OpRequest": map[string]any{"type": "structure", "members": input},
		"ex#Id":        map[string]any{"type": "string", "traits": map[string]any{"smithy.api#length": map[string]any{"min": 1}}},
	}
	for k, v := range extra {
		shapes[k] = v
	}
	b, err := json.Marshal(map[string]any{"smithy": "2.0", "shapes": shapes})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var idLabel = map[string]any{"target": "ex#Id", "traits": map[string]any{"smithy.api#httpLabel": map[string]any{}, "smithy.api#required": map[string]any{}}}

func TestGenerateSmallModel(t *testing.T) {
	src, err := Generate(mini(t, map[string]any{
		"id":    idLabel,
		"color": map[string]any{"target": "ex#Color", "traits": map[string]any{"smithy.api#jsonName": "Colour"}},
		"when":  map[string]any{"target": "smithy.api#Timestamp"},
		"n":     map[string]any{"target": "ex#Small", "traits": map[string]any{"smithy.api#httpQuery": "n"}},
	}, map[string]any{
		"ex#Color": map[string]any{"type": "enum", "members": map[string]any{
			"DARK_RED": map[string]any{"target": "smithy.api#Unit", "traits": map[string]any{"smithy.api#enumValue": "dark-red"}},
		}},
		"ex#Small": map[string]any{"type": "long", "traits": map[string]any{"smithy.api#range": map[string]any{"min": -5, "max": 5}}},
	}), "mini.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"type OpInput struct", "type OpOutput struct{}", "Id string `json:\"-\"`",
		"Color Color `json:\"Colour,omitempty\"`", "When *Timestamp `json:\"when,omitempty\"`",
		`ColorDarkRed Color = "dark-red"`, "s.N = v.queryInt64(\"n\", vs[0])",
		`"Member must have value less than or equal to 5"`, `"Member must have value greater than or equal to -5"`,
		"Path:       \"/x/{id}\"",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated code lacks %q:\n%s", want, src)
		}
	}
}

func TestGenerateRefusesWhatItCannotDo(t *testing.T) {
	for name, tc := range map[string]struct {
		input map[string]any
		extra map[string]any
		want  string
	}{
		"bad pattern": {map[string]any{"id": idLabel, "p": map[string]any{"target": "ex#P"}},
			map[string]any{"ex#P": map[string]any{"type": "string", "traits": map[string]any{"smithy.api#pattern": `(?=x)`}}}, "look"},
		"unreachable bad pattern": {map[string]any{"id": idLabel},
			map[string]any{"ex#P": map[string]any{"type": "string", "traits": map[string]any{"smithy.api#pattern": `\1`}}}, "back references"},
		"payload":              {map[string]any{"id": idLabel, "b": map[string]any{"target": "smithy.api#String", "traits": map[string]any{"smithy.api#httpPayload": map[string]any{}}}}, nil, "httpPayload"},
		"blob":                 {map[string]any{"id": idLabel, "b": map[string]any{"target": "ex#B"}}, map[string]any{"ex#B": map[string]any{"type": "blob"}}, "not supported"},
		"missing label member": {map[string]any{}, nil, "no input member"},
		"label not in uri":     {map[string]any{"id": idLabel, "other": idLabel}, nil, "not in the URI"},
		"member constraint":    {map[string]any{"id": idLabel, "s": map[string]any{"target": "smithy.api#String", "traits": map[string]any{"smithy.api#length": map[string]any{"max": 3}}}}, nil, "on members"},
		"name clash": {map[string]any{"id": idLabel, "x": map[string]any{"target": "ex#Timestamp"}},
			map[string]any{"ex#Timestamp": map[string]any{"type": "structure", "members": map[string]any{}}}, "already used"},
		"field clash": {map[string]any{"id": idLabel, "abc": map[string]any{"target": "smithy.api#String"}, "Abc": map[string]any{"target": "smithy.api#String"}}, nil, "both become"},
	} {
		_, err := Generate(mini(t, tc.input, tc.extra), "mini.json")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{"entityId": "EntityId", "resourceARN": "ResourceARN", "s3Location": "S3Location", "type": "Type"} {
		if got := exported(in); got != want {
			t.Errorf("exported(%s) = %s", in, got)
		}
	}
	for in, want := range map[string]string{"RESET_VALUE": "ResetValue", "TIER_1": "Tier1", "iotsitewise": "Iotsitewise", "dark-red": "DarkRed", "s3": "S3"} {
		if got := constName(in); got != want {
			t.Errorf("constName(%s) = %s", in, got)
		}
	}
	if got := sentence("<p>The ID of the <a href=\"x\">entity</a> &amp; more.</p> <p>Second.</p>"); got != "The ID of the entity & more." {
		t.Errorf("sentence: %q", got)
	}
}
