package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/twinvault/twinvault/audit"
	"github.com/twinvault/twinvault/backup"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
)

// Offline tools read a stopped server's files: the data directory and the
// master key, with the same defaults as serve. Pebble's lock keeps them
// from opening a store a running server holds.

// withBarrier opens the store of cfg read for an offline tool and runs fn.
func withBarrier(ctx context.Context, cfg Config, fn func(b *barrier.Barrier) error) error {
	cfg.setDefaults()
	master, err := cfg.openMasterKey(false)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	defer master.close()
	if cfg.embedded() {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "kv")); err != nil {
			return fmt.Errorf("no store in %s: %w", cfg.DataDir, err)
		}
	}
	store, err := cfg.openStore(ctx)
	if err != nil {
		return fmt.Errorf("open the store (is the server still running?): %w", err)
	}
	defer store.Close()
	kr, err := master.open(ctx, &cfg, store)
	if err != nil {
		return err
	}
	b, err := barrier.New(ctx, store, kr)
	if err != nil {
		return err
	}
	return fn(b)
}

// AuditReport is what VerifyAudit found.
type AuditReport struct {
	Entries  int
	Digests  int
	Problems []audit.Problem
	// Outside counts the problems left out of Problems because they lie
	// outside the range asked for (AuditRange).
	Outside    int
	Checkpoint []byte // a signed checkpoint of the log as it is
	PublicKey  string // its verifier key
	// The digests' RSA public key (DER PKCS#1, base64) and fingerprint.
	DigestKey, DigestKeyFingerprint string
}

// VerifyAuditRange checks the audit log of a stopped server's store and
// signs a checkpoint of it, to be kept apart from the store. It reports
// only the problems of entries and hourly digests whose time lies in
// [from, to) (a zero bound is open), as validate-logs does with
// --start-time and --end-time. The whole chain
// is still walked: an entry's link to the one before is what is checked.
// A problem whose entry cannot be read to tell its time is reported.
func VerifyAuditRange(ctx context.Context, cfg Config, from, to time.Time) (*AuditReport, error) {
	r := &AuditReport{}
	err := withBarrier(ctx, cfg, func(b *barrier.Barrier) error {
		l := audit.Open(b, nil)
		defer l.Close()
		var err error
		if r.Entries, r.Problems, err = l.Verify(ctx); err != nil {
			return err
		}
		// Hours that ended while the server was stopped get their digests
		// first, then the whole chain is checked.
		if err := l.SealDigests(ctx, time.Now()); err != nil {
			return err
		}
		var more []audit.Problem
		if r.Digests, more, err = l.VerifyDigests(ctx); err != nil {
			return err
		}
		r.Problems = append(r.Problems, more...)
		if !from.IsZero() || !to.IsZero() {
			if r.Problems, r.Outside, err = l.InRange(ctx, r.Problems, from, to); err != nil {
				return err
			}
		}
		if r.PublicKey, err = l.PublicKey(ctx); err != nil {
			return err
		}
		if r.DigestKey, r.DigestKeyFingerprint, err = l.DigestPublicKey(ctx); err != nil {
			return err
		}
		r.Checkpoint, err = l.Checkpoint(ctx)
		return err
	})
	return r, err
}

// ExportAudit writes the events of a stopped server's audit log whose time
// lies in [start, end), oldest first, one CloudTrail record per line.
func ExportAudit(ctx context.Context, cfg Config, start, end time.Time, w io.Writer) (n int, err error) {
	err = withBarrier(ctx, cfg, func(b *barrier.Barrier) error {
		l := audit.Open(b, nil)
		defer l.Close()
		return l.Export(ctx, start, end, func(record []byte) error {
			n++
			_, err := w.Write(append(record, '\n'))
			return err
		})
	})
	return n, err
}

// Restore brings a backup back into cfg's data directory, which must hold
// no store yet: the master key of cfg must open the backup's keyring, or
// nothing is written. The master key is never created here: it is the one
// the backed-up server used.
func Restore(ctx context.Context, cfg Config, r io.Reader) (backup.Stats, error) {
	cfg.setDefaults()
	master, err := cfg.openMasterKey(false)
	if err != nil {
		return backup.Stats{}, fmt.Errorf("master key: %w", err)
	}
	defer master.close()
	dir := filepath.Join(cfg.DataDir, "kv")
	embedded := cfg.embedded()
	if _, err := os.Stat(dir); err == nil && embedded {
		return backup.Stats{}, fmt.Errorf("%s already holds a store; restore into a new data directory", cfg.DataDir)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return backup.Stats{}, err
	}
	// A database that holds data already is refused by backup.Restore.
	store, err := cfg.openStore(ctx)
	if err != nil {
		return backup.Stats{}, err
	}
	bodies, err := cfg.openObjects(ctx)
	if err != nil {
		store.Close()
		return backup.Stats{}, err
	}
	st, err := backup.Restore(ctx, r, store, bodies, []byte(keyring.RecordKey), func(rec []byte) error {
		return master.check(rec)
	})
	if err != nil && !embedded && !errors.Is(err, backup.ErrNotEmpty) {
		// The database was empty: leave it so.
		if cerr := clearStore(ctx, store); cerr != nil {
			err = fmt.Errorf("%w (removing the partial restore failed too: %v)", err, cerr)
		}
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Nothing usable is left behind: a half-restored store is removed.
		os.RemoveAll(dir)
		os.RemoveAll(filepath.Join(cfg.DataDir, "objects"))
		return st, err
	}
	return st, nil
}

// clearStore deletes every key of a store, in batches.
func clearStore(ctx context.Context, store kv.Store) error {
	for {
		var ws []kv.Write
		err := store.Scan(ctx, kv.Range{Limit: 1000}, func(k, _ []byte) error {
			ws = append(ws, kv.Write{Key: bytes.Clone(k)})
			return nil
		})
		if err != nil || len(ws) == 0 {
			return err
		}
		if err := store.Batch(ctx, ws); err != nil {
			return err
		}
	}
}
