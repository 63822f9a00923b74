package keyring

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSourceEnv(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, MasterKeySize)
	t.Setenv("TV_TEST_KEY", base64.StdEncoding.EncodeToString(key))
	s := Source{Kind: SourceEnv, Env: "TV_TEST_KEY", DataDir: dir}
	got, err := s.Load(true)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("load: %v", err)
	}
	if _, ok := os.LookupEnv("TV_TEST_KEY"); ok {
		t.Error("the variable is still set")
	}
	if _, err := s.Load(true); err == nil || !strings.Contains(err.Error(), "not set") {
		t.Errorf("without the variable: %v", err)
	}
	t.Setenv("TV_TEST_KEY", "c2hvcnQ=") // "short"
	if _, err := s.Load(true); err == nil || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("a short key: %v", err)
	}
}

func TestSourcePassphrase(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := filepath.Join(dir, "pass")
	write := func(p string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(file, []byte(p+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(file, mode)
	}
	s := Source{Kind: SourcePassphrase, File: file, DataDir: data}
	write("correct horse battery staple", 0o600)
	if _, err := s.Load(false); err == nil {
		t.Fatal("an offline load made parameters")
	}
	k1, err := s.Load(true)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := s.Load(false)
	if err != nil || !bytes.Equal(k1, k2) || len(k1) != MasterKeySize {
		t.Fatalf("the same passphrase gave another key: %v", err)
	}
	raw, _ := os.ReadFile(filepath.Join(data, kdfFile))
	if strings.Contains(string(raw), "horse") {
		t.Fatal("the passphrase is in the parameters file")
	}
	write("correct horse battery stapler", 0o600)
	if k3, _ := s.Load(true); bytes.Equal(k1, k3) {
		t.Fatal("another passphrase gave the same key")
	}
	// The same passphrase in the environment.
	t.Setenv(DefaultPassphraseEnv, "correct horse battery staple")
	if k4, err := (Source{Kind: SourcePassphrase, DataDir: data}).Load(true); err != nil || !bytes.Equal(k1, k4) {
		t.Fatalf("from the environment: %v", err)
	}
	if _, ok := os.LookupEnv(DefaultPassphraseEnv); ok {
		t.Error("the variable is still set")
	}
	write("too short", 0o600)
	if _, err := s.Load(true); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("a short passphrase: %v", err)
	}
	write("correct horse battery staple", 0o644)
	if _, err := s.Load(true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a readable passphrase file: %v", err)
	}
	inside := Source{Kind: SourcePassphrase, File: filepath.Join(data, "pass"), DataDir: data}
	os.WriteFile(inside.File, []byte("correct horse battery staple\n"), 0o600)
	if _, err := inside.Load(true); err == nil || !strings.Contains(err.Error(), "inside the data directory") {
		t.Errorf("a passphrase file in the data directory: %v", err)
	}
	os.WriteFile(filepath.Join(data, kdfFile), []byte(`{"kdf":"md5"}`), 0o600)
	write("correct horse battery staple", 0o600)
	if _, err := s.Load(true); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt parameters: %v", err)
	}
	if _, err := (Source{Kind: "vault"}).Load(true); err == nil {
		t.Error("an unknown source")
	}
}

// TestChangePassphrase: the keyring re-sealed under a new passphrase, and
// a change stopped before or after the re-seal settled at the next open.
func TestChangePassphrase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := filepath.Join(dir, "pass")
	src := Source{Kind: SourcePassphrase, File: file, DataDir: data}
	var store *memStore
	open := func(pass string) (*Keyring, error) {
		t.Helper()
		os.WriteFile(file, []byte(pass), 0o600)
		key, pending, err := src.LoadWithPending(true)
		if err != nil {
			t.Fatal(err)
		}
		return OpenWithPending(ctx, store, key, pending, data)
	}
	store = newMemStore()
	kr, err := open("the first passphrase, long enough")
	if err != nil {
		t.Fatal(err)
	}
	term, _ := kr.Active()
	if err := ChangePassphrase(ctx, kr, data, "short"); err == nil {
		t.Fatal("a short new passphrase was taken")
	}
	if err := ChangePassphrase(ctx, kr, data, "the second passphrase, long enough"); err != nil {
		t.Fatal(err)
	}
	if _, err := open("the first passphrase, long enough"); !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("the old passphrase after the change: %v", err)
	}
	kr, err = open("the second passphrase, long enough")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := kr.Active(); got != term {
		t.Fatal("the terms changed")
	}
	if _, err := os.Stat(pendingKDF(data)); err == nil {
		t.Fatal("the new parameters are still aside")
	}

	// Stopped before the re-seal: the parameters aside are dropped.
	aside := &kdfParams{KDF: kdfName, Iterations: pbkdf2Iterations, Salt: bytes.Repeat([]byte{3}, 32)}
	if err := writeKDF(pendingKDF(data), aside); err != nil {
		t.Fatal(err)
	}
	if _, err := open("the second passphrase, long enough"); err != nil {
		t.Fatalf("a change stopped before the re-seal: %v", err)
	}
	if _, err := os.Stat(pendingKDF(data)); err == nil {
		t.Fatal("the parameters of a change that never re-sealed are kept")
	}

	// Stopped after the re-seal: the new parameters are installed.
	writeKDF(pendingKDF(data), aside)
	next, _ := aside.derive("the third passphrase, long enough")
	if err := kr.Reseal(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, err := open("the second passphrase, long enough"); !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("the old passphrase after a re-seal: %v", err)
	}
	if _, err := open("the third passphrase, long enough"); err != nil {
		t.Fatalf("a change stopped after the re-seal: %v", err)
	}
	if _, err := os.Stat(pendingKDF(data)); err == nil {
		t.Fatal("the new parameters were not installed")
	}
	if p, _ := readKDF(filepath.Join(data, kdfFile)); !bytes.Equal(p.Salt, aside.Salt) {
		t.Fatal("the installed parameters are not the new ones")
	}
	if _, err := open("the third passphrase, long enough"); err != nil {
		t.Fatalf("after the change was settled: %v", err)
	}
}
