package tsdb

import (
	"sync"

	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// deltaCache keeps the points of the deltas this DB wrote, until their
// compaction: the compactor, and reads of series still being written,
// meet every delta again, and opening and decoding them cost as much as
// the rest of the compaction. A delta's key is never written twice (its
// sequence number is never drawn again, and over a shared store it ends
// with the node's own suffix), so what the cache holds for a key is what
// the store holds under it, for as long as the key is there. Chunks are
// shared and must not be modified.
type deltaCache struct {
	mu     sync.Mutex
	views  map[string]map[string]*chunkenc.Chunk // view ID → delta key → points
	points int
}

// maxDeltaPoints bounds the points the cache holds: about 16 MiB of
// doubles, the pending deltas of some 3,000 series written at full rate.
const maxDeltaPoints = 1 << 20

func (c *deltaCache) put(view string, key []byte, ch *chunkenc.Chunk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.views == nil || c.points+ch.Len() > maxDeltaPoints {
		// A crude bound: start over. Deltas compacted leave the cache;
		// only those of series deleted or compactions failed linger.
		c.views, c.points = map[string]map[string]*chunkenc.Chunk{}, 0
	}
	m := c.views[view]
	if m == nil {
		m = map[string]*chunkenc.Chunk{}
		c.views[view] = m
	}
	if old := m[string(key)]; old != nil {
		c.points -= old.Len()
	}
	m[string(key)] = ch
	c.points += ch.Len()
}

// get returns the points of the delta at key, or nil when the cache does
// not hold them.
func (c *deltaCache) get(view string, key []byte) *chunkenc.Chunk {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.views[view][string(key)]
}

// drop takes deltas out, once a compaction removed them.
func (c *deltaCache) drop(view string, keys [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.views[view]
	for _, k := range keys {
		if ch := m[string(k)]; ch != nil {
			c.points -= ch.Len()
			delete(m, string(k))
		}
	}
}

// forget takes out the deltas of a view whose keys start with prefix.
func (c *deltaCache) forget(view string, prefix []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.views[view]
	for k, ch := range m {
		if len(k) >= len(prefix) && k[:len(prefix)] == string(prefix) {
			c.points -= ch.Len()
			delete(m, k)
		}
	}
}

// clone copies c's columns, so the cache's copy is its own.
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
		out.Strings = append([]string(nil), c.Strings...)
	}
	return out
}
