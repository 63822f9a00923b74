package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/objstore"
	"github.com/twinvault/twinvault/pebble"
)

// MigrateStats says what Migrate copied.
type MigrateStats struct {
	Pairs int
	Bytes int64
	// Objects and ObjectBytes count the bodies copied into an object
	// store (with --objects s3); none when the bodies stay where they are.
	Objects     int
	ObjectBytes int64
}

// migrateBatch bounds one batch of copied pairs.
const migrateBatch = 4 << 20

// Migrate copies a stopped server's embedded store (DataDir/kv) into the
// engine cfg names (PostgreSQL), which must be empty, then reads both back
// and compares them whole. The pairs are ciphertext and go across as they
// are: nothing is decrypted, and no key is needed. The object bodies stay
// in DataDir/objects, where a node on the new engine reads them, unless
// cfg names an S3 object store: then they are copied there too, as they
// are, and read back and compared.
func Migrate(ctx context.Context, cfg Config) (MigrateStats, error) {
	cfg.setDefaults()
	if cfg.embedded() {
		return MigrateStats{}, errors.New("migrate copies the embedded store to another engine: give --storage postgres")
	}
	dir := filepath.Join(cfg.DataDir, "kv")
	if _, err := os.Stat(dir); err != nil {
		return MigrateStats{}, fmt.Errorf("no store in %s: %w", cfg.DataDir, err)
	}
	src, err := pebble.Open(dir, pebble.Options{})
	if err != nil {
		return MigrateStats{}, fmt.Errorf("open the store (is the server still running?): %w", err)
	}
	defer src.Close()
	dst, err := cfg.openStore(ctx)
	if err != nil {
		return MigrateStats{}, err
	}
	defer dst.Close()
	if found, err := kv.Any(ctx, dst, kv.Range{}); err != nil || found {
		if err == nil {
			err = errors.New("the target store is not empty; migrate into an empty schema")
		}
		return MigrateStats{}, err
	}
	var st MigrateStats
	var batch []kv.Write
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.Batch(ctx, batch)
		batch, size = batch[:0], 0
		return err
	}
	// One snapshot of the source: what is copied is consistent.
	err = src.View(ctx, func(r kv.Reader) error {
		return r.Scan(ctx, kv.Range{}, func(k, v []byte) error {
			batch = append(batch, kv.Write{Key: bytes.Clone(k), Value: bytes.Clone(v)})
			size += len(k) + len(v)
			st.Pairs++
			st.Bytes += int64(len(k) + len(v))
			if size >= migrateBatch {
				return flush()
			}
			return nil
		})
	})
	if err == nil {
		err = flush()
	}
	// A copy that failed or cannot be shown whole is removed: the target
	// was empty, and is left so.
	abandon := func(err error) error {
		if cerr := clearStore(ctx, dst); cerr != nil {
			return fmt.Errorf("%w (removing the partial copy failed too: %v)", err, cerr)
		}
		return err
	}
	if err != nil {
		return st, abandon(fmt.Errorf("copy: %w", err))
	}
	a, na, err := digest(ctx, src)
	if err != nil {
		return st, abandon(err)
	}
	b, nb, err := digest(ctx, dst)
	if err != nil {
		return st, abandon(err)
	}
	if na != nb || !bytes.Equal(a, b) {
		return st, abandon(fmt.Errorf("verify: the copy differs from the source (%d pairs against %d)", nb, na))
	}
	if cfg.Objects == ObjectsS3 {
		if err := migrateObjects(ctx, cfg, &st); err != nil {
			return st, abandon(fmt.Errorf("objects: %w", err))
		}
	}
	return st, nil
}

// migrateObjects copies every body of DataDir/objects into the configured
// object store, which must hold none under its prefix, and reads each back
// to compare; a failure removes what was copied.
func migrateObjects(ctx context.Context, cfg Config, st *MigrateStats) error {
	src, err := objstore.OpenDir(filepath.Join(cfg.DataDir, "objects"))
	if err != nil {
		return err
	}
	dst, err := cfg.openObjects(ctx)
	if err != nil {
		return err
	}
	errStop := errors.New("stop")
	err = dst.List(ctx, "", func(string) error { return errStop })
	if errors.Is(err, errStop) {
		return errors.New("the target object store holds objects under its prefix already; migrate into an empty one")
	}
	if err != nil {
		return err
	}
	var names []string
	if err := src.List(ctx, "", func(n string) error { names = append(names, n); return nil }); err != nil {
		return err
	}
	var copied []string
	undo := func() {
		for _, n := range copied {
			dst.Delete(context.WithoutCancel(ctx), n)
		}
	}
	for _, n := range names {
		sum, size, err := copyObject(ctx, src, dst, n)
		if err == nil {
			copied = append(copied, n)
			err = checkObject(ctx, dst, n, sum, size)
		}
		if err != nil {
			undo()
			return fmt.Errorf("%s: %w", n, err)
		}
		st.Objects++
		st.ObjectBytes += size
	}
	return nil
}

// copyObject copies one body and returns its SHA-256 and size.
func copyObject(ctx context.Context, src, dst objstore.Store, name string) ([]byte, int64, error) {
	r, err := src.Open(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	h := sha256.New()
	n, err := dst.Put(ctx, name, io.TeeReader(io.NewSectionReader(r, 0, r.Size()), h))
	if err != nil {
		return nil, 0, err
	}
	if n != r.Size() {
		return nil, 0, fmt.Errorf("copied %d of %d bytes", n, r.Size())
	}
	return h.Sum(nil), n, nil
}

// checkObject reads a copied body back and compares it.
func checkObject(ctx context.Context, s objstore.Store, name string, sum []byte, size int64) error {
	r, err := s.Open(ctx, name)
	if err != nil {
		return err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, r.Size())); err != nil {
		return err
	}
	if r.Size() != size || !bytes.Equal(h.Sum(nil), sum) {
		return errors.New("verify: the copy differs from the source")
	}
	return nil
}

// digest hashes every key and value of a store, in order.
func digest(ctx context.Context, s kv.Store) ([]byte, int, error) {
	h := sha256.New()
	n := 0
	err := s.View(ctx, func(r kv.Reader) error {
		return r.Scan(ctx, kv.Range{}, func(k, v []byte) error {
			fmt.Fprintf(h, "%d:%d:", len(k), len(v))
			h.Write(k)
			h.Write(v)
			n++
			return nil
		})
	})
	return h.Sum(nil), n, err
}
