package chunkenc

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Fuzzers. FuzzDecode feeds arbitrary bytes to Decode; FuzzDecode<Kind>
// fixes the header's version and kind so that the fuzzer spends its time
// in one value decoder; FuzzRoundTrip<Kind> builds a chunk from the input
// and checks that it encodes and decodes exactly. Seeds live in
// testdata/fuzz/<Name>/ (go test -run TestFuzzSeeds -update rewrites the
// generated ones; crashers found later stay there as regression tests).

func FuzzDecode(f *testing.F) {
	for _, b := range validChunks() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b) })
}

func fuzzDecodeKind(f *testing.F, kind Kind) {
	for _, b := range validChunks() {
		if Kind(b[1]) == kind {
			f.Add(b[2:])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, append([]byte{Version, byte(kind)}, b...))
	})
}

func FuzzDecodeDouble(f *testing.F) { fuzzDecodeKind(f, KindDouble) }
func FuzzDecodeInt(f *testing.F)    { fuzzDecodeKind(f, KindInt) }
func FuzzDecodeBool(f *testing.F)   { fuzzDecodeKind(f, KindBool) }
func FuzzDecodeString(f *testing.F) { fuzzDecodeKind(f, KindString) }

// fuzzSource hands out the fuzzer's bytes; past the end, zeros.
type fuzzSource struct{ b []byte }

func (s *fuzzSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fuzzSource) uint64() uint64 {
	var v uint64
	for range 8 {
		v = v<<8 | uint64(s.byte())
	}
	return v
}

// chunkFromFuzz builds a valid chunk of kind from data: a first time and
// a step, then per point a control byte that picks how the time moves on
// (the step, the step with jitter, a gap of any size) and what the value
// is (the last one again, a small change, arbitrary bits, a special one).
func chunkFromFuzz(kind Kind, data []byte) *Chunk {
	s := fuzzSource{data}
	t := int64(s.uint64())
	step := max(1, int64(s.uint64()>>(s.byte()%64)))
	c := &Chunk{Kind: kind}
	var lastD float64
	var lastI int64
	var lastS string
	for i := 0; len(s.b) > 0 && i < 4096; i++ {
		ctl := s.byte()
		if i > 0 {
			var d int64
			switch ctl & 3 {
			case 0:
				d = step
			case 1:
				d = max(1, step+int64(int8(s.byte())))
			case 2:
				d = int64(s.uint64()>>(s.byte()%64)) | 1
			case 3:
				d = 1
			}
			next := t + d
			if d <= 0 || next <= t {
				break // no room left before MaxInt64
			}
			t = next
		}
		c.Times = append(c.Times, t)
		sel := ctl >> 2 & 3
		switch kind {
		case KindDouble:
			switch sel {
			case 1:
				lastD = math.Round(lastD*10+float64(int8(s.byte()))) / 10
			case 2:
				lastD = math.Float64frombits(s.uint64())
			case 3:
				lastD = specialDoubles[int(s.byte())%len(specialDoubles)]
			}
			c.Doubles = append(c.Doubles, lastD)
		case KindInt:
			switch sel {
			case 1:
				lastI += int64(int8(s.byte()))
			case 2:
				lastI = int64(s.uint64())
			case 3:
				lastI = specialInts[int(s.byte())%len(specialInts)]
			}
			c.Ints = append(c.Ints, lastI)
		case KindBool:
			c.Bools = append(c.Bools, ctl&0x10 != 0)
		default:
			switch sel {
			case 1:
				lastS = alarmStates[int(s.byte())%len(alarmStates)]
			case 2:
				n := int(s.byte() % 16)
				lastS = string(s.b[:min(n, len(s.b))])
				s.b = s.b[min(n, len(s.b)):]
			case 3:
				lastS = strings.Repeat(string(rune(s.byte())), int(s.byte())+int(s.byte()))
			}
			c.Strings = append(c.Strings, lastS)
		}
	}
	return c
}

// roundTripSeeds are inputs for chunkFromFuzz: random bytes, and series
// shaped like sensor data (a 2021 start, a 1 s step, small changes).
func roundTripSeeds(kind Kind) [][]byte {
	rng := rand.New(rand.NewPCG(1, uint64(kind)))
	seeds := [][]byte{{}}
	for range 8 {
		b := make([]byte, rng.IntN(600))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		seeds = append(seeds, b)
	}
	for _, ctl := range []byte{0x04, 0x05, 0x0c, 0x10, 0x16} {
		b := binary.BigEndian.AppendUint64(nil, uint64(t2021))
		b = binary.BigEndian.AppendUint64(b, 1e9)
		b = append(b, 0)
		for range 200 {
			b = append(b, ctl^byte(rng.IntN(2))<<4, byte(rng.IntN(7)-3))
		}
		seeds = append(seeds, b)
	}
	return seeds
}

func fuzzRoundTrip(f *testing.F, kind Kind) {
	for _, b := range roundTripSeeds(kind) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := chunkFromFuzz(kind, data)
		b := roundTrip(t, c)
		// The parts of a split encode and merge back to the chunk.
		var joined *Chunk
		for _, p := range Split(c, 64+len(b)%300) {
			pb, err := Encode(nil, p)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := Decode(pb); err != nil || !Equal(got, p) {
				t.Fatalf("part: %v", err)
			}
			joined = Merge(joined, p)
		}
		if !Equal(joined, c) {
			t.Fatalf("split parts do not merge back")
		}
	})
}

func FuzzRoundTripDouble(f *testing.F) { fuzzRoundTrip(f, KindDouble) }
func FuzzRoundTripInt(f *testing.F)    { fuzzRoundTrip(f, KindInt) }
func FuzzRoundTripBool(f *testing.F)   { fuzzRoundTrip(f, KindBool) }
func FuzzRoundTripString(f *testing.F) { fuzzRoundTrip(f, KindString) }

// TestFuzzSeeds writes the generated seed corpora with -update: a few
// valid chunks of every kind and encoding, so that a fuzzer starts from
// inputs that reach deep into each decoder.
func TestFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the generated fuzz seeds")
	}
	ascii := strings.NewReplacer("±", "pm", "@", "at")
	write := func(name, file string, b []byte) {
		file = ascii.Replace(file)
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		text := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range goldenChunks() {
		b, err := Encode(nil, g.c)
		if err != nil {
			t.Fatal(err)
		}
		write("FuzzDecode", "seed-"+g.name, b)
		if len(b) > 2 {
			write("FuzzDecode"+kindFuzzName(g.c.Kind), "seed-"+g.name, b[2:])
		}
	}
	for k := KindDouble; k <= KindString; k++ {
		for i, b := range roundTripSeeds(k) {
			write("FuzzRoundTrip"+kindFuzzName(k), fmt.Sprintf("seed-%d", i), b)
		}
	}
	rng := rand.New(rand.NewPCG(99, 1))
	for _, vg := range valueGens {
		if vg.name == "awkward" {
			continue
		}
		for _, tg := range timeGens {
			b, err := Encode(nil, randomChunk(rng, tg, vg, 1+rng.IntN(300)))
			if err != nil {
				t.Fatal(err)
			}
			write("FuzzDecode"+kindFuzzName(vg.kind), fmt.Sprintf("seed-%s-%s", vg.name, tg.name), b[2:])
		}
	}
}

func kindFuzzName(k Kind) string {
	switch k {
	case KindDouble:
		return "Double"
	case KindInt:
		return "Int"
	case KindBool:
		return "Bool"
	}
	return "String"
}
