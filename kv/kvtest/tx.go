package kvtest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/twinvault/twinvault/kv"
)

func testTxReadsOwnWrites(t *testing.T, open Opener) {
	s := fresh(t, open)
	ctx := t.Context()
	put(t, s, pairs("a", "1", "b", "2", "c", "3")...)
	err := s.Update(ctx, func(tx kv.Tx) error {
		steps := []struct {
			name  string
			op    func() error
			check map[string]string // "" value: missing
			scan  []pair            // the whole store as the tx sees it
		}{
			{"Committed", func() error { return nil },
				map[string]string{"a": "1", "b": "2", "d": ""},
				[]pair{{"a", "1"}, {"b", "2"}, {"c", "3"}}},
			{"Overwrite", func() error { return tx.Set(k("a"), k("10")) },
				map[string]string{"a": "10"},
				[]pair{{"a", "10"}, {"b", "2"}, {"c", "3"}}},
			{"Insert", func() error { return tx.Set(k("d"), k("4")) },
				map[string]string{"d": "4"},
				[]pair{{"a", "10"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}},
			{"DeleteCommitted", func() error { return tx.Delete(k("b")) },
				map[string]string{"b": ""},
				[]pair{{"a", "10"}, {"c", "3"}, {"d", "4"}}},
			{"DeletePending", func() error { return tx.Delete(k("d")) },
				map[string]string{"d": ""},
				[]pair{{"a", "10"}, {"c", "3"}}},
			{"SetDeleted", func() error { return tx.Set(k("b"), k("20")) },
				map[string]string{"b": "20"},
				[]pair{{"a", "10"}, {"b", "20"}, {"c", "3"}}},
			{"DeleteMissing", func() error { return tx.Delete(k("zz")) },
				map[string]string{"zz": ""},
				[]pair{{"a", "10"}, {"b", "20"}, {"c", "3"}}},
		}
		for _, st := range steps {
			if err := st.op(); err != nil {
				return fmt.Errorf("%s: %w", st.name, err)
			}
			for key, v := range st.check {
				if v == "" {
					wantMissing(t, tx, key)
				} else {
					wantGet(t, tx, key, v)
				}
			}
			wantScan(t, tx, kv.Range{}, st.scan)
			wantScan(t, tx, kv.Range{Reverse: true}, reversed(st.scan))
			// A deleted key must not use up the limit.
			wantScan(t, tx, kv.Range{Limit: 2}, st.scan[:2])
			wantScan(t, tx, kv.Range{Limit: 2, Reverse: true}, reversed(st.scan)[:2])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantScan(t, s, kv.Range{}, []pair{{"a", "10"}, {"b", "20"}, {"c", "3"}})
}

func testTxWritesInvisibleOutside(t *testing.T, open Opener) {
	s := fresh(t, open)
	ctx := t.Context()
	put(t, s, pairs("a", "1", "b", "2")...)
	// Plain reads must not wait for the writer, or this would never end.
	within(t, defaultWait, "reads of the store inside Update", func() {
		err := s.Update(ctx, func(tx kv.Tx) error {
			if err := tx.Set(k("a"), k("10")); err != nil {
				return err
			}
			if err := tx.Set(k("c"), k("3")); err != nil {
				return err
			}
			if err := tx.Delete(k("b")); err != nil {
				return err
			}
			// Plain reads of the store see committed state only.
			wantGet(t, s, "a", "1")
			wantGet(t, s, "b", "2")
			wantMissing(t, s, "c")
			wantScan(t, s, kv.Range{}, []pair{{"a", "1"}, {"b", "2"}})
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	})
	wantScan(t, s, kv.Range{}, []pair{{"a", "10"}, {"c", "3"}})
}

// testTxWriteDuringScan writes from inside a transaction's Scan callback,
// the natural way to rewrite or delete a range. What the running scan sees
// of those writes is up to the engine; the result must be complete.
func testTxWriteDuringScan(t *testing.T, open Opener) {
	s := fresh(t, open)
	put(t, s, scanData...)
	err := s.Update(t.Context(), func(tx kv.Tx) error {
		n := 0
		err := tx.Scan(t.Context(), kv.Prefix(k("k")), func(key, value []byte) error {
			n++
			if err := tx.Delete(key); err != nil {
				return err
			}
			return tx.Set(append(k("moved/"), key...), value)
		})
		if err != nil {
			return err
		}
		if n != 10 {
			t.Errorf("scan with writes in its callback visited %d keys, want 10", n)
		}
		wantScan(t, tx, kv.Prefix(k("k")), nil)
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantScan(t, s, kv.Prefix(k("k")), nil)
	var want []pair
	for _, p := range sorted(scanData)[:10] {
		want = append(want, pair{"moved/" + p.key, p.value})
	}
	wantScan(t, s, kv.Prefix(k("moved/")), want)
}

func testTxError(t *testing.T, open Opener) {
	s := fresh(t, open)
	put(t, s, pairs("a", "1", "b", "2")...)
	err := s.Update(t.Context(), func(tx kv.Tx) error {
		tx.Set(k("a"), k("10"))
		tx.Set(k("c"), k("3"))
		tx.Delete(k("b"))
		return fmt.Errorf("wrapped: %w", errTest)
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update = %v; want fn's error", err)
	}
	wantScan(t, s, kv.Range{}, []pair{{"a", "1"}, {"b", "2"}})
	// The store is free for the next writer.
	set(t, s, "d", "4")
	put(t, s, pairs("e", "5")...)
	wantScan(t, s, kv.Range{}, []pair{{"a", "1"}, {"b", "2"}, {"d", "4"}, {"e", "5"}})
}

func testTxPanic(t *testing.T, open Opener) {
	s := fresh(t, open)
	put(t, s, pairs("a", "1")...)
	boom := errors.New("kvtest: boom")
	v := catch(func() {
		s.Update(t.Context(), func(tx kv.Tx) error {
			tx.Set(k("a"), k("10"))
			tx.Set(k("b"), k("2"))
			panic(boom)
		})
	})
	if v != boom {
		t.Fatalf("recovered %v; want fn's panic value passed on", v)
	}
	within(t, defaultWait, "store use after a panic in Update", func() {
		wantScan(t, s, kv.Range{}, []pair{{"a", "1"}})
		set(t, s, "c", "3")
		put(t, s, pairs("d", "4")...)
	})
	wantScan(t, s, kv.Range{}, []pair{{"a", "1"}, {"c", "3"}, {"d", "4"}})
}

// testTxCancelledBeforeCommit checks that Update does not commit once its
// context is done, even when fn returns nil: the caller has given up and
// will report a failure, so the writes must not land.
func testTxCancelledBeforeCommit(t *testing.T, open Opener) {
	s := fresh(t, open)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := s.Update(ctx, func(tx kv.Tx) error {
		if err := tx.Set(k("a"), k("1")); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update = %v; want context.Canceled", err)
	}
	wantMissing(t, s, "a")
}

// testTxUseAfterReturn checks that a Tx kept past its Update fails cleanly
// instead of writing into the store or crashing.
func testTxUseAfterReturn(t *testing.T, open Opener) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("fnFailed=%v", fail), func(t *testing.T) {
			s := fresh(t, open)
			put(t, s, pairs("a", "1")...)
			var kept kv.Tx
			err := s.Update(t.Context(), func(tx kv.Tx) error {
				kept = tx
				if fail {
					return errTest
				}
				return nil
			})
			if fail != (err != nil) {
				t.Fatalf("Update = %v", err)
			}
			ops := []struct {
				name string
				op   func() error
			}{
				{"Get", func() error { _, err := kept.Get(t.Context(), k("a")); return err }},
				{"Scan", func() error {
					return kept.Scan(t.Context(), kv.Range{}, func(key, value []byte) error { return nil })
				}},
				{"Set", func() error { return kept.Set(k("b"), k("2")) }},
				{"Delete", func() error { return kept.Delete(k("a")) }},
			}
			for _, o := range ops {
				if err := o.op(); err == nil {
					t.Errorf("%s on a finished Tx succeeded; want an error", o.name)
				}
			}
			wantScan(t, s, kv.Range{}, []pair{{"a", "1"}})
		})
	}
}
