package barrier

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
)

var ctx = context.Background()

var testMaster = bytes.Repeat([]byte{0x42}, keyring.MasterKeySize)

// node opens a keyring and a barrier on s, as one server process would.
func node(t testing.TB, s kv.Store) *Barrier {
	t.Helper()
	kr, err := keyring.Open(ctx, s, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(ctx, s, kr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newTestBarrier(t testing.TB) (*memStore, *Barrier) {
	s := newMemStore()
	return s, node(t, s)
}

func create(t testing.TB, b *Barrier, id string) *View {
	t.Helper()
	var v *View
	err := b.Update(ctx, func(tx *Tx) error {
		var err error
		v, err = tx.CreateView([]byte(id))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func set(t testing.TB, b *Barrier, v *View, key, value string) {
	t.Helper()
	if err := b.Update(ctx, func(tx *Tx) error { return tx.Set(v, []byte(key), []byte(value)) }); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	_, b := newTestBarrier(t)
	ws := create(t, b, "ws-1")
	values := []struct {
		name string
		v    []byte
	}{
		{"empty", []byte{}},
		{"short", []byte("hello")},
		{"binary", []byte{0, 0xff, 0, 0xfe}},
		{"4KiB", bytes.Repeat([]byte("0123456789abcdef"), 256)},
		{"1MiB", bytes.Repeat([]byte{7}, 1<<20)},
	}
	keys := [][]byte{{}, []byte("k"), {0}, {0xff, 0xff}, []byte("entity/e1/component/c1")}
	writers := []struct {
		name  string
		write func(v *View, key, val []byte) error
	}{
		{"tx", func(v *View, key, val []byte) error {
			return b.Update(ctx, func(tx *Tx) error { return tx.Set(v, key, val) })
		}},
		{"batch", func(v *View, key, val []byte) error {
			return v.Batch(ctx, []kv.Write{{Key: key, Value: val}})
		}},
	}
	for _, view := range []*View{b.System(), ws} {
		for _, w := range writers {
			for _, val := range values {
				for _, key := range keys {
					name := fmt.Sprintf("view=%x/%s/%s/key=%x", view.ID(), w.name, val.name, key)
					if err := w.write(view, key, val.v); err != nil {
						t.Fatalf("%s: write: %v", name, err)
					}
					got, err := view.Get(ctx, key)
					if err != nil || !bytes.Equal(got, val.v) || got == nil {
						t.Fatalf("%s: View.Get = %d bytes, %v", name, len(got), err)
					}
					err = b.Update(ctx, func(tx *Tx) error {
						got, err = tx.Get(view, key)
						return err
					})
					if err != nil || !bytes.Equal(got, val.v) {
						t.Fatalf("%s: Tx.Get = %d bytes, %v", name, len(got), err)
					}
				}
			}
		}
	}
	// Delete, through both paths.
	if err := b.Update(ctx, func(tx *Tx) error { return tx.Delete(ws, []byte("k")) }); err != nil {
		t.Fatal(err)
	}
	if err := ws.Batch(ctx, []kv.Write{{Key: []byte{0}}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{[]byte("k"), {0}, []byte("never")} {
		if _, err := ws.Get(ctx, k); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("Get(%q) after delete: %v, want kv.ErrNotFound", k, err)
		}
		err := b.Update(ctx, func(tx *Tx) error { _, err := tx.Get(ws, k); return err })
		if !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("Tx.Get(%q) after delete: %v, want kv.ErrNotFound", k, err)
		}
	}
	// Reads see the transaction's own writes; a failed transaction leaves nothing.
	boom := errors.New("boom")
	err := b.Update(ctx, func(tx *Tx) error {
		if err := tx.Set(ws, []byte("tmp"), []byte("x")); err != nil {
			return err
		}
		if got, err := tx.Get(ws, []byte("tmp")); err != nil || string(got) != "x" {
			t.Errorf("own write not visible: %q, %v", got, err)
		}
		return boom
	})
	if err != boom {
		t.Fatalf("Update returned %v, want the callback's error unchanged", err)
	}
	if _, err := ws.Get(ctx, []byte("tmp")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("write of a failed transaction persisted: %v", err)
	}
}

func TestScan(t *testing.T) {
	_, b := newTestBarrier(t)
	v := create(t, b, "scan")
	other := create(t, b, "scan2") // id extends v's id
	var all []string
	for i := range 10 {
		k := fmt.Sprintf("k%02d", i)
		all = append(all, k)
		set(t, b, v, k, "val-"+k)
		set(t, b, other, k, "other")
	}
	set(t, b, b.System(), "k05", "sys")
	tests := []struct {
		name string
		r    kv.Range
		want []string
	}{
		{"all", kv.Range{}, all},
		{"prefix", kv.Prefix([]byte("k0")), all},
		{"start", kv.Range{Start: []byte("k07")}, all[7:]},
		{"end", kv.Range{End: []byte("k03")}, all[:3]},
		{"window", kv.Range{Start: []byte("k02"), End: []byte("k05")}, all[2:5]},
		{"limit", kv.Range{Limit: 4}, all[:4]},
		{"reverse", kv.Range{Reverse: true}, reversed(all)},
		{"reverse limit", kv.Range{Reverse: true, Limit: 2}, reversed(all)[:2]},
		{"empty", kv.Range{Start: []byte("x")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(name string, scan func(fn func(k, val []byte) error) error) {
				var got []string
				err := scan(func(k, val []byte) error {
					if string(val) != "val-"+string(k) {
						t.Errorf("%s: %q = %q", name, k, val)
					}
					got = append(got, string(k))
					return nil
				})
				if err != nil || !slices.Equal(got, tt.want) {
					t.Errorf("%s: got %q, %v; want %q", name, got, err, tt.want)
				}
			}
			check("View.Scan", func(fn func(k, val []byte) error) error { return v.Scan(ctx, tt.r, fn) })
			check("Tx.Scan", func(fn func(k, val []byte) error) error {
				return b.Update(ctx, func(tx *Tx) error { return tx.Scan(v, tt.r, fn) })
			})
			check("Tx.ScanSealed", func(fn func(k, val []byte) error) error {
				return b.Read(ctx, func(tx *Tx) error {
					return tx.ScanSealed(v, tt.r, func(k []byte, s Sealed) error {
						val, err := s.Open()
						if err != nil {
							return err
						}
						return fn(k, val)
					})
				})
			})
		})
	}
	// kv.Stop ends a scan without error.
	n := 0
	err := v.Scan(ctx, kv.Range{}, func(k, val []byte) error {
		if n++; n == 3 {
			return kv.Stop
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("Stop: n=%d err=%v", n, err)
	}
}

func reversed(s []string) []string {
	s = slices.Clone(s)
	slices.Reverse(s)
	return s
}

// TestAADBinding moves sealed values around the raw store: every value
// must open only at the storage key it was sealed for.
func TestAADBinding(t *testing.T) {
	s, b := newTestBarrier(t)
	a := create(t, b, "view-a")
	c := create(t, b, "view-c")
	set(t, b, a, "k1", "secret-1")
	set(t, b, a, "k2", "secret-2")
	set(t, b, c, "k1", "other-1")
	set(t, b, b.System(), "k1", "sys-1")
	raw := s.Raw()
	val := raw[string(a.key([]byte("k1")))]

	tests := []struct {
		name string
		dst  *View
		key  string
	}{
		{"other key, same view", a, "k2"},
		{"new key, same view", a, "k3"},
		{"same key, other view", c, "k1"},
		{"same key, system view", b.System(), "k1"},
		{"other key, other view", c, "k9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Put(string(tt.dst.key([]byte(tt.key))), val)
			got, err := tt.dst.Get(ctx, []byte(tt.key))
			if !errors.Is(err, ErrIntegrity) || got != nil {
				t.Fatalf("Get = %q, %v; want ErrIntegrity", got, err)
			}
			err = b.Update(ctx, func(tx *Tx) error { _, err := tx.Get(tt.dst, []byte(tt.key)); return err })
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("Tx.Get: %v, want ErrIntegrity", err)
			}
			err = tt.dst.Scan(ctx, kv.Range{}, func(k, v []byte) error { return nil })
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("Scan: %v, want ErrIntegrity", err)
			}
		})
	}

	// A value moved to another incarnation of the same id fails too.
	t.Run("same key, recreated view", func(t *testing.T) {
		if err := b.DropView(ctx, []byte("view-c")); err != nil {
			t.Fatal(err)
		}
		c2 := create(t, b, "view-c")
		s.Put(string(c2.key([]byte("k1"))), raw[string(c.key([]byte("k1")))])
		if _, err := c2.Get(ctx, []byte("k1")); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("Get: %v, want ErrIntegrity", err)
		}
	})
}

// TestValueMutations flips every byte of a stored value, truncates and
// extends it: each variant must fail with ErrIntegrity.
func TestValueMutations(t *testing.T) {
	s, b := newTestBarrier(t)
	v := create(t, b, "mut")
	set(t, b, v, "k", "a value worth protecting")
	sk := string(v.key([]byte("k")))
	orig := s.Raw()[sk]
	try := func(name string, m []byte) {
		t.Helper()
		s.Put(sk, m)
		got, err := v.Get(ctx, []byte("k"))
		if !errors.Is(err, ErrIntegrity) || got != nil {
			t.Fatalf("%s: Get = %q, %v; want ErrIntegrity", name, got, err)
		}
	}
	for i := range orig {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			m := slices.Clone(orig)
			m[i] ^= x
			try(fmt.Sprintf("byte %d ^ %#x", i, x), m)
		}
	}
	for n := range len(orig) {
		try(fmt.Sprintf("truncated to %d", n), orig[:n])
	}
	try("extended", append(slices.Clone(orig), 0))
	s.Put(sk, orig)
	if got, err := v.Get(ctx, []byte("k")); err != nil || string(got) != "a value worth protecting" {
		t.Fatalf("original no longer opens: %v", err)
	}
}

func TestCreateView(t *testing.T) {
	_, b := newTestBarrier(t)
	create(t, b, "taken")
	tests := []struct {
		name string
		id   []byte
		want error
	}{
		{"exists", []byte("taken"), ErrViewExists},
		{"empty", []byte{}, ErrInvalidViewID},
		{"nil", nil, ErrInvalidViewID},
		{"too long", bytes.Repeat([]byte{1}, 256), ErrInvalidViewID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Update(ctx, func(tx *Tx) error { _, err := tx.CreateView(tt.id); return err })
			if !errors.Is(err, tt.want) {
				t.Fatalf("CreateView: %v, want %v", err, tt.want)
			}
		})
	}
	if v := create(t, b, strings.Repeat("x", 255)); v == nil {
		t.Fatal("255-byte id refused")
	}
	for _, id := range [][]byte{nil, {}, bytes.Repeat([]byte{1}, 256)} {
		if _, err := b.View(ctx, id); !errors.Is(err, ErrInvalidViewID) {
			t.Errorf("View(%d bytes): %v, want ErrInvalidViewID", len(id), err)
		}
	}
	if _, err := b.View(ctx, []byte("never")); !errors.Is(err, ErrNoView) {
		t.Errorf("View(never): %v, want ErrNoView", err)
	}
	if err := b.DropView(ctx, nil); !errors.Is(err, ErrInvalidViewID) {
		t.Errorf("DropView(system): %v, want ErrInvalidViewID", err)
	}

	// A view created in a transaction that fails is neither stored nor usable.
	var lost *View
	err := b.Update(ctx, func(tx *Tx) error {
		var err error
		if lost, err = tx.CreateView([]byte("lost")); err != nil {
			return err
		}
		if err := tx.Set(lost, []byte("k"), []byte("v")); err != nil {
			return err
		}
		return errors.New("abort")
	})
	if err == nil {
		t.Fatal("want the abort error")
	}
	if _, err := b.View(ctx, []byte("lost")); !errors.Is(err, ErrNoView) {
		t.Fatalf("View(lost): %v, want ErrNoView", err)
	}
	if _, err := lost.Get(ctx, []byte("k")); !errors.Is(err, ErrNoView) {
		t.Fatalf("handle of an aborted view: %v, want ErrNoView", err)
	}
	if err := lost.Batch(ctx, []kv.Write{{Key: []byte("k"), Value: []byte("v")}}); !errors.Is(err, ErrNoView) {
		t.Fatalf("Batch on an aborted view: %v, want ErrNoView", err)
	}

	// Creating a view and writing the system view commit together.
	err = b.Update(ctx, func(tx *Tx) error {
		v, err := tx.CreateView([]byte("ws-2"))
		if err != nil {
			return err
		}
		if err := tx.Set(v, []byte("meta"), []byte("m")); err != nil {
			return err
		}
		return tx.Set(b.System(), []byte("workspace/ws-2"), []byte("record"))
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := b.View(ctx, []byte("ws-2"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(ctx, []byte("meta")); err != nil || string(got) != "m" {
		t.Fatalf("Get(meta) = %q, %v", got, err)
	}
}

func TestViewCacheAndReopen(t *testing.T) {
	s, b := newTestBarrier(t)
	v := create(t, b, "ws")
	set(t, b, v, "k", "v")
	got, err := b.View(ctx, []byte("ws"))
	if err != nil || got != v {
		t.Fatalf("View returned %p, %v; want the cached handle %p", got, err, v)
	}
	// A restarted process reads everything back.
	b2 := node(t, s)
	v2, err := b2.View(ctx, []byte("ws"))
	if err != nil {
		t.Fatal(err)
	}
	if val, err := v2.Get(ctx, []byte("k")); err != nil || string(val) != "v" {
		t.Fatalf("after reopen: %q, %v", val, err)
	}
	if !bytes.Equal(v2.Index("name"), v.Index("name")) {
		t.Fatal("blind index changed across reopen")
	}
	if val, err := b2.System().Get(ctx, []byte("k")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("system view sees another view's key: %q, %v", val, err)
	}
	// A wrong master key cannot open the data.
	if _, err := keyring.Open(ctx, s, bytes.Repeat([]byte{1}, 32)); !errors.Is(err, keyring.ErrMasterKeyMismatch) {
		t.Fatalf("wrong master key: %v", err)
	}
}

func TestTxView(t *testing.T) {
	s, b := newTestBarrier(t)
	b2 := node(t, s)
	create(t, b2, "ws")
	got := func(bb *Barrier, id string) (*View, error) {
		var v *View
		err := bb.Update(ctx, func(tx *Tx) error {
			var err error
			v, err = tx.View([]byte(id))
			if err != nil {
				return err
			}
			return tx.Set(v, []byte("k"), []byte(id))
		})
		return v, err
	}
	// Not cached yet: read through the transaction, cached on commit.
	v1, err := got(b, "ws")
	if err != nil {
		t.Fatal(err)
	}
	if cached, err := b.View(ctx, []byte("ws")); err != nil || cached != v1 {
		t.Fatalf("View after Tx.View: %p, %v; want %p", cached, err, v1)
	}
	// Cached and current: the same handle.
	if v, err := got(b, "ws"); err != nil || v != v1 {
		t.Fatalf("Tx.View = %p, %v; want the cached %p", v, err, v1)
	}
	// Dropped and created again elsewhere: the new incarnation.
	if err := b2.DropView(ctx, []byte("ws")); err != nil {
		t.Fatal(err)
	}
	if _, err := got(b, "ws"); !errors.Is(err, ErrNoView) {
		t.Fatalf("Tx.View after remote drop: %v, want ErrNoView", err)
	}
	create(t, b2, "ws")
	v2, err := got(b, "ws")
	if err != nil {
		t.Fatal(err)
	}
	if v2 == v1 || v2.gen == v1.gen {
		t.Fatal("Tx.View returned the dropped incarnation")
	}
	for _, id := range [][]byte{nil, bytes.Repeat([]byte{1}, 256)} {
		err := b.Update(ctx, func(tx *Tx) error { _, err := tx.View(id); return err })
		if !errors.Is(err, ErrInvalidViewID) {
			t.Errorf("Tx.View(%d bytes): %v", len(id), err)
		}
	}
}

func TestNewRefusesOrphanedViews(t *testing.T) {
	s, b := newTestBarrier(t)
	set(t, b, create(t, b, "ws"), "k", "v")
	// A restart over a store whose system key record went missing.
	s.Put(string(recordKey(nil)), nil)
	kr, err := keyring.Open(ctx, s, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, s, kr); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("New: %v, want ErrIntegrity", err)
	}
	if _, ok := s.Raw()[string(recordKey(nil))]; ok {
		t.Fatal("New created a new system view over existing data")
	}
}

func TestIndex(t *testing.T) {
	_, b := newTestBarrier(t)
	a := create(t, b, "a")
	c := create(t, b, "c")
	ia := a.Index("pump-1")
	if len(ia) != IndexSize {
		t.Fatalf("index is %d bytes, want %d", len(ia), IndexSize)
	}
	if !bytes.Equal(a.Index("pump-1"), ia) {
		t.Error("index not stable")
	}
	for _, other := range [][]byte{a.Index("pump-2"), a.Index(""), a.Index("Pump-1"), c.Index("pump-1"), b.System().Index("pump-1")} {
		if bytes.Equal(other, ia) {
			t.Error("distinct name or view gave the same index")
		}
	}
	if bytes.Contains(ia, []byte("pump")) {
		t.Error("index contains the name")
	}
	// Remembered indexes are the HMAC's, before and after the memo
	// starts over and past its length bound; a caller's changes to one
	// do not reach the next.
	for i := range 2*indexMemoNames + 10 {
		name := fmt.Sprint("n", i)
		if i%100 == 0 {
			name = strings.Repeat("x", indexMemoLen+i%3-1)
		}
		want := a.hashIndex(name)
		got := a.Index(name)
		got2 := a.Index(name)
		if !bytes.Equal(got, want) || !bytes.Equal(got2, want) {
			t.Fatalf("Index(%q) = %x, %x; the HMAC gives %x", name, got, got2, want)
		}
		got2[0] ^= 1
		if !bytes.Equal(a.Index(name), want) {
			t.Fatalf("changing a returned index changed the next")
		}
	}
}

// heldAEADs returns an AEAD for every key b can reach: each keyring term,
// and each DEK version of the system view and of every view whose key
// record is still in the store.
func heldAEADs(t *testing.T, s *memStore, b *Barrier) []cipher.AEAD {
	t.Helper()
	var out []cipher.AEAD
	for _, ti := range b.kr.Terms() {
		key, err := b.kr.Key(ti.Term)
		if err != nil {
			t.Fatal(err)
		}
		a, err := newAEAD(key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	views := []*View{b.System()}
	b.mu.Lock()
	for _, v := range b.views {
		views = append(views, v)
	}
	b.mu.Unlock()
	for rk := range s.Raw() {
		if rk[0] == 'k' && len(rk) > 2 {
			v, err := b.View(ctx, []byte(rk[2:]))
			if err != nil {
				t.Fatal(err)
			}
			views = append(views, v)
		}
	}
	for _, v := range views {
		if k := v.keys.Load(); k != nil {
			for _, a := range k.aeads {
				out = append(out, a)
			}
		}
	}
	return out
}

func opensWithAny(aeads []cipher.AEAD, sk, val []byte) bool {
	_, body, err := header(val)
	if err != nil {
		return false
	}
	for _, a := range aeads {
		if _, err := a.Open(nil, nil, body, sk); err == nil {
			return true
		}
	}
	return false
}

func TestDropViewCryptoShreds(t *testing.T) {
	s, b := newTestBarrier(t)
	ws := create(t, b, "doomed")
	keep := create(t, b, "kept")
	for i := range 20 {
		set(t, b, ws, fmt.Sprint("k", i), fmt.Sprint("doomed value ", i))
	}
	set(t, b, keep, "k", "kept value")
	set(t, b, b.System(), "workspace/doomed", "record")
	before := s.Raw() // an attacker's copy, or a backup

	// Every captured value opens before the drop, with the keys held.
	var captured [][2][]byte
	for k, v := range before {
		if strings.HasPrefix(k, string(idPrefix([]byte("doomed")))) {
			captured = append(captured, [2][]byte{[]byte(k), v})
		}
	}
	if len(captured) != 20 {
		t.Fatalf("captured %d values, want 20", len(captured))
	}
	aeads := heldAEADs(t, s, b)
	for _, c := range captured {
		if !opensWithAny(aeads, c[0], c[1]) {
			t.Fatal("test setup: a captured value does not open before the drop")
		}
	}

	if err := b.DropView(ctx, []byte("doomed")); err != nil {
		t.Fatal(err)
	}
	after := s.Raw()
	for k := range after {
		if strings.HasPrefix(k, string(idPrefix([]byte("doomed")))) || k == string(recordKey([]byte("doomed"))) {
			t.Fatalf("key %q survived the drop", k)
		}
	}
	// No key this barrier, the keyring or a freshly started node holds
	// opens any captured value.
	for _, holder := range []*Barrier{b, node(t, s)} {
		aeads := heldAEADs(t, s, holder)
		for _, c := range captured {
			if opensWithAny(aeads, c[0], c[1]) {
				t.Fatal("a value of a dropped view still decrypts")
			}
		}
	}
	// Restoring the captured values does not bring them back either.
	for _, c := range captured {
		s.Put(string(c[0]), c[1])
	}
	if _, err := ws.Get(ctx, []byte("k1")); !errors.Is(err, ErrNoView) {
		t.Fatalf("Get on dropped handle: %v, want ErrNoView", err)
	}
	ws2 := create(t, b, "doomed")
	if _, err := ws2.Get(ctx, []byte("k1")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("recreated view sees old data: %v", err)
	}
	// Other views are untouched.
	if got, err := keep.Get(ctx, []byte("k")); err != nil || string(got) != "kept value" {
		t.Fatalf("kept view: %q, %v", got, err)
	}
	if got, err := b.System().Get(ctx, []byte("workspace/doomed")); err != nil || string(got) != "record" {
		t.Fatalf("system view: %q, %v", got, err)
	}
}

func TestDroppedHandle(t *testing.T) {
	_, b := newTestBarrier(t)
	v := create(t, b, "gone")
	set(t, b, v, "k", "v")
	if err := b.DropView(ctx, []byte("gone")); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		op   func() error
	}{
		{"Get", func() error { _, err := v.Get(ctx, []byte("k")); return err }},
		{"Scan", func() error { return v.Scan(ctx, kv.Range{}, func(k, v []byte) error { return nil }) }},
		{"Batch", func() error { return v.Batch(ctx, []kv.Write{{Key: []byte("k"), Value: []byte("v")}}) }},
		{"Tx.Get", func() error {
			return b.Update(ctx, func(tx *Tx) error { _, err := tx.Get(v, []byte("k")); return err })
		}},
		{"Tx.Set", func() error { return b.Update(ctx, func(tx *Tx) error { return tx.Set(v, []byte("k"), []byte("v")) }) }},
		{"Tx.Delete", func() error { return b.Update(ctx, func(tx *Tx) error { return tx.Delete(v, []byte("k")) }) }},
		{"Tx.Scan", func() error {
			return b.Update(ctx, func(tx *Tx) error { return tx.Scan(v, kv.Range{}, func(k, v []byte) error { return nil }) })
		}},
		{"View", func() error { _, err := b.View(ctx, []byte("gone")); return err }},
	}
	for _, o := range ops {
		if err := o.op(); !errors.Is(err, ErrNoView) {
			t.Errorf("%s after drop: %v, want ErrNoView", o.name, err)
		}
	}
	// DropView is idempotent.
	for range 2 {
		if err := b.DropView(ctx, []byte("gone")); err != nil {
			t.Fatalf("second DropView: %v", err)
		}
	}
	if err := b.DropView(ctx, []byte("never-existed")); err != nil {
		t.Fatalf("DropView of an unknown id: %v", err)
	}
}

// TestDropByOtherNode covers a cached handle whose view another process
// sharing the store dropped, and then created again under the same id.
func TestDropByOtherNode(t *testing.T) {
	s, b1 := newTestBarrier(t)
	b2 := node(t, s)
	v1 := create(t, b1, "shared")
	set(t, b1, v1, "k", "v")
	if _, err := b1.View(ctx, []byte("shared")); err != nil {
		t.Fatal(err)
	}
	if err := b2.DropView(ctx, []byte("shared")); err != nil {
		t.Fatal(err)
	}
	err := b1.Update(ctx, func(tx *Tx) error { return tx.Set(v1, []byte("orphan"), []byte("x")) })
	if !errors.Is(err, ErrNoView) {
		t.Fatalf("write through a handle dropped elsewhere: %v, want ErrNoView", err)
	}
	if _, err := b1.View(ctx, []byte("shared")); !errors.Is(err, ErrNoView) {
		t.Fatalf("View after remote drop: %v, want ErrNoView", err)
	}

	// Created again elsewhere: the stale handle still refuses, a fresh
	// one reaches the new view.
	v2 := create(t, b2, "shared")
	set(t, b2, v2, "k", "new")
	err = b1.Update(ctx, func(tx *Tx) error { return tx.Set(v1, []byte("k"), []byte("stale")) })
	if !errors.Is(err, ErrNoView) {
		t.Fatalf("write through a handle of the old incarnation: %v, want ErrNoView", err)
	}
	if _, err := v1.Get(ctx, []byte("k")); err == nil {
		t.Fatal("stale handle read the new incarnation")
	}
	fresh, err := b1.View(ctx, []byte("shared"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fresh.Get(ctx, []byte("k")); err != nil || string(got) != "new" {
		t.Fatalf("fresh handle: %q, %v", got, err)
	}
	// A blind batch through a stale handle in another process can only
	// leave unreadable values outside the live view, which the next
	// DropView of the id removes while sparing the live view.
	stale := newView(b1, []byte("shared"), &record{gen: v1.gen, index: v1.index})
	stale.keys.Store(&keys{active: 1, aeads: map[uint32]cipher.AEAD{1: mustAEAD(t)}})
	if err := stale.Batch(ctx, []kv.Write{{Key: []byte("k"), Value: []byte("orphan")}}); err != nil {
		t.Fatal(err)
	}
	if got, err := fresh.Get(ctx, []byte("k")); err != nil || string(got) != "new" {
		t.Fatalf("orphan batch reached the live view: %q, %v", got, err)
	}
	orphanKey := stale.key([]byte("k"))
	if _, ok := s.Raw()[string(orphanKey)]; !ok {
		t.Fatal("test setup: orphan not written")
	}
	if err := b1.sweep(ctx, []byte("shared")); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Raw()[string(orphanKey)]; ok {
		t.Fatal("sweep left the orphan")
	}
	if got, err := fresh.Get(ctx, []byte("k")); err != nil || string(got) != "new" {
		t.Fatalf("sweep touched the live view: %q, %v", got, err)
	}
}

func mustAEAD(t *testing.T) cipher.AEAD {
	key := make([]byte, 32)
	rand.Read(key)
	a, err := newAEAD(key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestDropViewSweepsInBatches(t *testing.T) {
	s, b := newTestBarrier(t)
	v := create(t, b, "big")
	const n = 3*sweepBatch + 17
	writes := make([]kv.Write, n)
	for i := range writes {
		writes[i] = kv.Write{Key: fmt.Appendf(nil, "k%06d", i), Value: []byte("v")}
	}
	if err := v.Batch(ctx, writes); err != nil {
		t.Fatal(err)
	}
	neighbour := create(t, b, "bigger") // shares a textual prefix
	set(t, b, neighbour, "k", "v")
	if err := b.DropView(ctx, []byte("big")); err != nil {
		t.Fatal(err)
	}
	for k := range s.Raw() {
		if strings.HasPrefix(k, string(idPrefix([]byte("big")))) {
			t.Fatalf("value %q left behind", k)
		}
	}
	if got, err := neighbour.Get(ctx, []byte("k")); err != nil || string(got) != "v" {
		t.Fatalf("neighbour view: %q, %v", got, err)
	}
}

func TestNoPlaintextInStore(t *testing.T) {
	s, b := newTestBarrier(t)
	const marker = "CANARY-7f3a9c"
	ws := create(t, b, string(b.System().Index("workspace:"+marker)))
	set(t, b, b.System(), "workspace/"+string(b.System().Index(marker)), "name="+marker)
	set(t, b, ws, "entity/"+string(ws.Index("name:"+marker)), `{"description":"`+marker+`"}`)
	if err := ws.Batch(ctx, []kv.Write{{Key: ws.Index("tag:" + marker), Value: []byte(strings.Repeat(marker, 100))}}); err != nil {
		t.Fatal(err)
	}
	raw := s.Raw()
	if len(raw) < 5 {
		t.Fatalf("store holds %d pairs, want at least 5", len(raw))
	}
	for k, v := range raw {
		for _, needle := range []string{marker, strings.ToLower(marker), marker[:8]} {
			if strings.Contains(k, needle) || bytes.Contains(v, []byte(needle)) {
				t.Fatalf("plaintext %q found in the store at key %x", needle, k)
			}
		}
	}
}

func TestKeyringRotation(t *testing.T) {
	s, b := newTestBarrier(t)
	old := create(t, b, "before")
	set(t, b, old, "k", "old")
	if term := recordTerm(t, s, "before"); term != 1 {
		t.Fatalf("record wrapped under term %d, want 1", term)
	}
	if _, err := b.kr.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	nv := create(t, b, "after")
	set(t, b, nv, "k", "new")
	if term := recordTerm(t, s, "after"); term != 2 {
		t.Fatalf("new record wrapped under term %d, want 2", term)
	}
	// A process started later unwraps both.
	b2 := node(t, s)
	for id, want := range map[string]string{"before": "old", "after": "new"} {
		v, err := b2.View(ctx, []byte(id))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := v.Get(ctx, []byte("k")); err != nil || string(got) != want {
			t.Fatalf("%s: %q, %v", id, got, err)
		}
	}
	// Processes whose keyring predates a rotation pick up the new term
	// when they meet a record wrapped under it, inside a transaction or
	// outside one.
	inTx, outside := node(t, s), node(t, s)
	if _, err := b.kr.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	latest := create(t, b, "latest")
	set(t, b, latest, "k", "latest")
	if _, err := inTx.kr.Key(3); !errors.Is(err, keyring.ErrUnknownTerm) {
		t.Fatalf("test setup: stale keyring knows term 3: %v", err)
	}
	err := inTx.Update(ctx, func(tx *Tx) error {
		v, err := tx.View([]byte("latest"))
		if err != nil {
			return err
		}
		got, err := tx.Get(v, []byte("k"))
		if err == nil && string(got) != "latest" {
			err = fmt.Errorf("got %q", got)
		}
		return err
	})
	if err != nil {
		t.Fatalf("stale keyring inside a transaction: %v", err)
	}
	v, err := outside.View(ctx, []byte("latest"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(ctx, []byte("k")); err != nil || string(got) != "latest" {
		t.Fatalf("stale keyring: %q, %v", got, err)
	}
}

func recordTerm(t *testing.T, s *memStore, id string) uint32 {
	t.Helper()
	term, _, err := header(s.Raw()[string(recordKey([]byte(id)))])
	if err != nil {
		t.Fatal(err)
	}
	return term
}

// addDEKVersion does what a DEK rotation will do: add a version to the
// view's key record and make it active.
func addDEKVersion(t *testing.T, b *Barrier, v *View) uint32 {
	t.Helper()
	var next uint32
	err := b.Update(ctx, func(tx *Tx) error {
		raw, err := tx.kv.Get(ctx, v.rec)
		if err != nil {
			return err
		}
		rec, err := b.unwrap(ctx, tx.kv, v.rec, raw)
		if err != nil {
			return err
		}
		next = rec.deks[len(rec.deks)-1].version + 1
		key := make([]byte, keySize)
		rand.Read(key)
		rec.deks = append(rec.deks, dek{version: next, key: key})
		rec.active = next
		raw, err = b.wrap(v.rec, rec)
		if err != nil {
			return err
		}
		return tx.kv.Set(v.rec, raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func TestDEKVersions(t *testing.T) {
	s, b := newTestBarrier(t)
	b2 := node(t, s)
	v := create(t, b, "rot")
	set(t, b, v, "old", "one")
	v2, err := b2.View(ctx, []byte("rot")) // caches version 1 only
	if err != nil {
		t.Fatal(err)
	}
	if ver := addDEKVersion(t, b, v); ver != 2 {
		t.Fatalf("new version %d, want 2", ver)
	}
	// The next transaction notices the changed record and seals with
	// version 2; the cache is updated after commit.
	set(t, b, v, "new", "two")
	term, _, _ := header(s.Raw()[string(v.key([]byte("new")))])
	if term != 2 {
		t.Fatalf("new value sealed with version %d, want 2", term)
	}
	if k := v.keys.Load(); k.active != 2 {
		t.Fatalf("cached active version %d after commit, want 2", k.active)
	}
	// Old values still open; another node with stale keys reloads once.
	for key, want := range map[string]string{"old": "one", "new": "two"} {
		for _, h := range []*View{v, v2} {
			if got, err := h.Get(ctx, []byte(key)); err != nil || string(got) != want {
				t.Fatalf("%s: %q, %v", key, got, err)
			}
		}
	}
	// A handle whose view is gone finds out when it reloads for an
	// unknown version, and stays dead.
	captured := s.Raw()[string(v.key([]byte("new")))]
	v3, err := node(t, s).View(ctx, []byte("rot"))
	if err != nil {
		t.Fatal(err)
	}
	addDEKVersion(t, b, v)
	set(t, b, v, "newer", "three")
	newer := s.Raw()[string(v.key([]byte("newer")))]
	if err := b.DropView(ctx, []byte("rot")); err != nil {
		t.Fatal(err)
	}
	s.Put(string(v.key([]byte("newer"))), newer)
	if _, err := v3.Get(ctx, []byte("newer")); !errors.Is(err, ErrNoView) {
		t.Fatalf("reload after drop: %v, want ErrNoView", err)
	}
	if err := v3.Batch(ctx, []kv.Write{{Key: []byte("k"), Value: []byte("v")}}); !errors.Is(err, ErrNoView) {
		t.Fatalf("Batch after a failed reload: %v, want ErrNoView", err)
	}
	v = create(t, b, "rot")
	set(t, b, v, "new", "x")
	s.Put(string(v.key([]byte("new"))), captured)

	// A header naming a version the record does not have fails cleanly.
	raw := slices.Clone(s.Raw()[string(v.key([]byte("new")))])
	raw[3] = 9
	s.Put(string(v.key([]byte("new"))), raw)
	if _, err := v.Get(ctx, []byte("new")); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("unknown version: %v, want ErrIntegrity", err)
	}
}

// lyingStore answers scans with pairs it was not asked for.
type lyingStore struct {
	*memStore
	extra [2][]byte
}

func (s *lyingStore) Scan(ctx context.Context, r kv.Range, fn func(k, v []byte) error) error {
	return fn(s.extra[0], s.extra[1])
}

func TestUntrustedStore(t *testing.T) {
	s, b := newTestBarrier(t)
	a := create(t, b, "a")
	c := create(t, b, "c")
	set(t, b, a, "k", "secret")
	set(t, b, c, "k", "other")
	raw := s.Raw()
	// Scanning c, the store slips in a's (authentic) pair.
	ls := &lyingStore{memStore: s, extra: [2][]byte{a.key([]byte("k")), raw[string(a.key([]byte("k")))]}}
	b.store = ls
	err := c.Scan(ctx, kv.Range{}, func(k, v []byte) error {
		t.Errorf("foreign pair returned: %q", v)
		return nil
	})
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("Scan: %v, want ErrIntegrity", err)
	}
	// Keys shorter than any prefix must not panic.
	for _, k := range [][]byte{nil, {}, {'v'}, {'v', 1}} {
		ls.extra = [2][]byte{k, []byte("junk")}
		if err := c.Scan(ctx, kv.Range{}, func(k, v []byte) error { return nil }); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("Scan with key %q: %v, want ErrIntegrity", k, err)
		}
	}
	b.store = s
	// A corrupt key record is an integrity error, not a panic.
	s.Put(string(recordKey([]byte("c"))), []byte("garbage"))
	b2 := node(t, s)
	if _, err := b2.View(ctx, []byte("c")); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("corrupt key record: %v, want ErrIntegrity", err)
	}
	// A key record moved to another id does not open there.
	s.Put(string(recordKey([]byte("c"))), raw[string(recordKey([]byte("a")))])
	if _, err := b2.View(ctx, []byte("c")); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("moved key record: %v, want ErrIntegrity", err)
	}
	// DropView removes even a record that does not open.
	if err := b2.DropView(ctx, []byte("c")); err != nil {
		t.Fatal(err)
	}
	if _, err := b2.View(ctx, []byte("c")); !errors.Is(err, ErrNoView) {
		t.Fatalf("after dropping a corrupt view: %v", err)
	}
}

// TestConcurrent runs writers, readers, drops and re-creations at once;
// with -race it checks the locking, and it checks that a dropped view only
// ever fails with ErrNoView.
func TestConcurrent(t *testing.T) {
	s, b := newTestBarrier(t)
	b2 := node(t, s)
	ids := []string{"w0", "w1", "w2"}
	for _, id := range ids {
		create(t, b, id)
	}
	ok := func(err error) bool {
		return err == nil || errors.Is(err, ErrNoView) || errors.Is(err, kv.ErrNotFound) || errors.Is(err, ErrViewExists)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 150 {
				id := []byte(ids[(w+i)%len(ids)])
				v, err := b.View(ctx, id)
				if err != nil {
					if !ok(err) {
						t.Error(err)
					}
					continue
				}
				key := fmt.Appendf(nil, "k%d", i%7)
				var errs []error
				errs = append(errs, b.Update(ctx, func(tx *Tx) error {
					if err := tx.Set(v, key, []byte("tx")); err != nil {
						return err
					}
					return tx.Set(b.System(), key, []byte("sys"))
				}))
				errs = append(errs, v.Batch(ctx, []kv.Write{{Key: key, Value: []byte("batch")}}))
				_, err = v.Get(ctx, key)
				errs = append(errs, err)
				errs = append(errs, v.Scan(ctx, kv.Range{}, func(k, v []byte) error { return nil }))
				_ = v.Index("x")
				for _, err := range errs {
					if !ok(err) {
						t.Errorf("view %s: %v", id, err)
					}
				}
			}
		})
	}
	for d := range 2 {
		wg.Go(func() {
			bb := []*Barrier{b, b2}[d]
			for i := range 30 {
				id := []byte(ids[i%len(ids)])
				if err := bb.DropView(ctx, id); err != nil {
					t.Error(err)
				}
				err := bb.Update(ctx, func(tx *Tx) error { _, err := tx.CreateView(id); return err })
				if !ok(err) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// Whatever survived is readable: nothing was sealed under a key that
	// is not in its view's record.
	b3 := node(t, s)
	for _, id := range ids {
		v, err := b3.View(ctx, []byte(id))
		if errors.Is(err, ErrNoView) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Scan(ctx, kv.Range{}, func(k, v []byte) error { return nil }); err != nil {
			t.Fatalf("view %s after the storm: %v", id, err)
		}
	}
}

// Read sees one snapshot across views and refuses writes.
func TestReadSnapshot(t *testing.T) {
	_, b := newTestBarrier(t)
	v := create(t, b, "snap")
	set(t, b, v, "a", "1")
	err := b.Read(ctx, func(tx *Tx) error {
		set(t, b, v, "a", "2")
		got, err := tx.Get(v, []byte("a"))
		if err != nil || string(got) != "1" {
			t.Errorf("Get in Read after a later write: %q %v, want the snapshot's 1", got, err)
		}
		if err := tx.Set(v, []byte("b"), []byte("x")); err == nil {
			t.Error("Set in a Read transaction succeeded")
		}
		if _, err := tx.CreateView([]byte("new")); err == nil {
			t.Error("CreateView in a Read transaction succeeded")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Read(ctx, func(tx *Tx) error {
		_, err := tx.View([]byte("snap"))
		return err
	}); err != nil {
		t.Errorf("View in Read: %v", err)
	}
}
