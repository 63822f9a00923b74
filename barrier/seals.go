package barrier

import (
	"context"
	"errors"
	"slices"

	"github.com/twinvault/twinvault/kv"
)

// A DEK seals with AES-GCM under random 96-bit nonces, which NIST SP
// 800-38D allows for at most 2^32 seals per key. Each view counts the
// seals of its active DEK, adds them to the key record's count now and
// then, and rotates to a new DEK when the count reaches the budget, well
// before the limit: a crash loses at most flushEvery uncounted seals.

// DefaultSealBudget is the seals a DEK makes before it is rotated: half
// of the 2^32 that random nonces allow.
const DefaultSealBudget = 1 << 31

// SetSealBudget changes the budget (tests use a small one).
func (b *Barrier) SetSealBudget(n uint64) { b.sealBudget.Store(max(n, 1)) }

// OnAutoRotate sets fn to be told the id of each view rotated because its
// DEK reached the budget, so re-sealing can follow.
func (b *Barrier) OnAutoRotate(fn func(id []byte)) { b.onRotate.Store(&fn) }

// flushEvery is how many seals a view counts before recording them.
func (b *Barrier) flushEvery() uint64 { return max(1, min(b.sealBudget.Load()/8, 1<<20)) }

// noteSeals counts n seals under the view's active DEK.
func (v *View) noteSeals(n uint64) {
	if v.pending.Add(n) >= v.b.flushEvery() && v.flushing.CompareAndSwap(false, true) {
		go v.b.flushSeals(v)
	}
}

// flushSeals records a view's pending seals, again while more than
// flushEvery gathered meanwhile.
func (b *Barrier) flushSeals(v *View) {
	for {
		b.flushOnce(v)
		v.flushing.Store(false)
		if v.pending.Load() < b.flushEvery() || !v.flushing.CompareAndSwap(false, true) {
			return
		}
	}
}

// flushOnce adds a view's pending seals to its active DEK's count and
// rotates the DEK once the count reaches the budget.
func (b *Barrier) flushOnce(v *View) {
	n := v.pending.Swap(0)
	if n == 0 {
		return
	}
	ctx := context.Background()
	rotate := false
	err := b.updateRecord(ctx, v.id, false, func(_ kv.Tx, r *record) error {
		for i := range r.deks {
			if r.deks[i].version == r.active {
				r.deks[i].sealed += n
				rotate = r.deks[i].sealed >= b.sealBudget.Load()
			}
		}
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrNoView) {
			v.pending.Add(n) // counted again next time
		}
		return
	}
	if rotate {
		if _, err := b.RotateView(ctx, v.id); err == nil {
			if fn := b.onRotate.Load(); fn != nil {
				(*fn)(slices.Clone(v.id))
			}
		}
	}
}

// Seals returns the seal count recorded for the active DEK of view id
// (nil: the system view), with the seals not yet recorded.
func (b *Barrier) Seals(ctx context.Context, id []byte) (uint64, error) {
	rk := recordKey(id)
	raw, err := b.store.Get(ctx, rk)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, ErrNoView
	}
	if err != nil {
		return 0, err
	}
	rec, err := b.unwrap(ctx, b.store, rk, raw)
	if err != nil {
		return 0, err
	}
	defer rec.clear()
	var n uint64
	for _, d := range rec.deks {
		if d.version == rec.active {
			n = d.sealed
		}
	}
	if v := b.cached(id); v != nil {
		n += v.pending.Load()
	}
	return n, nil
}
