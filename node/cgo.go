//go:build cgo

package node

// cacheOffHeap: with cgo, Pebble allocates its block cache with C's
// allocator, outside the Go heap, so the garbage collector's heap goal
// does not double it.
const cacheOffHeap = true
