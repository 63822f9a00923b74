package node

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/audit"
)

// redacted renders v as JSON with sensitive members hidden; for a data
// event, property values are left out and only their references kept.
// The document is copied token by token, never decoded into a tree: a
// request's parameters are redacted on the path of every call.
func redacted(v any, data bool) json.RawMessage {
	if p, ok := v.(*api.RequestParams); ok {
		if b, ok := redactPlain(p, data); ok {
			return b
		}
	}
	return redactTokens(v, data)
}

// redactTokens is redacted, copying token by token.
func redactTokens(v any, data bool) json.RawMessage {
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out, jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	var err error
	switch v := v.(type) {
	case *api.RequestParams:
		err = redactParams(enc, v, data)
	default:
		var raw []byte
		if raw, err = json.Marshal(v); err == nil {
			err = redactValue(newDecoder(raw), enc, data)
		}
	}
	if err != nil {
		return json.RawMessage("null")
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

func newDecoder(raw []byte) *jsontext.Decoder {
	return jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
}

// redactParams writes a request's parameters as one object: the body's
// members, then the path labels and query parameters, which stand for a
// body member of the same name.
func redactParams(enc *jsontext.Encoder, p *api.RequestParams, data bool) error {
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	if len(bytes.TrimSpace(p.Body)) > 0 {
		dec := newDecoder(p.Body)
		if dec.PeekKind() == '{' {
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			for dec.PeekKind() != '}' {
				name, err := dec.ReadToken()
				if err != nil {
					return err
				}
				k := name.String()
				if _, ok := p.Extra[k]; ok {
					if _, err := dec.ReadValue(); err != nil {
						return err
					}
					continue
				}
				if err := enc.WriteToken(name); err != nil {
					return err
				}
				if err := redactMember(dec, enc, k, data); err != nil {
					return err
				}
			}
		}
	}
	keys := make([]string, 0, len(p.Extra))
	for k := range p.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := p.Extra[k]
		switch {
		case hiddenMember(k, data):
			v = audit.Hidden
		case member(urlMember, k):
			v = bareURL(v)
		}
		if err := enc.WriteToken(jsontext.String(k)); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.String(v)); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

// redactValue copies the next value from dec to enc, hiding what it must.
func redactValue(dec *jsontext.Decoder, enc *jsontext.Encoder, data bool) error {
	switch dec.PeekKind() {
	case '{':
		if err := copyToken(dec, enc); err != nil {
			return err
		}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return err
			}
			if err := enc.WriteToken(name); err != nil {
				return err
			}
			if err := redactMember(dec, enc, name.String(), data); err != nil {
				return err
			}
		}
		return copyToken(dec, enc)
	case '[':
		if err := copyToken(dec, enc); err != nil {
			return err
		}
		for dec.PeekKind() != ']' {
			if err := redactValue(dec, enc, data); err != nil {
				return err
			}
		}
		return copyToken(dec, enc)
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return enc.WriteValue(v)
}

// redactMember copies the value of member k.
func redactMember(dec *jsontext.Decoder, enc *jsontext.Encoder, k string, data bool) error {
	switch {
	case hiddenMember(k, data):
		// ReadValue consumes a whole value at once; SkipValue reads it
		// token by token.
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return enc.WriteToken(jsontext.String(audit.Hidden))
	case member(urlMember, k) && dec.PeekKind() == '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		return enc.WriteToken(jsontext.String(bareURL(tok.String())))
	}
	return redactValue(dec, enc, data)
}

func copyToken(dec *jsontext.Decoder, enc *jsontext.Encoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	return enc.WriteToken(tok)
}

// hiddenMember reports whether member k's value is never recorded: a
// secret, or, in a data event, property values.
func hiddenMember(k string, data bool) bool {
	if member(sensitive, k) {
		return true
	}
	return data && (strings.EqualFold(k, "propertyValues") || strings.EqualFold(k, "value") || strings.EqualFold(k, "values"))
}

// member reports whether k names a member of set, folded as the JSON
// decoders fold member names (so "ſecretString" is secretString too).
func member(set map[string]bool, k string) bool {
	if isASCII(k) {
		// For ASCII, the lower-case lookup is the whole fold; names
		// are short, and lowered on the stack.
		var buf [64]byte
		if len(k) <= len(buf) {
			for i := 0; i < len(k); i++ {
				c := k[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf[i] = c
			}
			return set[string(buf[:len(k)])]
		}
		return set[strings.ToLower(k)]
	}
	if set[strings.ToLower(k)] {
		return true
	}
	for name := range set {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// redactPlain is redactParams for the usual body, JSON whose names and
// strings are printable ASCII without escapes: it copies the body byte by
// byte, where redactParams re-encodes it token by token (for a full
// BatchPut, a tenth of the server's work on the call). It declines anything
// else, and a member it would rewrite (a URL), leaving the work to
// redactParams; FuzzRedactPlain holds the two to the same bytes.
func redactPlain(p *api.RequestParams, data bool) (json.RawMessage, bool) {
	w := plainCopy{s: string(p.Body), data: data}
	w.out = make([]byte, 0, 256)
	w.out = append(w.out, '{')
	n := 0 // members written
	if w.peek() != 0 {
		if !w.eat('{') {
			return nil, false
		}
		for more := !w.eat('}'); more; {
			k, ok := w.str()
			if !ok || !w.eat(':') {
				return nil, false
			}
			if _, ok := p.Extra[k]; ok {
				// A path label or query parameter stands for it.
				if !w.skip(0) {
					return nil, false
				}
			} else {
				if n > 0 {
					w.out = append(w.out, ',')
				}
				n++
				if !w.member(k, 0) {
					return nil, false
				}
			}
			if more = !w.eat('}'); more && !w.eat(',') {
				return nil, false
			}
		}
		if w.peek(); w.i != len(w.s) {
			return nil, false
		}
	}
	keys := make([]string, 0, len(p.Extra))
	for k := range p.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var err error
	for _, k := range keys {
		v := p.Extra[k]
		switch {
		case hiddenMember(k, data):
			v = audit.Hidden
		case member(urlMember, k):
			v = bareURL(v)
		}
		if n > 0 {
			w.out = append(w.out, ',')
		}
		n++
		if w.out, err = jsontext.AppendQuote(w.out, k); err != nil {
			return nil, false
		}
		w.out = append(w.out, ':')
		if w.out, err = jsontext.AppendQuote(w.out, v); err != nil {
			return nil, false
		}
	}
	return append(w.out, '}'), true
}

// plainCopy copies JSON from s to out, hiding what redactMember hides.
type plainCopy struct {
	s    string
	i    int
	out  []byte
	data bool
}

// maxPlainDepth bounds the nesting plainCopy follows; deeper documents
// go to the tokenizer, whose own limit answers them.
const maxPlainDepth = 64

// member copies the value of member k as `"k":value`, hidden if it must be.
func (w *plainCopy) member(k string, depth int) bool {
	w.out = append(w.out, '"')
	w.out = append(w.out, k...)
	w.out = append(w.out, '"', ':')
	switch {
	case hiddenMember(k, w.data):
		w.out = append(w.out, `"`+audit.Hidden+`"`...)
		return w.skip(depth)
	case member(urlMember, k):
		return false
	}
	return w.value(depth)
}

// value copies one value.
func (w *plainCopy) value(depth int) bool {
	if depth > maxPlainDepth {
		return false
	}
	switch c := w.peek(); {
	case c == '{':
		w.i++
		w.out = append(w.out, '{')
		if w.eat('}') {
			w.out = append(w.out, '}')
			return true
		}
		for {
			k, ok := w.str()
			if !ok || !w.eat(':') || !w.member(k, depth+1) {
				return false
			}
			if w.eat('}') {
				w.out = append(w.out, '}')
				return true
			}
			if !w.eat(',') {
				return false
			}
			w.out = append(w.out, ',')
		}
	case c == '[':
		w.i++
		w.out = append(w.out, '[')
		if w.eat(']') {
			w.out = append(w.out, ']')
			return true
		}
		for {
			if !w.value(depth + 1) {
				return false
			}
			if w.eat(']') {
				w.out = append(w.out, ']')
				return true
			}
			if !w.eat(',') {
				return false
			}
			w.out = append(w.out, ',')
		}
	case c == '"':
		s, ok := w.str()
		w.out = append(w.out, '"')
		w.out = append(w.out, s...)
		w.out = append(w.out, '"')
		return ok
	case c == '-' || '0' <= c && c <= '9':
		start := w.i
		if !w.number() {
			return false
		}
		w.out = append(w.out, w.s[start:w.i]...)
		return true
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(w.s[w.i:], lit) {
			w.i += len(lit)
			w.out = append(w.out, lit...)
			return true
		}
	}
	return false
}

// skip reads one value and checks it as value would, writing nothing.
func (w *plainCopy) skip(depth int) bool {
	if depth > maxPlainDepth {
		return false
	}
	switch c := w.peek(); {
	case c == '{' || c == '[':
		w.i++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if w.eat(end) {
			return true
		}
		for {
			if c == '{' {
				if _, ok := w.str(); !ok || !w.eat(':') {
					return false
				}
			}
			if !w.skip(depth + 1) {
				return false
			}
			if w.eat(end) {
				return true
			}
			if !w.eat(',') {
				return false
			}
		}
	case c == '"':
		_, ok := w.str()
		return ok
	case c == '-' || '0' <= c && c <= '9':
		return w.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(w.s[w.i:], lit) {
			w.i += len(lit)
			return true
		}
	}
	return false
}

// peek returns the next byte after whitespace, or 0 at the end.
func (w *plainCopy) peek() byte {
	for ; w.i < len(w.s); w.i++ {
		switch c := w.s[w.i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

func (w *plainCopy) eat(c byte) bool {
	if w.peek() != c || w.i == len(w.s) {
		return false
	}
	w.i++
	return true
}

// str reads a string of printable ASCII without escapes.
func (w *plainCopy) str() (string, bool) {
	if !w.eat('"') {
		return "", false
	}
	for start := w.i; w.i < len(w.s); w.i++ {
		switch c := w.s[w.i]; {
		case c == '"':
			w.i++
			return w.s[start : w.i-1], true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", false
		}
	}
	return "", false
}

// number reads a number as JSON's grammar has it.
func (w *plainCopy) number() bool {
	if w.s[w.i] == '-' {
		w.i++
	}
	switch {
	case w.i < len(w.s) && w.s[w.i] == '0':
		w.i++
	case !w.digits():
		return false
	}
	if w.i < len(w.s) && w.s[w.i] == '.' {
		w.i++
		if !w.digits() {
			return false
		}
	}
	if w.i < len(w.s) && (w.s[w.i] == 'e' || w.s[w.i] == 'E') {
		w.i++
		if w.i < len(w.s) && (w.s[w.i] == '+' || w.s[w.i] == '-') {
			w.i++
		}
		if !w.digits() {
			return false
		}
	}
	return true
}

func (w *plainCopy) digits() bool {
	start := w.i
	for w.i < len(w.s) && '0' <= w.s[w.i] && w.s[w.i] <= '9' {
		w.i++
	}
	return w.i > start
}
