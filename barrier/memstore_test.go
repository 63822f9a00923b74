package barrier

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/twinvault/twinvault/kv"
)

// memStore is a minimal in-memory kv.Store for tests. Update holds the lock
// for the whole transaction, so transactions are trivially serializable and
// never conflict; a rollback log undoes a failed one. Calling the store from
// inside an Update callback deadlocks, which catches code that would escape
// its transaction.
type memStore struct {
	mu     sync.Mutex
	data   map[string][]byte
	closed bool
}

func newMemStore() *memStore { return &memStore{data: map[string][]byte{}} }

func (s *memStore) Get(ctx context.Context, key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(ctx, key)
}

func (s *memStore) get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	v, ok := s.data[string(key)]
	if !ok {
		return nil, kv.ErrNotFound
	}
	return slices.Clone(v), nil
}

func (s *memStore) Scan(ctx context.Context, r kv.Range, fn func(key, value []byte) error) error {
	s.mu.Lock()
	pairs, err := s.collect(ctx, r)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return visit(pairs, fn)
}

func (s *memStore) Update(ctx context.Context, fn func(tx kv.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	tx := &memTx{s: s, undo: map[string]prev{}}
	if err := fn(tx); err != nil {
		for k, p := range tx.undo {
			if p.ok {
				s.data[k] = p.v
			} else {
				delete(s.data, k)
			}
		}
		return err
	}
	return nil
}

func (s *memStore) Batch(ctx context.Context, writes []kv.Write) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	for _, w := range writes {
		if w.Value == nil {
			delete(s.data, string(w.Key))
		} else {
			s.data[string(w.Key)] = slices.Clone(w.Value)
		}
	}
	return nil
}

func (s *memStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *memStore) check(ctx context.Context) error {
	if s.closed {
		return kv.ErrClosed
	}
	return ctx.Err()
}

// raw returns a copy of every stored pair, for tests that inspect what an
// attacker with the store would see.
func (s *memStore) raw() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string][]byte, len(s.data))
	for k, v := range s.data {
		m[k] = slices.Clone(v)
	}
	return m
}

func (s *memStore) put(key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = slices.Clone(value)
}

type pair struct{ k, v []byte }

// collect snapshots the pairs in r, so callbacks may write while scanning.
func (s *memStore) collect(ctx context.Context, r kv.Range) ([]pair, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var ps []pair
	for k, v := range s.data {
		kb := []byte(k)
		if bytes.Compare(kb, r.Start) >= 0 && (r.End == nil || bytes.Compare(kb, r.End) < 0) {
			ps = append(ps, pair{kb, slices.Clone(v)})
		}
	}
	slices.SortFunc(ps, func(a, b pair) int { return bytes.Compare(a.k, b.k) })
	if r.Reverse {
		slices.Reverse(ps)
	}
	if r.Limit > 0 && len(ps) > r.Limit {
		ps = ps[:r.Limit]
	}
	return ps, nil
}

func visit(ps []pair, fn func(key, value []byte) error) error {
	for _, p := range ps {
		if err := fn(p.k, p.v); err != nil {
			if errors.Is(err, kv.Stop) {
				return nil
			}
			return err
		}
	}
	return nil
}

type memTx struct {
	s    *memStore
	undo map[string]prev
}

// prev is a key's value before the transaction first wrote it.
type prev struct {
	v  []byte
	ok bool
}

func (t *memTx) Get(ctx context.Context, key []byte) ([]byte, error) { return t.s.get(ctx, key) }

func (t *memTx) Scan(ctx context.Context, r kv.Range, fn func(key, value []byte) error) error {
	ps, err := t.s.collect(ctx, r)
	if err != nil {
		return err
	}
	return visit(ps, fn)
}

func (t *memTx) Set(key, value []byte) error {
	t.save(key)
	t.s.data[string(key)] = slices.Clone(value)
	return nil
}

func (t *memTx) Delete(key []byte) error {
	t.save(key)
	delete(t.s.data, string(key))
	return nil
}

func (t *memTx) save(key []byte) {
	k := string(key)
	if _, ok := t.undo[k]; ok {
		return
	}
	v, ok := t.s.data[k]
	t.undo[k] = prev{v, ok}
}
