// Package fipstest reruns a package's tests under GODEBUG=fips140=only,
// where any algorithm outside the FIPS 140-3 module, or GCM with
// caller-chosen nonces, fails or panics. CI can do the same for the whole
// tree with `GODEBUG=fips140=only go test ./...`.
package fipstest

import (
	"crypto/fips140"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Rerun runs the calling test binary again in a child process with
// GODEBUG=fips140=only and checks that each named test passed there, so a
// child that ran nothing is caught.
func Rerun(t *testing.T, mustPass ...string) {
	t.Helper()
	if fips140.Enforced() {
		t.Skip("already running with fips140=only")
	}
	if testing.Short() {
		t.Skip("spawns a child test process")
	}
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.run=.", "-test.short", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG=fips140=only")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tests under GODEBUG=fips140=only failed: %v\n%s", err, out)
	}
	for _, name := range mustPass {
		if !strings.Contains(string(out), "--- PASS: "+name) {
			t.Errorf("%s did not pass in the fips140=only run:\n%s", name, out)
		}
	}
}

// CheckEnforced fails when GODEBUG asks for fips140=only but the module
// does not enforce it.
func CheckEnforced(t *testing.T) {
	t.Helper()
	if strings.Contains(os.Getenv("GODEBUG"), "fips140=only") && !fips140.Enforced() {
		t.Fatal("GODEBUG=fips140=only set but the module does not enforce it")
	}
}
