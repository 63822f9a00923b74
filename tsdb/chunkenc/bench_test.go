package chunkenc

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// benchPoints is the size of a benchmark chunk, about what the store puts
// in one block.
const benchPoints = 1000

// benchChunks are realistic series: 1000 points a second apart, with up
// to ±5 ms of jitter on millisecond timestamps, or none.
func benchChunks() []struct {
	name string
	c    *Chunk
} {
	rng := rand.New(rand.NewPCG(42, 42))
	times := func() []int64 { return regularTimes(rng, benchPoints, 1e9, 5*ms, ms) }
	return []struct {
		name string
		c    *Chunk
	}{
		{"double", &Chunk{Kind: KindDouble, Times: times(), Doubles: temperatures(rng, benchPoints)}},
		// Sampled on the second exactly, as many devices do.
		{"double-on-schedule", &Chunk{Kind: KindDouble, Times: regularTimes(rng, benchPoints, 1e9, 0, ms), Doubles: temperatures(rng, benchPoints)}},
		{"double-noisy", &Chunk{Kind: KindDouble, Times: times(), Doubles: noisyDoubles(rng, benchPoints)}},
		{"int", &Chunk{Kind: KindInt, Times: times(), Ints: counter(rng, benchPoints)}},
		{"bool", &Chunk{Kind: KindBool, Times: times(), Bools: flags(rng, benchPoints)}},
		{"string", &Chunk{Kind: KindString, Times: times(), Strings: alarms(rng, benchPoints)}},
	}
}

// rawEncode is the baseline: every point as 16 bytes, the time and the
// value's 64 bits, big endian.
func rawEncode(dst []byte, ts []int64, vs []float64) []byte {
	for i, t := range ts {
		dst = binary.BigEndian.AppendUint64(dst, uint64(t))
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(vs[i]))
	}
	return dst
}

func rawDecode(b []byte, ts []int64, vs []float64) {
	for i := range ts {
		ts[i] = int64(binary.BigEndian.Uint64(b[16*i:]))
		vs[i] = math.Float64frombits(binary.BigEndian.Uint64(b[16*i+8:]))
	}
}

// Every benchmark sets 16 bytes per point, so MB/s compare with the raw
// baseline's, and reports the encoded size as B/point.

func BenchmarkEncode(b *testing.B) {
	b.Run("raw16", func(b *testing.B) {
		c := benchChunks()[0].c
		buf := make([]byte, 0, 16*benchPoints)
		b.SetBytes(16 * benchPoints)
		b.ReportAllocs()
		for b.Loop() {
			buf = rawEncode(buf[:0], c.Times, c.Doubles)
		}
		b.ReportMetric(float64(len(buf))/benchPoints, "B/point")
	})
	for _, bc := range benchChunks() {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 16*benchPoints)
			b.SetBytes(16 * benchPoints)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = Encode(buf[:0], bc.c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(buf))/benchPoints, "B/point")
		})
	}
}

// BenchmarkEncodeDelta encodes what one write of ten values to a series
// stores, with Encode and with EncodeQuick.
func BenchmarkEncodeDelta(b *testing.B) {
	for _, bc := range benchChunks() {
		c := bc.c.sub(0, 10)
		for _, enc := range []struct {
			name string
			f    func([]byte, *Chunk) ([]byte, error)
		}{{"search", Encode}, {"quick", EncodeQuick}} {
			b.Run(bc.name+"/"+enc.name, func(b *testing.B) {
				var buf []byte
				for b.Loop() {
					var err error
					if buf, err = enc.f(buf[:0], c); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(buf)), "B")
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	b.Run("raw16", func(b *testing.B) {
		c := benchChunks()[0].c
		buf := rawEncode(nil, c.Times, c.Doubles)
		b.SetBytes(16 * benchPoints)
		b.ReportAllocs()
		for b.Loop() {
			// Allocate like Decode does, for a fair comparison.
			rawDecode(buf, make([]int64, benchPoints), make([]float64, benchPoints))
		}
		b.ReportMetric(float64(len(buf))/benchPoints, "B/point")
	})
	for _, bc := range benchChunks() {
		enc, err := Encode(nil, bc.c)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(16 * benchPoints)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc))/benchPoints, "B/point")
		})
		b.Run(bc.name+"-into", func(b *testing.B) {
			var c Chunk
			b.SetBytes(16 * benchPoints)
			b.ReportAllocs()
			for b.Loop() {
				if err := DecodeInto(&c, enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeTimes(b *testing.B) {
	enc, err := Encode(nil, benchChunks()[0].c)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(16 * benchPoints)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeTimes(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMerge(b *testing.B) {
	c := benchChunks()[0].c
	// Every other point of c, against c: half the times collide.
	half := &Chunk{Kind: c.Kind}
	for i := 0; i < c.Len(); i += 2 {
		half.Times = append(half.Times, c.Times[i])
		half.Doubles = append(half.Doubles, c.Doubles[i]+1)
	}
	b.ReportAllocs()
	for b.Loop() {
		Merge(c, half)
	}
}

// BenchmarkMergeAll merges what a compaction meets: 128 deltas of 10
// points, appended in time order ("ordered") or, as concurrent writers
// commit them, with every other neighbouring pair swapped ("swapped").
func BenchmarkMergeAll(b *testing.B) {
	for _, swap := range []bool{false, true} {
		name := "ordered"
		if swap {
			name = "swapped"
		}
		b.Run(name, func(b *testing.B) {
			var cs []*Chunk
			for d := range 128 {
				c := &Chunk{Kind: KindDouble}
				for i := range 10 {
					c.Times = append(c.Times, int64(d*10+i)*1e9)
					c.Doubles = append(c.Doubles, float64(d*10+i)/10)
				}
				cs = append(cs, c)
			}
			if swap {
				for d := 0; d+1 < len(cs); d += 4 {
					cs[d], cs[d+1] = cs[d+1], cs[d]
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				MergeAll(cs)
			}
		})
	}
}

// gorillaOnlySize is the size of a double chunk in this format if it had
// only Gorilla's encodings: delta-of-delta times (in units) and XOR values.
func gorillaOnlySize(c *Chunk) int {
	n := c.Len()
	size := 3 + 10 + 10 + 2 // header, t0, unit, encoding bytes: at most
	var unit uint64
	for i := 1; i < n; i++ {
		unit = gcd(unit, uint64(c.Times[i]-c.Times[i-1]))
	}
	s := make([]int64, n-1)
	for i := range s {
		s[i] = int64(uint64(c.Times[i+1]-c.Times[0]) / unit)
	}
	var w bitWriter
	writeXOR(&w, c.Doubles)
	return size + (gorillaTimeBits(s)+7)/8 + len(w.align())
}

// TestSizes pins the sizes the format reaches on the benchmark series and
// on harder ones, so a change that costs compactness fails here; -v shows
// the figures.
func TestSizes(t *testing.T) {
	limits := map[string]float64{ // bytes per point, with some slack
		"double": 1.1, "double-on-schedule": 0.5, "double-noisy": 7.5, "int": 1.0, "bool": 0.7, "string": 0.8,
	}
	for _, bc := range benchChunks() {
		b, err := Encode(nil, bc.c)
		if err != nil {
			t.Fatal(err)
		}
		per := float64(len(b)) / benchPoints
		t.Logf("%-13s %6.3f B/point (%4.1f%% of raw 16 B)  %s", bc.name, per, 100*per/16, layout(b))
		if bc.c.Kind == KindDouble {
			t.Logf("%-13s %6.3f B/point with Gorilla codes alone", "", float64(gorillaOnlySize(bc.c))/benchPoints)
		}
		if per > limits[bc.name] {
			t.Errorf("%s: %.3f B/point, more than %.2f", bc.name, per, limits[bc.name])
		}
	}
	// Time columns alone, by clock precision and regularity.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tg := range timeGens {
		c := &Chunk{Kind: KindBool, Times: tg.make(rng, benchPoints), Bools: make([]bool, benchPoints)}
		b, err := Encode(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("times %-14s %6.3f B/point  %s", tg.name, float64(len(b))/benchPoints, layout(b))
	}
}
