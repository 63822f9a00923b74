package chunkenc

import "math/bits"

// Integer sequences are frame-of-reference (FOR) bit-packed in blocks of
// blockLen values. A 2-bit mode says what the blocks hold:
//
//	seq    = mode:2 body
//	mode 0 (seqRaw)    blocks(v[0..n))
//	mode 1 (seqDelta)  v[0]:varbits(zigzag)  blocks(deltas v[i]-v[i-1], i >= 1)
//	mode 2 (seqRuns)   R-1:varbits  sub(run values)  sub(run lengths)
//	sub    = mode:1 body, mode 0 or 1 only (no runs of runs)
//	blocks = ( width:7  base:varbits(zigzag)  (v-base : width bits)* )*
//
// A block holds blockLen values (the last one fewer) and costs 14+ bits of
// header, then width bits per value, width being the bit length of the
// block's max-min. Constant stretches (regular timestamps, counters) cost
// 0 bits per value; small noise costs a few; an outlier widens only its
// own block. Runs suit values that stay put for a while (a status, an
// alarm, a set point): R runs cost about R times a few bits, whatever
// their length. The encoder computes each mode's exact size and writes
// the smallest.
//
// Subtractions and additions wrap (two's complement) and the decoder
// repeats exactly the same wrapping operations, so every int64 sequence
// round-trips, including ones that jump from MinInt64 to MaxInt64.
const (
	seqRaw   = 0
	seqDelta = 1
	seqRuns  = 2
)

// blockLen is the number of values per FOR block: at 128, block headers
// cost about 0.15 bit per value while an outlier (a gap, a spike) widens
// at most 128 values. 64 and 256 both measured worse on the benchmark data.
const blockLen = 128

// minBlockBits is the smallest block: a 7-bit width of 0 and a 7-bit
// varbits of base 0.
const minBlockBits = 14

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func varbitsLen(v uint64) int { return 7 + bits.Len64(v) }

// elem returns vals[i], or the i-th delta vals[i+1]-vals[i].
func elem(vals []int64, i int, delta bool) int64 {
	if delta {
		return vals[i+1] - vals[i]
	}
	return vals[i]
}

// blockRange returns the smallest of values [start, end) (or deltas) and
// the bit width of the largest distance from it.
func blockRange(vals []int64, start, end int, delta bool) (lo int64, width uint) {
	lo = elem(vals, start, delta)
	hi := lo
	for i := start + 1; i < end; i++ {
		v := elem(vals, i, delta)
		lo = min(lo, v)
		hi = max(hi, v)
	}
	return lo, uint(bits.Len64(uint64(hi - lo)))
}

// flatBits returns the exact size in bits of mode seqRaw or seqDelta's
// body for vals (len(vals) >= 1).
func flatBits(vals []int64, delta bool) int {
	n, size := len(vals), 0
	if delta {
		size += varbitsLen(zigzag(vals[0]))
		n--
	}
	for start := 0; start < n; start += blockLen {
		end := min(start+blockLen, n)
		lo, w := blockRange(vals, start, end, delta)
		size += 7 + varbitsLen(zigzag(lo)) + (end-start)*int(w)
	}
	return size
}

// bestFlat returns the smaller of the raw and delta bodies for vals.
func bestFlat(vals []int64) (delta bool, size int) {
	raw := flatBits(vals, false)
	if len(vals) < 2 {
		return false, raw
	}
	if d := flatBits(vals, true); d < raw {
		return true, d
	}
	return false, raw
}

func writeFlat(w *bitWriter, vals []int64, delta bool) {
	n := len(vals)
	if delta {
		w.writeVarbits(zigzag(vals[0]))
		n--
	}
	for start := 0; start < n; start += blockLen {
		end := min(start+blockLen, n)
		lo, width := blockRange(vals, start, end, delta)
		w.writeBits(uint64(width), 7)
		w.writeVarbits(zigzag(lo))
		if width == 0 {
			continue
		}
		for i := start; i < end; i++ {
			w.writeBits(uint64(elem(vals, i, delta)-lo), width)
		}
	}
}

// seqWriter writes integer sequences, keeping scratch for runs.
type seqWriter struct {
	runVals, runLens []int64
}

// seqBits returns the size in bits of vals as a seq, and the mode that
// gives it. runs says whether seqRuns may be used.
func (s *seqWriter) seqBits(vals []int64, runs bool) (mode, size int) {
	if len(vals) == 0 {
		return seqRaw, 0
	}
	delta, size := bestFlat(vals)
	mode = seqRaw
	if delta {
		mode = seqDelta
	}
	if !runs {
		return mode, 2 + size
	}
	// Runs can only win when there are few of them; count before
	// building them.
	r := 1
	for i := 1; i < len(vals); i++ {
		if vals[i] != vals[i-1] {
			r++
		}
	}
	if 4*r > len(vals) {
		return mode, 2 + size
	}
	s.runVals, s.runLens = s.runVals[:0], s.runLens[:0]
	start := 0
	for i := 1; i <= len(vals); i++ {
		if i == len(vals) || vals[i] != vals[start] {
			s.runVals = append(s.runVals, vals[start])
			s.runLens = append(s.runLens, int64(i-start))
			start = i
		}
	}
	_, vb := bestFlat(s.runVals)
	_, lb := bestFlat(s.runLens)
	if runSize := varbitsLen(uint64(r-1)) + 1 + vb + 1 + lb; runSize < size {
		return seqRuns, 2 + runSize
	}
	return mode, 2 + size
}

// writeSeq writes vals as a seq in its smallest mode (seqRuns only if runs
// is set). An empty sequence writes nothing.
func (s *seqWriter) writeSeq(w *bitWriter, vals []int64, runs bool) {
	if len(vals) == 0 {
		return
	}
	mode, _ := s.seqBits(vals, runs)
	w.writeBits(uint64(mode), 2)
	switch mode {
	case seqRaw, seqDelta:
		writeFlat(w, vals, mode == seqDelta)
	case seqRuns:
		// seqBits left the runs in s.
		w.writeVarbits(uint64(len(s.runVals) - 1))
		for _, sub := range [][]int64{s.runVals, s.runLens} {
			delta, _ := bestFlat(sub)
			w.writeBit(delta)
			writeFlat(w, sub, delta)
		}
	}
}

// seqReader reads integer sequences, keeping scratch for runs.
type seqReader struct {
	runs []int64
}

// readSeq fills dst with a seq that writeSeq wrote; runs says whether
// seqRuns is allowed. On corrupt input it sets r.short.
func (s *seqReader) readSeq(r *bitReader, dst []int64, runs bool) {
	if len(dst) == 0 {
		return
	}
	switch r.readBits(2) {
	case seqRaw:
		readFlat(r, dst, false)
	case seqDelta:
		readFlat(r, dst, true)
	case seqRuns:
		if !runs {
			r.short = true
			return
		}
		nr := r.readVarbits() + 1
		if r.short || nr > uint64(len(dst)) {
			r.short = true
			return
		}
		buf := grow(&s.runs, 2*int(nr))
		vals, lens := buf[:nr], buf[nr:]
		readFlat(r, vals, r.readBit())
		readFlat(r, lens, r.readBit())
		if r.short {
			return
		}
		i := 0
		for k, l := range lens {
			if l < 1 || l > int64(len(dst)-i) {
				r.short = true
				return
			}
			for end := i + int(l); i < end; i++ {
				dst[i] = vals[k]
			}
		}
		if i != len(dst) {
			r.short = true
		}
	default:
		r.short = true
	}
}

func readFlat(r *bitReader, dst []int64, delta bool) {
	if delta {
		dst[0] = unzigzag(r.readVarbits())
		readBlocks(r, dst[1:])
		for i := 1; i < len(dst); i++ {
			dst[i] += dst[i-1]
		}
		return
	}
	readBlocks(r, dst)
}

func readBlocks(r *bitReader, dst []int64) {
	for start := 0; start < len(dst); start += blockLen {
		blk := dst[start:min(start+blockLen, len(dst))]
		width := uint(r.readBits(7))
		base := unzigzag(r.readVarbits())
		if width > 64 || r.short {
			r.short = true
			return
		}
		if width == 0 {
			for i := range blk {
				blk[i] = base
			}
			continue
		}
		for i := range blk {
			blk[i] = base + int64(r.readBits(width))
		}
	}
}

// flatMinBits is the fewest bits a seq of n values without runs takes;
// the decoder refuses a point count its input cannot hold.
func flatMinBits(n int) int {
	if n == 0 {
		return 0
	}
	return 2 + (n-1+blockLen-1)/blockLen*minBlockBits
}
