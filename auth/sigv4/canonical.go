package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Constants of the algorithm.
const (
	// Algorithm is the only signing algorithm accepted (SigV4a is not).
	Algorithm = "AWS4-HMAC-SHA256"
	// TimeFormat is the layout of X-Amz-Date.
	TimeFormat = "20060102T150405Z"
	// DateFormat is the layout of the date in the credential scope.
	DateFormat = "20060102"
	// Terminator ends every credential scope.
	Terminator = "aws4_request"
	// UnsignedPayload stands for the payload hash where the service allows
	// the body to go unsigned (S3 only).
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// EmptyPayloadHash is the hex SHA-256 of an empty body.
	EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Rules are the per-service differences of canonicalisation.
type Rules struct {
	// RawPath selects S3's path rules: no dot-segment removal, no "//"
	// collapsing, and each segment encoded exactly once. Without it the path
	// is normalised and its received (already encoded) form is encoded again,
	// as every other service does.
	RawPath bool
	// UnsignedPayload lets x-amz-content-sha256 be UNSIGNED-PAYLOAD, makes
	// its value the payload hash of the canonical request, and makes
	// presigned URLs default to UNSIGNED-PAYLOAD (S3). Without it the payload
	// hash is always computed from the body.
	UnsignedPayload bool
	// Streaming accepts the aws-chunked payloads of S3 (x-amz-content-sha256
	// STREAMING-…): the body is then read through Result.Chunks.
	Streaming bool
}

// DefaultRules returns S3's rules for the signing name "s3" and the
// standard rules for every other service.
func DefaultRules(service string) Rules {
	if service == "s3" {
		return Rules{RawPath: true, UnsignedPayload: true, Streaming: true}
	}
	return Rules{}
}

// PayloadHash returns the hex SHA-256 of body.
func PayloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Scope returns the credential scope date/region/service/aws4_request.
func Scope(date, region, service string) string {
	return date + "/" + region + "/" + service + "/" + Terminator
}

// StringToSign returns the string to sign for a canonical request; amzDate
// is the request's X-Amz-Date exactly as sent.
func StringToSign(amzDate, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// SigningKey derives the signing key of a secret for one day, region and
// service.
func SigningKey(secret []byte, date, region, service string) []byte {
	k := make([]byte, 0, 4+len(secret))
	k = append(append(k, "AWS4"...), secret...)
	k = hmacSHA256(k, date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, Terminator)
}

// Signature returns the hex signature of a string to sign.
func Signature(signingKey []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(signingKey, stringToSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// CanonicalRequest returns the canonical request of r as its sender signed
// it, from the raw request target (see Target). The query parameter
// X-Amz-Signature is always left out: a request carrying it in the query is
// a presigned one, where the signature cannot sign itself.
func CanonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, rules Rules) (string, error) {
	path, rawQuery := Target(r)
	params, err := parseQuery(rawQuery)
	if err != nil {
		return "", err
	}
	return canonicalRequest(r, path, params, signedHeaders, payloadHash, rules, false)
}

func canonicalRequest(r *http.Request, path string, params []param, signed []string, payloadHash string, rules Rules, skipToken bool) (string, error) {
	uri, err := CanonicalURI(path, rules)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(256)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	writeCanonicalQuery(&b, params, skipToken)
	b.WriteByte('\n')
	writeCanonicalHeaders(&b, r, signed)
	b.WriteByte('\n')
	for i, h := range signed {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(h)
	}
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// Target returns the escaped path and the raw query the client put on the
// request line. A server request is read from RequestURI, never from the
// decoded URL, and an absolute-form target ("GET https://host/p?q", sent by
// clients behind a proxy) is reduced to its path and query. A client
// request (RequestURI empty) is read from its URL, as it will be sent.
func Target(r *http.Request) (path, rawQuery string) {
	t := r.RequestURI
	if t == "" {
		if r.URL == nil {
			return "/", ""
		}
		if r.URL.Opaque != "" {
			t = r.URL.Opaque
		} else {
			t = r.URL.EscapedPath()
		}
		return t, r.URL.RawQuery
	}
	if !strings.HasPrefix(t, "/") {
		if i := strings.Index(t, "://"); i > 0 && isScheme(t[:i]) {
			rest := t[i+3:]
			j := strings.IndexAny(rest, "/?")
			if j < 0 {
				return "/", ""
			}
			t = rest[j:]
		}
	}
	path, rawQuery, _ = strings.Cut(t, "?")
	if path == "" {
		path = "/"
	}
	return path, rawQuery
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// CanonicalURI returns the canonical form of an escaped request path.
//
// Standard rules: dot segments are removed and runs of '/' collapsed, then
// the path as received is URI-encoded once more (a received "%3A" becomes
// "%253A"), which is what the SDKs of every service but S3 sign.
// S3 rules (RawPath): each segment is decoded and encoded exactly once, so
// "%3A" and ":" both become "%3A", and nothing is normalised.
func CanonicalURI(path string, rules Rules) (string, error) {
	if path == "" {
		return "/", nil
	}
	if !rules.RawPath {
		return uriEncode(normalizePath(path), true), nil
	}
	var b strings.Builder
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return "", fmt.Errorf("invalid escape in the request path: %w", err)
		}
		b.WriteString(uriEncode(dec, false))
	}
	return b.String(), nil
}

// normalizePath removes "." and ".." segments and empty segments (so "//"
// collapses), keeping a trailing slash as RFC 3986 remove_dot_segments does.
func normalizePath(p string) string {
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && strings.HasPrefix(p, "/") {
		return p // the common case: nothing to do
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "/"
	}
	n := "/" + strings.Join(out, "/")
	if last := segs[len(segs)-1]; last == "" || last == "." || last == ".." {
		n += "/"
	}
	return n
}

// uriEncode percent-encodes every byte but RFC 3986's unreserved characters
// (and '/' when keepSlash), with uppercase hex.
func uriEncode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && !(keepSlash && s[i] == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexUpper = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// param is one decoded query parameter.
type param struct{ name, value string }

// parseQuery splits a raw query on '&' and decodes names and values ('+' is
// a space, as the SDKs read it). Empty pieces ("a=1&&b=2") are dropped;
// a malformed escape is an error, since its canonical form is undefined.
func parseQuery(raw string) ([]param, error) {
	if raw == "" {
		return nil, nil
	}
	ps := make([]param, 0, strings.Count(raw, "&")+1)
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return nil, errMalformedQuery
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, errMalformedQuery
		}
		ps = append(ps, param{name, value})
	}
	return ps, nil
}

var errMalformedQuery = errors.New("malformed percent-encoding in the query string")

// CanonicalQuery returns the canonical query string of a raw query: names
// and values decoded, re-encoded with RFC 3986 rules (space is %20), sorted
// by name then value, X-Amz-Signature left out.
func CanonicalQuery(rawQuery string) (string, error) {
	ps, err := parseQuery(rawQuery)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	writeCanonicalQuery(&b, ps, false)
	return b.String(), nil
}

func writeCanonicalQuery(b *strings.Builder, ps []param, skipToken bool) {
	enc := make([]param, 0, len(ps))
	for _, p := range ps {
		if p.name == "X-Amz-Signature" || skipToken && p.name == "X-Amz-Security-Token" {
			continue
		}
		enc = append(enc, param{uriEncode(p.name, false), uriEncode(p.value, false)})
	}
	slices.SortFunc(enc, func(a, b param) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
}

// CanonicalHeaders returns the canonical header block of r for the signed
// header names (lowercase, sorted): one "name:value\n" line each.
func CanonicalHeaders(r *http.Request, signedHeaders []string) string {
	var b strings.Builder
	writeCanonicalHeaders(&b, r, signedHeaders)
	return b.String()
}

func writeCanonicalHeaders(b *strings.Builder, r *http.Request, signed []string) {
	var lower map[string][]string // built only if a key is not in canonical form
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range headerValues(r, name, &lower) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTrimmed(b, v)
		}
		b.WriteByte('\n')
	}
}

// headerValues returns the values of a header in arrival order. Host comes
// from r.Host, where Go's server puts it (HTTP/2's :authority too).
func headerValues(r *http.Request, name string, lower *map[string][]string) []string {
	if name == "host" {
		if r.Host != "" {
			return []string{r.Host}
		}
		if r.URL != nil {
			return []string{r.URL.Host}
		}
		return nil
	}
	if vs, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return vs
	}
	// Go's server canonicalises every key, but a header map built by hand
	// may not. Index the map once, by lowercase name with keys in sorted
	// order so the result is deterministic, instead of scanning it for
	// every signed name.
	if *lower == nil {
		*lower = make(map[string][]string)
		for _, k := range slices.Sorted(maps.Keys(r.Header)) {
			l := strings.ToLower(k)
			(*lower)[l] = append((*lower)[l], r.Header[k]...)
		}
	}
	if vs, ok := (*lower)[name]; ok {
		return vs
	}
	if name == "content-length" && r.ContentLength > 0 {
		// A client request keeps its length outside the header map.
		return []string{strconv.FormatInt(r.ContentLength, 10)}
	}
	return nil
}

// writeTrimmed writes v without leading and trailing whitespace and with
// every inner run of whitespace (folded line breaks included) as one space.
func writeTrimmed(b *strings.Builder, v string) {
	space := false
	started := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isSpace(c) {
			space = true
			continue
		}
		if space && started {
			b.WriteByte(' ')
		}
		space = false
		started = true
		b.WriteByte(c)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
