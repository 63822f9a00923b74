// Package smithygen turns a Smithy JSON AST of a restJson1 service into the Go
// source of package model: shapes, validation, HTTP binding and the
// operation table.
package smithygen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// traits maps a trait id (e.g. "smithy.api#required") to its JSON value.
type traits map[string]json.RawMessage

func (t traits) has(id string) bool { _, ok := t[id]; return ok }

// str returns a trait whose value is a JSON string.
func (t traits) str(id string) (string, bool) {
	raw, ok := t[id]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

type ref struct {
	Target string `json:"target"`
}

// member is one member of a structure or union, or the member/key/value of
// a list or map.
type member struct {
	Name   string
	Target string
	Traits traits

	// Filled in by the generator.
	GoName   string
	WireName string
}

// orderedMembers keeps the members of a shape in the order of the file.
type orderedMembers []*member

func (o *orderedMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("members: expected an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var m struct {
			Target string `json:"target"`
			Traits traits `json:"traits"`
		}
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		*o = append(*o, &member{Name: name, Target: m.Target, Traits: m.Traits})
	}
	_, err = dec.Token()
	return err
}

type shape struct {
	ID   string `json:"-"`
	Name string `json:"-"`

	Type       string         `json:"type"`
	Members    orderedMembers `json:"members"`
	Member     *member        `json:"-"`
	Key        *member        `json:"-"`
	Value      *member        `json:"-"`
	RawMember  *rawMember     `json:"member"`
	RawKey     *rawMember     `json:"key"`
	RawValue   *rawMember     `json:"value"`
	Traits     traits         `json:"traits"`
	Input      *ref           `json:"input"`
	Output     *ref           `json:"output"`
	Errors     []ref          `json:"errors"`
	Operations []ref          `json:"operations"`
	Resources  []ref          `json:"resources"`
	Version    string         `json:"version"`

	// Filled in by the generator.
	GoName    string
	enum      []enumValue
	needs     bool   // validation has something to check
	inputOf   string // operation name when this is an operation input
	outputOf  string // operation name when this is an operation output
	isError   bool
	synthetic bool
}

type rawMember struct {
	Target string `json:"target"`
	Traits traits `json:"traits"`
}

type enumValue struct {
	Value string
	Name  string // constant suffix source
	Doc   string
}

type smithyModel struct {
	Smithy string            `json:"smithy"`
	Shapes map[string]*shape `json:"shapes"`
}

// prelude shapes the model may target without defining them.
var prelude = map[string]string{
	"smithy.api#String":           "string",
	"smithy.api#Boolean":          "boolean",
	"smithy.api#PrimitiveBoolean": "boolean",
	"smithy.api#Integer":          "integer",
	"smithy.api#PrimitiveInteger": "integer",
	"smithy.api#Long":             "long",
	"smithy.api#PrimitiveLong":    "long",
	"smithy.api#Double":           "double",
	"smithy.api#PrimitiveDouble":  "double",
	"smithy.api#Timestamp":        "timestamp",
	"smithy.api#Document":         "document",
}

const unitID = "smithy.api#Unit"

func parseModel(data []byte) (*smithyModel, error) {
	var m smithyModel
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse Smithy JSON AST: %w", err)
	}
	if !strings.HasPrefix(m.Smithy, "1.") && !strings.HasPrefix(m.Smithy, "2.") {
		return nil, fmt.Errorf("unsupported Smithy AST version %q", m.Smithy)
	}
	for id, s := range m.Shapes {
		s.ID = id
		i := strings.IndexByte(id, '#')
		if i < 0 {
			return nil, fmt.Errorf("shape id %q has no namespace", id)
		}
		s.Name = id[i+1:]
		conv := func(r *rawMember, name string) *member {
			if r == nil {
				return nil
			}
			return &member{Name: name, Target: r.Target, Traits: r.Traits}
		}
		s.Member = conv(s.RawMember, "member")
		s.Key = conv(s.RawKey, "key")
		s.Value = conv(s.RawValue, "value")
	}
	for id, typ := range prelude {
		if _, ok := m.Shapes[id]; !ok {
			m.Shapes[id] = &shape{ID: id, Name: id[strings.IndexByte(id, '#')+1:], Type: typ, synthetic: true}
		}
	}
	return &m, nil
}

func (m *smithyModel) service() (*shape, error) {
	var svcs []*shape
	for _, s := range m.Shapes {
		if s.Type == "service" {
			svcs = append(svcs, s)
		}
	}
	if len(svcs) != 1 {
		return nil, fmt.Errorf("want exactly one service shape, found %d", len(svcs))
	}
	if len(svcs[0].Resources) > 0 {
		return nil, fmt.Errorf("service %s: resources are not supported", svcs[0].ID)
	}
	return svcs[0], nil
}

func (m *smithyModel) get(id string) (*shape, error) {
	s, ok := m.Shapes[id]
	if !ok {
		return nil, fmt.Errorf("shape %s is not defined", id)
	}
	return s, nil
}

// sortedShapes returns shapes in a stable order (by Go name).
func sortedShapes(set map[string]*shape) []*shape {
	out := make([]*shape, 0, len(set))
	for _, s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GoName < out[j].GoName })
	return out
}
