package model

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twinvault/twinvault/model/internal/smithygen"
)

// smithySource returns the -in argument of the go:generate line in
// generate.go, so the test reads the same model as go generate.
func smithySource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(line, "//go:generate ") {
			continue
		}
		f := strings.Fields(line)
		for i := range f[:len(f)-1] {
			if f[i] == "-in" {
				return f[i+1]
			}
		}
	}
	t.Fatal("generate.go has no go:generate line with -in")
	return ""
}

func TestGeneratedUpToDate(t *testing.T) {
	in := smithySource(t)
	data, err := os.ReadFile(in)
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Smithy model %s is missing (CI=true)", in)
		}
		t.Skipf("the Smithy model %s is not here", in)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := smithygen.Generate(data, filepath.Base(in))
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	want, err := os.ReadFile("zz_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("zz_generated.go is stale (run go generate ./model); first difference at line %d:\n  file:      %q\n  generated: %q", i+1, wl, gl)
		}
	}
}
