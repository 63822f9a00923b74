package main

import (
	"slices"
	"testing"
)

func TestWithHugeTLB(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		want    []string
		changed bool
	}{
		{"absent", []string{"A=1"}, []string{"A=1", "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, true},
		{"other tunables", []string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2", "B=2"},
			[]string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", "B=2"}, true},
		{"empty", []string{"GLIBC_TUNABLES="}, []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, true},
		{"operator's choice", []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, false},
		{"set already", []string{"X=y", "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"},
			[]string{"X=y", "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"}, false},
		{"twice, set in one", []string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2", "GLIBC_TUNABLES=glibc.malloc.hugetlb=0"},
			[]string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2", "GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, false},
		{"twice", []string{"GLIBC_TUNABLES=a=1", "GLIBC_TUNABLES=b=2"}, []string{"GLIBC_TUNABLES=a=1:glibc.malloc.hugetlb=1", "GLIBC_TUNABLES=b=2"}, true},
		{"a longer name", []string{"GLIBC_TUNABLES=glibc.malloc.hugetlbx=0"}, []string{"GLIBC_TUNABLES=glibc.malloc.hugetlbx=0:glibc.malloc.hugetlb=1"}, true},
	} {
		got, changed := withHugeTLB(tc.env)
		if !slices.Equal(got, tc.want) || changed != tc.changed {
			t.Errorf("%s: withHugeTLB(%q) = %q, %v; want %q, %v", tc.name, tc.env, got, changed, tc.want, tc.changed)
		}
	}
}
