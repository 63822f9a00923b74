package chunkenc

import (
	"encoding/binary"
	"strings"
)

// The int column is one encoding byte, intSeq (0), then a bitstream
// holding the values as an integer sequence (intseq.go): a counter or a
// slowly moving value goes as deltas, a status code as values.
const intSeq = 0

func (e *encoder) appendInts(dst []byte, vs []int64) []byte {
	dst = append(dst, intSeq)
	w := bitWriter{b: dst}
	try := tryAll
	if e.quick {
		try = tryDelta
	}
	e.writeSeq(&w, vs, try)
	return w.align()
}

func (d *decoder) decodeInts(b []byte, vs []int64) ([]byte, error) {
	if len(b) < 1 || b[0] != intSeq {
		return nil, corrupt("int encoding")
	}
	b = b[1:]
	r := newBitReader(b)
	d.readSeq(&r, vs, true)
	return alignOrCorrupt(&r, b, "int stream")
}

// The bool column is one encoding byte, then a bitstream:
//
//	boolBitmap (0)  one bit per point, 1 for true
//	boolRuns (1)    first:1  runs-1:varbits  run lengths as an integer
//	                sequence; runs alternate, starting with first
//
// The encoder writes the smaller: runs for a flag that rarely changes (a
// few bytes whatever the point count) or that alternates strictly (equal
// run lengths pack to 0 bits), the bitmap otherwise.
const (
	boolBitmap = 0
	boolRuns   = 1
)

func (e *encoder) appendBools(dst []byte, vs []bool) []byte {
	runs := e.ints[:0]
	start := 0
	for i := 1; i <= len(vs); i++ {
		if i == len(vs) || vs[i] != vs[start] {
			runs = append(runs, int64(i-start))
			start = i
		}
	}
	e.ints = runs
	mode, seqBits := e.seqBits(runs, tryFlat)
	runBits := 1 + varbitsLen(uint64(len(runs)-1)) + seqBits
	if runBits < len(vs) {
		dst = append(dst, boolRuns)
		w := bitWriter{b: dst}
		w.writeBit(vs[0])
		w.writeVarbits(uint64(len(runs) - 1))
		e.writeSized(&w, runs, mode)
		return w.align()
	}
	dst = append(dst, boolBitmap)
	w := bitWriter{b: dst}
	for _, v := range vs {
		w.writeBit(v)
	}
	return w.align()
}

func (d *decoder) decodeBools(b []byte, vs []bool) ([]byte, error) {
	if len(b) < 1 {
		return nil, corrupt("bool encoding")
	}
	enc, b := b[0], b[1:]
	r := newBitReader(b)
	switch enc {
	case boolBitmap:
		for i := range vs {
			vs[i] = r.readBit()
		}
	case boolRuns:
		v := r.readBit()
		nruns := r.readVarbits() + 1
		if r.short || nruns > uint64(len(vs)) {
			return nil, corrupt("bool runs")
		}
		runs := grow(&d.ints, int(nruns))
		d.readSeq(&r, runs, false)
		if r.short {
			return nil, corrupt("bool runs")
		}
		i := 0
		for _, run := range runs {
			if run < 1 || run > int64(len(vs)-i) {
				return nil, corrupt("bool run length")
			}
			for end := i + int(run); i < end; i++ {
				vs[i] = v
			}
			v = !v
		}
		if i != len(vs) {
			return nil, corrupt("bool run lengths")
		}
	default:
		return nil, corrupt("bool encoding")
	}
	return alignOrCorrupt(&r, b, "bool stream")
}

// The string column (KindString and KindBytes alike) is one encoding byte,
// strDict (0), then a dictionary of the distinct values in order of first
// appearance, then each point's index into it as an integer sequence:
//
//	count:uvarint  ( len:uvarint  bytes )×count  [bitstream]
//
// The bitstream is absent when count is 1: every index is 0.
//
// The indexes cost what an integer sequence of them costs: a status that
// rarely changes a few bits per change (runs), one of a few values 1 or 2
// bits per point, and values that never repeat almost nothing beyond their
// bytes (indexes 0, 1, 2, ... are constant deltas).
const strDict = 0

func (e *encoder) appendStrings(dst []byte, vs []string) []byte {
	if e.sdict == nil {
		e.sdict = make(map[string]int64)
	}
	dict := e.svals[:0]
	idx := grow(&e.idx, len(vs))
	for i, v := range vs {
		if i > 0 && v == vs[i-1] {
			idx[i] = idx[i-1] // a run: no look-up
			continue
		}
		j, seen := e.sdict[v]
		if !seen {
			j = int64(len(dict))
			e.sdict[v] = j
			dict = append(dict, v)
		}
		idx[i] = j
	}
	dst = append(dst, strDict)
	dst = binary.AppendUvarint(dst, uint64(len(dict)))
	for _, s := range dict {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	single := len(dict) == 1
	// Drop the references to the caller's strings before e is pooled;
	// drop a large map altogether, as clearing it would cost its size
	// on every later chunk.
	clear(dict)
	e.svals = dict[:0]
	if len(e.sdict) > 1024 {
		e.sdict = nil
	} else {
		clear(e.sdict)
	}
	if single {
		return dst // every index is 0
	}
	w := bitWriter{b: dst}
	e.writeSeq(&w, idx, tryAll)
	return w.align()
}

func (d *decoder) decodeStrings(b []byte, vs []string) ([]byte, error) {
	if len(b) < 1 || b[0] != strDict {
		return nil, corrupt("string encoding")
	}
	b = b[1:]
	count, k := binary.Uvarint(b)
	// Each entry takes at least its length byte, and a chunk has no
	// unused entries.
	if k <= 0 || count == 0 || count > uint64(len(vs)) || count > uint64(len(b)-k) {
		return nil, corrupt("string dictionary")
	}
	b = b[k:]
	// First pass: bounds, and the total size, so that every entry is a
	// substring of one allocation.
	total, p := 0, b
	for range count {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return nil, corrupt("string dictionary entry")
		}
		total += int(l)
		p = p[k+int(l):]
	}
	var sb strings.Builder
	sb.Grow(total)
	ends := grow(&d.ends, int(count))
	for i := range ends {
		l, k := binary.Uvarint(b)
		sb.Write(b[k : k+int(l)])
		ends[i] = int64(sb.Len())
		b = b[k+int(l):]
	}
	all := sb.String()
	if count == 1 {
		for i := range vs {
			vs[i] = all
		}
		return b, nil
	}
	idx := grow(&d.ints, len(vs))
	r := newBitReader(b)
	d.readSeq(&r, idx, true)
	if r.short {
		return nil, corrupt("string stream")
	}
	for i, j := range idx {
		if uint64(j) >= count {
			return nil, corrupt("string dictionary index")
		}
		start := int64(0)
		if j > 0 {
			start = ends[j-1]
		}
		vs[i] = all[start:ends[j]]
	}
	return alignOrCorrupt(&r, b, "string stream")
}
