package barrier

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/twinvault/twinvault/kv"
)

// Rotation, in three steps that each leave every value readable:
//
//  1. RotateView adds a DEK version to a view and makes it active: values
//     written from then on are sealed with it, older ones still open with
//     the versions they name.
//  2. Rewrap re-seals every value still under an older version with the
//     active one, a batch of values per transaction; it can stop at any
//     point and run again (values already current are only looked at).
//  3. Retire removes the versions no value names any more.
//
// The keyring's terms rotate the same way one level up: keyring.Rotate adds
// a term, RewrapRecords re-seals the views' key records under it, and the
// keyring can then drop the terms no record names.

// rewrapBatch is how many values one Rewrap transaction looks at.
const rewrapBatch = 256

// cached returns this barrier's handle of view id, nil if none is cached.
func (b *Barrier) cached(id []byte) *View {
	if len(id) == 0 {
		return b.sys
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.views[string(id)]
}

// updateRecord rewrites the key record of view id with change applied,
// wrapped under the keyring's active term, and hands the cached handle the
// new keys. With exclusive, blind writes in flight finish first and none
// starts until the new record is in place.
func (b *Barrier) updateRecord(ctx context.Context, id []byte, exclusive bool, change func(tx kv.Tx, r *record) error) error {
	if len(id) > 0 {
		if err := validID(id); err != nil {
			return err
		}
	}
	v := b.cached(id)
	if exclusive {
		// No blind write, through any handle, runs meanwhile; the ones
		// after read the new record (see View.current).
		b.batchMu.Lock()
		defer b.batchMu.Unlock()
	}
	defer b.epoch.Add(1)
	rk := recordKey(id)
	var raw []byte
	var rec *record
	err := retry(ctx, func() error {
		return b.store.Update(ctx, func(tx kv.Tx) error {
			var err error
			if _, rec, err = b.readRecord(ctx, tx, rk); err != nil {
				return err
			}
			if err := change(tx, rec); err != nil {
				return err
			}
			if raw, err = b.wrapIn(ctx, tx, rk, rec); err != nil {
				return err
			}
			return tx.Set(rk, raw)
		})
	})
	if err != nil {
		return err
	}
	defer rec.clear()
	if v != nil && v.same(rec) && v.keys.Load() != nil {
		k, err := newKeys(raw, rec)
		if err != nil {
			return err
		}
		v.keys.Store(k)
	}
	return nil
}

// RotateView adds a DEK version to view id (nil: the system view), active
// at once, and returns it.
func (b *Barrier) RotateView(ctx context.Context, id []byte) (uint32, error) {
	var version uint32
	err := b.updateRecord(ctx, id, false, func(_ kv.Tx, r *record) error {
		version = r.deks[len(r.deks)-1].version + 1
		key := make([]byte, keySize)
		rand.Read(key)
		r.deks = append(r.deks, dek{version: version, key: key})
		r.active = version
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("barrier: rotate view: %w", err)
	}
	return version, nil
}

// Rewrap re-seals with the active DEK version every value of view id (nil:
// the system view) sealed under an older one, and returns how many it
// re-sealed. progress, if not nil, is told the running count after each
// transaction. A value written meanwhile is sealed with the active version
// already; a value changed between the read and the write makes the
// transaction conflict and retry.
func (b *Barrier) Rewrap(ctx context.Context, id []byte, progress func(done int)) (int, error) {
	rk := recordKey(id)
	done := 0
	var prefix, cursor []byte
	// Under serializable isolation a long transaction loses to the short
	// writes that cross its range: a lost race halves the batch, a
	// committed one doubles it again.
	size := rewrapBatch
	for {
		var last []byte
		n := 0
		attempt := func() error {
			last, n = nil, 0
			return b.store.Update(ctx, func(tx kv.Tx) error {
				raw, rec, err := b.readRecord(ctx, tx, rk)
				if err != nil {
					return err
				}
				defer rec.clear()
				k, err := newKeys(raw, rec)
				if err != nil {
					return err
				}
				if prefix == nil {
					prefix = append(idPrefix(id), rec.gen[:]...)
					cursor = prefix
				}
				type resealed struct{ key, value []byte }
				var out []resealed
				seen := 0
				err = tx.Scan(ctx, kv.Range{Start: cursor, End: kv.PrefixEnd(prefix), Limit: size}, func(sk, val []byte) error {
					seen++
					last = slices.Clone(sk)
					ver, _, err := header(val)
					if err != nil || ver == k.active {
						return nil // current, or unreadable: left as it is
					}
					pt, err := k.open(sk, val)
					if err != nil {
						return nil
					}
					out = append(out, resealed{slices.Clone(sk), k.seal(sk, pt)})
					clear(pt)
					return nil
				})
				if err != nil {
					return err
				}
				for _, r := range out {
					if err := tx.Set(r.key, r.value); err != nil {
						return err
					}
				}
				n = len(out)
				if seen < size {
					last = nil // the end
				}
				return nil
			})
		}
		var err error
		for try := 0; ; try++ {
			if err = attempt(); !errors.Is(err, kv.ErrConflict) || try == 40 {
				break
			}
			size = max(1, size/2)
			time.Sleep(time.Duration(1+mrand.IntN(1<<min(try, 7))) * time.Millisecond)
		}
		if err == nil {
			size = min(rewrapBatch, 2*size)
		}
		if err != nil {
			return done, fmt.Errorf("barrier: rewrap: %w", err)
		}
		done += n
		if progress != nil {
			progress(done)
		}
		if last == nil {
			return done, nil
		}
		cursor = append(last, 0) // just after it
	}
}

// Retire removes the DEK versions of view id (nil: the system view) that
// no stored value names, keeping the active one and those in keep (for
// data sealed outside the kv store, such as object bodies). It returns the
// versions removed. Batches in flight on the view finish first.
func (b *Barrier) Retire(ctx context.Context, id []byte, keep ...uint32) ([]uint32, error) {
	if b.shared {
		return b.retireShared(ctx, id, keep)
	}
	var retired []uint32
	err := b.updateRecord(ctx, id, true, func(tx kv.Tx, r *record) error {
		retired = retired[:0]
		used := map[uint32]bool{r.active: true}
		for _, v := range keep {
			used[v] = true
		}
		prefix := append(idPrefix(id), r.gen[:]...)
		err := tx.Scan(ctx, kv.Prefix(prefix), func(_, val []byte) error {
			if ver, _, err := header(val); err == nil {
				used[ver] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		var deks []dek
		for _, d := range r.deks {
			if used[d.version] {
				deks = append(deks, d)
			} else {
				retired = append(retired, d.version)
				clear(d.key)
			}
		}
		r.deks = deks
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("barrier: retire: %w", err)
	}
	return retired, nil
}

// retireShared is Retire over a store other nodes write to. Scanning every
// value in the transaction that rewrites the key record would make it
// conflict with every write that reads the record meanwhile, which under
// load is every write. So the scan is a transaction of its own, which
// writes nothing, and the record is rewritten after it. That is safe
// because a write reads the key record in its transaction and seals with
// the active version, and the versions to retire stopped being active
// before the scan began (RotateView committed first): a write still
// sealing with one read the record before that rotation, and if it
// commits after the scan began, the serializable store sees the scan read
// what it writes while it read what the rotation wrote, with the rotation
// committed first, and aborts one of them. A write that committed before
// the scan began is in its snapshot.
func (b *Barrier) retireShared(ctx context.Context, id []byte, keep []uint32) ([]uint32, error) {
	rk := recordKey(id)
	used := map[uint32]bool{}
	var candidates []uint32
	var gen [genSize]byte
	err := retry(ctx, func() error {
		clear(used)
		candidates = candidates[:0]
		return b.store.Update(ctx, func(tx kv.Tx) error {
			_, r, err := b.readRecord(ctx, tx, rk)
			if err != nil {
				return err
			}
			defer r.clear()
			gen = r.gen
			for _, d := range r.deks {
				if d.version != r.active {
					candidates = append(candidates, d.version)
				}
			}
			prefix := append(idPrefix(id), r.gen[:]...)
			return tx.Scan(ctx, kv.Prefix(prefix), func(_, val []byte) error {
				if ver, _, err := header(val); err == nil {
					used[ver] = true
				}
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("barrier: retire: %w", err)
	}
	for _, v := range keep {
		used[v] = true
	}
	var retired []uint32
	err = b.updateRecord(ctx, id, false, func(_ kv.Tx, r *record) error {
		retired = retired[:0]
		if r.gen != gen {
			return nil // dropped and made again meanwhile: its versions are others
		}
		var deks []dek
		for _, d := range r.deks {
			if d.version != r.active && !used[d.version] && slices.Contains(candidates, d.version) {
				retired = append(retired, d.version)
				clear(d.key)
				continue
			}
			deks = append(deks, d)
		}
		r.deks = deks
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("barrier: retire: %w", err)
	}
	return retired, nil
}

// readRecord reads and opens the key record at rk through r; the caller
// clears it.
func (b *Barrier) readRecord(ctx context.Context, r kv.Reader, rk []byte) ([]byte, *record, error) {
	raw, err := r.Get(ctx, rk)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil, ErrNoView
	}
	if err != nil {
		return nil, nil, err
	}
	rec, err := b.unwrap(ctx, r, rk, raw)
	return raw, rec, err
}

// Versions lists the DEK versions of view id (nil: the system view) and
// the active one.
func (b *Barrier) Versions(ctx context.Context, id []byte) (versions []uint32, active uint32, err error) {
	_, rec, err := b.readRecord(ctx, b.store, recordKey(id))
	if err != nil {
		return nil, 0, err
	}
	defer rec.clear()
	for _, d := range rec.deks {
		versions = append(versions, d.version)
	}
	return versions, rec.active, nil
}

// ViewIDs lists the ids of every view but the system view.
func (b *Barrier) ViewIDs(ctx context.Context) ([][]byte, error) {
	var ids [][]byte
	err := b.store.View(ctx, func(r kv.Reader) error {
		return r.Scan(ctx, kv.Prefix([]byte{'k'}), func(k, _ []byte) error {
			if len(k) >= 2 && int(k[1]) == len(k)-2 && k[1] > 0 {
				ids = append(ids, slices.Clone(k[2:]))
			}
			return nil
		})
	})
	return ids, err
}

// RewrapRecords re-seals under the keyring's active term every key record
// sealed under an older one, so the keyring can retire that term. It
// returns how many it re-sealed.
func (b *Barrier) RewrapRecords(ctx context.Context) (int, error) {
	active, key := b.kr.Active()
	clear(key)
	ids, err := b.ViewIDs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range append([][]byte{nil}, ids...) {
		rk := recordKey(id)
		raw, err := b.store.Get(ctx, rk)
		if errors.Is(err, kv.ErrNotFound) {
			continue // dropped meanwhile
		}
		if err != nil {
			return n, err
		}
		if term, _, err := header(raw); err == nil && term == active {
			continue
		}
		err = b.updateRecord(ctx, id, false, func(kv.Tx, *record) error { return nil })
		if errors.Is(err, ErrNoView) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("barrier: rewrap key records: %w", err)
		}
		n++
	}
	return n, nil
}

// RecordTerms lists the keyring terms the key records are sealed under.
func (b *Barrier) RecordTerms(ctx context.Context) (map[uint32]int, error) {
	var terms map[uint32]int
	err := b.store.View(ctx, func(r kv.Reader) error {
		var err error
		terms, err = recordTerms(ctx, r)
		return err
	})
	return terms, err
}

func recordTerms(ctx context.Context, r kv.Reader) (map[uint32]int, error) {
	terms := map[uint32]int{}
	err := r.Scan(ctx, kv.Prefix([]byte{'k'}), func(k, v []byte) error {
		if len(k) < 2 || int(k[1]) != len(k)-2 || bytes.Equal(k, []byte("\x00keyring")) {
			return nil
		}
		if term, _, err := header(v); err == nil {
			terms[term]++
		}
		return nil
	})
	return terms, err
}

// RetireTerms removes the keyring terms no key record is sealed under
// (after RewrapRecords), and returns them.
func (b *Barrier) RetireTerms(ctx context.Context) ([]uint32, error) {
	// The records are read in the transaction that rewrites the keyring:
	// a record another node seals meanwhile under an old term conflicts.
	return b.kr.RetireWith(ctx, func(r kv.Reader) (map[uint32]bool, error) {
		terms, err := recordTerms(ctx, r)
		if err != nil {
			return nil, err
		}
		used := map[uint32]bool{}
		for t := range terms {
			used[t] = true
		}
		return used, nil
	})
}
