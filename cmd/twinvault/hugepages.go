package main

import (
	"slices"
	"strings"
)

// hugeTLB is the glibc tunable that has malloc ask the kernel for
// transparent huge pages (madvise MADV_HUGEPAGE) on the memory it maps.
// Built with cgo, the embedded store takes its memtables and block cache
// from C's malloc. A memtable is one 32 MiB arena holding a skiplist that
// each write searches and extends at random places: on 4 KiB pages those
// searches miss the TLB and a fresh arena faults 8,192 times. On huge
// pages, pebble's BenchmarkMemtable (a BatchPutPropertyValues call's
// inserts) takes about 15 % less time; in twinvault load the server's CPU
// per such call, as a multiple of a GetWorkspace call's, fell by about 3 %,
// less than the load's spread from run to run.
// Kernels grant huge pages on request by default ("madvise" in
// /sys/kernel/mm/transparent_hugepage/enabled); "never" refuses them
// whatever a process asks.
const hugeTLB = "glibc.malloc.hugetlb"

// withHugeTLB returns env with hugeTLB=1 added to GLIBC_TUNABLES, and
// whether it added it: not when the tunable is set already, to whatever
// value, so an operator who sets glibc.malloc.hugetlb=0 keeps 4 KiB pages.
func withHugeTLB(env []string) ([]string, bool) {
	at := -1 // the first GLIBC_TUNABLES
	for i, kv := range env {
		name, val, _ := strings.Cut(kv, "=")
		if name != "GLIBC_TUNABLES" {
			continue
		}
		for _, t := range strings.Split(val, ":") {
			if n, _, _ := strings.Cut(t, "="); n == hugeTLB {
				return env, false
			}
		}
		if at < 0 {
			at = i
		}
	}
	out := slices.Clone(env)
	if at < 0 {
		return append(out, "GLIBC_TUNABLES="+hugeTLB+"=1"), true
	}
	if val := strings.TrimPrefix(out[at], "GLIBC_TUNABLES="); val != "" {
		out[at] += ":"
	}
	out[at] += hugeTLB + "=1"
	return out, true
}
