//go:build cgo

package hsm

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// softHSM is Debian's SoftHSM 2 module, which .ci/run installs.
const softHSM = "/usr/lib/softhsm/libsofthsm2.so"

// run tells this process's test tokens apart from those of other runs over
// a kept SOFTHSM2_CONF; tokens numbers them within the process. A token
// outlives its test, so each call gets a label of its own.
var (
	run    = rand.Uint32()
	tokens atomic.Int32
)

// TestMain gives the tests a SoftHSM configuration of their own, removed
// afterwards, unless SOFTHSM2_CONF names one (SoftHSM reads it once per
// process).
func TestMain(m *testing.M) {
	if os.Getenv("SOFTHSM2_CONF") != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "softhsm")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Mkdir(filepath.Join(dir, "tokens"), 0o700)
	conf := filepath.Join(dir, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	os.Setenv("SOFTHSM2_CONF", conf)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// SoftToken prepares a fresh SoftHSM token for tests: a token labelled
// label (with the run and a number) with user PIN pin. It skips when
// SoftHSM is missing, except in CI.
func SoftToken(t *testing.T, label, pin string) Config {
	t.Helper()
	label = fmt.Sprintf("%s-%08x-%d", label, run, tokens.Add(1))
	if _, err := os.Stat(softHSM); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("SoftHSM is missing: %v", err)
		}
		t.Skip("SoftHSM is not installed (apt install softhsm2)")
	}
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "so-"+pin).CombinedOutput()
	if err != nil {
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

// TestRotate: a new key under the label seals what the reseal gives it,
// and the old one is destroyed; a key left by a rotation stopped midway
// makes the label ambiguous until Choose picks by check value.
func TestRotate(t *testing.T) {
	c := SoftToken(t, "tv-rotate", "4321")
	m, err := Open(c, true)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := m.Check()
	oldSealed, _ := m.Seal([]byte("keyring 1"), nil)
	var sealed []byte
	err = m.Rotate(func(next Sealer) error {
		var err error
		sealed, err = next.Seal([]byte("keyring 2"), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := m.Check()
	if bytes.Equal(cur, old) {
		t.Fatal("the check value did not change")
	}
	if _, err := m.Open(oldSealed, nil); err == nil {
		t.Fatal("the new key opened the old seal")
	}
	// A failed reseal keeps the key in use and leaves no new one.
	if err := m.Rotate(func(Sealer) error { return errors.New("store down") }); err == nil {
		t.Fatal("a failed reseal was not reported")
	}
	m.Close()

	m, err = Open(c, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Check(); !bytes.Equal(got, cur) {
		t.Fatal("after a restart the token holds another key")
	}
	if pt, err := m.Open(sealed, nil); err != nil || string(pt) != "keyring 2" {
		t.Fatalf("open after a restart: %q %v", pt, err)
	}
	// A rotation that stopped after generating its key.
	if _, err := m.generate(); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m, err = Open(c, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Seal([]byte("x"), nil); err == nil {
		t.Fatal("sealed with two keys and none chosen")
	}
	if _, err := m.Choose(nil); err == nil {
		t.Fatal("chose among two keys without a check value")
	}
	if _, err := m.Choose(bytes.Repeat([]byte{1}, 16)); err == nil {
		t.Fatal("chose a key for a check value none has")
	}
	others, err := m.Choose(cur[:16])
	if err != nil || others != 1 {
		t.Fatalf("choose: %d others, %v", others, err)
	}
	if pt, err := m.Open(sealed, nil); err != nil || string(pt) != "keyring 2" {
		t.Fatalf("open with the chosen key: %q %v", pt, err)
	}
	// The next rotation clears the leftover too.
	if err := m.Rotate(func(Sealer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if keys, _ := m.ctx.FindKeys(nil, []byte(m.label)); len(keys) != 1 {
		t.Fatalf("%d keys under the label after a rotation", len(keys))
	}
}
