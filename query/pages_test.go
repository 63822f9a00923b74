package query

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// memPages is the store nodes share results through, in memory.
type memPages struct {
	mu   sync.Mutex
	now  func() time.Time
	data map[[16]byte]memPage
}

type memPage struct {
	data    []byte
	expires time.Time
}

func (p *memPages) Key(context.Context) ([]byte, error) { return make([]byte, 32), nil }

func (p *memPages) Put(_ context.Context, _ string, id [16]byte, data []byte, expires time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.data[id] = memPage{data, expires}
	return nil
}

func (p *memPages) Get(_ context.Context, _ string, id [16]byte) ([]byte, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pg, ok := p.data[id]
	if !ok || p.now().After(pg.expires) {
		return nil, time.Time{}, ErrExpired
	}
	return pg.data, pg.expires, nil
}

// TestSharedResultExpires: a node that pages a result another node ran
// keeps it no longer than the stored result lives.
func TestSharedResultExpires(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return at }
	shared := &memPages{now: now, data: map[[16]byte]memPage{}}
	a, b := newResultStore(1<<20, time.Hour, now), newResultStore(1<<20, time.Hour, now)
	a.shared, b.shared = shared, shared
	const scope = "ws\x00query"
	tok, err := a.put(ctx, &storedResult{rows: [][]json.RawMessage{{json.RawMessage("1")}, {json.RawMessage("2")}}, size: 10}, 1, scope)
	if err != nil {
		t.Fatal(err)
	}
	at = at.Add(50 * time.Minute)
	if _, _, err := b.get(ctx, tok, scope); err != nil {
		t.Fatalf("another node's result: %v", err)
	}
	at = at.Add(11 * time.Minute) // past the hour the result was kept for
	if _, _, err := b.get(ctx, tok, scope); err == nil {
		t.Error("the token still works on the node that read the result, after the result expired")
	}
}
