package catalog

import (
	"bytes"
	"strings"
	"sync"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/internal/genmap"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/tsdb"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// recordCache keeps decoded records for the data plane, which reads the
// same entities and component types over and over. A record is reused only
// while its stored bytes are unchanged, so the cache never serves a stale
// record; what it saves is decoding. Cached records are shared and must not
// be modified.
type recordCache[T any] struct {
	mu sync.Mutex
	m  map[string]cachedRecord[T]
}

type cachedRecord[T any] struct {
	raw []byte
	x   *T
	gen uint64 // the catalog generation it is known current at; 0: none
}

const recordCacheSize = 4096

// loadAt reads the record at k in v, or returns nil when there is none,
// for a reader whose snapshot came after it read catalog generation gen
// (0: none): a record cached at that generation is served without a read
// (see Service.gen).
func (c *recordCache[T]) loadAt(tx *barrier.Tx, v *barrier.View, k []byte, gen uint64) (*T, error) {
	ck := v.Name() + "\x00" + string(k)
	c.mu.Lock()
	hit, ok := c.m[ck]
	c.mu.Unlock()
	if ok && gen != 0 && hit.gen == gen {
		return hit.x, nil
	}
	raw, err := tx.Get(v, k)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	x := hit.x
	if !ok || !bytes.Equal(hit.raw, raw) {
		x = new(T)
		if err := decode(raw, x); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= recordCacheSize {
		c.m = map[string]cachedRecord[T]{} // a crude bound: start over
	}
	c.m[ck] = cachedRecord[T]{raw, x, gen}
	c.mu.Unlock()
	return x, nil
}

// typeCache shares component types, resolved with their inheritance, and
// the effective properties of components between the data plane's
// requests. A resolved type is reused only while every type in its
// extendsFrom chain still decodes from the same stored bytes.
type typeCache struct {
	records recordCache[componentType]

	mu        sync.Mutex
	resolved  map[string]sharedResolved
	effective map[effectiveKey]map[string]effectiveProp
	series    map[seriesKey]tsdb.Series
}

// seriesKey names a series by what its blind indexes are computed from.
type seriesKey struct {
	view, entity string
	created      int64 // the entity's incarnation
	path, prop   string
	kind         chunkenc.Kind
}

type sharedResolved struct {
	res   *resolved
	chain []chainLink // the type and every type it extends
	gen   uint64      // the catalog generation it is known current at; 0: none
}

type chainLink struct {
	id string
	ct *componentType
}

type effectiveKey struct {
	c   *component
	res *resolved
}

// bound empties m when it has grown to recordCacheSize: a crude bound.
func bound[K comparable, V any](m map[K]V) map[K]V {
	if m == nil || len(m) >= recordCacheSize {
		return map[K]V{}
	}
	return m
}

func (c *typeCache) getResolved(k string) (sharedResolved, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.resolved[k]
	return s, ok
}

func (c *typeCache) putResolved(k string, s sharedResolved) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resolved = bound(c.resolved)
	c.resolved[k] = s
}

// effectiveOf returns effective(res, comp), shared while both are.
func (c *typeCache) effectiveOf(res *resolved, comp *component) map[string]effectiveProp {
	k := effectiveKey{comp, res}
	c.mu.Lock()
	m, ok := c.effective[k]
	c.mu.Unlock()
	if ok {
		return m
	}
	m = effective(res, comp)
	c.mu.Lock()
	c.effective = bound(c.effective)
	c.effective[k] = m
	c.mu.Unlock()
	return m
}

// seriesOf returns seriesOf(v, e, path, prop, dt), sparing the blind-index
// HMACs for series seen before.
func (c *typeCache) seriesOf(v *barrier.View, e *entity, path, prop string, dt *model.DataType) tsdb.Series {
	k := seriesKey{v.Name(), e.ID, e.Created.UnixNano(), path, prop, kindOf(dt)}
	c.mu.Lock()
	s, ok := c.series[k]
	c.mu.Unlock()
	if ok {
		return s
	}
	s = seriesOf(v, e, path, prop, dt)
	// The names may be slices of a request's body: kept, they would keep
	// the whole body.
	k.path, k.prop = strings.Clone(path), strings.Clone(prop)
	c.mu.Lock()
	c.series = bound(c.series)
	c.series[k] = s
	c.mu.Unlock()
	return s
}

// refCache keeps what the data plane's property references resolved to at
// the newest catalog generation seen (see Service.gen): BatchPut names the
// same properties call after call. Entries are shared and must not be
// modified.
type refCache = genmap.Map[refKey, *seriesRef]

// refKey is what a reference resolves from: the entity's ID, or one
// external ID's name and value; the component path (or name) as given, ""
// for none; and the property.
type refKey struct {
	view       string
	byExternal bool
	entity     string // the entity's ID, or the external ID's name
	external   string // the external ID's value
	path, prop string
}

// clone copies k's strings, which may share a request's body.
func (k refKey) clone() refKey {
	k.entity, k.external = strings.Clone(k.entity), strings.Clone(k.external)
	k.path, k.prop = strings.Clone(k.path), strings.Clone(k.prop)
	return k
}
