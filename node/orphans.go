package node

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

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
			if alive {
				cursor = min(cursor, r.Seq) // still in flight, perhaps
				continue
			}
		}
		details, _ := json.Marshal(map[string]any{
			"eventName": r.EventName, "eventSource": r.EventSource, "reservedAt": r.EventTime, "node": r.Node,
			"reason": "the node serving the request stopped before it finished; whether it made its change is unknown",
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
// store, closes other nodes' orphaned reservations as they appear, removes
// the bodies a backup's hold kept once no hold is live, and removes expired
// query results.
func (n *Node) liveness(ctx context.Context) {
	ttl := n.cfg.leaseTTL()
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		if _, err := n.leases.acquire(ctx, livenessPrefix+n.leases.holder, ttl); err != nil && ctx.Err() == nil {
			n.log.Warn("liveness lease", "err", err)
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
		select {
		case <-ctx.Done():
			n.leases.release(context.WithoutCancel(ctx), livenessPrefix+n.leases.holder)
			return
		case <-t.C:
		}
	}
}
