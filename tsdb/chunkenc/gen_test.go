package chunkenc

import (
	"math"
	"math/rand/v2"
	"time"
)

// Realistic series for tests and benchmarks. Every generator is
// deterministic for a given seed.

// t2021 is 2021-11-05T00:00:00Z, where the sample telemetry starts.
const t2021 = int64(1636070400) * int64(time.Second)

// regularTimes returns n times every step, each moved by a uniform jitter
// in [-jitter, jitter] and then truncated to a multiple of prec (times
// from clocks report milliseconds, or microseconds, or nanoseconds).
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

// temperatures is a random walk from 21.0 in steps of up to ±0.3,
// rounded to 0.1 as a thermometer would report it.
func temperatures(rng *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	x := 210
	for i := range vs {
		x += rng.IntN(7) - 3
		vs[i] = float64(x) / 10
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

// alarms is an alarm status: it stays in a state for a while (mean 20
// points), then moves to a random other one.
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

var _ = math.NaN
