package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/twinvault/twinvault/kv"
)

// A writer is one way of committing single writes; tests that hold for both
// Update and Batch run once per writer.
type writer struct {
	name string
	set  func(ctx context.Context, s kv.Store, key, value []byte) error
	del  func(ctx context.Context, s kv.Store, key []byte) error
}

var writers = []writer{
	{
		name: "Update",
		set: func(ctx context.Context, s kv.Store, key, value []byte) error {
			return s.Update(ctx, func(tx kv.Tx) error { return tx.Set(key, value) })
		},
		del: func(ctx context.Context, s kv.Store, key []byte) error {
			return s.Update(ctx, func(tx kv.Tx) error { return tx.Delete(key) })
		},
	},
	{
		name: "Batch",
		set: func(ctx context.Context, s kv.Store, key, value []byte) error {
			if value == nil {
				value = []byte{} // nil would mean delete
			}
			return s.Batch(ctx, []kv.Write{{Key: key, Value: value}})
		},
		del: func(ctx context.Context, s kv.Store, key []byte) error {
			return s.Batch(ctx, []kv.Write{{Key: key}})
		},
	},
}

func testGetMissing(t *testing.T, open Opener) {
	s := fresh(t, open)
	wantMissing(t, s, "nothing")
	set(t, s, "a", "1")
	for _, key := range []string{"\x00", "0", "a\x00", "b"} {
		wantMissing(t, s, key)
	}
	err := s.Update(t.Context(), func(tx kv.Tx) error {
		wantMissing(t, tx, "nothing")
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func testSetGetDelete(t *testing.T, open Opener) {
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			s := fresh(t, open)
			ctx := t.Context()
			steps := []struct {
				op, key, value string
				want           map[string]string // "" value: missing
			}{
				{"set", "a", "1", map[string]string{"a": "1", "b": ""}},
				{"set", "b", "2", map[string]string{"a": "1", "b": "2"}},
				{"set", "a", "3", map[string]string{"a": "3", "b": "2"}},
				{"del", "a", "", map[string]string{"a": "", "b": "2"}},
				{"del", "a", "", map[string]string{"a": "", "b": "2"}}, // deleting a missing key is not an error
				{"set", "a", "4", map[string]string{"a": "4", "b": "2"}},
				{"del", "b", "", map[string]string{"a": "4", "b": ""}},
			}
			for i, st := range steps {
				var err error
				if st.op == "set" {
					err = w.set(ctx, s, k(st.key), k(st.value))
				} else {
					err = w.del(ctx, s, k(st.key))
				}
				if err != nil {
					t.Fatalf("step %d: %s %q: %v", i, st.op, st.key, err)
				}
				for key, v := range st.want {
					if v == "" {
						wantMissing(t, s, key)
					} else {
						wantGet(t, s, key, v)
					}
				}
			}
		})
	}
}

func testEmptyValue(t *testing.T, open Opener) {
	cases := []struct {
		name  string
		write func(ctx context.Context, s kv.Store, key []byte) error
	}{
		{"UpdateEmpty", func(ctx context.Context, s kv.Store, key []byte) error {
			return s.Update(ctx, func(tx kv.Tx) error { return tx.Set(key, []byte{}) })
		}},
		// Tx.Set has no delete meaning: a nil value is an empty value.
		{"UpdateNil", func(ctx context.Context, s kv.Store, key []byte) error {
			return s.Update(ctx, func(tx kv.Tx) error { return tx.Set(key, nil) })
		}},
		{"BatchEmpty", func(ctx context.Context, s kv.Store, key []byte) error {
			return s.Batch(ctx, []kv.Write{{Key: key, Value: []byte{}}})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := fresh(t, open)
			if err := c.write(t.Context(), s, k("e")); err != nil {
				t.Fatalf("write: %v", err)
			}
			v, err := s.Get(t.Context(), k("e"))
			if err != nil || len(v) != 0 {
				t.Fatalf("Get = %q, %v; want empty value, nil error", v, err)
			}
			wantMissing(t, s, "f")
			wantScan(t, s, kv.Range{}, []pair{{"e", ""}})
			err = s.Update(t.Context(), func(tx kv.Tx) error {
				v, err := tx.Get(t.Context(), k("e"))
				if err != nil || len(v) != 0 {
					t.Errorf("tx.Get = %q, %v; want empty value, nil error", v, err)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
		})
	}
}

func testBinaryKeys(t *testing.T, open Opener) {
	s := fresh(t, open)
	keys := []string{
		"\x00", "\x00\x00", "\x00\xff", "\x01", "\x7f", "\x80",
		"a", "a\x00", "a\x00b", "a\xff", "a\xff\xff", "b",
		"\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff",
	}
	var ws []kv.Write
	for i, key := range keys {
		// Values are binary too: the barrier stores ciphertext.
		ws = append(ws, kv.Write{Key: k(key), Value: []byte{0xff, byte(i), 0x00}})
	}
	put(t, s, ws...)
	for _, w := range ws {
		wantGet(t, s, string(w.Key), string(w.Value))
	}
	want := sorted(ws)
	all := func(f func(string) bool) []pair {
		var ps []pair
		for _, p := range want {
			if f(p.key) {
				ps = append(ps, p)
			}
		}
		return ps
	}
	hasPrefix := func(p string) func(string) bool {
		return func(key string) bool { return bytes.HasPrefix(k(key), k(p)) }
	}
	cases := []struct {
		name string
		r    kv.Range
		want []pair
	}{
		{"All", kv.Range{}, want},
		{"Prefix00", kv.Prefix(k("\x00")), all(hasPrefix("\x00"))},
		{"PrefixA", kv.Prefix(k("a")), all(hasPrefix("a"))},
		{"PrefixA00", kv.Prefix(k("a\x00")), all(hasPrefix("a\x00"))},
		{"PrefixAff", kv.Prefix(k("a\xff")), all(hasPrefix("a\xff"))},
		{"Prefixff", kv.Prefix(k("\xff")), all(hasPrefix("\xff"))},
		{"Prefixffff", kv.Prefix(k("\xff\xff")), all(hasPrefix("\xff\xff"))},
		{"To00ff", kv.Range{End: k("\x00\xff")}, want[:2]},
		{"From00ff", kv.Range{Start: k("\x00\xff"), End: k("\x01")}, want[2:3]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantScan(t, s, c.r, c.want)
			c.r.Reverse = true
			wantScan(t, s, c.r, reversed(c.want))
		})
	}
}

func testLargeValue(t *testing.T, open Opener) {
	s := fresh(t, open)
	big := bytes.Repeat([]byte{0x00, 0xff, 0x5a, 0xa5}, 1<<18) // 1 MiB
	put(t, s, kv.Write{Key: k("big"), Value: big})
	set(t, s, "small", "x")
	got, err := s.Get(t.Context(), k("big"))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get big: %d bytes, %v; want %d bytes back unchanged", len(got), err, len(big))
	}
	wantScan(t, s, kv.Prefix(k("s")), []pair{{"small", "x"}})
}

func testBatch(t *testing.T, open Opener) {
	cases := []struct {
		name   string
		before []kv.Write
		batch  []kv.Write
		want   []pair // the whole store afterwards
	}{
		{"Empty", pairs("a", "1"), nil, []pair{{"a", "1"}}},
		{"Sets", nil, pairs("b", "2", "a", "1", "c", "3"), []pair{{"a", "1"}, {"b", "2"}, {"c", "3"}}},
		{"NilDeletes", pairs("a", "1", "b", "2"), []kv.Write{{Key: k("a")}, {Key: k("c")}}, []pair{{"b", "2"}}},
		{"EmptyIsNotDelete", pairs("a", "1"), []kv.Write{{Key: k("a"), Value: []byte{}}}, []pair{{"a", ""}}},
		{"Mixed", pairs("a", "1", "b", "2"), []kv.Write{{Key: k("a")}, {Key: k("b"), Value: k("3")}, {Key: k("c"), Value: k("4")}},
			[]pair{{"b", "3"}, {"c", "4"}}},
		// Writes of one batch apply in order: the last write to a key wins.
		{"LastWins", nil, pairs("a", "1", "a", "2"), []pair{{"a", "2"}}},
		{"SetThenDelete", nil, []kv.Write{{Key: k("a"), Value: k("1")}, {Key: k("a")}}, nil},
		{"DeleteThenSet", pairs("a", "0"), []kv.Write{{Key: k("a")}, {Key: k("a"), Value: k("1")}}, []pair{{"a", "1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := fresh(t, open)
			if len(c.before) > 0 {
				put(t, s, c.before...)
			}
			put(t, s, c.batch...)
			wantScan(t, s, kv.Range{}, c.want)
		})
	}
}

func testCallerOwnsSlices(t *testing.T, open Opener) {
	ctx := t.Context()
	t.Run("BatchArgs", func(t *testing.T) {
		s := fresh(t, open)
		key, val := k("key1"), k("val1")
		ws := []kv.Write{{Key: key, Value: val}}
		put(t, s, ws...)
		copy(key, "XXXX")
		copy(val, "YYYY")
		ws[0].Key = nil
		wantGet(t, s, "key1", "val1")
		wantMissing(t, s, "XXXX")
	})
	t.Run("TxSetArgs", func(t *testing.T) {
		s := fresh(t, open)
		err := s.Update(ctx, func(tx kv.Tx) error {
			key, val := k("key1"), k("val1")
			if err := tx.Set(key, val); err != nil {
				return err
			}
			copy(key, "XXXX")
			copy(val, "YYYY")
			wantGet(t, tx, "key1", "val1")
			wantMissing(t, tx, "XXXX")
			del := k("key2")
			if err := tx.Delete(del); err != nil {
				return err
			}
			copy(del, "key1") // must not turn into a delete of key1
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		wantGet(t, s, "key1", "val1")
		wantMissing(t, s, "XXXX")
	})
	t.Run("GetResult", func(t *testing.T) {
		s := fresh(t, open)
		set(t, s, "a", "original")
		got, err := s.Get(ctx, k("a"))
		if err != nil {
			t.Fatal(err)
		}
		copy(got, "MUTATED!") // the caller's to change
		wantGet(t, s, "a", "original")
		kept, err := s.Get(ctx, k("a"))
		if err != nil {
			t.Fatal(err)
		}
		// Churn the engine's buffers; kept must not change underneath.
		for i := range 50 {
			set(t, s, "a", "overwrit")
			put(t, s, pairs("b", string(rune('a'+i%26))+"xxxxxxx")...)
			wantGet(t, s, "b", string(rune('a'+i%26))+"xxxxxxx")
		}
		if string(kept) != "original" {
			t.Fatalf("value kept from Get changed to %q", kept)
		}
	})
	t.Run("TxGetResult", func(t *testing.T) {
		s := fresh(t, open)
		set(t, s, "a", "committed")
		var kept, pending []byte
		err := s.Update(ctx, func(tx kv.Tx) error {
			var err error
			if kept, err = tx.Get(ctx, k("a")); err != nil {
				return err
			}
			if err := tx.Set(k("b"), k("pending")); err != nil {
				return err
			}
			if pending, err = tx.Get(ctx, k("b")); err != nil {
				return err
			}
			for _, key := range []string{"a", "b"} {
				if err := tx.Set(k(key), k("rewritten")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if string(kept) != "committed" || string(pending) != "pending" {
			t.Fatalf("values kept from tx.Get changed to %q, %q", kept, pending)
		}
	})
}

func reversed(ps []pair) []pair {
	r := make([]pair, len(ps))
	for i, p := range ps {
		r[len(ps)-1-i] = p
	}
	return r
}

// errTest is returned by callbacks to check that errors come back unchanged.
var errTest = errors.New("kvtest: callback error")

// testBatchApply checks an engine that pipelines batches (kv.Pipeliner):
// batches apply in the order of the calls, are visible once applied, and
// are durable once waited for, across a reopen.
func testBatchApply(t *testing.T, open Opener) {
	s, of := freshReopen(t, open)
	p, ok := s.(kv.Pipeliner)
	if !ok {
		t.Skip("the engine does not pipeline batches")
	}
	ctx := context.Background()
	var waits []func() error
	for i := range 20 {
		w, err := p.BatchApply(ctx, []kv.Write{{Key: k("a"), Value: []byte(fmt.Sprint(i))}, {Key: []byte(fmt.Sprint("b", i)), Value: k("x")}})
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	if v, err := s.Get(ctx, k("a")); err != nil || string(v) != "19" {
		t.Fatalf("after the batches are applied: %q %v", v, err)
	}
	for _, w := range waits {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, of)
	if v, err := s2.Get(ctx, k("a")); err != nil || string(v) != "19" {
		t.Fatalf("after a reopen: %q %v", v, err)
	}
}
