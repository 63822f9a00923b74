package tsdb

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

func newTestDB(t testing.TB) (*DB, *barrier.Barrier, *barrier.View, *kvtest.Mem) {
	t.Helper()
	store := kvtest.NewMem()
	db, b, v := openTestDB(t, store)
	return db, b, v, store
}

// newSharedTestDB is newTestDB over a store that claims to be shared.
func newSharedTestDB(t testing.TB) (*DB, *barrier.Barrier, *barrier.View) {
	t.Helper()
	return openTestDB(t, sharedMem{kvtest.NewMem()})
}

// openTestDB opens a DB over store, with one view, "ws".
func openTestDB(t testing.TB, store kv.Store) (*DB, *barrier.Barrier, *barrier.View) {
	t.Helper()
	b := barriertest.Open(t, store)
	var v *barrier.View
	var err error
	if err := b.Update(context.Background(), func(tx *barrier.Tx) error {
		v, err = tx.CreateView([]byte("ws"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db := Open(b, nil)
	t.Cleanup(db.Close)
	return db, b, v
}

func doubles(ts []int64, vs []float64) *chunkenc.Chunk {
	return &chunkenc.Chunk{Kind: chunkenc.KindDouble, Times: ts, Doubles: vs}
}

func (db *DB) write(t testing.TB, b *barrier.Barrier, v *barrier.View, s Series, c *chunkenc.Chunk) {
	t.Helper()
	if err := db.Write(context.Background(), v, []Item{{s, c}}); err != nil {
		t.Fatal(err)
	}
}

func (db *DB) read(t testing.TB, b *barrier.Barrier, v *barrier.View, s Series, q Query) (*chunkenc.Chunk, bool) {
	t.Helper()
	var c *chunkenc.Chunk
	var more bool
	defer db.Pin()()
	err := b.Read(context.Background(), func(tx *barrier.Tx) error {
		var err error
		c, more, err = db.Read(tx, v, s, q)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, more
}

// TestRandomAgainstModel writes random batches (out of order, overwriting,
// with gaps), compacts at random moments, and checks random reads in both
// orders and with limits against a plain map.
func TestRandomAgainstModel(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var s Series
	s.Entity[0], s.Prop[0] = 1, 2
	model := map[int64]float64{}
	for round := range 300 {
		n := 1 + rng.IntN(40)
		pts := map[int64]float64{}
		base := int64(rng.IntN(20000)) * 1e9
		for range n {
			ts := base + int64(rng.IntN(300))*1e9
			pts[ts] = float64(round) + rng.Float64()
		}
		var ts []int64
		for k := range pts {
			ts = append(ts, k)
		}
		slices.Sort(ts)
		vs := make([]float64, len(ts))
		for i, k := range ts {
			vs[i] = pts[k]
			model[k] = pts[k]
		}
		db.write(t, b, v, s, doubles(ts, vs))
		if rng.IntN(5) == 0 {
			if err := db.Compact(context.Background(), v, s); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			from := int64(rng.IntN(21000)) * 1e9
			q := Query{From: from, To: from + int64(rng.IntN(5000))*1e9, Desc: rng.IntN(2) == 0, Limit: rng.IntN(50)}
			if rng.IntN(10) == 0 {
				q.From, q.To = MinTime, MaxTime
			}
			got, more := db.read(t, b, v, s, q)
			var want []int64
			for k := range model {
				if k >= q.From && k < q.To {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			if q.Desc {
				slices.Reverse(want)
			}
			wantMore := q.Limit > 0 && len(want) > q.Limit
			if wantMore {
				want = want[:q.Limit]
			}
			var gotTimes []int64
			if got != nil {
				gotTimes = got.Times
			}
			if !slices.Equal(gotTimes, want) || more != wantMore {
				for i := range min(len(gotTimes), len(want)) {
					if gotTimes[i] != want[i] {
						t.Logf("first difference at %d: got %d, want %d", i, gotTimes[i], want[i])
						break
					}
				}
				t.Fatalf("round %d %+v: got %d points (more %v), want %d (more %v)", round, q, len(gotTimes), more, len(want), wantMore)
			}
			for i, k := range gotTimes {
				if got.Doubles[i] != model[k] {
					t.Fatalf("round %d: value at %d is %v, want %v", round, k, got.Doubles[i], model[k])
				}
			}
			// The points are the caller's: scribbling on them must not
			// change what later reads see (decoded blocks are cached).
			for i := range gotTimes {
				got.Times[i], got.Doubles[i] = -1, -1
			}
		}
	}
}

// TestBlockCacheSeesRewrites: a compaction that replaces a point inside a
// block keeps the block's key (its first and last times) but not its
// bytes, and a read after it sees the new value, not the decoded block a
// read before it cached.
func TestBlockCacheSeesRewrites(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	ctx := context.Background()
	var s Series
	s.Entity[0] = 7
	ts := []int64{1, 2, 3, 4, 5}
	db.write(t, b, v, s, doubles(ts, []float64{10, 20, 30, 40, 50}))
	if err := db.Compact(ctx, v, s); err != nil {
		t.Fatal(err)
	}
	all := Query{From: MinTime, To: MaxTime}
	if got, _ := db.read(t, b, v, s, all); !slices.Equal(got.Doubles, []float64{10, 20, 30, 40, 50}) {
		t.Fatalf("before: %v", got.Doubles)
	}
	keys := func() []string {
		db.blocks.mu.Lock()
		defer db.blocks.mu.Unlock()
		var ks []string
		for k := range db.blocks.items {
			ks = append(ks, k)
		}
		return ks
	}
	cached := keys()
	if len(cached) != 1 {
		t.Fatalf("%d blocks cached, want 1", len(cached))
	}
	db.write(t, b, v, s, doubles([]int64{3}, []float64{33}))
	if err := db.Compact(ctx, v, s); err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{all, {From: 2, To: 4}, {From: MinTime, To: MaxTime, Desc: true, Limit: 3}} {
		got, _ := db.read(t, b, v, s, q)
		for i, tm := range got.Times {
			if want := map[int64]float64{1: 10, 2: 20, 3: 33, 4: 40, 5: 50}[tm]; got.Doubles[i] != want {
				t.Errorf("%+v: %v at %d, want %v", q, got.Doubles[i], tm, want)
			}
		}
	}
	if after := keys(); !slices.Equal(after, cached) {
		t.Errorf("blocks cached: %q, then %q: the rewrite was meant to keep the key", cached, after)
	}
	// A deleted entity's values leave memory with it.
	if err := b.Update(ctx, func(tx *barrier.Tx) error { return db.DeleteEntity(tx, v, s.Entity) }); err != nil {
		t.Fatal(err)
	}
	if left := keys(); len(left) != 0 {
		t.Errorf("%d blocks of a deleted entity still cached", len(left))
	}
}

// blocksOf checks that s's blocks do not overlap and hold at most
// BlockPoints points, and returns their spans and how many deltas s has.
func blocksOf(t *testing.T, b *barrier.Barrier, v *barrier.View, s Series) (spans [][2]int64, deltas int) {
	t.Helper()
	var lastEnd int64 = MinTime
	err := b.Read(context.Background(), func(tx *barrier.Tx) error {
		return tx.Scan(v, kv.Prefix(s.prefix()), func(k, val []byte) error {
			switch k[len(s.prefix())] {
			case 'a':
				deltas++
			case 'b':
				first, last, _ := blockSpan(k)
				c, err := chunkenc.Decode(val)
				if err != nil {
					return err
				}
				if first <= lastEnd || c.Len() > BlockPoints || c.Times[0] != first || c.Times[c.Len()-1] != last {
					t.Errorf("block [%d, %d] of %d points after %d", first, last, c.Len(), lastEnd)
				}
				lastEnd = last
				spans = append(spans, [2]int64{first, last})
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return spans, deltas
}

// Compaction leaves non-overlapping blocks of at most BlockPoints points,
// no deltas, and the same points.
func TestCompactionShape(t *testing.T) {
	db, b, v, store := newTestDB(t)
	var s Series
	s.Entity[0] = 9
	for batch := range 40 {
		var ts []int64
		var vs []float64
		for i := range 100 {
			ts = append(ts, int64(batch*100+i)*1e9)
			vs = append(vs, float64(i))
		}
		db.write(t, b, v, s, doubles(ts, vs))
	}
	if err := db.Compact(context.Background(), v, s); err != nil {
		t.Fatal(err)
	}
	if spans, deltas := blocksOf(t, b, v, s); deltas != 0 || len(spans) != 4 {
		t.Errorf("%d deltas and %d blocks, want 0 and 4", deltas, len(spans))
	}
	got, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime})
	if got.Len() != 4000 {
		t.Errorf("%d points after compaction, want 4000", got.Len())
	}
	// Nothing in the store shows a value in plaintext: blocks are sealed.
	for k, val := range store.Raw() {
		if bytes.Contains([]byte(k), []byte("ts/")) && len(val) < 30 {
			t.Errorf("suspiciously small sealed value under %q", k)
		}
	}
}

// Points written between two blocks make a block of their own, which the
// next points in that gap extend; appends extend the newest block until it
// is full; a point written again at a block's last time replaces it there.
func TestCompactionBetweenBlocks(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	var s Series
	s.Entity[0] = 7
	want := map[int64]float64{}
	round := 0
	write := func(times ...int64) {
		t.Helper()
		round++
		var vs []float64
		for _, at := range times {
			vs = append(vs, float64(at)+float64(round)*1e6)
			want[at] = vs[len(vs)-1]
		}
		db.write(t, b, v, s, doubles(times, vs))
		if err := db.Compact(context.Background(), v, s); err != nil {
			t.Fatal(err)
		}
	}
	span := func(from, to int64) []int64 {
		var ts []int64
		for at := from; at <= to; at++ {
			ts = append(ts, at)
		}
		return ts
	}
	write(span(0, 1023)...)                                 // a full block
	write(append(span(1024, 2047), span(2100, 2199)...)...) // a full block, and a partial one after a gap
	write(span(2050, 2059)...)                              // in the gap: a block of its own
	write(span(2060, 2069)...)                              // still in the gap: extends it
	write(span(2200, 2209)...)                              // an append: extends the newest block
	write(span(2210, 3123)...)                              // fills it
	write(3123)                                             // its last point again
	spans, deltas := blocksOf(t, b, v, s)
	wantSpans := [][2]int64{{0, 1023}, {1024, 2047}, {2050, 2069}, {2100, 3123}}
	if deltas != 0 || !slices.Equal(spans, wantSpans) {
		t.Errorf("%d deltas, blocks %v; want 0 and %v", deltas, spans, wantSpans)
	}
	got, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime})
	if got.Len() != len(want) {
		t.Fatalf("%d points, want %d", got.Len(), len(want))
	}
	for i, at := range got.Times {
		if got.Doubles[i] != want[at] {
			t.Fatalf("point at %d = %g, want %g", at, got.Doubles[i], want[at])
		}
	}
}

// TestCompactionCachesNewestBlock: a compaction that writes one block
// leaves it decoded in the block cache, as stored, and takes out the
// blocks it replaced; one that splits into several blocks caches none.
func TestCompactionCachesNewestBlock(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	var s Series
	s.Entity[0] = 9
	vid := string(v.ID())
	cached := func() map[string]*chunkenc.Chunk {
		db.blocks.mu.Lock()
		defer db.blocks.mu.Unlock()
		out := map[string]*chunkenc.Chunk{}
		for k, e := range db.blocks.items {
			if strings.HasPrefix(k, vid+string(s.prefix())) {
				out[k[len(vid):]] = e.Value.(*cachedBlock).c
			}
		}
		return out
	}
	stored := func() map[string]*chunkenc.Chunk {
		out := map[string]*chunkenc.Chunk{}
		err := b.Read(context.Background(), func(tx *barrier.Tx) error {
			return tx.Scan(v, kv.Prefix(append(s.prefix(), 'b', '/')), func(k, val []byte) error {
				c, err := chunkenc.Decode(val)
				out[string(k)] = c
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	step := func(from, to int64, wantCached bool) {
		t.Helper()
		var ts []int64
		var vs []float64
		for at := from; at <= to; at++ {
			ts, vs = append(ts, at), append(vs, float64(at)/4)
		}
		db.write(t, b, v, s, doubles(ts, vs))
		if err := db.Compact(context.Background(), v, s); err != nil {
			t.Fatal(err)
		}
		got, blocks := cached(), stored()
		if !wantCached {
			if len(got) != 0 {
				t.Errorf("after [%d, %d]: %d blocks cached, want none", from, to, len(got))
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("after [%d, %d]: %d blocks cached, want the newest alone", from, to, len(got))
		}
		for k, c := range got {
			if want, ok := blocks[k]; !ok || !chunkenc.Equal(c, want) {
				t.Errorf("after [%d, %d]: the cached block is not the stored one", from, to)
			}
		}
	}
	step(0, 9, true)
	step(10, 19, true)    // extends the block: the old one leaves the cache
	step(20, 1100, false) // overflows into two blocks
	step(1101, 1110, true)
}

// TestBlockCacheKeepsNoDeletedBlock: a block decoded before a deletion
// (by a compaction that began before it) is not put in after it, and what
// a compaction only looks up is not kept.
func TestBlockCacheKeepsNoDeletedBlock(t *testing.T) {
	bc := newBlockCache(1 << 20)
	c := &chunkenc.Chunk{Kind: chunkenc.KindDouble, Times: []int64{1, 2}, Doubles: []float64{1, 2}}
	raw, err := chunkenc.Encode(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bc.lookup("v/ts/s/b/1", raw); err != nil || len(bc.items) != 0 {
		t.Fatalf("lookup: %v, %d blocks held", err, len(bc.items))
	}
	gen := bc.generation()
	bc.forget("v/ts/s/")
	bc.put("v/ts/s/b/1", raw, c, gen)
	if len(bc.items) != 0 {
		t.Error("a block planned before a deletion was kept after it")
	}
	bc.put("v/ts/s/b/1", raw, c, bc.generation())
	if len(bc.items) != 1 {
		t.Error("a block put with the current generation was not kept")
	}
}

// A series is due at compactAfter deltas, or at a tick when no delta came
// since the tick before; one still written to waits.
func TestDue(t *testing.T) {
	db := &DB{pending: map[dirty]pending{}, after: compactAfter}
	var a, b, c Series
	a.Entity[0], b.Entity[0], c.Entity[0] = 1, 2, 3
	add := func(s Series, n int) {
		for range n {
			p := db.pending[dirty{"ws", s}]
			p.n++
			db.pending[dirty{"ws", s}] = p
		}
	}
	due := func(tick bool) (out []byte) {
		for _, d := range db.due(tick) {
			out = append(out, d.series.Entity[0])
		}
		slices.Sort(out)
		return out
	}
	add(a, 1)
	add(b, 1)
	add(c, compactAfter)
	if got := due(false); !slices.Equal(got, []byte{3}) {
		t.Errorf("between ticks: due %v, want [3]", got)
	}
	if got := due(true); len(got) != 0 {
		t.Errorf("first tick: due %v, want none", got)
	}
	add(a, 1)
	if got := due(true); !slices.Equal(got, []byte{2}) {
		t.Errorf("second tick: due %v, want [2]", got)
	}
	if got := due(true); !slices.Equal(got, []byte{1}) {
		t.Errorf("third tick: due %v, want [1]", got)
	}
	if len(db.pending) != 0 {
		t.Errorf("%d series still pending", len(db.pending))
	}
}

func TestDeleteEntity(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	var s1, s2, other Series
	s1.Entity[0], s1.Prop[0] = 1, 1
	s2.Entity[0], s2.Prop[0] = 1, 2
	other.Entity[0] = 2
	for _, s := range []Series{s1, s2, other} {
		db.write(t, b, v, s, doubles([]int64{1, 2}, []float64{1, 2}))
	}
	if err := db.Compact(context.Background(), v, s1); err != nil {
		t.Fatal(err)
	}
	if err := b.Update(context.Background(), func(tx *barrier.Tx) error { return db.DeleteEntity(tx, v, s1.Entity) }); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Series{s1, s2} {
		if c, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime}); c != nil && c.Len() > 0 {
			t.Errorf("series survived its entity: %d points", c.Len())
		}
	}
	if c, _ := db.read(t, b, v, other, Query{From: MinTime, To: MaxTime}); c == nil || c.Len() != 2 {
		t.Error("another entity's series was deleted")
	}
}

// Writers, compactions and readers at once: in the end every written point
// is there once, and no read ever saw a point out of order or twice.
func TestConcurrentWritesAndCompaction(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	var s Series
	s.Entity[0] = 3
	const writers, batches, per = 4, 60, 10
	done := make(chan struct{})
	errs := make(chan error, 16)
	go func() {
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			if err := db.Compact(context.Background(), v, s); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			c, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime})
			if c != nil {
				for i := 1; i < c.Len(); i++ {
					if c.Times[i] <= c.Times[i-1] {
						errs <- fmt.Errorf("read out of order at %d", i)
						return
					}
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				var ts []int64
				var vs []float64
				for j := range per {
					ts = append(ts, int64((i*writers+w)*per+j))
					vs = append(vs, float64(w))
				}
				if err := db.Write(context.Background(), v, []Item{{s, doubles(ts, vs)}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Compact(context.Background(), v, s); err != nil {
		t.Fatal(err)
	}
	c, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime})
	if c.Len() != writers*batches*per {
		t.Fatalf("%d points, want %d", c.Len(), writers*batches*per)
	}
	for i, ts := range c.Times {
		if ts != int64(i) {
			t.Fatalf("point %d at %d", i, ts)
		}
	}
}

// Deltas the compactor never heard of (left from before a restart) get
// compacted once a read meets them.
func TestReadSchedulesForgottenDeltas(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	var s Series
	s.Entity[0] = 5
	// Stored without telling the compactor, as if before a restart.
	for i := range compactAfter + 1 {
		if _, err := db.put(context.Background(), v, []Item{{s, doubles([]int64{int64(i)}, []float64{float64(i)})}}); err != nil {
			t.Fatal(err)
		}
	}
	db.read(t, b, v, s, Query{From: MinTime, To: MaxTime})
	deadline := time.Now().Add(10 * time.Second)
	for {
		var deltas int
		b.Read(context.Background(), func(tx *barrier.Tx) error {
			return tx.Scan(v, kv.Prefix(append(s.prefix(), 'a', '/')), func(_, _ []byte) error { deltas++; return nil })
		})
		if deltas == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deltas still there", deltas)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime}); c.Len() != compactAfter+1 {
		t.Errorf("%d points after compaction", c.Len())
	}
}

// sharedMem is the in-memory store claiming to be shared, as a database is.
type sharedMem struct{ *kvtest.Mem }

func (sharedMem) Shared() bool { return true }

// TestSharedNodes: three nodes over one store write the same series at once
// (two of them with the same sequence numbers), each compacting as it
// goes; every point written is read back by every node, and compacting
// everything leaves no delta behind.
func TestSharedNodes(t *testing.T) {
	ctx := context.Background()
	store := sharedMem{kvtest.NewMem()}
	type node struct {
		db *DB
		b  *barrier.Barrier
		v  *barrier.View
	}
	var nodes []node
	for i := range 3 {
		b := barriertest.Open(t, store)
		var v *barrier.View
		var err error
		err = b.Update(ctx, func(tx *barrier.Tx) error {
			if i == 0 {
				v, err = tx.CreateView([]byte("ws"))
			} else {
				v, err = tx.View([]byte("ws"))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		db := Open(b, nil)
		t.Cleanup(db.Close)
		nodes = append(nodes, node{db, b, v})
	}
	// Two nodes draw the same numbers (ahead of the clock, each counts up
	// from the same one).
	nodes[0].db.seq.Store(1 << 62)
	nodes[1].db.seq.Store(1 << 62)
	var s Series
	s.Entity[0], s.Prop[0] = 3, 4
	const rounds, per = 60, 5
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			for r := range rounds {
				ts := make([]int64, per)
				vs := make([]float64, per)
				for j := range per {
					ts[j] = int64((r*per+j)*len(nodes) + i)
					vs[j] = float64(ts[j])
				}
				if err := n.db.Write(ctx, n.v, []Item{{s, doubles(ts, vs)}}); err != nil {
					t.Error(err)
					return
				}
				if r%10 == 9 {
					if err := n.db.Compact(ctx, n.v, s); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	want := rounds * per * len(nodes)
	for i, n := range nodes {
		c, _ := n.db.read(t, n.b, n.v, s, Query{From: MinTime, To: MaxTime})
		if c.Len() != want {
			t.Fatalf("node %d reads %d points of %d", i, c.Len(), want)
		}
		for j, x := range c.Times {
			if x != int64(j) || c.Doubles[j] != float64(j) {
				t.Fatalf("node %d: point %d is %d=%v", i, j, x, c.Doubles[j])
			}
		}
	}
	if err := nodes[2].db.Compact(ctx, nodes[2].v, s); err != nil {
		t.Fatal(err)
	}
	left := 0
	nodes[0].b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(nodes[0].v, kv.Prefix(append(s.prefix(), 'a', '/')), func(_, _ []byte) error { left++; return nil })
	})
	if left != 0 {
		t.Fatalf("%d deltas left after compacting", left)
	}
}

// Reads in snapshots of one stamp share what they found of a series'
// deltas and floor; a write, compaction or deletion makes a new stamp,
// under which reads look again, and a snapshot taken with a write under
// way, or one begun since the stamp, has none.
func TestStampedReads(t *testing.T) {
	db, b, v, _ := onDisk(t)
	ctx := context.Background()
	var s Series
	s.Entity[0] = 5
	d := dirty{string(v.ID()), s}
	points := func(from, to int64) *chunkenc.Chunk {
		c := &chunkenc.Chunk{Kind: chunkenc.KindDouble}
		for at := from; at < to; at++ {
			c.Times = append(c.Times, at)
			c.Doubles = append(c.Doubles, float64(at))
		}
		return c
	}
	// read reads the whole series in a snapshot stamped as the catalog
	// does, and returns how many points it found and the stamp.
	read := func() (int, Stamp) {
		t.Helper()
		defer db.Pin()()
		st := db.Stamp()
		var n int
		err := b.Read(ctx, func(tx *barrier.Tx) error {
			st = db.Check(st)
			c, _, err := db.Read(tx, v, s, Query{From: MinTime, To: MaxTime, Stamp: st})
			n = c.Len()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, st
	}
	db.write(t, b, v, s, points(0, 100))
	if err := db.Compact(ctx, v, s); err != nil {
		t.Fatal(err)
	}
	n, st := read()
	if n != 100 || st == 0 {
		t.Fatalf("%d points, stamp %d; want 100 and a stamp", n, st)
	}
	if floor, ok := db.shapes.Get(uint64(st), d); !ok || floor == 0 {
		t.Fatalf("the read left no shape (%v) or one without the floor", ok)
	}
	if n, st2 := read(); n != 100 || st2 != st {
		t.Fatalf("a second read: %d points, stamp %d; want 100, %d", n, st2, st)
	}
	// A delta written after: a new stamp, and the read sees it.
	db.write(t, b, v, s, points(100, 101))
	n, st3 := read()
	if n != 101 || st3 == st {
		t.Fatalf("after a write: %d points, stamp %d (before: %d); want 101 and a new stamp", n, st3, st)
	}
	if _, ok := db.shapes.Get(uint64(st), d); ok {
		t.Error("an older stamp's shape is still served")
	}
	// across runs change in a snapshot taken before it, then checks that a
	// read after it finds after points under a new stamp, and that the
	// older snapshot, read then, still finds want: its own.
	across := func(what string, change func() error, after, want int) {
		t.Helper()
		defer db.Pin()()
		old := db.Stamp()
		err := b.Read(ctx, func(tx *barrier.Tx) error {
			old = db.Check(old)
			if err := change(); err != nil {
				return err
			}
			if n, st := read(); n != after || st == old {
				return fmt.Errorf("after the %s: %d points under stamp %d (before: %d); want %d under a new one", what, n, st, old, after)
			}
			c, _, err := db.Read(tx, v, s, Query{From: MinTime, To: MaxTime, Stamp: old})
			if err == nil && c.Len() != want {
				err = fmt.Errorf("the snapshot from before the %s read %d points, want %d", what, c.Len(), want)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	db.write(t, b, v, s, points(101, 111))
	across("compaction", func() error { return db.Compact(ctx, v, s) }, 111, 111)
	// A deletion counts as a write (Changing): a series read empty after
	// it may be made again under the same name.
	db.write(t, b, v, s, points(200, 210))
	across("deletion", func() error {
		defer db.Changing()()
		return b.Update(ctx, func(tx *barrier.Tx) error { return db.DeleteSeries(tx, v, s) })
	}, 0, 121)
	// A write under way: no stamp; one begun after Stamp: Check refuses it.
	db.started.Add(1)
	if st := db.Stamp(); st != 0 {
		t.Errorf("stamp %d with a write under way", st)
	}
	db.ended.Add(1)
	st = db.Stamp()
	db.started.Add(1)
	if db.Check(st) != 0 {
		t.Error("Check kept a stamp after a write began")
	}
	db.ended.Add(1)
}

// TestDeltaCache: the deltas a DB wrote are read from its cache, never
// opened again, and give what the store holds: a DB that did not write
// them (a restart, another node) opens them and reads the same points.
// Compactions and deletions take them out of the cache.
func TestDeltaCache(t *testing.T) {
	db, b, v := newSharedTestDB(t) // alone on its store, a DB keeps no deltas but its head
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 7))
	series := make([]Series, 3)
	for i := range series {
		series[i].Entity[0] = byte(i + 1)
	}
	kinds := []chunkenc.Kind{chunkenc.KindDouble, chunkenc.KindInt, chunkenc.KindString}
	for range db.after - 1 { // below db.after: no compaction runs
		for i, s := range series {
			c := &chunkenc.Chunk{Kind: kinds[i]}
			for t := r.Int64N(50); t < 200 && c.Len() < 8; t += 1 + r.Int64N(30) {
				c.Times = append(c.Times, t)
				switch c.Kind {
				case chunkenc.KindDouble:
					c.Doubles = append(c.Doubles, []float64{math.NaN(), math.Copysign(0, -1), math.Inf(1), r.NormFloat64()}[r.IntN(4)])
				case chunkenc.KindInt:
					c.Ints = append(c.Ints, r.Int64())
				default:
					c.Strings = append(c.Strings, fmt.Sprint(r.IntN(5)))
				}
			}
			db.write(t, b, v, s, c)
		}
	}
	queries := []Query{{From: MinTime, To: MaxTime}, {From: 40, To: 120, Desc: true}, {From: 10, To: MaxTime, Limit: 5}}
	readAll := func(db *DB) []*chunkenc.Chunk {
		var out []*chunkenc.Chunk
		for _, s := range series {
			for _, q := range queries {
				c, _ := db.read(t, b, v, s, q)
				out = append(out, c)
			}
		}
		return out
	}
	// Stop the compactors: they would compact the series after two quiet
	// ticks. Reads and Compact work without them.
	db.Close()
	mine := readAll(db)
	if n := db.opened.Load(); n != 0 {
		t.Fatalf("the writer opened %d deltas it wrote; want them all from its cache", n)
	}
	fresh := Open(b, nil)
	fresh.Close()
	theirs := readAll(fresh)
	if fresh.opened.Load() == 0 {
		t.Fatal("a DB that wrote nothing read deltas without opening them")
	}
	for i := range mine {
		if !sameChunk(mine[i], theirs[i]) {
			t.Fatalf("read %d: the writer's cache gives %+v, the store %+v", i, mine[i], theirs[i])
		}
	}
	// Compacted deltas leave the cache; so do a deleted series'.
	if err := db.Compact(ctx, v, series[0]); err != nil {
		t.Fatal(err)
	}
	cached := func(s Series) int {
		db.deltas.mu.Lock()
		defer db.deltas.mu.Unlock()
		n := 0
		for sk, run := range db.deltas.cur.views[string(v.ID())] {
			if bytes.HasPrefix(sk[:], s.prefix()) {
				n += len(run)
			}
		}
		return n
	}
	if n := cached(series[0]); n != 0 {
		t.Fatalf("%d deltas of a compacted series are still cached", n)
	}
	if err := b.Update(ctx, func(tx *barrier.Tx) error { return db.DeleteSeries(tx, v, series[1]) }); err != nil {
		t.Fatal(err)
	}
	if n := cached(series[1]); n != 0 {
		t.Fatalf("%d deltas of a deleted series are still cached", n)
	}
	if n := cached(series[2]); n != db.after-1 {
		t.Fatalf("%d deltas of the third series cached; want %d", n, db.after-1)
	}
	// The accounting matches what is held; a generation ages out in two
	// steps.
	db.deltas.mu.Lock()
	want := 0
	for _, run := range db.deltas.cur.views[string(v.ID())] {
		for _, c := range run {
			want += chunkBytes(c)
		}
	}
	got := db.deltas.cur.bytes
	db.deltas.mu.Unlock()
	if got != want {
		t.Fatalf("the cache counts %d bytes and holds %d", got, want)
	}
	db.deltas.age()
	if n := cached(series[2]); n != 0 || db.deltas.get(string(v.ID()), firstDelta(t, b, v, series[2])) == nil {
		t.Fatal("after one ageing, the deltas left the current generation or the cache")
	}
	db.deltas.age()
	if db.deltas.get(string(v.ID()), firstDelta(t, b, v, series[2])) != nil {
		t.Fatal("after two, a delta is still cached")
	}
}

// firstDelta returns the key of s's first delta.
func firstDelta(t *testing.T, b *barrier.Barrier, v *barrier.View, s Series) []byte {
	t.Helper()
	var k []byte
	err := b.Read(context.Background(), func(tx *barrier.Tx) error {
		return tx.Scan(v, kv.Prefix(append(s.prefix(), 'a', '/')), func(key, _ []byte) error {
			k = bytes.Clone(key)
			return kv.Stop
		})
	})
	if err != nil || k == nil {
		t.Fatalf("first delta: %v, %x", err, k)
	}
	return k
}

// sameChunk compares chunks bit for bit (NaN equals NaN, -0 differs from 0).
func sameChunk(a, b *chunkenc.Chunk) bool {
	if a.Len() != b.Len() || a.Len() > 0 && a.Kind != b.Kind || !slices.Equal(a.Times, b.Times) {
		return false
	}
	for i := range a.Doubles {
		if math.Float64bits(a.Doubles[i]) != math.Float64bits(b.Doubles[i]) {
			return false
		}
	}
	return slices.Equal(a.Ints, b.Ints) && slices.Equal(a.Bools, b.Bools) && slices.Equal(a.Strings, b.Strings)
}

// TestDeltaCacheOutlastsCompaction: a series written once a compactor tick
// (a 1 Hz sensor) is compacted only after compactAfter deltas; its first
// delta, written just before the cache ages, is still cached by then,
// whatever tick it was written at, as the compactor ages the cache.
func TestDeltaCacheOutlastsCompaction(t *testing.T) {
	for written := range deltaLifetime {
		var c deltaCache
		key := append(Series{}.prefix(), "a/\x00\x00\x00\x00\x00\x00\x00\x01"...)
		for tick := 0; tick <= written+compactAfter; tick++ {
			if tick == written {
				c.put("v", [][]byte{key}, []*chunkenc.Chunk{{Kind: chunkenc.KindDouble, Times: []int64{1}, Doubles: []float64{1}}})
			}
			if tick > 0 && tick%deltaLifetime == 0 {
				c.age()
			}
		}
		if c.get("v", key) == nil {
			t.Fatalf("a delta written at tick %d left the cache before its series' compaction at tick %d", written, written+compactAfter)
		}
	}
}
