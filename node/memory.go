package node

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	runtimemetrics "runtime/metrics"
	"strconv"
	"strings"
)

// minCache is the smallest block cache the embedded store gets.
const minCache = 64 << 20

// defaultCacheShare is the part of memory the embedded store's block cache
// may fill when none is configured. The cache holds table index, filter
// and data blocks as they are read (values still sealed by the barrier);
// the operating system's page cache holds the same blocks compressed, so
// a read it serves is still copied, checksummed, decompressed and parsed.
// A cache smaller than what every request touches (access keys, users,
// policies, workspace records and the index and filter blocks above them)
// makes each request pay for such reads once a large ingest has passed
// through: after ten million points, 64 MiB left GetWorkspace a third
// slower. Pebble allocates the cache only as it fills.
const defaultCacheShare = 4

// ParseCacheSize reads a block-cache size: a share of memory ("25%") or
// bytes with an optional unit ("512MiB", "2GiB", "1G", "1073741824").
// Memory is the machine's, or its control group's limit if lower.
func ParseCacheSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || !(f > 0 && f <= 90) {
			return 0, fmt.Errorf("cache size %q: a share of memory is more than 0%% and at most 90%%", s)
		}
		mem, err := memoryLimit()
		if err != nil {
			return 0, fmt.Errorf("cache size %q: %w", s, err)
		}
		return max(int64(float64(mem)*f/100), minCache), nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("cache size %q: a positive number of bytes (units KiB, MiB, GiB, TiB, K, M, G, T) or a share of memory such as 25%%", s)
	}
	if n*mult < minCache {
		return 0, fmt.Errorf("cache size %q: at least 64MiB", s)
	}
	return n * mult, nil
}

// defaultCacheSize is a quarter of memory, at least minCache; an eighth
// when the cache shares the Go heap (a build without cgo), whose collector
// lets the heap grow past what is live (see TuneGC).
func defaultCacheSize() int64 {
	mem, err := memoryLimit()
	if err != nil {
		return minCache
	}
	share := int64(defaultCacheShare)
	if !cacheOffHeap {
		share *= 2
	}
	return max(mem/share, minCache)
}

// gcPercent is the collector's setting for a server (Go's default is 100:
// collect when the heap has grown by what is live). A server's live heap is
// small next to its memory, the block cache and memtables lying outside it
// in a build with cgo, while its requests allocate fast: at 100 the
// collector took a tenth of the CPU under ingest, and 400 gave back most
// of it (in BenchmarkServer, a quarter of a history page's CPU and up to a
// quarter of a BatchPut's) for ~30 MB more resident memory in the load tool.
const gcPercent = 400

// TuneGC sets the garbage collector for a server process, unless GOGC or
// GOMEMLIMIT in the environment set it: a heap that grows to gcPercent
// more than is live before a collection, with a soft limit, near which the
// collector runs as often as it must, of half the process's memory, plus
// the block cache of cacheSize bytes (0: the default) when it lives on the
// Go heap, so that a large cache does not keep the collector running. It
// returns the settings in force.
func TuneGC(cacheSize int64) (percent int, limit int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if mem, err := memoryLimit(); err == nil {
			debug.SetMemoryLimit(softLimit(mem, cacheSize, cacheOffHeap))
		}
	}
	m := []runtimemetrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	runtimemetrics.Read(m)
	return int(m[0].Value.Uint64()), int64(m[1].Value.Uint64())
}

// softLimit is TuneGC's memory limit for a process of mem bytes whose
// block cache takes cacheSize (0: the default), off the Go heap or on it.
func softLimit(mem, cacheSize int64, offHeap bool) int64 {
	limit := mem / 2
	if !offHeap {
		if cacheSize == 0 {
			cacheSize = defaultCacheSize()
		}
		limit += cacheSize
	}
	return min(limit, mem)
}

// memoryLimit is the memory this process may use: the machine's, or its
// control group's (v2, else v1) if lower.
func memoryLimit() (int64, error) {
	total, err := memTotal()
	if err != nil {
		return 0, err
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// "max" (v2) or a huge number (v1) mean no limit.
		if n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err == nil && n > 0 && n < total {
			total = n
		}
		break
	}
	return total, nil
}

// memTotal reads MemTotal from /proc/meminfo.
func memTotal() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("the machine's memory is unknown: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil || kb <= 0 {
			return 0, fmt.Errorf("the machine's memory is unknown: /proc/meminfo: MemTotal %q", strings.TrimSpace(rest))
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("the machine's memory is unknown: /proc/meminfo has no MemTotal")
}
