package barrier

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twinvault/twinvault/kv"
)

// IndexSize is the length of a blind index.
const IndexSize = 16

const (
	genSize = 8
	keySize = 32
	// maxIDLen keeps the length prefix of a view id to one byte.
	maxIDLen = 255
)

// View is one partition of the data with its own keys. Its values are
// sealed under the view's data-encryption key (DEK) versions, and the keys
// in its key record are the only copy of those DEKs, so deleting the record
// makes every value of the view unreadable (crypto-shredding).
//
// A View stands for one incarnation of its id: if the view is dropped and
// an id is used again, the old handle keeps failing with ErrNoView rather
// than reaching the new view. A View is safe for concurrent use.
type View struct {
	b      *Barrier
	id     []byte
	name   string // id, for map keys
	inc    string // id and generation: Incarnation
	rec    []byte // storage key of the key record
	prefix []byte // storage key prefix of the values: "v" | len | id | gen
	gen    [genSize]byte
	index  []byte // blind-index key; fixed for the life of the view

	// mu orders blind Batch writes against DropView: a drop waits for
	// batches in flight before it removes the data, and batches that
	// start after it find keys == nil. Transactions need no lock; they
	// check the key record instead (see Tx).
	mu   sync.RWMutex
	keys atomic.Pointer[keys] // nil once the view is known to be gone

	// Seals under the active DEK not yet added to the key record's count.
	pending  atomic.Uint64
	flushing atomic.Bool

	// epoch is the barrier's key epoch when keys were last read: a key
	// record changed since (a rotation, a retirement) makes blind writes
	// read it again first.
	epoch atomic.Uint64

	// indexes remembers the blind indexes of recent short names: the data
	// plane computes the same ones (entity IDs, property names) on every
	// call, and a map look-up costs a fraction of an HMAC.
	indexMu sync.Mutex
	indexes map[string][IndexSize]byte
}

// Bounds of View.indexes: longer names are hashed anew each time; the map
// starts over when it holds indexMemoNames.
const (
	indexMemoLen   = 256
	indexMemoNames = 8192
)

// current returns the view's keys for a blind write, read again if any
// key record changed since they were. The caller holds b.batchMu.
func (v *View) current(ctx context.Context) (*keys, error) {
	k := v.keys.Load()
	if k == nil {
		return nil, ErrNoView
	}
	if e := v.b.epoch.Load(); v.epoch.Load() != e {
		nk, err := v.reload(ctx)
		if err != nil {
			return nil, err
		}
		v.epoch.Store(e)
		return nk, nil
	}
	return k, nil
}

// keys is an immutable set of the view's DEK versions, ready to use.
type keys struct {
	raw    []byte // the sealed key record they came from, to detect changes
	active uint32
	aeads  map[uint32]cipher.AEAD
}

func (k *keys) seal(aad, plaintext []byte) []byte {
	return seal(k.aeads[k.active], k.active, aad, plaintext)
}

func (k *keys) open(aad, v []byte) ([]byte, error) {
	ver, body, err := header(v)
	if err != nil {
		return nil, err
	}
	a := k.aeads[ver]
	if a == nil {
		return nil, errUnknownVersion
	}
	return open(a, aad, body)
}

// record is the plaintext of a key record:
//
//	[format u8 = 1][gen 8][index key 32][active u32][n u16] n × ([version u32][DEK 32])
//
// gen tells incarnations of one id apart and is part of every value's
// storage key. The version list lets a rotation add DEKs while older
// values still open.
type record struct {
	gen    [genSize]byte
	index  []byte
	active uint32
	deks   []dek // ascending by version
}

type dek struct {
	version uint32
	key     []byte
	sealed  uint64 // values sealed under it, as last recorded (see seals.go)
}

// recordFormat 2 records each DEK's seal count; format 1 records, written
// before, are still read (with counts of zero).
const recordFormat = 2

func newRecord() *record {
	r := &record{index: make([]byte, keySize), active: 1, deks: []dek{{version: 1, key: make([]byte, keySize)}}}
	rand.Read(r.gen[:])
	rand.Read(r.index)
	rand.Read(r.deks[0].key)
	return r
}

func (r *record) encode() []byte {
	b := make([]byte, 0, 1+genSize+keySize+6+len(r.deks)*(12+keySize))
	b = append(b, recordFormat)
	b = append(b, r.gen[:]...)
	b = append(b, r.index...)
	b = binary.BigEndian.AppendUint32(b, r.active)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.deks)))
	for _, d := range r.deks {
		b = binary.BigEndian.AppendUint32(b, d.version)
		b = binary.BigEndian.AppendUint64(b, d.sealed)
		b = append(b, d.key...)
	}
	return b
}

func decodeRecord(b []byte) (*record, error) {
	const fixed = 1 + genSize + keySize + 4 + 2
	if len(b) < fixed || (b[0] != 1 && b[0] != recordFormat) {
		return nil, errors.New("unknown key record format")
	}
	entry := 4 + keySize // format 1: version, key
	if b[0] == 2 {
		entry += 8 // and the seal count
	}
	r := &record{index: slices.Clone(b[1+genSize : 1+genSize+keySize])}
	copy(r.gen[:], b[1:])
	r.active = binary.BigEndian.Uint32(b[1+genSize+keySize:])
	n := int(binary.BigEndian.Uint16(b[fixed-2:]))
	b = b[fixed:]
	if n == 0 || len(b) != n*entry {
		return nil, errors.New("bad key record length")
	}
	found := false
	for i := range n {
		e := b[i*entry:]
		d := dek{version: binary.BigEndian.Uint32(e)}
		if entry > 4+keySize {
			d.sealed = binary.BigEndian.Uint64(e[4:])
		}
		d.key = slices.Clone(e[entry-keySize : entry])
		if i > 0 && d.version <= r.deks[i-1].version {
			return nil, errors.New("key record versions out of order")
		}
		found = found || d.version == r.active
		r.deks = append(r.deks, d)
	}
	if !found {
		return nil, errors.New("key record lacks its active version")
	}
	return r, nil
}

// clear wipes the plaintext key bytes the record holds. The expanded AES
// key schedules inside cipher.AEAD cannot be wiped from Go; dropping every
// reference to them is the best the runtime allows.
func (r *record) clear() {
	clear(r.index)
	for _, d := range r.deks {
		clear(d.key)
	}
}

func newKeys(raw []byte, r *record) (*keys, error) {
	k := &keys{raw: raw, active: r.active, aeads: make(map[uint32]cipher.AEAD, len(r.deks))}
	for _, d := range r.deks {
		a, err := newAEAD(d.key)
		if err != nil {
			return nil, err
		}
		k.aeads[d.version] = a
	}
	return k, nil
}

// Storage keys; see the package documentation for the layout.

func recordKey(id []byte) []byte {
	return append([]byte{'k', byte(len(id))}, id...)
}

// idPrefix is the prefix of every value of every incarnation of id.
func idPrefix(id []byte) []byte {
	return append([]byte{'v', byte(len(id))}, id...)
}

func newView(b *Barrier, id []byte, r *record) *View {
	id = slices.Clone(id)
	return &View{
		b:      b,
		id:     id,
		name:   string(id),
		inc:    string(id) + "\x00" + string(r.gen[:]),
		rec:    recordKey(id),
		prefix: append(idPrefix(id), r.gen[:]...),
		gen:    r.gen,
		index:  slices.Clone(r.index),
	}
}

// same reports whether r describes the incarnation v stands for.
func (v *View) same(r *record) bool {
	return r.gen == v.gen && hmac.Equal(r.index, v.index)
}

// ID returns a copy of the view's id; the system view's id is empty.
func (v *View) ID() []byte { return slices.Clone(v.id) }

// Name returns the view's id as a string, for map keys: the data plane
// keys its caches on it, call after call, and ID copies.
func (v *View) Name() string { return v.name }

// Incarnation tells this incarnation of the view's id from the others the
// id had or will have: in-memory state kept per view (the time-series
// head) keys on it, so that none outlives a dropped view into a new one.
func (v *View) Incarnation() string { return v.inc }

// Index returns the blind index of name: HMAC-SHA256 under the view's
// index key, truncated to IndexSize bytes. Look-ups by user-supplied names
// or tags key on it, so storage keys never contain the name itself. It is
// stable for the life of the view. Callers that index several kinds of
// name in one view should prefix name with its kind, so that equal strings
// of different kinds do not share an index.
func (v *View) Index(name string) []byte {
	if len(name) > indexMemoLen {
		return v.hashIndex(name)
	}
	v.indexMu.Lock()
	ix, ok := v.indexes[name]
	v.indexMu.Unlock()
	if ok {
		return ix[:]
	}
	out := v.hashIndex(name)
	v.indexMu.Lock()
	if v.indexes == nil || len(v.indexes) >= indexMemoNames {
		v.indexes = make(map[string][IndexSize]byte)
	}
	v.indexes[strings.Clone(name)] = [IndexSize]byte(out)
	v.indexMu.Unlock()
	return out
}

func (v *View) hashIndex(name string) []byte {
	m := hmac.New(sha256.New, v.index)
	io.WriteString(m, name)
	return m.Sum(nil)[:IndexSize]
}

// key returns the storage key of k in v.
func (v *View) key(k []byte) []byte {
	sk := make([]byte, 0, len(v.prefix)+len(k))
	return append(append(sk, v.prefix...), k...)
}

// rng maps a range over the view's keys to one over storage keys.
func (v *View) rng(r kv.Range) kv.Range {
	out := kv.Range{Start: v.key(r.Start), Reverse: r.Reverse, Limit: r.Limit}
	if r.End != nil {
		out.End = v.key(r.End)
	} else {
		out.End = kv.PrefixEnd(v.prefix)
	}
	return out
}

// errOutOfRange reports a store that answered a scan with a key it was not
// asked for. Checking keeps one view's scan from ever returning another
// view's pairs, whatever the store does.
var errOutOfRange = fmt.Errorf("%w: store returned a key outside the scanned range", ErrIntegrity)

// inRange reports whether storage key sk lies in the storage range r built
// by rng, whose End is never nil. Every such key starts with the view
// prefix.
func inRange(sk []byte, r kv.Range) bool {
	return bytes.Compare(sk, r.Start) >= 0 && bytes.Compare(sk, r.End) < 0
}

// Get returns the value of key in the view, outside any transaction.
// A missing key yields kv.ErrNotFound.
func (v *View) Get(ctx context.Context, key []byte) ([]byte, error) {
	k := v.keys.Load()
	if k == nil {
		return nil, ErrNoView
	}
	sk := v.key(key)
	val, err := v.b.store.Get(ctx, sk)
	if err != nil {
		return nil, err
	}
	return v.open(ctx, k, sk, val)
}

// Scan calls fn for each pair of the view in r, outside any transaction.
// Keys in r and passed to fn are relative to the view; fn's key is valid
// only during the call. fn may return kv.Stop to end the scan early.
func (v *View) Scan(ctx context.Context, r kv.Range, fn func(key, value []byte) error) error {
	k := v.keys.Load()
	if k == nil {
		return ErrNoView
	}
	sr := v.rng(r)
	return v.b.store.Scan(ctx, sr, func(sk, val []byte) error {
		if !inRange(sk, sr) {
			return errOutOfRange
		}
		pt, err := v.open(ctx, k, sk, val)
		if err != nil {
			return err
		}
		return fn(sk[len(v.prefix):], pt)
	})
}

// open opens a value read outside a transaction. A value sealed under a
// DEK version these keys lack may come from a rotation by another node, so
// the key record is read again once before the value is declared bad.
func (v *View) open(ctx context.Context, k *keys, sk, val []byte) ([]byte, error) {
	pt, err := k.open(sk, val)
	if !errors.Is(err, errUnknownVersion) {
		return pt, err
	}
	k2, rerr := v.reload(ctx)
	if rerr != nil {
		return nil, rerr
	}
	return k2.open(sk, val)
}

// reload reads the view's key record again, outside any transaction.
func (v *View) reload(ctx context.Context) (*keys, error) {
	raw, err := v.b.store.Get(ctx, v.rec)
	if errors.Is(err, kv.ErrNotFound) {
		v.b.forget(v)
		return nil, ErrNoView
	}
	if err != nil {
		return nil, err
	}
	r, err := v.b.unwrap(ctx, v.b.store, v.rec, raw)
	if err != nil {
		return nil, err
	}
	defer r.clear()
	if !v.same(r) {
		v.b.forget(v)
		return nil, ErrNoView
	}
	k, err := newKeys(raw, r)
	if err != nil {
		return nil, err
	}
	v.keys.Store(k)
	return k, nil
}

// Batch applies blind writes to the view atomically; a nil Value deletes
// the key. It is the fast path for appends and does not read the key
// record: within this process DropView waits for batches in flight and
// later ones fail with ErrNoView. A batch racing a drop made by another
// process sharing the store can leave values under the dropped
// incarnation's prefix; they are unreadable (their DEK is gone), invisible
// to a new view with the same id (whose prefix differs), and removed by
// the next DropView of that id.
func (v *View) Batch(ctx context.Context, writes []kv.Write) error {
	if v.b.shared {
		// Another node may retire the DEK this one holds: the writes go in
		// a transaction that reads the key record, so a retirement and a
		// write under the retired DEK cannot both commit.
		return v.b.Update(ctx, func(tx *Tx) error {
			for _, w := range writes {
				var err error
				if w.Value == nil {
					err = tx.Delete(v, w.Key)
				} else {
					err = tx.Set(v, w.Key, w.Value)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	return v.applySealed(ctx, writes, func(out []kv.Write) error { return v.b.store.Batch(ctx, out) })
}

// applySealed seals blind writes under the view's current keys and hands
// them to apply, holding b.batchMu and v.mu for reading until they are
// applied: a retirement or a drop waits for them.
func (v *View) applySealed(ctx context.Context, writes []kv.Write, apply func([]kv.Write) error) error {
	v.b.batchMu.RLock()
	defer v.b.batchMu.RUnlock()
	v.mu.RLock()
	defer v.mu.RUnlock()
	k, err := v.current(ctx)
	if err != nil {
		return err
	}
	out := make([]kv.Write, len(writes))
	for i, w := range writes {
		sk := v.key(w.Key)
		out[i].Key = sk
		if w.Value != nil {
			out[i].Value = k.seal(sk, w.Value)
			v.noteSeals(1)
		}
	}
	return apply(out)
}

// BatchApply is Batch for a writer that keeps its batches in order and
// overlaps their syncs: it returns once the writes are applied, after every
// batch applied before, with the wait for their durability (see
// kv.Pipeliner). Over an engine that cannot, or a shared store, the writes
// are durable when it returns and wait does nothing.
func (v *View) BatchApply(ctx context.Context, writes []kv.Write) (wait func() error, err error) {
	done := func() error { return nil }
	p, ok := v.b.store.(kv.Pipeliner)
	if v.b.shared || !ok {
		return done, v.Batch(ctx, writes)
	}
	err = v.applySealed(ctx, writes, func(out []kv.Write) (err error) {
		wait, err = p.BatchApply(ctx, out)
		return err
	})
	return wait, err
}

// kill marks the view gone, after waiting for batches in flight.
func (v *View) kill() {
	v.mu.Lock()
	v.keys.Store(nil)
	v.mu.Unlock()
}

func validID(id []byte) error {
	if len(id) == 0 || len(id) > maxIDLen {
		return fmt.Errorf("%w: length %d, want 1 to %d bytes", ErrInvalidViewID, len(id), maxIDLen)
	}
	return nil
}
