// Package barrier is the only place TwinVault encrypts data, after the
// barrier of HashiCorp Vault: every value passes through it on its way to
// the kv store, which is untrusted and never sees plaintext.
//
// Data is partitioned into views (one per workspace, plus the system view
// for global data). Each view has its own data-encryption keys (DEKs) and
// blind-index key, kept wrapped under the keyring in the view's key record,
// so dropping a view destroys its keys and makes its data unreadable even
// where copies survive (backups, file system slack): crypto-shredding.
//
// # Storage layout
//
// All keys share one kv keyspace. View ids are opaque byte strings chosen
// by the caller (for example a blind index of a workspace id, never a
// plaintext name), 1 to 255 bytes long; the system view has the empty id.
//
//	"\x00keyring"                          keyring record: term keys, sealed under
//	                                       the master key (package keyring)
//	'k' | len(id) | id                     key record of view id: its gen, blind-index key
//	                                       and DEK versions, sealed under a keyring term
//	'v' | len(id) | id | gen[8] | key      value of key in view id, sealed under a DEK
//	                                       version of the view
//	 │      │                  │
//	 │      │                  └ random per incarnation: a view dropped and created
//	 │      │                    again with the same id never sees the old values
//	 │      └ one byte, so no id's prefix is a prefix of another id's
//	 └ key records and values live apart, so a scan over values never meets
//	   a key record
//
// Every stored value, key records included, has the sealed value format
// (see Overhead):
//
//	[term u32 big-endian][version u8 = 1][nonce 12][AES-256-GCM ciphertext+tag]
//
// with the full storage key as additional authenticated data, so a value
// copied to another key, view or incarnation fails with ErrIntegrity. For a
// value term is the view's DEK version; for a key record it is the keyring
// term that wrapped it, so records wrapped before a keyring rotation still
// open.
package barrier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
)

var (
	// ErrNoView means the view was never created, has been dropped, or
	// the handle belongs to an incarnation of its id that was dropped.
	ErrNoView = errors.New("barrier: no such view")
	// ErrViewExists is returned by CreateView for an id already in use.
	ErrViewExists = errors.New("barrier: view already exists")
	// ErrInvalidViewID is returned for an id that is empty or too long.
	ErrInvalidViewID = errors.New("barrier: invalid view id")
)

// sweepBatch bounds the deletions of one DropView transaction.
const sweepBatch = 256

// Barrier encrypts everything stored through it. It is safe for
// concurrent use.
type Barrier struct {
	store kv.Store
	kr    *keyring.Keyring
	sys   *View

	mu    sync.Mutex
	views map[string]*View // unwrapped views by id

	// batchMu orders blind writes (read side) against retiring DEK
	// versions (write side); epoch counts key record changes.
	batchMu sync.RWMutex
	epoch   atomic.Uint64

	// shared: other processes use the store too, so blind writes read
	// the key record in their transaction (see View.Batch).
	shared bool

	sealBudget atomic.Uint64                   // seals a DEK may make before it is rotated
	onRotate   atomic.Pointer[func(id []byte)] // told of automatic rotations
}

// New returns a barrier over store whose view keys are wrapped by kr. It
// creates the system view on first use; if the system view's key record is
// missing from a store that holds other views or values (a partial restore,
// or a deleted record), New fails rather than start a new system view that
// would hide the old one.
func New(ctx context.Context, store kv.Store, kr *keyring.Keyring) (*Barrier, error) {
	b := &Barrier{store: store, kr: kr, views: map[string]*View{}, shared: kv.IsShared(store)}
	b.sealBudget.Store(DefaultSealBudget)
	err := b.Update(ctx, func(tx *Tx) error {
		v, err := tx.load(nil)
		if errors.Is(err, ErrNoView) {
			if err := noViews(ctx, tx.kv); err != nil {
				return err
			}
			v, err = tx.create(nil)
		}
		b.sys = v
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("barrier: open system view: %w", err)
	}
	return b, nil
}

// noViews checks that the store holds no key record and no value.
func noViews(ctx context.Context, r kv.Reader) error {
	for _, p := range []string{"k", "v"} {
		found, err := kv.Any(ctx, r, kv.Prefix([]byte(p)))
		if err != nil {
			return err
		}
		if found {
			return fmt.Errorf("%w: system view key record missing from a store that holds views", ErrIntegrity)
		}
	}
	return nil
}

// Shared reports whether other processes use the store as well: state kept
// in memory must then be checked against the store inside transactions.
func (b *Barrier) Shared() bool { return b.shared }

// System returns the system view, for data that belongs to no workspace.
// It cannot be dropped.
func (b *Barrier) System() *View { return b.sys }

// View returns the view with the given id. Its keys are unwrapped once and
// cached; a view dropped by another process sharing the store is detected
// by the next transaction that uses it (see Tx).
func (b *Barrier) View(ctx context.Context, id []byte) (*View, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	b.mu.Lock()
	v := b.views[string(id)]
	b.mu.Unlock()
	if v != nil && v.keys.Load() != nil {
		return v, nil
	}
	raw, err := b.store.Get(ctx, recordKey(id))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, ErrNoView
	}
	if err != nil {
		return nil, fmt.Errorf("barrier: read key record: %w", err)
	}
	v, k, err := b.open(ctx, b.store, id, raw)
	if err != nil {
		return nil, err
	}
	v.keys.Store(k)
	return b.remember(v), nil
}

// open unwraps a key record into a new View and its keys.
func (b *Barrier) open(ctx context.Context, r kv.Reader, id, raw []byte) (*View, *keys, error) {
	rk := recordKey(id)
	rec, err := b.unwrap(ctx, r, rk, raw)
	if err != nil {
		return nil, nil, err
	}
	defer rec.clear()
	k, err := newKeys(raw, rec)
	if err != nil {
		return nil, nil, err
	}
	return newView(b, id, rec), k, nil
}

// unwrap opens the key record raw stored at rk. If it was wrapped under a
// keyring term this node has not seen, another node rotated the keyring:
// reload it through r (the store, or the transaction being run) and retry.
func (b *Barrier) unwrap(ctx context.Context, r kv.Reader, rk, raw []byte) (*record, error) {
	term, body, err := header(raw)
	if err != nil {
		return nil, fmt.Errorf("%w (key record)", err)
	}
	key, err := b.kr.Key(term)
	if errors.Is(err, keyring.ErrUnknownTerm) {
		if rerr := b.kr.Refresh(ctx, r); rerr != nil {
			return nil, fmt.Errorf("barrier: key record: %w", rerr)
		}
		key, err = b.kr.Key(term)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key record: %w", ErrIntegrity, err)
	}
	a, err := newAEAD(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	pt, err := open(a, rk, body)
	if err != nil {
		return nil, fmt.Errorf("%w (key record)", err)
	}
	defer clear(pt)
	rec, err := decodeRecord(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: key record: %v", ErrIntegrity, err)
	}
	return rec, nil
}

// wrap seals a key record under the keyring's active term.
func (b *Barrier) wrap(rk []byte, rec *record) ([]byte, error) {
	return b.wrapIn(context.Background(), nil, rk, rec)
}

// wrapIn is wrap inside a transaction tx. Over a shared store the keyring
// record is read in tx first: another node may have added the term to use
// or retired the one in memory, and reading it makes a concurrent
// retirement (which reads every key record) conflict with this write.
func (b *Barrier) wrapIn(ctx context.Context, tx kv.Reader, rk []byte, rec *record) ([]byte, error) {
	if b.shared && tx != nil {
		if err := b.kr.Refresh(ctx, tx); err != nil {
			return nil, fmt.Errorf("barrier: %w", err)
		}
	}
	term, key := b.kr.Active()
	a, err := newAEAD(key)
	clear(key)
	if err != nil {
		return nil, err
	}
	pt := rec.encode()
	defer clear(pt)
	return seal(a, term, rk, pt), nil
}

// remember caches v unless an equally current handle for its id is there
// already, and returns the handle to use.
func (b *Barrier) remember(v *View) *View {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old := b.views[string(v.id)]; old != nil && old.gen == v.gen && old.keys.Load() != nil {
		return old
	}
	b.views[string(v.id)] = v
	return v
}

// evict drops v from the cache, so the next View call reads the store.
func (b *Barrier) evict(v *View) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.views[string(v.id)] == v {
		delete(b.views, string(v.id))
	}
}

// forget evicts v and marks it gone.
func (b *Barrier) forget(v *View) {
	b.evict(v)
	v.kill()
}

// Update runs fn in one kv transaction, which may span several views; its
// writes are committed atomically when fn returns nil and discarded
// otherwise. fn's error is returned unchanged, as is kv.ErrConflict when
// the transaction lost a race (the caller may retry). Views created by a
// transaction that does not commit are unusable.
//
// fn may run more than once: over a shared store, where a serializable
// database aborts transactions that merely might have raced (PostgreSQL's
// predicate locks cover pages and tables, not only rows), a lost race is
// run again (see retry) before kv.ErrConflict is returned. Callers need no
// retry loop of their own.
func (b *Barrier) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if !b.shared {
		return b.update(ctx, fn)
	}
	return retry(ctx, func() error { return b.update(ctx, fn) })
}

func (b *Barrier) update(ctx context.Context, fn func(tx *Tx) error) error {
	var txs []*Tx // one per call of the callback, should the engine retry
	err := b.store.Update(ctx, func(ktx kv.Tx) error {
		tx := &Tx{b: b, ctx: ctx, kv: ktx, keys: map[*View]*keys{}}
		txs = append(txs, tx)
		return fn(tx)
	})
	for i, tx := range txs {
		committed := err == nil && i == len(txs)-1
		for _, v := range tx.created {
			if committed {
				b.mu.Lock()
				b.views[string(v.id)] = v
				b.mu.Unlock()
			} else {
				v.keys.Store(nil)
			}
		}
		if !committed {
			continue
		}
		for _, v := range tx.loaded {
			b.remember(v)
		}
		// Keys read from a changed record (another node rotated or
		// rewrapped them) replace the cached ones.
		for v, k := range tx.keys {
			if cur := v.keys.Load(); cur != nil && cur != k && !bytes.Equal(cur.raw, k.raw) {
				v.keys.CompareAndSwap(cur, k)
			}
		}
	}
	return err
}

// Read runs fn over one consistent snapshot of the store, across views,
// without taking a writer's turn: it never waits for Update and Update
// never waits for it. The Tx it passes refuses writes.
func (b *Barrier) Read(ctx context.Context, fn func(tx *Tx) error) error {
	var tx *Tx
	err := b.store.View(ctx, func(r kv.Reader) error {
		tx = &Tx{b: b, ctx: ctx, kv: readOnly{r}, keys: map[*View]*keys{}}
		return fn(tx)
	})
	if err == nil && tx != nil {
		for _, v := range tx.loaded {
			b.remember(v)
		}
	}
	return err
}

// errReadOnly is returned by writes in a Read transaction.
var errReadOnly = errors.New("barrier: write in a read-only transaction")

// readOnly is a kv.Tx over a snapshot that refuses writes.
type readOnly struct{ kv.Reader }

func (readOnly) Set(_, _ []byte) error { return errReadOnly }
func (readOnly) Delete([]byte) error   { return errReadOnly }

// DropView crypto-shreds the view id and removes its data. It first
// deletes the key record, the only copy of the view's DEKs, in a
// transaction of its own, and forgets the keys held in memory; from then on
// the view's values cannot be decrypted by anything this process or the
// keyring holds. It then deletes the values in transactions of bounded
// size. DropView is idempotent: calling it again for a dropped id finishes
// an interrupted removal and clears values left by writers that raced the
// drop, sparing a view created again under the same id.
func (b *Barrier) DropView(ctx context.Context, id []byte) error {
	if len(id) == 0 {
		return fmt.Errorf("%w: the system view cannot be dropped", ErrInvalidViewID)
	}
	if err := validID(id); err != nil {
		return err
	}
	rk := recordKey(id)
	var (
		found bool
		gen   *[genSize]byte // nil if the record could not be opened
	)
	err := retry(ctx, func() error {
		found, gen = false, nil
		return b.store.Update(ctx, func(tx kv.Tx) error {
			raw, err := tx.Get(ctx, rk)
			if errors.Is(err, kv.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			found = true
			// The gen says which cached handle to kill; a record that
			// does not open is deleted all the same.
			if rec, err := b.unwrap(ctx, tx, rk, raw); err == nil {
				gen = &rec.gen
				rec.clear()
			}
			return tx.Delete(rk)
		})
	})
	if err != nil {
		return fmt.Errorf("barrier: drop view: %w", err)
	}
	if found {
		b.mu.Lock()
		v := b.views[string(id)]
		if v != nil && (gen == nil || v.gen == *gen) {
			delete(b.views, string(id))
		} else {
			v = nil
		}
		b.mu.Unlock()
		if v != nil {
			v.kill()
		}
	}
	return b.sweep(ctx, id)
}

// sweep deletes every value stored under id except those of the live
// incarnation, if the id has been created again. Each transaction reads the
// key record, so a concurrent CreateView cannot have its values swept.
func (b *Barrier) sweep(ctx context.Context, id []byte) error {
	all := idPrefix(id)
	rk := recordKey(id)
	for {
		var n int
		err := retry(ctx, func() error {
			n = 0
			return b.store.Update(ctx, func(tx kv.Tx) error {
				ranges := []kv.Range{kv.Prefix(all)}
				raw, err := tx.Get(ctx, rk)
				switch {
				case err == nil:
					rec, err := b.unwrap(ctx, tx, rk, raw)
					if err != nil {
						return err
					}
					live := append(slices.Clone(all), rec.gen[:]...)
					rec.clear()
					ranges = []kv.Range{
						{Start: all, End: live},
						{Start: kv.PrefixEnd(live), End: kv.PrefixEnd(all)},
					}
				case !errors.Is(err, kv.ErrNotFound):
					return err
				}
				var dead [][]byte
				for _, r := range ranges {
					if r.Limit = sweepBatch - len(dead); r.Limit <= 0 {
						break
					}
					err := tx.Scan(ctx, r, func(k, _ []byte) error {
						dead = append(dead, slices.Clone(k))
						return nil
					})
					if err != nil {
						return err
					}
				}
				for _, k := range dead {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
				n = len(dead)
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("barrier: drop view: remove data: %w", err)
		}
		if n < sweepBatch {
			return nil
		}
	}
}

// Tx is a transaction across views, passed to the callback of
// Barrier.Update. It must not be used after the callback returns.
//
// The first time a transaction touches a view it reads the view's key
// record. A view dropped meanwhile, here or by another process, thus fails
// with ErrNoView instead of receiving orphan writes under destroyed keys;
// and because the record is in the transaction's read set, a drop that
// commits while the transaction runs makes it fail with kv.ErrConflict.
type Tx struct {
	b       *Barrier
	ctx     context.Context
	kv      kv.Tx
	keys    map[*View]*keys // views checked against their record
	created []*View
	loaded  []*View // read by Tx.View, cached on commit
}

// CreateView creates an empty view with a fresh DEK and blind-index key,
// wrapped under the keyring's active term. It fails with ErrViewExists if
// the id is taken.
func (tx *Tx) CreateView(id []byte) (*View, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	return tx.create(id)
}

func (tx *Tx) create(id []byte) (*View, error) {
	rk := recordKey(id)
	_, err := tx.kv.Get(tx.ctx, rk)
	if err == nil {
		return nil, ErrViewExists
	}
	if !errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("barrier: create view: %w", err)
	}
	rec := newRecord()
	defer rec.clear()
	raw, err := tx.b.wrapIn(tx.ctx, tx.kv, rk, rec)
	if err != nil {
		return nil, err
	}
	k, err := newKeys(raw, rec)
	if err != nil {
		return nil, err
	}
	if err := tx.kv.Set(rk, raw); err != nil {
		return nil, fmt.Errorf("barrier: create view: %w", err)
	}
	v := newView(tx.b, id, rec)
	v.keys.Store(k)
	tx.keys[v] = k
	tx.created = append(tx.created, v)
	return v, nil
}

// View returns the view id as this transaction sees it: the cached handle
// if its key record is unchanged, else one read through the transaction
// (and cached once it commits). Inside an Update callback use it rather
// than Barrier.View, which reads outside the transaction.
func (tx *Tx) View(id []byte) (*View, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	tx.b.mu.Lock()
	v := tx.b.views[string(id)]
	tx.b.mu.Unlock()
	if v != nil {
		_, err := tx.use(v)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, ErrNoView) {
			return nil, err
		}
	}
	v, err := tx.load(id)
	if err != nil {
		return nil, err
	}
	tx.loaded = append(tx.loaded, v)
	return v, nil
}

// load opens the view id as stored in this transaction.
func (tx *Tx) load(id []byte) (*View, error) {
	raw, err := tx.kv.Get(tx.ctx, recordKey(id))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, ErrNoView
	}
	if err != nil {
		return nil, err
	}
	v, k, err := tx.b.open(tx.ctx, tx.kv, id, raw)
	if err != nil {
		return nil, err
	}
	v.keys.Store(k)
	tx.keys[v] = k
	return v, nil
}

// use returns the keys of v as recorded in this transaction.
func (tx *Tx) use(v *View) (*keys, error) {
	if v == nil || v.b != tx.b {
		return nil, errors.New("barrier: view belongs to another barrier")
	}
	if k, ok := tx.keys[v]; ok {
		return k, nil
	}
	cur := v.keys.Load()
	if cur == nil {
		return nil, ErrNoView
	}
	raw, err := tx.kv.Get(tx.ctx, v.rec)
	if errors.Is(err, kv.ErrNotFound) {
		tx.b.evict(v)
		return nil, ErrNoView
	}
	if err != nil {
		return nil, fmt.Errorf("barrier: read key record: %w", err)
	}
	k := cur
	if !bytes.Equal(raw, cur.raw) {
		rec, err := tx.b.unwrap(tx.ctx, tx.kv, v.rec, raw)
		if err != nil {
			return nil, err
		}
		defer rec.clear()
		if !v.same(rec) {
			tx.b.evict(v)
			return nil, ErrNoView
		}
		if k, err = newKeys(raw, rec); err != nil {
			return nil, err
		}
	}
	tx.keys[v] = k
	return k, nil
}

// Shared reports whether other processes use the store as well.
func (tx *Tx) Shared() bool { return tx.b.shared }

// Get returns the value of key in v; a missing key yields kv.ErrNotFound.
func (tx *Tx) Get(v *View, key []byte) ([]byte, error) {
	k, err := tx.use(v)
	if err != nil {
		return nil, err
	}
	sk := v.key(key)
	val, err := tx.kv.Get(tx.ctx, sk)
	if err != nil {
		return nil, err
	}
	return k.open(sk, val)
}

// Set stores value under key in v.
func (tx *Tx) Set(v *View, key, value []byte) error {
	k, err := tx.use(v)
	if err != nil {
		return err
	}
	sk := v.key(key)
	v.noteSeals(1)
	return tx.kv.Set(sk, k.seal(sk, value))
}

// Delete removes key from v.
func (tx *Tx) Delete(v *View, key []byte) error {
	if _, err := tx.use(v); err != nil {
		return err
	}
	return tx.kv.Delete(v.key(key))
}

// Scan calls fn for each pair of v in r. Keys in r and passed to fn are
// relative to the view; fn's key is valid only during the call. fn may
// return kv.Stop to end the scan early.
func (tx *Tx) Scan(v *View, r kv.Range, fn func(key, value []byte) error) error {
	return tx.ScanChecked(v, r, func(key, value []byte, err error) error {
		if err != nil {
			return err
		}
		return fn(key, value)
	})
}

// ScanChecked is Scan for verifiers: a value that does not open (changed,
// moved to another key, or not sealed by this barrier) reaches fn with its
// error instead of ending the scan.
func (tx *Tx) ScanChecked(v *View, r kv.Range, fn func(key, value []byte, err error) error) error {
	return tx.ScanSealed(v, r, func(key []byte, val Sealed) error {
		pt, err := val.Open()
		return fn(key, pt, err)
	})
}

// ScanSealed is Scan for a caller that may already know what some values
// say: fn gets each key with its value still sealed, to open or not. A
// value not opened is not checked either: only a value the caller itself
// wrote, under a key whose plaintext never changes, may be left sealed,
// and a stored copy damaged or replaced under that key then goes
// unreported (what the caller uses is still what it wrote).
func (tx *Tx) ScanSealed(v *View, r kv.Range, fn func(key []byte, val Sealed) error) error {
	k, err := tx.use(v)
	if err != nil {
		return err
	}
	sr := v.rng(r)
	return tx.kv.Scan(tx.ctx, sr, func(sk, val []byte) error {
		if !inRange(sk, sr) {
			return errOutOfRange
		}
		return fn(sk[len(v.prefix):], Sealed{k, sk, val})
	})
}

// Sealed is a value as stored, valid only during the ScanSealed callback
// that got it.
type Sealed struct {
	k       *keys
	sk, val []byte
}

// Open checks and decrypts the value.
func (s Sealed) Open() ([]byte, error) { return s.k.open(s.sk, s.val) }

// Size is what the pair takes in the store: its key, with the view's
// prefix, and its sealed value.
func (s Sealed) Size() int { return len(s.sk) + len(s.val) }

// retry runs fn again, after a short growing wait, while it fails with
// kv.ErrConflict, up to 20 times or until ctx ends: for a transaction that
// is safe to redo whole (Update's, and the barrier's own on the store).
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range 20 {
		if err = fn(); !errors.Is(err, kv.ErrConflict) {
			return err
		}
		// A database under serializable isolation aborts one of two
		// transactions that touch the same range; waiting a little, and
		// a little longer each time, lets the other finish.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(1+rand.IntN(1<<min(attempt, 7))) * time.Millisecond):
		}
	}
	return err
}
