package node

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/twinvault/twinvault/audit"
	"github.com/twinvault/twinvault/kv"
)

// A request is reserved in the audit log before it runs and recorded when
// it ends. A node that stops in between (killed, its machine lost) leaves
// the reservation open, and the trail would say the request may have run
// unrecorded. The node that finds it — this one at its next start, or in
// a deployment of several any survivor, once the stopped node's liveness
// lease has run out — closes it with a RequestInterrupted event: the
// trail then says plainly that the outcome is unknown.

const (
	orphansLease = "audit/orphans"
	// Each node of a deployment holds "node/<id>" while it serves.
	livenessPrefix = "node/"
)

var orphanCursorKey = []byte("audit/orphan-cursor")

// keepFloor records, at a clean stop of a node that owns its store alone,
// where the next start's search for open reservations begins, so that it
// reads only what came after and not the whole log since the last start.
func (n *Node) keepFloor() error {
	seq, ok := n.audit.Floor()
	if !ok {
		return nil
	}
	return n.barrier.System().Batch(context.Background(), []kv.Write{{Key: orphanCursorKey, Value: binary.BigEndian.AppendUint64(nil, seq)}})
}

// staleAfter is how old an open reservation of a running node may grow:
// no request runs that long, so one without its event by then lost it
// (the log failed as the request ended) and is closed too, lest it hold
// the cursor back for good.
const staleAfter = time.Hour

func stale(r audit.OpenReservation, now time.Time) bool {
	at, err := time.Parse("2006-01-02T15:04:05Z", r.EventTime)
	return err == nil && now.Sub(at) > staleAfter
}

// closeOrphans closes the open reservations of stopped nodes. At start
// (starting) over an embedded store, every open one is a previous
// process's.
func (n *Node) closeOrphans(ctx context.Context, starting bool) error {
	shared := n.barrier.Shared()
	if !shared && !starting {
		return nil // only this process writes; its requests are in flight
	}
	held, err := n.leases.acquire(ctx, orphansLease, n.cfg.leaseTTL())
	if err != nil || !held {
		return err
	}
	sys := n.barrier.System()
	from := uint64(0)
	if raw, err := sys.Get(ctx, orphanCursorKey); err == nil && len(raw) == 8 {
		from = binary.BigEndian.Uint64(raw)
	} else if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return err
	}
	open, next, err := n.audit.OpenReservations(ctx, from)
	if err != nil {
		return err
	}
	cursor := next
	live := map[string]bool{}
	for _, r := range open {
		if shared && r.Node != "" {
			alive, ok := live[r.Node]
			if !ok {
				holder, err := n.leases.holderOf(ctx, livenessPrefix+r.Node)
				if err != nil {
					return err
				}
				alive = holder != ""
				live[r.Node] = alive
			}
			if alive && !stale(r, n.cfg.Now()) {
				cursor = min(cursor, r.Seq) // still in flight, perhaps
				continue
			}
		}
		reason := "the node serving the request stopped before it finished; whether it made its change is unknown"
		if shared && live[r.Node] { // running, but stale
			reason = "no event was recorded within an hour (the audit log failed when the request ended); whether it made its change is unknown"
		}
		details, _ := json.Marshal(map[string]any{
			"eventName": r.EventName, "eventSource": r.EventSource, "reservedAt": r.EventTime, "node": r.Node, "reason": reason,
		})
		e := serviceEvent("RequestInterrupted", r.RequestID, n.cfg.Region, n.cfg.Now(), nil, details)
		if err := n.audit.Append(ctx, e); err != nil {
			return err
		}
		n.log.Warn("closed the audit reservation of an interrupted request", "requestId", r.RequestID, "operation", r.EventName, "node", r.Node)
	}
	return sys.Batch(ctx, []kv.Write{{Key: orphanCursorKey, Value: binary.BigEndian.AppendUint64(nil, cursor)}})
}

// liveness keeps this node's liveness lease while it serves, over a shared
// store, on a ticker of its own so that no other work can delay it; and,
// beside it, closes other nodes' orphaned reservations as they appear,
// removes the bodies a backup's hold kept once no hold is live, and removes
// expired query results.
func (n *Node) liveness(ctx context.Context) {
	ttl := n.cfg.leaseTTL()
	janitor := make(chan struct{})
	go func() {
		defer close(janitor)
		t := time.NewTicker(ttl / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := n.closeOrphans(ctx, false); err != nil && ctx.Err() == nil {
				n.log.Warn("audit: closing interrupted requests", "err", err)
			}
			if err := n.objs.Collect(ctx); err != nil && ctx.Err() == nil {
				n.log.Warn("objects: removing bodies held for a backup", "err", err)
			}
			if n.pages != nil {
				if err := n.pages.sweep(ctx, n.leases, ttl); err != nil && ctx.Err() == nil {
					n.log.Warn("query results: removing expired ones", "err", err)
				}
			}
		}
	}()
	t := time.NewTicker(ttl / 4)
	defer t.Stop()
	for {
		if _, err := n.leases.acquire(ctx, livenessPrefix+n.leases.holder, ttl); err == nil {
			n.aliveAt.Store(n.cfg.Now().UnixNano())
		} else if ctx.Err() == nil {
			n.log.Warn("liveness lease", "err", err)
		}
		select {
		case <-ctx.Done():
			<-janitor
			n.leases.release(context.WithoutCancel(ctx), livenessPrefix+n.leases.holder)
			return
		case <-t.C:
		}
	}
}

// alive reports whether this node renewed its liveness lease recently
// enough that no other node takes it for stopped; a node that cannot is
// not ready, so a load balancer sends its requests elsewhere.
func (n *Node) alive() bool {
	if !n.barrier.Shared() {
		return true
	}
	at := time.Unix(0, n.aliveAt.Load())
	return n.cfg.Now().Sub(at) < n.cfg.leaseTTL()*2/3
}
