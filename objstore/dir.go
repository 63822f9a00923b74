package objstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dir is a Store in a local directory. Each object is one file named by the
// hex of its name, written to a temporary file, synced, then renamed into
// place, so a crash leaves either the old object or the new one.
type Dir struct {
	root string
}

// OpenDir returns the store in root, creating it (0700) if needed.
func OpenDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	// Leftovers of puts cut short by a crash.
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			os.Remove(filepath.Join(root, e.Name()))
		}
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(name string) string {
	return filepath.Join(d.root, hex.EncodeToString([]byte(name)))
}

func (d *Dir) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	if name == "" {
		return 0, errors.New("objstore: empty name")
	}
	f, err := os.CreateTemp(d.root, ".tmp-")
	if err != nil {
		return 0, fmt.Errorf("objstore: %w", err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(&writeback{f: f}, ctxReader{ctx, r})
	if err != nil {
		return 0, fmt.Errorf("objstore: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("objstore: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("objstore: %w", err)
	}
	_, err = os.Lstat(d.path(name))
	replacing := err == nil
	if err := os.Rename(f.Name(), d.path(name)); err != nil {
		return 0, fmt.Errorf("objstore: %w", err)
	}
	done = true
	// The rename is durable once the directory is: a body is not reported
	// stored before then, and a new one that cannot be is not left behind
	// (one that replaced another stays, as the old one is gone).
	if err := syncDir(d.root); err != nil {
		if !replacing {
			os.Remove(d.path(name))
		}
		return 0, fmt.Errorf("objstore: sync %s: %w", d.root, err)
	}
	return n, nil
}

// writebackEvery is how much a put writes before it has the kernel start
// writing it to disk.
const writebackEvery = 8 << 20

// writeback writes to f, starting the disk writes of each writebackEvery
// bytes as they fill, so a large body is mostly on disk when it ends.
type writeback struct {
	f       *os.File
	n, sent int64 // written; handed to writeback
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	if w.n-w.sent >= writebackEvery {
		startWriteback(w.f, w.sent, w.n-w.sent)
		w.sent = w.n
	}
	return n, err
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// WriteTo lets a reader that writes its own buffers do so, checking the
// context before each write.
func (c ctxReader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := c.r.(io.WriterTo); ok {
		return wt.WriteTo(ctxWriter(c.ctx, w))
	}
	return io.Copy(w, struct{ io.Reader }{c}) // Read only, not WriteTo again
}

func ctxWriter(ctx context.Context, w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return w.Write(p)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type fileReader struct {
	*os.File
	size int64
}

func (f fileReader) Size() int64 { return f.size }

func (d *Dir) Open(ctx context.Context, name string) (Reader, error) {
	f, err := os.Open(d.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("objstore: %w", err)
	}
	return fileReader{f, st.Size()}, nil
}

func (d *Dir) Delete(ctx context.Context, name string) error {
	err := os.Remove(d.path(name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("objstore: %w", err)
	}
	return nil
}

func (d *Dir) List(ctx context.Context, prefix string, fn func(name string) error) error {
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return fmt.Errorf("objstore: %w", err)
	}
	var names []string
	for _, e := range entries {
		raw, err := hex.DecodeString(e.Name())
		if err != nil || !strings.HasPrefix(string(raw), prefix) {
			continue
		}
		names = append(names, string(raw))
	}
	sort.Strings(names)
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(n); err != nil {
			return err
		}
	}
	return nil
}

// syncDir makes the directory's entries durable.
func syncDir(path string) error {
	dir, err := os.Open(path)
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
