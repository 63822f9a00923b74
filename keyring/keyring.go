// Package keyring holds the root of TwinVault's key hierarchy.
//
//	master key (file, outside the data directory)
//	  └─ HKDF-SHA256 ─► keyring sealing key
//	                      └─ AES-256-GCM ─► keyring record in kv: terms of 256-bit keys
//	                                          └─ used by package barrier to wrap per-view keys
//
// The master key never touches the store. The keyring, a numbered list of
// random 256-bit keys ("terms") with one active term, is stored sealed under
// a key derived from the master key, so the store alone reveals nothing and
// the master key alone decrypts nothing. Rotation adds a term and makes it
// active; older terms stay so that everything they wrapped still opens.
// Plaintext keys exist only in memory.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinvault/twinvault/kv"
)

// RecordKey is the kv key under which the sealed keyring is stored. It is
// also the additional authenticated data of the seal, so the record cannot
// be passed off as any other value.
const RecordKey = "\x00keyring"

// KeySize is the length in bytes of a term key.
const KeySize = 32

var (
	// ErrMasterKeyMismatch means the keyring in the store was sealed under
	// another master key.
	ErrMasterKeyMismatch = errors.New("keyring: master key does not match this data directory")
	// ErrCorrupt means the keyring record was sealed under this master key
	// but does not decrypt or decode: it was damaged or tampered with.
	ErrCorrupt = errors.New("keyring: keyring record is corrupt")
	// ErrUnknownTerm is returned by Key for a term this keyring does not
	// hold. Another node may have rotated; Refresh and try again.
	ErrUnknownTerm = errors.New("keyring: unknown key term")
)

// HKDF labels. They are part of the on-disk format: changing one makes
// every existing keyring unreadable.
const (
	sealInfo  = "twinvault keyring seal v1"
	checkInfo = "twinvault keyring check v1"
)

// Sealed record: [format u8 = 1][check 16][nonce 12][ciphertext+tag], with
// AAD = RecordKey. The check value lets Open tell a wrong master key from a
// damaged record; it is an HKDF output under its own label, independent of
// the sealing key, and says nothing about any term key.
const (
	recordFormat = 1
	checkSize    = 16
)

// Plaintext: [version u8 = 1][active u32][n u32] n × [term u32][created unix s i64][key 32].
const (
	stateVersion = 1
	entrySize    = 4 + 8 + KeySize
)

// TermInfo describes one term without its key.
type TermInfo struct {
	Term    uint32
	Created time.Time
	Active  bool
}

// Keyring is the set of key terms of one data directory. It is safe for
// concurrent use.
type Keyring struct {
	store kv.Store
	rs    atomic.Pointer[recordSealer] // replaced by Reseal

	mu sync.Mutex // serialises Rotate and Refresh
	st atomic.Pointer[state]
}

// Sealer seals the keyring record in place of a master key held in
// memory: a hardware security module whose key never leaves it.
type Sealer interface {
	// Seal and Open encrypt and authenticate with the module's key; aad
	// is bound to the ciphertext.
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
	// Check is a value fixed for the module's key and revealing nothing
	// of it, by which a record sealed under another key is told apart.
	Check() ([]byte, error)
}

// recordSealer seals the keyring record under one master key or Sealer.
type recordSealer struct {
	s     Sealer
	check []byte
}

// masterSealer is the Sealer of a master key held in memory: AES-256-GCM
// under a key derived from it, with nonces drawn inside the module.
type masterSealer struct{ aead cipher.AEAD }

func (m masterSealer) Seal(pt, aad []byte) ([]byte, error) {
	return m.aead.Seal(nil, nil, pt, aad), nil
}
func (m masterSealer) Open(ct, aad []byte) ([]byte, error) { return m.aead.Open(nil, nil, ct, aad) }
func (m masterSealer) Check() ([]byte, error) {
	return nil, errors.New("keyring: no check for a master key sealer")
}

// fromSealer returns a Keyring, without a store, sealing with s.
func fromSealer(s Sealer) (*Keyring, error) {
	check, err := s.Check()
	if err != nil {
		return nil, fmt.Errorf("keyring: check value: %w", err)
	}
	if len(check) < checkSize {
		return nil, errors.New("keyring: the sealer's check value is too short")
	}
	k := &Keyring{}
	k.rs.Store(&recordSealer{s: s, check: check[:checkSize]})
	return k, nil
}

// state is an immutable snapshot; changes replace it whole.
type state struct {
	active uint32
	terms  []term // ascending by id
}

type term struct {
	id      uint32
	created time.Time
	key     []byte
}

func (s *state) find(id uint32) (term, bool) {
	i, ok := slices.BinarySearchFunc(s.terms, id, func(t term, id uint32) int {
		switch {
		case t.id < id:
			return -1
		case t.id > id:
			return 1
		}
		return 0
	})
	if !ok {
		return term{}, false
	}
	return s.terms[i], true
}

func (s *state) last() uint32 { return s.terms[len(s.terms)-1].id }

// Open loads the keyring of store, unsealing it with master. On an empty
// store it creates a keyring whose only term, 1, is active. A store that
// holds data but no keyring is refused with ErrCorrupt: starting a new
// keyring there would silently orphan everything already stored (a
// partial restore, or a deleted record).
func Open(ctx context.Context, store kv.Store, master []byte) (*Keyring, error) {
	k, err := sealer(master)
	if err != nil {
		return nil, err
	}
	return k.open(ctx, store)
}

// OpenSealed is Open with the keyring record sealed by s rather than by a
// master key.
func OpenSealed(ctx context.Context, store kv.Store, s Sealer) (*Keyring, error) {
	k, err := fromSealer(s)
	if err != nil {
		return nil, err
	}
	return k.open(ctx, store)
}

func (k *Keyring) open(ctx context.Context, store kv.Store) (*Keyring, error) {
	k.store = store
	var st *state
	err := retry(func() error {
		return store.Update(ctx, func(tx kv.Tx) error {
			raw, err := tx.Get(ctx, []byte(RecordKey))
			if errors.Is(err, kv.ErrNotFound) {
				if err := empty(ctx, tx); err != nil {
					return err
				}
				st = &state{active: 1, terms: []term{newTerm(1)}}
				rec, err := k.seal(st)
				if err != nil {
					return err
				}
				return tx.Set([]byte(RecordKey), rec)
			}
			if err != nil {
				return err
			}
			st, err = k.unseal(raw)
			return err
		})
	})
	if err != nil {
		return nil, wrap("open", err)
	}
	k.st.Store(st)
	return k, nil
}

// sealer returns a Keyring, without a store, that seals and unseals
// keyring records under master.
func sealer(master []byte) (*Keyring, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("keyring: master key must be %d bytes, got %d", MasterKeySize, len(master))
	}
	sk, err := hkdf.Key(sha256.New, master, nil, sealInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("keyring: derive sealing key: %w", err)
	}
	defer clear(sk)
	check, err := hkdf.Key(sha256.New, master, nil, checkInfo, checkSize)
	if err != nil {
		return nil, fmt.Errorf("keyring: derive check value: %w", err)
	}
	aead, err := newAEAD(sk)
	if err != nil {
		return nil, err
	}
	k := &Keyring{}
	k.rs.Store(&recordSealer{s: masterSealer{aead}, check: check})
	return k, nil
}

// Reseal seals the keyring under a new master key; from then on only
// newMaster opens the store. The terms are unchanged.
func (k *Keyring) Reseal(ctx context.Context, newMaster []byte) error {
	next, err := sealer(newMaster)
	if err != nil {
		return err
	}
	return k.reseal(ctx, next)
}

// ResealWith is Reseal with the keyring sealed by s from then on, a new
// key of a hardware module.
func (k *Keyring) ResealWith(ctx context.Context, s Sealer) error {
	next, err := fromSealer(s)
	if err != nil {
		return err
	}
	return k.reseal(ctx, next)
}

func (k *Keyring) reseal(ctx context.Context, next *Keyring) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	err := retry(func() error {
		return k.store.Update(ctx, func(tx kv.Tx) error {
			cur, err := k.read(ctx, tx)
			if err != nil {
				return err
			}
			rec, err := next.seal(cur)
			if err != nil {
				return err
			}
			return tx.Set([]byte(RecordKey), rec)
		})
	})
	if err != nil {
		return wrap("reseal", err)
	}
	k.rs.Store(next.rs.Load())
	return nil
}

// StoredCheck returns the check value of the master key that sealed the
// keyring record of store, nil if there is no record yet: how a hardware
// module holding more than one key tells which one seals it.
func StoredCheck(ctx context.Context, store kv.Reader) ([]byte, error) {
	raw, err := store.Get(ctx, []byte(RecordKey))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return RecordCheck(raw)
}

// RecordCheck returns the check value a keyring record carries.
func RecordCheck(raw []byte) ([]byte, error) {
	if len(raw) < 1+checkSize || raw[0] != recordFormat {
		return nil, fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	return slices.Clone(raw[1 : 1+checkSize]), nil
}

// CheckRecord reports whether raw, a stored keyring record, opens with
// master: how a restore refuses a backup before writing anything.
func CheckRecord(master, raw []byte) error {
	k, err := sealer(master)
	if err != nil {
		return err
	}
	return k.check(raw)
}

// CheckRecordSealed is CheckRecord for a keyring sealed by s.
func CheckRecordSealed(s Sealer, raw []byte) error {
	k, err := fromSealer(s)
	if err != nil {
		return err
	}
	return k.check(raw)
}

// check opens raw and forgets what it held.
func (k *Keyring) check(raw []byte) error {
	st, err := k.unseal(raw)
	if err != nil {
		return wrap("check", err)
	}
	for _, t := range st.terms {
		clear(t.key)
	}
	return nil
}

// Active returns the active term and a copy of its key; new data is
// encrypted under it.
func (k *Keyring) Active() (term uint32, key []byte) {
	s := k.st.Load()
	t, _ := s.find(s.active)
	return t.id, slices.Clone(t.key)
}

// Key returns a copy of the key of term, for decrypting what it encrypted.
func (k *Keyring) Key(term uint32) ([]byte, error) {
	t, ok := k.st.Load().find(term)
	if !ok {
		return nil, fmt.Errorf("%w %d", ErrUnknownTerm, term)
	}
	return slices.Clone(t.key), nil
}

// Terms lists the terms in ascending order, without keys.
func (k *Keyring) Terms() []TermInfo {
	s := k.st.Load()
	out := make([]TermInfo, len(s.terms))
	for i, t := range s.terms {
		out[i] = TermInfo{Term: t.id, Created: t.created, Active: t.id == s.active}
	}
	return out
}

// Rotate adds a new term with a fresh random key, makes it active and
// returns it. Earlier terms are kept for decryption. The change is made
// against the stored keyring inside a transaction, so rotations by other
// nodes sharing the store are never lost.
func (k *Keyring) Rotate(ctx context.Context) (uint32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var next *state
	err := retry(func() error {
		return k.store.Update(ctx, func(tx kv.Tx) error {
			cur, err := k.read(ctx, tx)
			if err != nil {
				return err
			}
			id := cur.last() + 1
			if id == 0 {
				return errors.New("term numbers exhausted")
			}
			next = &state{active: id, terms: append(slices.Clone(cur.terms), newTerm(id))}
			rec, err := k.seal(next)
			if err != nil {
				return err
			}
			return tx.Set([]byte(RecordKey), rec)
		})
	})
	if err != nil {
		return 0, wrap("rotate", err)
	}
	k.st.Store(next)
	return next.active, nil
}

// RetireWith removes the terms that are neither active nor in use, once
// nothing sealed under them remains (see barrier.RewrapRecords), and
// returns them; the terms in use are found by used within the
// transaction that rewrites the keyring, so that what it read cannot
// change before the terms go.
func (k *Keyring) RetireWith(ctx context.Context, used func(r kv.Reader) (map[uint32]bool, error)) ([]uint32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var next *state
	var retired []uint32
	err := retry(func() error {
		retired = retired[:0]
		return k.store.Update(ctx, func(tx kv.Tx) error {
			inUse, err := used(tx)
			if err != nil {
				return err
			}
			cur, err := k.read(ctx, tx)
			if err != nil {
				return err
			}
			next = &state{active: cur.active}
			for _, t := range cur.terms {
				if t.id == cur.active || inUse[t.id] {
					next.terms = append(next.terms, t)
				} else {
					retired = append(retired, t.id)
				}
			}
			if len(retired) == 0 {
				next = cur
				return nil
			}
			rec, err := k.seal(next)
			if err != nil {
				return err
			}
			return tx.Set([]byte(RecordKey), rec)
		})
	})
	if err != nil {
		return nil, wrap("retire", err)
	}
	k.st.Store(next)
	return retired, nil
}

// Refresh reloads the keyring through r, which may be the store or an open
// transaction (so a caller inside a transaction can pick up a term another
// node added without leaving it). A snapshot older than the one in memory
// is ignored: terms are only ever added.
func (k *Keyring) Refresh(ctx context.Context, r kv.Reader) error {
	s, err := k.read(ctx, r)
	if err != nil {
		return wrap("refresh", err)
	}
	// No lock: a caller is inside a transaction holding a connection,
	// and Rotate or Retire may hold k.mu while they wait for one.
	for {
		cur := k.st.Load()
		if s.last() < cur.last() || k.st.CompareAndSwap(cur, s) {
			return nil
		}
	}
}

// empty checks that nothing is stored yet: the keyring is the first record
// of every store.
func empty(ctx context.Context, r kv.Reader) error {
	found, err := kv.Any(ctx, r, kv.Range{})
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("%w: record missing from a store that holds data", ErrCorrupt)
	}
	return nil
}

func (k *Keyring) read(ctx context.Context, r kv.Reader) (*state, error) {
	raw, err := r.Get(ctx, []byte(RecordKey))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w: record missing", ErrCorrupt)
	}
	if err != nil {
		return nil, err
	}
	return k.unseal(raw)
}

func newTerm(id uint32) term {
	key := make([]byte, KeySize)
	rand.Read(key)
	return term{id: id, created: time.Now().UTC().Truncate(time.Second), key: key}
}

func (k *Keyring) seal(s *state) ([]byte, error) {
	pt := s.encode()
	defer clear(pt)
	rs := k.rs.Load()
	ct, err := rs.s.Seal(pt, []byte(RecordKey))
	if err != nil {
		return nil, fmt.Errorf("keyring: seal: %w", err)
	}
	return append(append([]byte{recordFormat}, rs.check...), ct...), nil
}

func (s *state) encode() []byte {
	pt := make([]byte, 0, 9+len(s.terms)*entrySize)
	pt = append(pt, stateVersion)
	pt = binary.BigEndian.AppendUint32(pt, s.active)
	pt = binary.BigEndian.AppendUint32(pt, uint32(len(s.terms)))
	for _, t := range s.terms {
		pt = binary.BigEndian.AppendUint32(pt, t.id)
		pt = binary.BigEndian.AppendUint64(pt, uint64(t.created.Unix()))
		pt = append(pt, t.key...)
	}
	return pt
}

func (k *Keyring) unseal(raw []byte) (*state, error) {
	if len(raw) < 1+checkSize || raw[0] != recordFormat {
		return nil, fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	rs := k.rs.Load()
	if subtle.ConstantTimeCompare(raw[1:1+checkSize], rs.check) != 1 {
		return nil, ErrMasterKeyMismatch
	}
	pt, err := rs.s.Open(raw[1+checkSize:], []byte(RecordKey))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrCorrupt)
	}
	defer clear(pt)
	s, err := decodeState(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return s, nil
}

func decodeState(b []byte) (*state, error) {
	if len(b) < 9 || b[0] != stateVersion {
		return nil, errors.New("unknown version")
	}
	active := binary.BigEndian.Uint32(b[1:])
	n := binary.BigEndian.Uint32(b[5:])
	b = b[9:]
	if n == 0 || uint64(len(b)) != uint64(n)*entrySize {
		return nil, errors.New("bad length")
	}
	s := &state{active: active, terms: make([]term, n)}
	for i := range s.terms {
		e := b[i*entrySize:]
		t := term{
			id:      binary.BigEndian.Uint32(e),
			created: time.Unix(int64(binary.BigEndian.Uint64(e[4:])), 0).UTC(),
			key:     slices.Clone(e[12 : 12+KeySize]),
		}
		if t.id == 0 || (i > 0 && t.id <= s.terms[i-1].id) {
			return nil, errors.New("terms out of order")
		}
		s.terms[i] = t
	}
	if _, ok := s.find(active); !ok {
		return nil, errors.New("active term missing")
	}
	return s, nil
}

// newAEAD returns AES-256-GCM with nonces drawn inside the cryptographic
// module, the only GCM construction allowed under GODEBUG=fips140=only.
func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	a, err := cipher.NewGCMWithRandomNonce(b)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return a, nil
}

// wrap adds the operation to errors that do not already say what went
// wrong with the keyring.
func wrap(op string, err error) error {
	if errors.Is(err, ErrMasterKeyMismatch) || errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("keyring: %s: %w", op, err)
}

// retry runs fn again when its transaction lost a race, which only happens
// when another node changed the keyring at the same moment.
func retry(fn func() error) error {
	var err error
	for range 5 {
		if err = fn(); !errors.Is(err, kv.ErrConflict) {
			return err
		}
	}
	return err
}
