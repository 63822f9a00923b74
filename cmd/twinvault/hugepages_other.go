//go:build !(linux && cgo)

package main

// reexecHugeTLB does nothing: without cgo on Linux, the store's memory
// comes from the Go heap, not from glibc's malloc.
func reexecHugeTLB() {}
