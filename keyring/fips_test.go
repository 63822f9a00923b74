package keyring

import (
	"crypto/fips140"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestFIPS140Only runs this package's tests again in a child process with
// GODEBUG=fips140=only, where any algorithm outside the FIPS 140-3 module
// (or GCM with caller-chosen nonces) fails or panics. CI can do the same for
// the whole tree with `GODEBUG=fips140=only go test ./...`.
func TestFIPS140Only(t *testing.T) {
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
	// Guard against a child that ran nothing.
	for _, name := range []string{"TestOpenCreatesAndReopens", "TestRotate", "TestMasterKeyCreateAndReload", "TestFIPSModeReported"} {
		if !strings.Contains(string(out), "--- PASS: "+name) {
			t.Errorf("%s did not pass in the fips140=only run:\n%s", name, out)
		}
	}
}

func TestFIPSModeReported(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), "fips140=only") && !fips140.Enforced() {
		t.Fatal("GODEBUG=fips140=only set but the module does not enforce it")
	}
}
