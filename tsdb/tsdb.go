// Package tsdb stores time series of property values through the barrier,
// so every chunk is sealed like any other value.
//
// A series holds the points of one property of one entity's component.
// Writes append small "delta" chunks, one per series per write, in the
// writer's transaction; a background compactor merges a series' deltas into
// "blocks" of up to BlockPoints points, sorted and non-overlapping. Reads
// merge the blocks that cover the asked range with the few deltas not yet
// compacted, the newer write winning on equal timestamps. Every write and
// every compaction is one transaction, so a reader never sees half of
// either, and an acknowledged write is durable before it is acknowledged.
//
// Key layout, inside a workspace's view (entity and property are blind
// indexes, so no key shows a name):
//
//	ts/<entity 16><prop 16>/a/<seq 8>               delta chunk, seq increasing
//	ts/<entity 16><prop 16>/b/<last 8><first 8>     block chunk; times big-endian
//	                                                 with the sign bit flipped
package tsdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// BlockPoints is the most points a compacted block holds: large enough
// that the per-chunk overhead (header, nonce, tag, key) costs a fraction
// of a byte per point, small enough that a page read decodes little.
const BlockPoints = 1024

// compactAfter is how many deltas a series collects before the compactor
// merges them; reads merge at most a few more than this.
const compactAfter = 8

// Series names one series: an entity (one incarnation of it) and one
// property of one of its components, both as blind indexes of the view.
type Series struct {
	Entity [16]byte
	Prop   [16]byte
}

func (s Series) prefix() []byte {
	k := make([]byte, 0, 3+32+12)
	k = append(k, "ts/"...)
	k = append(k, s.Entity[:]...)
	k = append(k, s.Prop[:]...)
	return append(k, '/')
}

// EntityPrefix is the key prefix of every series of an entity.
func EntityPrefix(entity [16]byte) []byte {
	return append([]byte("ts/"), entity[:]...)
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

	mu      sync.Mutex
	pending map[dirty]int // deltas written per series since its last compaction
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	closed  bool
}

type dirty struct {
	view   string // view id
	series Series
}

// Open returns a DB over b and starts its compactor.
func Open(b *barrier.Barrier, log *slog.Logger) *DB {
	if log == nil {
		log = slog.Default()
	}
	db := &DB{b: b, log: log, pending: map[dirty]int{}, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	// Sequence numbers only order a series' deltas; starting from the clock
	// keeps them increasing across restarts without a stored counter.
	db.seq.Store(uint64(time.Now().UnixNano()))
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

// Append adds the points of c to series s within tx; c must be sorted with
// unique times. Points at times the series already has replace them.
func (db *DB) Append(tx *barrier.Tx, v *barrier.View, s Series, c *chunkenc.Chunk) error {
	if c.Len() == 0 {
		return nil
	}
	data, err := chunkenc.Encode(nil, c)
	if err != nil {
		return fmt.Errorf("tsdb: encode: %w", err)
	}
	k := append(s.prefix(), 'a', '/')
	k = binary.BigEndian.AppendUint64(k, db.nextSeq())
	return tx.Set(v, k, data)
}

// Written tells the compactor that Append calls for these series have
// committed.
func (db *DB) Written(v *barrier.View, series ...Series) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return
	}
	id := string(v.ID())
	for _, s := range series {
		db.pending[dirty{id, s}]++
	}
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// DeleteEntity removes every series of an entity within tx.
func (db *DB) DeleteEntity(tx *barrier.Tx, v *barrier.View, entity [16]byte) error {
	return deleteRange(tx, v, kv.Prefix(EntityPrefix(entity)))
}

// DeleteSeries removes one series within tx.
func (db *DB) DeleteSeries(tx *barrier.Tx, v *barrier.View, s Series) error {
	return deleteRange(tx, v, kv.Prefix(s.prefix()))
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
	deltas, err := readDeltas(tx, v, s, q.From, q.To)
	if err != nil {
		return nil, false, err
	}
	need := q.Limit
	if need > 0 {
		need++ // one more, to know whether more remain
	}
	blocks, covered, err := readBlocks(tx, v, s, q, need)
	if err != nil {
		return nil, false, err
	}
	// Deltas outside what the blocks read covered lie beyond the limit.
	if deltas != nil && covered.valid {
		deltas = deltas.Slice(max(q.From, covered.from), min(q.To, covered.to))
	}
	out := merge(blocks, deltas)
	if out == nil {
		return nil, false, nil
	}
	if q.Desc {
		out = reverse(out)
	}
	if q.Limit > 0 && out.Len() > q.Limit {
		out = head(out, q.Limit)
		more = true
	}
	return out, more, nil
}

// span is the time range [from, to) that a partial block read covered.
type span struct {
	from, to int64
	valid    bool
}

func merge(a, b *chunkenc.Chunk) *chunkenc.Chunk {
	switch {
	case a == nil || a.Len() == 0:
		return b
	case b == nil || b.Len() == 0:
		return a
	}
	return chunkenc.Merge(a, b)
}

// readDeltas merges every delta of s in write order, sliced to [from, to).
func readDeltas(tx *barrier.Tx, v *barrier.View, s Series, from, to int64) (*chunkenc.Chunk, error) {
	var acc *chunkenc.Chunk
	err := tx.Scan(v, kv.Prefix(append(s.prefix(), 'a', '/')), func(_, val []byte) error {
		c, err := chunkenc.Decode(val)
		if err != nil {
			return fmt.Errorf("tsdb: delta: %w", err)
		}
		if acc != nil && acc.Kind != c.Kind {
			return fmt.Errorf("tsdb: delta of kind %v in a series of kind %v", c.Kind, acc.Kind)
		}
		acc = merge(acc, c)
		return nil
	})
	if err != nil || acc == nil {
		return nil, err
	}
	// Slice after merging: a later delta may replace a point of an earlier
	// one only inside the range, which slicing first would keep.
	return acc.Slice(from, to), nil
}

// readBlocks reads the blocks overlapping q's range in q's direction until
// they hold need points (0: all), and returns their points in ascending
// order with the part of the range they covered when they stopped early.
func readBlocks(tx *barrier.Tx, v *barrier.View, s Series, q Query, need int) (*chunkenc.Chunk, span, error) {
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
		c, err := chunkenc.Decode(val)
		if err != nil {
			return false, fmt.Errorf("tsdb: block: %w", err)
		}
		c = c.Slice(q.From, q.To)
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
	var out *chunkenc.Chunk
	for _, p := range parts {
		out = merge(out, p)
	}
	return out, cov, nil
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

// head returns the first n points of c.
func head(c *chunkenc.Chunk, n int) *chunkenc.Chunk {
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
// Series with many deltas go first; the others when writes pause.
func (db *DB) compactor() {
	defer close(db.done)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		idle := false
		select {
		case <-db.stop:
			return
		case <-db.wake:
		case <-tick.C:
			idle = true
		}
		for _, d := range db.due(idle) {
			select {
			case <-db.stop:
				return
			default:
			}
			if err := db.compact(context.Background(), d); err != nil {
				db.log.Warn("tsdb: compaction failed; the deltas stay readable", "err", err)
			}
		}
	}
}

// due takes the series to compact now out of the pending set: those with
// compactAfter deltas, or all of them when idle.
func (db *DB) due(all bool) []dirty {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []dirty
	for d, n := range db.pending {
		if all || n >= compactAfter {
			out = append(out, d)
			delete(db.pending, d)
		}
	}
	return out
}

// Compact merges every delta of a series into its blocks now; for tests
// and tools that need the compacted form.
func (db *DB) Compact(ctx context.Context, v *barrier.View, s Series) error {
	return db.compact(ctx, dirty{string(v.ID()), s})
}

func (db *DB) compact(ctx context.Context, d dirty) error {
	return db.b.Update(ctx, func(tx *barrier.Tx) error {
		v, err := tx.View([]byte(d.view))
		if errors.Is(err, barrier.ErrNoView) {
			return nil // the workspace is gone
		}
		if err != nil {
			return err
		}
		s := d.series
		dp := append(s.prefix(), 'a', '/')
		var deltaKeys [][]byte
		var deltas *chunkenc.Chunk
		err = tx.Scan(v, kv.Prefix(dp), func(k, val []byte) error {
			c, err := chunkenc.Decode(val)
			if err != nil {
				return fmt.Errorf("tsdb: delta: %w", err)
			}
			deltaKeys = append(deltaKeys, bytes.Clone(k))
			deltas = merge(deltas, c)
			return nil
		})
		if err != nil || deltas == nil {
			return err
		}
		first, last := deltas.Times[0], deltas.Times[deltas.Len()-1]
		bp := append(s.prefix(), 'b', '/')
		var oldKeys [][]byte
		var blocks *chunkenc.Chunk
		take := func(k, val []byte) error {
			c, err := chunkenc.Decode(val)
			if err != nil {
				return fmt.Errorf("tsdb: block: %w", err)
			}
			oldKeys = append(oldKeys, bytes.Clone(k))
			blocks = merge(blocks, c)
			return nil
		}
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
		if err != nil {
			return err
		}
		// Appends in time order extend the newest block until it is full.
		if len(oldKeys) == 0 {
			err = tx.Scan(v, kv.Range{Start: bp, End: timeKey(bp, first), Reverse: true, Limit: 1}, func(k, val []byte) error {
				c, err := chunkenc.Decode(val)
				if err != nil {
					return fmt.Errorf("tsdb: block: %w", err)
				}
				if c.Len() < BlockPoints {
					oldKeys = append(oldKeys, bytes.Clone(k))
					blocks = c
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if blocks != nil && blocks.Kind != deltas.Kind {
			return fmt.Errorf("tsdb: deltas of kind %v over blocks of kind %v", deltas.Kind, blocks.Kind)
		}
		all := merge(blocks, deltas) // deltas win on equal times
		for _, k := range append(oldKeys, deltaKeys...) {
			if err := tx.Delete(v, k); err != nil {
				return err
			}
		}
		for _, c := range chunkenc.Split(all, BlockPoints) {
			data, err := chunkenc.Encode(nil, c)
			if err != nil {
				return fmt.Errorf("tsdb: encode: %w", err)
			}
			if err := tx.Set(v, blockKey(s, c), data); err != nil {
				return err
			}
		}
		return nil
	})
}
