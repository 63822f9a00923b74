package parser

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, fails only with a well-formed
// *Error, and that whatever it accepts prints to a query that parses to the
// same AST and prints the same again. Nesting and size limits keep each call
// fast and shallow whatever the input.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s.query)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseWithin(t, s, 2*time.Second)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			checkErrorPosition(t, s, e)
			return
		}
		s1 := q.String()
		q2, err := Parse(s1)
		if err != nil {
			t.Fatalf("accepted %q, but its printed form %q fails: %v", s, s1, err)
		}
		if s2 := q2.String(); s2 != s1 {
			t.Fatalf("printing is not stable: %q, then %q", s1, s2)
		}
		if d1, d2 := dump(q, false), dump(q2, false); d1 != d2 {
			t.Fatalf("%q and its printed form %q parse differently:\n%s", s, s1, diff(d1, d2))
		}
	})
}

// parseWithin parses s, failing t if that takes longer than d: the parser
// must stay linear on any input, and the fuzzer does not look for hangs.
func parseWithin(t *testing.T, s string, d time.Duration) (*Query, error) {
	type result struct {
		q   *Query
		err error
	}
	done := make(chan result, 1)
	go func() {
		q, err := Parse(s)
		done <- result{q, err}
	}()
	select {
	case r := <-done:
		return r.q, r.err
	case <-time.After(d):
		t.Fatalf("Parse(%q) has not returned after %v", s, d)
		return nil, nil
	}
}

type seed struct{ name, query string }

// fuzzSeeds are the documented examples, the golden queries and the error
// cases.
func fuzzSeeds() []seed {
	var seeds []seed
	for _, q := range goldenQueries {
		seeds = append(seeds, seed{"valid_" + q.name, q.query})
	}
	for _, q := range errorCases {
		seeds = append(seeds, seed{"error_" + strings.NewReplacer(" ", "_", "-", "_").Replace(q.name), q.query})
	}
	return seeds
}

const seedDir = "testdata/fuzz/FuzzParse"

// TestFuzzSeeds keeps the checked-in seed corpus in step with fuzzSeeds, so
// that "go test -fuzz" starts from every example even with the -run filter
// or a fresh cache; go test -update rewrites it. Inputs that the fuzzer once
// found failing stay in the same directory under their hash names.
func TestFuzzSeeds(t *testing.T) {
	for _, s := range fuzzSeeds() {
		path := filepath.Join(seedDir, s.name)
		want := "go test fuzz v1\nstring(" + strconv.Quote(s.query) + ")\n"
		if *update {
			if err := os.MkdirAll(seedDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("seed %s is missing or stale (run go test -update): %v", path, err)
		}
	}
}
