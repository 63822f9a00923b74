package node

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/audit"
	"github.com/twinvault/twinvault/model"
)

// redacted renders v as JSON with sensitive members hidden; for a data
// event, property values are left out and only their references kept.
// The document is copied token by token, never decoded into a tree: a
// request's parameters are redacted on the path of every call.
func redacted(v any, data bool) json.RawMessage {
	switch v := v.(type) {
	case *api.RequestParams:
		if in, ok := v.Usual.(*model.BatchPutPropertyValuesInput); ok && data {
			if b, ok := redactBatchPut(in, v); ok {
				return b
			}
		}
		if b, ok := redactPlain(v, data); ok {
			return b
		}
	case *model.BatchPutPropertyValuesOutput:
		// A whole batch written, the usual answer.
		if v.ErrorEntries != nil && len(v.ErrorEntries) == 0 {
			return json.RawMessage(`{"errorEntries":[]}`)
		}
	}
	return redactTokens(v, data)
}

// batchPutNames are the members of a BatchPut body in its usual form
// (model.BatchPutPropertyValuesInput.DecodeUsual) that redactBatchPut
// writes as they are.
var batchPutNames = []string{"entries", "entityPropertyReference", "componentName", "componentPath", "entityId", "propertyName"}

// batchPutShown: a data event hides a BatchPut's values and shows the
// rest of its usual form, as redactBatchPut assumes.
var batchPutShown = sync.OnceValue(func() bool {
	for _, k := range batchPutNames {
		if hiddenMember(k, true) || member(urlMember, k) {
			return false
		}
	}
	return hiddenMember("propertyValues", true)
})

// redactBatchPut is redactPlain for a BatchPut whose body had its usual
// form, written from the input decoded from it: the values hidden, the
// references' strings plain ASCII without escapes (DecodeUsual took no
// other), so the body is not read again. Members come in the model's
// order, which is the SDKs'.
func redactBatchPut(in *model.BatchPutPropertyValuesInput, p *api.RequestParams) (json.RawMessage, bool) {
	if _, ok := p.Extra["entries"]; ok || !batchPutShown() {
		return nil, false
	}
	out := make([]byte, 0, 64+len(in.Entries)*128)
	out = append(out, '{')
	n := 0 // members written
	if in.Entries != nil {
		out = append(out, `"entries":[`...)
		for i, e := range in.Entries {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, '{')
			if r := e.EntityPropertyReference; r != nil {
				if r.ExternalIdProperty != nil {
					return nil, false
				}
				out = append(out, `"entityPropertyReference":{`...)
				m := 0
				for _, f := range [...]struct {
					k string
					v *string
				}{{"componentName", r.ComponentName}, {"componentPath", r.ComponentPath}, {"entityId", r.EntityId}, {"propertyName", r.PropertyName}} {
					if f.v == nil {
						continue
					}
					if m > 0 {
						out = append(out, ',')
					}
					m++
					out = append(out, '"')
					out = append(out, f.k...)
					out = append(out, `":"`...)
					out = append(out, *f.v...)
					out = append(out, '"')
				}
				out = append(out, '}')
			}
			if e.PropertyValues != nil {
				if e.EntityPropertyReference != nil {
					out = append(out, ',')
				}
				out = append(out, `"propertyValues":"`+audit.Hidden+`"`...)
			}
			out = append(out, '}')
		}
		out = append(out, ']')
		n++
	}
	return appendExtra(out, p, true, n)
}

// appendExtra ends an object of n members written to out with the path
// labels and query parameters of p (extraParams).
func appendExtra(out []byte, p *api.RequestParams, data bool, n int) ([]byte, bool) {
	var err error
	for _, kv := range extraParams(p, data) {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		if out, err = jsontext.AppendQuote(out, kv[0]); err != nil {
			return nil, false
		}
		out = append(out, ':')
		if out, err = jsontext.AppendQuote(out, kv[1]); err != nil {
			return nil, false
		}
	}
	return append(out, '}'), true
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
	for _, kv := range extraParams(p, data) {
		k, v := kv[0], kv[1]
		if err := enc.WriteToken(jsontext.String(k)); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.String(v)); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

// extraParams are the path labels and query parameters of p, as members
// in name order, their values hidden or rewritten as they must be.
func extraParams(p *api.RequestParams, data bool) [][2]string {
	keys := make([]string, 0, len(p.Extra))
	for k := range p.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][2]string, len(keys))
	for i, k := range keys {
		v := p.Extra[k]
		switch {
		case hiddenMember(k, data):
			v = audit.Hidden
		case member(urlMember, k):
			v = bareURL(v)
		}
		out[i] = [2]string{k, v}
	}
	return out
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

// skip passes over one value of a valid document. Only strings and
// brackets decide where a value ends, so it reads no token whole: a data
// event hides a BatchPut's values, nine tenths of its body.
func (w *plainCopy) skip() {
	depth := 0
	for w.Peek(); w.I < len(w.S); w.I++ {
		switch skipClass[w.S[w.I]] {
		case 0:
			continue // within a number or literal
		case '"':
			w.I++
			for {
				n := strings.IndexByte(w.S[w.I:], '"')
				if n < 0 {
					w.I = len(w.S)
					return
				}
				w.I += n
				if !escaped(w.S, w.I) {
					break
				}
				w.I++
			}
		case '[':
			depth++
			continue
		case ']':
			if depth == 0 {
				return // the end of a number or literal, and of its container
			}
			depth--
		default: // a comma or whitespace
			if depth == 0 {
				return // the end of a number or literal
			}
			continue
		}
		if depth == 0 {
			w.I++ // past the string or the container's end
			return
		}
	}
}

// skipClass sorts the bytes skip looks for: '"', '[' (an opening bracket),
// ']' (a closing one), ' ' (a comma or whitespace), 0 for any other.
var skipClass = func() (t [256]byte) {
	t['"'], t['['], t['{'], t[']'], t['}'] = '"', '[', '[', ']', ']'
	t[','], t[' '], t['\t'], t['\n'], t['\r'] = ' ', ' ', ' ', ' ', ' '
	return t
}()

// escaped reports whether the quote at s[i] follows an odd number of
// backslashes, so belongs to its string.
func escaped(s string, i int) bool {
	n := 0
	for i > 0 && s[i-1] == '\\' {
		n++
		i--
	}
	return n%2 == 1
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
	w := plainCopy{PlainJSON: model.PlainJSON{S: string(p.Body)}, data: data, valid: p.Valid, out: make([]byte, 0, 256)}
	w.out = append(w.out, '{')
	n := 0 // members written
	if w.Peek() != 0 {
		if !w.Eat('{') {
			return nil, false
		}
		for more := !w.Eat('}'); more; {
			k, ok := w.Str()
			if !ok || !w.Eat(':') {
				return nil, false
			}
			if _, ok := p.Extra[k]; ok {
				// A path label or query parameter stands for it.
				if !w.value(0, false) {
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
			if more = !w.Eat('}'); more && !w.Eat(',') {
				return nil, false
			}
		}
		if !w.End() {
			return nil, false
		}
	}
	return appendExtra(w.out, p, data, n)
}

// plainCopy copies plain JSON to out, hiding what redactMember hides.
type plainCopy struct {
	model.PlainJSON
	out   []byte
	data  bool
	valid bool // S is known to be valid JSON (api.RequestParams.Valid)
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
		return w.value(depth, false)
	case member(urlMember, k):
		return false
	}
	return w.value(depth, true)
}

// value reads one value, copying it to out if keep, or only checking it.
func (w *plainCopy) value(depth int, keep bool) bool {
	if !keep && w.valid {
		w.skip()
		return true
	}
	if depth > maxPlainDepth {
		return false
	}
	put := func(b byte) {
		if keep {
			w.out = append(w.out, b)
		}
	}
	c := w.Peek()
	start := w.I
	switch c {
	case '{', '[':
		w.I++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		put(c)
		for more := !w.Eat(end); more; {
			if c == '{' {
				k, ok := w.Str()
				if !ok || !w.Eat(':') {
					return false
				}
				if keep && !w.member(k, depth+1) || !keep && !w.value(depth+1, false) {
					return false
				}
			} else if !w.value(depth+1, keep) {
				return false
			}
			if more = !w.Eat(end); more {
				if !w.Eat(',') {
					return false
				}
				put(',')
			}
		}
		put(end)
		return true
	case '"':
		_, ok := w.Str()
		if keep {
			w.out = append(w.out, w.S[start:w.I]...)
		}
		return ok
	case 't', 'f', 'n':
		if !w.Literal("true") && !w.Literal("false") && !w.Literal("null") {
			return false
		}
	default:
		if _, ok := w.Number(); !ok {
			return false
		}
	}
	if keep {
		w.out = append(w.out, w.S[start:w.I]...)
	}
	return true
}
