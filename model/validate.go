package model

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxViolations caps the violations one Validate call collects.
const MaxViolations = 10

// stringRule is the length and pattern constraints of a string shape.
type stringRule struct {
	minLen, maxLen int    // in code points; -1 when the model sets none
	pattern        string // as written in the model (shown in messages)
	re             *regexp.Regexp

	// matched remembers what re said of recent short strings: the same
	// IDs and names come back on every call (a full BatchPut checks thirty
	// against three patterns), and a regular expression costs more to run
	// than a map to look up.
	mu      sync.Mutex
	matched map[string]bool
}

// Bounds of stringRule.matched: strings longer than memoLen are matched
// anew each time; the map starts over when it holds memoStrings.
const (
	memoLen     = 256
	memoStrings = 4096
)

// match reports whether s matches r.re.
func (r *stringRule) match(s string) bool {
	if len(s) > memoLen {
		return r.re.MatchString(s)
	}
	r.mu.Lock()
	ok, seen := r.matched[s]
	r.mu.Unlock()
	if seen {
		return ok
	}
	ok = r.re.MatchString(s)
	r.mu.Lock()
	if r.matched == nil || len(r.matched) >= memoStrings {
		r.matched = make(map[string]bool)
	}
	r.matched[strings.Clone(s)] = ok
	r.mu.Unlock()
	return ok
}

// failures appends to dst the constraints s breaks.
func (r *stringRule) failures(s string, dst []string) []string {
	if r.minLen >= 0 || r.maxLen >= 0 {
		n := utf8.RuneCountInString(s)
		if r.minLen >= 0 && n < r.minLen {
			dst = append(dst, "Member must have length greater than or equal to "+strconv.Itoa(r.minLen))
		}
		if r.maxLen >= 0 && n > r.maxLen {
			dst = append(dst, "Member must have length less than or equal to "+strconv.Itoa(r.maxLen))
		}
	}
	if r.re != nil && !r.match(s) {
		dst = append(dst, "Member must satisfy regular expression pattern: "+r.pattern)
	}
	return dst
}

type segKind uint8

const (
	segHere   segKind = iota // no segment: the current path itself
	segMember                // .name
	segIndex                 // [index]
	segKey                   // .key or ["key"]
)

// seg is one step of a field path. Validation keeps the steps from the root
// to the value being checked on a stack in the validator, and only renders
// a path when a violation is recorded, so a valid request costs no
// allocations for paths.
type seg struct {
	name  string
	index int
	kind  segKind
}

// here names the value being validated itself.
var here = seg{}

func mem(name string) seg { return seg{name: name, kind: segMember} }
func idx(i int) seg       { return seg{index: i, kind: segIndex} }
func mkey(k string) seg   { return seg{name: k, kind: segKey} }

func (s seg) write(b *strings.Builder) {
	switch s.kind {
	case segMember:
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
	case segIndex:
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(s.index))
		b.WriteByte(']')
	case segKey:
		writeKey(b, s.name)
	}
}

// renderPath writes stack followed by last.
func renderPath(stack []seg, last seg) string {
	var b strings.Builder
	for _, s := range stack {
		s.write(&b)
	}
	last.write(&b)
	return b.String()
}

const (
	maxPlainKey  = 128 // bytes
	maxQuotedKey = 64  // code points
)

// writeKey writes a map key segment: ".key" for a plain key, else
// ["quoted"] cut to maxQuotedKey code points.
func writeKey(b *strings.Builder, k string) {
	if plainKey(k) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
		return
	}
	if utf8.RuneCountInString(k) > maxQuotedKey {
		k = string([]rune(k)[:maxQuotedKey]) + "..."
	}
	b.WriteByte('[')
	b.WriteString(strconv.Quote(k))
	b.WriteByte(']')
}

func plainKey(k string) bool {
	if k == "" || len(k) > maxPlainKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("_-:/@+=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validator collects violations while generated code walks a value.
type validator struct {
	vs    []Violation
	stack []seg // path from the root to the value being checked
}

func (v *validator) push(s seg) { v.stack = append(v.stack, s) }
func (v *validator) pop()       { v.stack = v.stack[:len(v.stack)-1] }

func (v *validator) full() bool { return len(v.vs) >= MaxViolations }

// add records a violation at the current path followed by last.
func (v *validator) add(last seg, constraint string) {
	if v.full() {
		return
	}
	f := renderPath(v.stack, last)
	for _, x := range v.vs {
		if x.Field == f && x.Constraint == constraint {
			return
		}
	}
	v.vs = append(v.vs, Violation{Field: f, Constraint: constraint})
}

func (v *validator) err() error {
	if len(v.vs) == 0 {
		return nil
	}
	return &ValidationError{Violations: v.vs}
}

func (v *validator) required(at seg) { v.add(at, "Member must not be null") }

func (v *validator) str(at seg, s string, r *stringRule) {
	var buf [3]string
	for _, c := range r.failures(s, buf[:0]) {
		v.add(at, c)
	}
}

// key checks a map key against its shape; violations go on the map's path.
func (v *validator) key(k string, r *stringRule) {
	var buf [3]string
	if fs := r.failures(k, buf[:0]); len(fs) > 0 {
		v.add(here, "Map keys must satisfy constraint: ["+strings.Join(fs, ", ")+"]")
	}
}

// size checks the number of items of a list or entries of a map.
func (v *validator) size(n, min, max int) {
	if min >= 0 && n < min {
		v.add(here, "Member must have length greater than or equal to "+strconv.Itoa(min))
	}
	if max >= 0 && n > max {
		v.add(here, "Member must have length less than or equal to "+strconv.Itoa(max))
	}
}

// queryBool, queryInt32 and queryInt64 parse query-string members for the
// generated decoders; smithygen calls each for the member types the model
// has (today booleans only), so the integer ones wait for a model update.
func (v *validator) queryBool(name, s string) *bool {
	switch s {
	case "true":
		return Bool(true)
	case "false":
		return Bool(false)
	}
	v.add(mem(name), "Member must be a boolean (true or false)")
	return nil
}

//lint:ignore U1000 see queryBool
func (v *validator) queryInt32(name, s string) *int32 {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		v.add(mem(name), "Member must be a 32-bit integer")
		return nil
	}
	return Int32(int32(n))
}

//lint:ignore U1000 see queryBool
func (v *validator) queryInt64(name, s string) *int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		v.add(mem(name), "Member must be a 64-bit integer")
		return nil
	}
	return Int64(n)
}

func uniqueItems[T comparable](x []T) bool {
	if len(x) < 2 {
		return true
	}
	if len(x) <= 16 {
		for i := range x {
			for j := i + 1; j < len(x); j++ {
				if x[i] == x[j] {
					return false
				}
			}
		}
		return true
	}
	seen := make(map[T]struct{}, len(x))
	for _, e := range x {
		if _, dup := seen[e]; dup {
			return false
		}
		seen[e] = struct{}{}
	}
	return true
}

// sortedKeys returns the keys of m in order, so messages are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	return slices.SortedFunc(maps.Keys(m), cmp.Compare[string])
}

func errUnknownLabel(op, name string) error {
	return fmt.Errorf("model: %s has no URI label %q", op, name)
}

// validatable is a generated structure with a validate method.
type validatable[T any] interface {
	*T
	validate(v *validator, at seg)
}

// validateRoot validates s (a nil s is checked as an empty value).
func validateRoot[T any, P validatable[T]](s P) error {
	if s == nil {
		s = new(T)
	}
	var v validator
	s.validate(&v, here)
	return v.err()
}
