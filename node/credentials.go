package node

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/twinvault/twinvault/iam"
)

// writeCredentials puts the key in the shared-credentials file as profile
// [twinvault], keeping any other profiles the file already holds, and
// leaves the file readable by its owner only.
func writeCredentials(path string, key *iam.AccessKey) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("credentials file: %w", err)
	}
	var b bytes.Buffer
	skip := false
	sc := bufio.NewScanner(bytes.NewReader(old))
	for sc.Scan() {
		line := sc.Text()
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			skip = strings.TrimSpace(t[1:len(t)-1]) == CredentialsProfile
		}
		if !skip {
			b.WriteString(line + "\n")
		}
	}
	if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n\n")) {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", CredentialsProfile, key.ID, key.Secret)
	return replaceCredentials(path, b.Bytes())
}

// replaceCredentials puts data in the credentials file at path, readable by
// its owner only, through a file beside it renamed into place: a crash
// leaves the old file or the new one, never a cut one (the file may hold
// the user's other profiles).
func replaceCredentials(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*")
	if err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("credentials file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("credentials file: %w", err)
	}
	return nil
}

// inside reports whether path lies within dir, comparing absolute paths
// with the symbolic links of their existing parts resolved.
func inside(path, dir string) (bool, error) {
	p, err := resolve(path)
	if err != nil {
		return false, err
	}
	d, err := resolve(dir)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../"), nil
}

// resolve makes p absolute and resolves the links of its longest existing
// prefix; the rest, not created yet, is kept as written.
func resolve(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(append([]string{p}, rest...)...), nil
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}
