package chunkenc

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sampleTelemetry is the cookie factory sample's telemetry: epoch-ms
// time, component type, entity id, property, value, VARCHAR or DOUBLE.
const sampleTelemetry = "../../../shared/samples/cookiefactory/telemetry/telemetry.csv"

// TestSampleTelemetry encodes every series of the sample telemetry in
// chunks of up to 1024 points and reports the bytes per point by series
// kind. The sample is read in place, never copied; without it the test
// skips, except under CI=true.
func TestSampleTelemetry(t *testing.T) {
	f, err := os.Open(sampleTelemetry)
	if errors.Is(err, fs.ErrNotExist) && os.Getenv("CI") != "true" {
		t.Skipf("no sample telemetry: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	type series struct {
		group string // component type and property
		kind  Kind
		c     *Chunk
	}
	bySeries := map[string]*series{}
	r := csv.NewReader(f)
	r.FieldsPerRecord = 6
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msec, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		key := rec[2] + "/" + rec[3]
		s := bySeries[key]
		if s == nil {
			kind := KindString
			if rec[5] == "DOUBLE" {
				kind = KindDouble
			}
			s = &series{group: rec[1] + "." + rec[3] + " (" + rec[5] + ")", kind: kind, c: &Chunk{Kind: kind}}
			bySeries[key] = s
		}
		// One point as a chunk, merged in: rows need not be sorted, and
		// a repeated time keeps the later row.
		p := &Chunk{Kind: s.kind, Times: []int64{msec * 1e6}}
		if s.kind == KindDouble {
			v, err := strconv.ParseFloat(rec[4], 64)
			if err != nil {
				t.Fatal(err)
			}
			p.Doubles = []float64{v}
		} else {
			p.Strings = []string{rec[4]}
		}
		if n := s.c.Len(); n > 0 && s.c.Times[n-1] < p.Times[0] {
			s.c.Times = append(s.c.Times, p.Times[0])
			s.c.Doubles = append(s.c.Doubles, p.Doubles...)
			s.c.Strings = append(s.c.Strings, p.Strings...)
		} else {
			s.c = Merge(s.c, p)
		}
	}

	type total struct{ series, chunks, points, bytes, gorilla int }
	groups := map[string]*total{}
	layouts := map[string]map[string]int{}
	var all total
	for _, s := range bySeries {
		name := s.group
		if s.c.Len() == 1 {
			name += ", 1-point"
		}
		g := groups[name]
		if g == nil {
			g = &total{}
			groups[name] = g
			layouts[name] = map[string]int{}
		}
		g.series++
		for _, part := range Split(s.c, 1024) {
			b := roundTrip(t, part)
			g.chunks++
			g.points += part.Len()
			g.bytes += len(b)
			if part.Kind == KindDouble && part.Len() > 1 {
				g.gorilla += gorillaOnlySize(part)
			}
			layouts[name][layout(b)]++
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range groups {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		g := groups[name]
		all.series += g.series
		all.chunks += g.chunks
		all.points += g.points
		all.bytes += g.bytes
		var ls []string
		for l, n := range layouts[name] {
			ls = append(ls, fmt.Sprintf("%d× %s", n, l))
		}
		sort.Strings(ls)
		t.Logf("%-40s %3d series %6d points %7.3f B/point (%4.1f%% of raw 16 B)  [%s]", name, g.series, g.points,
			float64(g.bytes)/float64(g.points), 100*float64(g.bytes)/float64(g.points)/16, strings.Join(ls, "; "))
		if g.gorilla > 0 {
			t.Logf("%-40s %7.3f B/point with Gorilla codes alone", "", float64(g.gorilla)/float64(g.points))
		}
	}
	t.Logf("%-40s %3d series %6d points %7.3f B/point (%4.1f%% of raw 16 B)", "all", all.series, all.points,
		float64(all.bytes)/float64(all.points), 100*float64(all.bytes)/float64(all.points)/16)
	if all.points == 0 {
		t.Fatal("no points in the sample")
	}
}
