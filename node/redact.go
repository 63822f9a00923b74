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
