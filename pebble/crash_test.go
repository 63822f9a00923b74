package pebble

import (
	"context"
	"fmt"
	"testing"

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
