package chunkenc

import (
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenChunks are small chunks of every kind, each chosen to use one
// encoding, so that a format change shows as a diff of testdata/golden.
func goldenChunks() []struct {
	name string
	c    *Chunk
	want string // the encodings, as layout reports them
} {
	rng := rand.New(rand.NewPCG(2021, 11))
	sec := int64(1e9)
	ts := func(n int) []int64 { return regularTimes(rng, n, sec, 0, 1) }
	jittered := regularTimes(rng, 300, sec, 5*ms, ms)
	gappy := []int64{t2021, t2021 + sec, t2021 + 2*sec, t2021 + 3600*sec, t2021 + 3601*sec, t2021 + 7200*sec, t2021 + 7210*sec}
	temps := temperatures(rng, 20)
	var runs []int64
	for i, v := range []int64{0, 404, 0, 500, 503, 0, 1, 0} {
		runs = append(runs, make([]int64, 10+7*i)...)
		for j := len(runs) - 10 - 7*i; j < len(runs); j++ {
			runs[j] = v
		}
	}
	runs = runs[:200]
	var cycle []float64
	for i := range 30 {
		cycle = append(cycle, []float64{100, 99.4103240966797, 98.0328063964844, 99.6823043823242, 98.7330627441406}[i%5])
	}
	return []struct {
		name string
		c    *Chunk
		want string
	}{
		{"empty", &Chunk{Kind: KindDouble}, ""},
		{"one-point", &Chunk{Kind: KindInt, Times: []int64{t2021}, Ints: []int64{42}}, "values int raw"},
		{"double-xor", &Chunk{Kind: KindDouble, Times: ts(6), Doubles: []float64{math.Pi, math.NaN(), math.Inf(-1), math.Copysign(0, -1), math.E, math.E}}, "times gorilla, values double-xor"},
		{"double-decimal", &Chunk{Kind: KindDouble, Times: ts(20), Doubles: temps}, "times gorilla, values double-decimal e=1 delta"},
		{"double-dict", &Chunk{Kind: KindDouble, Times: ts(30), Doubles: cycle}, "times FOR delta, values double-dict raw"},
		{"int-counter", &Chunk{Kind: KindInt, Times: ts(10), Ints: []int64{100, 101, 102, 103, 104, 105, 106, 107, 108, 110}}, "times gorilla, values int delta"},
		{"int-runs", &Chunk{Kind: KindInt, Times: ts(200), Ints: runs}, "times FOR delta, values int runs"},
		{"int-extremes", &Chunk{Kind: KindInt, Times: []int64{math.MinInt64, -1, 0, math.MaxInt64}, Ints: []int64{math.MaxInt64, math.MinInt64, 0, -1}}, "times FOR delta, values int delta"},
		{"bool-bitmap", &Chunk{Kind: KindBool, Times: ts(12), Bools: []bool{true, false, false, true, true, false, true, false, false, false, true, true}}, "times gorilla, values bool-bitmap"},
		{"bool-runs", &Chunk{Kind: KindBool, Times: ts(50), Bools: flags(rand.New(rand.NewPCG(1, 30)), 50)}, "times FOR delta, values bool-runs raw"},
		{"string-dict", &Chunk{Kind: KindString, Times: ts(8), Strings: []string{"NORMAL", "NORMAL", "ACTIVE", "ACKNOWLEDGED", "NORMAL", "", "héllo", "NORMAL"}}, "times gorilla, values string-dict raw"},
		{"string-constant", &Chunk{Kind: KindString, Times: ts(100), Strings: slices.Repeat([]string{"NORMAL"}, 100)}, "times FOR delta, values string-dict single"},
		{"double-nan", &Chunk{Kind: KindDouble, Times: ts(100), Doubles: slices.Repeat([]float64{math.NaN()}, 100)}, "times FOR delta, values double-dict single"},
		{"bytes-dict", &Chunk{Kind: KindBytes, Times: ts(4), Strings: []string{`{"a":1}`, `[1,2]`, `{"a":1}`, `{"a":1}`}}, "times gorilla, values string-dict raw"},
		{"time-linear", &Chunk{Kind: KindBool, Times: jittered, Bools: make([]bool, 300)}, "times FOR linear, values bool-runs raw"},
		{"time-gorilla", &Chunk{Kind: KindBool, Times: gappy, Bools: make([]bool, 7)}, "times gorilla, values bool-bitmap"},
	}
}

func TestGolden(t *testing.T) {
	for _, g := range goldenChunks() {
		t.Run(g.name, func(t *testing.T) {
			b, err := Encode(nil, g.c)
			if err != nil {
				t.Fatal(err)
			}
			if got := layout(b); got != g.want {
				t.Errorf("encodings %q, want %q", got, g.want)
			}
			text := fmt.Sprintf("# %s chunk, %d points, %d bytes: %s\n%s", g.c.Kind, g.c.Len(), len(b), layout(b), hex.Dump(b))
			path := filepath.Join("testdata", "golden", g.name+".hex")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if string(want) != text {
				t.Errorf("encoding changed; run go test -run TestGolden -update if that is meant\n got:\n%s\nwant:\n%s", text, want)
			}
			// The stored bytes decode to the chunk, whatever the encoder
			// does today: old chunks stay readable.
			c, err := Decode(parseDump(t, want))
			if err != nil || !Equal(c, g.c) {
				t.Errorf("golden bytes decode to %s, %v", describe(c), err)
			}
		})
	}
}

// parseDump reads back hex.Dump output, skipping # comment lines.
func parseDump(t *testing.T, dump []byte) []byte {
	var out []byte
	for _, line := range strings.Split(string(dump), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hexPart, _, _ := strings.Cut(line[min(len(line), 10):], "|")
		b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
		if err != nil {
			t.Fatalf("golden line %q: %v", line, err)
		}
		out = append(out, b...)
	}
	return out
}

// layout names the encodings a chunk uses, for golden files and reports.
func layout(b []byte) string {
	h, rest, err := readHeader(b)
	if err != nil || h.Len == 0 {
		return ""
	}
	var parts []string
	ts := make([]int64, h.Len)
	var s seqReader
	vals, err := s.decodeTimes(rest, ts)
	if err != nil {
		return "corrupt"
	}
	if h.Len > 1 {
		_, k := binary.Varint(rest)
		_, k2 := binary.Uvarint(rest[k:])
		switch tcol := rest[k+k2:]; tcol[0] {
		case timeFOR:
			parts = append(parts, "times FOR "+seqModeName(tcol[1]>>6))
		case timeGorilla:
			parts = append(parts, "times gorilla")
		}
	}
	v := "values "
	switch h.Kind {
	case KindDouble:
		switch vals[0] {
		case doubleXOR:
			v += "double-xor"
		case doubleDecimal:
			v += fmt.Sprintf("double-decimal e=%d %s", vals[1], seqModeName(vals[2]>>6))
		case doubleDict:
			count, k := binary.Uvarint(vals[1:])
			v += "double-dict "
			if count == 1 {
				v += "single"
			} else {
				v += seqModeName(vals[1+k+8*int(count)] >> 6)
			}
		}
	case KindInt:
		v += "int " + seqModeName(vals[1]>>6)
	case KindBool:
		if vals[0] == boolBitmap {
			v += "bool-bitmap"
		} else {
			r := newBitReader(vals[1:])
			r.readBit()
			r.readVarbits()
			v += "bool-runs " + seqModeName(byte(r.readBits(2)))
		}
	default:
		p := vals[1:]
		count, k := binary.Uvarint(p)
		p = p[k:]
		for range count {
			l, k := binary.Uvarint(p)
			p = p[k+int(l):]
		}
		v += "string-dict "
		if count == 1 {
			v += "single"
		} else {
			v += seqModeName(p[0] >> 6)
		}
	}
	return strings.Join(append(parts, v), ", ")
}

func seqModeName(m byte) string {
	return [...]string{seqRaw: "raw", seqDelta: "delta", seqRuns: "runs", seqLinear: "linear"}[m&3]
}
