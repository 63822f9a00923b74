package tsdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/pebble"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// onDisk opens a DB over the embedded engine in a temporary directory.
func onDisk(tb testing.TB) (*DB, *barrier.Barrier, *barrier.View, kv.Store) {
	tb.Helper()
	ctx := context.Background()
	store, err := pebble.Open(filepath.Join(tb.TempDir(), "kv"), pebble.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	b := barriertest.Open(tb, store)
	var v *barrier.View
	if err := b.Update(ctx, func(tx *barrier.Tx) error {
		v, err = tx.CreateView([]byte("ws"))
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	db := Open(b, nil)
	tb.Cleanup(db.Close)
	return db, b, v, store
}

// storedBytes sums the sizes of the keys and sealed values of every series:
// what the store holds for them, before the engine's own overhead.
func storedBytes(tb testing.TB, store kv.Store) int {
	n := 0
	err := store.Scan(context.Background(), kv.Range{}, func(k, v []byte) error {
		if bytes.Contains(k, []byte("ts/")) {
			n += len(k) + len(v)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestCookieFactoryBytesPerPoint stores the sample telemetry the way the
// server does (one series per entity and property, written 10 values at a
// time, then compacted) and reports what it costs per point, keys, nonces
// and tags included. A raw point is 16 bytes.
func TestCookieFactoryBytesPerPoint(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "samples", "cookiefactory", "telemetry", "telemetry.csv")
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, _, v, store := onDisk(t)
	type key struct{ id, prop string }
	chunks := map[key]*chunkenc.Chunk{}
	var order []key
	for _, r := range rows {
		k := key{r[2], r[3]}
		c := chunks[k]
		if c == nil {
			kind := chunkenc.KindDouble
			if r[5] != "DOUBLE" {
				kind = chunkenc.KindString
			}
			c = &chunkenc.Chunk{Kind: kind}
			chunks[k] = c
			order = append(order, k)
		}
		ms, _ := strconv.ParseInt(r[0], 10, 64)
		c.Times = append(c.Times, ms*1e6)
		if c.Kind == chunkenc.KindDouble {
			x, _ := strconv.ParseFloat(r[4], 64)
			c.Doubles = append(c.Doubles, x)
		} else {
			c.Strings = append(c.Strings, r[4])
		}
	}
	points := 0
	ctx := context.Background()
	for _, k := range order {
		var s Series
		copy(s.Entity[:], v.Index(k.id))
		copy(s.Prop[:], v.Index(k.prop))
		c := chunks[k]
		points += c.Len()
		for _, part := range chunkenc.Split(c, 10) {
			if err := db.Write(ctx, v, []Item{{s, part}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Compact(ctx, v, s); err != nil {
			t.Fatal(err)
		}
	}
	n := storedBytes(t, store)
	perPoint := float64(n) / float64(points)
	t.Logf("%d points in %d series: %d bytes stored, %.2f bytes per point (raw: 16, ratio %.3f)", points, len(order), n, perPoint, perPoint/16)
	if perPoint > 16 {
		t.Errorf("%.2f bytes per point: more than the raw 16", perPoint)
	}
}

// BenchmarkReadPage reads 200-point pages of one compacted series on the
// embedded engine, near its start, middle and end, and at random: a page
// costs the same at any depth. Set TWINVAULT_BENCH_POINTS (default 1,000,000) for longer
// series, e.g. 10,000,000.
func BenchmarkReadPage(b *testing.B) {
	n := 1_000_000
	if env := os.Getenv("TWINVAULT_BENCH_POINTS"); env != "" {
		if v, err := strconv.Atoi(env); err == nil && v >= BlockPoints {
			n = v
		}
	}
	db, bar, v, store := onDisk(b)
	var s Series
	s.Entity[0] = 1
	ctx := context.Background()
	const step = int64(1e9)
	const perWrite = 16 * BlockPoints
	for i := 0; i < n; i += perWrite {
		c := &chunkenc.Chunk{Kind: chunkenc.KindDouble}
		for j := i; j < min(i+perWrite, n); j++ {
			c.Times = append(c.Times, int64(j)*step)
			c.Doubles = append(c.Doubles, 20+float64(j%600)/10)
		}
		if err := db.Write(ctx, v, []Item{{s, c}}); err != nil {
			b.Fatal(err)
		}
		if err := db.Compact(ctx, v, s); err != nil {
			b.Fatal(err)
		}
	}
	stored := float64(storedBytes(b, store)) / float64(n)
	// A depth pages near one point, as a client paging through history
	// does (the blocks it reads stay decoded); "random" reads pages
	// anywhere in the series, so nearly every one decodes its block.
	for _, depth := range []float64{0, 0.5, 0.999, -1} {
		name := fmt.Sprintf("depth=%g", depth)
		if depth < 0 {
			name = "random"
		}
		for _, desc := range []bool{false, true} {
			b.Run(fmt.Sprintf("points=%d/%s/desc=%v", n, name, desc), func(b *testing.B) {
				at := int64(float64(n)*depth) * step
				for i := range b.N {
					from := at + int64(i%64)*step
					if depth < 0 {
						from = int64(rand.N(n-200)) * step
					}
					q := Query{From: from, To: MaxTime, Limit: 200}
					if desc {
						q = Query{From: MinTime, To: from + 200*step, Desc: true, Limit: 200}
					}
					err := bar.Read(ctx, func(tx *barrier.Tx) error {
						c, _, err := db.Read(tx, v, s, q)
						if err == nil && c.Len() == 0 {
							err = fmt.Errorf("empty page at %d", from)
						}
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(stored, "stored-bytes/point")
			})
		}
	}
}

// BenchmarkWrite writes 10 series × 10 values per batch, the shape of a full
// BatchPutPropertyValues request.
func BenchmarkWrite(b *testing.B) {
	db, _, v, _ := onDisk(b)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			items := make([]Item, 10)
			for k := range items {
				c := &chunkenc.Chunk{Kind: chunkenc.KindDouble}
				for j := range 10 {
					c.Times = append(c.Times, int64(i*10+j)*1e9)
					c.Doubles = append(c.Doubles, float64(j))
				}
				items[k].Series.Entity[0] = byte(k)
				items[k].Points = c
			}
			if err := db.Write(ctx, v, items); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkCompact compacts series the way a steady stream of full
// BatchPutPropertyValues requests leaves them: compactAfter deltas of 10
// points each, appended in time order behind a partly filled block. It
// reports the compactor's time per point (the writes are not timed).
func BenchmarkCompact(b *testing.B) {
	db, _, v, _ := onDisk(b)
	ctx := context.Background()
	const series, perDelta = 100, 10
	next := make([]int64, series)
	round := func(k int) {
		var s Series
		s.Entity[0] = byte(k)
		for range compactAfter {
			c := &chunkenc.Chunk{Kind: chunkenc.KindDouble}
			for range perDelta {
				c.Times = append(c.Times, next[k]*1e9)
				c.Doubles = append(c.Doubles, 20+float64(next[k]%500)/10)
				next[k]++
			}
			if _, err := db.put(ctx, v, []Item{{s, c}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		k := i % series
		b.StopTimer()
		round(k)
		b.StartTimer()
		var s Series
		s.Entity[0] = byte(k)
		start := cpuTime()
		if err := db.compact(ctx, dirty{string(v.ID()), s}); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - start
	}
	points := float64(b.N * compactAfter * perDelta)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/points, "ns/point")
	b.ReportMetric(float64(cpu.Nanoseconds())/points, "cpu-ns/point")
}

// cpuTime is the process's CPU time so far. A compaction's commit waits
// for the log's sync, which a server shares with the writes around it;
// the CPU it takes is what the server pays.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReadHot reads the newest 25 points of a series still being
// written: a compacted block behind as many deltas of 10 points as there
// can be before a compaction, which every read merges. "head" reads
// compactAfter-1 of them as a node alone on its store does, from memory;
// over a shared store, compactAfterShared-1: "cached" as the node that
// wrote them does (deltaCache), "opened" as another node, decrypting and
// decoding each.
func BenchmarkReadHot(b *testing.B) {
	type reader struct {
		name string
		db   *DB
		b    *barrier.Barrier
		v    *barrier.View
	}
	var readers []reader
	alone, bar, v, _ := onDisk(b)
	readers = append(readers, reader{"head", alone, bar, v})
	shared, sbar, sv := newSharedTestDB(b)
	other := Open(sbar, nil)
	b.Cleanup(other.Close)
	readers = append(readers, reader{"cached", shared, sbar, sv}, reader{"opened", other, sbar, sv})
	ctx := context.Background()
	var s Series
	s.Entity[0] = 1
	for _, r := range readers[:2] {
		next := int64(0)
		points := func(n int) *chunkenc.Chunk {
			c := &chunkenc.Chunk{Kind: chunkenc.KindDouble}
			for range n {
				c.Times = append(c.Times, next*1e9)
				c.Doubles = append(c.Doubles, 20+float64(next%600)/10)
				next++
			}
			return c
		}
		if _, err := r.db.put(ctx, r.v, []Item{{s, points(1000)}}); err != nil {
			b.Fatal(err)
		}
		if err := r.db.Compact(ctx, r.v, s); err != nil {
			b.Fatal(err)
		}
		for range r.db.after - 1 {
			if _, err := r.db.put(ctx, r.v, []Item{{s, points(10)}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, r := range readers {
		b.Run(fmt.Sprintf("deltas=%d/%s", r.db.after-1, r.name), func(b *testing.B) {
			for b.Loop() {
				err := r.b.Read(ctx, func(tx *barrier.Tx) error {
					out, _, err := r.db.Read(tx, r.v, s, Query{From: MinTime, To: MaxTime, Desc: true, Limit: 25})
					if err == nil && out.Len() != 25 {
						err = fmt.Errorf("%d points", out.Len())
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeltaCache is the cache's part of one compaction in a server
// writing 100 series: the compacted series' 128 deltas looked up one by
// one and dropped, among the other series' pending deltas. Each op is one
// compaction, with the puts of the deltas it compacts.
func BenchmarkDeltaCache(b *testing.B) {
	const series = 100
	var c deltaCache
	key := func(s int, seq uint64) []byte {
		var sr Series
		sr.Entity[0], sr.Prop[0] = byte(s), byte(s>>8)
		return binary.BigEndian.AppendUint64(append(sr.prefix(), 'a', '/'), seq)
	}
	points := &chunkenc.Chunk{Kind: chunkenc.KindDouble, Times: make([]int64, 10), Doubles: make([]float64, 10)}
	seq := uint64(0)
	fill := func(s int) [][]byte {
		keys := make([][]byte, compactAfter)
		for i := range keys {
			seq++
			keys[i] = key(s, seq)
			c.put("view", keys[i:i+1], []*chunkenc.Chunk{points})
		}
		return keys
	}
	pending := make([][][]byte, series)
	for s := range series {
		pending[s] = fill(s)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s := i % series
		for _, k := range pending[s] {
			if c.get("view", k) == nil {
				b.Fatal("a pending delta is not cached")
			}
		}
		c.drop("view", pending[s])
		pending[s] = fill(s)
		if i%(series*2) == 0 {
			c.age()
		}
	}
}
