package model

import (
	"math"
	"strconv"
	"strings"
)

// The SDKs write a BatchPutPropertyValues body in one form: entries of a
// reference and up to ten values, each a time and one scalar, with names
// and times in plain ASCII. Even through the token-level decoders of
// decode.go, encoding/json/v2 spent more on such a body than any other step
// of the call: it copies every string, allocates every pointer apart, and
// checks each token against a state machine. DecodeUsual reads that form
// alone in one pass over one copy of the body, which the decoded strings
// share. Anything else (an escape or a byte outside printable ASCII in a
// string, null, a repeated or unknown member, a list or map value, a
// number outside its type) makes it decline, and the caller decodes with
// encoding/json/v2, so results and errors stay that decoder's (FuzzUsual
// checks that the two agree on whatever DecodeUsual accepts).

// DecodeUsual decodes body into in if it has the usual form, reporting
// whether it did; when it did not, in is unchanged.
func (in *BatchPutPropertyValuesInput) DecodeUsual(body []byte) bool {
	p := PlainJSON{S: string(body)}
	var entries []PropertyValueEntry
	var seen uint8
	ok := p.members(func(name string) bool {
		if name != "entries" || !once(&seen, 1) {
			return false
		}
		entries = make([]PropertyValueEntry, 0, 10)
		return p.elements(func() bool {
			entries = append(entries, PropertyValueEntry{})
			return p.entry(&entries[len(entries)-1])
		})
	})
	if !ok || !p.End() {
		return false
	}
	in.Entries = entries
	return true
}

// PlainJSON reads JSON in the SDKs' plain form: its strings printable
// ASCII without escapes. Its readers report anything else, for the caller
// to hand the document to a full decoder. Strings it returns share S.
type PlainJSON struct {
	S string
	I int // the read position
}

// once records bit in seen, reporting false if it was there: a repeated
// member, which encoding/json/v2 refuses.
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

func (p *PlainJSON) entry(e *PropertyValueEntry) bool {
	var seen uint8
	return p.members(func(name string) bool {
		switch name {
		case "entityPropertyReference":
			return once(&seen, 1) && p.reference(&e.EntityPropertyReference)
		case "propertyValues":
			if !once(&seen, 2) {
				return false
			}
			e.PropertyValues = make([]PropertyValue, 0, 10)
			var pts []point // what the values point to, ten at a time
			return p.elements(func() bool {
				if len(pts) == 0 {
					pts = make([]point, 10)
				}
				e.PropertyValues = append(e.PropertyValues, PropertyValue{})
				ok := p.value(&e.PropertyValues[len(e.PropertyValues)-1], &pts[0])
				pts = pts[1:]
				return ok
			})
		}
		return false
	})
}

func (p *PlainJSON) reference(dst **EntityPropertyReference) bool {
	// One allocation holds the reference and the strings it points to.
	blk := new(struct {
		r EntityPropertyReference
		s [4]string
	})
	*dst = &blk.r
	var seen uint8
	return p.members(func(name string) bool {
		var f **string
		var k uint8
		switch name {
		case "componentName":
			f, k = &blk.r.ComponentName, 0
		case "componentPath":
			f, k = &blk.r.ComponentPath, 1
		case "entityId":
			f, k = &blk.r.EntityId, 2
		case "propertyName":
			f, k = &blk.r.PropertyName, 3
		default:
			return false
		}
		if !once(&seen, 1<<k) {
			return false
		}
		s, ok := p.Str()
		blk.s[k] = s
		*f = &blk.s[k]
		return ok
	})
}

// point holds what one property value points to.
type point struct {
	time string
	dv   DataValue
	d    Double
	str  string
	i32  int32
	i64  int64
	b    bool
}

func (p *PlainJSON) value(v *PropertyValue, pt *point) bool {
	if p.sdkDouble(v, pt) {
		return true
	}
	var seen uint8
	return p.members(func(name string) bool {
		switch name {
		case "time":
			if !once(&seen, 1) {
				return false
			}
			s, ok := p.Str()
			pt.time, v.Time = s, &pt.time
			return ok
		case "value":
			v.Value = &pt.dv
			return once(&seen, 2) && p.dataValue(pt)
		}
		return false
	})
}

// sdkDouble reads a double as the SDKs write it, {"time":"…","value":
// {"doubleValue":…}}, its punctuation with no spaces between, in a few
// comparisons where value reads member by member. Anything else it leaves
// unread, reporting false.
func (p *PlainJSON) sdkDouble(v *PropertyValue, pt *point) bool {
	const open, mid, end = `{"time":`, `,"value":{"doubleValue":`, `}}`
	start := p.I
	if !strings.HasPrefix(p.S[p.I:], open) {
		return false
	}
	p.I += len(open)
	if t, ok := p.Str(); ok && strings.HasPrefix(p.S[p.I:], mid) {
		p.I += len(mid)
		tok, ok := p.Number()
		if f, err := strconv.ParseFloat(tok, 64); ok && err == nil && !math.IsInf(f, 0) && strings.HasPrefix(p.S[p.I:], end) {
			p.I += len(end)
			pt.time, v.Time = t, &pt.time
			pt.d, pt.dv.DoubleValue = Double(f), &pt.d
			v.Value = &pt.dv
			return true
		}
	}
	p.I = start
	return false
}

// dataValue reads a value of one scalar member.
func (p *PlainJSON) dataValue(pt *point) bool {
	n := 0
	return p.members(func(name string) bool {
		if n++; n > 1 {
			return false
		}
		switch name {
		case "doubleValue":
			tok, ok := p.Number()
			f, err := strconv.ParseFloat(tok, 64)
			if !ok || err != nil || math.IsInf(f, 0) {
				return false
			}
			pt.d, pt.dv.DoubleValue = Double(f), &pt.d
		case "stringValue":
			s, ok := p.Str()
			if !ok {
				return false
			}
			pt.str, pt.dv.StringValue = s, &pt.str
		case "booleanValue":
			switch {
			case p.Literal("true"):
				pt.b = true
			case p.Literal("false"):
			default:
				return false
			}
			pt.dv.BooleanValue = &pt.b
		case "integerValue":
			tok, _ := p.Number()
			i, err := strconv.ParseInt(tok, 10, 32)
			if err != nil {
				return false
			}
			pt.i32, pt.dv.IntegerValue = int32(i), &pt.i32
		case "longValue":
			tok, _ := p.Number()
			i, err := strconv.ParseInt(tok, 10, 64)
			if err != nil {
				return false
			}
			pt.i64, pt.dv.LongValue = i, &pt.i64
		default:
			return false
		}
		return true
	})
}

// Peek returns the next byte after whitespace, or 0 at the end (or at a
// NUL byte).
func (p *PlainJSON) Peek() byte {
	for ; p.I < len(p.S); p.I++ {
		switch c := p.S[p.I]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// End reports whether only whitespace remains.
func (p *PlainJSON) End() bool {
	p.Peek()
	return p.I == len(p.S)
}

// Eat reads byte c after whitespace, if it comes next.
func (p *PlainJSON) Eat(c byte) bool {
	if p.Peek() != c || p.I == len(p.S) {
		return false
	}
	p.I++
	return true
}

// members reads an object, calling member with each name to read its
// value.
func (p *PlainJSON) members(member func(name string) bool) bool {
	if !p.Eat('{') {
		return false
	}
	if p.Eat('}') {
		return true
	}
	for {
		name, ok := p.Str()
		if !ok || !p.Eat(':') || !member(name) {
			return false
		}
		if p.Eat('}') {
			return true
		}
		if !p.Eat(',') {
			return false
		}
	}
}

// elements reads an array, calling elem to read each element.
func (p *PlainJSON) elements(elem func() bool) bool {
	if !p.Eat('[') {
		return false
	}
	if p.Eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.Eat(']') {
			return true
		}
		if !p.Eat(',') {
			return false
		}
	}
}

// Str reads a string of printable ASCII without escapes.
func (p *PlainJSON) Str() (string, bool) {
	if !p.Eat('"') {
		return "", false
	}
	start := p.I
	for p.I < len(p.S) && plainByte[p.S[p.I]] {
		p.I++
	}
	if p.I == len(p.S) || p.S[p.I] != '"' {
		return "", false
	}
	p.I++
	return p.S[start : p.I-1], true
}

// plainByte holds the bytes a plain string holds as they are: printable
// ASCII but the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Number reads a number as JSON's grammar has it (strconv's parsers accept
// more: "+1", ".5", "1.", "0x1p3", "Inf").
func (p *PlainJSON) Number() (string, bool) {
	p.Peek()
	start := p.I
	if p.I < len(p.S) && p.S[p.I] == '-' {
		p.I++
	}
	switch {
	case p.I < len(p.S) && p.S[p.I] == '0':
		p.I++
	case !p.digits():
		return "", false
	}
	if p.I < len(p.S) && p.S[p.I] == '.' {
		p.I++
		if !p.digits() {
			return "", false
		}
	}
	if p.I < len(p.S) && (p.S[p.I] == 'e' || p.S[p.I] == 'E') {
		p.I++
		if p.I < len(p.S) && (p.S[p.I] == '+' || p.S[p.I] == '-') {
			p.I++
		}
		if !p.digits() {
			return "", false
		}
	}
	return p.S[start:p.I], true
}

// digits reads one digit or more.
func (p *PlainJSON) digits() bool {
	start := p.I
	for p.I < len(p.S) && '0' <= p.S[p.I] && p.S[p.I] <= '9' {
		p.I++
	}
	return p.I > start
}

// Literal reads lit (true, false or null) if it comes next.
func (p *PlainJSON) Literal(lit string) bool {
	p.Peek()
	if len(p.S)-p.I < len(lit) || p.S[p.I:p.I+len(lit)] != lit {
		return false
	}
	p.I += len(lit)
	return true
}
