// Package pebble is the embedded kv.Store engine, built on CockroachDB's
// Pebble LSM. It is the default engine: one directory, no server to run.
//
// Transactions are serialised: one Update runs at a time, reading through an
// indexed batch that overlays its own writes on the committed state. Nothing
// else can commit while it runs, so its reads cannot go stale and Update
// never returns kv.ErrConflict. Blind Batch writes may run together but
// never during an Update. Plain Get and Scan never wait for writers: they
// read committed state through Pebble iterators, which are consistent
// point-in-time views.
//
// Every write is synced to the WAL before it is acknowledged (under a
// kv.Deferred, before its caller acknowledges it). Concurrent
// writers share WAL syncs: a writer gives up the writer lock once its
// writes are applied and waits for its sync outside it, so the next
// writer's commit joins the same sync (see Update). As in Pebble itself, a
// write is visible to readers from the moment it is applied, a little before
// its sync completes; a crash in between loses a write that was seen but
// never acknowledged.
package pebble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	dto "github.com/prometheus/client_model/go"

	"github.com/twinvault/twinvault/kv"
)

// Options tunes a Store. The zero value suits a small server.
type Options struct {
	// CacheSize is the size in bytes of the block cache shared by reads;
	// 0 means 64 MiB.
	CacheSize int64
	// MemTableSize is the size in bytes of one memtable, the in-memory
	// write buffer that is flushed to a table file when full; 0 means
	// 32 MiB. Up to four may exist at once while flushes catch up.
	MemTableSize uint64
	// Logger receives Pebble's own messages: informational ones at debug
	// level, background errors at error level. Nil means slog.Default().
	// The engine itself logs no keys or values.
	Logger *slog.Logger
}

// Store is a kv.Store in a Pebble directory.
type Store struct {
	db  *pebble.DB
	dir string

	// wmu orders writers: Update holds it exclusively for the whole
	// transaction, Batch holds it shared for its commit.
	wmu sync.RWMutex

	gate kv.Gate // Close waits for calls in flight before closing the database
}

var _ kv.Store = (*Store)(nil)

// Open opens the store in dir, creating it if needed. Only one Store may
// have a directory open at a time; Pebble holds a lock file to enforce it.
func Open(dir string, opts Options) (*Store, error) {
	// The directory holds only ciphertext, but nobody else needs it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pebble: open %s: %w", dir, err)
	}
	return open(dir, opts, nil)
}

// open is Open on the file system fs, or the operating system's when fs is
// nil; tests pass a file system that can simulate a crash.
func open(dir string, opts Options, fs vfs.FS) (*Store, error) {
	if opts.CacheSize <= 0 {
		opts.CacheSize = 64 << 20
	}
	if opts.MemTableSize == 0 {
		opts.MemTableSize = 32 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	lg := logger{opts.Logger}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref() // the DB holds its own reference
	po := &pebble.Options{
		Cache: cache,
		// The newest stable format, for the newest table features. Pebble
		// upgrades an older store to it on open, after which an older
		// Pebble cannot open the store: a store only moves forward with
		// the binary.
		FormatMajorVersion:          pebble.FormatNewest,
		MemTableSize:                opts.MemTableSize,
		MemTableStopWritesThreshold: 4,
		Logger:                      lg,
		EventListener:               lg.events(),
		FS:                          fs,
	}
	// Bloom filters let a Get skip tables that do not hold the key, most
	// of them in an LSM; existence checks that find nothing gain most.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("pebble: open %s: %w", dir, err)
	}
	return &Store{db: db, dir: dir}, nil
}

func (s *Store) enter(ctx context.Context) error { return s.gate.Enter(ctx) }

func (s *Store) leave() { s.gate.Leave() }

// Close waits for calls in flight, then closes the database; an Update or
// Batch that left its wait to a kv.Deferred is in flight until that wait
// has run. Calls made
// after Close has begun return kv.ErrClosed, and so does a second Close.
// Close must not be called from inside a Scan callback or an Update: it
// would wait for that call forever.
func (s *Store) Close() error {
	if err := s.gate.Close(); err != nil {
		return err
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("pebble: close %s: %w", s.dir, err)
	}
	return nil
}

// Syncs reports the write-ahead log's syncs since the store was opened:
// how many, and the time they took in all. Every durable write waits for
// one, shared with the writes that arrived while the last one ran. A sync
// is counted just after the writes it carried return.
func (s *Store) Syncs() (n uint64, took time.Duration, err error) {
	if err := s.enter(context.Background()); err != nil {
		return 0, 0, err
	}
	defer s.leave()
	var m dto.Metric
	if err := s.db.Metrics().LogWriter.FsyncLatency.Write(&m); err != nil {
		return 0, 0, fmt.Errorf("pebble: sync metrics: %w", err)
	}
	h := m.GetHistogram()
	return h.GetSampleCount(), time.Duration(h.GetSampleSum()), nil // Pebble observes nanoseconds
}

// Get returns a copy of the committed value of key.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.leave()
	return get(s.db, key)
}

// Scan calls fn for each committed pair in r, from one consistent view.
func (s *Store) Scan(ctx context.Context, r kv.Range, fn func(key, value []byte) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	return scan(ctx, s.db, r, fn)
}

// View runs fn over a Pebble snapshot, which pins a sequence number: reads
// through it see nothing committed later, and writers never wait for it.
func (s *Store) View(ctx context.Context, fn func(kv.Reader) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	snap := s.db.NewSnapshot()
	r := &snapshot{s: snap}
	defer func() {
		r.done = true
		snap.Close()
	}()
	return fn(r)
}

// snapshot reads through a Pebble snapshot until its View returns.
type snapshot struct {
	s    *pebble.Snapshot
	done bool
}

func (r *snapshot) Get(ctx context.Context, key []byte) ([]byte, error) {
	if r.done {
		return nil, errTxDone
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return get(r.s, key)
}

func (r *snapshot) Scan(ctx context.Context, rg kv.Range, fn func(key, value []byte) error) error {
	if r.done {
		return errTxDone
	}
	return scan(ctx, r.s, rg, fn)
}

// Batch applies ws atomically and returns once they are synced, or, when
// ctx carries a kv.Deferred, once they are applied: the write the Deferred
// promises carries them to disk, and they ask for no sync of their own.
func (s *Store) Batch(ctx context.Context, ws []kv.Write) error {
	if d := kv.DeferredOf(ctx); d != nil && d.Add(carried) {
		return s.batchCarried(ctx, ws)
	}
	wait, err := s.BatchApply(ctx, ws)
	if err != nil {
		return err
	}
	if d := kv.DeferredOf(ctx); d != nil && d.Add(wait) {
		return nil
	}
	return wait()
}

// newBatch returns a batch of ws.
func (s *Store) newBatch(ws []kv.Write) (*pebble.Batch, error) {
	b := s.db.NewBatch()
	for _, w := range ws {
		var err error
		if w.Value == nil {
			err = b.Delete(w.Key, nil)
		} else {
			err = b.Set(w.Key, w.Value, nil)
		}
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("pebble: batch: %w", err)
		}
	}
	return b, nil
}

// carried is the wait of writes that a later synced write carries to disk:
// by the time the Deferred runs it, there is nothing left to wait for.
func carried() error { return nil }

// batchCarried applies ws without asking the log for a sync: the log is
// one ordered file, so the later synced write a kv.Deferred promises makes
// them durable with it. A sync asked for here would start ahead of that
// write's and cost the log a sync of its own.
func (s *Store) batchCarried(ctx context.Context, ws []kv.Write) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	if len(ws) == 0 {
		return nil
	}
	b, err := s.newBatch(ws)
	if err != nil {
		return err
	}
	defer b.Close()
	return s.applyShared(ctx, b, false)
}

// BatchApply applies ws now, in order after every batch applied before,
// and returns the wait for its WAL sync (see kv.Pipeliner).
func (s *Store) BatchApply(ctx context.Context, ws []kv.Write) (wait func() error, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		s.leave()
		return func() error { return nil }, nil
	}
	b, err := s.newBatch(ws)
	if err != nil {
		s.leave()
		return nil, err
	}
	if err := s.applyShared(ctx, b, true); err != nil {
		b.Close()
		s.leave()
		return nil, err
	}
	// The sync is waited for out of the lock, as in Update; the call stays
	// in flight (Close waits for it) until then.
	return func() error {
		defer s.leave()
		defer b.Close()
		if err := b.SyncWait(); err != nil {
			return fmt.Errorf("pebble: batch commit: %w", err)
		}
		return nil
	}, nil
}

// applyShared applies b under the writer lock held shared (batches do not
// read, so they need not exclude each other, only transactions), asking
// for a sync, without waiting for it, or not.
func (s *Store) applyShared(ctx context.Context, b *pebble.Batch, sync bool) error {
	s.wmu.RLock()
	defer s.wmu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if sync {
		err = s.db.ApplyNoSyncWait(b, pebble.Sync)
	} else {
		err = s.db.Apply(b, pebble.NoSync)
	}
	if err != nil {
		return fmt.Errorf("pebble: batch commit: %w", err)
	}
	return nil
}

// Update runs fn as the only writer of the store, then commits its writes
// with a synced WAL write; when ctx carries a kv.Deferred it returns once
// they are applied and leaves the wait for the sync there. It does not
// commit when ctx is done by the time fn returns. A panic in fn discards
// the writes, releases the store and carries on up the stack.
//
// fn must not call Update or Batch on the same Store (they would wait for
// this Update to end) and must not use tx from another goroutine.
func (s *Store) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	t := &tx{}
	handed := false // the wait, and with it the batch and the call in flight, went to a kv.Deferred
	defer func() {
		if !handed {
			t.close()
			s.leave()
		}
	}()
	applied, err := s.apply(ctx, t, fn)
	if err != nil || !applied {
		return err
	}
	if d := kv.DeferredOf(ctx); d != nil {
		handed = d.Add(func() error {
			defer s.leave()
			defer t.close()
			if err := t.b.SyncWait(); err != nil {
				return fmt.Errorf("pebble: commit: %w", err)
			}
			return nil
		})
		if handed {
			return nil
		}
	}
	// The writer lock is already released: the next transaction runs while
	// this one waits for its WAL sync, and Pebble syncs waiting commits
	// together. That is early lock release, and it is safe because the WAL
	// is one ordered log: a later transaction that read these writes is
	// synced with or after them, so it is never acknowledged while they can
	// still be lost. (Pebble makes a commit visible before its sync in any
	// case; a plain Commit would only hold the lock longer.)
	if err := t.b.SyncWait(); err != nil {
		return fmt.Errorf("pebble: commit: %w", err)
	}
	return nil
}

// apply runs fn in t under the writer lock and applies t's writes, without
// waiting for them to be synced. It reports whether there was anything to
// apply.
func (s *Store) apply(ctx context.Context, t *tx, fn func(kv.Tx) error) (bool, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	// The wait for the lock may have outlasted the caller.
	if err := ctx.Err(); err != nil {
		return false, err
	}
	t.b = s.db.NewIndexedBatch()
	err := func() error {
		defer func() { t.done = true }() // even when fn panics
		return fn(t)
	}()
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if t.b.Empty() {
		return false, nil
	}
	if err := s.db.ApplyNoSyncWait(t.b, pebble.Sync); err != nil {
		return false, fmt.Errorf("pebble: commit: %w", err)
	}
	return true, nil
}

// errTxDone is returned by a Tx used after its Update returned.
var errTxDone = errors.New("pebble: transaction already finished")

// tx is a read-write transaction over an indexed batch: reads merge the
// batch's writes over the database, which no one else writes meanwhile.
type tx struct {
	b    *pebble.Batch
	done bool
}

// close releases the batch; an applied batch must have been waited for.
func (t *tx) close() {
	t.done = true
	if t.b != nil {
		t.b.Close()
	}
}

func (t *tx) Get(ctx context.Context, key []byte) ([]byte, error) {
	if t.done {
		return nil, errTxDone
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return get(t.b, key)
}

// Scan sees the transaction's writes made before it started; fn may write
// to the transaction, and the scan goes on over the state it started from.
func (t *tx) Scan(ctx context.Context, r kv.Range, fn func(key, value []byte) error) error {
	if t.done {
		return errTxDone
	}
	return scan(ctx, t.b, r, fn)
}

// Set copies key and value into the batch, so the caller may reuse them.
func (t *tx) Set(key, value []byte) error {
	if t.done {
		return errTxDone
	}
	if err := t.b.Set(key, value, nil); err != nil {
		return fmt.Errorf("pebble: set: %w", err)
	}
	return nil
}

func (t *tx) Delete(key []byte) error {
	if t.done {
		return errTxDone
	}
	if err := t.b.Delete(key, nil); err != nil {
		return fmt.Errorf("pebble: delete: %w", err)
	}
	return nil
}

// getter is what a pebble.DB and an indexed pebble.Batch share for reads.
type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIterWithContext(ctx context.Context, o *pebble.IterOptions) (*pebble.Iterator, error)
}

// get returns a copy of key's value: Pebble's slice is only valid until its
// closer is closed, and the caller owns what Get returns.
func get(r getter, key []byte) ([]byte, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pebble: get: %w", err)
	}
	defer c.Close()
	return append(make([]byte, 0, len(v)), v...), nil
}

func scan(ctx context.Context, r getter, rg kv.Range, fn func(key, value []byte) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rg.End != nil && bytes.Compare(rg.Start, rg.End) >= 0 {
		return nil // empty; Pebble wants lower < upper
	}
	it, err := r.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: rg.Start, UpperBound: rg.End})
	if err != nil {
		return fmt.Errorf("pebble: scan: %w", err)
	}
	// Closed even when fn panics: an open iterator pins memtables and
	// files, and makes Close fail.
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("pebble: scan: %w", cerr)
		}
	}()
	first, next := it.First, it.Next
	if rg.Reverse {
		first, next = it.Last, it.Prev
	}
	done := ctx.Done() // nil, and never ready, for a context without end
	n := 0
	for ok := first(); ok; ok = next() {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("pebble: scan: %w", err)
		}
		if err := fn(it.Key(), v); err != nil {
			if errors.Is(err, kv.Stop) {
				return nil
			}
			return err
		}
		n++
		if rg.Limit > 0 && n >= rg.Limit {
			return nil
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebble: scan: %w", err)
	}
	return nil
}
