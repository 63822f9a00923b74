//go:build linux && cgo

package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"testing"
)

// TestServeHugeTLB: serve runs with glibc's huge-page tunable, in the
// process it was started as, unless the operator set the tunable.
func TestServeHugeTLB(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"},
		{[]string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, "GLIBC_TUNABLES=glibc.malloc.hugetlb=0"},
	} {
		p := startEnv(t, t.TempDir(), append([]string{"GLIBC_TUNABLES="}, tc.env...), "--listen", freePort(t))
		p.ready(t)
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		var tunables []string
		for _, kv := range bytes.Split(raw, []byte{0}) {
			if bytes.HasPrefix(kv, []byte("GLIBC_TUNABLES=")) {
				tunables = append(tunables, string(kv))
			}
		}
		if !slices.Contains(tunables, tc.want) {
			t.Errorf("started with %q: the server runs with %q, want %q", tc.env, tunables, tc.want)
		}
	}
}
