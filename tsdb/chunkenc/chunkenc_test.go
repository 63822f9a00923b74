package chunkenc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// roundTrip encodes c, checks that every decoder gives it back, and
// returns the encoding.
func roundTrip(t testing.TB, c *Chunk) []byte {
	t.Helper()
	prefix := []byte("prefix")
	b, err := Encode(slices.Clone(prefix), c)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if !bytes.HasPrefix(b, prefix) {
		t.Fatalf("Encode did not append")
	}
	b = b[len(prefix):]
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !Equal(got, c) {
		t.Fatalf("Decode(Encode(c)) != c\n got %s\nwant %s", describe(got), describe(c))
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("decoded chunk does not validate: %v", err)
	}
	ts, err := DecodeTimes(b)
	if err != nil || !slices.Equal(ts, c.Times) {
		t.Fatalf("DecodeTimes = %v, %v", ts, err)
	}
	h, err := ReadHeader(b)
	first, _, _ := c.Bounds()
	if err != nil || h != (Header{Kind: c.Kind, Len: c.Len(), First: first}) {
		t.Fatalf("ReadHeader = %+v, %v", h, err)
	}
	// Into a reused chunk of another kind.
	reused := &Chunk{Kind: KindBool, Times: make([]int64, 3, 100), Bools: []bool{true}}
	if err := DecodeInto(reused, b); err != nil || !Equal(reused, c) || reused.Validate() != nil {
		t.Fatalf("DecodeInto: %v, %s", err, describe(reused))
	}
	again, _ := Encode(nil, c)
	if !bytes.Equal(again, b) {
		t.Fatalf("Encode is not deterministic")
	}
	// EncodeQuick writes the same format, never smaller.
	quick, err := EncodeQuick(nil, c)
	if err != nil {
		t.Fatalf("EncodeQuick: %v", err)
	}
	if got, err := Decode(quick); err != nil || !Equal(got, c) {
		t.Fatalf("Decode(EncodeQuick(c)) = %s, %v\nwant %s", describe(got), err, describe(c))
	}
	if len(quick) < len(b) {
		t.Fatalf("EncodeQuick took %d bytes, Encode %d: the search missed an encoding", len(quick), len(b))
	}
	return b
}

func describe(c *Chunk) string {
	if c == nil {
		return "nil"
	}
	cut := func(n int) int { return min(n, 8) }
	return fmt.Sprintf("{%s n=%d times=%v doubles=%v ints=%v bools=%v strings=%q}", c.Kind, c.Len(),
		c.Times[:cut(len(c.Times))], c.Doubles[:cut(len(c.Doubles))], c.Ints[:cut(len(c.Ints))],
		c.Bools[:cut(len(c.Bools))], c.Strings[:cut(len(c.Strings))])
}

func TestRoundTrip(t *testing.T) {
	sizes := []int{1, 2, 3, 5, 127, 128, 129, 130, 1000, 2049}
	for _, tg := range timeGens {
		for _, vg := range valueGens {
			t.Run(tg.name+"/"+vg.kind.String()+"-"+vg.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(len(tg.name)), uint64(len(vg.name))))
				for _, n := range sizes {
					roundTrip(t, randomChunk(rng, tg, vg, n))
				}
			})
		}
	}
}

func TestRoundTripMaxPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, vg := range valueGens {
		if vg.name == "awkward" {
			continue
		}
		for _, tg := range []timeGen{timeGens[1], timeGens[len(timeGens)-1]} {
			c := randomChunk(rng, tg, vg, MaxPoints)
			roundTrip(t, c)
		}
	}
}

func TestRoundTripEmpty(t *testing.T) {
	for k := KindDouble; k <= KindBytes; k++ {
		b := roundTrip(t, &Chunk{Kind: k})
		if len(b) != 3 {
			t.Errorf("empty %s chunk: %d bytes, want 3", k, len(b))
		}
	}
}

// TestRoundTripEdges covers values and times an encoder has special paths
// for, each alone and in every pair.
func TestRoundTripEdges(t *testing.T) {
	for _, a := range specialDoubles {
		for _, b := range specialDoubles {
			roundTrip(t, &Chunk{Kind: KindDouble, Times: []int64{-1, 0, 1}, Doubles: []float64{a, b, a}})
		}
	}
	for _, a := range specialInts {
		for _, b := range specialInts {
			roundTrip(t, &Chunk{Kind: KindInt, Times: []int64{math.MinInt64, 0, math.MaxInt64}, Ints: []int64{a, b, a}})
		}
	}
	// Offsets from the first time that need all 64 bits, and one that
	// makes t0+offset*unit wrap in the decoder's arithmetic.
	roundTrip(t, &Chunk{Kind: KindInt, Times: []int64{math.MinInt64, math.MaxInt64}, Ints: []int64{1, 2}})
	roundTrip(t, &Chunk{Kind: KindInt, Times: []int64{math.MinInt64, -1, math.MaxInt64}, Ints: []int64{1, 2, 3}})
	roundTrip(t, &Chunk{Kind: KindInt, Times: []int64{math.MinInt64, math.MinInt64 + 2, math.MaxInt64 - 1}, Ints: []int64{1, 2, 3}})
	// A long run of decimal doubles, then one that is not.
	c := &Chunk{Kind: KindDouble, Times: regularTimes(rand.New(rand.NewPCG(1, 1)), 300, 1e9, 0, 1)}
	c.Doubles = temperatures(rand.New(rand.NewPCG(1, 1)), 300)
	c.Doubles[299] = math.Pi
	roundTrip(t, c)
}

func TestValidate(t *testing.T) {
	ok := []int64{1, 2, 3}
	tests := []struct {
		name string
		c    *Chunk
	}{
		{"nil", nil},
		{"zero kind", &Chunk{Times: ok, Ints: ok}},
		{"unknown kind", &Chunk{Kind: 6, Times: ok, Ints: ok}},
		{"unsorted", &Chunk{Kind: KindInt, Times: []int64{1, 3, 2}, Ints: ok}},
		{"duplicate", &Chunk{Kind: KindInt, Times: []int64{1, 2, 2}, Ints: ok}},
		{"duplicate first", &Chunk{Kind: KindInt, Times: []int64{5, 5}, Ints: ok[:2]}},
		{"short column", &Chunk{Kind: KindDouble, Times: ok, Doubles: []float64{1, 2}}},
		{"long column", &Chunk{Kind: KindBool, Times: ok, Bools: []bool{true, true, true, true}}},
		{"missing column", &Chunk{Kind: KindString, Times: ok}},
		{"wrong column", &Chunk{Kind: KindDouble, Times: ok, Ints: ok}},
		{"extra column", &Chunk{Kind: KindInt, Times: ok, Ints: ok, Strings: []string{"a", "b", "c"}}},
		{"values without times", &Chunk{Kind: KindInt, Ints: ok}},
		{"too many points", &Chunk{Kind: KindBool, Times: make([]int64, MaxPoints+1), Bools: make([]bool, MaxPoints+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			b, err := Encode([]byte("x"), tt.c)
			if !errors.Is(err, ErrInvalid) || string(b) != "x" {
				t.Fatalf("Encode = %q, %v; want ErrInvalid and dst unchanged", b, err)
			}
		})
	}
}

// validChunks returns a few encoded chunks of every kind and encoding.
func validChunks() [][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	var out [][]byte
	for _, tg := range timeGens {
		for _, vg := range valueGens {
			if vg.name == "awkward" {
				continue
			}
			for _, n := range []int{1, 2, 9, 200} {
				b, err := Encode(nil, randomChunk(rng, tg, vg, n))
				if err != nil {
					panic(err)
				}
				out = append(out, b)
			}
		}
	}
	return out
}

// checkDecode is the decoder's contract on arbitrary input: no panic; an
// error wraps ErrCorrupt; a chunk validates and survives re-encoding.
func checkDecode(t testing.TB, b []byte) {
	t.Helper()
	c, err := Decode(b)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode error %v does not wrap ErrCorrupt", err)
		}
		if c != nil {
			t.Fatalf("Decode returned a chunk and an error")
		}
		return
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("decoded chunk does not validate: %v", err)
	}
	b2, err := Encode(nil, c)
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	c2, err := Decode(b2)
	if err != nil || !Equal(c, c2) {
		t.Fatalf("re-encoded chunk decodes to %s, %v; want %s", describe(c2), err, describe(c))
	}
	if ts, err := DecodeTimes(b); err != nil || !slices.Equal(ts, c.Times) {
		t.Fatalf("DecodeTimes = %v, %v", ts, err)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	for _, b := range validChunks() {
		// Every proper prefix is corrupt: the last byte always holds a
		// bit that matters.
		for i := range len(b) {
			if _, err := Decode(b[:i]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode of %d of %d bytes: %v", i, len(b), err)
			}
		}
		if _, err := Decode(append(slices.Clone(b), 0)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode with a trailing byte: %v", err)
		}
		if len(b) > 64 {
			b = b[:64] // flipping the bits of long chunks takes long
		}
		for i := range 8 * len(b) {
			m := slices.Clone(b)
			m[i/8] ^= 1 << (i % 8)
			checkDecode(t, m)
		}
	}
	for _, b := range [][]byte{
		nil, {}, {Version}, {Version, byte(KindInt)},
		{0, byte(KindInt), 0}, {2, byte(KindInt), 0}, // versions
		{Version, 0, 0}, {Version, 6, 0}, {Version, 255, 0}, // kinds
		{Version, byte(KindInt), 0x80},                           // unterminated count
		{Version, byte(KindInt), 0, 0},                           // bytes after an empty chunk
		{Version, byte(KindInt), 1, 0},                           // no value column
		{Version, byte(KindInt), 2, 0, 0, timeFOR, 0, intSeq, 0}, // unit 0
	} {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%x) = %v, want ErrCorrupt", b, err)
		}
	}
}

// TestDecodeHugeCount: a header claiming more points than the input can
// hold fails before anything is allocated for them.
func TestDecodeHugeCount(t *testing.T) {
	for _, n := range []uint64{1 << 40, math.MaxUint64, MaxPoints + 1, MaxPoints, 100_000} {
		b := []byte{Version, byte(KindString)}
		b = appendUvarint(b, n)
		b = append(b, make([]byte, 64)...)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Decode(b)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode claiming %d points: %v", n, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<10 {
			t.Errorf("Decode claiming %d points allocated %d bytes", n, grew)
		}
		if _, err := DecodeTimes(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeTimes claiming %d points: %v", n, err)
		}
	}
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// refMerge is Merge the slow way: a map from time to point, b last.
func refMerge(a, b *Chunk) *Chunk {
	type point struct {
		src *Chunk
		i   int
	}
	at := map[int64]point{}
	for _, c := range []*Chunk{a, b} {
		for i, t := range c.Times {
			at[t] = point{c, i}
		}
	}
	out := &Chunk{Kind: a.Kind}
	for _, t := range slices.Sorted(func(yield func(int64) bool) {
		for t := range at {
			if !yield(t) {
				return
			}
		}
	}) {
		p := at[t]
		out.Times = append(out.Times, t)
		switch a.Kind {
		case KindDouble:
			out.Doubles = append(out.Doubles, p.src.Doubles[p.i])
		case KindInt:
			out.Ints = append(out.Ints, p.src.Ints[p.i])
		case KindBool:
			out.Bools = append(out.Bools, p.src.Bools[p.i])
		default:
			out.Strings = append(out.Strings, p.src.Strings[p.i])
		}
	}
	return out
}

// overlapping returns a chunk whose times are a random subset of a grid
// shared with other calls, so merges see equal times.
func overlapping(rng *rand.Rand, vg valueGen, n int) *Chunk {
	var ts []int64
	for t := int64(-50); len(ts) < n; t++ {
		if rng.IntN(3) == 0 {
			ts = append(ts, t)
		}
	}
	c := &Chunk{Kind: vg.kind, Times: ts}
	vg.fill(rng, c, n)
	return c
}

// MergeAll gives what folding Merge over the chunks gives, for runs of
// appends, overlaps and empty chunks alike, without touching its inputs or
// sharing their memory.
func TestMergeAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, vg := range valueGens {
		for range 50 {
			var cs, orig []*Chunk
			var fold *Chunk
			next := int64(-100)
			for range rng.IntN(12) {
				var c *Chunk
				switch rng.IntN(4) {
				case 0: // out of order, overlapping the others
					c = overlapping(rng, vg, rng.IntN(20))
				case 1: // empty, or nil
					if rng.IntN(2) == 0 {
						c = &Chunk{Kind: vg.kind}
					}
				default: // appended after the rest, sometimes starting on the last time
					n := 1 + rng.IntN(20)
					c = &Chunk{Kind: vg.kind}
					t0 := next - int64(rng.IntN(2))
					for i := range n {
						c.Times = append(c.Times, t0+int64(i))
					}
					next = t0 + int64(n)
					vg.fill(rng, c, n)
				}
				if c.Len() > 0 {
					next = max(next, c.Times[c.Len()-1]+1)
				}
				cs = append(cs, c)
				if c != nil {
					orig = append(orig, cloneChunk(c))
				} else {
					orig = append(orig, nil)
				}
				fold = Merge(fold, c)
			}
			got := MergeAll(cs)
			if fold.Len() == 0 {
				if got != nil {
					t.Fatalf("%s: MergeAll of chunks without points = %s, want nil", vg.name, describe(got))
				}
				continue
			}
			if !Equal(got, fold) {
				t.Fatalf("%s: MergeAll\n got %s\nwant %s", vg.name, describe(got), describe(fold))
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("merged chunk: %v", err)
			}
			for i, c := range cs {
				if !Equal(c, orig[i]) {
					t.Fatalf("MergeAll changed an input")
				}
				if c.Len() > 0 && &got.Times[0] == &c.Times[0] {
					t.Fatalf("MergeAll shares memory with an input")
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("MergeAll of chunks of two kinds did not panic")
		}
	}()
	MergeAll([]*Chunk{{Kind: KindInt, Times: []int64{1}, Ints: []int64{1}}, {Kind: KindBool, Times: []int64{2}, Bools: []bool{true}}})
}

func TestMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, vg := range valueGens {
		for range 20 {
			a := overlapping(rng, vg, rng.IntN(60))
			b := overlapping(rng, vg, rng.IntN(60))
			aa, bb := cloneChunk(a), cloneChunk(b)
			got := Merge(a, b)
			if want := refMerge(a, b); !Equal(got, want) {
				t.Fatalf("%s: Merge\n got %s\nwant %s", vg.name, describe(got), describe(want))
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("merged chunk: %v", err)
			}
			if !Equal(a, aa) || !Equal(b, bb) {
				t.Fatalf("Merge changed its inputs")
			}
			if got.Len() > 0 && ((a.Len() > 0 && &got.Times[0] == &a.Times[0]) || (b.Len() > 0 && &got.Times[0] == &b.Times[0])) {
				t.Fatalf("Merge shares memory with an input")
			}
			// Merging with itself, or with nothing, changes nothing.
			if !Equal(Merge(a, a), a) || !Equal(Merge(nil, a), a) || !Equal(Merge(a, nil), a) || !Equal(Merge(a, &Chunk{}), a) {
				t.Fatalf("Merge with itself or nothing changed the chunk")
			}
			// b already won every time it holds: merging it again changes nothing.
			if !Equal(Merge(Merge(a, b), b), Merge(a, b)) {
				t.Fatalf("merging b again changed the result")
			}
		}
	}
	if Merge(nil, nil) != nil {
		t.Errorf("Merge(nil, nil) != nil")
	}
	if c := Merge(&Chunk{Kind: KindInt}, &Chunk{Kind: KindBool}); c.Kind != KindInt || c.Len() != 0 {
		t.Errorf("Merge of empty chunks = %s", describe(c))
	}
	if c := Merge(&Chunk{Kind: KindInt}, &Chunk{Kind: KindBool, Times: []int64{1}, Bools: []bool{true}}); c.Kind != KindBool || c.Len() != 1 {
		t.Errorf("Merge of an empty chunk = %s", describe(c))
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Merge of two kinds did not panic")
		}
	}()
	Merge(&Chunk{Kind: KindInt, Times: []int64{1}, Ints: []int64{1}}, &Chunk{Kind: KindBool, Times: []int64{1}, Bools: []bool{true}})
}

func cloneChunk(c *Chunk) *Chunk {
	return &Chunk{Kind: c.Kind, Times: slices.Clone(c.Times), Doubles: slices.Clone(c.Doubles),
		Ints: slices.Clone(c.Ints), Bools: slices.Clone(c.Bools), Strings: slices.Clone(c.Strings)}
}

func TestSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, vg := range valueGens {
		c := overlapping(rng, vg, 40)
		for range 50 {
			from, to := rng.Int64N(160)-60, rng.Int64N(160)-60
			got := c.Slice(from, to)
			want := &Chunk{Kind: c.Kind}
			for i, t := range c.Times {
				if from <= t && t < to {
					want = Merge(want, c.sub(i, i+1))
				}
			}
			if !Equal(got, want) || got.Kind != c.Kind {
				t.Fatalf("Slice(%d, %d) = %s, want %s", from, to, describe(got), describe(want))
			}
			if got.Validate() != nil {
				t.Fatalf("Slice(%d, %d) does not validate", from, to)
			}
			// Appending to a slice must not write into c.
			before := cloneChunk(c)
			got.Times = append(got.Times, math.MaxInt64)
			if !Equal(c, before) {
				t.Fatalf("append to a slice changed the chunk")
			}
		}
		if got := c.Slice(math.MinInt64, math.MaxInt64); !Equal(got, c) {
			t.Fatalf("Slice of everything = %s", describe(got))
		}
	}
	if (*Chunk)(nil).Slice(0, 1) != nil {
		t.Errorf("nil.Slice != nil")
	}
}

func TestSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for _, vg := range valueGens {
		for _, n := range []int{0, 1, 5, 1000, 1024, 1025} {
			c := randomChunk(rng, timeGens[1], vg, n)
			for _, max := range []int{-1, 0, 1, 3, 1024, MaxPoints + 5} {
				parts := Split(c, max)
				limit := max
				if max < 1 || max > MaxPoints {
					limit = MaxPoints
				}
				var joined *Chunk
				for i, p := range parts {
					if p.Len() == 0 || p.Len() > limit || (i < len(parts)-1 && p.Len() != limit) {
						t.Fatalf("Split(%d points, %d): part %d has %d points", n, max, i, p.Len())
					}
					if _, err := Encode(nil, p); err != nil {
						t.Fatalf("part does not encode: %v", err)
					}
					joined = Merge(joined, p)
				}
				if !Equal(joined, c) {
					t.Fatalf("Split(%d points, %d) parts do not add up", n, max)
				}
			}
		}
	}
}

func TestBounds(t *testing.T) {
	if _, _, ok := (*Chunk)(nil).Bounds(); ok {
		t.Errorf("nil chunk has bounds")
	}
	c := &Chunk{Kind: KindInt, Times: []int64{-5, 3, 9}, Ints: []int64{1, 2, 3}}
	if first, last, ok := c.Bounds(); first != -5 || last != 9 || !ok {
		t.Errorf("Bounds = %d, %d, %v", first, last, ok)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindDouble: "double", KindInt: "int", KindBool: "bool", KindString: "string", KindBytes: "bytes", 0: "Kind(0)", 9: "Kind(9)"} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
}

// TestEqual pins the float comparison: by bits.
func TestEqual(t *testing.T) {
	d := func(v float64) *Chunk { return &Chunk{Kind: KindDouble, Times: []int64{1}, Doubles: []float64{v}} }
	if !Equal(d(math.NaN()), d(math.NaN())) || Equal(d(0), d(math.Copysign(0, -1))) || Equal(d(1), d(2)) {
		t.Errorf("Equal does not compare doubles by bits")
	}
	if !Equal(nil, &Chunk{Kind: KindInt}) || Equal(&Chunk{Kind: KindBool}, &Chunk{Kind: KindInt}) {
		t.Errorf("Equal on empty chunks")
	}
}

func TestExactDiv(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	ds := []uint64{1, 2, 3, 7, 1000, 1e6, 1e9, 3600e9, 1 << 63, math.MaxUint64, math.MaxUint64 - 1}
	for range 100 {
		ds = append(ds, rng.Uint64()>>rng.IntN(64)|1, rng.Uint64()>>rng.IntN(64)+1)
	}
	for _, d := range ds {
		e := newExactDiv(d)
		for range 200 {
			x := rng.Uint64() >> rng.IntN(64)
			if rng.IntN(2) == 0 {
				x = d * (x / max(d, 1)) // a multiple of d
			}
			if got, want := e.divides(x), x%d == 0; got != want {
				t.Fatalf("divides(%d) by %d = %v", x, d, got)
			}
			if x%d == 0 && e.quo(x) != x/d {
				t.Fatalf("%d / %d = %d, want %d", x, d, e.quo(x), x/d)
			}
		}
	}
}

// unpack reads what a loop of readBits reads, and leaves the reader at the
// same place, for every width, offset and stream length, short streams
// included.
func TestUnpack(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for width := uint(0); width <= 64; width++ {
		for range 40 {
			stream := make([]byte, rng.IntN(80))
			for i := range stream {
				stream[i] = byte(rng.Uint32())
			}
			n := rng.IntN(60)
			skip := uint(rng.IntN(12))
			base, slope := rng.Int64(), rng.Int64N(5)-2
			want, got := make([]int64, n), make([]int64, n)
			ref, r := newBitReader(stream), newBitReader(stream)
			ref.readBits(skip)
			r.readBits(skip)
			for k := range want {
				want[k] = base + slope*int64(k) + int64(ref.readBits(width))
			}
			unpack(&r, got, 0, n, width, base, slope)
			if r.short != ref.short {
				t.Fatalf("width %d, %d values from %d bytes: short %v, want %v", width, n, len(stream), r.short, ref.short)
			}
			if ref.short {
				continue // the column is refused: its values do not matter
			}
			// The same bits consumed (they may sit in the buffer or not).
			pos := func(r *bitReader) int { return 8*(len(stream)-len(r.b)) - int(r.n) }
			if !slices.Equal(got, want) || pos(&r) != pos(&ref) {
				t.Fatalf("width %d, %d values from %d bytes: unpack differs from readBits", width, n, len(stream))
			}
			// And what follows reads the same.
			if a, b := r.readBits(13), ref.readBits(13); a != b || r.short != ref.short {
				t.Fatalf("width %d: the bits after differ", width)
			}
		}
	}
}
