package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/twinvault/twinvault/kv"
)

// MasterKeySize is the length in bytes of a master key.
const MasterKeySize = 32

// The master key file is small, line-oriented text so an operator can tell
// what it is, and strict so that a truncated or edited copy is refused
// rather than silently yielding a different key:
//
//	# TwinVault master key. Keep it secret; back it up apart from the data directory.
//	twinvault-master-key v1
//	key <base64 of 32 bytes>
//	check <hex of the first 8 bytes of SHA-256(header line + "\n" + key)>
//
// Lines starting with '#' are comments. Every line, the last one included,
// ends in a newline.
const (
	keyFileHeader  = "twinvault-master-key v1"
	keyFileComment = "# TwinVault master key. Keep it secret; back it up apart from the data directory."
	keyFileMaxSize = 4096
)

// LoadOrCreateMasterKey reads the master key from path, creating it on first
// start. created reports whether the file was created by this call.
//
// The file is refused when it lies inside dataDir (after making both paths
// absolute and resolving symbolic links; dataDir need not exist yet), because
// a copy of the data directory must be useless without the key, and when its
// permission bits grant any access to group or others. A new file gets 32
// bytes from crypto/rand, mode 0600, and is written atomically: the key is
// written and synced to a temporary file in the same directory, which is then
// linked into place without replacing a file another process may have
// created meanwhile. A missing parent directory is created with mode 0700.
//
// Errors name the file and the rule broken, never the key.
func LoadOrCreateMasterKey(path, dataDir string) (key []byte, created bool, err error) {
	if path == "" {
		return nil, false, errors.New("keyring: master key file path is empty")
	}
	if err := checkOutside(path, dataDir); err != nil {
		return nil, false, err
	}
	key, err = loadMasterKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	won, err := createMasterKey(path)
	if err != nil {
		return nil, false, err
	}
	// Read back what is on disk (ours or a concurrent winner's), with every
	// rule checked again, so the caller only ever gets a key that the next
	// start will load identically.
	if err := checkOutside(path, dataDir); err != nil {
		return nil, false, err
	}
	key, err = loadMasterKey(path)
	if err != nil {
		return nil, false, err
	}
	return key, won, nil
}

// LoadMasterKey reads an existing master key, for offline tools that must
// never create one.
func LoadMasterKey(path, dataDir string) ([]byte, error) {
	if err := checkOutside(path, dataDir); err != nil {
		return nil, err
	}
	return loadMasterKey(path)
}

// checkOutside refuses a key file inside the data directory.
func checkOutside(path, dataDir string) error { return checkOutsideAs(path, dataDir, "master key") }

// checkOutsideAs refuses a file holding what inside the data directory.
func checkOutsideAs(path, dataDir, what string) error {
	if dataDir == "" {
		return errors.New("keyring: data directory path is empty")
	}
	k, err := resolve(path)
	if err != nil {
		return fmt.Errorf("keyring: resolve %s file path: %w", what, err)
	}
	d, err := resolve(dataDir)
	if err != nil {
		return fmt.Errorf("keyring: resolve data directory path: %w", err)
	}
	if within(k, d) {
		return fmt.Errorf("keyring: %s file %s is inside the data directory %s; "+
			"it must be kept outside so that a copy of the data is useless without it", what, path, dataDir)
	}
	return nil
}

// resolveRetries bounds how often resolve looks again at a path that
// appeared while it was being resolved.
const resolveRetries = 3

// resolve returns the absolute form of p with every symbolic link in its
// existing part resolved. Components that do not exist yet are appended as
// they are, so a data directory that is still to be created resolves to
// where it will be.
func resolve(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	for retries := 0; ; {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if _, lerr := os.Lstat(p); lerr == nil {
			// p exists although EvalSymlinks found nothing there. Either
			// another process created it in between (a concurrent first
			// start), so look again, or it is a dangling link: refuse that
			// rather than guess where it would lead once its target exists.
			if retries < resolveRetries {
				retries++
				continue
			}
			return "", fmt.Errorf("%s: %w", p, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(append([]string{p}, rest...)...), nil
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}

// within reports whether path p is dir or lies below it. Both are clean
// absolute paths.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}

// loadMasterKey reads and checks an existing key file. The mode is taken
// from the opened file, so it is the mode of what is actually read.
func loadMasterKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: open master key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: stat master key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: master key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("keyring: master key file %s has mode %04o; it must not be "+
			"readable or writable by group or others (chmod 600)", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, keyFileMaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyring: read master key file: %w", err)
	}
	defer clear(b)
	key, err := parseKeyFile(b)
	if err != nil {
		return nil, fmt.Errorf("keyring: master key file %s: %w", path, err)
	}
	return key, nil
}

// errKeyFile is deliberately vague: the content of a key file must not be
// echoed into logs.
var errKeyFile = errors.New("truncated or corrupt (expected a \"" + keyFileHeader + "\" file with key and check lines)")

func parseKeyFile(b []byte) ([]byte, error) {
	if len(b) > keyFileMaxSize || len(b) == 0 || b[len(b)-1] != '\n' {
		return nil, errKeyFile
	}
	var lines []string
	for _, l := range strings.Split(string(b[:len(b)-1]), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 || lines[0] != keyFileHeader {
		return nil, errKeyFile
	}
	enc, ok := strings.CutPrefix(lines[1], "key ")
	if !ok {
		return nil, errKeyFile
	}
	sum, ok := strings.CutPrefix(lines[2], "check ")
	if !ok {
		return nil, errKeyFile
	}
	key, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || len(key) != MasterKeySize {
		return nil, errKeyFile
	}
	want, err := hex.DecodeString(sum)
	if err != nil || subtle.ConstantTimeCompare(want, keyCheck(key)) != 1 {
		return nil, errKeyFile
	}
	return key, nil
}

// keyCheck is the checksum line of the key file. It detects corruption; it
// is not a secret and reveals nothing useful about a 256-bit key.
func keyCheck(key []byte) []byte {
	h := sha256.New()
	h.Write([]byte(keyFileHeader + "\n"))
	h.Write(key)
	return h.Sum(nil)[:8]
}

func formatKeyFile(key []byte) []byte {
	var b bytes.Buffer
	b.WriteString(keyFileComment + "\n")
	b.WriteString(keyFileHeader + "\n")
	b.WriteString("key " + base64.StdEncoding.EncodeToString(key) + "\n")
	b.WriteString("check " + hex.EncodeToString(keyCheck(key)) + "\n")
	return b.Bytes()
}

// createMasterKey writes a new random key to path unless a file appears
// there first. won reports whether this call's key is the one in place.
func createMasterKey(path string) (won bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("keyring: create master key directory: %w", err)
	}
	key := make([]byte, MasterKeySize)
	rand.Read(key)
	content := formatKeyFile(key)
	defer clear(key)
	defer clear(content)

	f, err := os.CreateTemp(dir, ".twinvault-master-key-*")
	if err != nil {
		return false, fmt.Errorf("keyring: create master key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(content)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("keyring: write master key file: %w", err)
	}
	// A hard link is an atomic create-if-absent: unlike rename it never
	// replaces a key another process wrote in the meantime, which would
	// orphan whatever that process already encrypted.
	switch err := os.Link(tmp, path); {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return false, nil
	default:
		// File systems without hard links: fall back to rename.
		if _, serr := os.Lstat(path); serr == nil {
			return false, nil
		}
		if rerr := os.Rename(tmp, path); rerr != nil {
			return false, fmt.Errorf("keyring: install master key file: %w", rerr)
		}
	}
	if err := syncDir(dir); err != nil {
		return false, fmt.Errorf("keyring: sync master key directory: %w", err)
	}
	return true, nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// PendingKeyFile is where a master-key rotation puts the new key before
// it re-seals the keyring with it.
func PendingKeyFile(path string) string { return path + ".new" }

// RotateMasterKeyFile gives the keyring a new master key kept in the key
// file at path. The steps are ordered so that a stop at any point leaves a
// directory OpenWithKeyFile opens: the new key is written and synced to
// the pending file, the keyring is re-sealed under it, and the pending
// file then replaces the key file.
func RotateMasterKeyFile(ctx context.Context, kr *Keyring, path, dataDir string) error {
	if err := checkOutside(path, dataDir); err != nil {
		return err
	}
	key := make([]byte, MasterKeySize)
	rand.Read(key)
	defer clear(key)
	pending := PendingKeyFile(path)
	if err := writeKeyFile(pending, key); err != nil {
		return err
	}
	if err := kr.Reseal(ctx, key); err != nil {
		os.Remove(pending)
		return err
	}
	if err := os.Rename(pending, path); err != nil {
		return fmt.Errorf("keyring: install the new master key file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// OpenWithKeyFile opens the keyring of store with the master key in path,
// finishing a rotation a stop interrupted: when the keyring was re-sealed
// under the pending key but the key file not yet replaced, the pending key
// opens it and takes the key file's place; when the keyring was not
// re-sealed, the pending key is dropped.
func OpenWithKeyFile(ctx context.Context, store kv.Store, path, dataDir string) (*Keyring, error) {
	master, _, err := LoadOrCreateMasterKey(path, dataDir)
	if err != nil {
		return nil, err
	}
	defer clear(master)
	pending := PendingKeyFile(path)
	kr, err := Open(ctx, store, master)
	if err == nil {
		os.Remove(pending) // a rotation stopped before it re-sealed
		return kr, nil
	}
	if !errors.Is(err, ErrMasterKeyMismatch) {
		return nil, err
	}
	next, perr := LoadMasterKey(pending, dataDir)
	if perr != nil {
		return nil, err // no rotation under way: the key is simply wrong
	}
	defer clear(next)
	kr, err = Open(ctx, store, next)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(pending, path); err != nil {
		return nil, fmt.Errorf("keyring: finish a master key rotation: %w", err)
	}
	return kr, syncDir(filepath.Dir(path))
}

// writeKeyFile writes key to path (0600, synced), replacing what is there.
func writeKeyFile(path string, key []byte) error {
	dir := filepath.Dir(path)
	content := formatKeyFile(key)
	defer clear(content)
	f, err := os.CreateTemp(dir, ".twinvault-master-key-*")
	if err != nil {
		return fmt.Errorf("keyring: write master key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(content)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("keyring: write master key file: %w", err)
	}
	return nil
}
