package barrier

import (
	"crypto/rand"
	"testing"
	"time"
)

// The barrier's cost over the AES-GCM it wraps: BenchmarkSeal and
// BenchmarkOpen report, besides ns/op, "x-gcm": their time divided by the
// time of as many raw AES-256-GCM operations (cipher.NewGCMWithRandomNonce,
// same key, plaintext and AAD) run right after, in the same process.
// BenchmarkGCMSeal and BenchmarkGCMOpen are that baseline on its own.

var benchSizes = []struct {
	name string
	n    int
}{{"100B", 100}, {"4KiB", 4096}}

// benchAAD has the shape of a real storage key: prefix, 16-byte view id,
// gen, and a 24-byte key.
var benchAAD = append(append([]byte("v\x10"), make([]byte, 16+genSize)...), "entity/0123456789abcdef/x"...)

func benchKeys(b *testing.B) *keys {
	key := make([]byte, keySize)
	rand.Read(key)
	k, err := newKeys(nil, &record{active: 1, deks: []dek{{version: 1, key: key}}})
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func BenchmarkSeal(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			k := benchKeys(b)
			a := k.aeads[1]
			pt := make([]byte, sz.n)
			b.SetBytes(int64(sz.n))
			n := 0
			for b.Loop() {
				k.seal(benchAAD, pt)
				n++
			}
			start := time.Now()
			for range n {
				a.Seal(nil, nil, pt, benchAAD)
			}
			reportRatio(b, time.Since(start))
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			k := benchKeys(b)
			a := k.aeads[1]
			v := k.seal(benchAAD, make([]byte, sz.n))
			ct := v[headerSize:]
			b.SetBytes(int64(sz.n))
			n := 0
			for b.Loop() {
				if _, err := k.open(benchAAD, v); err != nil {
					b.Fatal(err)
				}
				n++
			}
			start := time.Now()
			for range n {
				if _, err := a.Open(nil, nil, ct, benchAAD); err != nil {
					b.Fatal(err)
				}
			}
			reportRatio(b, time.Since(start))
		})
	}
}

// BenchmarkGCMSeal is the baseline: AES-256-GCM alone.
func BenchmarkGCMSeal(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			a := benchKeys(b).aeads[1]
			pt := make([]byte, sz.n)
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				a.Seal(nil, nil, pt, benchAAD)
			}
		})
	}
}

// BenchmarkGCMOpen is the baseline: AES-256-GCM alone.
func BenchmarkGCMOpen(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			a := benchKeys(b).aeads[1]
			ct := a.Seal(nil, nil, make([]byte, sz.n), benchAAD)
			b.SetBytes(int64(sz.n))
			for b.Loop() {
				if _, err := a.Open(nil, nil, ct, benchAAD); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportRatio reports the benchmark's time over the baseline's.
func reportRatio(b *testing.B, base time.Duration) {
	if base > 0 {
		b.ReportMetric(float64(b.Elapsed())/float64(base), "x-gcm")
	}
}
