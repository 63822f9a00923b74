package smithygen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Generate returns the gofmt'ed Go source of package model for the Smithy
// JSON AST in data. source is the file name written into the header.
func Generate(data []byte, source string) ([]byte, error) {
	m, err := parseModel(data)
	if err != nil {
		return nil, err
	}
	g := &generator{
		m:     m,
		reach: map[string]*shape{},
		rules: map[string]*rule{},
		names: map[string]string{},
	}
	if err := g.prepare(); err != nil {
		return nil, err
	}
	g.emit(source)
	out, err := format.Source(g.buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format generated code: %w\n%s", err, numbered(g.buf.Bytes()))
	}
	return out, nil
}

// Shape kinds as the generator sees them.
const (
	kString = iota
	kEnum
	kBool
	kInt32
	kInt64
	kDouble
	kTimestamp
	kDocument
	kStruct
	kUnion
	kList
	kMap
)

// rule holds the length and pattern constraints of a string shape.
type rule struct {
	Var      string
	Min, Max int // -1 when absent
	Pattern  string
	RE2      string
}

type length struct {
	Min, Max int64
	HasMin   bool
	HasMax   bool
}

type numRange struct {
	Min, Max       float64
	HasMin, HasMax bool
}

type operation struct {
	Name       string
	Method     string
	Path       string
	HostPrefix string
	Input      *shape
	Output     *shape
	Errors     []string
	Doc        string
}

type generator struct {
	m      *smithyModel
	svc    *shape
	ops    []*operation
	reach  map[string]*shape
	rules  map[string]*rule // by string shape id
	names  map[string]string
	buf    bytes.Buffer
	signer string
}

// reserved names are declared by the hand-written files of package model.
var reserved = []string{
	"Input", "Operation", "Operations", "LookupOperation", "Timestamp", "NewTimestamp",
	"Double", "NewDouble", "ValidationError", "Violation", "String", "Bool", "Int32",
	"Int64", "Ptr", "Deref", "MaxViolations", "APIVersion", "SigningName",
}

func (g *generator) kind(s *shape) (int, error) {
	switch s.Type {
	case "string":
		if s.Traits.has("smithy.api#enum") {
			return kEnum, nil
		}
		return kString, nil
	case "enum":
		return kEnum, nil
	case "boolean":
		return kBool, nil
	case "integer":
		return kInt32, nil
	case "long":
		return kInt64, nil
	case "double":
		return kDouble, nil
	case "timestamp":
		return kTimestamp, nil
	case "document":
		return kDocument, nil
	case "structure":
		return kStruct, nil
	case "union":
		return kUnion, nil
	case "list", "set":
		return kList, nil
	case "map":
		return kMap, nil
	}
	return 0, fmt.Errorf("shape %s: type %q is not supported", s.ID, s.Type)
}

func (g *generator) mustKind(s *shape) int {
	k, err := g.kind(s)
	if err != nil {
		panic(err) // kinds are checked in prepare
	}
	return k
}

func (g *generator) target(m *member) *shape { return g.m.Shapes[m.Target] }

// prepare walks the operations, checks what the generator supports, and
// computes names, rules and which shapes need validation code.
func (g *generator) prepare() error {
	svc, err := g.m.service()
	if err != nil {
		return err
	}
	g.svc = svc
	if raw, ok := svc.Traits["aws.auth#sigv4"]; ok {
		var sv struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(raw, &sv) == nil {
			g.signer = sv.Name
		}
	}
	for _, r := range svc.Operations {
		op, err := g.operation(r.Target)
		if err != nil {
			return err
		}
		g.ops = append(g.ops, op)
	}
	sort.Slice(g.ops, func(i, j int) bool { return g.ops[i].Name < g.ops[j].Name })
	for _, n := range reserved {
		g.names[n] = "(hand-written)"
	}
	for _, s := range sortedByID(g.reach) {
		k, err := g.kind(s)
		if err != nil {
			return err
		}
		if err := g.checkShape(s, k); err != nil {
			return err
		}
		switch k {
		case kEnum, kStruct, kUnion:
			if s.GoName == "" {
				s.GoName = exported(s.Name)
			}
			if prev, dup := g.names[s.GoName]; dup {
				return fmt.Errorf("shape %s: Go name %s is already used by %s", s.ID, s.GoName, prev)
			}
			g.names[s.GoName] = s.ID
		default:
			s.GoName = exported(s.Name)
		}
		if k == kEnum {
			if err := g.enumValues(s); err != nil {
				return err
			}
			for _, ev := range s.enum {
				c := s.GoName + constName(ev.Name)
				if prev, dup := g.names[c]; dup {
					return fmt.Errorf("enum %s: constant %s is already used by %s", s.ID, c, prev)
				}
				g.names[c] = s.ID
			}
		}
		if k == kString || k == kEnum {
			r, err := g.stringRule(s)
			if err != nil {
				return err
			}
			if r != nil {
				g.rules[s.ID] = r
			}
		}
	}
	// Every pattern in the model must translate, reachable or not.
	for _, s := range sortedByID(g.m.Shapes) {
		if p, ok := s.Traits.str("smithy.api#pattern"); ok {
			if _, err := TranslatePattern(p); err != nil {
				return fmt.Errorf("shape %s: %w", s.ID, err)
			}
		}
		for _, m := range s.Members {
			if p, ok := m.Traits.str("smithy.api#pattern"); ok {
				if _, err := TranslatePattern(p); err != nil {
					return fmt.Errorf("member %s$%s: %w", s.ID, m.Name, err)
				}
			}
		}
	}
	g.computeNeeds()
	return nil
}

func sortedByID(set map[string]*shape) []*shape {
	out := make([]*shape, 0, len(set))
	for _, s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (g *generator) operation(id string) (*operation, error) {
	s, err := g.m.get(id)
	if err != nil {
		return nil, err
	}
	if s.Type != "operation" {
		return nil, fmt.Errorf("%s is a %s, not an operation", id, s.Type)
	}
	op := &operation{Name: s.Name, Doc: firstSentence(s.Traits)}
	var http struct {
		Method string `json:"method"`
		URI    string `json:"uri"`
		Code   int    `json:"code"`
	}
	raw, ok := s.Traits["smithy.api#http"]
	if !ok {
		return nil, fmt.Errorf("operation %s has no smithy.api#http trait", id)
	}
	if err := json.Unmarshal(raw, &http); err != nil {
		return nil, fmt.Errorf("operation %s: http trait: %w", id, err)
	}
	if http.Code != 0 && http.Code != 200 {
		return nil, fmt.Errorf("operation %s: success code %d is not supported (the server answers 200)", id, http.Code)
	}
	if strings.ContainsAny(http.URI, "?+") {
		return nil, fmt.Errorf("operation %s: URI %q: query literals and greedy labels are not supported", id, http.URI)
	}
	op.Method, op.Path = http.Method, http.URI
	if raw, ok := s.Traits["smithy.api#endpoint"]; ok {
		var ep struct {
			HostPrefix string `json:"hostPrefix"`
		}
		if err := json.Unmarshal(raw, &ep); err != nil {
			return nil, fmt.Errorf("operation %s: endpoint trait: %w", id, err)
		}
		if strings.Contains(ep.HostPrefix, "{") {
			return nil, fmt.Errorf("operation %s: host prefix labels are not supported", id)
		}
		op.HostPrefix = ep.HostPrefix
	}
	io := func(r *ref, suffix string) (*shape, error) {
		name := s.Name + suffix
		if r == nil || r.Target == unitID {
			u := &shape{ID: "(unit)#" + name, Name: name, Type: "structure", synthetic: true, GoName: name}
			g.reach[u.ID] = u
			return u, nil
		}
		t, err := g.m.get(r.Target)
		if err != nil {
			return nil, err
		}
		if t.Type != "structure" {
			return nil, fmt.Errorf("operation %s: %s is not a structure", id, r.Target)
		}
		if t.inputOf != "" || t.outputOf != "" {
			return nil, fmt.Errorf("operation %s: %s is already the input or output of another operation", id, r.Target)
		}
		t.GoName = name
		if err := g.visit(t.ID); err != nil {
			return nil, err
		}
		return t, nil
	}
	if op.Input, err = io(s.Input, "Input"); err != nil {
		return nil, err
	}
	op.Input.inputOf = op.Name
	if op.Output, err = io(s.Output, "Output"); err != nil {
		return nil, err
	}
	op.Output.outputOf = op.Name
	for _, e := range s.Errors {
		t, err := g.m.get(e.Target)
		if err != nil {
			return nil, err
		}
		t.isError = true
		op.Errors = append(op.Errors, t.Name)
		if err := g.visit(t.ID); err != nil {
			return nil, err
		}
	}
	if err := g.checkLabels(op); err != nil {
		return nil, err
	}
	return op, nil
}

func (g *generator) visit(id string) error {
	if id == unitID {
		return fmt.Errorf("smithy.api#Unit as a member target is not supported")
	}
	s, err := g.m.get(id)
	if err != nil {
		return err
	}
	if _, seen := g.reach[id]; seen {
		return nil
	}
	g.reach[id] = s
	if s.Type == "enum" || s.Type == "intEnum" {
		return nil // members are values, not shapes
	}
	for _, m := range s.Members {
		if err := g.visit(m.Target); err != nil {
			return fmt.Errorf("%s$%s: %w", id, m.Name, err)
		}
	}
	for _, m := range []*member{s.Member, s.Key, s.Value} {
		if m != nil {
			if err := g.visit(m.Target); err != nil {
				return fmt.Errorf("%s$%s: %w", id, m.Name, err)
			}
		}
	}
	return nil
}

// checkLabels makes sure the URI labels and the input's label members agree.
func (g *generator) checkLabels(op *operation) error {
	inURI := map[string]bool{}
	for _, seg := range strings.Split(op.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			inURI[seg[1:len(seg)-1]] = true
		} else if strings.ContainsAny(seg, "{}") {
			return fmt.Errorf("operation %s: label in %q must fill a whole segment", op.Name, seg)
		}
	}
	for _, m := range op.Input.Members {
		if !m.Traits.has("smithy.api#httpLabel") {
			continue
		}
		if !inURI[m.Name] {
			return fmt.Errorf("operation %s: label member %s is not in the URI", op.Name, m.Name)
		}
		if k := g.mustKindOrString(g.target(m)); k != kString {
			return fmt.Errorf("operation %s: label %s: only string labels are supported", op.Name, m.Name)
		}
		delete(inURI, m.Name)
	}
	for l := range inURI {
		return fmt.Errorf("operation %s: URI label {%s} has no input member", op.Name, l)
	}
	return nil
}

func (g *generator) mustKindOrString(s *shape) int {
	k, err := g.kind(s)
	if err != nil {
		return -1
	}
	return k
}

var unsupportedMemberTraits = []string{
	"smithy.api#httpPayload", "smithy.api#httpPrefixHeaders", "smithy.api#httpQueryParams",
	"smithy.api#httpResponseCode", "smithy.api#eventPayload", "smithy.api#eventHeader",
	"smithy.api#length", "smithy.api#pattern", "smithy.api#range", "smithy.api#uniqueItems",
	"smithy.api#timestampFormat", "smithy.api#sparse",
}

var unsupportedShapeTraits = []string{"smithy.api#streaming", "smithy.api#sparse", "smithy.api#timestampFormat"}

func (g *generator) checkShape(s *shape, k int) error {
	for _, t := range unsupportedShapeTraits {
		if s.Traits.has(t) {
			return fmt.Errorf("shape %s: trait %s is not supported", s.ID, t)
		}
	}
	if k == kEnum {
		return nil // members of an enum shape are its values
	}
	all := append([]*member{}, s.Members...)
	for _, m := range []*member{s.Member, s.Key, s.Value} {
		if m != nil {
			all = append(all, m)
		}
	}
	goNames := map[string]string{}
	for _, m := range all {
		for _, t := range unsupportedMemberTraits {
			if m.Traits.has(t) {
				return fmt.Errorf("member %s$%s: trait %s is not supported on members", s.ID, m.Name, t)
			}
		}
		t := g.target(m)
		tk, err := g.kind(t)
		if err != nil {
			return fmt.Errorf("member %s$%s: %w", s.ID, m.Name, err)
		}
		if k == kStruct || k == kUnion {
			m.GoName = exported(m.Name)
			if m.GoName == "" || !isIdent(m.GoName) {
				return fmt.Errorf("member %s$%s: cannot make a Go name", s.ID, m.Name)
			}
			if prev, dup := goNames[m.GoName]; dup {
				return fmt.Errorf("members %s and %s of %s both become %s", prev, m.Name, s.ID, m.GoName)
			}
			goNames[m.GoName] = m.Name
			m.WireName = m.Name
			if jn, ok := m.Traits.str("smithy.api#jsonName"); ok {
				m.WireName = jn
			}
			if q, ok := m.Traits.str("smithy.api#httpQuery"); ok {
				if s.inputOf == "" {
					return fmt.Errorf("member %s$%s: httpQuery outside an operation input", s.ID, m.Name)
				}
				switch tk {
				case kString, kEnum, kBool, kInt32, kInt64:
				case kList:
					if ek := g.mustKind(g.target(t.Member)); ek != kString && ek != kEnum {
						return fmt.Errorf("member %s$%s: query lists must hold strings", s.ID, m.Name)
					}
				default:
					return fmt.Errorf("member %s$%s: query parameter %s of this type is not supported", s.ID, m.Name, q)
				}
			}
			if m.Traits.has("smithy.api#httpLabel") && s.inputOf == "" {
				return fmt.Errorf("member %s$%s: httpLabel outside an operation input", s.ID, m.Name)
			}
			if k == kUnion && m.Traits.has("smithy.api#required") {
				return fmt.Errorf("member %s$%s: required union members make no sense", s.ID, m.Name)
			}
		}
	}
	if k == kMap {
		kt := g.target(s.Key)
		if kk := g.mustKind(kt); kk != kString {
			return fmt.Errorf("map %s: keys must be plain strings", s.ID)
		}
	}
	if k == kList && s.Traits.has("smithy.api#uniqueItems") || s.Type == "set" {
		switch g.mustKind(g.target(s.Member)) {
		case kString, kEnum, kBool, kInt32, kInt64, kDouble:
		default:
			return fmt.Errorf("list %s: uniqueItems is only supported for scalar members", s.ID)
		}
	}
	if _, ok := s.Traits["smithy.api#range"]; ok {
		if _, err := parseRange(s); err != nil {
			return err
		}
	}
	if _, ok := s.Traits["smithy.api#length"]; ok {
		if _, err := parseLength(s); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) enumValues(s *shape) error {
	if s.Type == "enum" {
		for _, m := range s.Members {
			v := m.Name
			if ev, ok := m.Traits.str("smithy.api#enumValue"); ok {
				v = ev
			}
			s.enum = append(s.enum, enumValue{Value: v, Name: m.Name, Doc: firstSentence(m.Traits)})
		}
		return nil
	}
	var defs []struct {
		Value         string `json:"value"`
		Name          string `json:"name"`
		Documentation string `json:"documentation"`
	}
	if err := json.Unmarshal(s.Traits["smithy.api#enum"], &defs); err != nil {
		return fmt.Errorf("shape %s: enum trait: %w", s.ID, err)
	}
	for _, d := range defs {
		name := d.Name
		if name == "" {
			name = d.Value
		}
		s.enum = append(s.enum, enumValue{Value: d.Value, Name: name, Doc: sentence(d.Documentation)})
	}
	if len(s.enum) == 0 {
		return fmt.Errorf("shape %s: enum without values", s.ID)
	}
	return nil
}

func parseLength(s *shape) (length, error) {
	raw, ok := s.Traits["smithy.api#length"]
	if !ok {
		return length{}, nil
	}
	var l struct {
		Min *int64 `json:"min"`
		Max *int64 `json:"max"`
	}
	if err := json.Unmarshal(raw, &l); err != nil {
		return length{}, fmt.Errorf("shape %s: length trait: %w", s.ID, err)
	}
	var out length
	if l.Min != nil {
		out.Min, out.HasMin = *l.Min, true
	}
	if l.Max != nil {
		out.Max, out.HasMax = *l.Max, true
	}
	return out, nil
}

func parseRange(s *shape) (numRange, error) {
	raw, ok := s.Traits["smithy.api#range"]
	if !ok {
		return numRange{}, nil
	}
	var r struct {
		Min *json.Number `json:"min"`
		Max *json.Number `json:"max"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return numRange{}, fmt.Errorf("shape %s: range trait: %w", s.ID, err)
	}
	var out numRange
	conv := func(n *json.Number) (float64, error) {
		f, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("shape %s: range %s: %w", s.ID, n, err)
		}
		if (s.Type == "integer" || s.Type == "long") && f != math.Trunc(f) {
			return 0, fmt.Errorf("shape %s: integer range bound %s is not an integer", s.ID, n)
		}
		return f, nil
	}
	var err error
	if r.Min != nil {
		if out.Min, err = conv(r.Min); err != nil {
			return out, err
		}
		out.HasMin = true
	}
	if r.Max != nil {
		if out.Max, err = conv(r.Max); err != nil {
			return out, err
		}
		out.HasMax = true
	}
	return out, nil
}

func (g *generator) stringRule(s *shape) (*rule, error) {
	l, err := parseLength(s)
	if err != nil {
		return nil, err
	}
	p, hasPattern := s.Traits.str("smithy.api#pattern")
	if p == ".*" {
		// Under find semantics ".*" matches every string (the empty match
		// at offset 0), so it constrains nothing.
		hasPattern = false
	}
	if !l.HasMin && !l.HasMax && !hasPattern {
		return nil, nil
	}
	r := &rule{Var: "rule" + exported(s.Name), Min: -1, Max: -1}
	if l.HasMin {
		r.Min = int(l.Min)
	}
	if l.HasMax {
		r.Max = int(l.Max)
	}
	if hasPattern {
		re2, err := TranslatePattern(p)
		if err != nil {
			return nil, fmt.Errorf("shape %s: %w", s.ID, err)
		}
		r.Pattern, r.RE2 = p, re2
	}
	return r, nil
}

// ownConstraints reports whether s itself carries something to check.
func (g *generator) ownConstraints(s *shape) bool {
	switch g.mustKind(s) {
	case kString:
		return g.rules[s.ID] != nil
	case kEnum:
		return true
	case kInt32, kInt64, kDouble:
		return s.Traits.has("smithy.api#range")
	case kList:
		return s.Traits.has("smithy.api#length") || s.Traits.has("smithy.api#uniqueItems") || s.Type == "set"
	case kMap:
		return s.Traits.has("smithy.api#length") || g.rules[s.Key.Target] != nil
	case kUnion:
		return true
	case kStruct:
		for _, m := range s.Members {
			if m.Traits.has("smithy.api#required") || m.Traits.has("smithy.api#httpLabel") {
				return true
			}
		}
	}
	return false
}

// computeNeeds finds, as a fixed point, every shape whose validation has
// something to check (itself or anything it contains).
func (g *generator) computeNeeds() {
	shapes := sortedByID(g.reach)
	for _, s := range shapes {
		s.needs = g.ownConstraints(s)
	}
	for changed := true; changed; {
		changed = false
		for _, s := range shapes {
			if s.needs {
				continue
			}
			var kids []*member
			kids = append(kids, s.Members...)
			if s.Member != nil {
				kids = append(kids, s.Member)
			}
			if s.Value != nil {
				kids = append(kids, s.Value)
			}
			for _, m := range kids {
				if g.target(m).needs {
					s.needs, changed = true, true
					break
				}
			}
		}
	}
}

// exported upper-cases the first letter of a Smithy name: entityId →
// EntityId, resourceARN → ResourceARN, s3Location → S3Location.
func exported(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return ""
	}
	return string(unicode.ToUpper(r)) + name[n:]
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return s != ""
}

// constName makes the suffix of an enum constant: RESET_VALUE → ResetValue,
// TIER_1 → Tier1, iotsitewise → Iotsitewise.
func constName(v string) string {
	var b strings.Builder
	upperNext := true
	for _, r := range v {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if upperNext {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			upperNext = false
		default:
			upperNext = true
		}
	}
	return b.String()
}

func numbered(src []byte) string {
	var b strings.Builder
	for i, l := range strings.Split(string(src), "\n") {
		fmt.Fprintf(&b, "%5d %s\n", i+1, l)
	}
	return b.String()
}

func goFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
