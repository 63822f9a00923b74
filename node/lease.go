package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// leases let one node of a deployment do a piece of background work
// (re-sealing, the scheduled scan) while the others leave it: a lease is a
// record in the shared store naming its holder and when it ends, taken and
// renewed in a transaction. A holder that dies lets it run out, and
// another node takes it then. Over an embedded store, which one process
// locks, every lease is this node's at once.
type leases struct {
	b      *barrier.Barrier
	holder string // this node, for the lease records
	now    func() time.Time
}

type leaseRecord struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

func newLeases(b *barrier.Barrier, now func() time.Time) *leases {
	id := make([]byte, 8)
	rand.Read(id)
	return &leases{b: b, holder: hex.EncodeToString(id), now: now}
}

func leaseKey(name string) []byte { return []byte("lease/" + name) }

// acquire takes or renews the lease name for ttl, and reports whether this
// node holds it. Leases must outlast the clock differences of the nodes.
func (l *leases) acquire(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	if !l.b.Shared() {
		return true, nil
	}
	sys := l.b.System()
	held := false
	err := l.b.Update(ctx, func(tx *barrier.Tx) error {
		held = false
		now := l.now()
		raw, err := tx.Get(sys, leaseKey(name))
		switch {
		case err == nil:
			var cur leaseRecord
			if err := json.Unmarshal(raw, &cur); err != nil {
				return fmt.Errorf("lease %s: %w", name, err)
			}
			if cur.Holder != l.holder && now.Before(cur.Until) {
				return nil // another node's, still running
			}
		case !errors.Is(err, kv.ErrNotFound):
			return err
		}
		data, err := json.Marshal(leaseRecord{Holder: l.holder, Until: now.Add(ttl)})
		if err != nil {
			return err
		}
		held = true
		return tx.Set(sys, leaseKey(name), data)
	})
	return held, err
}

// release gives the lease up, if this node holds it, so another node need
// not wait for it to run out.
func (l *leases) release(ctx context.Context, name string) error {
	if !l.b.Shared() {
		return nil
	}
	sys := l.b.System()
	return l.b.Update(ctx, func(tx *barrier.Tx) error {
		raw, err := tx.Get(sys, leaseKey(name))
		if errors.Is(err, kv.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var cur leaseRecord
		if json.Unmarshal(raw, &cur) != nil || cur.Holder != l.holder {
			return nil
		}
		return tx.Delete(sys, leaseKey(name))
	})
}

// holderOf names the node holding lease name, "" if none does.
func (l *leases) holderOf(ctx context.Context, name string) (string, error) {
	raw, err := l.b.System().Get(ctx, leaseKey(name))
	if errors.Is(err, kv.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var cur leaseRecord
	if err := json.Unmarshal(raw, &cur); err != nil {
		return "", err
	}
	if !l.now().Before(cur.Until) {
		return "", nil
	}
	return cur.Holder, nil
}

// others lists the other nodes whose liveness lease is running.
func (l *leases) others(ctx context.Context) ([]string, error) {
	var out []string
	now := l.now()
	err := l.b.System().Scan(ctx, kv.Prefix(leaseKey(livenessPrefix)), func(_, v []byte) error {
		var cur leaseRecord
		if json.Unmarshal(v, &cur) == nil && cur.Holder != l.holder && now.Before(cur.Until) {
			out = append(out, cur.Holder)
		}
		return nil
	})
	return out, err
}
