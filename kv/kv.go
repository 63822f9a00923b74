// Package kv defines the ordered key-value store that every storage engine
// implements. The store is untrusted: it only ever sees opaque keys built from
// identifiers and blind indexes, and values sealed by the barrier package.
package kv

import (
	"context"
	"errors"
)

var (
	// ErrNotFound is returned by Get when a key has no value.
	ErrNotFound = errors.New("kv: key not found")
	// ErrConflict is returned by Update when a concurrent transaction
	// changed what this one read, so it could not commit. Nothing of the
	// failed transaction is applied; the caller may retry.
	ErrConflict = errors.New("kv: transaction conflict")
	// ErrClosed is returned by any call on a closed store.
	ErrClosed = errors.New("kv: store closed")
	// Stop may be returned by a Scan callback to end the scan early
	// without an error.
	//lint:ignore ST1012 a signal, not a failure, named like filepath.SkipAll
	Stop = errors.New("kv: stop scan")
)

// Range selects the keys k with Start <= k < End in byte order. A nil End
// means no upper bound; a Start at or after End selects nothing. Reverse
// walks from the largest key down. Limit > 0 caps the number of pairs
// visited; zero or less means no cap.
type Range struct {
	Start, End []byte
	Reverse    bool
	Limit      int
}

// Prefix returns the Range of every key that starts with p.
func Prefix(p []byte) Range {
	return Range{Start: p, End: PrefixEnd(p)}
}

// PrefixEnd returns the smallest key greater than every key with prefix p,
// or nil when there is none (p is empty or all 0xff).
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Reader reads keys. The key and value slices passed to a Scan callback are
// only valid during that call; copy them to keep them. The slice Get returns
// is the caller's to keep and modify.
//
// Scan returns nil when the callback returns Stop, and any other error of
// the callback unchanged. Get and Scan return ctx.Err() when ctx is done,
// and a Scan stops early when ctx is done during it.
type Reader interface {
	Get(ctx context.Context, key []byte) ([]byte, error)
	Scan(ctx context.Context, r Range, fn func(key, value []byte) error) error
}

// Tx is a read-write transaction. Reads see the transaction's own writes.
// Set and Delete copy their arguments, so the caller may reuse them; a nil
// value given to Set is an empty value, not a delete. A Scan callback may
// call Set and Delete; whether the running scan sees those writes is up to
// the engine. A Tx is valid only until its Update returns and must not be
// used from more than one goroutine at a time.
type Tx interface {
	Reader
	Set(key, value []byte) error
	Delete(key []byte) error
}

// Store is an ordered, durable key-value store.
//
// Update runs fn in a serializable transaction and commits its writes
// atomically and durably when fn returns nil; when fn returns an error
// nothing is written and that error is returned. Update returns ErrConflict
// when the transaction lost a race with another writer. It commits nothing
// and returns ctx.Err() when ctx is done before fn is called or by the time
// fn returns. If fn panics, nothing is written and the panic goes on up.
// fn must not call Update or Batch on the same Store: an engine may run one
// writer at a time, and the inner call would wait for the outer one.
//
// Batch applies blind writes (no reads) atomically and durably, in order,
// so the last write to a key wins; it is the fast path for appends such as
// time-series chunks. Batch copies the writes, so the caller may reuse them.
//
// View runs fn over a consistent snapshot: every read fn makes sees the
// store as it was when View began, whatever is written meanwhile, and
// neither waits for writers nor makes them wait. fn's error is returned.
// The Reader is valid only until View returns.
//
// A write is durable when Update or Batch returns nil. Every call returns
// ctx.Err() when ctx is done before it starts. Close waits for calls in
// flight or makes them fail with ErrClosed; any call after Close returns
// ErrClosed.
type Store interface {
	Reader
	Update(ctx context.Context, fn func(tx Tx) error) error
	View(ctx context.Context, fn func(r Reader) error) error
	Batch(ctx context.Context, writes []Write) error
	Close() error
}

// Shared is implemented by engines that several processes may use at once
// (a database server), unlike an embedded one that one process locks.
// Whoever keeps state outside the store must then read it inside the
// transactions that depend on it: another process may have changed it.
type Shared interface {
	Shared() bool
}

// IsShared reports whether s may be used by other processes meanwhile.
func IsShared(s Store) bool {
	sh, ok := s.(Shared)
	return ok && sh.Shared()
}

// Pipeliner is implemented by engines that can apply a blind batch now,
// ordered after every batch applied before it, and let the caller wait for
// its durability later: a writer that must keep its batches in order can
// start the next one while the last is being synced, and the engine syncs
// them together. Until wait returns nil the batch is not durable; a batch
// whose wait fails may be lost with every batch applied after it. Any
// write made durable after BatchApply returned, by any call, makes the
// batch durable too: the engine has one order of writes, and a crash keeps
// a prefix of it. wait must be called once.
type Pipeliner interface {
	BatchApply(ctx context.Context, writes []Write) (wait func() error, err error)
}

// Write is one blind write of a Batch. A nil Value deletes Key.
type Write struct {
	Key, Value []byte
}

// Any reports whether r holds at least one key in rng.
func Any(ctx context.Context, r Reader, rng Range) (bool, error) {
	found := false
	rng.Limit = 1
	err := r.Scan(ctx, rng, func(_, _ []byte) error {
		found = true
		return Stop
	})
	return found, err
}
