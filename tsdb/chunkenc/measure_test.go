package chunkenc

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestMeasureScratch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 1000
	ms, us := int64(time.Millisecond), int64(time.Microsecond)
	type tc struct {
		name string
		ts   []int64
	}
	cases := []tc{
		{"exact 1s", regularTimes(rng, n, 1e9, 0, 1)},
		{"1s ±5ms @ms", regularTimes(rng, n, 1e9, 5*ms, ms)},
		{"1s ±50ms @ms", regularTimes(rng, n, 1e9, 50*ms, ms)},
		{"1s ±5ms @us", regularTimes(rng, n, 1e9, 5*ms, us)},
		{"1s ±1ms @ns", regularTimes(rng, n, 1e9, ms, 1)},
		{"10ms ±1ms @us", regularTimes(rng, n, 10*ms, ms, us)},
	}
	// gaps: regular with 3 random gaps of 1h
	g := regularTimes(rng, n, 1e9, 5*ms, ms)
	for k := 0; k < 3; k++ {
		at := rng.IntN(n)
		for i := at; i < n; i++ {
			g[i] += 3600e9
		}
	}
	cases = append(cases, tc{"1s ±5ms @ms 3 gaps", g})
	for _, c := range cases {
		ch := &Chunk{Kind: KindInt, Times: c.ts, Ints: make([]int64, n)}
		b, err := Encode(nil, ch)
		if err != nil {
			t.Fatal(err)
		}
		d := make([]int64, n-1)
		for i := range d {
			d[i] = c.ts[i+1] - c.ts[i]
		}
		var unit uint64
		for _, x := range d {
			unit = gcd(unit, uint64(x))
		}
		for i := range d {
			d[i] /= int64(unit)
		}
		fmt.Printf("%-22s total %5d B  unit %d  FOR %.2f bits/pt  dodFOR %.2f  gorilla %.2f\n", c.name, len(b), unit,
			float64(seqBits(d, false))/float64(n), float64(seqBits(d, true))/float64(n), float64(gorillaTimeBits(d))/float64(n))
		back, err := Decode(b)
		if err != nil || !Equal(back, ch) {
			t.Fatal("roundtrip", err)
		}
	}
	vals := []struct {
		name string
		c    *Chunk
	}{
		{"temperature", &Chunk{Kind: KindDouble, Doubles: temperatures(rng, n)}},
		{"counter", &Chunk{Kind: KindInt, Ints: counter(rng, n)}},
		{"flags", &Chunk{Kind: KindBool, Bools: flags(rng, n)}},
		{"alarms", &Chunk{Kind: KindString, Strings: alarms(rng, n)}},
	}
	for _, v := range vals {
		v.c.Times = regularTimes(rng, n, 1e9, 5*ms, ms)
		b, err := Encode(nil, v.c)
		if err != nil {
			t.Fatal(err)
		}
		tb, _ := Encode(nil, &Chunk{Kind: KindInt, Times: v.c.Times, Ints: make([]int64, n)})
		fmt.Printf("%-12s %5d B  %.3f B/pt (values %.3f B/pt)\n", v.name, len(b), float64(len(b))/float64(n), float64(len(b)-len(tb))/float64(n))
		back, err := Decode(b)
		if err != nil || !Equal(back, v.c) {
			t.Fatal("roundtrip", err)
		}
	}
}
