// Package kvtest is the conformance suite for kv.Store engines. Every engine
// runs the same suite unchanged, so code above the kv interface can rely on
// one behaviour whichever engine is configured:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kvtest.OpenFunc {
//			dir := t.TempDir()
//			return func() (kv.Store, error) { return engine.Open(dir) }
//		})
//	}
//
// The suite checks the whole contract in kv's doc comments, the fine print
// included: nil and empty values, who owns the slices passed in and handed
// out, contexts, panics, behaviour during and after Close, and the
// serializability that Update promises.
package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twinvault/twinvault/kv"
)

// An Opener prepares a new, empty place for a store (a directory for an
// embedded engine, a schema or table name in a database) and returns an
// OpenFunc for that place. It registers any clean-up of the place with
// t.Cleanup; the suite closes every store it opens before that clean-up runs.
//
// The suite calls the Opener whenever it needs a new store, so no two tests
// share data. For a database, the place can be a schema created for the
// test and dropped by its clean-up:
//
//	func(t *testing.T) kvtest.OpenFunc {
//		schema := createSchema(t) // unique name; DROP SCHEMA in t.Cleanup
//		return func() (kv.Store, error) { return postgres.Open(ctx, dsn, schema) }
//	}
type Opener func(t *testing.T) OpenFunc

// An OpenFunc opens the store at the place its Opener prepared. The suite
// calls it again after closing the store to check that committed data
// survives, so every call must reach the same data. The suite never has two
// stores from one OpenFunc open at the same time.
type OpenFunc func() (kv.Store, error)

// Run runs the conformance suite against the stores that open creates. Each
// check is a subtest, so -run can select one, e.g. -run 'Conformance/Scan'.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"GetMissing", testGetMissing},
		{"SetGetDelete", testSetGetDelete},
		{"EmptyValue", testEmptyValue},
		{"BinaryKeys", testBinaryKeys},
		{"LargeValue", testLargeValue},
		{"Scan", testScan},
		{"ScanOrder", testScanOrder},
		{"ScanStop", testScanStop},
		{"ScanCallbackError", testScanCallbackError},
		{"ScanCallbackPanic", testScanCallbackPanic},
		{"ScanCancel", testScanCancel},
		{"Batch", testBatch},
		{"BatchApply", testBatchApply},
		{"BatchAtomicToReaders", testBatchAtomicToReaders},
		{"CallerOwnsSlices", testCallerOwnsSlices},
		{"TxReadsOwnWrites", testTxReadsOwnWrites},
		{"TxWritesInvisibleOutside", testTxWritesInvisibleOutside},
		{"TxWriteDuringScan", testTxWriteDuringScan},
		{"TxError", testTxError},
		{"TxPanic", testTxPanic},
		{"TxCancelledBeforeCommit", testTxCancelledBeforeCommit},
		{"TxUseAfterReturn", testTxUseAfterReturn},
		{"View", testView},
		{"Counter", testCounter},
		{"WriteSkew", testWriteSkew},
		{"Durability", testDurability},
		{"Closed", testClosed},
		{"CloseWhileBusy", testCloseWhileBusy},
		{"Cancelled", testCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// fresh opens a new, empty store that is closed when the test ends.
func fresh(t *testing.T, open Opener) kv.Store {
	t.Helper()
	s, _ := freshReopen(t, open)
	return s
}

// freshReopen is fresh that also returns the OpenFunc, for tests that close
// and reopen the store.
func freshReopen(t *testing.T, open Opener) (kv.Store, OpenFunc) {
	t.Helper()
	of := open(t)
	s := mustOpen(t, of)
	return s, of
}

// mustOpen opens a store with of and closes it when the test ends. A second
// Close of a store the test closed itself is allowed to fail.
func mustOpen(t *testing.T, of OpenFunc) kv.Store {
	t.Helper()
	s, err := of()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// k turns a string into a key or value; tests read better with strings.
func k(s string) []byte { return []byte(s) }

// set commits key=value through Update.
func set(t *testing.T, s kv.Store, key, value string) {
	t.Helper()
	err := s.Update(t.Context(), func(tx kv.Tx) error { return tx.Set(k(key), k(value)) })
	if err != nil {
		t.Fatalf("Update Set %q: %v", key, err)
	}
}

// put commits writes through Batch.
func put(t *testing.T, s kv.Store, ws ...kv.Write) {
	t.Helper()
	if err := s.Batch(t.Context(), ws); err != nil {
		t.Fatalf("Batch: %v", err)
	}
}

// pairs turns alternating keys and values into writes.
func pairs(kvs ...string) []kv.Write {
	ws := make([]kv.Write, 0, len(kvs)/2)
	for i := 0; i+1 < len(kvs); i += 2 {
		ws = append(ws, kv.Write{Key: k(kvs[i]), Value: k(kvs[i+1])})
	}
	return ws
}

// wantGet checks that r holds key=want.
func wantGet(t *testing.T, r kv.Reader, key, want string) {
	t.Helper()
	got, err := r.Get(t.Context(), k(key))
	if err != nil {
		t.Fatalf("Get %q: %v, want %q", key, err, want)
	}
	if string(got) != want {
		t.Fatalf("Get %q = %q, want %q", key, got, want)
	}
}

// wantMissing checks that r has no value for key.
func wantMissing(t *testing.T, r kv.Reader, key string) {
	t.Helper()
	got, err := r.Get(t.Context(), k(key))
	if !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get %q = %q, %v; want ErrNotFound", key, got, err)
	}
}

// pair is one key-value pair seen by a scan.
type pair struct{ key, value string }

func (p pair) String() string { return fmt.Sprintf("%q=%q", p.key, p.value) }

// scan collects what a Scan of r over rg visits, copying the callback's
// slices as the interface requires.
func scan(t *testing.T, r kv.Reader, rg kv.Range) []pair {
	t.Helper()
	ps, err := scanErr(t.Context(), r, rg)
	if err != nil {
		t.Fatalf("Scan %s: %v", fmtRange(rg), err)
	}
	return ps
}

func scanErr(ctx context.Context, r kv.Reader, rg kv.Range) ([]pair, error) {
	var ps []pair
	err := r.Scan(ctx, rg, func(key, value []byte) error {
		ps = append(ps, pair{string(key), string(value)})
		return nil
	})
	return ps, err
}

// wantScan checks that a Scan of r over rg visits exactly want, in order.
func wantScan(t *testing.T, r kv.Reader, rg kv.Range, want []pair) {
	t.Helper()
	got := scan(t, r, rg)
	if !slices.Equal(got, want) {
		t.Fatalf("Scan %s:\n got  %v\n want %v", fmtRange(rg), got, want)
	}
}

func fmtRange(r kv.Range) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%q, ", r.Start)
	if r.End == nil {
		b.WriteString("nil)")
	} else {
		fmt.Fprintf(&b, "%q)", r.End)
	}
	if r.Reverse {
		b.WriteString(" reverse")
	}
	if r.Limit != 0 {
		fmt.Fprintf(&b, " limit %d", r.Limit)
	}
	return b.String()
}

// within runs f and crashes the test binary, with every goroutine's stack,
// if f has not returned after d. A store left locked would otherwise hang
// the binary until go test's much later timeout, with less to go on.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	name := t.Name()
	timer := time.AfterFunc(d, func() {
		debug.SetTraceback("all") // the stuck goroutine is another one
		panic(fmt.Sprintf("kvtest: %s: %s did not return within %v", name, what, d))
	})
	defer timer.Stop()
	f()
}

// catch runs f and returns the value it panicked with, or nil.
func catch(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// update runs fn in Update and retries while the engine reports ErrConflict,
// as callers of kv.Store are expected to do.
func update(ctx context.Context, s kv.Store, fn func(kv.Tx) error) error {
	for {
		err := s.Update(ctx, fn)
		if !errors.Is(err, kv.ErrConflict) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// sorted returns the pairs of ws sorted by key, the order a forward Scan
// must visit them in.
func sorted(ws []kv.Write) []pair {
	ps := make([]pair, 0, len(ws))
	for _, w := range ws {
		ps = append(ps, pair{string(w.Key), string(w.Value)})
	}
	slices.SortFunc(ps, func(a, b pair) int { return bytes.Compare([]byte(a.key), []byte(b.key)) })
	return ps
}
