package chunkenc

import (
	"math"
	"math/bits"
)

// Integer sequences are frame-of-reference (FOR) bit-packed in blocks of
// blockLen values, with a few exceptions per block ("patched" FOR). A
// 2-bit mode says what the blocks hold:
//
//	seq    = mode:2 body
//	mode 0 (seqRaw)     blocks of r[j] = v[j]
//	mode 1 (seqDelta)   v[0]:varbits(zigzag), then blocks of the deltas
//	                    r[j] = v[j]-v[j-1], j >= 1
//	mode 2 (seqRuns)    R-1:varbits  sub(the R run values)  sub(their lengths)
//	mode 3 (seqLinear)  blocks of r[j] = v[j], with a slope
//	sub    = mode:1 body, where mode is seqRaw or seqDelta
//
//	block  = width:7  base:varbits(zigzag)  [slope:varbits(zigzag)]  patch
//	         ( r[j] - base - slope*k : width bits, unless an exception )*
//	patch  = 0                                  no exceptions
//	       | 1  E-1:2  ( k:7  r[j]-base-slope*k : varbits(zigzag) )×E
//
// where k is j's position in its block (0..blockLen-1), slope is present
// only in seqLinear (elsewhere it is 0), and exceptions are listed by
// increasing k.
//
// A block holds blockLen values (the last one fewer) and costs 15 bits or
// more of header, then width bits per value. Constant stretches (regular
// timestamps, counters) cost 0 bits per value and small noise a few bits;
// up to maxExceptions outliers per block (a gap in time, a spike) cost
// their own size plus 7 bits each instead of widening the block. Linear
// blocks follow a trend with bounded noise, such as times on a schedule
// with jitter: the noise costs bits, not the sum of it. Runs suit values
// that stay put for a while (a status, a set point): R runs cost R times a
// few bits, however long they are. The encoder computes each mode's exact
// size and writes the smallest.
//
// Subtractions, multiplications and additions wrap (two's complement) and
// the decoder repeats exactly the same operations, so every int64 sequence
// round-trips, including ones that jump from MinInt64 to MaxInt64.
const (
	seqRaw    = 0
	seqDelta  = 1
	seqRuns   = 2
	seqLinear = 3
)

// blockLen is the number of values per FOR block, and posBits the size of
// a position in one. At 128, block headers cost 0.1 to 0.3 bit per value,
// and a block's width follows changes in the data. Measured on the test
// series: 64 is larger everywhere; 256 and 512 are 3-5% smaller on
// stationary series (a random walk on a steady clock) but larger on series
// with gaps or irregular times, which real data has more of.
const (
	blockLen = 128
	posBits  = 7
)

// maxExceptions is the most exceptions a block has: enough for a gap or
// two (a gap makes one outlying delta, or two in a delta-of-delta), few
// enough that finding them is cheap.
const maxExceptions = 4

// minBlockBits is the smallest block: a width of 0, a base of 0, no patch.
const minBlockBits = 7 + 7 + 1

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func varbitsLen(v uint64) int { return 7 + bits.Len64(v) }

// elem returns the j-th value a body packs: vals[j] or the delta
// vals[j+1]-vals[j].
func elem(vals []int64, j int, mode int) int64 {
	if mode == seqDelta {
		return vals[j+1] - vals[j]
	}
	return vals[j]
}

// blockSlope returns the slope of a seqLinear block: the least-squares
// fit of its values against their positions, rounded. Any slope decodes
// exactly, so floating point is fine here; a good slope makes the block
// narrow, and beats the slope between the end points when noise is large.
func blockSlope(vals []int64, start, end int) int64 {
	n := end - start
	if n < 2 {
		return 0
	}
	mid := float64(n-1) / 2
	var sxy, sxx float64
	for k := range n {
		x := float64(k) - mid
		sxy += x * float64(vals[start+k]-vals[start])
		sxx += x * x
	}
	slope := math.Round(sxy / sxx)
	if !(math.Abs(slope) < 1<<62) {
		return 0
	}
	return int64(slope)
}

// blockPlan is how one block is written: values in [base, hi] (after the
// slope) are packed at width bits, the others are exceptions.
type blockPlan struct {
	base, hi, slope int64
	width           uint
	exceptions      int
	size            int // in bits
}

// planBlock finds the smallest way to write a block: for every split of
// up to maxExceptions outliers between the lowest and the highest values,
// the block's exact size. scratch is room for the block's values (an
// array here would be zeroed at every call: most of the cost for a short
// sequence).
func planBlock(vals []int64, start, end int, mode int, scratch *[blockLen]int64) blockPlan {
	// The values the block packs, before the base is taken off.
	res := scratch[:end-start]
	var slope int64
	switch mode {
	case seqDelta:
		for k := range res {
			res[k] = vals[start+k+1] - vals[start+k]
		}
	case seqLinear:
		slope = blockSlope(vals, start, end)
		for k := range res {
			res[k] = vals[start+k] - slope*int64(k)
		}
	default:
		copy(res, vals[start:end])
	}
	// The maxExceptions+1 lowest and highest, sorted from the extreme
	// inwards; the sentinels fall off as values come in.
	var lows, highs [maxExceptions + 1]int64
	for i := range lows {
		lows[i], highs[i] = math.MaxInt64, math.MinInt64
	}
	for _, r := range res {
		if r < lows[maxExceptions] {
			insertLow(lows[:], r)
		}
		if r > highs[maxExceptions] {
			insertHigh(highs[:], r)
		}
	}
	n := len(res)
	nx := min(n, maxExceptions+1) // entries in lows and highs
	header := 7 + 1
	if mode == seqLinear {
		header += varbitsLen(zigzag(slope))
	}
	best := blockPlan{size: math.MaxInt}
	for nl := 0; nl < nx; nl++ {
		for nh := 0; nl+nh < nx; nh++ {
			// At least one value stays, so base <= hi.
			base, hi := lows[nl], highs[nh]
			p := blockPlan{base: base, hi: hi, slope: slope, width: uint(bits.Len64(uint64(hi - base)))}
			excBits := 0
			for _, r := range lows[:nl] {
				if r < base {
					p.exceptions++
					excBits += posBits + varbitsLen(zigzag(r-base))
				}
			}
			for _, r := range highs[:nh] {
				if r > hi {
					p.exceptions++
					excBits += posBits + varbitsLen(zigzag(r-base))
				}
			}
			p.size = header + varbitsLen(zigzag(base)) + (n-p.exceptions)*int(p.width)
			if p.exceptions > 0 {
				p.size += 2 + excBits
			}
			if p.size < best.size {
				best = p
			}
		}
	}
	return best
}

// insertLow inserts r into the ascending list s, dropping its last entry.
func insertLow(s []int64, r int64) {
	i := len(s) - 1
	for ; i > 0 && s[i-1] > r; i-- {
		s[i] = s[i-1]
	}
	s[i] = r
}

// insertHigh inserts r into the descending list s, dropping its last entry.
func insertHigh(s []int64, r int64) {
	i := len(s) - 1
	for ; i > 0 && s[i-1] < r; i-- {
		s[i] = s[i-1]
	}
	s[i] = r
}

// planFlat plans every block of a seqRaw, seqDelta or seqLinear body for
// vals (len(vals) >= 1), appending the plans to plans, and returns them
// with the body's exact size in bits.
func planFlat(vals []int64, mode int, plans []blockPlan, scratch *[blockLen]int64) ([]blockPlan, int) {
	n, size := len(vals), 0
	if mode == seqDelta {
		size += varbitsLen(zigzag(vals[0]))
		n--
	}
	for start := 0; start < n; start += blockLen {
		p := planBlock(vals, start, min(start+blockLen, n), mode, scratch)
		plans = append(plans, p)
		size += p.size
	}
	return plans, size
}

// flatBits returns the exact size in bits of a body for vals.
func flatBits(vals []int64, mode int, scratch *[blockLen]int64) int {
	var buf [8]blockPlan
	_, size := planFlat(vals, mode, buf[:0], scratch)
	return size
}

// bestSub returns the mode and size of the smaller of a seqRaw and a
// seqDelta body for vals, as a sub-sequence of runs writes it.
func bestSub(vals []int64, scratch *[blockLen]int64) (mode, size int) {
	mode, size = seqRaw, flatBits(vals, seqRaw, scratch)
	if len(vals) > 1 {
		if d := flatBits(vals, seqDelta, scratch); d < size {
			mode, size = seqDelta, d
		}
	}
	return mode, size
}

// writeFlat writes a body in mode with its block plans; nil plans are
// computed on the way.
func writeFlat(w *bitWriter, vals []int64, mode int, plans []blockPlan, scratch *[blockLen]int64) {
	n := len(vals)
	if mode == seqDelta {
		w.writeVarbits(zigzag(vals[0]))
		n--
	}
	for b, start := 0, 0; start < n; b, start = b+1, start+blockLen {
		end := min(start+blockLen, n)
		var p blockPlan
		if plans != nil {
			p = plans[b]
		} else {
			p = planBlock(vals, start, end, mode, scratch)
		}
		w.writeBits(uint64(p.width), 7)
		w.writeVarbits(zigzag(p.base))
		if mode == seqLinear {
			w.writeVarbits(zigzag(p.slope))
		}
		w.writeBit(p.exceptions > 0)
		if p.exceptions > 0 {
			w.writeBits(uint64(p.exceptions-1), 2)
			for k := range end - start {
				if r := elem(vals, start+k, mode) - p.slope*int64(k); r < p.base || r > p.hi {
					w.writeBits(uint64(k), posBits)
					w.writeVarbits(zigzag(r - p.base))
				}
			}
		}
		if p.width == 0 {
			continue
		}
		for k := range end - start {
			if r := elem(vals, start+k, mode) - p.slope*int64(k); r >= p.base && r <= p.hi {
				w.writeBits(uint64(r-p.base), p.width)
			}
		}
	}
}

// seqWriter writes integer sequences. It keeps the block plans of the
// last sequence it sized, and scratch for runs.
type seqWriter struct {
	plans            [4][]blockPlan // by mode
	runVals, runLens []int64
	block            [blockLen]int64 // scratch for planBlock
}

// Which modes an encoder tries for a sequence: a set of 1<<mode.
const (
	tryRaw    = 1 << seqRaw
	tryDelta  = 1 << seqDelta
	tryRuns   = 1 << seqRuns
	tryLinear = 1 << seqLinear
	tryFlat   = tryRaw | tryDelta | tryLinear
	tryAll    = tryFlat | tryRuns
)

// seqBits returns the size in bits of vals as a seq in the smallest of
// the modes try allows, and that mode; writeSeq(vals) must follow before
// the next seqBits.
func (s *seqWriter) seqBits(vals []int64, try int) (mode, size int) {
	if len(vals) == 0 {
		return seqRaw, 0
	}
	if len(vals) == 1 {
		try = tryRaw // the others cannot be smaller
	}
	size = math.MaxInt
	for _, m := range [...]int{seqRaw, seqDelta, seqLinear} {
		if try&(1<<m) == 0 {
			continue
		}
		var b int
		s.plans[m], b = planFlat(vals, m, s.plans[m][:0], &s.block)
		if b < size {
			mode, size = m, b
		}
	}
	if try&tryRuns == 0 {
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
	_, vb := bestSub(s.runVals, &s.block)
	_, lb := bestSub(s.runLens, &s.block)
	if runSize := varbitsLen(uint64(r-1)) + 1 + vb + 1 + lb; runSize < size {
		return seqRuns, 2 + runSize
	}
	return mode, 2 + size
}

// writeSeq writes vals as a seq in its smallest mode among those try
// allows. An empty sequence writes nothing.
func (s *seqWriter) writeSeq(w *bitWriter, vals []int64, try int) {
	if len(vals) == 0 {
		return
	}
	mode, _ := s.seqBits(vals, try)
	s.writeSized(w, vals, mode)
}

// writeSized writes vals in the mode seqBits chose for them, using what
// seqBits left in s.
func (s *seqWriter) writeSized(w *bitWriter, vals []int64, mode int) {
	if len(vals) == 0 {
		return
	}
	w.writeBits(uint64(mode), 2)
	if mode != seqRuns {
		writeFlat(w, vals, mode, s.plans[mode], &s.block)
		return
	}
	w.writeVarbits(uint64(len(s.runVals) - 1))
	for _, sub := range [][]int64{s.runVals, s.runLens} {
		m, _ := bestSub(sub, &s.block)
		w.writeBits(uint64(m), 1)
		writeFlat(w, sub, m, nil, &s.block)
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
	switch mode := int(r.readBits(2)); mode {
	case seqRaw, seqDelta, seqLinear:
		readFlat(r, dst, mode)
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
		readFlat(r, vals, int(r.readBits(1)))
		readFlat(r, lens, int(r.readBits(1)))
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
	}
}

func readFlat(r *bitReader, dst []int64, mode int) {
	if mode == seqDelta {
		dst[0] = unzigzag(r.readVarbits())
		readBlocks(r, dst[1:], mode)
		for i := 1; i < len(dst); i++ {
			dst[i] += dst[i-1]
		}
		return
	}
	readBlocks(r, dst, mode)
}

func readBlocks(r *bitReader, dst []int64, mode int) {
	var excPos [maxExceptions]int
	var excVal [maxExceptions]int64
	for start := 0; start < len(dst); start += blockLen {
		blk := dst[start:min(start+blockLen, len(dst))]
		width := uint(r.readBits(7))
		base := unzigzag(r.readVarbits())
		var slope int64
		if mode == seqLinear {
			slope = unzigzag(r.readVarbits())
		}
		ne := 0
		if r.readBit() {
			ne = int(r.readBits(2)) + 1
			for e := range ne {
				excPos[e] = int(r.readBits(posBits))
				excVal[e] = unzigzag(r.readVarbits())
				if excPos[e] >= len(blk) || (e > 0 && excPos[e] <= excPos[e-1]) {
					r.short = true
				}
			}
		}
		if width > 64 || r.short {
			r.short = true
			return
		}
		// The packed values, in the stretches between exceptions.
		k := 0
		for e := range ne + 1 {
			end := len(blk)
			if e < ne {
				end = excPos[e]
			}
			unpack(r, blk, k, end, width, base, slope)
			if e < ne {
				blk[end] = base + slope*int64(end) + excVal[e]
				k = end + 1
			}
		}
	}
}

// unpack reads blk[from:to], each value packed in width bits. Constant
// stretches (width 0: regular times, counters) read no bits at all; the
// usual widths are read straight from the reader's buffer, a call to
// refill it every few values rather than a call per value.
func unpack(r *bitReader, blk []int64, from, to int, width uint, base, slope int64) {
	switch {
	case width == 0:
		for k := from; k < to; k++ {
			blk[k] = base + slope*int64(k)
		}
	case width > 56: // more than a refill guarantees
		for k := from; k < to; k++ {
			blk[k] = base + slope*int64(k) + int64(r.readBits(width))
		}
	default:
		m := mask(width)
		for k := from; k < to; k++ {
			if r.n < width {
				r.refill()
				if r.n < width {
					r.short = true
					return
				}
			}
			r.n -= width
			blk[k] = base + slope*int64(k) + int64(r.acc>>r.n&m)
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
