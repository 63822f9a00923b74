package tsdb

import (
	"context"
	"testing"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/kv/kvtest"
)

// rawBytes sums every key and value the store holds.
func rawBytes(t *testing.T, store kv.Store) int64 {
	t.Helper()
	var n int64
	err := store.Scan(context.Background(), kv.Range{}, func(k, v []byte) error {
		n += int64(len(k) + len(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func usageOf(t *testing.T, db *DB, b *barrier.Barrier, v *barrier.View) Usage {
	t.Helper()
	var u Usage
	err := b.Read(context.Background(), func(tx *barrier.Tx) (err error) {
		u, err = db.Usage(tx, v)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestUsage follows a view's usage through writes, compaction, a rewrite
// and a deletion, alone on the store and shared: the points and series
// counted match what was written, and the bytes match what the store
// holds beyond what it held before the first write.
func TestUsage(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "alone", true: "shared"}[shared], func(t *testing.T) {
			var store kv.Store = kvtest.NewMem()
			if shared {
				store = sharedMem{kvtest.NewMem()}
			}
			db, b, v := openTestDB(t, store)
			before := rawBytes(t, store)
			check := func(what string, series int, blockPoints, pending int64) Usage {
				t.Helper()
				u := usageOf(t, db, b, v)
				if u.Series != series || u.BlockPoints != blockPoints || u.PendingPoints != pending {
					t.Fatalf("%s: %d series, %d points in blocks, %d pending; want %d, %d, %d", what, u.Series, u.BlockPoints, u.PendingPoints, series, blockPoints, pending)
				}
				if got, want := u.Bytes(), rawBytes(t, store)-before; got != want {
					t.Fatalf("%s: %d bytes counted, the store grew by %d", what, got, want)
				}
				if (u.Blocks == 0) != (blockPoints == 0) || (u.BlockBytes == 0) != (u.Blocks == 0) || (u.PendingBytes == 0) != (pending == 0) {
					t.Fatalf("%s: %+v", what, u)
				}
				return u
			}
			check("empty", 0, 0, 0)
			s1, s2 := Series{Entity: [16]byte{1}}, Series{Entity: [16]byte{2}, Prop: [16]byte{1}}
			for i := range 10 {
				var ts []int64
				var vs []float64
				for j := range 10 {
					ts = append(ts, int64(i*10+j)*1e9)
					vs = append(vs, float64(j))
				}
				db.write(t, b, v, s1, doubles(ts, vs))
				if i < 5 {
					db.write(t, b, v, s2, doubles(ts, vs))
				}
			}
			check("written", 2, 0, 150)
			db.compactAll(t, v, s1, s2)
			u := check("compacted", 2, 150, 0)
			if u.Blocks != 2 {
				t.Fatalf("compacted: %d blocks, want 2", u.Blocks)
			}
			db.write(t, b, v, s1, doubles([]int64{0, 1e9}, []float64{7, 8}))
			check("rewritten", 2, 150, 2)
			db.deleteSeries(t, b, v, s2)
			check("deleted", 1, 100, 2)
			db.compactAll(t, v, s1)
			check("compacted again", 1, 100, 0)
		})
	}
}
