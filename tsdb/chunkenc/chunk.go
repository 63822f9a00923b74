package chunkenc

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Kind is the type of a chunk's values.
type Kind uint8

// The value kinds. The zero Kind is invalid, so a zero Chunk does not
// encode by accident.
const (
	KindDouble Kind = iota + 1 // TwinMaker DOUBLE: Chunk.Doubles
	KindInt                    // TwinMaker INTEGER and LONG: Chunk.Ints
	KindBool                   // TwinMaker BOOLEAN: Chunk.Bools
	KindString                 // TwinMaker STRING: Chunk.Strings
	KindBytes                  // LIST, MAP, RELATIONSHIP as canonical JSON: Chunk.Strings
)

var kindNames = [...]string{KindDouble: "double", KindInt: "int", KindBool: "bool", KindString: "string", KindBytes: "bytes"}

func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) valid() bool { return k >= KindDouble && k <= KindBytes }

// MaxPoints is the most points one encoded chunk may hold. Encode refuses
// more (Split first); Decode refuses a header claiming more.
const MaxPoints = 1 << 16

var (
	// ErrInvalid wraps every error Encode and Validate return for a chunk
	// that cannot be encoded.
	ErrInvalid = errors.New("chunkenc: invalid chunk")
	// ErrCorrupt wraps every error Decode returns for bytes that are not
	// a chunk.
	ErrCorrupt = errors.New("chunkenc: corrupt chunk")
)

// Chunk is the decoded, columnar form of some points of one series: Times
// in Unix nanoseconds, strictly increasing, and exactly one value column,
// chosen by Kind, with the same length as Times. The other value columns
// are empty (nil in decoded chunks).
//
// Chunks returned by Slice and Split share memory with the chunk they come
// from (with capacities clipped, so an append never overwrites it); Merge
// and Decode return fresh memory.
type Chunk struct {
	Kind    Kind
	Times   []int64
	Doubles []float64 // KindDouble
	Ints    []int64   // KindInt
	Bools   []bool    // KindBool
	Strings []string  // KindString, and KindBytes (the bytes as a string)
}

// Len returns the number of points. A nil chunk has none.
func (c *Chunk) Len() int {
	if c == nil {
		return 0
	}
	return len(c.Times)
}

// Bounds returns the first and last time; ok is false for an empty chunk.
func (c *Chunk) Bounds() (first, last int64, ok bool) {
	if c.Len() == 0 {
		return 0, 0, false
	}
	return c.Times[0], c.Times[len(c.Times)-1], true
}

// valueLen returns the length of the value column Kind selects, and
// whether every other value column is empty.
func (c *Chunk) valueLen() (n int, othersEmpty bool) {
	d, i, b, s := len(c.Doubles), len(c.Ints), len(c.Bools), len(c.Strings)
	switch c.Kind {
	case KindDouble:
		return d, i+b+s == 0
	case KindInt:
		return i, d+b+s == 0
	case KindBool:
		return b, d+i+s == 0
	default:
		return s, d+i+b == 0
	}
}

// Validate reports whether c can be encoded: a known kind, a value column
// as long as Times and no other, strictly increasing times, and at most
// MaxPoints points. The error wraps ErrInvalid.
func (c *Chunk) Validate() error {
	if c == nil {
		return fmt.Errorf("%w: nil", ErrInvalid)
	}
	if !c.Kind.valid() {
		return fmt.Errorf("%w: unknown kind %d", ErrInvalid, c.Kind)
	}
	n, othersEmpty := c.valueLen()
	if n != len(c.Times) {
		return fmt.Errorf("%w: %d times but %d %s values", ErrInvalid, len(c.Times), n, c.Kind)
	}
	if !othersEmpty {
		return fmt.Errorf("%w: a %s chunk has values in another column", ErrInvalid, c.Kind)
	}
	if n > MaxPoints {
		return fmt.Errorf("%w: %d points, more than %d", ErrInvalid, n, MaxPoints)
	}
	for i := 1; i < len(c.Times); i++ {
		if c.Times[i] <= c.Times[i-1] {
			return fmt.Errorf("%w: time %d at index %d does not follow %d", ErrInvalid, c.Times[i], i, c.Times[i-1])
		}
	}
	return nil
}

// sub returns the points [i, j) of c, sharing its memory.
func (c *Chunk) sub(i, j int) *Chunk {
	out := &Chunk{Kind: c.Kind, Times: c.Times[i:j:j]}
	switch c.Kind {
	case KindDouble:
		out.Doubles = c.Doubles[i:j:j]
	case KindInt:
		out.Ints = c.Ints[i:j:j]
	case KindBool:
		out.Bools = c.Bools[i:j:j]
	default:
		out.Strings = c.Strings[i:j:j]
	}
	return out
}

// Slice returns the points with from <= t < to, sharing c's memory. It
// needs c's times sorted (as Validate checks).
func (c *Chunk) Slice(from, to int64) *Chunk {
	if c == nil {
		return nil
	}
	i, _ := slices.BinarySearch(c.Times, from)
	j, _ := slices.BinarySearch(c.Times, to)
	j = max(i, j) // from > to: empty
	return c.sub(i, j)
}

// Split cuts c into consecutive chunks of maxPoints points, the last one
// holding the rest, sharing c's memory. A maxPoints below 1 or above
// MaxPoints means MaxPoints, so every part fits in one encoded chunk. An
// empty chunk gives no parts.
func Split(c *Chunk, maxPoints int) []*Chunk {
	if maxPoints < 1 || maxPoints > MaxPoints {
		maxPoints = MaxPoints
	}
	n := c.Len()
	parts := make([]*Chunk, 0, (n+maxPoints-1)/maxPoints)
	for i := 0; i < n; i += maxPoints {
		parts = append(parts, c.sub(i, min(i+maxPoints, n)))
	}
	return parts
}

// Merge returns the union of a and b by time, in fresh memory; where both
// hold a point at the same time, b's value wins (a value written twice
// for a time replaces the first). Both must be sorted. A nil or empty
// chunk takes the other's kind; Merge panics if both hold points and their
// kinds differ: a series has one kind, so that is a caller's bug.
func Merge(a, b *Chunk) *Chunk {
	if a == nil && b == nil {
		return nil
	}
	if a.Len() > 0 && b.Len() > 0 && a.Kind != b.Kind {
		panic(fmt.Sprintf("chunkenc: Merge of a %s chunk and a %s chunk", a.Kind, b.Kind))
	}
	kind := b.kindOr(a.kindOr(0))
	if b.Len() == 0 {
		kind = a.kindOr(kind)
	}
	if a == nil {
		a = &Chunk{}
	}
	if b == nil {
		b = &Chunk{}
	}
	// Count the union first, so that every column is allocated once.
	n := 0
	for i, j := 0, 0; i < len(a.Times) || j < len(b.Times); n++ {
		switch {
		case j == len(b.Times) || (i < len(a.Times) && a.Times[i] < b.Times[j]):
			i++
		case i == len(a.Times) || b.Times[j] < a.Times[i]:
			j++
		default:
			i++
			j++
		}
	}
	out := alloc(kind, n)
	out.appendMerge(a, b)
	return out
}

// MergeAll merges chunks in order, a later chunk's value winning on equal
// times, as folding Merge over them would, in fresh memory; nil when none
// holds a point. Kinds as for Merge.
//
// It merges in place, in one allocation: a chunk that starts after the
// points before it end (the usual run of appends) is copied on, and one
// that starts earlier is merged with only the points from its first time
// on. Deltas written by concurrent requests often commit a little out of
// order, and folding Merge over them copied everything gathered so far at
// each one.
func MergeAll(cs []*Chunk) *Chunk {
	n := 0
	var kind Kind
	for _, c := range cs {
		if c.Len() > 0 {
			if n > 0 && c.Kind != kind {
				panic(fmt.Sprintf("chunkenc: MergeAll of a %s chunk and a %s chunk", kind, c.Kind))
			}
			n += c.Len()
			kind = c.Kind
		}
	}
	if n == 0 {
		return nil
	}
	acc := alloc(kind, n) // the union holds at most n points: no append reallocates
	tail := &Chunk{Kind: kind}
	for _, c := range cs {
		if c.Len() == 0 {
			continue
		}
		if k := len(acc.Times); k == 0 || c.Times[0] > acc.Times[k-1] {
			acc.appendMerge(c, &Chunk{})
			continue
		}
		p, _ := slices.BinarySearch(acc.Times, c.Times[0])
		tail.truncate(0).appendMerge(acc.sub(p, len(acc.Times)), &Chunk{})
		acc.truncate(p).appendMerge(tail, c)
	}
	return acc
}

// alloc returns a chunk of kind without points and with room for n.
func alloc(kind Kind, n int) *Chunk {
	c := &Chunk{Kind: kind, Times: make([]int64, 0, n)}
	switch kind {
	case KindDouble:
		c.Doubles = make([]float64, 0, n)
	case KindInt:
		c.Ints = make([]int64, 0, n)
	case KindBool:
		c.Bools = make([]bool, 0, n)
	default:
		c.Strings = make([]string, 0, n)
	}
	return c
}

// truncate keeps c's first n points and returns c.
func (c *Chunk) truncate(n int) *Chunk {
	c.Times = c.Times[:n]
	switch c.Kind {
	case KindDouble:
		c.Doubles = c.Doubles[:n]
	case KindInt:
		c.Ints = c.Ints[:n]
	case KindBool:
		c.Bools = c.Bools[:n]
	default:
		c.Strings = c.Strings[:n]
	}
	return c
}

// appendMerge appends to c the union of a and b by time, b winning on
// equal times. a and b must be sorted, of c's kind or empty, and share no
// memory with what c appends to.
func (c *Chunk) appendMerge(a, b *Chunk) {
	switch c.Kind {
	case KindDouble:
		c.Times, c.Doubles = mergeColumns(c.Times, c.Doubles, a.Times, a.Doubles, b.Times, b.Doubles)
	case KindInt:
		c.Times, c.Ints = mergeColumns(c.Times, c.Ints, a.Times, a.Ints, b.Times, b.Ints)
	case KindBool:
		c.Times, c.Bools = mergeColumns(c.Times, c.Bools, a.Times, a.Bools, b.Times, b.Bools)
	default:
		c.Times, c.Strings = mergeColumns(c.Times, c.Strings, a.Times, a.Strings, b.Times, b.Strings)
	}
}

// mergeColumns appends to (ts, vs) the union of the points (at, av) and
// (bt, bv) by time, b's value winning on equal times.
func mergeColumns[V any](ts []int64, vs []V, at []int64, av []V, bt []int64, bv []V) ([]int64, []V) {
	i, j := 0, 0
	for i < len(at) && j < len(bt) {
		switch {
		case at[i] < bt[j]:
			ts, vs = append(ts, at[i]), append(vs, av[i])
			i++
		case bt[j] < at[i]:
			ts, vs = append(ts, bt[j]), append(vs, bv[j])
			j++
		default:
			ts, vs = append(ts, bt[j]), append(vs, bv[j])
			i++
			j++
		}
	}
	ts, vs = append(ts, at[i:]...), append(vs, av[i:]...)
	return append(ts, bt[j:]...), append(vs, bv[j:]...)
}

func (c *Chunk) kindOr(k Kind) Kind {
	if c == nil {
		return k
	}
	return c.Kind
}

// Equal reports whether a and b hold the same kind and points, comparing
// doubles by their bits (so NaN equals the same NaN, and -0 differs from
// +0). Nil and empty columns are equal; a nil chunk equals an empty one of
// any kind.
func Equal(a, b *Chunk) bool {
	if a.Len() == 0 || b.Len() == 0 {
		return a.Len() == b.Len() && (a == nil || b == nil || a.Kind == b.Kind)
	}
	if a.Kind != b.Kind || !slices.Equal(a.Times, b.Times) {
		return false
	}
	switch a.Kind {
	case KindDouble:
		return slices.EqualFunc(a.Doubles, b.Doubles, func(x, y float64) bool {
			return math.Float64bits(x) == math.Float64bits(y)
		})
	case KindInt:
		return slices.Equal(a.Ints, b.Ints)
	case KindBool:
		return slices.Equal(a.Bools, b.Bools)
	default:
		return slices.Equal(a.Strings, b.Strings)
	}
}
