package kvtest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/twinvault/twinvault/kv"
)

// NewMem returns an empty in-memory store.
func NewMem() *Mem { return &Mem{d: &memData{m: map[string][]byte{}}} }

// Reopen returns a new store over the same data, as reopening a directory
// would; m must be closed first.
func (s *Mem) Reopen() *Mem { return &Mem{d: s.d} }

// Raw returns a copy of every stored pair.
func (s *Mem) Raw() map[string][]byte {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	m := make(map[string][]byte, len(s.d.m))
	for k, v := range s.d.m {
		m[k] = bytes.Clone(v)
	}
	return m
}

// Put stores value under key behind every layer's back; a nil value
// removes key.
func (s *Mem) Put(key string, value []byte) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if value == nil {
		delete(s.d.m, key)
		return
	}
	s.d.m[key] = bytes.Clone(value)
}

// View runs fn over a copy of the committed state taken when View began.
func (s *Mem) View(ctx context.Context, fn func(kv.Reader) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	s.d.mu.Lock()
	snap := &Mem{d: &memData{m: make(map[string][]byte, len(s.d.m))}}
	for k, v := range s.d.m {
		snap.d.m[k] = v
	}
	s.d.mu.Unlock()
	r := &memTx{s: snap, p: map[string][]byte{}, readOnly: true}
	defer func() { r.done = true }()
	return fn(r)
}

// memData is the committed state; it outlives a Mem, like a directory.
type memData struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Mem is an in-memory kv.Store: the plainest engine that meets the
// contract, for tests of the layers above kv. It serialises every writer
// and copies every slice in and out. Raw and Put let a test play the
// attacker who holds the store.
type Mem struct {
	d    *memData
	wmu  sync.Mutex
	gate kv.Gate
}

func (s *Mem) enter(ctx context.Context) error { return s.gate.Enter(ctx) }

func (s *Mem) Close() error {
	if err := s.gate.Close(); err != nil {
		return err
	}
	return nil
}

func (s *Mem) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.gate.Leave()
	return s.get(key, nil)
}

// get reads key through the pending writes p (nil value: deleted).
func (s *Mem) get(key []byte, p map[string][]byte) ([]byte, error) {
	v, ok := p[string(key)]
	if !ok {
		s.d.mu.Lock()
		v, ok = s.d.m[string(key)]
		s.d.mu.Unlock()
	}
	if !ok || v == nil {
		return nil, kv.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (s *Mem) Scan(ctx context.Context, r kv.Range, fn func(key, value []byte) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	return s.scan(ctx, r, nil, fn)
}

// scan copies the pairs in r, merged with pending writes p, then visits them.
func (s *Mem) scan(ctx context.Context, r kv.Range, p map[string][]byte, fn func(key, value []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	in := func(k string) bool {
		return bytes.Compare([]byte(k), r.Start) >= 0 && (r.End == nil || bytes.Compare([]byte(k), r.End) < 0)
	}
	view := map[string][]byte{}
	s.d.mu.Lock()
	for k, v := range s.d.m {
		if in(k) {
			view[k] = v
		}
	}
	s.d.mu.Unlock()
	for k, v := range p {
		if in(k) {
			view[k] = v
		}
	}
	var keys []string
	for k, v := range view {
		if v != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if r.Reverse {
		slices.Reverse(keys)
	}
	if r.Limit > 0 && len(keys) > r.Limit {
		keys = keys[:r.Limit]
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn([]byte(k), bytes.Clone(view[k])); err != nil {
			if errors.Is(err, kv.Stop) {
				return nil
			}
			return err
		}
	}
	return nil
}

func (s *Mem) commit(p map[string][]byte) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	for k, v := range p {
		if v == nil {
			delete(s.d.m, k)
		} else {
			s.d.m[k] = v
		}
	}
}

func (s *Mem) Batch(ctx context.Context, ws []kv.Write) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	p := map[string][]byte{}
	for _, w := range ws {
		p[string(w.Key)] = bytes.Clone(w.Value) // Clone keeps nil nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.commit(p)
	return nil
}

func (s *Mem) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx := &memTx{s: s, p: map[string][]byte{}}
	defer func() { tx.done = true }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.commit(tx.p)
	return nil
}

var errDone = errors.New("Mem: transaction finished")

type memTx struct {
	s        *Mem
	p        map[string][]byte
	done     bool
	readOnly bool
}

func (t *memTx) Get(ctx context.Context, key []byte) ([]byte, error) {
	if t.done {
		return nil, errDone
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return t.s.get(key, t.p)
}

func (t *memTx) Scan(ctx context.Context, r kv.Range, fn func(key, value []byte) error) error {
	if t.done {
		return errDone
	}
	return t.s.scan(ctx, r, t.p, fn)
}

func (t *memTx) Set(key, value []byte) error {
	if t.done || t.readOnly {
		return errDone
	}
	t.p[string(key)] = append([]byte{}, value...) // never nil: nil marks a delete
	return nil
}

func (t *memTx) Delete(key []byte) error {
	if t.done || t.readOnly {
		return errDone
	}
	t.p[string(key)] = nil
	return nil
}
