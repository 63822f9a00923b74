package sigv4

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Signer signs requests the way the AWS SDKs do, with this package's own
// canonicalisation. The server only verifies; the signer lets tests and
// tools produce requests whose every byte they control.
type Signer struct {
	AccessKeyID  string
	Secret       []byte
	SessionToken string // optional; sent as X-Amz-Security-Token and signed
	Region       string
	Service      string
	Rules        *Rules // nil means DefaultRules(Service)
}

// unsignedHeaders are never signed, as in the SDKs: proxies and clients
// change them on the way.
var unsignedHeaders = []string{"authorization", "user-agent", "x-amzn-trace-id", "expect", "transfer-encoding", "connection"}

func (s *Signer) rules() Rules {
	if s.Rules != nil {
		return *s.Rules
	}
	return DefaultRules(s.Service)
}

// Sign adds X-Amz-Date (and X-Amz-Security-Token, and for S3
// X-Amz-Content-Sha256 unless already set) to r and signs it in the
// Authorization header, covering host and every header already set except
// unsignedHeaders.
func (s *Signer) Sign(r *http.Request, body []byte, t time.Time) error {
	rules := s.rules()
	amzDate := t.UTC().Format(TimeFormat)
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header.Del("Authorization")
	r.Header.Set("X-Amz-Date", amzDate)
	if s.SessionToken != "" {
		r.Header.Set("X-Amz-Security-Token", s.SessionToken)
	}
	hash := PayloadHash(body)
	if rules.UnsignedPayload {
		// S3 signs the client's claim; a claim already set (such as
		// UNSIGNED-PAYLOAD) is kept.
		if c := r.Header.Get("X-Amz-Content-Sha256"); c != "" {
			hash = c
		} else {
			r.Header.Set("X-Amz-Content-Sha256", hash)
		}
	}
	signed := signedHeaderNames(r)
	canon, err := CanonicalRequest(r, signed, hash, rules)
	if err != nil {
		return fmt.Errorf("sigv4: sign: %w", err)
	}
	scope := Scope(amzDate[:8], s.Region, s.Service)
	sig := Signature(SigningKey(s.Secret, amzDate[:8], s.Region, s.Service), StringToSign(amzDate, scope, canon))
	r.Header.Set("Authorization", Algorithm+" Credential="+s.AccessKeyID+"/"+scope+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
	return nil
}

// Presign adds the presigned-URL query parameters to r, valid for expires
// from t. S3 URLs sign UNSIGNED-PAYLOAD; others sign the body's hash.
func (s *Signer) Presign(r *http.Request, body []byte, t time.Time, expires time.Duration) error {
	if expires < time.Second || expires > MaxExpires {
		return errors.New("sigv4: presign: expiry must be between 1 s and 7 days")
	}
	rules := s.rules()
	amzDate := t.UTC().Format(TimeFormat)
	scope := Scope(amzDate[:8], s.Region, s.Service)
	signed := signedHeaderNames(r)
	q := "X-Amz-Algorithm=" + Algorithm +
		"&X-Amz-Credential=" + uriEncode(s.AccessKeyID+"/"+scope, false) +
		"&X-Amz-Date=" + amzDate +
		"&X-Amz-Expires=" + strconv.FormatInt(int64(expires/time.Second), 10) +
		"&X-Amz-SignedHeaders=" + uriEncode(strings.Join(signed, ";"), false)
	if s.SessionToken != "" {
		q += "&X-Amz-Security-Token=" + uriEncode(s.SessionToken, false)
	}
	appendQuery(r, q)
	hash := PayloadHash(body)
	if rules.UnsignedPayload {
		hash = UnsignedPayload
	}
	canon, err := CanonicalRequest(r, signed, hash, rules)
	if err != nil {
		return fmt.Errorf("sigv4: presign: %w", err)
	}
	sig := Signature(SigningKey(s.Secret, amzDate[:8], s.Region, s.Service), StringToSign(amzDate, scope, canon))
	appendQuery(r, "X-Amz-Signature="+sig)
	return nil
}

// appendQuery adds raw query parameters to r's target, wherever Target
// reads it from.
func appendQuery(r *http.Request, q string) {
	join := func(old string) string {
		if old == "" {
			return q
		}
		return old + "&" + q
	}
	if r.RequestURI != "" {
		base, old, _ := strings.Cut(r.RequestURI, "?")
		r.RequestURI = base + "?" + join(old)
	}
	if r.URL != nil {
		r.URL.RawQuery = join(r.URL.RawQuery)
	}
}

// signedHeaderNames lists host and the headers of r worth signing,
// lowercase and sorted; content-length is included when the length is
// known, as the SDKs do.
func signedHeaderNames(r *http.Request) []string {
	names := []string{"host"}
	for k := range r.Header {
		n := strings.ToLower(k)
		if n != "host" && !slices.Contains(unsignedHeaders, n) {
			names = append(names, n)
		}
	}
	if r.ContentLength > 0 && !slices.Contains(names, "content-length") {
		names = append(names, "content-length")
	}
	slices.Sort(names)
	return slices.Compact(names)
}
