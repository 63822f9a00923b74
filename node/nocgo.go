//go:build !cgo

package node

// cacheOffHeap: without cgo, Pebble's block cache lives on the Go heap,
// where the garbage collector lets the heap grow to twice what is live
// (GOGC=100) before it collects.
const cacheOffHeap = false
