package tsdb

import (
	"bytes"
	"strings"
	"sync"

	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// deltaCache keeps the points of the deltas this DB wrote, until their
// compaction: the compactor, and reads of series still being written,
// meet every delta again, and opening and decoding them cost as much as
// the rest of the compaction. A delta's key is never given a second value
// (its sequence number is never drawn again, and over a shared store it
// ends with the node's own suffix), so what the cache holds for a key is
// what the store holds under it, for as long as the key is there.
//
// A compaction that removes deltas takes them out. Those it cannot know
// of (another node's compaction of the same series, a workspace deleted)
// age out: the cache keeps two generations, and every deltaLifetime the
// older one goes. A delta lives until its series' next compaction: a
// series written at least once a tick is compacted after compactAfter
// deltas, which may take compactAfter ticks, so a generation outlasts
// that; one read after a delta left the cache is opened and decoded.
// Chunks are shared and must not be modified.
type deltaCache struct {
	mu       sync.Mutex
	cur, old deltaGen
}

type deltaGen struct {
	views map[string]map[seriesKey]deltaRun // view ID → series → its deltas
	bytes int
}

// A delta key, as the cache splits it: its series' part, "ts/", entity,
// property, "/a/", and its own, a sequence number followed, over a shared
// store, by the node's suffix.
type (
	seriesKey [seriesKeyLen]byte
	deltaID   struct {
		n uint8
		b [16]byte
	}
)

const seriesKeyLen = len(seriesPrefix) + 32 + len("/a/")

// deltaRun holds the cached deltas of one series. The cache keeps one per
// series, not one map of every delta: a compaction takes out 128 deltas
// and the writes put as many back, and in one large map the slots they
// leave (tombstones, until the map is rebuilt) made every lookup probe
// far; that took a quarter of the compactor's time.
type deltaRun map[deltaID]*chunkenc.Chunk

// splitKey splits a delta key; false if k is not shaped like one, which
// the cache then neither holds nor finds.
func splitKey(k []byte) (s seriesKey, d deltaID, ok bool) {
	if len(k) < seriesKeyLen || len(k) > seriesKeyLen+len(d.b) {
		return s, d, false
	}
	copy(s[:], k)
	d.n = uint8(copy(d.b[:], k[seriesKeyLen:]))
	return s, d, true
}

// maxDeltaBytes bounds the memory the cache holds: the pending deltas of
// some 1,500 series of doubles written at full rate.
const maxDeltaBytes = 32 << 20

// deltaLifetime is how many compactor ticks a generation lasts: longer
// than a series written once a tick (a sensor at 1 Hz) takes to collect
// compactAfter deltas, so its deltas are still here when it is compacted.
const deltaLifetime = 2 * compactAfter

// put caches the points of deltas a batch writes: chunks[i] under
// keys[i]. A key is never put twice (see deltaCache).
func (c *deltaCache) put(view string, keys [][]byte, chunks []*chunkenc.Chunk) {
	n := 0
	for _, ch := range chunks {
		n += chunkBytes(ch)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur.bytes+c.old.bytes+n > maxDeltaBytes {
		// A crude bound: start over.
		c.cur, c.old = deltaGen{}, deltaGen{}
	}
	if c.cur.views == nil {
		c.cur.views = map[string]map[seriesKey]deltaRun{}
	}
	m := c.cur.views[view]
	if m == nil {
		m = map[seriesKey]deltaRun{}
		c.cur.views[view] = m
	}
	for i, k := range keys {
		s, d, ok := splitKey(k)
		if !ok {
			continue
		}
		run := m[s]
		if run == nil {
			run = deltaRun{}
			m[s] = run
		}
		run[d] = chunks[i]
		c.cur.bytes += chunkBytes(chunks[i])
	}
}

// get returns the points of the delta at key, or nil when the cache does
// not hold them.
func (c *deltaCache) get(view string, key []byte) *chunkenc.Chunk {
	s, d, ok := splitKey(key)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.cur.views[view][s][d]; ch != nil {
		return ch
	}
	return c.old.views[view][s][d]
}

// drop takes deltas out: a compaction removed them, or a write of them
// failed.
func (c *deltaCache) drop(view string, keys [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range []*deltaGen{&c.cur, &c.old} {
		m := g.views[view]
		if m == nil {
			continue
		}
		var (
			s    seriesKey
			run  deltaRun
			gone int
		)
		for _, k := range keys {
			ks, d, ok := splitKey(k)
			if !ok {
				continue
			}
			if run == nil || ks != s {
				g.settle(m, s, run, gone)
				s, run, gone = ks, m[ks], 0
			}
			if ch := run[d]; ch != nil {
				g.bytes -= chunkBytes(ch)
				delete(run, d)
				gone++
			}
		}
		g.settle(m, s, run, gone)
		if len(m) == 0 {
			delete(g.views, view)
		}
	}
}

// settle tidies the run of series s in m after gone of its deltas were
// taken out: an empty run goes; one that lost many is copied afresh,
// without the slots they left.
func (g *deltaGen) settle(m map[seriesKey]deltaRun, s seriesKey, run deltaRun, gone int) {
	switch {
	case run == nil:
	case len(run) == 0:
		delete(m, s)
	case gone >= 32:
		fresh := make(deltaRun, len(run))
		for d, ch := range run {
			fresh[d] = ch
		}
		m[s] = fresh
	}
}

// forget takes out the deltas of a view whose keys start with prefix, a
// series' or an entity's.
func (c *deltaCache) forget(view string, prefix []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range []*deltaGen{&c.cur, &c.old} {
		m := g.views[view]
		for s, run := range m {
			if !bytes.HasPrefix(s[:], prefix) && !bytes.HasPrefix(prefix, s[:]) {
				continue
			}
			for d, ch := range run {
				if bytes.HasPrefix(append(s[:], d.b[:d.n]...), prefix) {
					g.bytes -= chunkBytes(ch)
					delete(run, d)
				}
			}
			if len(run) == 0 {
				delete(m, s)
			}
		}
		if m != nil && len(m) == 0 {
			delete(g.views, view)
		}
	}
}

// age starts a new generation, letting the older one go.
func (c *deltaCache) age() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.old, c.cur = c.cur, deltaGen{}
}

// chunkBytes is about the memory c's columns take.
func chunkBytes(c *chunkenc.Chunk) int {
	n := 8*len(c.Times) + 8*len(c.Doubles) + 8*len(c.Ints) + len(c.Bools)
	for _, s := range c.Strings {
		n += 16 + len(s)
	}
	return n
}

// clone copies c, strings included: the cache's copy holds no memory of
// the request the points came in.
func clone(c *chunkenc.Chunk) *chunkenc.Chunk {
	out := &chunkenc.Chunk{Kind: c.Kind, Times: append([]int64(nil), c.Times...)}
	switch c.Kind {
	case chunkenc.KindDouble:
		out.Doubles = append([]float64(nil), c.Doubles...)
	case chunkenc.KindInt:
		out.Ints = append([]int64(nil), c.Ints...)
	case chunkenc.KindBool:
		out.Bools = append([]bool(nil), c.Bools...)
	default:
		out.Strings = make([]string, len(c.Strings))
		for i, s := range c.Strings {
			out.Strings[i] = strings.Clone(s)
		}
	}
	return out
}
