package keyring

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/twinvault/twinvault/kv"
)

// Where the master key comes from (--key-source):
//
//   - file: a key file (the default; see LoadOrCreateMasterKey).
//   - env: an environment variable holding the key, base64 of 32 bytes
//     (e.g. from `openssl rand -base64 32`), for secret managers that inject
//     the environment. The variable is removed from the process once read.
//   - passphrase: a passphrase stretched with PBKDF2-HMAC-SHA256 (600,000
//     iterations, a 32-byte random salt): FIPS-approved. The passphrase is
//     read from a file (kept as strictly as a key file) or from an
//     environment variable, which is removed once read. The salt is not
//     secret and lives in the data directory, in keysource.json.
//
// Each source yields the same thing, the 32-byte key that seals the
// keyring; a wrong one is refused when the keyring does not open.
const (
	SourceFile       = "file"
	SourceEnv        = "env"
	SourcePassphrase = "passphrase"

	// DefaultKeyEnv and DefaultPassphraseEnv are the variables read by
	// the env and passphrase sources.
	DefaultKeyEnv        = "TWINVAULT_MASTER_KEY"
	DefaultPassphraseEnv = "TWINVAULT_PASSPHRASE"

	// MinPassphrase is the shortest passphrase taken, in bytes: at least
	// the 112 bits FIPS 140-3 asks of PBKDF2 passwords, with room.
	MinPassphrase = 16

	pbkdf2Iterations = 600_000
	kdfFile          = "keysource.json"
	kdfName          = "pbkdf2-hmac-sha256"
)

// Source names where the master key comes from.
type Source struct {
	Kind    string // SourceFile ("" too), SourceEnv or SourcePassphrase
	File    string // file: the key file; passphrase: the passphrase file, "" to read Env
	Env     string // env and passphrase: the variable ("" for the default)
	DataDir string // the key file and passphrase file must lie outside it
}

// kdfParams are a passphrase source's stored parameters.
type kdfParams struct {
	KDF        string `json:"kdf"`
	Iterations int    `json:"iterations"`
	Salt       []byte `json:"salt"`
}

// Load returns the master key. create allows a new key file or new
// passphrase parameters on a first start; offline tools pass false.
func (s Source) Load(create bool) ([]byte, error) {
	key, pending, err := s.LoadWithPending(create)
	clear(pending)
	return key, err
}

// LoadWithPending is Load that also returns, for a passphrase source whose
// change a stop interrupted, the key the new parameters derive from the
// passphrase given (nil otherwise): OpenWithPending then settles which of
// the two the keyring opens with.
func (s Source) LoadWithPending(create bool) (key, pending []byte, err error) {
	if s.Kind == SourcePassphrase {
		return s.loadPassphrase(create)
	}
	key, err = s.load(create)
	return key, nil, err
}

func (s Source) load(create bool) ([]byte, error) {
	switch s.Kind {
	case "", SourceFile:
		if !create {
			return LoadMasterKey(s.File, s.DataDir)
		}
		key, _, err := LoadOrCreateMasterKey(s.File, s.DataDir)
		return key, err
	case SourceEnv:
		name := s.env(DefaultKeyEnv)
		v, ok := os.LookupEnv(name)
		os.Unsetenv(name)
		if !ok || v == "" {
			return nil, fmt.Errorf("keyring: --key-source env: %s is not set", name)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(key) != MasterKeySize {
			return nil, fmt.Errorf("keyring: --key-source env: %s must hold base64 of %d bytes (openssl rand -base64 32)", name, MasterKeySize)
		}
		return key, nil
	}
	return nil, fmt.Errorf("keyring: unknown key source %q (file, env or passphrase)", s.Kind)
}

func (s Source) loadPassphrase(create bool) (key, pending []byte, err error) {
	pass, err := s.passphrase()
	if err != nil {
		return nil, nil, err
	}
	p, err := loadKDF(s.DataDir, create)
	if err != nil {
		return nil, nil, err
	}
	if key, err = p.derive(pass); err != nil {
		return nil, nil, err
	}
	if next, err := readKDF(pendingKDF(s.DataDir)); err == nil {
		if pending, err = next.derive(pass); err != nil {
			clear(key)
			return nil, nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		clear(key)
		return nil, nil, err
	}
	return key, pending, nil
}

func (p *kdfParams) derive(pass string) ([]byte, error) {
	key, err := pbkdf2.Key(sha256.New, pass, p.Salt, p.Iterations, MasterKeySize)
	if err != nil {
		return nil, fmt.Errorf("keyring: derive the master key: %w", err)
	}
	return key, nil
}

// pendingKDF is where a change of passphrase puts the new parameters
// before it re-seals the keyring with the key they derive.
func pendingKDF(dataDir string) string { return filepath.Join(dataDir, kdfFile+".new") }

// ChangePassphrase re-seals the keyring under the key newPass derives with
// a new salt. A stop at any point leaves a directory that opens, with the
// old passphrase or the new one, whichever the keyring is sealed under
// (OpenWithPending): the new parameters are written aside, the keyring is
// re-sealed, and they then replace the old ones.
func ChangePassphrase(ctx context.Context, kr *Keyring, dataDir, newPass string) error {
	if len(newPass) < MinPassphrase {
		return fmt.Errorf("keyring: the new passphrase is shorter than %d bytes", MinPassphrase)
	}
	p := &kdfParams{KDF: kdfName, Iterations: pbkdf2Iterations, Salt: make([]byte, 32)}
	rand.Read(p.Salt)
	key, err := p.derive(newPass)
	if err != nil {
		return err
	}
	defer clear(key)
	pending := pendingKDF(dataDir)
	if err := writeKDF(pending, p); err != nil {
		return err
	}
	if err := kr.Reseal(ctx, key); err != nil {
		os.Remove(pending)
		return err
	}
	if err := os.Rename(pending, filepath.Join(dataDir, kdfFile)); err != nil {
		return fmt.Errorf("keyring: install the new passphrase parameters: %w", err)
	}
	return syncDir(dataDir)
}

// OpenWithPending opens the keyring of store with key, or, when a change
// of passphrase was interrupted after the keyring was re-sealed, with
// pending, whose parameters then replace the old ones. A change stopped
// before it re-sealed is dropped.
func OpenWithPending(ctx context.Context, store kv.Store, key, pending []byte, dataDir string) (*Keyring, error) {
	kr, err := Open(ctx, store, key)
	if pending == nil {
		return kr, err
	}
	if err == nil {
		os.Remove(pendingKDF(dataDir))
		return kr, syncDir(dataDir)
	}
	if !errors.Is(err, ErrMasterKeyMismatch) {
		return nil, err
	}
	kr, err = Open(ctx, store, pending)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(pendingKDF(dataDir), filepath.Join(dataDir, kdfFile)); err != nil {
		return nil, fmt.Errorf("keyring: finish a change of passphrase: %w", err)
	}
	return kr, syncDir(dataDir)
}

func (s Source) env(def string) string {
	if s.Env != "" {
		return s.Env
	}
	return def
}

// passphrase reads the passphrase from its file or variable.
func (s Source) passphrase() (string, error) {
	pass, err := ReadSecret(s.File, s.env(DefaultPassphraseEnv), s.DataDir, "passphrase")
	if err != nil {
		return "", err
	}
	if len(pass) < MinPassphrase {
		return "", fmt.Errorf("keyring: the passphrase is shorter than %d bytes", MinPassphrase)
	}
	return pass, nil
}

// ReadSecret reads a secret (a passphrase, a PIN) from file, kept as
// strictly as a key file (outside dataDir unless it is "", no access for
// group or others),
// or when file is "" from the environment variable env, which is then
// removed from the process. A trailing newline is dropped.
func ReadSecret(file, env, dataDir, what string) (string, error) {
	var raw []byte
	if file != "" {
		f, err := openSecret(file, dataDir, what)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if raw, err = io.ReadAll(io.LimitReader(f, keyFileMaxSize)); err != nil {
			return "", fmt.Errorf("keyring: read %s file: %w", what, err)
		}
	} else {
		v, ok := os.LookupEnv(env)
		os.Unsetenv(env)
		if !ok {
			return "", fmt.Errorf("keyring: no %s: give its file or set %s", what, env)
		}
		raw = []byte(v)
	}
	secret := strings.TrimRight(string(raw), "\r\n")
	clear(raw)
	return secret, nil
}

// CheckSecretFile checks that a file holding a secret another library reads
// (an AWS credentials file, say) is kept as strictly as ReadSecret wants.
func CheckSecretFile(file, dataDir, what string) error {
	f, err := openSecret(file, dataDir, what)
	if err != nil {
		return err
	}
	return f.Close()
}

// openSecret opens a secret's file once it is found outside dataDir (unless
// that is "", for a client, which has none) and closed to group and others.
func openSecret(file, dataDir, what string) (*os.File, error) {
	if dataDir != "" {
		if err := checkOutsideAs(file, dataDir, what); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("keyring: open %s file: %w", what, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("keyring: stat %s file: %w", what, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
		f.Close()
		return nil, fmt.Errorf("keyring: %s file %s must be a regular file that group and others cannot read or write (chmod 600)", what, file)
	}
	return f, nil
}

// loadKDF reads the passphrase parameters, or makes them on a first start.
func loadKDF(dataDir string, create bool) (*kdfParams, error) {
	path := filepath.Join(dataDir, kdfFile)
	p, err := readKDF(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		p = &kdfParams{KDF: kdfName, Iterations: pbkdf2Iterations, Salt: make([]byte, 32)}
		rand.Read(p.Salt)
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		if err := createKDF(path, p); errors.Is(err, fs.ErrExist) {
			return loadKDF(dataDir, false) // another start made them first
		} else if err != nil {
			return nil, err
		}
		return p, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("keyring: %s is missing: the passphrase source keeps its salt there (copy it from the server's data directory)", path)
	}
	return p, err
}

// readKDF reads the parameters at path; a missing file is fs.ErrNotExist.
func readKDF(path string) (*kdfParams, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: passphrase parameters: %w", err)
	}
	var p kdfParams
	if err := json.Unmarshal(raw, &p); err != nil || p.KDF != kdfName || p.Iterations < 100_000 || len(p.Salt) < 16 {
		return nil, fmt.Errorf("keyring: %s is corrupt", path)
	}
	return &p, nil
}

// createKDF writes p to a new file at path (0600, synced).
func createKDF(path string, p *kdfParams) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// writeKDF writes p to path, replacing what is there.
func writeKDF(path string, p *kdfParams) error {
	os.Remove(path)
	return createKDF(path, p)
}
