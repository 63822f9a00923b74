package twinvault_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/twinvault/twinvault"

// TestDependencyRules keeps the layout's promises: leaves use only the
// standard library, engines know only their interface, only the barrier
// (and the keyring it is built on) encrypts, the API never reaches storage,
// and only node assembles the parts.
func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		imports[strings.TrimPrefix(strings.TrimPrefix(f[0], mod), "/")] = f[1:]
	}
	if len(imports) < 10 {
		t.Fatalf("go list found only %d packages", len(imports))
	}
	isStd := func(p string) bool { return !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") }
	local := func(p string) (string, bool) {
		if p == mod {
			return "", true
		}
		rest, ok := strings.CutPrefix(p, mod+"/")
		return rest, ok
	}

	leaves := []string{"", "kv", "model", "auth/sigv4", "certs", "tsdb/chunkenc", "iam/policy", "objstore", "query/parser", "detect", "egress"}
	engines := map[string][]string{"pebble": {"kv"}, "postgres": {"kv"}, "s3": {"objstore"}}
	storage := []string{"kv", "pebble", "postgres", "s3", "objstore", "barrier", "keyring"}
	encrypting := []string{"barrier", "keyring"}

	for pkg, imps := range imports {
		for _, imp := range imps {
			name, isLocal := local(imp)
			switch {
			case slices.Contains(leaves, pkg) && !isStd(imp):
				t.Errorf("%q is a leaf but imports %s", pkg, imp)
			case isLocal && strings.HasPrefix(name, "cmd/"):
				t.Errorf("%q imports the command %s", pkg, imp)
			case isLocal && slices.Contains(storage, name) && (pkg == "api" || strings.HasPrefix(pkg, "api/")):
				t.Errorf("api package %q reaches storage through %s", pkg, imp)
			case isLocal && (name == "pebble" || name == "postgres" || name == "s3") && pkg != "node":
				t.Errorf("%q imports the engine %s; only node assembles engines", pkg, imp)
			case isLocal && name == "node" && !slices.Contains([]string{"cmd/twinvault", "twinvaulttest"}, pkg):
				t.Errorf("%q imports node", pkg)
			case (imp == "crypto/aes" || imp == "crypto/cipher") && !slices.Contains(encrypting, pkg):
				t.Errorf("%q imports %s; only the barrier encrypts", pkg, imp)
			}
			if allowed, ok := engines[pkg]; ok && isLocal && !slices.Contains(allowed, name) {
				t.Errorf("engine %q imports %s; engines know only their interface", pkg, imp)
			}
		}
	}
}
