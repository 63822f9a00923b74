package pebble

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/twinvault/twinvault/kv"
)

// The benchmarks come in pairs: each kv.Store call has a BenchmarkRawPebble
// counterpart that does the same work on the same *pebble.DB directly, so
// that results can be read as ratios to what the machine and Pebble allow:
//
//	BenchmarkUpdate    vs BenchmarkRawPebble/Commit1  (one synced commit)
//	BenchmarkBatch     vs BenchmarkRawPebble/Commit100
//	BenchmarkGet       vs BenchmarkRawPebble/Get
//	BenchmarkScan      vs BenchmarkRawPebble/Scan100
//
// Write benchmarks also run in parallel, where Pebble can share one WAL
// sync between concurrent commits and Update, which runs one at a time,
// cannot.

const (
	benchKeys     = 10000 // preloaded keys
	benchValueLen = 100
	benchBatchLen = 100 // writes per batch
	benchScanLen  = 100 // pairs per scan
)

var benchValue = make([]byte, benchValueLen)

// benchKey writes key number i into buf, which must have room for 10 bytes.
func benchKey(buf []byte, i uint64) []byte {
	buf = append(buf[:0], 'b', '/')
	return binary.BigEndian.AppendUint64(buf, i)
}

// benchStore opens a store in a temporary directory holding benchKeys keys
// in table files, as a store that has been running a while would.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ws := make([]kv.Write, 0, 1000)
	for i := range uint64(benchKeys) {
		ws = append(ws, kv.Write{Key: benchKey(make([]byte, 0, 10), i), Value: benchValue})
		if len(ws) == cap(ws) {
			if err := s.Batch(context.Background(), ws); err != nil {
				b.Fatal(err)
			}
			ws = ws[:0]
		}
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	return s
}

// writeModes runs a write benchmark from one goroutine and from many.
// next hands out distinct key numbers, above the preloaded ones.
func writeModes(b *testing.B, fn func(b *testing.B, s *Store, next func() uint64)) {
	b.Run("serial", func(b *testing.B) {
		s := benchStore(b)
		n := uint64(benchKeys)
		fn(b, s, func() uint64 { n++; return n })
	})
	b.Run("parallel", func(b *testing.B) {
		s := benchStore(b)
		var n atomic.Uint64
		n.Store(benchKeys)
		b.SetParallelism(8) // goroutines per CPU: writers wait on fsync, not CPU
		fn(b, s, func() uint64 { return n.Add(1) })
	})
}

// loop runs body b.N times, in parallel when the benchmark is "parallel".
func loop(b *testing.B, parallel bool, body func()) {
	b.ResetTimer()
	if !parallel {
		for range b.N {
			body()
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body()
		}
	})
}

func isParallel(b *testing.B) bool {
	name := b.Name()
	return len(name) >= len("parallel") && name[len(name)-len("parallel"):] == "parallel"
}

// BenchmarkUpdate measures a small read-modify-write transaction: one Get
// and one Set of a 100-byte value.
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	writeModes(b, func(b *testing.B, s *Store, next func() uint64) {
		b.SetBytes(benchValueLen)
		loop(b, isParallel(b), func() {
			var key [10]byte
			k := benchKey(key[:0], next()%benchKeys)
			err := s.Update(ctx, func(tx kv.Tx) error {
				if _, err := tx.Get(ctx, k); err != nil {
					return err
				}
				return tx.Set(k, benchValue)
			})
			if err != nil {
				b.Error(err)
			}
		})
	})
}

// BenchmarkBatch measures a Batch of 100 writes of 100 bytes each.
func BenchmarkBatch(b *testing.B) {
	ctx := context.Background()
	writeModes(b, func(b *testing.B, s *Store, next func() uint64) {
		b.SetBytes(benchBatchLen * benchValueLen)
		loop(b, isParallel(b), func() {
			ws := make([]kv.Write, benchBatchLen)
			keys := make([]byte, 10*benchBatchLen)
			for i := range ws {
				ws[i] = kv.Write{Key: benchKey(keys[10*i:10*i], next()), Value: benchValue}
			}
			if err := s.Batch(ctx, ws); err != nil {
				b.Error(err)
			}
		})
	})
}

// BenchmarkGet measures a point read of a random existing key.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var key [10]byte
		for pb.Next() {
			if _, err := s.Get(ctx, benchKey(key[:0], rand.Uint64N(benchKeys))); err != nil {
				b.Error(err)
			}
		}
	})
}

// BenchmarkScan measures a forward scan of 100 pairs from a random key.
func BenchmarkScan(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var key [10]byte
		for pb.Next() {
			n := 0
			r := kv.Range{Start: benchKey(key[:0], rand.Uint64N(benchKeys-benchScanLen)), Limit: benchScanLen}
			err := s.Scan(ctx, r, func(key, value []byte) error {
				n++
				return nil
			})
			if err != nil || n != benchScanLen {
				b.Error(n, err)
			}
		}
	})
}

// BenchmarkRawPebble is the baseline: the same work as the benchmarks above
// straight on the *pebble.DB, with the same options and data.
func BenchmarkRawPebble(b *testing.B) {
	commit := func(n int) func(b *testing.B, s *Store, next func() uint64) {
		return func(b *testing.B, s *Store, next func() uint64) {
			b.SetBytes(int64(n * benchValueLen))
			loop(b, isParallel(b), func() {
				var key [10]byte
				batch := s.db.NewBatch()
				for range n {
					batch.Set(benchKey(key[:0], next()), benchValue, nil)
				}
				if err := batch.Commit(pebble.Sync); err != nil {
					b.Error(err)
				}
				batch.Close()
			})
		}
	}
	b.Run("Commit1", func(b *testing.B) { writeModes(b, commit(1)) })
	b.Run("Commit100", func(b *testing.B) { writeModes(b, commit(benchBatchLen)) })
	b.Run("Get", func(b *testing.B) {
		s := benchStore(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var key [10]byte
			for pb.Next() {
				_, c, err := s.db.Get(benchKey(key[:0], rand.Uint64N(benchKeys)))
				if err != nil {
					b.Error(err)
					continue
				}
				c.Close()
			}
		})
	})
	b.Run("Scan100", func(b *testing.B) {
		s := benchStore(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var key [10]byte
			for pb.Next() {
				it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: benchKey(key[:0], rand.Uint64N(benchKeys-benchScanLen))})
				if err != nil {
					b.Error(err)
					continue
				}
				n := 0
				for ok := it.First(); ok && n < benchScanLen; ok = it.Next() {
					if _, err := it.ValueAndErr(); err != nil {
						b.Error(err)
					}
					n++
				}
				it.Close()
			}
		})
	})
}

// BenchmarkMemtable inserts, without a WAL, what a BatchPutPropertyValues
// call of 10 entries writes: ten small values and one audit event of 2 KB
// under random keys, into 32 MiB memtables as Open makes them. Built with
// cgo, the memtables come from C's malloc; run it with
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1, as serve runs, to see the cost of
// 4 KiB pages (TLB misses in the skiplist, faults in each fresh arena).
func BenchmarkMemtable(b *testing.B) {
	db, err := pebble.Open(b.TempDir(), &pebble.Options{MemTableSize: 32 << 20, MemTableStopWritesThreshold: 4,
		DisableWAL: true, Logger: logger{slog.New(slog.DiscardHandler)}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(1, 2))
	key, small, event := make([]byte, 50), make([]byte, 150), make([]byte, 2000)
	for b.Loop() {
		batch := db.NewBatch()
		for i := range 11 {
			for j := range key {
				key[j] = byte(r.Uint32())
			}
			v := small
			if i == 10 {
				v = event
			}
			batch.Set(key, v, nil)
		}
		if err := batch.Commit(pebble.NoSync); err != nil {
			b.Fatal(err)
		}
		batch.Close()
	}
}
