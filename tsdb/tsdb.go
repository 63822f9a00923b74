// Package tsdb stores time series of property values through the barrier,
// so every chunk is sealed like any other value.
//
// A series holds the points of one property of one entity's component.
// A write's points, one "delta" chunk per series, are durable when the
// write returns; a background compactor merges a series' deltas into
// "blocks" of up to BlockPoints points, sorted and non-overlapping. Reads
// merge the blocks that cover the asked range with the few deltas not yet
// compacted, the newer write winning on equal timestamps. Every write and
// every compaction is one transaction, so a reader never sees half of
// either.
//
// Where the deltas live depends on whether other nodes share the store. A
// node alone on it writes all of a write's deltas as one record and keeps
// them in memory, the head, until they are compacted (see head.go). Over a
// shared store, where other nodes read them, each delta is a key of its
// own, and this node caches those it wrote (deltaCache).
//
// Key layout, inside a workspace's view (entity and property are blind
// indexes, so no key shows a name):
//
//	ts/<entity 16><prop 16>/b/<last 8><first 8>     block chunk; times big-endian
//	                                                 with the sign bit flipped
//	ts/<entity 16><prop 16>/f                       alone: floor, the highest delta
//	                                                 sequence number compacted
//	tl/<seq 8>                                      alone: a write's record
//	td/<seq 8><entity 16><prop 16>                  alone: a deletion's marker
//	ts/<entity 16><prop 16>/a/<seq 8>[<node 8>]     shared: delta chunk
package tsdb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/internal/genmap"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// BlockPoints is the most points a compacted block holds: large enough
// that the per-chunk overhead (header, nonce, tag, key) costs a fraction
// of a byte per point, small enough that a page read decodes little.
const BlockPoints = 1024

// compactAfter is how many deltas a series collects before the compactor
// merges them; reads merge at most a few more than this. Each compaction
// rewrites the series' newest block and pays for its seeks and its commit
// whatever it merges: 64 deltas took a quarter less compaction per point
// than 32, and 128 a third less than 64 (BenchmarkCompact). Alone on its
// store, a node holds the deltas in memory (its head), so a read of a
// series still being written merges 127 cheaply (BenchmarkReadHot); over
// a shared store, the other nodes open them, and compactAfterShared keeps
// that to 31.
const (
	compactAfter       = 128
	compactAfterShared = 32
)

// Series names one series: an entity (one incarnation of it) and one
// property of one of its components, both as blind indexes of the view.
type Series struct {
	Entity [16]byte
	Prop   [16]byte
}

// seriesPrefix starts the keys of every series.
const seriesPrefix = "ts/"

func (s Series) prefix() []byte {
	k := make([]byte, 0, len(seriesPrefix)+32+12)
	k = append(k, seriesPrefix...)
	k = append(k, s.Entity[:]...)
	k = append(k, s.Prop[:]...)
	return append(k, '/')
}

// splitSeriesKey splits a key of a series into the series and what follows
// its prefix; false if k is not shaped like one.
func splitSeriesKey(k []byte) (s Series, rest []byte, ok bool) {
	n := len(seriesPrefix) + len(s.Entity) + len(s.Prop)
	if len(k) <= n+1 || string(k[:len(seriesPrefix)]) != seriesPrefix || k[n] != '/' {
		return s, nil, false
	}
	copy(s.Entity[:], k[len(seriesPrefix):])
	copy(s.Prop[:], k[len(seriesPrefix)+len(s.Entity):])
	return s, k[n+1:], true
}

// EntityPrefix is the key prefix of every series of an entity.
func EntityPrefix(entity [16]byte) []byte {
	return append([]byte(seriesPrefix), entity[:]...)
}

// sortable maps a signed time to bytes that sort like the time.
func sortable(t int64) uint64 { return uint64(t) ^ (1 << 63) }

func blockKey(s Series, c *chunkenc.Chunk) []byte {
	k := append(s.prefix(), 'b', '/')
	k = binary.BigEndian.AppendUint64(k, sortable(c.Times[len(c.Times)-1]))
	return binary.BigEndian.AppendUint64(k, sortable(c.Times[0]))
}

// blockSpan reads a block's first and last time from its key.
func blockSpan(key []byte) (first, last int64, ok bool) {
	if len(key) < 16 {
		return 0, 0, false
	}
	tail := key[len(key)-16:]
	last = int64(binary.BigEndian.Uint64(tail[:8]) ^ (1 << 63))
	first = int64(binary.BigEndian.Uint64(tail[8:]) ^ (1 << 63))
	return first, last, true
}

// DB is the time-series store of one server.
type DB struct {
	b   *barrier.Barrier
	log *slog.Logger
	seq atomic.Uint64
	// node, when the store is shared with other nodes, ends every delta
	// key this node writes: two nodes may draw the same sequence number,
	// and neither delta may replace the other's.
	node []byte
	// blocks keeps the blocks that reads decoded; deltas, the points of the
	// deltas this DB wrote, until they are compacted.
	blocks *blockCache
	deltas deltaCache
	// opened counts the deltas read from the store, not the cache.
	opened atomic.Int64
	// head holds, alone on its store, the points not yet compacted.
	head head
	// tidying names the views whose heads have records or markers to
	// remove (see tidy).
	tidying map[string]bool

	// compacting makes this node's compactions take turns.
	compacting sync.Mutex
	// after is compactAfter, or compactAfterShared.
	after int

	// started and ended count the writes and compactions begun and done;
	// see Stamp. shapes remembers, per series, what reads found in a
	// snapshot of a stamp.
	started, ended atomic.Uint64
	shapes         shapeCache

	mu      sync.Mutex
	pending map[dirty]pending // series written since their last compaction
	// inflight holds the sequence numbers of deltas being written. A delta
	// can commit after one with a higher number, so a floor never passes
	// the lowest number still in flight when its compaction began.
	inflight map[uint64]struct{}
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	closed   bool
}

// pending counts the deltas of a series since its last compaction: n, and
// n as it was at the compactor's last tick.
type pending struct{ n, atTick int }

type dirty struct {
	view   string // view id
	series Series
}

// Open returns a DB over b and starts its compactor.
func Open(b *barrier.Barrier, log *slog.Logger) *DB {
	if log == nil {
		log = slog.Default()
	}
	db := &DB{b: b, log: log, blocks: newBlockCache(defaultBlockCache), shapes: shapeCache{Max: maxShapes}, pending: map[dirty]pending{}, inflight: map[uint64]struct{}{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	// Sequence numbers only order a series' deltas; starting from the clock
	// keeps them increasing across restarts without a stored counter.
	db.seq.Store(uint64(time.Now().UnixNano()))
	db.head.views, db.head.pins = map[string]*viewHead{}, map[uint64]int{}
	db.after = compactAfter
	if b.Shared() {
		db.after = compactAfterShared
		db.node = make([]byte, 8)
		rand.Read(db.node)
	}
	go db.compactor()
	return db
}

// Close stops the compactor, letting a running compaction finish.
func (db *DB) Close() {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return
	}
	db.closed = true
	db.mu.Unlock()
	close(db.stop)
	<-db.done
}

func (db *DB) nextSeq() uint64 {
	for {
		cur := db.seq.Load()
		next := max(cur+1, uint64(time.Now().UnixNano()))
		if db.seq.CompareAndSwap(cur, next) {
			return next
		}
	}
}

// Item is one chunk of points to add to a series.
type Item struct {
	Series Series
	Points *chunkenc.Chunk
}

// Write adds chunks of points to their series in one durable batch of
// blind writes: it takes no writer's turn, so concurrent writers share one
// log sync. The caller resolves the series beforehand; a series whose
// entity is deleted meanwhile keeps the points under a name no one reads.
// Write keeps the chunks' columns (their strings it copies, which may
// share a request's body): the caller must not change them afterwards.
func (db *DB) Write(ctx context.Context, v *barrier.View, items []Item) error {
	series, err := db.put(ctx, v, items)
	if err != nil || len(series) == 0 {
		return err
	}
	db.Written(v, series...)
	return nil
}

// put stores items as deltas, returning their series, without telling
// the compactor.
func (db *DB) put(ctx context.Context, v *barrier.View, items []Item) ([]Series, error) {
	if !db.b.Shared() {
		return db.putHead(ctx, v, items)
	}
	writes := make([]kv.Write, 0, len(items))
	series := make([]Series, 0, len(items))
	chunks := make([]*chunkenc.Chunk, 0, len(items))
	for _, it := range items {
		if it.Points.Len() == 0 {
			continue
		}
		// A delta lives only until its series' next compaction: the write
		// is spared the search for its smallest form.
		data, err := chunkenc.EncodeQuick(nil, it.Points)
		if err != nil {
			return nil, fmt.Errorf("tsdb: encode: %w", err)
		}
		k := append(it.Series.prefix(), 'a', '/')
		writes = append(writes, kv.Write{Key: k, Value: data})
		series = append(series, it.Series)
		chunks = append(chunks, it.Points)
	}
	if len(writes) == 0 {
		return nil, nil
	}
	seqs := db.begin(len(writes))
	defer db.end(seqs)
	for i := range writes {
		writes[i].Key = append(binary.BigEndian.AppendUint64(writes[i].Key, seqs[i]), db.node...)
	}
	db.started.Add(1)
	defer db.ended.Add(1)
	// Cached before they commit, so no compaction can remove them first.
	vid := v.Name()
	keys := make([][]byte, len(writes))
	for i, w := range writes {
		keys[i], chunks[i] = w.Key, clone(chunks[i])
	}
	db.deltas.put(vid, keys, chunks)
	if err := v.Batch(ctx, writes); err != nil {
		db.deltas.drop(vid, keys)
		return nil, err
	}
	return series, nil
}

// Written tells the compactor that deltas of these series have committed.
// It wakes the compactor only when one of them is due, or the head has
// outgrown its bound: waking it at every write cost a goroutine switch and
// a pass over every pending series, for nothing most of the time (the
// ticks see to series that stop being written).
func (db *DB) Written(v *barrier.View, series ...Series) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return
	}
	id := v.Name()
	due := db.head.bytes.Load() > maxHeadBytes
	for _, s := range series {
		p := db.pending[dirty{id, s}]
		p.n++
		db.pending[dirty{id, s}] = p
		due = due || p.n >= db.after
	}
	if !due {
		return
	}
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// schedule asks the compactor to compact s soon.
func (db *DB) schedule(v *barrier.View, s Series) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return
	}
	d := dirty{v.Name(), s}
	p := db.pending[d]
	p.n = max(p.n, db.after)
	db.pending[d] = p
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// DeleteEntity removes every series of an entity within tx, and their
// blocks and deltas from memory.
func (db *DB) DeleteEntity(tx *barrier.Tx, v *barrier.View, entity [16]byte) error {
	db.blocks.forget(v.Name() + string(EntityPrefix(entity)))
	db.deltas.forget(v.Name(), EntityPrefix(entity))
	if err := deleteRange(tx, v, kv.Prefix(EntityPrefix(entity))); err != nil || tx.Shared() {
		return err
	}
	return db.markDeleted(tx, v, func(s Series) bool { return s.Entity == entity })
}

// DeleteSeries removes one series within tx, and its blocks and deltas
// from memory.
func (db *DB) DeleteSeries(tx *barrier.Tx, v *barrier.View, s Series) error {
	db.blocks.forget(v.Name() + string(s.prefix()))
	db.deltas.forget(v.Name(), s.prefix())
	if err := deleteRange(tx, v, kv.Prefix(s.prefix())); err != nil || tx.Shared() {
		return err
	}
	return db.markDeleted(tx, v, func(x Series) bool { return x == s })
}

func deleteRange(tx *barrier.Tx, v *barrier.View, r kv.Range) error {
	var keys [][]byte
	err := tx.Scan(v, r, func(k, _ []byte) error {
		keys = append(keys, bytes.Clone(k))
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(v, k); err != nil {
			return err
		}
	}
	return nil
}

// Query selects points of a series: From <= t < To, in ascending or
// descending time, at most Limit of them (0: no limit).
type Query struct {
	From, To int64
	Desc     bool
	Limit    int
	// Stamp is what Stamp and Check gave for the snapshot the read runs
	// in, if the caller took one; zero otherwise.
	Stamp Stamp
}

// All is the whole time axis.
const (
	MinTime int64 = math.MinInt64
	MaxTime int64 = math.MaxInt64
)

// Read returns the points of s that q selects, in q's order, as one chunk
// (Times ascending or descending as asked). more reports whether points
// beyond the limit remain.
func (db *DB) Read(tx *barrier.Tx, v *barrier.View, s Series, q Query) (c *chunkenc.Chunk, more bool, err error) {
	if q.From >= q.To {
		return nil, false, nil
	}
	var deltas *chunkenc.Chunk
	if !tx.Shared() {
		// Alone on the store: the deltas are in memory, above the floor,
		// which a read in a snapshot of the same stamp found already.
		vh, err := db.loadHead(context.Background(), v)
		if err != nil {
			return nil, false, err
		}
		d := dirty{v.Name(), s}
		var floor uint64
		known := false
		if q.Stamp != 0 {
			floor, known = db.shapes.Get(uint64(q.Stamp), d)
		}
		if !known {
			if floor, err = floorOf(tx, v, s); err != nil {
				return nil, false, err
			}
			if q.Stamp != 0 {
				db.shapes.Put(uint64(q.Stamp), d, floor)
			}
		}
		if deltas, err = db.headDeltas(vh, s, floor, q.From, q.To); err != nil {
			return nil, false, err
		}
	} else {
		var n int
		if deltas, n, err = db.readDeltas(tx, v, s, q.From, q.To); err != nil {
			return nil, false, err
		}
		if n >= db.after {
			// Deltas the compactor has not heard of (another node's, or
			// left by a restart): the read that meets them gets them
			// compacted.
			db.schedule(v, s)
		}
	}
	need := q.Limit
	if need > 0 {
		need++ // one more, to know whether more remain
	}
	blocks, covered, err := db.readBlocks(tx, v, s, q, need)
	if err != nil {
		return nil, false, err
	}
	// Deltas outside what the blocks read covered lie beyond the limit.
	if deltas != nil && covered.valid {
		deltas = deltas.Slice(max(q.From, covered.from), min(q.To, covered.to))
	}
	// So do all but their first need points in q's order: each of the
	// page's points that the deltas hold is among them (the deltas' times
	// are distinct, and every one before it comes before it in the page).
	// A series still being written has many more.
	if need > 0 && deltas.Len() > need {
		if q.Desc {
			deltas = deltas.Slice(deltas.Times[deltas.Len()-need], MaxTime)
		} else {
			deltas = deltas.Slice(MinTime, deltas.Times[need])
		}
	}
	if err := checkKind(blocks, deltas); err != nil {
		return nil, false, err
	}
	out := merge(blocks, deltas)
	if out == nil {
		return nil, false, nil
	}
	if q.Desc {
		out = reverse(out)
	}
	if q.Limit > 0 && out.Len() > q.Limit {
		out = firstN(out, q.Limit)
		more = true
	}
	return out, more, nil
}

// span is the time range [from, to) that a partial block read covered.
type span struct {
	from, to int64
	valid    bool
}

// merge joins two chunks of a series, b winning on equal times. Callers
// check kinds first (checkKind): a series holds one kind of value, since
// its name includes the kind.
func merge(a, b *chunkenc.Chunk) *chunkenc.Chunk {
	switch {
	case a == nil || a.Len() == 0:
		return b
	case b == nil || b.Len() == 0:
		return a
	}
	return chunkenc.Merge(a, b)
}

// checkKind refuses a chunk whose kind differs from what the series holds
// so far, which only a damaged store can produce.
func checkKind(acc, c *chunkenc.Chunk) error {
	if acc != nil && acc.Len() > 0 && c.Len() > 0 && acc.Kind != c.Kind {
		return fmt.Errorf("tsdb: a chunk of kind %v in a series of kind %v", c.Kind, acc.Kind)
	}
	return nil
}

// readDeltas merges every delta of s in write order, sliced to [from, to).
func (db *DB) readDeltas(tx *barrier.Tx, v *barrier.View, s Series, from, to int64) (*chunkenc.Chunk, int, error) {
	var deltas []*chunkenc.Chunk
	err := tx.ScanSealed(v, kv.Prefix(append(s.prefix(), 'a', '/')), func(k []byte, val barrier.Sealed) error {
		c, err := db.delta(v, k, val, deltas)
		deltas = append(deltas, c)
		return err
	})
	n := len(deltas)
	if err != nil || n == 0 {
		return nil, n, err
	}
	// Slice after merging: a later delta may replace a point of an earlier
	// one only inside the range, which slicing first would keep.
	return chunkenc.MergeAll(deltas).Slice(from, to), n, nil
}

// delta returns the points of the delta at key k of v, which follows
// deltas in a series: from the cache, or opened and decoded.
func (db *DB) delta(v *barrier.View, k []byte, val barrier.Sealed, deltas []*chunkenc.Chunk) (*chunkenc.Chunk, error) {
	c := db.deltas.get(v.Name(), k)
	if c == nil {
		db.opened.Add(1)
		plain, err := val.Open()
		if err != nil {
			return nil, err
		}
		if c, err = chunkenc.Decode(plain); err != nil {
			return nil, fmt.Errorf("tsdb: delta: %w", err)
		}
	}
	if len(deltas) > 0 && c.Kind != deltas[0].Kind {
		return nil, fmt.Errorf("tsdb: delta of kind %v in a series of kind %v", c.Kind, deltas[0].Kind)
	}
	return c, nil
}

// begin allocates n sequence numbers and marks them in flight.
func (db *DB) begin(n int) []uint64 {
	seqs := make([]uint64, n)
	db.mu.Lock()
	defer db.mu.Unlock()
	for i := range seqs {
		seqs[i] = db.nextSeq()
		db.inflight[seqs[i]] = struct{}{}
	}
	return seqs
}

func (db *DB) end(seqs []uint64) {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, q := range seqs {
		delete(db.inflight, q)
	}
}

// settled is a sequence number below which every delta has either
// committed or will never be written.
func (db *DB) settled() uint64 {
	db.mu.Lock()
	defer db.mu.Unlock()
	low := db.seq.Load() + 1
	for q := range db.inflight {
		low = min(low, q)
	}
	return low
}

// Each series keeps a floor, ts/<series>/f, alone on its store: the
// highest delta sequence number compacted into its blocks, or dropped by
// its deletion. Being stored, it is read from the same snapshot as the
// blocks.
func floorKey(s Series) []byte { return append(s.prefix(), 'f') }

// readBlocks reads the blocks overlapping q's range in q's direction until
// they hold need points (0: all), and returns their points in ascending
// order, in fresh memory, with the part of the range they covered when
// they stopped early.
func (db *DB) readBlocks(tx *barrier.Tx, v *barrier.View, s Series, q Query, need int) (*chunkenc.Chunk, span, error) {
	bp := append(s.prefix(), 'b', '/')
	var parts []*chunkenc.Chunk
	n := 0
	var cov span
	visit := func(key, val []byte) (stop bool, err error) {
		first, last, ok := blockSpan(key)
		if !ok {
			return false, errors.New("tsdb: malformed block key")
		}
		if !q.Desc && first >= q.To || q.Desc && last < q.From {
			return true, nil
		}
		c, err := db.blocks.decode(v.Name()+string(key), val)
		if err != nil {
			return false, fmt.Errorf("tsdb: block: %w", err)
		}
		c = c.Slice(q.From, q.To)
		if len(parts) > 0 {
			if err := checkKind(parts[0], c); err != nil {
				return false, err
			}
		}
		if want := need - n; need > 0 && c.Len() > want {
			// Only the points the page needs: the range covered ends
			// at the last one taken.
			if q.Desc {
				c = c.Slice(c.Times[c.Len()-want], MaxTime)
				cov = span{from: c.Times[0], to: q.To, valid: true}
			} else {
				c = c.Slice(c.Times[0], c.Times[want])
				cov = span{from: q.From, to: c.Times[want-1] + 1, valid: true}
			}
			parts = append(parts, c)
			return true, nil
		}
		parts = append(parts, c)
		n += c.Len()
		if need > 0 && n >= need {
			if q.Desc {
				cov = span{from: first, to: q.To, valid: true}
			} else {
				cov = span{from: q.From, to: last + 1, valid: true}
			}
			return true, nil
		}
		return false, nil
	}
	scan := func(r kv.Range) error {
		stopped := false
		err := tx.Scan(v, r, func(k, val []byte) error {
			stop, err := visit(k, val)
			if err != nil {
				return err
			}
			if stop {
				stopped = true
				return kv.Stop
			}
			return nil
		})
		if err == nil && stopped {
			return kv.Stop
		}
		return err
	}
	end := kv.PrefixEnd(bp)
	var err error
	if !q.Desc {
		// Blocks sort by their last time: the first with last >= From is
		// the first that overlaps.
		err = scan(kv.Range{Start: timeKey(bp, q.From), End: end})
	} else {
		// The block holding To (last >= To, first < To) comes first, then
		// the blocks that end before To, newest first.
		err = scan(kv.Range{Start: timeKey(bp, q.To), End: end, Limit: 1})
		if err == nil {
			err = scan(kv.Range{Start: bp, End: timeKey(bp, q.To), Reverse: true})
		}
	}
	if err != nil && !errors.Is(err, kv.Stop) {
		return nil, span{}, err
	}
	if q.Desc {
		slices.Reverse(parts) // blocks do not overlap: in time order, they join without merging
	}
	// Fresh memory: the parts are the cache's.
	return chunkenc.MergeAll(parts), cov, nil
}

func timeKey(prefix []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(bytes.Clone(prefix), sortable(t))
}

// reverse returns c with its points in descending time.
func reverse(c *chunkenc.Chunk) *chunkenc.Chunk {
	out := &chunkenc.Chunk{Kind: c.Kind, Times: make([]int64, c.Len())}
	n := c.Len()
	for i, t := range c.Times {
		out.Times[n-1-i] = t
	}
	switch c.Kind {
	case chunkenc.KindDouble:
		out.Doubles = make([]float64, n)
		for i, x := range c.Doubles {
			out.Doubles[n-1-i] = x
		}
	case chunkenc.KindInt:
		out.Ints = make([]int64, n)
		for i, x := range c.Ints {
			out.Ints[n-1-i] = x
		}
	case chunkenc.KindBool:
		out.Bools = make([]bool, n)
		for i, x := range c.Bools {
			out.Bools[n-1-i] = x
		}
	default:
		out.Strings = make([]string, n)
		for i, x := range c.Strings {
			out.Strings[n-1-i] = x
		}
	}
	return out
}

// firstN returns the first n points of c.
func firstN(c *chunkenc.Chunk, n int) *chunkenc.Chunk {
	out := &chunkenc.Chunk{Kind: c.Kind, Times: c.Times[:n]}
	switch c.Kind {
	case chunkenc.KindDouble:
		out.Doubles = c.Doubles[:n]
	case chunkenc.KindInt:
		out.Ints = c.Ints[:n]
	case chunkenc.KindBool:
		out.Bools = c.Bools[:n]
	default:
		out.Strings = c.Strings[:n]
	}
	return out
}

// compactor merges the deltas of series written to, in the background.
// A series is compacted when it has db.after deltas, or once a tick
// passes without a write to it.
func (db *DB) compactor() {
	defer close(db.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ticks := 1; ; {
		ticked := false
		select {
		case <-db.stop:
			return
		case <-db.wake:
		case <-tick.C:
			ticked = true
			if ticks++; ticks%deltaLifetime == 0 {
				db.deltas.age()
			}
			db.tidyViews(context.Background())
		}
		for _, d := range db.due(ticked) {
			select {
			case <-db.stop:
				return
			default:
			}
			if err := db.compact(context.Background(), d); err != nil {
				db.log.Warn("tsdb: compaction failed; the deltas stay readable, and it is tried again", "err", err)
				db.reschedule(d)
			}
		}
	}
}

// due takes the series to compact now out of the pending set: those with
// db.after deltas and, at a tick, those not written to since the last
// one. A series still being written to waits for its db.after deltas,
// however many ticks pass: compacting it at every tick would rewrite its
// newest block more often for no gain.
func (db *DB) due(tick bool) []dirty {
	// A head grown past its bound is emptied.
	full := db.head.bytes.Load() > maxHeadBytes
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []dirty
	for d, p := range db.pending {
		if full || p.n >= db.after || tick && p.n == p.atTick {
			out = append(out, d)
			delete(db.pending, d)
		} else if tick {
			p.atTick = p.n
			db.pending[d] = p
		}
	}
	return out
}

// Compact merges every delta of a series into its blocks now, for tests
// and tools that need the compacted form. It returns when no delta is left
// (writes that go on meanwhile can keep it busy).
func (db *DB) Compact(ctx context.Context, v *barrier.View, s Series) error {
	for {
		more, err := db.compactOnce(ctx, dirty{v.Name(), s})
		if err != nil || !more {
			return err
		}
	}
}

func (db *DB) compact(ctx context.Context, d dirty) error {
	_, err := db.compactOnce(ctx, d)
	return err
}

// compactOnce merges a series' deltas into its blocks. The work — reading,
// decoding, merging, encoding — runs over a snapshot without holding up
// writers; only the swap of old chunks for new ones is a transaction.
func (db *DB) compactOnce(ctx context.Context, d dirty) (found bool, err error) {
	if !db.b.Shared() {
		return db.compactHead(ctx, d)
	}
	var p *plan
	cacheGen := db.blocks.generation()
	err = db.b.Read(ctx, func(tx *barrier.Tx) error {
		v, err := tx.View([]byte(d.view))
		if errors.Is(err, barrier.ErrNoView) {
			return nil // the workspace is gone
		}
		if err != nil {
			return err
		}
		p, err = db.planCompaction(tx, v, d.series)
		return err
	})
	if err != nil || p == nil {
		return false, err
	}
	db.started.Add(1)
	defer db.ended.Add(1)
	wrote := false
	err = db.b.Update(ctx, func(tx *barrier.Tx) error {
		wrote = false
		v, err := tx.View([]byte(d.view))
		if errors.Is(err, barrier.ErrNoView) {
			return nil
		}
		if err != nil {
			return err
		}
		// Only compactions remove deltas and blocks, and deleting a series
		// removes them all: if one the plan replaces is gone, so is the
		// series, or another compaction (another node's) did the work. The
		// reads also make a concurrent one conflict with this one.
		for _, k := range p.oldKeys {
			if _, err := tx.Get(v, k); err != nil {
				if errors.Is(err, kv.ErrNotFound) {
					return nil
				}
				return err
			}
		}
		if err := p.apply(tx, v); err != nil {
			return err
		}
		wrote = true
		return nil
	})
	if err == nil && wrote {
		// The blocks replaced leave the cache. The series' next compaction
		// extends the newest block, and reads of recent points meet it:
		// both find it decoded (the cache checks the stored bytes, so it
		// can serve nothing stale). A block split off a larger merge
		// shares that merge's memory, and is left out; so is any block
		// once a deletion has come since the plan began.
		for _, k := range p.oldKeys[:len(p.oldKeys)-len(p.deltaKeys)] {
			db.blocks.drop(d.view + string(k))
		}
		db.deltas.drop(d.view, p.deltaKeys)
		if len(p.blocks) == 1 {
			w := p.blocks[0]
			db.blocks.put(d.view+string(w.Key), w.Value, p.last, cacheGen)
		}
	}
	return true, err
}

// plan is a compaction worked out on a snapshot: the chunks it replaces
// and the blocks that replace them.
type plan struct {
	deltaKeys [][]byte
	oldKeys   [][]byte // deltas and blocks to delete
	blocks    []kv.Write
	last      *chunkenc.Chunk // what blocks[len(blocks)-1] holds
}

// apply swaps, within tx, the chunks p replaces for its blocks.
func (p *plan) apply(tx *barrier.Tx, v *barrier.View) error {
	for _, k := range p.oldKeys {
		if err := tx.Delete(v, k); err != nil {
			return err
		}
	}
	for _, w := range p.blocks {
		if err := tx.Set(v, w.Key, w.Value); err != nil {
			return err
		}
	}
	return nil
}

// planCompaction works out the compaction of s's deltas (over a shared
// store) in a snapshot. The blocks it meets are taken from the block cache, which
// holds the newest block as the last compaction wrote it, and not added to
// it: the compaction replaces them.
func (db *DB) planCompaction(tx *barrier.Tx, v *barrier.View, s Series) (*plan, error) {
	p := &plan{}
	var parts []*chunkenc.Chunk
	err := tx.ScanSealed(v, kv.Prefix(append(s.prefix(), 'a', '/')), func(k []byte, val barrier.Sealed) error {
		c, err := db.delta(v, k, val, parts)
		if err != nil {
			return err
		}
		p.deltaKeys = append(p.deltaKeys, bytes.Clone(k))
		parts = append(parts, c)
		return nil
	})
	if err != nil || len(parts) == 0 {
		return nil, err
	}
	return p, db.planMerge(tx, v, s, p, chunkenc.MergeAll(parts))
}

// planMerge completes p with the blocks that merging deltas, the points
// the compaction takes in (nil: none), into s's blocks makes.
func (db *DB) planMerge(tx *barrier.Tx, v *barrier.View, s Series, p *plan, deltas *chunkenc.Chunk) error {
	if deltas == nil {
		return nil
	}
	vid := v.Name()
	first, last := deltas.Times[0], deltas.Times[deltas.Len()-1]
	bp := append(s.prefix(), 'b', '/')
	var blocks *chunkenc.Chunk
	take := func(k, val []byte) error {
		c, err := db.blocks.lookup(vid+string(k), val)
		if err != nil {
			return fmt.Errorf("tsdb: block: %w", err)
		}
		if err := checkKind(blocks, c); err != nil {
			return err
		}
		p.oldKeys = append(p.oldKeys, bytes.Clone(k))
		blocks = merge(blocks, c)
		return nil
	}
	// Deltas extend the newest block before them until it is full.
	extend := func(k, val []byte) error {
		c, err := db.blocks.lookup(vid+string(k), val)
		if err != nil {
			return fmt.Errorf("tsdb: block: %w", err)
		}
		if c.Len() < BlockPoints {
			p.oldKeys = append(p.oldKeys, bytes.Clone(k))
			blocks = c
		}
		return nil
	}
	// Appends in time order, the usual case, meet only the newest block.
	newest, appended := false, false
	err := tx.Scan(v, kv.Range{Start: bp, End: kv.PrefixEnd(bp), Reverse: true, Limit: 1}, func(k, val []byte) error {
		_, l, ok := blockSpan(k)
		if !ok {
			return errors.New("tsdb: malformed block key")
		}
		newest, appended = true, l < first
		if appended {
			return extend(k, val)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if newest && !appended {
		// Blocks the deltas overlap are rewritten with them.
		err = tx.Scan(v, kv.Range{Start: timeKey(bp, first), End: kv.PrefixEnd(bp)}, func(k, val []byte) error {
			f, _, ok := blockSpan(k)
			if !ok {
				return errors.New("tsdb: malformed block key")
			}
			if f > last {
				return kv.Stop
			}
			return take(k, val)
		})
		if err == nil && len(p.oldKeys) == 0 {
			// None: the deltas fall between two blocks.
			err = tx.Scan(v, kv.Range{Start: bp, End: timeKey(bp, first), Reverse: true, Limit: 1}, extend)
		}
		if err != nil {
			return err
		}
	}
	if blocks != nil && blocks.Kind != deltas.Kind {
		return fmt.Errorf("tsdb: deltas of kind %v over blocks of kind %v", deltas.Kind, blocks.Kind)
	}
	all := merge(blocks, deltas) // deltas win on equal times
	p.oldKeys = append(p.oldKeys, p.deltaKeys...)
	for _, c := range chunkenc.Split(all, BlockPoints) {
		data, err := chunkenc.Encode(nil, c)
		if err != nil {
			return fmt.Errorf("tsdb: encode: %w", err)
		}
		p.blocks = append(p.blocks, kv.Write{Key: blockKey(s, c), Value: data})
		p.last = c
	}
	return nil
}

// A Stamp names the state of a DB between two writes (or compactions): a
// snapshot taken while it holds sees every write that ended before it and
// none that began after. Zero names nothing. Reads in snapshots of one
// stamp see the same deltas and floors, so what one found, the others
// need not read again (see Query.Stamp).
type Stamp uint64

// Stamp returns the stamp of the DB's state now, to be taken before a
// snapshot and confirmed by Check once it is taken; zero while a write is
// under way, or when other nodes write to the store.
func (db *DB) Stamp() Stamp {
	e := db.ended.Load()
	if db.b.Shared() || db.started.Load() != e {
		return 0
	}
	return Stamp(e + 1)
}

// Changing counts a change to series made outside Write and the
// compactor (a catalog transaction that deletes series, after which one
// may be made again under the same name) as a write: stamps taken while it
// runs are zero, and the next one is new. Call done once it has ended,
// committed or not.
func (db *DB) Changing() (done func()) {
	db.started.Add(1)
	return func() { db.ended.Add(1) }
}

// Check returns st if no write began since Stamp gave it, so a snapshot
// taken between the two holds exactly st's state; zero otherwise.
func (db *DB) Check(st Stamp) Stamp {
	if st == 0 || db.started.Load() != uint64(st)-1 {
		return 0
	}
	return st
}

// shapeCache keeps the floors reads found in snapshots of the newest stamp
// seen, keyed by the stamp (never zero: Read asks only with one).
type shapeCache = genmap.Map[dirty, uint64]

// maxShapes bounds the series a shapeCache holds; past it, reads of other
// series read their floors as before.
const maxShapes = 1 << 16
