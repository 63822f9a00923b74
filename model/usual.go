package model

import (
	"math"
	"strconv"
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
	p := scanner{s: string(body)}
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
	if p.peek(); !ok || p.i != len(p.s) {
		return false
	}
	in.Entries = entries
	return true
}

// scanner reads JSON from s, which decoded strings share.
type scanner struct {
	s string
	i int
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

func (p *scanner) entry(e *PropertyValueEntry) bool {
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

func (p *scanner) reference(dst **EntityPropertyReference) bool {
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
		s, ok := p.str()
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

func (p *scanner) value(v *PropertyValue, pt *point) bool {
	var seen uint8
	return p.members(func(name string) bool {
		switch name {
		case "time":
			if !once(&seen, 1) {
				return false
			}
			s, ok := p.str()
			pt.time, v.Time = s, &pt.time
			return ok
		case "value":
			v.Value = &pt.dv
			return once(&seen, 2) && p.dataValue(pt)
		}
		return false
	})
}

// dataValue reads a value of one scalar member.
func (p *scanner) dataValue(pt *point) bool {
	n := 0
	return p.members(func(name string) bool {
		if n++; n > 1 {
			return false
		}
		switch name {
		case "doubleValue":
			tok, ok := p.number()
			f, err := strconv.ParseFloat(tok, 64)
			if !ok || err != nil || math.IsInf(f, 0) {
				return false
			}
			pt.d, pt.dv.DoubleValue = Double(f), &pt.d
		case "stringValue":
			s, ok := p.str()
			if !ok {
				return false
			}
			pt.str, pt.dv.StringValue = s, &pt.str
		case "booleanValue":
			switch {
			case p.literal("true"):
				pt.b = true
			case p.literal("false"):
			default:
				return false
			}
			pt.dv.BooleanValue = &pt.b
		case "integerValue":
			tok, _ := p.number()
			i, err := strconv.ParseInt(tok, 10, 32)
			if err != nil {
				return false
			}
			pt.i32, pt.dv.IntegerValue = int32(i), &pt.i32
		case "longValue":
			tok, _ := p.number()
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

// peek returns the next byte after whitespace, or 0 at the end (or at a
// NUL byte).
func (p *scanner) peek() byte {
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

func (p *scanner) eat(c byte) bool {
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// members reads an object, calling member with each name to read its
// value.
func (p *scanner) members(member func(name string) bool) bool {
	if !p.eat('{') {
		return false
	}
	if p.eat('}') {
		return true
	}
	for {
		name, ok := p.str()
		if !ok || !p.eat(':') || !member(name) {
			return false
		}
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

// elements reads an array, calling elem to read each element.
func (p *scanner) elements(elem func() bool) bool {
	if !p.eat('[') {
		return false
	}
	if p.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.eat(']') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}

// str reads a string of printable ASCII without escapes.
func (p *scanner) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	for start := p.i; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return p.s[start : p.i-1], true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", false
		}
	}
	return "", false
}

// number reads a number as JSON's grammar has it (strconv's parsers accept
// more: "+1", ".5", "1.", "0x1p3", "Inf").
func (p *scanner) number() (string, bool) {
	p.peek()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case !p.digits():
		return "", false
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if !p.digits() {
			return "", false
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return "", false
		}
	}
	return p.s[start:p.i], true
}

// digits reads one digit or more.
func (p *scanner) digits() bool {
	start := p.i
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

func (p *scanner) literal(lit string) bool {
	p.peek()
	if len(p.s)-p.i < len(lit) || p.s[p.i:p.i+len(lit)] != lit {
		return false
	}
	p.i += len(lit)
	return true
}
