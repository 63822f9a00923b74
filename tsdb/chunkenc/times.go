package chunkenc

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// The time column, after the point count:
//
//	t0:varint                       n >= 1: the first time
//	unit:uvarint  enc:u8  bitstream  n >= 2
//
// unit is the greatest common divisor of the deltas t[i]-t[i-1]: the
// period of a strictly regular series, a millisecond for times with
// millisecond precision however they jitter. The stream carries the n-1
// offsets s[i] = (t[i]-t0)/unit, i >= 1, packed as enc says:
//
//	timeFOR (0)      an integer sequence (intseq.go) without runs: seqDelta
//	                 packs the deltas (0 bits per point when regular),
//	                 seqLinear the distance from a schedule (the jitter);
//	timeGorilla (1)  Gorilla's delta-of-delta prefix codes (below).
//
// The encoder writes the smaller: FOR from about 30 points on, whatever
// the series (its exceptions absorb gaps); Gorilla for fewer points, where
// a FOR block's header does not pay off (say, the few points of one
// write). The decoder checks that t0 + s[i]*unit neither overflows nor
// fails to increase.
const (
	timeFOR     = 0
	timeGorilla = 1
)

// Gorilla delta-of-delta codes, as in Prometheus' XOR chunk but with
// buckets sized for deltas in units: the first delta d1 is varbits, then
// each dod = d[i]-d[i-1] (wrapping) takes the first code that holds it,
// as a two's-complement field. Millisecond jitter fits the 7-bit code;
// other tables (5/10/17/32, 6/12/17/24, 7/13/20/32) measured within 5% on
// short series of every kind in the tests, and the same from 30 points on,
// where FOR takes over.
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
func (e *encoder) appendTimes(dst []byte, ts []int64) []byte {
	n := len(ts)
	if n == 0 {
		return dst
	}
	t0 := ts[0]
	dst = binary.AppendVarint(dst, t0)
	if n == 1 {
		return dst
	}
	// Offsets from t0 as uint64: t[i]-t0 can exceed MaxInt64 (from before
	// 1678 to after 2262), but never 2^64-1.
	s := grow(&e.ints, n-1)
	unit := uint64(ts[1] - ts[0])
	div := newExactDiv(unit)
	for i := 1; i < n; i++ {
		s[i-1] = ts[i] - t0
		if delta := uint64(ts[i] - ts[i-1]); unit != 1 && !div.divides(delta) {
			unit = gcd(unit, delta)
			div = newExactDiv(unit)
		}
	}
	if unit > 1 {
		for i := range s {
			s[i] = int64(div.quo(uint64(s[i])))
		}
	}
	dst = binary.AppendUvarint(dst, unit)
	// Not runs: they would let a few bytes claim any number of points
	// (see minTimeBits). Not raw: offsets only grow, so deltas are smaller.
	try := tryDelta | tryLinear
	if e.quick {
		try = tryDelta
	}
	mode, forBits := e.seqBits(s, try)
	if !e.quick && gorillaTimeBits(s) < forBits {
		dst = append(dst, timeGorilla)
		w := bitWriter{b: dst}
		writeGorillaTimes(&w, s)
		return w.align()
	}
	dst = append(dst, timeFOR)
	w := bitWriter{b: dst}
	e.writeSized(&w, s, mode)
	return w.align()
}

// exactDiv divides by a constant d without a division instruction, for
// numbers that d divides (Granlund and Montgomery, "Division by invariant
// integers using multiplication", §9): x/d = (x>>k) * inv mod 2^64, where
// d = odd<<k and inv is the inverse of odd modulo 2^64; and d divides x
// exactly when x has k trailing zeros and (x>>k)*inv <= MaxUint64/odd.
type exactDiv struct {
	k        int
	inv, lim uint64
}

func newExactDiv(d uint64) exactDiv {
	k := bits.TrailingZeros64(d)
	odd := d >> k
	inv := odd // correct to 3 bits; each Newton step doubles that
	for range 5 {
		inv *= 2 - odd*inv
	}
	return exactDiv{k: k, inv: inv, lim: math.MaxUint64 / odd}
}

func (e exactDiv) divides(x uint64) bool {
	return bits.TrailingZeros64(x) >= e.k && (x>>e.k)*e.inv <= e.lim
}

// quo returns x/d for x that d divides.
func (e exactDiv) quo(x uint64) uint64 { return (x >> e.k) * e.inv }

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

// gorillaTimeBits returns the size of writeGorillaTimes(s).
func gorillaTimeBits(s []int64) int {
	size := varbitsLen(uint64(s[0]))
	prev := s[0] // the previous delta; s[-1] is 0
	for i := 1; i < len(s); i++ {
		d := s[i] - s[i-1]
		dod := d - prev
		prev = d
		if dod == 0 {
			size++
			continue
		}
		b := dodBuckets[dodCode(dod)]
		size += int(b.codeLen + b.width)
	}
	return size
}

// writeGorillaTimes writes the offsets s as their first delta s[0], then
// the delta-of-delta codes of the others.
func writeGorillaTimes(w *bitWriter, s []int64) {
	w.writeVarbits(uint64(s[0]))
	prev := s[0]
	for i := 1; i < len(s); i++ {
		d := s[i] - s[i-1]
		dod := d - prev
		prev = d
		if dod == 0 {
			w.writeBits(0, 1)
			continue
		}
		b := dodBuckets[dodCode(dod)]
		w.writeBits(uint64(b.code), b.codeLen)
		w.writeBits(uint64(dod), b.width)
	}
}

// readGorillaTimes reads what writeGorillaTimes wrote into s.
func readGorillaTimes(r *bitReader, s []int64) {
	d := int64(r.readVarbits())
	s[0] = d
	for i := 1; i < len(s); i++ {
		if r.readBit() {
			// Count further 1 bits, up to the longest code.
			k := 0
			for k < len(dodBuckets)-1 && r.readBit() {
				k++
			}
			w := dodBuckets[k].width
			dod := int64(r.readBits(w))
			if w < 64 && dod >= 1<<(w-1) {
				dod -= 1 << w // sign-extend
			}
			d += dod
		}
		s[i] = s[i-1] + d
		if r.short {
			return
		}
	}
}

// decodeTimes decodes the time column of n points from b into ts and
// returns the bytes after it.
func (s *seqReader) decodeTimes(b []byte, ts []int64) ([]byte, error) {
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
	// The offsets go into ts[1:] and become times in place.
	offs := ts[1:]
	r := newBitReader(b)
	switch enc {
	case timeFOR:
		s.readSeq(&r, offs, false)
	case timeGorilla:
		readGorillaTimes(&r, offs)
	default:
		return nil, corrupt("time encoding")
	}
	rest, ok := r.align(b)
	if !ok {
		return nil, corrupt("time stream")
	}
	prev := t0
	for i, off := range offs {
		hi, lo := bits.Mul64(uint64(off), unit)
		t := int64(uint64(t0) + lo)
		if hi != 0 || t <= prev {
			return nil, corrupt("times not increasing")
		}
		offs[i] = t
		prev = t
	}
	return rest, nil
}

// minTimeBits is the fewest bits the time column of n points takes: at
// least 14 bits per FOR block, or a bit per Gorilla delta-of-delta.
func minTimeBits(n int) int {
	if n < 2 {
		return 0
	}
	return min(flatMinBits(n-1), 7+(n-2))
}
