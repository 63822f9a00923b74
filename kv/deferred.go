package kv

import (
	"context"
	"sync"
)

// Deferred holds the sync waits of writes an engine applied without
// waiting for them, for a caller that makes a later write durable before it
// acknowledges anything: that write carries the earlier ones to disk (see
// Pipeliner), so one sync serves them all. The audit log's event is such a
// write for the change of an API call.
//
// An engine that orders its writes so (Pipeliner) may leave the waits of
// Update and Batch here when their context carries a Deferred
// (WithDeferred), or not ask for their sync at all, since the later write's
// carries them; any other engine returns once its writes are durable, as
// always. The caller must call Wait in every case, after that later write:
// an engine keeps a write whose sync it asked for in flight until its wait
// has run. After Wait, d takes no more waits: a write made later under it
// (work that kept the context) waits for its own sync. A write left
// without a sync of its own is as durable as the later write makes it: if
// that write fails, or never comes (a call that panicked), it waits for
// the store's next sync, and the caller acknowledges nothing.
type Deferred struct {
	mu     sync.Mutex
	waits  []func() error
	closed bool
}

type deferredKey struct{}

// WithDeferred returns ctx carrying d.
func WithDeferred(ctx context.Context, d *Deferred) context.Context {
	return context.WithValue(ctx, deferredKey{}, d)
}

// DeferredOf returns the Deferred ctx carries, or nil.
func DeferredOf(ctx context.Context) *Deferred {
	d, _ := ctx.Value(deferredKey{}).(*Deferred)
	return d
}

// Add leaves a wait to d and reports whether d took it; once Wait has run
// it takes none, and the engine must wait itself.
func (d *Deferred) Add(wait func() error) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.waits = append(d.waits, wait)
	return true
}

// Wait runs the waits left, each once, and returns the first error.
func (d *Deferred) Wait() error {
	d.mu.Lock()
	waits := d.waits
	d.waits, d.closed = nil, true
	d.mu.Unlock()
	var first error
	for _, w := range waits {
		if err := w(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
