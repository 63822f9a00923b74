package chunkenc

import (
	"encoding/binary"
	"math/bits"
)

// The time column, after the point count:
//
//	t0:varint                       n >= 1: the first time
//	unit:uvarint  enc:u8  bitstream  n >= 2
//
// unit is the greatest common divisor of the n-1 deltas t[i]-t[i-1], so
// the stream carries the deltas divided by it: 1 for a strictly regular
// series, milliseconds for times that have millisecond precision, however
// they jitter. enc chooses how the scaled deltas are packed:
//
//	timeFOR (0)     the deltas as an integer sequence (intseq.go), which
//	                takes their own deltas (delta-of-delta) when smaller;
//	timeGorilla (1) Gorilla's delta-of-delta prefix codes (below).
//
// The encoder writes whichever is smaller. FOR is best for regular and
// jittered series (0 bits per point when regular); Gorilla for series with
// scattered gaps, where one outlier would widen a whole FOR block.
const (
	timeFOR     = 0
	timeGorilla = 1
)

// Gorilla delta-of-delta codes, as in Prometheus' XOR chunk but with
// buckets sized for scaled deltas: the first delta d1 is varbits, then
// each dod = d[i]-d[i-1] (wrapping) takes the first code that holds it,
// as a two's-complement field:
//
//	0                    dod == 0
//	10    + 7 bits       -64 <= dod < 64
//	110   + 14 bits      -8192 <= dod < 8192
//	1110  + 24 bits
//	11110 + 36 bits
//	11111 + 64 bits
var dodBuckets = [...]struct {
	code, codeLen, width uint
}{
	{0b10, 2, 7},
	{0b110, 3, 14},
	{0b1110, 4, 24},
	{0b11110, 5, 36},
	{0b11111, 5, 64},
}

// appendTimes appends the time column of ts, which Validate has checked.
// scratch is reused for the deltas.
func appendTimes(dst []byte, ts []int64, scratch *[]int64) []byte {
	n := len(ts)
	if n == 0 {
		return dst
	}
	dst = binary.AppendVarint(dst, ts[0])
	if n == 1 {
		return dst
	}
	// Deltas as uint64: t[i]-t[i-1] can exceed MaxInt64 (from before 1678
	// to after 2262), but never 2^64-1.
	d := grow(scratch, n-1)
	unit := uint64(0)
	for i := 1; i < n; i++ {
		delta := uint64(ts[i] - ts[i-1])
		d[i-1] = int64(delta)
		if unit != 1 && (unit == 0 || delta%unit != 0) {
			unit = gcd(unit, delta)
		}
	}
	if unit > 1 {
		for i := range d {
			d[i] = int64(uint64(d[i]) / unit)
		}
	}
	dst = binary.AppendUvarint(dst, unit)
	forBits := min(seqBits(d, false), seqBits(d, true))
	if gorillaTimeBits(d) < forBits {
		dst = append(dst, timeGorilla)
		w := bitWriter{b: dst}
		writeGorillaTimes(&w, d)
		return w.align()
	}
	dst = append(dst, timeFOR)
	w := bitWriter{b: dst}
	writeSeq(&w, d)
	return w.align()
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// dodCode returns the bucket index for dod.
func dodCode(dod int64) int {
	for i, b := range dodBuckets[:len(dodBuckets)-1] {
		lim := int64(1) << (b.width - 1)
		if -lim <= dod && dod < lim {
			return i
		}
	}
	return len(dodBuckets) - 1
}

func gorillaTimeBits(d []int64) int {
	size := varbitsLen(uint64(d[0]))
	for i := 1; i < len(d); i++ {
		dod := d[i] - d[i-1]
		if dod == 0 {
			size++
			continue
		}
		b := dodBuckets[dodCode(dod)]
		size += int(b.codeLen + b.width)
	}
	return size
}

func writeGorillaTimes(w *bitWriter, d []int64) {
	w.writeVarbits(uint64(d[0]))
	for i := 1; i < len(d); i++ {
		dod := d[i] - d[i-1]
		if dod == 0 {
			w.writeBits(0, 1)
			continue
		}
		b := dodBuckets[dodCode(dod)]
		w.writeBits(uint64(b.code), b.codeLen)
		w.writeBits(uint64(dod), b.width)
	}
}

func readGorillaTimes(r *bitReader, d []int64) {
	d[0] = int64(r.readVarbits())
	for i := 1; i < len(d); i++ {
		var dod int64
		if r.readBit() {
			// Count further 1 bits, up to the longest code.
			k := 0
			for k < len(dodBuckets)-1 && r.readBit() {
				k++
			}
			w := dodBuckets[k].width
			dod = int64(r.readBits(w))
			if w < 64 && dod >= 1<<(w-1) {
				dod -= 1 << w // sign-extend
			}
		}
		d[i] = d[i-1] + dod
		if r.short {
			return
		}
	}
}

// decodeTimes decodes the time column of n points from b into ts and
// returns the bytes after it.
func decodeTimes(b []byte, ts []int64) ([]byte, error) {
	n := len(ts)
	if n == 0 {
		return b, nil
	}
	t0, k := binary.Varint(b)
	if k <= 0 {
		return nil, corrupt("first time")
	}
	b = b[k:]
	ts[0] = t0
	if n == 1 {
		return b, nil
	}
	unit, k := binary.Uvarint(b)
	if k <= 0 || unit == 0 || len(b) < k+1 {
		return nil, corrupt("time unit")
	}
	enc := b[k]
	b = b[k+1:]
	// The deltas go into ts[1:] and become times in place.
	d := ts[1:]
	r := newBitReader(b)
	switch enc {
	case timeFOR:
		readSeq(&r, d)
	case timeGorilla:
		readGorillaTimes(&r, d)
	default:
		return nil, corrupt("time encoding")
	}
	rest, ok := r.align(b)
	if !ok {
		return nil, corrupt("time stream")
	}
	prev := t0
	for i, sd := range d {
		hi, delta := bits.Mul64(uint64(sd), unit)
		t := int64(uint64(prev) + delta)
		// Strictly increasing, without wrapping past MaxInt64: a delta
		// below 2^64 that wrapped would land below prev.
		if hi != 0 || delta == 0 || t <= prev {
			return nil, corrupt("times not increasing")
		}
		d[i] = t
		prev = t
	}
	return rest, nil
}

// minTimeBits is the fewest bits n points' time column can take.
func minTimeBits(n int) int {
	if n < 2 {
		return 0
	}
	return min(seqMinBits(n-1), 7+(n-2))
}
