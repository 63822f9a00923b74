package barrier

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twinvault/twinvault/kv"
)

// versionsInUse counts stored values of view id by the DEK version that
// sealed them.
func versionsInUse(t *testing.T, s *memStore, id string) map[uint32]int {
	t.Helper()
	out := map[uint32]int{}
	for k, v := range s.Raw() {
		if strings.HasPrefix(k, string(idPrefix([]byte(id)))) {
			ver, _, err := header(v)
			if err != nil {
				t.Fatal(err)
			}
			out[ver]++
		}
	}
	return out
}

func readAll(t *testing.T, b *Barrier, id string, want map[string]string) {
	t.Helper()
	v, err := b.View(ctx, []byte(id))
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want {
		got, err := v.Get(ctx, []byte(k))
		if err != nil || string(got) != w {
			t.Fatalf("%s: %q %v, want %q", k, got, err, w)
		}
	}
}

func TestRotateRewrapRetire(t *testing.T) {
	s, b := newTestBarrier(t)
	v := create(t, b, "ws")
	want := map[string]string{}
	for i := range 600 { // several rewrap transactions
		k, val := fmt.Sprint("k", i), fmt.Sprint("value ", i)
		set(t, b, v, k, val)
		want[k] = val
	}
	ver, err := b.RotateView(ctx, []byte("ws"))
	if err != nil || ver != 2 {
		t.Fatalf("rotate: %d %v", ver, err)
	}
	set(t, b, v, "new", "after the rotation")
	if err := v.Batch(ctx, []kv.Write{{Key: []byte("batched"), Value: []byte("blind")}}); err != nil {
		t.Fatal(err)
	}
	want["new"], want["batched"] = "after the rotation", "blind"
	if got := versionsInUse(t, s, "ws"); got[1] != 600 || got[2] != 2 {
		t.Fatalf("after rotating: %v", got)
	}
	readAll(t, b, "ws", want)
	// Nothing is retired while values still need it.
	if r, err := b.Retire(ctx, []byte("ws")); err != nil || len(r) != 0 {
		t.Fatalf("retire before rewrap: %v %v", r, err)
	}
	var reports []int
	n, err := b.Rewrap(ctx, []byte("ws"), func(done int) { reports = append(reports, done) })
	if err != nil || n != 600 || len(reports) < 3 {
		t.Fatalf("rewrap: %d %v, progress %v", n, err, reports)
	}
	if got := versionsInUse(t, s, "ws"); len(got) != 1 || got[2] != 602 {
		t.Fatalf("after rewrap: %v", got)
	}
	if n, _ := b.Rewrap(ctx, []byte("ws"), nil); n != 0 {
		t.Fatalf("a second rewrap re-sealed %d", n)
	}
	r, err := b.Retire(ctx, []byte("ws"))
	if err != nil || len(r) != 1 || r[0] != 1 {
		t.Fatalf("retire: %v %v", r, err)
	}
	if vs, active, _ := b.Versions(ctx, []byte("ws")); len(vs) != 1 || active != 2 {
		t.Fatalf("versions %v active %d", vs, active)
	}
	readAll(t, b, "ws", want)
	readAll(t, node(t, s), "ws", want) // a fresh start reads them too
	if err := v.Batch(ctx, []kv.Write{{Key: []byte("later"), Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if got := versionsInUse(t, s, "ws"); len(got) != 1 {
		t.Fatalf("a batch after retiring: %v", got)
	}
	// The system view rotates the same way.
	set(t, b, b.System(), "sys", "value")
	if _, err := b.RotateView(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Rewrap(ctx, nil, nil); err != nil || n == 0 {
		t.Fatalf("rewrap the system view: %d %v", n, err)
	}
	if r, err := b.Retire(ctx, nil); err != nil || len(r) != 1 {
		t.Fatalf("retire in the system view: %v %v", r, err)
	}
	if got, err := node(t, s).System().Get(ctx, []byte("sys")); err != nil || string(got) != "value" {
		t.Fatalf("system value: %q %v", got, err)
	}
	if _, err := b.RotateView(ctx, []byte("nothing")); !errors.Is(err, ErrNoView) {
		t.Fatalf("rotating a missing view: %v", err)
	}
}

// TestRewrapUnderLoad: writers keep going (transactions and blind
// batches) while a view rotates, rewraps and retires; nothing is lost and
// nothing is left under a retired version.
func TestRewrapUnderLoad(t *testing.T) {
	s, b := newTestBarrier(t)
	v := create(t, b, "busy")
	for i := range 1000 {
		set(t, b, v, fmt.Sprint("old", i), "old")
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	want := map[string]string{}
	var failures, writes atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k, val := fmt.Sprintf("w%d-%d", w, i%300), fmt.Sprint("v", i)
				var err error
				if w%2 == 0 {
					err = retry(ctx, func() error {
						return b.Update(ctx, func(tx *Tx) error { return tx.Set(v, []byte(k), []byte(val)) })
					})
				} else {
					err = v.Batch(ctx, []kv.Write{{Key: []byte(k), Value: []byte(val)}})
				}
				if err != nil {
					failures.Add(1)
					continue
				}
				mu.Lock()
				want[k] = val
				mu.Unlock()
				writes.Add(1)
			}
		}()
	}
	for round := 0; round < 3 || writes.Load() < 3000; round++ {
		if _, err := b.RotateView(ctx, []byte("busy")); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Rewrap(ctx, []byte("busy"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Retire(ctx, []byte("busy")); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d writes failed", f)
	}
	_, active, _ := b.Versions(ctx, []byte("busy"))
	for ver := range versionsInUse(t, s, "busy") {
		if vs, _, _ := b.Versions(ctx, []byte("busy")); !containsVersion(vs, ver) {
			t.Fatalf("a value is sealed under version %d, which is gone (active %d)", ver, active)
		}
	}
	for i := range 1000 {
		want[fmt.Sprint("old", i)] = "old"
	}
	readAll(t, node(t, s), "busy", want)
}

func containsVersion(vs []uint32, v uint32) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// TestKeyringRetire: a new keyring term, the key records re-sealed under
// it, the old term retired; every view still opens on a fresh start.
func TestKeyringRetire(t *testing.T) {
	s, b := newTestBarrier(t)
	for _, id := range []string{"a", "b", "c"} {
		set(t, b, create(t, b, id), "k", id)
	}
	if _, err := b.kr.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := b.RetireTerms(ctx); err != nil || len(r) != 0 {
		t.Fatalf("retired %v while records need it: %v", r, err)
	}
	n, err := b.RewrapRecords(ctx)
	if err != nil || n != 4 { // three views and the system view
		t.Fatalf("rewrap records: %d %v", n, err)
	}
	terms, _ := b.RecordTerms(ctx)
	if len(terms) != 1 || terms[2] != 4 {
		t.Fatalf("record terms %v", terms)
	}
	if r, err := b.RetireTerms(ctx); err != nil || len(r) != 1 || r[0] != 1 {
		t.Fatalf("retire terms: %v %v", r, err)
	}
	if ts := b.kr.Terms(); len(ts) != 1 || ts[0].Term != 2 {
		t.Fatalf("terms left %v", ts)
	}
	fresh := node(t, s)
	for _, id := range []string{"a", "b", "c"} {
		readAll(t, fresh, id, map[string]string{"k": id})
	}
}

// sharedStore is the in-memory store claiming to be shared, as a database
// is: the barrier must then not trust what it keeps in memory.
type sharedStore struct{ *memStore }

func (sharedStore) Shared() bool { return true }

// TestRotationAcrossNodes: one node rotates, re-seals and retires data keys
// and keyring terms while two others, each with its own cached keys, write
// through blind batches and transactions and create views. Nothing ends up
// sealed under a version or a term that is gone.
func TestRotationAcrossNodes(t *testing.T) {
	s := sharedStore{newMemStore()}
	a := node(t, s)
	if !a.Shared() {
		t.Fatal("the barrier does not see that its store is shared")
	}
	create(t, a, "busy")
	writers := []*Barrier{node(t, s), node(t, s)}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	want := map[string]string{}
	var views []string
	var failures, writes atomic.Int64
	for w, b := range writers {
		v, err := b.View(ctx, []byte("busy"))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := 0; !stop.Load() || i < 200; i++ {
				k, val := fmt.Sprintf("w%d-%d", w, i%150), fmt.Sprint("v", i)
				var err error
				switch {
				case w == 0: // blind writes only: nothing else refreshes its keys
					err = v.Batch(ctx, []kv.Write{{Key: []byte(k), Value: []byte(val)}})
				case i%2 == 0:
					err = retry(ctx, func() error {
						return b.Update(ctx, func(tx *Tx) error { return tx.Set(v, []byte(k), []byte(val)) })
					})
				default:
					id := fmt.Sprintf("new-%d-%d", w, i)
					err = b.Update(ctx, func(tx *Tx) error {
						_, err := tx.CreateView([]byte(id))
						return err
					})
					if err == nil {
						mu.Lock()
						views = append(views, id)
						mu.Unlock()
					}
					continue
				}
				if err != nil {
					failures.Add(1)
					continue
				}
				mu.Lock()
				want[k] = val
				mu.Unlock()
				writes.Add(1)
			}
		})
	}
	for round := 0; round < 4 || writes.Load() < 2000; round++ {
		if _, err := a.RotateView(ctx, []byte("busy")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.kr.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Rewrap(ctx, []byte("busy"), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Retire(ctx, []byte("busy")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.RewrapRecords(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.RetireTerms(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d writes failed", f)
	}
	fresh := node(t, s)
	vs, _, err := fresh.Versions(ctx, []byte("busy"))
	if err != nil {
		t.Fatal(err)
	}
	for ver := range versionsInUse(t, s.memStore, "busy") {
		if !containsVersion(vs, ver) {
			t.Fatalf("a value is sealed under version %d, which is gone (%v)", ver, vs)
		}
	}
	readAll(t, fresh, "busy", want)
	for _, id := range views {
		if _, err := fresh.View(ctx, []byte(id)); err != nil {
			t.Fatalf("view %s, made during the rotations: %v", id, err)
		}
	}
}
