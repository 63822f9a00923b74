package chunkenc

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// The double column is one encoding byte, then:
//
//	doubleXOR (0)      bitstream: Gorilla XOR, as in Prometheus' XOR chunk
//	doubleDecimal (1)  e:u8, bitstream: the integers m[i] = v[i]*10^e as an
//	                   integer sequence; v[i] = float64(m[i]) / 10^e
//	doubleDict (2)     count:uvarint, count × 8 bytes (IEEE 754 bits, big
//	                   endian), bitstream: each point's dictionary index as
//	                   an integer sequence (absent when count is 1)
//
// The encoder writes the smallest that applies. Decimal applies when every
// value is exactly a decimal of at most maxDecimalExp fraction digits
// (sensor readings rounded to 0.1 or 0.01, integers in a double), with the
// smallest such e: IEEE division is correctly rounded, so float64(m)/10^e
// is the double nearest to m/10^e, which is what parsing the decimal gave;
// the encoder checks the bits of every value all the same. The dictionary
// suits series that cycle through a few values, such as replayed
// telemetry or set points. XOR applies always; it is what NaN, ±Inf, -0
// and full-precision measurements get among varied values.
const (
	doubleXOR     = 0
	doubleDecimal = 1
	doubleDict    = 2
)

// maxDecimalExp is the largest decimal exponent; 10^e is exact for e <= 22.
const maxDecimalExp = 18

var pow10 = func() (p [maxDecimalExp + 1]float64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// maxDoubleDict bounds the dictionary the encoder tries: each entry costs
// 64 bits, so past a few hundred the dictionary cannot pay off in a chunk
// of about a thousand points.
const maxDoubleDict = 256

// decimalOf returns m with float64(m)/10^e == v exactly (bits included),
// or ok == false.
func decimalOf(v float64, e int) (m int64, ok bool) {
	x := v * pow10[e]
	if !(math.Abs(x) < 1<<62) { // also false for NaN
		return 0, false
	}
	m = int64(math.Round(x))
	return m, math.Float64bits(float64(m)/pow10[e]) == math.Float64bits(v)
}

// decimals finds the smallest e at which every value is a decimal, and
// fills ms with the integers.
func decimals(vs []float64, ms []int64) (e int, ok bool) {
	for _, v := range vs {
		for {
			if _, ok := decimalOf(v, e); ok {
				break
			}
			if e++; e > maxDecimalExp {
				return 0, false
			}
		}
	}
	for i, v := range vs {
		if ms[i], ok = decimalOf(v, e); !ok {
			return 0, false
		}
	}
	return e, true
}

func (e *encoder) appendDoubles(dst []byte, vs []float64) []byte {
	// XOR always applies: write it into scratch, then see if anything
	// beats it.
	w := bitWriter{b: e.buf[:0]}
	writeXOR(&w, vs)
	e.buf = w.align()
	if e.quick {
		return append(append(dst, doubleXOR), e.buf...)
	}
	best := 8 * len(e.buf)

	ms := grow(&e.ints, len(vs))
	exp, decOK := decimals(vs, ms)
	decMode := 0
	if decOK {
		var seqBits int
		decMode, seqBits = e.seqBits(ms, tryAll)
		if decBits := 8 + seqBits; decBits < best {
			best = decBits
		} else {
			decOK = false
		}
	}
	dict, idx, idxMode, ok := e.doubleDict(vs, best)
	if ok {
		dst = append(dst, doubleDict)
		dst = binary.AppendUvarint(dst, uint64(len(dict)))
		for _, v := range dict {
			dst = binary.BigEndian.AppendUint64(dst, v)
		}
		if len(dict) == 1 {
			return dst // every index is 0
		}
		w := bitWriter{b: dst}
		e.writeSized(&w, idx, idxMode)
		return w.align()
	}
	if decOK {
		dst = append(dst, doubleDecimal, byte(exp))
		w := bitWriter{b: dst}
		if idx != nil {
			e.writeSeq(&w, ms, tryAll) // doubleDict sized another sequence
		} else {
			e.writeSized(&w, ms, decMode)
		}
		return w.align()
	}
	dst = append(dst, doubleXOR)
	return append(dst, e.buf...)
}

// doubleDict builds a dictionary of vs in order of first appearance and
// the index of each point, and reports whether that takes fewer than
// limit bits. It returns a nil idx if it gave up before sizing the
// indexes (with e.seqBits, whose mode for them it returns).
func (e *encoder) doubleDict(vs []float64, limit int) (dict []uint64, idx []int64, idxMode int, ok bool) {
	if e.fdict == nil {
		e.fdict = make(map[uint64]int64)
	}
	clear(e.fdict)
	dict = e.fvals[:0]
	idx = grow(&e.idx, len(vs))
	for i, v := range vs {
		b := math.Float64bits(v)
		if i > 0 && b == math.Float64bits(vs[i-1]) {
			idx[i] = idx[i-1] // a run: no look-up
			continue
		}
		j, seen := e.fdict[b]
		if !seen {
			j = int64(len(dict))
			// The entries alone cost 64 bits each.
			if len(dict) == maxDoubleDict || 64*(len(dict)+1) >= limit {
				e.fvals = dict
				return nil, nil, 0, false
			}
			e.fdict[b] = j
			dict = append(dict, b)
		}
		idx[i] = j
	}
	e.fvals = dict
	size := 8*uvarintLen(uint64(len(dict))) + 64*len(dict)
	if len(dict) == 1 {
		return dict, nil, 0, size < limit
	}
	idxMode, seqBits := e.seqBits(idx, tryAll)
	size += seqBits
	return dict, idx, idxMode, size < limit
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// writeXOR writes Gorilla XOR: the first value's 64 bits, then for each
// value its XOR with the previous one:
//
//	0                                      XOR == 0 (same value)
//	10 + meaningful bits                   the XOR's set bits fit in the
//	                                       previous window of leading and
//	                                       trailing zeros: reuse it
//	11 + leading:5 + sigbits:6 + sigbits   a new window (sigbits 64 as 0;
//	                                       leading capped at 31)
func writeXOR(w *bitWriter, vs []float64) {
	if len(vs) == 0 {
		return
	}
	prev := math.Float64bits(vs[0])
	w.writeBits(prev, 64)
	leading, trailing := uint(0xff), uint(0) // no window yet
	for _, v := range vs[1:] {
		cur := math.Float64bits(v)
		x := cur ^ prev
		prev = cur
		if x == 0 {
			w.writeBits(0, 1)
			continue
		}
		lz, tz := uint(bits.LeadingZeros64(x)), uint(bits.TrailingZeros64(x))
		lz = min(lz, 31)
		if leading != 0xff && lz >= leading && tz >= trailing {
			w.writeBits(0b10, 2)
			w.writeBits(x>>trailing, 64-leading-trailing)
			continue
		}
		leading, trailing = lz, tz
		sig := 64 - lz - tz
		w.writeBits(0b11, 2)
		w.writeBits(uint64(lz), 5)
		w.writeBits(uint64(sig), 6) // 64 wraps to 0
		w.writeBits(x>>tz, sig)
	}
}

func readXOR(r *bitReader, vs []float64) {
	if len(vs) == 0 {
		return
	}
	prev := r.readBits(64)
	vs[0] = math.Float64frombits(prev)
	leading, trailing := uint(0xff), uint(0)
	for i := 1; i < len(vs); i++ {
		if r.readBit() {
			if r.readBit() {
				leading = uint(r.readBits(5))
				sig := uint(r.readBits(6))
				if sig == 0 {
					sig = 64
				}
				if leading+sig > 64 {
					r.short = true
					return
				}
				trailing = 64 - leading - sig
			} else if leading == 0xff {
				r.short = true // a reuse before any window
				return
			}
			prev ^= r.readBits(64-leading-trailing) << trailing
		}
		if r.short {
			return
		}
		vs[i] = math.Float64frombits(prev)
	}
}

func (d *decoder) decodeDoubles(b []byte, vs []float64) ([]byte, error) {
	if len(b) < 1 {
		return nil, corrupt("double encoding")
	}
	enc, b := b[0], b[1:]
	switch enc {
	case doubleXOR:
		r := newBitReader(b)
		readXOR(&r, vs)
		return alignOrCorrupt(&r, b, "double stream")
	case doubleDecimal:
		if len(b) < 1 || b[0] > maxDecimalExp {
			return nil, corrupt("decimal exponent")
		}
		p := pow10[b[0]]
		b = b[1:]
		ms := grow(&d.ints, len(vs))
		r := newBitReader(b)
		d.readSeq(&r, ms, true)
		for i, m := range ms {
			vs[i] = float64(m) / p
		}
		return alignOrCorrupt(&r, b, "decimal stream")
	case doubleDict:
		count, k := binary.Uvarint(b)
		// Every entry is 8 bytes, and a chunk has no unused entries.
		if k <= 0 || count == 0 || count > uint64(len(vs)) || count > uint64(len(b)-k)/8 {
			return nil, corrupt("double dictionary")
		}
		dict := b[k : k+8*int(count)]
		b = b[k+8*int(count):]
		if count == 1 {
			v := math.Float64frombits(binary.BigEndian.Uint64(dict))
			for i := range vs {
				vs[i] = v
			}
			return b, nil
		}
		idx := grow(&d.ints, len(vs))
		r := newBitReader(b)
		d.readSeq(&r, idx, true)
		for i, j := range idx {
			if uint64(j) >= count {
				return nil, corrupt("double dictionary index")
			}
			vs[i] = math.Float64frombits(binary.BigEndian.Uint64(dict[8*j:]))
		}
		return alignOrCorrupt(&r, b, "double dictionary stream")
	}
	return nil, corrupt("double encoding")
}
