package model

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Input is implemented by the input of every operation.
type Input interface {
	// SetLabel sets the member bound to the URI label name; value is already
	// percent-decoded. An unknown name is an error.
	SetLabel(name, value string) error
	// BindQuery sets the members bound to query parameters: booleans are
	// "true" or "false", integers decimal, lists repeat the key. Unknown
	// parameters are ignored; a malformed value gives a *ValidationError.
	BindQuery(q url.Values) error
	// Validate checks every constraint of the model and returns a
	// *ValidationError or nil.
	Validate() error
}

// Operation describes one operation of the service.
type Operation struct {
	Name   string // e.g. "GetEntity"
	Method string // e.g. "GET"
	// Path is the URI pattern, e.g. "/workspaces/{workspaceId}/entities/{entityId}".
	Path string
	// HostPrefix is "api." or "data.", from the operation's endpoint trait.
	HostPrefix string
	// Input returns a new, empty input (a pointer, e.g. *GetEntityInput).
	Input func() Input
	// Output returns a new, empty output (a pointer, e.g. *GetEntityOutput).
	Output func() any
	// Errors are the error codes the model lists for the operation.
	Errors []string
}

// HasError reports whether code is one of the operation's modelled errors.
func (op Operation) HasError(code string) bool {
	for _, e := range op.Errors {
		if e == code {
			return true
		}
	}
	return false
}

// LookupOperation returns the operation called name.
func LookupOperation(name string) (Operation, bool) {
	for _, op := range Operations {
		if op.Name == name {
			return op, true
		}
	}
	return Operation{}, false
}

// Violation is one broken constraint.
type Violation struct {
	Field      string // path of the member, e.g. "entries[3].propertyValues[0].value"
	Constraint string // e.g. "Member must not be null"
}

func (v Violation) String() string {
	return "Value at '" + v.Field + "' failed to satisfy constraint: " + v.Constraint
}

// ValidationError lists the constraints a value breaks. Its message follows
// the AWS wording and never contains the offending values.
type ValidationError struct {
	Violations []Violation
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(e.Violations)))
	if len(e.Violations) == 1 {
		b.WriteString(" validation error detected: ")
	} else {
		b.WriteString(" validation errors detected: ")
	}
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// Timestamp is a Smithy timestamp. On the wire it is a JSON number of epoch
// seconds with up to three decimals (1700000000.123); decoding accepts any
// JSON number, keeps up to nanosecond precision when the number has no
// exponent, and refuses strings. Times are kept in UTC.
type Timestamp struct {
	time.Time
}

// NewTimestamp returns a pointer to a Timestamp holding t.
func NewTimestamp(t time.Time) *Timestamp { return &Timestamp{t.UTC()} }

// Timestamp range accepted on the wire: years 0001 to 9999.
const (
	minEpoch = -62135596800
	maxEpoch = 253402300799
)

// MarshalJSON writes epoch seconds with millisecond precision (the time is
// truncated to the millisecond), without exponent notation.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return t.appendJSON(make([]byte, 0, 24)), nil
}

func (t Timestamp) appendJSON(b []byte) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		b = bytes.TrimRight(b, "0")
	}
	return b
}

var errTimestampType = errors.New("model: expected Timestamp to be a JSON number of epoch seconds")

// UnmarshalJSON reads a JSON number of epoch seconds.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if s == "" || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		return errTimestampType
	}
	if !strings.ContainsAny(s, "eE") {
		return t.parseDecimal(s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return errTimestampType
	}
	if f < minEpoch || f > maxEpoch+1 {
		return errors.New("model: timestamp out of range")
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}

// parseDecimal parses -?digits(.digits)? exactly, to the nanosecond.
func (t *Timestamp) parseDecimal(s string) error {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) > 12 {
		return errors.New("model: timestamp out of range")
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return errTimestampType
	}
	var nsec int64
	for i := 0; i < 9; i++ {
		nsec *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return errTimestampType
			}
			nsec += int64(c - '0')
		}
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	if sec < minEpoch || sec > maxEpoch {
		return errors.New("model: timestamp out of range")
	}
	t.Time = time.Unix(sec, nsec).UTC()
	return nil
}

// Double is a Smithy double. NaN and the infinities travel as the JSON
// strings "NaN", "Infinity" and "-Infinity"; other values as JSON numbers.
type Double float64

// NewDouble returns a pointer to a Double holding f.
func NewDouble(f float64) *Double { d := Double(f); return &d }

// MarshalJSON writes d as encoding/json writes a float64, or as one of the
// strings "NaN", "Infinity", "-Infinity".
func (d Double) MarshalJSON() ([]byte, error) {
	return d.appendJSON(make([]byte, 0, 24)), nil
}

// MarshalJSONTo is MarshalJSON for an encoder, which takes the value
// without a copy of its own to validate: an answer holds many.
func (d Double) MarshalJSONTo(enc *jsontext.Encoder) error {
	var buf [32]byte
	return enc.WriteValue(d.appendJSON(buf[:0]))
}

func (d Double) appendJSON(b []byte) []byte {
	f := float64(d)
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	// As encoding/json formats a float64, without its reflection: the
	// data plane writes thousands of these per response.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Shorten e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// UnmarshalJSON reads a JSON number or one of "NaN", "Infinity", "-Infinity".
func (d *Double) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*d = Double(math.NaN())
		case "Infinity":
			*d = Double(math.Inf(1))
		case "-Infinity":
			*d = Double(math.Inf(-1))
		default:
			return errors.New(`model: a Double string must be "NaN", "Infinity" or "-Infinity"`)
		}
		return nil
	}
	if len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		return errors.New("model: expected Double to be a JSON number")
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return errors.New("model: Double out of range")
	}
	*d = Double(f)
	return nil
}

// UnmarshalJSONFrom is UnmarshalJSON for encoding/json/v2, which the server
// decodes requests with: it reads the token in place instead of copying the
// value out first, which counts on the data plane.
func (d *Double) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		return nil
	case '"':
		switch tok.String() {
		case "NaN":
			*d = Double(math.NaN())
		case "Infinity":
			*d = Double(math.Inf(1))
		case "-Infinity":
			*d = Double(math.Inf(-1))
		default:
			return errors.New(`model: a Double string must be "NaN", "Infinity" or "-Infinity"`)
		}
	case '0':
		f, err := tok.Float()
		if err != nil || math.IsInf(f, 0) {
			return errors.New("model: Double out of range")
		}
		*d = Double(f)
	default:
		return errors.New("model: expected Double to be a JSON number")
	}
	return nil
}

// String returns a pointer to s.
func String(s string) *string { return &s }

// Bool returns a pointer to b.
func Bool(b bool) *bool { return &b }

// Int32 returns a pointer to n.
func Int32(n int32) *int32 { return &n }

// Int64 returns a pointer to n.
func Int64(n int64) *int64 { return &n }

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// Deref returns *p, or the zero value when p is nil.
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
