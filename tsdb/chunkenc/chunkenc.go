package chunkenc

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// Version is the format version, the first byte of every chunk.
const Version = 1

// The chunk layout (FORMAT.md draws every part):
//
//	version:u8  kind:u8  n:uvarint  [time column]  [value column]
//
// The columns are absent when n == 0; each starts on a byte boundary and
// ends with its bitstream padded by zero bits to the next one. Nothing
// follows the value column.

// encoder holds scratch memory that Encode reuses across calls.
type encoder struct {
	seqWriter
	buf   []byte
	ints  []int64
	idx   []int64
	fvals []uint64
	fdict map[uint64]int64
	svals []string
	sdict map[string]int64
	quick bool // EncodeQuick
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// decoder holds scratch memory that Decode reuses across calls.
type decoder struct {
	seqReader
	ints []int64
	ends []int64
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// maxScratch bounds the scratch a pooled encoder or decoder keeps, so one
// huge chunk does not pin its memory.
const maxScratch = 1 << 16

// grow returns (*s)[:n], reallocating *s if it is too small.
func grow[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	*s = (*s)[:n]
	return *s
}

// Encode appends the encoding of c to dst and returns the extended slice.
// It fails, with an error wrapping ErrInvalid, when c does not Validate.
func Encode(dst []byte, c *Chunk) ([]byte, error) {
	return encode(dst, c, false)
}

// EncodeQuick is Encode for a chunk that lives briefly, such as a write's
// delta, which a compaction soon encodes again: the same format, in the
// first encodings that fit rather than the smallest (deltas of times, XOR
// doubles, deltas of integers), which costs a fraction of the search.
func EncodeQuick(dst []byte, c *Chunk) ([]byte, error) {
	return encode(dst, c, true)
}

func encode(dst []byte, c *Chunk, quick bool) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return dst, err
	}
	n := c.Len()
	dst = append(dst, Version, byte(c.Kind))
	dst = binary.AppendUvarint(dst, uint64(n))
	if n == 0 {
		return dst, nil
	}
	e := encoders.Get().(*encoder)
	e.quick = quick
	dst = e.appendTimes(dst, c.Times)
	switch c.Kind {
	case KindDouble:
		dst = e.appendDoubles(dst, c.Doubles)
	case KindInt:
		dst = e.appendInts(dst, c.Ints)
	case KindBool:
		dst = e.appendBools(dst, c.Bools)
	default:
		dst = e.appendStrings(dst, c.Strings)
	}
	if n <= maxScratch && cap(e.buf) <= 8*maxScratch {
		encoders.Put(e)
	}
	return dst, nil
}

// Header is what the first bytes of a chunk tell.
type Header struct {
	Kind  Kind
	Len   int   // number of points
	First int64 // the first time; 0 when Len == 0
}

// ReadHeader reads a chunk's header without decoding its columns. It
// checks only the header: Decode may still find the chunk corrupt.
func ReadHeader(b []byte) (Header, error) {
	h, rest, err := readHeader(b)
	if err != nil || h.Len == 0 {
		return h, err
	}
	t0, k := binary.Varint(rest)
	if k <= 0 {
		return Header{}, corrupt("first time")
	}
	h.First = t0
	return h, nil
}

// readHeader reads version, kind and point count, and checks that the
// rest of b can hold that many points before anyone allocates for them.
func readHeader(b []byte) (Header, []byte, error) {
	if len(b) < 3 {
		return Header{}, nil, corrupt("short header")
	}
	if b[0] != Version {
		return Header{}, nil, corrupt(fmt.Sprintf("version %d", b[0]))
	}
	kind := Kind(b[1])
	if !kind.valid() {
		return Header{}, nil, corrupt(fmt.Sprintf("kind %d", b[1]))
	}
	n, k := binary.Uvarint(b[2:])
	rest := b[2+max(k, 0):]
	switch {
	case k <= 0:
		return Header{}, nil, corrupt("point count")
	case n > MaxPoints:
		return Header{}, nil, corrupt(fmt.Sprintf("%d points, more than %d", n, MaxPoints))
	case n > 0 && len(rest) < 2, // a first time and a value encoding at least
		minTimeBits(int(n)) > 8*len(rest):
		return Header{}, nil, corrupt(fmt.Sprintf("%d points in %d bytes", n, len(rest)))
	}
	return Header{Kind: kind, Len: int(n)}, rest, nil
}

// Decode decodes a chunk that Encode produced. It checks everything (the
// result Validates, and no byte is left over) and fails with an error
// wrapping ErrCorrupt otherwise; it never panics, and allocates in
// proportion to the input's length (at most for MaxPoints points).
func Decode(b []byte) (*Chunk, error) {
	c := new(Chunk)
	if err := DecodeInto(c, b); err != nil {
		return nil, err
	}
	return c, nil
}

// DecodeInto is Decode into c, reusing the memory of c's columns of the
// decoded kind; its other columns become nil. On error, c's contents are
// unspecified.
func DecodeInto(c *Chunk, b []byte) error {
	h, b, err := readHeader(b)
	if err != nil {
		return err
	}
	n := h.Len
	c.Kind = h.Kind
	c.Times = grow(&c.Times, n)
	d := decoders.Get().(*decoder)
	defer func() {
		if cap(d.ints) <= maxScratch && cap(d.runs) <= maxScratch {
			decoders.Put(d)
		}
	}()
	if b, err = d.decodeTimes(b, c.Times); err != nil {
		return err
	}
	var doubles []float64
	var ints []int64
	var bools []bool
	var strs []string
	if n > 0 {
		switch c.Kind {
		case KindDouble:
			doubles = grow(&c.Doubles, n)
			b, err = d.decodeDoubles(b, doubles)
		case KindInt:
			ints = grow(&c.Ints, n)
			b, err = d.decodeInts(b, ints)
		case KindBool:
			bools = grow(&c.Bools, n)
			b, err = d.decodeBools(b, bools)
		default:
			strs = grow(&c.Strings, n)
			b, err = d.decodeStrings(b, strs)
		}
	}
	if err != nil {
		return err
	}
	if len(b) != 0 {
		return corrupt(fmt.Sprintf("%d bytes after the chunk", len(b)))
	}
	if n == 0 {
		c.Times = nil
	}
	c.Doubles, c.Ints, c.Bools, c.Strings = doubles, ints, bools, strs
	return nil
}

// DecodeTimes decodes only the times of a chunk, for callers that look
// for a time before they need values. It checks the header and the time
// column, not the value column.
func DecodeTimes(b []byte) ([]int64, error) {
	h, b, err := readHeader(b)
	if err != nil || h.Len == 0 {
		return nil, err
	}
	ts := make([]int64, h.Len)
	var s seqReader // time columns have no runs, so no scratch
	if _, err := s.decodeTimes(b, ts); err != nil {
		return nil, err
	}
	return ts, nil
}

func corrupt(what string) error { return fmt.Errorf("%w: %s", ErrCorrupt, what) }

// alignOrCorrupt ends a column's bitstream (see bitReader.align).
func alignOrCorrupt(r *bitReader, b []byte, what string) ([]byte, error) {
	rest, ok := r.align(b)
	if !ok {
		return nil, corrupt(what)
	}
	return rest, nil
}
