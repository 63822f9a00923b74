// Package sigv4 verifies AWS Signature Version 4 on the server: the
// Authorization header form and presigned URLs, exactly as AWS SDKs and the
// AWS CLI produce them.
//
// The verifier recomputes the signature from the raw request (request
// target as sent, Host as received, repeated headers in arrival order), so
// nothing a proxy or router rewrites later can make a forged request pass.
// It authenticates only: the security token is returned for the session
// layer to check, and what the caller may do is decided elsewhere.
//
// Choices where AWS services differ, and why:
//   - Both the header and the query form in one request: 400
//     IncompleteSignatureException, since the request is malformed rather
//     than wrongly signed.
//   - Malformed parts (Authorization syntax, credential shape, signature
//     not 64 lowercase hex digits, host or x-amz-date not signed, bad
//     X-Amz-Date or X-Amz-Expires syntax): 400 IncompleteSignatureException.
//   - Wrong scope, clock skew, expiry, X-Amz-Expires outside 1..604800 and
//     signature mismatch: 403 InvalidSignatureException.
//   - x-amz-content-sha256, when sent, must be the body's hex SHA-256;
//     UNSIGNED-PAYLOAD is accepted only by services with
//     Rules.UnsignedPayload (S3). A body that does not match a correctly
//     signed hash gets 403 InvalidSignatureException.
//   - The security token may be unsigned (some services let clients append
//     it after signing): in the header form it is simply not in
//     SignedHeaders; in a presigned URL the signature is checked with the
//     token parameter first and, if that fails, without it.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Key is what the server knows about an access key.
type Key struct {
	Secret []byte // the secret access key
}

// Lookup returns the key of an access key ID, or an error wrapping
// ErrUnknownKey when there is none. It may also return an *Error (for
// example ExpiredTokenException for an ended session), which Verify passes
// on unchanged; any other error is treated as internal.
type Lookup func(ctx context.Context, accessKeyID string) (Key, error)

// ErrUnknownKey reports an access key ID the server does not know.
var ErrUnknownKey = errors.New("sigv4: unknown access key")

// Limits.
const (
	// DefaultMaxSkew is AWS's allowed difference between the signing time
	// and the server clock.
	DefaultMaxSkew = 15 * time.Minute
	// MaxExpires is the longest validity of a presigned URL (7 days).
	MaxExpires = 7 * 24 * time.Hour

	maxAuthorization = 8 << 10 // bytes of an Authorization header
	maxSignedHeaders = 128
	maxAccessKeyID   = 128
	maxCachedKeys    = 1024
)

// Verifier checks SigV4 signatures. It is safe for concurrent use once its
// fields are set, and must not be copied after first use.
type Verifier struct {
	// Region is the only region accepted in the credential scope, except
	// for the services in GlobalRegions.
	Region string
	// GlobalRegions gives, for a global service, one more region its
	// requests may be signed for: clients sign IAM for us-east-1 unless
	// told an endpoint and region of their own.
	GlobalRegions map[string]string
	// Services are the accepted signing names, e.g. "iottwinmaker".
	Services []string
	// Lookup finds the secret of an access key.
	Lookup Lookup
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxSkew is the allowed clock difference; 0 means DefaultMaxSkew.
	MaxSkew time.Duration
	// Rules chooses canonicalisation per signing name; nil means
	// DefaultRules (S3's rules for "s3", the standard ones otherwise).
	Rules func(service string) Rules

	mu   sync.Mutex
	keys map[cacheKey][]byte // derived signing keys
}

// Result describes an authenticated request.
type Result struct {
	AccessKeyID   string
	Region        string
	Service       string
	SecurityToken string    // as sent (header or query); not validated here
	SignedAt      time.Time // X-Amz-Date
	Presigned     bool
	Expires       time.Time // end of a presigned URL's validity; zero otherwise
	SignedHeaders []string
	// Payload is the streaming mode the body was sent in (STREAMING-…), or
	// empty for an ordinary body.
	Payload string
	// PayloadHash is the body's hex SHA-256 as the client claimed and
	// signed it, for a service whose bodies are verified while they are
	// read (S3's, when Verify was given no body); empty otherwise.
	PayloadHash string

	stream *streamState
}

// Credential is the parsed X-Amz-Credential (or Credential=) value:
// keyid/date/region/service/terminator.
type Credential struct {
	AccessKeyID string
	Date        string // YYYYMMDD
	Region      string
	Service     string
	Terminator  string
}

// Scope returns the credential scope, everything but the key ID.
func (c Credential) Scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/" + c.Terminator
}

// Authorization is a parsed Authorization header.
type Authorization struct {
	Credential    Credential
	SignedHeaders []string // lowercase, sorted, unique; includes "host"
	Signature     string   // 64 lowercase hex digits
}

// ParseAuthorization parses an AWS4-HMAC-SHA256 Authorization header value.
// Errors are *Error values with code IncompleteSignatureException.
func ParseAuthorization(h string) (*Authorization, error) {
	if len(h) > maxAuthorization {
		return nil, incomplete("The Authorization header is longer than %d bytes.", maxAuthorization)
	}
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	switch alg {
	case Algorithm:
	case "AWS4-ECDSA-P256-SHA256":
		return nil, incomplete("Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not supported; sign with AWS4-HMAC-SHA256.")
	default:
		return nil, incomplete("Unsupported Authorization algorithm '%s'; only AWS4-HMAC-SHA256 is accepted.", clean(alg))
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, incomplete("Invalid key=value pair (missing equal-sign) in Authorization header.")
		}
		var dst *string
		var seen *bool
		switch k {
		case "Credential":
			dst, seen = &cred, &haveCred
		case "SignedHeaders":
			dst, seen = &signed, &haveSigned
		case "Signature":
			dst, seen = &sig, &haveSig
		default:
			return nil, incomplete("Authorization header has an unknown parameter '%s'.", clean(k))
		}
		if *seen {
			return nil, incomplete("Authorization header has more than one '%s' parameter.", k)
		}
		*dst, *seen = val, true
	}
	var miss []string
	for _, m := range []struct {
		ok   bool
		name string
	}{{haveCred, "Credential"}, {haveSig, "Signature"}, {haveSigned, "SignedHeaders"}} {
		if !m.ok {
			miss = append(miss, "Authorization header requires '"+m.name+"' parameter.")
		}
	}
	if miss != nil {
		return nil, incomplete("%s", strings.Join(miss, " "))
	}
	c, err := ParseCredential(cred)
	if err != nil {
		return nil, err
	}
	hs, err := parseSignedHeaders(signed)
	if err != nil {
		return nil, err
	}
	if err := checkSignature(sig); err != nil {
		return nil, err
	}
	return &Authorization{Credential: c, SignedHeaders: hs, Signature: sig}, nil
}

// ParseCredential parses keyid/date/region/service/terminator. It checks
// the shape only; whether the scope is acceptable is the Verifier's call.
func ParseCredential(s string) (Credential, error) {
	p := strings.Split(s, "/")
	if len(p) != 5 {
		return Credential{}, incomplete("Credential must have exactly 5 slash-delimited elements, "+
			"e.g. keyid/date/region/service/term, got '%s'", clean(s))
	}
	c := Credential{AccessKeyID: p[0], Date: p[1], Region: p[2], Service: p[3], Terminator: p[4]}
	if c.AccessKeyID == "" {
		return Credential{}, incomplete("Credential has an empty access key ID.")
	}
	if !digits(c.Date, 8) {
		return Credential{}, incomplete("Credential date '%s' is not in the format YYYYMMDD.", clean(c.Date))
	}
	if _, err := time.Parse(DateFormat, c.Date); err != nil {
		return Credential{}, incomplete("Credential date '%s' is not a valid date.", clean(c.Date))
	}
	return c, nil
}

func parseSignedHeaders(s string) ([]string, error) {
	if s == "" {
		return nil, incomplete("SignedHeaders must not be empty.")
	}
	if n := strings.Count(s, ";") + 1; n > maxSignedHeaders {
		return nil, incomplete("SignedHeaders lists %d headers; at most %d are accepted.", n, maxSignedHeaders)
	}
	hs := strings.Split(s, ";")
	for i, h := range hs {
		if !validHeaderName(h) {
			return nil, incomplete("SignedHeaders has an invalid header name '%s'; names must be lowercase tokens.", clean(h))
		}
		if i > 0 && h <= hs[i-1] {
			return nil, incomplete("SignedHeaders must be sorted and must not repeat a name.")
		}
	}
	if !slices.Contains(hs, "host") {
		return nil, incomplete("The host header must be signed (listed in SignedHeaders).")
	}
	return hs, nil
}

// validHeaderName reports whether h is an RFC 9110 token without uppercase
// letters, as canonical header names are.
func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func checkSignature(sig string) error {
	if !isHex64(sig) {
		return incomplete("Signature must be 64 lowercase hexadecimal characters.")
	}
	return nil
}

// isHex64 reports whether s is 64 lowercase hex digits, the form of a
// SHA-256 in SigV4.
func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseAmzDate parses YYYYMMDD'T'HHMMSS'Z' strictly.
func parseAmzDate(s string) (time.Time, error) {
	if len(s) != len(TimeFormat) || !digits(s[:8], 8) || s[8] != 'T' || !digits(s[9:15], 6) || s[15] != 'Z' {
		return time.Time{}, incomplete("X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z', got '%s'.", clean(s))
	}
	t, err := time.Parse(TimeFormat, s)
	if err != nil {
		return time.Time{}, incomplete("X-Amz-Date '%s' is not a valid time.", clean(s))
	}
	return t, nil
}

// signed is what a request claims about its signature, from either form.
type signed struct {
	Authorization
	amzDate   string
	t         time.Time
	presigned bool
	expires   time.Duration
}

// Verify authenticates r, whose body the caller has already read (and
// capped). Authentication failures are *Error values; any other error is
// internal (a failing Lookup or a Verifier without Region, Services or
// Lookup) and must not be shown to the client. Verify does not modify r.
//
// For a service that signs the claimed payload hash (S3) a nil body means
// the body is yet to be read: the signature is checked against the claim,
// and the caller checks the body against Result.PayloadHash as it reads it
// (or reads it through Result.Chunks).
func (v *Verifier) Verify(r *http.Request, body []byte) (*Result, error) {
	if v.Lookup == nil || v.Region == "" || len(v.Services) == 0 {
		return nil, errors.New("sigv4: the verifier needs Region, Services and Lookup")
	}
	path, rawQuery := Target(r)
	params, qerr := parseQuery(rawQuery)
	authz, inHeader := r.Header["Authorization"]
	inQuery := hasParam(params, "X-Amz-Signature") || hasParam(params, "X-Amz-Algorithm") ||
		qerr != nil && strings.Contains(rawQuery, "X-Amz-")
	switch {
	case !inHeader && !inQuery:
		return nil, missing()
	case inHeader && inQuery:
		return nil, incomplete(msgBothForms)
	case qerr != nil:
		return nil, incomplete("The query string has malformed percent-encoding.")
	}
	var s *signed
	var err error
	if inQuery {
		s, err = parsePresigned(params)
	} else {
		s, err = parseHeaderForm(r, authz)
	}
	if err != nil {
		return nil, err
	}
	token, err := securityToken(r, params)
	if err != nil {
		return nil, err
	}
	if err := v.checkScope(s); err != nil {
		return nil, err
	}
	if err := v.checkTime(s); err != nil {
		return nil, err
	}
	c := s.Credential
	key, err := v.lookup(r.Context(), c.AccessKeyID)
	if err != nil {
		return nil, err
	}

	rules := v.rules(c.Service)
	bodyHash := PayloadHash(body)
	payloadHash, claimed, err := payload(r, s.presigned, rules, bodyHash)
	if err != nil {
		return nil, err
	}
	want := make([]byte, 32)
	hex.Decode(want, []byte(s.Signature)) // checked by checkSignature
	sk := v.signingKey(c, key.Secret)
	ok, err := matches(r, path, params, s, payloadHash, rules, sk, want, false)
	if err != nil {
		return nil, err
	}
	if !ok && s.presigned && token != "" && hasParam(params, "X-Amz-Security-Token") {
		ok, _ = matches(r, path, params, s, payloadHash, rules, sk, want, true)
	}
	if !ok {
		return nil, invalid(msgMismatch)
	}
	if claimed != "" && claimed != UnsignedPayload && !streamingModes[claimed] && claimed != bodyHash && !(rules.UnsignedPayload && body == nil) {
		return nil, invalid("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	res := &Result{
		AccessKeyID:   c.AccessKeyID,
		Region:        c.Region,
		Service:       c.Service,
		SecurityToken: token,
		SignedAt:      s.t,
		Presigned:     s.presigned,
		SignedHeaders: s.SignedHeaders,
	}
	if s.presigned {
		res.Expires = s.t.Add(s.expires)
	}
	if rules.UnsignedPayload && body == nil && isHex64(claimed) {
		res.PayloadHash = claimed
	}
	if streamingModes[claimed] {
		res.Payload = claimed
		res.stream = &streamState{key: sk, amzDate: s.amzDate,
			scope: Scope(c.Date, c.Region, c.Service), seed: s.Signature}
	}
	return res, nil
}

// matches recomputes the signature and compares it in constant time.
func matches(r *http.Request, path string, params []param, s *signed, payloadHash string, rules Rules, key, want []byte, skipToken bool) (bool, error) {
	canon, err := canonicalRequest(r, path, params, s.SignedHeaders, payloadHash, rules, skipToken)
	if err != nil {
		return false, incomplete("The request path cannot be canonicalised: it has malformed percent-encoding.")
	}
	sts := StringToSign(s.amzDate, Scope(s.Credential.Date, s.Credential.Region, s.Credential.Service), canon)
	return hmac.Equal(hmacSHA256(key, sts), want), nil
}

func parseHeaderForm(r *http.Request, authz []string) (*signed, error) {
	if len(authz) != 1 {
		return nil, incomplete("Only one Authorization header is allowed.")
	}
	a, err := ParseAuthorization(authz[0])
	if err != nil {
		return nil, err
	}
	ds := r.Header["X-Amz-Date"]
	switch len(ds) {
	case 0:
		return nil, incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
	case 1:
	default:
		return nil, incomplete("Only one X-Amz-Date header is allowed.")
	}
	if !slices.Contains(a.SignedHeaders, "x-amz-date") {
		return nil, incomplete("The x-amz-date header must be signed (listed in SignedHeaders).")
	}
	amzDate := strings.TrimSpace(ds[0])
	t, err := parseAmzDate(amzDate)
	if err != nil {
		return nil, err
	}
	return &signed{Authorization: *a, amzDate: amzDate, t: t}, nil
}

func parsePresigned(params []param) (*signed, error) {
	names := []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"}
	vals := make(map[string]string, len(names))
	for _, p := range params {
		if !slices.Contains(names, p.name) {
			continue
		}
		if _, dup := vals[p.name]; dup {
			return nil, incomplete("The query parameter '%s' must appear only once.", p.name)
		}
		vals[p.name] = p.value
	}
	if len(vals) != len(names) {
		return nil, incomplete("AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', " +
			"'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. Re-examine the query-string parameters.")
	}
	if vals["X-Amz-Algorithm"] != Algorithm {
		return nil, incomplete("X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'.")
	}
	c, err := ParseCredential(vals["X-Amz-Credential"])
	if err != nil {
		return nil, err
	}
	hs, err := parseSignedHeaders(vals["X-Amz-SignedHeaders"])
	if err != nil {
		return nil, err
	}
	if err := checkSignature(vals["X-Amz-Signature"]); err != nil {
		return nil, err
	}
	amzDate := vals["X-Amz-Date"]
	t, err := parseAmzDate(amzDate)
	if err != nil {
		return nil, err
	}
	e := vals["X-Amz-Expires"]
	if e == "" || len(e) > 9 || !digits(e, len(e)) {
		return nil, incomplete("X-Amz-Expires must be a whole number of seconds, got '%s'.", clean(e))
	}
	var secs int64
	for i := 0; i < len(e); i++ {
		secs = secs*10 + int64(e[i]-'0')
	}
	expires := time.Duration(secs) * time.Second
	if expires < time.Second || expires > MaxExpires {
		return nil, invalid("X-Amz-Expires must be between 1 and %d seconds (7 days).", int64(MaxExpires/time.Second))
	}
	return &signed{
		Authorization: Authorization{Credential: c, SignedHeaders: hs, Signature: vals["X-Amz-Signature"]},
		amzDate:       amzDate, t: t, presigned: true, expires: expires,
	}, nil
}

func hasParam(ps []param, name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}

// securityToken returns the session token from the header or the query;
// two different tokens in one request are refused rather than guessed at.
func securityToken(r *http.Request, params []param) (string, error) {
	var toks []string
	for _, v := range r.Header["X-Amz-Security-Token"] {
		toks = append(toks, strings.TrimSpace(v))
	}
	for _, p := range params {
		if p.name == "X-Amz-Security-Token" {
			toks = append(toks, p.value)
		}
	}
	if len(toks) == 0 {
		return "", nil
	}
	for _, t := range toks[1:] {
		if t != toks[0] {
			return "", incomplete("The request carries more than one X-Amz-Security-Token.")
		}
	}
	return toks[0], nil
}

func (v *Verifier) checkScope(s *signed) error {
	c := s.Credential
	if c.Terminator != Terminator {
		return invalid("Credential should be scoped with a valid terminator: '%s', not '%s'. ", Terminator, clean(c.Terminator))
	}
	if !slices.Contains(v.Services, c.Service) {
		return invalid("Credential should be scoped to correct service: '%s'. ", v.Services[0])
	}
	if c.Region != v.Region && (v.GlobalRegions[c.Service] == "" || c.Region != v.GlobalRegions[c.Service]) {
		return invalid("Credential should be scoped to a valid region, not '%s'. ", clean(c.Region))
	}
	if c.Date != s.amzDate[:8] {
		return invalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "+
			"'%s' != '%s', from '%s'.", c.Date, s.amzDate[:8], s.amzDate)
	}
	return nil
}

// checkTime enforces the clock skew (both forms may not be signed in the
// future; the header form may not be older than the skew) and a presigned
// URL's validity, which replaces the skew in the past.
func (v *Verifier) checkTime(s *signed) error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	now = now.UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if late := now.Add(skew); s.t.After(late) {
		return invalid("Signature not yet current: %s is still later than %s (%s + %s)",
			s.amzDate, late.Format(TimeFormat), now.Format(TimeFormat), skewText(skew))
	}
	if s.presigned {
		if now.After(s.t.Add(s.expires)) {
			return invalid(msgExpired)
		}
		return nil
	}
	if early := now.Add(-skew); s.t.Before(early) {
		return invalid("Signature expired: %s is now earlier than %s (%s - %s)",
			s.amzDate, early.Format(TimeFormat), now.Format(TimeFormat), skewText(skew))
	}
	return nil
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return d.String()
}

func (v *Verifier) lookup(ctx context.Context, id string) (Key, error) {
	if len(id) > maxAccessKeyID || !printable(id) {
		return Key{}, unrecognized() // no key has such an ID
	}
	k, err := v.Lookup(ctx, id)
	if err != nil {
		var e *Error
		switch {
		case errors.As(err, &e):
			return Key{}, e
		case errors.Is(err, ErrUnknownKey):
			return Key{}, unrecognized()
		}
		return Key{}, fmt.Errorf("sigv4: look up access key: %w", err)
	}
	if len(k.Secret) == 0 {
		// Anyone could sign with an empty secret.
		return Key{}, unrecognized()
	}
	return k, nil
}

// printable reports whether s is visible ASCII only, as access key IDs are.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func (v *Verifier) rules(service string) Rules {
	if v.Rules != nil {
		return v.Rules(service)
	}
	return DefaultRules(service)
}

// payload returns the payload hash to sign with and the client's claim
// (x-amz-content-sha256), refusing claims the service does not accept.
// A hex claim is compared with the body only after the signature, so that
// a changed body is reported as a signature mismatch.
func payload(r *http.Request, presigned bool, rules Rules, bodyHash string) (hash, claimed string, err error) {
	cs := r.Header["X-Amz-Content-Sha256"]
	if len(cs) > 1 {
		return "", "", incomplete("Only one x-amz-content-sha256 header is allowed.")
	}
	if len(cs) == 1 {
		claimed = strings.TrimSpace(cs[0])
	}
	switch {
	case len(cs) == 0:
		if presigned && rules.UnsignedPayload {
			return UnsignedPayload, "", nil
		}
		return bodyHash, "", nil
	case claimed == UnsignedPayload:
		if !rules.UnsignedPayload {
			return "", "", incomplete("x-amz-content-sha256 UNSIGNED-PAYLOAD is not accepted by this service; send the hex SHA-256 of the body.")
		}
		return UnsignedPayload, claimed, nil
	case strings.HasPrefix(claimed, "STREAMING-"):
		if !rules.Streaming || presigned || !streamingModes[claimed] {
			return "", "", incomplete("Streaming payload signing (x-amz-content-sha256 '%s') is not supported here.", clean(claimed))
		}
		return claimed, claimed, nil
	case isHex64(claimed):
		if rules.UnsignedPayload {
			return claimed, claimed, nil
		}
		return bodyHash, claimed, nil
	}
	return "", "", incomplete("x-amz-content-sha256 must be the lowercase hex SHA-256 of the body.")
}

// cacheKey names a derived signing key. The secret's hash is part of it, so
// a key whose secret changes never reuses an old derivation.
type cacheKey struct {
	id, date, region, service string
	secret                    [sha256.Size]byte
}

// signingKey returns the derived key, from a small bounded cache: the four
// HMACs are the same for every request of a key on one day.
func (v *Verifier) signingKey(c Credential, secret []byte) []byte {
	ck := cacheKey{c.AccessKeyID, c.Date, c.Region, c.Service, sha256.Sum256(secret)}
	v.mu.Lock()
	k, ok := v.keys[ck]
	v.mu.Unlock()
	if ok {
		return k
	}
	k = SigningKey(secret, c.Date, c.Region, c.Service)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys == nil {
		v.keys = make(map[cacheKey][]byte)
	}
	if len(v.keys) >= maxCachedKeys {
		for old := range v.keys { // evict an arbitrary entry
			delete(v.keys, old)
			break
		}
	}
	v.keys[ck] = k
	return k
}
