package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// appendJSON appends e as json.Marshal writes it (the same members, order,
// omissions and escapes), without reflection: every request's event is
// encoded on its path to the client. The raw members must be valid JSON,
// as the encoders that made them write it.
func (e *Event) appendJSON(b []byte) []byte {
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, e.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = e.UserIdentity.appendJSON(b)
	b = appendMember(b, "eventTime", e.EventTime)
	b = appendMember(b, "eventSource", e.EventSource)
	b = appendMember(b, "eventName", e.EventName)
	b = appendMember(b, "awsRegion", e.AWSRegion)
	b = appendMember(b, "sourceIPAddress", e.SourceIPAddress)
	b = appendMember(b, "userAgent", e.UserAgent)
	b = appendOptional(b, "errorCode", e.ErrorCode)
	b = appendOptional(b, "errorMessage", e.ErrorMessage)
	b = append(b, `,"requestParameters":`...)
	b = appendRaw(b, e.RequestParameters)
	b = append(b, `,"responseElements":`...)
	b = appendRaw(b, e.ResponseElements)
	b = appendMember(b, "requestID", e.RequestID)
	b = appendMember(b, "eventID", e.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, e.ReadOnly)
	if len(e.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i, r := range e.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"ARN":`...)
			b = appendString(b, r.ARN)
			b = appendOptional(b, "accountId", r.AccountID)
			b = appendOptional(b, "type", r.Type)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendMember(b, "eventType", e.EventType)
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, e.ManagementEvent)
	b = appendMember(b, "recipientAccountId", e.RecipientAccountID)
	b = appendMember(b, "eventCategory", e.EventCategory)
	if t := e.TLSDetails; t != nil {
		b = append(b, `,"tlsDetails":{"tlsVersion":`...)
		b = appendString(b, t.TLSVersion)
		b = appendMember(b, "cipherSuite", t.CipherSuite)
		b = appendMember(b, "clientProvidedHostHeader", t.ClientProvidedHostHeader)
		b = append(b, '}')
	}
	if e.AdditionalEventData != nil {
		b = append(b, `,"additionalEventData":`...)
		b = appendRaw(b, *e.AdditionalEventData)
	}
	if len(e.ServiceEventDetails) > 0 {
		b = append(b, `,"serviceEventDetails":`...)
		b = appendRaw(b, e.ServiceEventDetails)
	}
	return append(b, '}')
}

func (u *UserIdentity) appendJSON(b []byte) []byte {
	n := len(b)
	b = append(b, '{')
	for _, m := range []struct{ name, v string }{{"type", u.Type}, {"principalId", u.PrincipalID}, {"arn", u.ARN},
		{"accountId", u.AccountID}, {"accessKeyId", u.AccessKeyID}, {"userName", u.UserName}} {
		if m.v != "" {
			b = appendMember(b, m.name, m.v)
		}
	}
	if s := u.SessionContext; s != nil {
		b = append(b, `,"sessionContext":{"attributes":{"creationDate":`...)
		b = appendString(b, s.Attributes.CreationDate)
		b = appendMember(b, "mfaAuthenticated", s.Attributes.MFAAuthenticated)
		b = append(b, "}}"...)
	}
	if len(b) > n+1 && b[n+1] == ',' { // the first member wrote a comma before itself
		b = append(b[:n+1], b[n+2:]...)
	}
	return append(b, '}')
}

// appendMember appends ,"name":"v"; names are this file's constants.
func appendMember(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendOptional(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendMember(b, name, v)
}

// appendRaw appends raw JSON as json.Marshal writes a json.RawMessage: null
// when empty, and HTML-escaped as all its strings are.
func appendRaw(b []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return append(b, "null"...)
	}
	buf := bytes.NewBuffer(b)
	json.HTMLEscape(buf, raw)
	return buf.Bytes()
}

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as json.Marshal quotes it: control
// characters, <, > and & as \u escapes (the short forms for \b \f \n \r \t),
// U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = utf8.AppendRune(b, utf8.RuneError)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
