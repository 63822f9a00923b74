package kv

import (
	"context"
	"sync"
)

// Gate is how an engine keeps its Close promise: it counts calls in
// flight, so that Close waits for them, and refuses calls once Close has
// begun. The zero Gate is open.
type Gate struct {
	mu     sync.RWMutex
	closed bool
	live   sync.WaitGroup
}

// Enter registers a call, or returns ctx's error or ErrClosed. Every
// successful Enter must be paired with Leave.
func (g *Gate) Enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return ErrClosed
	}
	g.live.Add(1)
	return nil
}

// Leave ends a call Enter registered.
func (g *Gate) Leave() { g.live.Done() }

// Close refuses new calls and waits for those in flight; a second Close
// returns ErrClosed. It must not be called from inside a call: it would
// wait for that call forever.
func (g *Gate) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	g.closed = true
	g.mu.Unlock()
	g.live.Wait()
	return nil
}
