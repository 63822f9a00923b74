package tsdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// compactAll compacts each of series, failing t on an error.
func (db *DB) compactAll(t *testing.T, v *barrier.View, series ...Series) {
	t.Helper()
	for _, s := range series {
		if err := db.Compact(context.Background(), v, s); err != nil {
			t.Fatal(err)
		}
	}
}

// deleteSeries deletes s as the catalog does, failing t on an error.
func (db *DB) deleteSeries(t *testing.T, b *barrier.Barrier, v *barrier.View, s Series) {
	t.Helper()
	defer db.Changing()()
	if err := b.Update(context.Background(), func(tx *barrier.Tx) error { return db.DeleteSeries(tx, v, s) }); err != nil {
		t.Fatal(err)
	}
}

// countKeys counts v's keys under prefix.
func countKeys(t *testing.T, b *barrier.Barrier, v *barrier.View, prefix []byte) int {
	t.Helper()
	n := 0
	err := b.Read(context.Background(), func(tx *barrier.Tx) error {
		return tx.Scan(v, kv.Prefix(prefix), func(_, _ []byte) error {
			n++
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readAll reads every series whole, in both orders and with a limit.
func readAll(t *testing.T, db *DB, b *barrier.Barrier, v *barrier.View, series []Series) []*chunkenc.Chunk {
	t.Helper()
	var out []*chunkenc.Chunk
	for _, s := range series {
		for _, q := range []Query{{From: MinTime, To: MaxTime}, {From: 30, To: 400, Desc: true}, {From: 10, To: MaxTime, Limit: 7}} {
			c, _ := db.read(t, b, v, s, q)
			out = append(out, c)
		}
	}
	return out
}

// TestHeadReplay: a DB started over the store of one that stopped with
// points in memory (some series compacted, some not, some halfway) reads
// every series as the first one did; once everything is compacted, no
// record is left.
func TestHeadReplay(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	series := make([]Series, 5)
	for i := range series {
		series[i].Entity[0], series[i].Prop[0] = byte(i+1), 9
	}
	write := func() {
		// Each write holds three of the series, one of them twice.
		var items []Item
		for range 3 {
			s := series[r.IntN(len(series))]
			c := &chunkenc.Chunk{Kind: chunkenc.KindDouble}
			for at := r.Int64N(40); at < 500 && c.Len() < 6; at += 1 + r.Int64N(60) {
				c.Times = append(c.Times, at)
				c.Doubles = append(c.Doubles, r.NormFloat64())
			}
			items = append(items, Item{s, c})
		}
		items = append(items, Item{items[0].Series, doubles([]int64{int64(r.IntN(500))}, []float64{-1})})
		if err := db.Write(ctx, v, items); err != nil {
			t.Fatal(err)
		}
	}
	for range 40 {
		write()
	}
	db.compactAll(t, v, series[0])
	for range 20 {
		write()
	}
	db.compactAll(t, v, series[1])
	write()
	db.Close()
	before := readAll(t, db, b, v, series)
	if countKeys(t, b, v, recordPrefix) == 0 {
		t.Fatal("no record left to replay")
	}

	fresh := Open(b, nil)
	defer fresh.Close()
	after := readAll(t, fresh, b, v, series)
	for i := range before {
		if !sameChunk(before[i], after[i]) {
			t.Fatalf("read %d: before the restart %+v, after %+v", i, before[i], after[i])
		}
	}
	fresh.compactAll(t, v, series...)
	fresh.tidyViews(ctx)
	if n := countKeys(t, b, v, recordPrefix); n != 0 {
		t.Fatalf("%d records left after every series was compacted", n)
	}
	compacted := readAll(t, fresh, b, v, series)
	for i := range before {
		if !sameChunk(before[i], compacted[i]) {
			t.Fatalf("read %d: before compaction %+v, after %+v", i, before[i], compacted[i])
		}
	}
}

// TestHeadDeletedSeries: a series deleted while records still hold its
// points (another series in them is not compacted yet) stays deleted
// across a restart; made again under the same name, it holds only what
// was written since; its marker goes once no record can hold its points.
func TestHeadDeletedSeries(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	ctx := context.Background()
	var gone, kept Series
	gone.Entity[0], kept.Entity[0] = 1, 2
	for i := range int64(10) {
		err := db.Write(ctx, v, []Item{{gone, doubles([]int64{i}, []float64{1})}, {kept, doubles([]int64{i}, []float64{2})}})
		if err != nil {
			t.Fatal(err)
		}
	}
	db.compactAll(t, v, gone) // its points in blocks; the records stay, for kept
	db.deleteSeries(t, b, v, gone)
	if c, _ := db.read(t, b, v, gone, Query{From: MinTime, To: MaxTime}); c.Len() != 0 {
		t.Fatalf("a deleted series reads %d points", c.Len())
	}
	if countKeys(t, b, v, deadPrefix) != 1 {
		t.Fatal("no marker for a series deleted while records hold its points")
	}
	db.Close()

	db = Open(b, nil)
	defer db.Close()
	if c, _ := db.read(t, b, v, gone, Query{From: MinTime, To: MaxTime}); c.Len() != 0 {
		t.Fatalf("after a restart, a deleted series reads %d points", c.Len())
	}
	db.write(t, b, v, gone, doubles([]int64{100}, []float64{3}))
	if c, _ := db.read(t, b, v, gone, Query{From: MinTime, To: MaxTime}); c.Len() != 1 || c.Times[0] != 100 {
		t.Fatalf("made again, the series reads %+v; want only the point written since", c)
	}
	if c, _ := db.read(t, b, v, kept, Query{From: MinTime, To: MaxTime}); c.Len() != 10 {
		t.Fatalf("the other series reads %d points, want 10", c.Len())
	}
	db.compactAll(t, v, gone, kept)
	db.tidyViews(ctx)
	if n := countKeys(t, b, v, deadPrefix) + countKeys(t, b, v, recordPrefix); n != 0 {
		t.Fatalf("%d markers and records left once every series was compacted", n)
	}
	if c, _ := db.read(t, b, v, gone, Query{From: MinTime, To: MaxTime}); c.Len() != 1 || c.Times[0] != 100 {
		t.Fatalf("after tidying, the series reads %+v", c)
	}
	// Deleted again, with nothing left in any record: no marker needed.
	db.deleteSeries(t, b, v, gone)
	if n := countKeys(t, b, v, deadPrefix) + countKeys(t, b, v, gone.prefix()); n != 0 {
		t.Fatalf("%d keys left by the deletion of a compacted series", n)
	}
}

// A read that did not pin, in a snapshot from before a compaction whose
// deltas have left memory, fails rather than miss them.
func TestHeadStaleRead(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	ctx := context.Background()
	var s Series
	s.Entity[0] = 1
	db.write(t, b, v, s, doubles([]int64{1, 2}, []float64{1, 2}))
	err := b.Read(ctx, func(tx *barrier.Tx) error {
		if err := db.Compact(ctx, v, s); err != nil {
			return err
		}
		_, _, err := db.Read(tx, v, s, Query{From: MinTime, To: MaxTime})
		return err
	})
	if !errors.Is(err, errStale) {
		t.Fatalf("an unpinned read of a snapshot older than a compaction: %v, want errStale", err)
	}
	// Pinned, the same read finds the points in memory.
	db.write(t, b, v, s, doubles([]int64{3}, []float64{3}))
	release := db.Pin()
	defer release()
	err = b.Read(ctx, func(tx *barrier.Tx) error {
		if err := db.Compact(ctx, v, s); err != nil {
			return err
		}
		c, _, err := db.Read(tx, v, s, Query{From: MinTime, To: MaxTime})
		if err == nil && c.Len() != 3 {
			t.Errorf("the pinned read found %d points, want 3", c.Len())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A head past its bound makes every series with deltas due at once.
func TestHeadBound(t *testing.T) {
	db := &DB{pending: map[dirty]pending{}, after: compactAfter}
	for i := range 3 {
		db.pending[dirty{"ws", Series{Entity: [16]byte{byte(i)}}}] = pending{n: 1}
	}
	if got := db.due(false); len(got) != 0 {
		t.Fatalf("%d series due below the bound", len(got))
	}
	db.head.bytes.Store(maxHeadBytes + 1)
	if got := db.due(false); len(got) != 3 {
		t.Fatalf("%d series due past the bound, want 3", len(got))
	}
}

// Records round-trip; parseRecord refuses what appendRecord cannot make.
func TestRecord(t *testing.T) {
	var a, b Series
	a.Entity[0], b.Prop[15] = 1, 2
	chunks := []*chunkenc.Chunk{doubles([]int64{1, 5}, []float64{0.5, -1}),
		{Kind: chunkenc.KindString, Times: []int64{-7}, Strings: []string{"x"}}}
	var rec []byte
	var err error
	for i, s := range []Series{a, b} {
		if rec, err = appendRecord(rec, s, chunks[i]); err != nil {
			t.Fatal(err)
		}
	}
	var got []Series
	err = parseRecord(rec, func(s Series, c *chunkenc.Chunk) error {
		if !sameChunk(c, chunks[len(got)]) {
			t.Errorf("chunk %d: %+v", len(got), c)
		}
		got = append(got, s)
		return nil
	})
	if err != nil || len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("parsed %v, %v", got, err)
	}
	for _, bad := range [][]byte{rec[:10], rec[:len(rec)-1], append(bytes.Clone(rec[:32]), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)} {
		if err := parseRecord(bad, func(Series, *chunkenc.Chunk) error { return nil }); !errors.Is(err, errRecord) {
			t.Errorf("parseRecord(%x) = %v, want errRecord", bad, err)
		}
	}
}

// FuzzRecord: parseRecord never panics, and what it accepts encodes back
// to the same bytes but for the chunks' encodings.
func FuzzRecord(f *testing.F) {
	var s Series
	s.Entity[3] = 7
	rec, _ := appendRecord(nil, s, doubles([]int64{1, 2, 3}, []float64{1, 2, 4}))
	rec, _ = appendRecord(rec, Series{}, &chunkenc.Chunk{Kind: chunkenc.KindBool, Times: []int64{9}, Bools: []bool{true}})
	f.Add(rec)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var again []byte
		err := parseRecord(data, func(s Series, c *chunkenc.Chunk) error {
			var err error
			again, err = appendRecord(again, s, c)
			return err
		})
		if err != nil {
			return
		}
		n := 0
		if err := parseRecord(again, func(Series, *chunkenc.Chunk) error { n++; return nil }); err != nil {
			t.Fatalf("a record parsed, encoded again, does not parse: %v", err)
		}
	})
}

// A record left for another series' sake holds points a compaction has
// merged since, and maybe replaced with later writes: after a restart,
// they stay under the floor and do not come back over the later values.
func TestHeadReplayKeepsNewer(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	ctx := context.Background()
	var s, other Series
	s.Entity[0], other.Entity[0] = 1, 2
	if err := db.Write(ctx, v, []Item{{s, doubles([]int64{1}, []float64{1})}, {other, doubles([]int64{1}, []float64{1})}}); err != nil {
		t.Fatal(err)
	}
	db.write(t, b, v, s, doubles([]int64{1}, []float64{2}))
	db.compactAll(t, v, s)
	db.Close()
	fresh := Open(b, nil)
	defer fresh.Close()
	if c, _ := fresh.read(t, b, v, s, Query{From: MinTime, To: MaxTime}); c.Len() != 1 || c.Doubles[0] != 2 {
		t.Fatalf("after a restart the series reads %+v; want the later value, 2", c)
	}
}

// A series deleted, compacted and tidied reads as empty, not as a stale
// snapshot, and made again reads what is written since.
func TestHeadTidiedSeriesReads(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	ctx := context.Background()
	var s Series
	s.Entity[0] = 1
	db.write(t, b, v, s, doubles([]int64{1}, []float64{1}))
	db.deleteSeries(t, b, v, s)
	db.compactAll(t, v, s)
	db.tidyViews(ctx)
	if n := countKeys(t, b, v, deadPrefix) + countKeys(t, b, v, s.prefix()); n != 0 {
		t.Fatalf("%d keys left after tidying", n)
	}
	if c, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime}); c.Len() != 0 {
		t.Fatalf("the deleted series reads %d points", c.Len())
	}
	db.write(t, b, v, s, doubles([]int64{5}, []float64{5}))
	if c, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime}); c.Len() != 1 || c.Times[0] != 5 {
		t.Fatalf("made again, the series reads %+v", c)
	}
}

// A record a restart found empty (its points under a deletion's floor)
// still counts: a second deletion of the series, by its entity, keeps the
// floor up, and a restart before tidying brings nothing back.
func TestHeadEmptyRecordKeepsDeletion(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	ctx := context.Background()
	var s Series
	s.Entity[0] = 1
	db.write(t, b, v, s, doubles([]int64{1}, []float64{1}))
	db.deleteSeries(t, b, v, s)
	db.Close() // before the compaction and the tidying
	db = Open(b, nil)
	if err := b.Update(ctx, func(tx *barrier.Tx) error { return db.DeleteEntity(tx, v, s.Entity) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = Open(b, nil)
	defer db.Close()
	if c, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime}); c.Len() != 0 {
		t.Fatalf("after two deletions and restarts, the series reads %d points", c.Len())
	}
}

// Sequence numbers after a restart start above every floor, even one
// written when the clock was ahead: a new point is not hidden under it.
func TestHeadSequenceAfterRestart(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	ctx := context.Background()
	var s Series
	s.Entity[0] = 1
	db.write(t, b, v, s, doubles([]int64{1}, []float64{1}))
	db.compactAll(t, v, s)
	db.Close()
	// What the compaction would have left with the clock an hour ahead.
	ahead := uint64(time.Now().Add(time.Hour).UnixNano())
	err := b.Update(ctx, func(tx *barrier.Tx) error {
		if err := tx.Set(v, floorKey(s), binary.BigEndian.AppendUint64(nil, ahead)); err != nil {
			return err
		}
		return raiseHigh(tx, v, ahead)
	})
	if err != nil {
		t.Fatal(err)
	}
	db = Open(b, nil)
	defer db.Close()
	db.write(t, b, v, s, doubles([]int64{2}, []float64{2}))
	if c, _ := db.read(t, b, v, s, Query{From: MinTime, To: MaxTime}); c.Len() != 2 {
		t.Fatalf("%d points after a restart below a floor from an hour ahead, want 2", c.Len())
	}
}

// The head's byte count returns to zero once everything is compacted, and
// a forgotten view takes its bytes with it, once.
func TestHeadBytes(t *testing.T) {
	db, b, v, _ := newTestDB(t)
	var s Series
	s.Entity[0] = 1
	db.write(t, b, v, s, doubles([]int64{1, 2}, []float64{1, 2}))
	if db.head.bytes.Load() <= 0 {
		t.Fatal("the head counts no bytes for a delta it holds")
	}
	db.compactAll(t, v, s)
	if n := db.head.bytes.Load(); n != 0 {
		t.Fatalf("%d bytes counted with everything compacted", n)
	}
	db.write(t, b, v, s, doubles([]int64{3}, []float64{3}))
	release := db.Pin() // keeps what the compaction removes in memory
	db.compactAll(t, v, s)
	db.DroppedView(v.ID())
	release() // reclaims from a forgotten view
	if n := db.head.bytes.Load(); n != 0 {
		t.Fatalf("%d bytes counted after the view was forgotten", n)
	}
}
