package node

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestParseCacheSize(t *testing.T) {
	mem, err := memoryLimit()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{in: "512MiB", want: 512 << 20},
		{in: "2GiB", want: 2 << 30},
		{in: " 1G ", want: 1e9},
		{in: "100M", want: 100e6},
		{in: "1073741824", want: 1 << 30},
		{in: "67108864B", want: 64 << 20},
		{in: "25%", want: max(mem/4, minCache)},
		{in: "0.0001%", want: minCache},
		{in: "1MiB", err: "at least 64MiB"},
		{in: "0", err: "positive"},
		{in: "-5GiB", err: "positive"},
		{in: "lots", err: "positive"},
		{in: "5PiB", err: "positive"},
		{in: "9999999999TiB", err: "positive"},
		{in: "0%", err: "share of memory"},
		{in: "95%", err: "share of memory"},
		{in: "NaN%", err: "share of memory"},
	} {
		got, err := ParseCacheSize(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseCacheSize(%q) = %d, %v; want an error with %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseCacheSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	if d := defaultCacheSize(); d < minCache || d > mem {
		t.Errorf("default cache %d: outside [64MiB, memory %d]", d, mem)
	}
}

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	mem, err := memoryLimit()
	if err != nil {
		t.Fatal(err)
	}
	if pct, limit := TuneGC(1 << 30); pct != gcPercent || limit != softLimit(mem, 1<<30, cacheOffHeap) {
		t.Errorf("TuneGC() = %d, %d; want %d, %d", pct, limit, gcPercent, softLimit(mem, 1<<30, cacheOffHeap))
	}
	// A cache on the Go heap raises the limit, up to memory.
	for _, c := range []struct {
		mem, cache int64
		offHeap    bool
		want       int64
	}{
		{8 << 30, 2 << 30, true, 4 << 30},
		{8 << 30, 2 << 30, false, 6 << 30},
		{8 << 30, 6 << 30, false, 8 << 30},
	} {
		if got := softLimit(c.mem, c.cache, c.offHeap); got != c.want {
			t.Errorf("softLimit(%d, %d, %v) = %d, want %d", c.mem, c.cache, c.offHeap, got, c.want)
		}
	}
	// Settings from the environment stay as the runtime read them.
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	if pct, limit := TuneGC(0); pct != 150 || limit != 1<<30 {
		t.Errorf("with GOGC and GOMEMLIMIT set, TuneGC() = %d, %d; want 150, %d", pct, limit, 1<<30)
	}
}
