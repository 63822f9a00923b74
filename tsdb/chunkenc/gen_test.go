package chunkenc

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// Series generators for tests and benchmarks; each is deterministic for a
// given *rand.Rand.

// t2021 is 2021-11-05T00:00:00Z, where the sample telemetry starts.
const t2021 = int64(1636070400) * int64(time.Second)

const (
	ms = int64(time.Millisecond)
	us = int64(time.Microsecond)
)

// regularTimes returns n times every step from t2021, each moved by a
// uniform jitter in [-jitter, jitter], then truncated to a multiple of
// prec (clocks report milliseconds, microseconds or nanoseconds). step
// must exceed 2*jitter+prec so the times increase.
func regularTimes(rng *rand.Rand, n int, step, jitter, prec int64) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		t := t2021 + int64(i)*step
		if jitter > 0 {
			t += rng.Int64N(2*jitter+1) - jitter
		}
		ts[i] = t / prec * prec
	}
	return ts
}

// withGaps moves every time from k random indexes on by gap.
func withGaps(rng *rand.Rand, ts []int64, k int, gap int64) []int64 {
	for range k {
		for i := rng.IntN(len(ts)); i < len(ts); i++ {
			ts[i] += gap
		}
	}
	return ts
}

// temperatures is a random walk from 21.0 in steps of up to ±0.3,
// rounded to 0.1 as a thermometer reports it.
func temperatures(rng *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	x := 210
	for i := range vs {
		x += rng.IntN(7) - 3
		vs[i] = float64(x) / 10
	}
	return vs
}

// noisyDoubles is a random walk of full-precision doubles, the worst
// realistic case: no decimal form, few repeated bits.
func noisyDoubles(rng *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	x := 50.0
	for i := range vs {
		x += rng.NormFloat64()
		vs[i] = x
	}
	return vs
}

// counter is a monotonic counter: mostly +1 per point, sometimes +2 or +0.
func counter(rng *rand.Rand, n int) []int64 {
	vs := make([]int64, n)
	x := int64(1_000_000)
	for i := range vs {
		switch r := rng.IntN(20); {
		case r == 0:
			x += 2
		case r == 1:
		default:
			x++
		}
		vs[i] = x
	}
	return vs
}

// flags is a mostly constant flag: it flips with probability 1/200.
func flags(rng *rand.Rand, n int) []bool {
	vs := make([]bool, n)
	v := false
	for i := range vs {
		if rng.IntN(200) == 0 {
			v = !v
		}
		vs[i] = v
	}
	return vs
}

var alarmStates = []string{"NORMAL", "ACTIVE", "ACKNOWLEDGED", "SNOOZE_DISABLED"}

// alarms is an alarm status: it stays in a state for a while (20 points
// on average), then moves to one of the others.
func alarms(rng *rand.Rand, n int) []string {
	vs := make([]string, n)
	s := 0
	for i := range vs {
		if rng.IntN(20) == 0 {
			s = (s + 1 + rng.IntN(len(alarmStates)-1)) % len(alarmStates)
		}
		vs[i] = alarmStates[s]
	}
	return vs
}

// Awkward values every encoder must round-trip exactly.
var (
	specialDoubles = []float64{
		math.NaN(), math.Float64frombits(0x7ff8000000000001), math.Float64frombits(0xfff0000000000001), // NaN payloads, a signalling one
		math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0,
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1e-310, math.Float64frombits(0x000fffffffffffff),
		math.MaxFloat64, -math.MaxFloat64, 0.1, 0.1 + 0.2, 1e300, 1e-300, 1 << 53, 1<<53 + 2, 9.2e18, -9.3e18,
	}
	specialInts = []int64{math.MinInt64, math.MaxInt64, 0, -1, 1, math.MinInt64 + 1, math.MaxInt64 - 1, 1 << 32}
)

// valueGen makes n values of one kind into c.
type valueGen struct {
	name string
	kind Kind
	fill func(rng *rand.Rand, c *Chunk, n int)
}

func pick[T any](rng *rand.Rand, n int, from []T) []T {
	vs := make([]T, n)
	for i := range vs {
		vs[i] = from[rng.IntN(len(from))]
	}
	return vs
}

var valueGens = []valueGen{
	{"temperature", KindDouble, func(rng *rand.Rand, c *Chunk, n int) { c.Doubles = temperatures(rng, n) }},
	{"noisy", KindDouble, func(rng *rand.Rand, c *Chunk, n int) { c.Doubles = noisyDoubles(rng, n) }},
	{"special", KindDouble, func(rng *rand.Rand, c *Chunk, n int) { c.Doubles = pick(rng, n, specialDoubles) }},
	{"random-bits", KindDouble, func(rng *rand.Rand, c *Chunk, n int) {
		c.Doubles = make([]float64, n)
		for i := range c.Doubles {
			c.Doubles[i] = math.Float64frombits(rng.Uint64())
		}
	}},
	{"cycle", KindDouble, func(rng *rand.Rand, c *Chunk, n int) {
		cycle := []float64{100, 99.4103240966797, 98.0328063964844, 99.6823043823242, 98.7330627441406}
		c.Doubles = make([]float64, n)
		for i := range c.Doubles {
			c.Doubles[i] = cycle[i%len(cycle)]
		}
	}},
	{"constant", KindDouble, func(rng *rand.Rand, c *Chunk, n int) {
		c.Doubles = make([]float64, n)
		for i := range c.Doubles {
			c.Doubles[i] = 60
		}
	}},
	{"counter", KindInt, func(rng *rand.Rand, c *Chunk, n int) { c.Ints = counter(rng, n) }},
	{"special", KindInt, func(rng *rand.Rand, c *Chunk, n int) { c.Ints = pick(rng, n, specialInts) }},
	{"random", KindInt, func(rng *rand.Rand, c *Chunk, n int) {
		c.Ints = make([]int64, n)
		for i := range c.Ints {
			c.Ints[i] = int64(rng.Uint64())
		}
	}},
	{"status", KindInt, func(rng *rand.Rand, c *Chunk, n int) { c.Ints = pick(rng, n, []int64{0, 0, 0, 0, 0, 0, 0, 1, 2, 404}) }},
	{"flags", KindBool, func(rng *rand.Rand, c *Chunk, n int) { c.Bools = flags(rng, n) }},
	{"random", KindBool, func(rng *rand.Rand, c *Chunk, n int) { c.Bools = pick(rng, n, []bool{false, true}) }},
	{"alternating", KindBool, func(rng *rand.Rand, c *Chunk, n int) {
		c.Bools = make([]bool, n)
		for i := range c.Bools {
			c.Bools[i] = i%2 == 1
		}
	}},
	{"alarms", KindString, func(rng *rand.Rand, c *Chunk, n int) { c.Strings = alarms(rng, n) }},
	{"awkward", KindString, func(rng *rand.Rand, c *Chunk, n int) {
		c.Strings = pick(rng, n, []string{"", "x", "\x00", "\xff\xfe", "héllo, 世界", strings.Repeat("long ", 200), strings.Repeat("z", 70000)})
	}},
	{"distinct", KindString, func(rng *rand.Rand, c *Chunk, n int) {
		c.Strings = make([]string, n)
		for i := range c.Strings {
			c.Strings[i] = "value-" + strings.Repeat("v", rng.IntN(5)) + string(rune('a'+i%26)) + string(rune(0x100+i))
		}
	}},
	{"json", KindBytes, func(rng *rand.Rand, c *Chunk, n int) {
		c.Strings = pick(rng, n, []string{`{"a":1}`, `[1,2,3]`, `{"targetComponentName":"c","targetEntityId":"e"}`, `[]`, `{}`})
	}},
}

// timeGen makes n strictly increasing times.
type timeGen struct {
	name string
	make func(rng *rand.Rand, n int) []int64
}

var timeGens = []timeGen{
	{"1s", func(rng *rand.Rand, n int) []int64 { return regularTimes(rng, n, 1e9, 0, 1) }},
	{"1s±5ms@ms", func(rng *rand.Rand, n int) []int64 { return regularTimes(rng, n, 1e9, 5*ms, ms) }},
	{"100ms±20ms@us", func(rng *rand.Rand, n int) []int64 { return regularTimes(rng, n, 100*ms, 20*ms, us) }},
	{"1s±1ms@ns", func(rng *rand.Rand, n int) []int64 { return regularTimes(rng, n, 1e9, ms, 1) }},
	{"gaps", func(rng *rand.Rand, n int) []int64 {
		return withGaps(rng, regularTimes(rng, n, 1e9, 5*ms, ms), 3, 3600e9)
	}},
	{"huge-gaps", func(rng *rand.Rand, n int) []int64 {
		// From before 1678 to after 2262: deltas up to 1e18 and a span
		// beyond MaxInt64.
		ts := make([]int64, n)
		t := int64(math.MinInt64)
		for i := range ts {
			ts[i] = t
			if i < n-1 {
				t += 1 + rng.Int64N(math.MaxInt64/int64(n)*2-2)
			}
		}
		return ts
	}},
	{"negative", func(rng *rand.Rand, n int) []int64 {
		ts := regularTimes(rng, n, 1e9, 3*ms, ms)
		for i := range ts {
			ts[i] -= 2 * t2021 // before 1970
		}
		return ts
	}},
	{"extremes", func(rng *rand.Rand, n int) []int64 {
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = math.MaxInt64 - int64(n-1-i)
		}
		ts[0] = math.MinInt64
		return ts
	}},
	{"random", func(rng *rand.Rand, n int) []int64 {
		ts := make([]int64, n)
		t := rng.Int64N(1<<62) - 1<<61
		for i := range ts {
			ts[i] = t
			t += 1 + rng.Int64N(1<<uint(rng.IntN(40)))
		}
		return ts
	}},
}

// randomChunk returns a chunk of n points from a time and a value
// generator.
func randomChunk(rng *rand.Rand, tg timeGen, vg valueGen, n int) *Chunk {
	c := &Chunk{Kind: vg.kind, Times: tg.make(rng, n)}
	vg.fill(rng, c, n)
	return c
}
