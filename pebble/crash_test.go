package pebble

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/twinvault/twinvault/kv"
)

// TestCrash checks that an acknowledged write survives a crash, not only a
// clean Close: the reopened store sees the file system as it would be after
// power loss, holding exactly the data that was synced. Each writer runs on
// its own, since one writer's sync would also cover the other's writes.
func TestCrash(t *testing.T) {
	ctx := context.Background()
	writers := []struct {
		name  string
		write func(s *Store, w kv.Write) error
	}{
		{"Batch", func(s *Store, w kv.Write) error { return s.Batch(ctx, []kv.Write{w}) }},
		{"Update", func(s *Store, w kv.Write) error {
			return s.Update(ctx, func(tx kv.Tx) error { return tx.Set(w.Key, w.Value) })
		}},
	}
	for _, wr := range writers {
		t.Run(wr.name, func(t *testing.T) {
			fs := vfs.NewCrashableMem()
			s, err := open("db", Options{}, fs)
			if err != nil {
				t.Fatal(err)
			}
			var want []kv.Write
			for i := range 20 {
				w := kv.Write{Key: fmt.Appendf(nil, "key/%02d", i), Value: fmt.Appendf(nil, "v%d", i)}
				if err := wr.write(s, w); err != nil {
					t.Fatal(err)
				}
				want = append(want, w)
			}
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s, err = open("db", Options{}, crashed)
			if err != nil {
				t.Fatalf("open after crash: %v", err)
			}
			defer s.Close()
			for _, w := range want {
				v, err := s.Get(ctx, w.Key)
				if err != nil || string(v) != string(w.Value) {
					t.Errorf("after crash: Get %s = %q, %v; want %q", w.Key, v, err, w.Value)
				}
			}
		})
	}
}

// TestSyncCarriesEarlierBatches: a batch applied without waiting for its
// sync is durable as soon as any later write is (kv.Pipeliner), also when
// the engine moved to a new write-ahead log between them. The audit log's
// ordered reservations count on it.
func TestSyncCarriesEarlierBatches(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	quiet := slog.New(slog.DiscardHandler) // the engine reports its write stalls
	s, err := open("db", Options{MemTableSize: 1 << 20, Logger: quiet}, fs)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(key string, value []byte) {
		b := s.db.NewBatch()
		if err := b.Set([]byte(key), value, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.db.Apply(b, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	var early []string
	for i := range 40 {
		key := fmt.Sprintf("early/%02d", i)
		apply(key, []byte("v"))
		early = append(early, key)
		if i%10 == 4 {
			// Enough to fill the memtable: a new write-ahead log follows.
			apply(fmt.Sprintf("filler/%02d", i), make([]byte, 600<<10))
		}
	}
	// Crashed now, the last batches are lost: nothing synced them.
	before := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	if err := s.Batch(ctx, []kv.Write{{Key: []byte("late"), Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	after := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	missing := func(fs vfs.FS) (n int) {
		s, err := open("db", Options{Logger: quiet}, fs)
		if err != nil {
			t.Fatalf("open after crash: %v", err)
		}
		defer s.Close()
		for _, k := range append(early, "late") {
			if _, err := s.Get(ctx, []byte(k)); err != nil {
				n++
			}
		}
		return n
	}
	if n := missing(before); n == 0 {
		t.Fatal("a crash before the synced write kept every unsynced batch: the test shows nothing")
	}
	if n := missing(after); n != 0 {
		t.Errorf("a crash after the synced write lost %d batches applied before it", n)
	}
}

// TestDeferredSyncs: under a kv.Deferred, Update and Batch return once
// their writes are applied; a later synced write makes them durable, and
// Wait then finds their syncs done.
func TestDeferredSyncs(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	s, err := open("db", Options{}, fs)
	if err != nil {
		t.Fatal(err)
	}
	d := &kv.Deferred{}
	dctx := kv.WithDeferred(ctx, d)
	if err := s.Update(dctx, func(tx kv.Tx) error { return tx.Set([]byte("a"), []byte("1")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Batch(dctx, []kv.Write{{Key: []byte("b"), Value: []byte("2")}}); err != nil {
		t.Fatal(err)
	}
	// Nothing to apply: nothing left to wait for.
	if err := s.Update(dctx, func(kv.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, []byte("a")); err != nil || string(v) != "1" {
		t.Fatalf("a deferred write is not visible: %q, %v", v, err)
	}
	if err := s.Batch(ctx, []kv.Write{{Key: []byte("event"), Value: []byte("3")}}); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	// The deferred calls are in flight until their waits run: Close waits
	// for them, which shows they returned before their syncs were waited.
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with deferred waits not run", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	// After Wait, a write under the same context waits for itself.
	if d.Add(func() error { return nil }) {
		t.Fatal("the Deferred took a wait after Wait")
	}
	s, err = open("db", Options{}, crashed)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"a", "b", "event"} {
		if _, err := s.Get(ctx, []byte(k)); err != nil {
			t.Errorf("after the crash: %s: %v", k, err)
		}
	}
}
