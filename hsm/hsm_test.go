//go:build cgo

package hsm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// softHSM is Debian's SoftHSM 2 module, which .ci/run installs.
const softHSM = "/usr/lib/softhsm/libsofthsm2.so"

// SoftToken prepares a SoftHSM token for tests: its own configuration
// (SoftHSM reads it once per process), a token labelled label with user
// PIN pin. It skips when SoftHSM is missing, except in CI.
func SoftToken(t *testing.T, label, pin string) Config {
	t.Helper()
	if _, err := os.Stat(softHSM); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("SoftHSM is missing: %v", err)
		}
		t.Skip("SoftHSM is not installed (apt install softhsm2)")
	}
	if os.Getenv("SOFTHSM2_CONF") == "" {
		dir, err := os.MkdirTemp("", "softhsm")
		if err != nil {
			t.Fatal(err)
		}
		os.Mkdir(filepath.Join(dir, "tokens"), 0o700)
		conf := filepath.Join(dir, "softhsm2.conf")
		os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
		os.Setenv("SOFTHSM2_CONF", conf)
	}
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "so-"+pin).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "already") {
		t.Fatalf("softhsm2-util: %v: %s", err, out)
	}
	return Config{Module: softHSM, TokenLabel: label, PIN: pin}
}

func TestModule(t *testing.T) {
	c := SoftToken(t, "tv-module", "1234")
	if _, err := Open(c, false); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("open without a key: %v", err)
	}
	m, err := Open(c, true)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Created() {
		t.Fatal("no key was generated")
	}
	sealed, err := m.Seal([]byte("keyring"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	check, err := m.Check()
	if err != nil || len(check) != 16 {
		t.Fatalf("check: %x %v", check, err)
	}
	m.Close()

	// Open again: the same key, found by its label.
	m, err = Open(c, true)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Created() {
		t.Fatal("a second key was generated")
	}
	pt, err := m.Open(sealed, []byte("aad"))
	if err != nil || string(pt) != "keyring" {
		t.Fatalf("open: %q %v", pt, err)
	}
	if _, err := m.Open(sealed, []byte("other")); err == nil {
		t.Fatal("opened under another aad")
	}
	again, _ := m.Check()
	if !bytes.Equal(again, check) {
		t.Fatal("the check value changed")
	}
	if bytes.Contains(sealed, []byte("keyring")) {
		t.Fatal("plaintext in the sealed value")
	}
}

// TestWrongPIN: a token not logged in to refuses another PIN (login state
// is per token and process, so this token is used for nothing else).
func TestWrongPIN(t *testing.T) {
	c := SoftToken(t, "tv-pin", "2468")
	c.PIN = "0000"
	if _, err := Open(c, true); err == nil || strings.Contains(err.Error(), "0000") {
		t.Fatalf("a wrong PIN: %v", err)
	}
}
