package kvtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/twinvault/twinvault/kv"
)

// scanData is what every view in testScan shows: keys k0..k9, a group under
// "p/" and one key after it.
var scanData = func() []kv.Write {
	var ws []kv.Write
	for i := range 10 {
		ws = append(ws, kv.Write{Key: k(fmt.Sprint("k", i)), Value: k(fmt.Sprint("v", i))})
	}
	return append(ws, pairs("p/0", "p0", "p/1", "p1", "p/2", "p2", "q", "vq")...)
}()

// A view presents scanData to a test through some Reader. Scans must see the
// same pairs whether they read committed state or a transaction that merges
// its pending writes and deletes over different committed state.
type view struct {
	name string
	run  func(t *testing.T, s kv.Store, fn func(r kv.Reader))
}

var views = []view{
	{"Store", func(t *testing.T, s kv.Store, fn func(r kv.Reader)) {
		put(t, s, scanData...)
		fn(s)
	}},
	{"Tx", func(t *testing.T, s kv.Store, fn func(r kv.Reader)) {
		put(t, s, scanData...)
		err := s.Update(t.Context(), func(tx kv.Tx) error {
			fn(tx)
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}},
	{"TxPending", func(t *testing.T, s kv.Store, fn func(r kv.Reader)) {
		// Committed: k3 stale, k5 and p/1 missing, extra keys between and
		// around the real ones.
		var committed []kv.Write
		for _, w := range scanData {
			switch string(w.Key) {
			case "k3":
				committed = append(committed, kv.Write{Key: w.Key, Value: k("stale")})
			case "k5", "p/1":
			default:
				committed = append(committed, w)
			}
		}
		committed = append(committed, pairs("\x00", "x", "k35", "x", "p/", "x", "p/1/x", "x", "zz", "x")...)
		put(t, s, committed...)
		err := s.Update(t.Context(), func(tx kv.Tx) error {
			ops := []struct {
				del        bool
				key, value string
			}{
				{false, "k3", "v3"}, {false, "k5", "v5"}, {false, "p/1", "p1"},
				{true, "\x00", ""}, {true, "k35", ""}, {true, "p/", ""}, {true, "p/1/x", ""}, {true, "zz", ""},
				{true, "k0", ""}, {false, "k0", "v0"}, // deleted, then written again
				{false, "k7x", "x"}, {true, "k7x", ""}, // written, then deleted
				{false, "q", "x"}, {false, "q", "vq"}, // written twice
			}
			for _, op := range ops {
				var err error
				if op.del {
					err = tx.Delete(k(op.key))
				} else {
					err = tx.Set(k(op.key), k(op.value))
				}
				if err != nil {
					return err
				}
			}
			fn(tx)
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}},
}

func testScan(t *testing.T, open Opener) {
	all := sorted(scanData)
	keys := func(ks ...string) []pair {
		var ps []pair
		for _, key := range ks {
			i := slices.IndexFunc(all, func(p pair) bool { return p.key == key })
			ps = append(ps, all[i])
		}
		return ps
	}
	cases := []struct {
		name string
		r    kv.Range
		want []pair
	}{
		{"All", kv.Range{}, all},
		{"AllReverse", kv.Range{Reverse: true}, reversed(all)},
		{"Bounded", kv.Range{Start: k("k3"), End: k("k7")}, keys("k3", "k4", "k5", "k6")},
		{"BoundedReverse", kv.Range{Start: k("k3"), End: k("k7"), Reverse: true}, keys("k6", "k5", "k4", "k3")},
		{"BoundsBetweenKeys", kv.Range{Start: k("k35"), End: k("k55")}, keys("k4", "k5")},
		{"BoundsBetweenKeysReverse", kv.Range{Start: k("k35"), End: k("k55"), Reverse: true}, keys("k5", "k4")},
		{"NilEnd", kv.Range{Start: k("k8")}, keys("k8", "k9", "p/0", "p/1", "p/2", "q")},
		{"NilEndReverse", kv.Range{Start: k("p/1"), Reverse: true}, keys("q", "p/2", "p/1")},
		{"NilStart", kv.Range{End: k("k2")}, keys("k0", "k1")},
		{"NilStartReverse", kv.Range{End: k("k2"), Reverse: true}, keys("k1", "k0")},
		{"Limit", kv.Range{Limit: 3}, keys("k0", "k1", "k2")},
		{"LimitReverse", kv.Range{Limit: 3, Reverse: true}, keys("q", "p/2", "p/1")},
		{"LimitBounded", kv.Range{Start: k("k3"), End: k("k7"), Limit: 2}, keys("k3", "k4")},
		{"LimitBoundedReverse", kv.Range{Start: k("k3"), End: k("k7"), Limit: 2, Reverse: true}, keys("k6", "k5")},
		{"LimitOne", kv.Range{Start: k("k5"), Limit: 1}, keys("k5")},
		{"LimitAboveCount", kv.Range{Limit: 100}, all},
		{"LimitNegative", kv.Range{Limit: -1}, all},
		{"EmptyRange", kv.Range{Start: k("k5"), End: k("k5")}, nil},
		{"EmptyRangeReverse", kv.Range{Start: k("k5"), End: k("k5"), Reverse: true}, nil},
		{"StartAfterEnd", kv.Range{Start: k("k7"), End: k("k3")}, nil},
		{"StartAfterEndReverse", kv.Range{Start: k("k7"), End: k("k3"), Reverse: true}, nil},
		{"PastLastKey", kv.Range{Start: k("r")}, nil},
		{"Prefix", kv.Prefix(k("p/")), keys("p/0", "p/1", "p/2")},
		{"PrefixReverseLimit", kv.Range{Start: k("p/"), End: kv.PrefixEnd(k("p/")), Reverse: true, Limit: 2}, keys("p/2", "p/1")},
		{"PrefixOfMany", kv.Prefix(k("k")), all[:10]},
		{"PrefixNone", kv.Prefix(k("z")), nil},
		{"PrefixEqualsKey", kv.Prefix(k("k1")), keys("k1")},
		{"PrefixNil", kv.Prefix(nil), all},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			s := fresh(t, open)
			v.run(t, s, func(r kv.Reader) {
				for _, c := range cases {
					t.Run(c.name, func(t *testing.T) { wantScan(t, r, c.r, c.want) })
				}
			})
		})
	}
}

// testScanOrder checks bytewise order over random binary keys, the bytes
// that break signed or text comparisons weighted heavily.
func testScanOrder(t *testing.T, open Opener) {
	s := fresh(t, open)
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0x00, 0x01, 0x2f, 0x30, 0x7f, 0x80, 0x81, 0xfe, 0xff}
	seen := map[string]bool{}
	var ws []kv.Write
	for len(ws) < 400 {
		key := make([]byte, 1+rnd.IntN(6))
		for i := range key {
			key[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		ws = append(ws, kv.Write{Key: key, Value: k(fmt.Sprint(len(ws)))})
	}
	put(t, s, ws...)
	want := sorted(ws)
	wantScan(t, s, kv.Range{}, want)
	wantScan(t, s, kv.Range{Reverse: true}, reversed(want))
	for _, p := range []string{"\x00", "\x00\x00", "\x7f", "\x80", "\xff", "\xff\xff", "\x2f\xff"} {
		var sub []pair
		for _, q := range want {
			if strings.HasPrefix(q.key, p) {
				sub = append(sub, q)
			}
		}
		wantScan(t, s, kv.Prefix(k(p)), sub)
		wantScan(t, s, kv.Range{Start: k(p), End: kv.PrefixEnd(k(p)), Reverse: true}, reversed(sub))
	}
	// The same order inside a transaction, with half the keys pending.
	s2 := fresh(t, open)
	put(t, s2, ws[:len(ws)/2]...)
	err := s2.Update(t.Context(), func(tx kv.Tx) error {
		for _, w := range ws[len(ws)/2:] {
			if err := tx.Set(w.Key, w.Value); err != nil {
				return err
			}
		}
		wantScan(t, tx, kv.Range{}, want)
		wantScan(t, tx, kv.Range{Reverse: true}, reversed(want))
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// onReaders runs fn against the store and against a transaction on it.
func onReaders(t *testing.T, s kv.Store, fn func(t *testing.T, r kv.Reader)) {
	t.Run("Store", func(t *testing.T) { fn(t, s) })
	t.Run("Tx", func(t *testing.T) {
		err := s.Update(t.Context(), func(tx kv.Tx) error {
			fn(t, tx)
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	})
}

func testScanStop(t *testing.T, open Opener) {
	s := fresh(t, open)
	put(t, s, scanData...)
	onReaders(t, s, func(t *testing.T, r kv.Reader) {
		for _, reverse := range []bool{false, true} {
			n := 0
			err := r.Scan(t.Context(), kv.Range{Reverse: reverse}, func(key, value []byte) error {
				n++
				if n == 3 {
					return kv.Stop
				}
				return nil
			})
			if err != nil || n != 3 {
				t.Fatalf("Scan reverse=%v stopped at 3: visited %d, err %v; want 3, nil", reverse, n, err)
			}
		}
	})
}

func testScanCallbackError(t *testing.T, open Opener) {
	s := fresh(t, open)
	put(t, s, scanData...)
	onReaders(t, s, func(t *testing.T, r kv.Reader) {
		n := 0
		err := r.Scan(t.Context(), kv.Range{}, func(key, value []byte) error {
			n++
			if n == 2 {
				return fmt.Errorf("wrapped: %w", errTest)
			}
			return nil
		})
		if !errors.Is(err, errTest) || n != 2 {
			t.Fatalf("Scan: visited %d, err %v; want 2 and the callback's error", n, err)
		}
	})
}

// testScanCallbackPanic checks that a panicking callback leaves nothing
// behind that breaks the store, such as an open iterator or a held lock.
func testScanCallbackPanic(t *testing.T, open Opener) {
	s, of := freshReopen(t, open)
	put(t, s, scanData...)
	boom := "kvtest: boom"
	v := catch(func() {
		s.Scan(t.Context(), kv.Range{}, func(key, value []byte) error { panic(boom) })
	})
	if v != boom {
		t.Fatalf("recovered %v; want the callback's panic value", v)
	}
	v = catch(func() {
		s.Update(t.Context(), func(tx kv.Tx) error {
			tx.Set(k("k0"), k("lost"))
			return tx.Scan(t.Context(), kv.Range{}, func(key, value []byte) error { panic(boom) })
		})
	})
	if v != boom {
		t.Fatalf("recovered %v; want the callback's panic value", v)
	}
	within(t, defaultWait, "store use after a panic", func() {
		wantGet(t, s, "k0", "v0")
		set(t, s, "after", "panic")
		if err := s.Close(); err != nil {
			t.Errorf("Close after panicking scans: %v", err)
		}
	})
	s = mustOpen(t, of)
	wantGet(t, s, "after", "panic")
}

func testScanCancel(t *testing.T, open Opener) {
	s := fresh(t, open)
	var ws []kv.Write
	for i := range 1000 {
		ws = append(ws, kv.Write{Key: k(fmt.Sprintf("c%04d", i)), Value: k("x")})
	}
	put(t, s, ws...)
	onReaders(t, s, func(t *testing.T, r kv.Reader) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		n := 0
		err := r.Scan(ctx, kv.Range{}, func(key, value []byte) error {
			n++
			if n == 1 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || n == len(ws) {
			t.Fatalf("Scan cancelled at the first key: visited %d of %d, err %v; want it to stop with context.Canceled", n, len(ws), err)
		}
	})
}
