package audit

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// Retention removes entries older than a retention period, but never an
// event that has not been exported: an export from the start of the log
// moves the "exported through" mark, and pruning stops there. What was
// removed leaves a base record — the first kept entry and the hash before
// it — from which Verify checks the chain, so a pruned log still verifies
// and an entry removed behind the base's back is still found.

var (
	baseKey     = []byte("audit/base")     // the first entry kept
	exportedKey = []byte("audit/exported") // entries before this sequence number were exported
)

type base struct {
	Seq  uint64 `json:"seq"`
	Prev []byte `json:"prev"`
	// Frontier stands for the removed entries in the Merkle tree (see
	// frontier.go), so checkpoints signed before a prune still describe the
	// log after it. A base pruned before it was kept has none: its tree
	// starts at Seq.
	Frontier [][]byte `json:"frontier,omitempty"`
}

// tree is the log's Merkle tree, from the base's frontier and the leaves of
// the entries still stored (leafs, from b.Seq on). offset is the first
// leaf's index: 0, unless the base has no frontier.
func (b *base) tree(leaves [][]byte) (t *tree, offset uint64, err error) {
	if b.Seq > 0 && len(b.Frontier) == 0 {
		return &tree{frontier: map[[2]uint64][]byte{}, leaves: leaves}, b.Seq, nil
	}
	t, err = newTree(b.Seq, b.Frontier, leaves)
	return t, 0, err
}

func (l *Log) readBase(tx *barrier.Tx) (*base, error) {
	raw, err := tx.Get(l.b.System(), baseKey)
	if errors.Is(err, kv.ErrNotFound) {
		return &base{Prev: make([]byte, 32)}, nil
	}
	if err != nil {
		return nil, err
	}
	var b base
	return &b, json.Unmarshal(raw, &b)
}

// MarkExported records that every entry before seq has been exported.
func (l *Log) MarkExported(ctx context.Context, seq uint64) error {
	return l.b.Update(ctx, func(tx *barrier.Tx) error {
		raw, err := tx.Get(l.b.System(), exportedKey)
		if err == nil && len(raw) == 8 && binary.BigEndian.Uint64(raw) >= seq {
			return nil
		}
		if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		return tx.Set(l.b.System(), exportedKey, binary.BigEndian.AppendUint64(nil, seq))
	})
}

// Prune removes the entries written before cutoff that have been
// exported, and returns how many went.
func (l *Log) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	removed := 0
	err := l.b.Update(ctx, func(tx *barrier.Tx) error {
		sys := l.b.System()
		b, err := l.readBase(tx)
		if err != nil {
			return err
		}
		exported := uint64(0)
		if raw, err := tx.Get(sys, exportedKey); err == nil && len(raw) == 8 {
			exported = binary.BigEndian.Uint64(raw)
		} else if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		var keys, leaves [][]byte
		next := *b
		err = tx.Scan(sys, kv.Range{Start: entryKey(b.Seq), End: kv.PrefixEnd(entryPrefix)}, func(k, val []byte) error {
			var e Entry
			if err := json.Unmarshal(val, &e); err != nil {
				return err
			}
			if e.Seq >= exported || !e.Time.Before(cutoff) {
				return kv.Stop
			}
			keys = append(keys, append([]byte(nil), k...))
			leaves = append(leaves, LeafHash(e.Hash))
			next = base{Seq: e.Seq + 1, Prev: e.Hash}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		// The removed entries stay in the tree through the new frontier
		// (unless the old base had none to build it from).
		if t, offset, err := b.tree(leaves); err != nil {
			return err
		} else if offset == 0 {
			if next.Frontier, err = t.frontierAt(next.Seq); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := tx.Delete(sys, k); err != nil {
				return err
			}
		}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		removed = len(keys)
		return tx.Set(sys, baseKey, data)
	})
	return removed, err
}
