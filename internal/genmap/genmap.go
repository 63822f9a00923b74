// Package genmap keeps what readers found at the newest generation of a
// store they have seen: entries made at one generation serve readers at
// that generation only, and a newer one starts the map afresh.
package genmap

import "sync"

// Map is a bounded map for the newest generation seen. Generation 0 names
// nothing; callers do not store under it. The zero Map holds nothing and
// bounds nothing; set Max before use.
type Map[K comparable, V any] struct {
	Max int // entries kept; past it, puts are dropped

	mu  sync.Mutex
	gen uint64
	m   map[K]V
}

// Get returns the value stored under k at generation gen.
func (c *Map[K, V]) Get(gen uint64, k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		var zero V
		return zero, false
	}
	v, ok := c.m[k]
	return v, ok
}

// Put stores v under k at generation gen, unless an older generation's.
func (c *Map[K, V]) Put(gen uint64, k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.gen:
		return
	case gen > c.gen || c.m == nil:
		c.gen, c.m = gen, map[K]V{}
	case len(c.m) >= c.Max:
		return
	}
	c.m[k] = v
}

// Len returns how many entries the newest generation holds.
func (c *Map[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Each calls fn for every entry of the newest generation, holding the map.
func (c *Map[K, V]) Each(fn func(K, V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.m {
		fn(k, v)
	}
}
