//go:build linux && cgo

package main

import (
	"os"
	"syscall"
)

// reexecHugeTLB replaces the process with itself, same arguments, with
// the glibc tunable that puts the store's C-allocated memory on huge pages
// (see hugeTLB), unless it is set already. The C library reads tunables
// only as the process starts, hence the exec; the process ID stays, so a
// supervisor sees one process. It returns only when there is nothing to do
// or the exec failed, and the server then runs as it is.
func reexecHugeTLB() {
	env, changed := withHugeTLB(os.Environ())
	if !changed {
		return
	}
	// /proc/self/exe is this binary even if its file has been replaced
	// or removed since it started.
	syscall.Exec("/proc/self/exe", os.Args, env)
}
