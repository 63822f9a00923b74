package keyring

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestMasterKeyCreateAndReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets", "nested", "master.key")
	data := filepath.Join(dir, "data") // does not exist yet

	key, created, err := LoadOrCreateMasterKey(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key) != MasterKeySize {
		t.Fatalf("created=%v len=%d, want true %d", created, len(key), MasterKeySize)
	}
	if bytes.Equal(key, make([]byte, MasterKeySize)) {
		t.Fatal("key is all zero")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode %04o, want 0600", got)
	}
	for _, d := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("%s mode %04o, want 0700", filepath.Base(d), got)
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("key directory holds %d entries, want only the key file (temporary file left behind?)", len(ents))
	}
	content, _ := os.ReadFile(path)
	if !strings.Contains(string(content), keyFileHeader+"\n") {
		t.Errorf("key file lacks the %q header", keyFileHeader)
	}

	again, created, err := LoadOrCreateMasterKey(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(again, key) {
		t.Fatalf("reload: created=%v, same key=%v; want false, true", created, bytes.Equal(again, key))
	}
}

func TestMasterKeyConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	const n = 8
	var (
		wg   sync.WaitGroup
		keys [n][]byte
		won  [n]bool
		errs [n]error
	)
	for i := range n {
		wg.Go(func() { keys[i], won[i], errs[i] = LoadOrCreateMasterKey(path, filepath.Join(dir, "data")) })
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("concurrent first starts returned different keys")
		}
		if won[i] {
			winners++
		}
	}
	if winners != 1 {
		t.Errorf("%d callers report creating the key, want 1", winners)
	}
}

// writeKey writes a valid key file with the given mode.
func writeKey(t *testing.T, path string, mode fs.FileMode) []byte {
	t.Helper()
	key := bytes.Repeat([]byte{0x5a}, MasterKeySize)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, formatKeyFile(key), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestMasterKeyRefused(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the key path and data dir to pass, relative to a
		// fresh temporary directory it may populate.
		setup func(t *testing.T, dir string) (path, data string)
		want  string
	}{
		{"inside data dir, nothing exists yet", func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "data", "master.key"), filepath.Join(dir, "data")
		}, "inside the data directory"},
		{"inside data dir, deeper", func(t *testing.T, dir string) (string, string) {
			writeKey(t, filepath.Join(dir, "data", "a", "b", "master.key"), 0o600)
			return filepath.Join(dir, "data", "a", "b", "master.key"), filepath.Join(dir, "data")
		}, "inside the data directory"},
		{"key path is the data dir", func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "data"), filepath.Join(dir, "data")
		}, "inside the data directory"},
		{"dot-dot path into data dir", func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "x", "..", "data", "master.key"), filepath.Join(dir, "data")
		}, "inside the data directory"},
		{"key file is a symlink into data dir", func(t *testing.T, dir string) (string, string) {
			writeKey(t, filepath.Join(dir, "data", "master.key"), 0o600)
			link := filepath.Join(dir, "master.key")
			if err := os.Symlink(filepath.Join(dir, "data", "master.key"), link); err != nil {
				t.Fatal(err)
			}
			return link, filepath.Join(dir, "data")
		}, "inside the data directory"},
		{"key dir is a symlink into data dir", func(t *testing.T, dir string) (string, string) {
			if err := os.MkdirAll(filepath.Join(dir, "data", "keys"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(dir, "data", "keys"), filepath.Join(dir, "keys")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "keys", "master.key"), filepath.Join(dir, "data")
		}, "inside the data directory"},
		{"data dir is a symlink to the key's dir", func(t *testing.T, dir string) (string, string) {
			writeKey(t, filepath.Join(dir, "real", "master.key"), 0o600)
			if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "data")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "real", "master.key"), filepath.Join(dir, "data")
		}, "inside the data directory"},
		{"dangling symlink", func(t *testing.T, dir string) (string, string) {
			link := filepath.Join(dir, "master.key")
			if err := os.Symlink(filepath.Join(dir, "nowhere", "master.key"), link); err != nil {
				t.Fatal(err)
			}
			return link, filepath.Join(dir, "data")
		}, "resolve master key file path"},
		{"mode 0644", func(t *testing.T, dir string) (string, string) {
			writeKey(t, filepath.Join(dir, "master.key"), 0o644)
			return filepath.Join(dir, "master.key"), filepath.Join(dir, "data")
		}, "group or others"},
		{"mode 0640", func(t *testing.T, dir string) (string, string) {
			writeKey(t, filepath.Join(dir, "master.key"), 0o640)
			return filepath.Join(dir, "master.key"), filepath.Join(dir, "data")
		}, "group or others"},
		{"mode 0602", func(t *testing.T, dir string) (string, string) {
			writeKey(t, filepath.Join(dir, "master.key"), 0o602)
			return filepath.Join(dir, "master.key"), filepath.Join(dir, "data")
		}, "group or others"},
		{"mode 0610", func(t *testing.T, dir string) (string, string) {
			writeKey(t, filepath.Join(dir, "master.key"), 0o610)
			return filepath.Join(dir, "master.key"), filepath.Join(dir, "data")
		}, "group or others"},
		{"directory instead of file", func(t *testing.T, dir string) (string, string) {
			if err := os.Mkdir(filepath.Join(dir, "master.key"), 0o700); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "master.key"), filepath.Join(dir, "data")
		}, "not a regular file"},
		{"checksum mismatch", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "master.key")
			writeKey(t, p, 0o600)
			b, _ := os.ReadFile(p)
			enc := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, MasterKeySize))
			other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5b}, MasterKeySize))
			os.WriteFile(p, bytes.Replace(b, []byte(enc), []byte(other), 1), 0o600)
			return p, filepath.Join(dir, "data")
		}, "truncated or corrupt"},
		{"wrong header", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "master.key")
			writeKey(t, p, 0o600)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(" v1\n"), []byte(" v2\n"), 1), 0o600)
			return p, filepath.Join(dir, "data")
		}, "truncated or corrupt"},
		{"extra line", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "master.key")
			writeKey(t, p, 0o600)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, "more\n"...), 0o600)
			return p, filepath.Join(dir, "data")
		}, "truncated or corrupt"},
		{"oversized", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "master.key")
			writeKey(t, p, 0o600)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(bytes.Repeat([]byte("#\n"), keyFileMaxSize), b...), 0o600)
			return p, filepath.Join(dir, "data")
		}, "truncated or corrupt"},
		{"empty path", func(t *testing.T, dir string) (string, string) {
			return "", filepath.Join(dir, "data")
		}, "path is empty"},
		{"empty data dir", func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "master.key"), ""
		}, "data directory path is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, data := tt.setup(t, dir)
			before, _ := os.ReadFile(path)
			key, _, err := LoadOrCreateMasterKey(path, data)
			if err == nil {
				t.Fatal("accepted")
			}
			if key != nil {
				t.Error("returned a key with the error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			assertNoKeyInError(t, err)
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("a refused key file was modified")
			}
		})
	}
}

func TestMasterKeyTruncated(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "master.key")
	writeKey(t, p, 0o600)
	full, _ := os.ReadFile(p)
	if _, _, err := LoadOrCreateMasterKey(p, filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	for n := range len(full) {
		if err := os.WriteFile(p, full[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateMasterKey(p, filepath.Join(dir, "data"))
		if err == nil || !strings.Contains(err.Error(), "truncated or corrupt") {
			t.Fatalf("truncated to %d of %d bytes: err = %v", n, len(full), err)
		}
		assertNoKeyInError(t, err)
	}
}

// assertNoKeyInError checks that the test key of writeKey, in any encoding a
// careless message might use, is absent from err.
func assertNoKeyInError(t *testing.T, err error) {
	t.Helper()
	key := bytes.Repeat([]byte{0x5a}, MasterKeySize)
	msg := err.Error()
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(key)[:16],
		strings.Repeat("5a", 8),
		string(key[:8]),
	} {
		if strings.Contains(msg, s) {
			t.Fatalf("error message contains key material: %q", msg)
		}
	}
}

// TestRotateMasterKeyFile: the keyring moves to a new master key in the
// key file, and a stop at either step in between is recovered on open.
func TestRotateMasterKeyFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, data := filepath.Join(dir, "master.key"), filepath.Join(dir, "data")
	store := newMemStore()
	kr, err := OpenWithKeyFile(ctx, store, path, data)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := LoadMasterKey(path, data)
	if err := RotateMasterKeyFile(ctx, kr, path, data); err != nil {
		t.Fatal(err)
	}
	now, _ := LoadMasterKey(path, data)
	if bytes.Equal(old, now) {
		t.Fatal("the key file still holds the old key")
	}
	if _, err := Open(ctx, store, old); !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("the old key still opens the keyring: %v", err)
	}
	if _, err := Open(ctx, store, now); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(PendingKeyFile(path)); err == nil {
		t.Fatal("the pending key file is left")
	}

	// Stopped after re-sealing, before the key file was replaced.
	next := bytes.Repeat([]byte{9}, MasterKeySize)
	if err := writeKeyFile(PendingKeyFile(path), next); err != nil {
		t.Fatal(err)
	}
	if err := kr.Reseal(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWithKeyFile(ctx, store, path, data); err != nil {
		t.Fatalf("recovering a re-sealed keyring: %v", err)
	}
	if got, _ := LoadMasterKey(path, data); !bytes.Equal(got, next) {
		t.Fatal("the pending key did not replace the key file")
	}
	// Stopped before re-sealing: the pending key is dropped.
	writeKeyFile(PendingKeyFile(path), bytes.Repeat([]byte{8}, MasterKeySize))
	if _, err := OpenWithKeyFile(ctx, store, path, data); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(PendingKeyFile(path)); err == nil {
		t.Fatal("a pending key that never sealed anything is left")
	}
	// A wrong key with no rotation under way is still refused.
	writeKeyFile(path, bytes.Repeat([]byte{7}, MasterKeySize))
	if _, err := OpenWithKeyFile(ctx, store, path, data); !errors.Is(err, ErrMasterKeyMismatch) {
		t.Fatalf("a wrong key: %v", err)
	}
}
