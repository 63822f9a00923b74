package tsdb

import (
	"bytes"
	"container/list"
	"strings"
	"sync"

	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// blockCache keeps recently read blocks decoded. A client paging through
// history reads each block once per page (a 1,024-point block holds 41
// default pages), and decoding it is most of what a page costs the store.
// An entry serves a read only while the block's stored bytes are the same
// as when it was decoded, so it is never stale: a compaction that rewrites
// a block under the same key changes its bytes. Cached chunks are shared
// and never modified; readers copy what they return.
type blockCache struct {
	mu    sync.Mutex
	max   int // bytes
	size  int
	items map[string]*list.Element
	lru   list.List // front: most recently used
	// forgets counts forget's calls: a block decoded before a deletion
	// is not put in after it.
	forgets uint64
}

type cachedBlock struct {
	key  string
	raw  []byte // the stored (decrypted) bytes it was decoded from
	c    *chunkenc.Chunk
	size int
}

// defaultBlockCache bounds the memory the decoded blocks take: a few
// thousand blocks.
const defaultBlockCache = 32 << 20

func newBlockCache(max int) *blockCache {
	return &blockCache{max: max, items: map[string]*list.Element{}}
}

// decode returns raw decoded, from the cache when it holds the block at key
// decoded from the same bytes.
func (bc *blockCache) decode(key string, raw []byte) (*chunkenc.Chunk, error) {
	bc.mu.Lock()
	if e, ok := bc.items[key]; ok {
		cb := e.Value.(*cachedBlock)
		if bytes.Equal(cb.raw, raw) {
			bc.lru.MoveToFront(e)
			bc.mu.Unlock()
			return cb.c, nil
		}
	}
	bc.mu.Unlock()
	c, err := chunkenc.Decode(raw)
	if err != nil {
		return nil, err
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.insert(key, bytes.Clone(raw), c)
	return c, nil
}

// lookup is decode without keeping what it decodes: for a compaction,
// which replaces the blocks it reads.
func (bc *blockCache) lookup(key string, raw []byte) (*chunkenc.Chunk, error) {
	bc.mu.Lock()
	if e, ok := bc.items[key]; ok {
		if cb := e.Value.(*cachedBlock); bytes.Equal(cb.raw, raw) {
			bc.mu.Unlock()
			return cb.c, nil
		}
	}
	bc.mu.Unlock()
	return chunkenc.Decode(raw)
}

// generation is what put checks: it changes with every forget.
func (bc *blockCache) generation() uint64 {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return bc.forgets
}

// put keeps c as the block at key decoded from raw, which it takes, unless
// a forget came since generation gave gen.
func (bc *blockCache) put(key string, raw []byte, c *chunkenc.Chunk, gen uint64) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.forgets != gen {
		return
	}
	bc.insert(key, raw, c)
}

// insert keeps c as the block at key, with bc.mu held.
func (bc *blockCache) insert(key string, raw []byte, c *chunkenc.Chunk) {
	cb := &cachedBlock{key: key, raw: raw, c: c, size: len(key) + cap(raw) + chunkSize(c)}
	if cb.size > bc.max {
		return
	}
	if e, ok := bc.items[key]; ok {
		bc.remove(e)
	}
	bc.items[key] = bc.lru.PushFront(cb)
	bc.size += cb.size
	for bc.size > bc.max {
		bc.remove(bc.lru.Back())
	}
}

// forget drops the blocks whose keys start with prefix: the values of a
// deleted series do not stay in memory until they age out.
func (bc *blockCache) forget(prefix string) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.forgets++
	for k, e := range bc.items {
		if strings.HasPrefix(k, prefix) {
			bc.remove(e)
		}
	}
}

// drop removes the block at key, if held.
func (bc *blockCache) drop(key string) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if e, ok := bc.items[key]; ok {
		bc.remove(e)
	}
}

func (bc *blockCache) remove(e *list.Element) {
	cb := bc.lru.Remove(e).(*cachedBlock)
	delete(bc.items, cb.key)
	bc.size -= cb.size
}

// chunkSize approximates the memory c's columns take.
func chunkSize(c *chunkenc.Chunk) int {
	n := 8*len(c.Times) + 8*len(c.Doubles) + 8*len(c.Ints) + len(c.Bools)
	for _, s := range c.Strings {
		n += 16 + len(s)
	}
	return n
}
