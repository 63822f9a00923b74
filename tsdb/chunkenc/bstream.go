package chunkenc

import (
	"encoding/binary"
	"math/bits"
)

// bitWriter appends bits, most significant first, to a byte slice; like
// Prometheus' bstream, but with a 64-bit accumulator that goes to the
// slice eight bytes at a time.
type bitWriter struct {
	b   []byte
	acc uint64 // the low n bits are pending output (higher bits: junk)
	n   uint   // 0..64
}

// writeBits writes the low nbits bits of v (nbits <= 64).
func (w *bitWriter) writeBits(v uint64, nbits uint) {
	v &= mask(nbits)
	free := 64 - w.n
	if nbits <= free {
		w.acc = w.acc<<nbits | v // a shift by 64 gives 0
		w.n += nbits
		return
	}
	// Fill the accumulator with the high bits of v, flush it, and keep
	// the rest.
	rest := nbits - free
	w.b = binary.BigEndian.AppendUint64(w.b, w.acc<<free|v>>rest)
	w.acc, w.n = v, rest
}

func (w *bitWriter) writeBit(bit bool) {
	if bit {
		w.writeBits(1, 1)
	} else {
		w.writeBits(0, 1)
	}
}

// writeVarbits writes v as a 7-bit length L = bits.Len64(v) followed by the
// L significant bits of v: 7 bits for 0, 8 for 1, 71 for 1<<63.
func (w *bitWriter) writeVarbits(v uint64) {
	l := uint(bits.Len64(v))
	w.writeBits(uint64(l), 7)
	w.writeBits(v, l)
}

// align flushes the pending bits, padded with zero bits to a byte
// boundary, and returns the stream.
func (w *bitWriter) align() []byte {
	if w.n > 0 {
		top := w.acc << (64 - w.n)
		for i := uint(0); i < w.n; i += 8 {
			w.b = append(w.b, byte(top>>56))
			top <<= 8
		}
		w.acc, w.n = 0, 0
	}
	return w.b
}

// bitReader reads what bitWriter wrote. Reading past the end does not
// panic: it returns zeros and sets short, which callers check once per column
// (every loop that reads is bounded by a point count checked beforehand).
type bitReader struct {
	b     []byte // bytes not yet moved into acc
	acc   uint64 // the low n bits are buffered input
	n     uint
	short bool // a read ran past the end
}

func newBitReader(b []byte) bitReader { return bitReader{b: b} }

// readBits reads nbits bits (nbits <= 64).
func (r *bitReader) readBits(nbits uint) uint64 {
	if nbits <= r.n {
		r.n -= nbits
		return (r.acc >> r.n) & mask(nbits)
	}
	return r.readBitsSlow(nbits)
}

func (r *bitReader) readBitsSlow(nbits uint) uint64 {
	if nbits > 32 {
		hi := r.readBits(nbits - 32)
		return hi<<32 | r.readBits(32)
	}
	r.refill()
	if nbits > r.n {
		r.short = true
		r.n = 0
		return 0
	}
	r.n -= nbits
	return (r.acc >> r.n) & mask(nbits)
}

func (r *bitReader) readBit() bool { return r.readBits(1) == 1 }

// readVarbits reads what writeVarbits wrote.
func (r *bitReader) readVarbits() uint64 {
	l := r.readBits(7)
	if l > 64 {
		r.short = true // a corrupt length: report it like a short stream
		return 0
	}
	return r.readBits(uint(l))
}

// refill moves whole bytes into the accumulator until it holds more than
// 56 bits or the input is exhausted.
func (r *bitReader) refill() {
	if len(r.b) >= 8 {
		k := (64 - r.n) / 8 // whole bytes that fit
		word := binary.BigEndian.Uint64(r.b)
		r.acc = r.acc<<(8*k) | word>>(64-8*k)
		r.b = r.b[k:]
		r.n += 8 * k
		return
	}
	for r.n <= 56 && len(r.b) > 0 {
		r.acc = r.acc<<8 | uint64(r.b[0])
		r.b = r.b[1:]
		r.n += 8
	}
}

// align ends a bit stream: the bits left before the next byte boundary must
// be zero padding. It returns the bytes after the stream, or ok == false.
func (r *bitReader) align(all []byte) (rest []byte, ok bool) {
	if r.short {
		return nil, false
	}
	// The n buffered bits are the rest of the current byte (padding),
	// then whole bytes that belong to what follows the stream.
	whole := r.n / 8
	if (r.acc>>(8*whole))&mask(r.n%8) != 0 {
		return nil, false
	}
	consumed := len(all) - len(r.b) - int(whole)
	return all[consumed:], true
}

// mask returns a mask of the low n bits (n <= 64).
func mask(n uint) uint64 { return uint64(1)<<n - 1 }
