package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testNow  = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	testKeys = map[string]string{
		"AKIDTEST": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTKEY",
		"ASIATEST": "session/secret+key",
	}
)

func testVerifier() *Verifier {
	return &Verifier{
		Region:   "us-east-1",
		Services: []string{"iottwinmaker", "awsiottwinmaker"},
		Lookup:   mapLookup(testKeys),
		Now:      func() time.Time { return testNow },
	}
}

func testSigner() *Signer {
	return &Signer{AccessKeyID: "AKIDTEST", Secret: []byte(testKeys["AKIDTEST"]), Region: "us-east-1", Service: "iottwinmaker"}
}

// newRequest builds a client request for the test host.
func newRequest(t testing.TB, method, target string, body []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://api.example.com:8443"+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > 0 {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// wire sends a client request through Go's HTTP/1.1 writer and server-side
// reader, so the verifier sees what a server would.
func wire(t testing.TB, r *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("read back %q: %v", buf.String(), err)
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sr, body
}

// signedRequest returns a header-signed server request.
func signedRequest(t testing.TB, s *Signer, method, target string, body []byte) (*http.Request, []byte) {
	t.Helper()
	r := newRequest(t, method, target, body)
	if err := s.Sign(r, body, testNow); err != nil {
		t.Fatal(err)
	}
	return wire(t, r)
}

// presignedRequest returns a presigned server request.
func presignedRequest(t testing.TB, s *Signer, method, target string, body []byte) (*http.Request, []byte) {
	t.Helper()
	r := newRequest(t, method, target, body)
	if err := s.Presign(r, body, testNow, time.Hour); err != nil {
		t.Fatal(err)
	}
	return wire(t, r)
}

func replaceAuth(old, new string) func(*http.Request) {
	return func(r *http.Request) {
		a := r.Header.Get("Authorization")
		if !strings.Contains(a, old) {
			panic(fmt.Sprintf("%q not in %q", old, a))
		}
		r.Header.Set("Authorization", strings.Replace(a, old, new, 1))
	}
}

func setAuth(a string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", a) }
}

func addQuery(q string) func(*http.Request) {
	return func(r *http.Request) { r.RequestURI += "?" + q }
}

func setHeader(k string, vs ...string) func(*http.Request) {
	return func(r *http.Request) { r.Header[k] = vs }
}

const validCred = "Credential=AKIDTEST/20261126/us-east-1/iottwinmaker/aws4_request"

var validSig = strings.Repeat("ab", 32)

func TestMalformedHeaderForm(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*http.Request)
		code   string
		msg    string
	}{
		{"no authentication", func(r *http.Request) { r.Header.Del("Authorization") }, CodeMissingAuthenticationToken, "Missing Authentication Token"},
		{"header and query signature", addQuery("X-Amz-Signature=" + validSig), CodeIncompleteSignature, msgBothForms},
		{"header and query algorithm", addQuery("X-Amz-Algorithm=AWS4-HMAC-SHA256"), CodeIncompleteSignature, msgBothForms},
		{"two authorization headers", func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, CodeIncompleteSignature, "Only one Authorization header"},
		{"empty authorization", setAuth(""), CodeIncompleteSignature, "Unsupported Authorization algorithm ''"},
		{"algorithm only", setAuth("AWS4-HMAC-SHA256"), CodeIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"no credential", setAuth("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=" + validSig), CodeIncompleteSignature, "requires 'Credential' parameter."},
		{"no signed headers", setAuth("AWS4-HMAC-SHA256 " + validCred + ", Signature=" + validSig), CodeIncompleteSignature, "requires 'SignedHeaders' parameter."},
		{"no signature", setAuth("AWS4-HMAC-SHA256 " + validCred + ", SignedHeaders=host;x-amz-date"), CodeIncompleteSignature, "requires 'Signature' parameter."},
		{"other algorithm", replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), CodeIncompleteSignature, "Unsupported Authorization algorithm 'AWS4-HMAC-SHA512'"},
		{"sigv2", setAuth("AWS AKIDTEST:c2lnbmF0dXJl"), CodeIncompleteSignature, "Unsupported Authorization algorithm 'AWS'"},
		{"sigv4a", replaceAuth("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), CodeIncompleteSignature, "4A (AWS4-ECDSA-P256-SHA256) is not supported"},
		{"missing equal sign", replaceAuth("SignedHeaders=", "SignedHeaders "), CodeIncompleteSignature, "missing equal-sign"},
		{"duplicate credential", replaceAuth("Signature=", validCred+", Signature="), CodeIncompleteSignature, "more than one 'Credential'"},
		{"unknown parameter", replaceAuth("Signature=", "Foo=bar, Signature="), CodeIncompleteSignature, "unknown parameter 'Foo'"},
		{"credential 4 parts", replaceAuth("/aws4_request", ""), CodeIncompleteSignature, "exactly 5 slash-delimited elements"},
		{"credential 6 parts", replaceAuth("/aws4_request", "/aws4_request/x"), CodeIncompleteSignature, "exactly 5 slash-delimited elements"},
		{"empty access key", replaceAuth("AKIDTEST/", "/"), CodeIncompleteSignature, "empty access key ID"},
		{"short scope date", replaceAuth("/20261126/", "/2026112/"), CodeIncompleteSignature, "'2026112' is not in the format YYYYMMDD"},
		{"impossible scope date", replaceAuth("/20261126/", "/20261332/"), CodeIncompleteSignature, "'20261332' is not a valid date"},
		{"short signature", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1])
		}, CodeIncompleteSignature, "64 lowercase hexadecimal"},
		{"uppercase signature", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, CodeIncompleteSignature, "64 lowercase hexadecimal"},
		{"non-hex signature", replaceAuth("Signature=", "Signature=zz"), CodeIncompleteSignature, "64 lowercase hexadecimal"},
		{"empty signed headers", replaceAuth("SignedHeaders=content-length;content-type;host;x-amz-date", "SignedHeaders="), CodeIncompleteSignature, "SignedHeaders must not be empty"},
		{"uppercase signed header", replaceAuth(";host;", ";Host;"), CodeIncompleteSignature, "invalid header name 'Host'"},
		{"unsorted signed headers", replaceAuth("host;x-amz-date", "x-amz-date;host"), CodeIncompleteSignature, "must be sorted"},
		{"repeated signed header", replaceAuth("host;x-amz-date", "host;host;x-amz-date"), CodeIncompleteSignature, "must be sorted and must not repeat"},
		{"empty signed header name", replaceAuth("host;x-amz-date", "host;;x-amz-date"), CodeIncompleteSignature, "invalid header name ''"},
		{"host not signed", replaceAuth("host;x-amz-date", "x-amz-date"), CodeIncompleteSignature, "host header must be signed"},
		{"date not signed", replaceAuth("host;x-amz-date", "host"), CodeIncompleteSignature, "x-amz-date header must be signed"},
		{"too many signed headers", replaceAuth("host;x-amz-date", strings.Repeat("a;", 200)+"host;x-amz-date"), CodeIncompleteSignature, "at most 128"},
		{"authorization too long", replaceAuth("Signature=", "Foo="+strings.Repeat("x", 9000)+", Signature="), CodeIncompleteSignature, "longer than 8192 bytes"},
		{"no x-amz-date", func(r *http.Request) { r.Header.Del("X-Amz-Date") }, CodeIncompleteSignature, "requires existence of a 'X-Amz-Date' header"},
		{"two x-amz-date", func(r *http.Request) { r.Header.Add("X-Amz-Date", r.Header.Get("X-Amz-Date")) }, CodeIncompleteSignature, "Only one X-Amz-Date"},
		{"extended x-amz-date", setHeader("X-Amz-Date", "2026-11-26T10:00:00Z"), CodeIncompleteSignature, "ISO 8601 basic format"},
		{"impossible x-amz-date", setHeader("X-Amz-Date", "20261126T250000Z"), CodeIncompleteSignature, "not a valid time"},
		{"conflicting tokens", func(r *http.Request) {
			r.Header.Set("X-Amz-Security-Token", "a")
			r.RequestURI += "?X-Amz-Security-Token=b"
		}, CodeIncompleteSignature, "more than one X-Amz-Security-Token"},
		{"two tokens", setHeader("X-Amz-Security-Token", "a", "b"), CodeIncompleteSignature, "more than one X-Amz-Security-Token"},
		{"unsigned payload", setHeader("X-Amz-Content-Sha256", UnsignedPayload), CodeIncompleteSignature, "UNSIGNED-PAYLOAD is not accepted"},
		{"streaming payload", setHeader("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), CodeIncompleteSignature, "Streaming payload signing"},
		{"malformed payload hash", setHeader("X-Amz-Content-Sha256", "abc"), CodeIncompleteSignature, "must be the lowercase hex SHA-256"},
		{"two payload hashes", setHeader("X-Amz-Content-Sha256", EmptyPayloadHash, EmptyPayloadHash), CodeIncompleteSignature, "Only one x-amz-content-sha256"},
		{"malformed query", addQuery("a=%zz"), CodeIncompleteSignature, "malformed percent-encoding"},
		{"wrong terminator", replaceAuth("/aws4_request", "/aws4"), CodeInvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4'. "},
		{"wrong service", replaceAuth("/iottwinmaker/", "/s3/"), CodeInvalidSignature, "Credential should be scoped to correct service: 'iottwinmaker'. "},
		{"wrong region", replaceAuth("/us-east-1/", "/eu-west-1/"), CodeInvalidSignature, "Credential should be scoped to a valid region, not 'eu-west-1'. "},
		{"region echo is cleaned", replaceAuth("/us-east-1/", "/eu\x01west-1/"), CodeInvalidSignature, "not 'eu?west-1'. "},
		{"wrong scope date", replaceAuth("/20261126/", "/20261125/"), CodeInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261125' != '20261126', from '20261126T100000Z'."},
		{"unknown key", replaceAuth("AKIDTEST", "AKIDNOPE"), CodeUnrecognizedClient, msgUnknownKey},
		{"overlong key id", replaceAuth("AKIDTEST", strings.Repeat("A", 129)), CodeUnrecognizedClient, msgUnknownKey},
		{"control byte in key id", replaceAuth("AKIDTEST", "AKID\x7fTEST"), CodeUnrecognizedClient, msgUnknownKey},
		{"signed with another key", replaceAuth("AKIDTEST", "ASIATEST"), CodeInvalidSignature, msgMismatch},
		{"method changed", func(r *http.Request) { r.Method = "PUT" }, CodeInvalidSignature, msgMismatch},
		{"path changed", func(r *http.Request) { r.RequestURI = "/workspaces/ws2" }, CodeInvalidSignature, msgMismatch},
		{"query added", addQuery("a=1"), CodeInvalidSignature, msgMismatch},
		{"signed header removed", func(r *http.Request) { r.Header.Del("Content-Type") }, CodeInvalidSignature, msgMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(`{"description":"d"}`)
			r, body := signedRequest(t, testSigner(), "POST", "/workspaces/ws1", body)
			if _, err := testVerifier().Verify(r, body); err != nil {
				t.Fatalf("unmodified request rejected: %v", err)
			}
			tt.mutate(r)
			_, err := testVerifier().Verify(r, body)
			wantErr(t, err, tt.code, tt.msg, testKeys["AKIDTEST"])
		})
	}
}

func TestMalformedPresigned(t *testing.T) {
	// query edits the raw query of a presigned request.
	query := func(f func(q string) string) func(*http.Request) {
		return func(r *http.Request) {
			p, q, _ := strings.Cut(r.RequestURI, "?")
			r.RequestURI = p + "?" + f(q)
		}
	}
	drop := func(name string) func(*http.Request) {
		return query(func(q string) string {
			var keep []string
			for _, kv := range strings.Split(q, "&") {
				if !strings.HasPrefix(kv, name+"=") {
					keep = append(keep, kv)
				}
			}
			return strings.Join(keep, "&")
		})
	}
	sub := func(old, new string) func(*http.Request) {
		return query(func(q string) string {
			if !strings.Contains(q, old) {
				panic(fmt.Sprintf("%q not in %q", old, q))
			}
			return strings.Replace(q, old, new, 1)
		})
	}
	const mustInclude = "AWS query-string parameters must include"
	tests := []struct {
		name   string
		mutate func(*http.Request)
		code   string
		msg    string
	}{
		{"no signature", drop("X-Amz-Signature"), CodeIncompleteSignature, mustInclude},
		{"no algorithm", drop("X-Amz-Algorithm"), CodeIncompleteSignature, mustInclude},
		{"no credential", drop("X-Amz-Credential"), CodeIncompleteSignature, mustInclude},
		{"no date", drop("X-Amz-Date"), CodeIncompleteSignature, mustInclude},
		{"no signed headers", drop("X-Amz-SignedHeaders"), CodeIncompleteSignature, mustInclude},
		{"no expires", drop("X-Amz-Expires"), CodeIncompleteSignature, mustInclude},
		{"no auth parameters", func(r *http.Request) {
			r.RequestURI, _, _ = strings.Cut(r.RequestURI, "?")
		}, CodeMissingAuthenticationToken, "Missing Authentication Token"},
		{"malformed query without auth", func(r *http.Request) { r.RequestURI = "/workspaces?a=%zz" }, CodeMissingAuthenticationToken, "Missing Authentication Token"},
		{"malformed query", query(func(q string) string { return q + "&a=%zz" }), CodeIncompleteSignature, "malformed percent-encoding"},
		{"duplicate date", query(func(q string) string { return q + "&X-Amz-Date=20261126T100000Z" }), CodeIncompleteSignature, "'X-Amz-Date' must appear only once"},
		{"other algorithm", sub("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"), CodeIncompleteSignature, "only supports 'AWS4-HMAC-SHA256'"},
		{"credential shape", sub("%2Faws4_request", ""), CodeIncompleteSignature, "exactly 5 slash-delimited elements"},
		{"host not signed", sub("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-host"), CodeIncompleteSignature, "host header must be signed"},
		{"uppercase signature", query(func(q string) string {
			i := strings.Index(q, "X-Amz-Signature=") + len("X-Amz-Signature=")
			return q[:i] + strings.ToUpper(q[i:])
		}), CodeIncompleteSignature, "64 lowercase hexadecimal"},
		{"bad date", sub("X-Amz-Date=20261126T100000Z", "X-Amz-Date=20261126"), CodeIncompleteSignature, "ISO 8601 basic format"},
		{"expires not a number", sub("X-Amz-Expires=3600", "X-Amz-Expires=1h"), CodeIncompleteSignature, "whole number of seconds"},
		{"expires empty", sub("X-Amz-Expires=3600", "X-Amz-Expires="), CodeIncompleteSignature, "whole number of seconds"},
		{"expires negative", sub("X-Amz-Expires=3600", "X-Amz-Expires=-1"), CodeIncompleteSignature, "whole number of seconds"},
		{"expires huge", sub("X-Amz-Expires=3600", "X-Amz-Expires=99999999999999999999"), CodeIncompleteSignature, "whole number of seconds"},
		{"expires zero", sub("X-Amz-Expires=3600", "X-Amz-Expires=0"), CodeInvalidSignature, "between 1 and 604800 seconds"},
		{"expires over a week", sub("X-Amz-Expires=3600", "X-Amz-Expires=604801"), CodeInvalidSignature, "between 1 and 604800 seconds"},
		{"expires changed", sub("X-Amz-Expires=3600", "X-Amz-Expires=604800"), CodeInvalidSignature, msgMismatch},
		{"wrong region", sub("%2Fus-east-1%2F", "%2Feu-west-1%2F"), CodeInvalidSignature, "not 'eu-west-1'"},
		{"unknown key", sub("AKIDTEST", "AKIDNOPE"), CodeUnrecognizedClient, msgUnknownKey},
		{"authorization header too", setHeader("Authorization", "AWS4-HMAC-SHA256 "+validCred), CodeIncompleteSignature, msgBothForms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := presignedRequest(t, testSigner(), "GET", "/workspaces?maxResults=5", nil)
			if _, err := testVerifier().Verify(r, body); err != nil {
				t.Fatalf("unmodified request rejected: %v", err)
			}
			tt.mutate(r)
			_, err := testVerifier().Verify(r, body)
			wantErr(t, err, tt.code, tt.msg, testKeys["AKIDTEST"])
		})
	}
}

// A token appended to a presigned URL after signing is accepted and
// returned, as the suite's post-sts-header-after case requires; whether it
// belongs to the access key is the session layer's check.
func TestPresignedUnsignedToken(t *testing.T) {
	r, body := presignedRequest(t, testSigner(), "GET", "/workspaces", nil)
	r.RequestURI += "&X-Amz-Security-Token=tok%2Fen"
	res, err := testVerifier().Verify(r, body)
	if err != nil {
		t.Fatal(err)
	}
	if res.SecurityToken != "tok/en" {
		t.Errorf("token = %q", res.SecurityToken)
	}
	// A signed token cannot be swapped.
	s := testSigner()
	s.SessionToken = "signed"
	r, body = presignedRequest(t, s, "GET", "/workspaces", nil)
	r.RequestURI = strings.Replace(r.RequestURI, "X-Amz-Security-Token=signed", "X-Amz-Security-Token=other", 1)
	_, err = testVerifier().Verify(r, body)
	wantErr(t, err, CodeInvalidSignature, msgMismatch)
}

func TestCanonicalURI(t *testing.T) {
	tests := []struct {
		path     string
		standard string
		s3       string
	}{
		{"", "/", "/"},
		{"/", "/", "/"},
		{"/workspaces/ws1/component-types/com.example%3Atype%2Fx",
			"/workspaces/ws1/component-types/com.example%253Atype%252Fx",
			"/workspaces/ws1/component-types/com.example%3Atype%2Fx"},
		{"/a:b/c d/é", "/a%3Ab/c%20d/%C3%A9", "/a%3Ab/c%20d/%C3%A9"},
		{"/a%20b", "/a%2520b", "/a%20b"},
		{"/a+b", "/a%2Bb", "/a%2Bb"},
		{"/a/./b/../c", "/a/c", "/a/./b/../c"},
		{"/a/b/..", "/a/", "/a/b/.."},
		{"/a/b/.", "/a/b/", "/a/b/."},
		{"/../..", "/", "/../.."},
		{"//a//b//", "/a/b/", "//a//b//"},
		{"/a/.b/..c", "/a/.b/..c", "/a/.b/..c"},
		{"/~user/-_.", "/~user/-_.", "/~user/-_."},
	}
	for _, tt := range tests {
		if got, err := CanonicalURI(tt.path, Rules{}); err != nil || got != tt.standard {
			t.Errorf("CanonicalURI(%q) = %q, %v; want %q", tt.path, got, err, tt.standard)
		}
		if got, err := CanonicalURI(tt.path, Rules{RawPath: true}); err != nil || got != tt.s3 {
			t.Errorf("CanonicalURI(%q, s3) = %q, %v; want %q", tt.path, got, err, tt.s3)
		}
	}
	if _, err := CanonicalURI("/a%zz", Rules{RawPath: true}); err == nil {
		t.Error("S3 path with a malformed escape accepted")
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"b=2&a=1&a=0", "a=0&a=1&b=2"},
		{"tag=b&tag=a&tag=a", "tag=a&tag=a&tag=b"},
		{"q=x%20y+z", "q=x%20y%20z"},
		{"q=%2b&r=%7e&s=%7E", "q=%2B&r=~&s=~"},
		{"a", "a="},
		{"a=", "a="},
		{"=v", "=v"},
		{"&&a=1&", "a=1"},
		{"a=1;b=2", "a=1%3Bb%3D2"},
		{"a=b=c", "a=b%3Dc"},
		{"X-Amz-Signature=abc&a=1", "a=1"},
		{"%E1%88%B4=bar&Param=1&Param-3=2", "%E1%88%B4=bar&Param=1&Param-3=2"},
		{"ሴ=bar", "%E1%88%B4=bar"},
		{"B=1&a=1", "B=1&a=1"},
		{"a=%2F%3A", "a=%2F%3A"},
	}
	for _, tt := range tests {
		if got, err := CanonicalQuery(tt.raw); err != nil || got != tt.want {
			t.Errorf("CanonicalQuery(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
	for _, raw := range []string{"a=%zz", "%=1", "a=%4"} {
		if _, err := CanonicalQuery(raw); err == nil {
			t.Errorf("CanonicalQuery(%q) accepted", raw)
		}
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := &http.Request{Host: "h.example:8443", Header: http.Header{
		"X-A":        {"  a \t b  \r\n c ", " second "},
		"X-B":        {""},
		"x-odd":      {"raw key"},
		"x-dup":      {"1"},
		"X-DUP":      {"2"},
		"X-Amz-Date": {"20261126T100000Z"},
	}, URL: &url.URL{Host: "ignored"}, ContentLength: 13}
	got := CanonicalHeaders(r, []string{"content-length", "host", "x-a", "x-b", "x-dup", "x-missing", "x-odd"})
	want := "content-length:13\nhost:h.example:8443\nx-a:a b c,second\nx-b:\nx-dup:2,1\nx-missing:\nx-odd:raw key\n"
	if got != want {
		t.Errorf("CanonicalHeaders = %q, want %q", got, want)
	}
	r.Host = ""
	if got := CanonicalHeaders(r, []string{"host"}); got != "host:ignored\n" {
		t.Errorf("host from URL = %q", got)
	}
}

func TestTarget(t *testing.T) {
	tests := []struct{ uri, path, query string }{
		{"/a/b?c=d", "/a/b", "c=d"},
		{"/a%2Fb?", "/a%2Fb", ""},
		{"/a?b?c", "/a", "b?c"},
		{"https://api.example.com/workspaces?maxResults=1", "/workspaces", "maxResults=1"},
		{"http://h:8443", "/", ""},
		{"http://h?x=1", "/", "x=1"},
		{"//double/slash", "//double/slash", ""},
		{"*", "*", ""},
	}
	for _, tt := range tests {
		p, q := Target(&http.Request{RequestURI: tt.uri, URL: &url.URL{Path: "/wrong"}})
		if p != tt.path || q != tt.query {
			t.Errorf("Target(%q) = %q, %q; want %q, %q", tt.uri, p, q, tt.path, tt.query)
		}
	}
	u, _ := url.Parse("https://h/a%3Ab?x=%20")
	if p, q := Target(&http.Request{URL: u}); p != "/a%3Ab" || q != "x=%20" {
		t.Errorf("Target(client) = %q, %q", p, q)
	}
}

// TestCrossCheck signs requests of the shapes TwinMaker clients send and
// verifies them behind a real net/http server.
func TestCrossCheck(t *testing.T) {
	v := testVerifier()
	v.Now = nil // real clock: requests are signed now
	type seen struct {
		res        *Result
		err        error
		requestURI string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		res, err := v.Verify(r, body)
		got <- seen{res, err, r.RequestURI}
	}))
	defer srv.Close()
	proxyURL, _ := url.Parse(srv.URL)
	viaProxy := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}

	tok := &Signer{AccessKeyID: "ASIATEST", Secret: []byte(testKeys["ASIATEST"]), SessionToken: "session/token+==",
		Region: "us-east-1", Service: "iottwinmaker"}
	json := []byte(`{"entityName":"mixer-1","description":"` + strings.Repeat("x", 200) + `"}`)
	tests := []struct {
		name    string
		method  string
		url     string // relative to the server unless absolute
		body    []byte
		signer  *Signer
		presign bool
		proxy   bool
		header  map[string][]string
	}{
		{name: "get repeated query keys", method: "GET", url: "/workspaces/ws1/entities?maxResults=10&tag=b&tag=a&q=x%20y+z&empty="},
		{name: "post json", method: "POST", url: "/workspaces/ws1/entities", body: json,
			header: map[string][]string{"Content-Type": {"application/json"}, "X-Custom": {"b", "  a  "}}},
		{name: "labels with escapes", method: "PUT", url: "/workspaces/ws1/component-types/com.example%3Atype%2Fx", body: []byte(`{}`)},
		{name: "utf-8 and reserved characters", method: "GET", url: "/workspaces/ws%C3%A9/entities/a!$&'()*+,;=:@b?a%2Bb=c%26d"},
		{name: "absolute-form via proxy", method: "GET", url: "http://api.twin.example:8443/workspaces?maxResults=1", proxy: true},
		{name: "absolute-form post via proxy", method: "POST", url: "http://data.twin.example/entity-properties", body: json, proxy: true},
		{name: "session token", method: "POST", url: "/workspaces/ws1/entities", body: json, signer: tok},
		{name: "presigned get", method: "GET", url: "/workspaces?maxResults=1&tag=x", presign: true},
		{name: "presigned with token", method: "GET", url: "/workspaces", presign: true, signer: tok},
		{name: "other signing name", method: "GET", url: "/workspaces", signer: &Signer{AccessKeyID: "AKIDTEST",
			Secret: []byte(testKeys["AKIDTEST"]), Region: "us-east-1", Service: "awsiottwinmaker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url
			if !strings.HasPrefix(u, "http") {
				u = srv.URL + u
			}
			r, err := http.NewRequest(tt.method, u, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tt.header {
				r.Header[k] = vs
			}
			s := tt.signer
			if s == nil {
				s = testSigner()
			}
			if tt.presign {
				err = s.Presign(r, tt.body, time.Now(), 5*time.Minute)
			} else {
				err = s.Sign(r, tt.body, time.Now())
			}
			if err != nil {
				t.Fatal(err)
			}
			c := srv.Client()
			if tt.proxy {
				c = viaProxy
			}
			resp, err := c.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			g := <-got
			if g.err != nil {
				t.Fatalf("Verify(%s): %v", g.requestURI, g.err)
			}
			if tt.proxy && !strings.HasPrefix(g.requestURI, "http://") {
				t.Errorf("request URI %q is not in absolute form", g.requestURI)
			}
			if g.res.AccessKeyID != s.AccessKeyID || g.res.Service != s.Service || g.res.Presigned != tt.presign ||
				g.res.SecurityToken != s.SessionToken {
				t.Errorf("result = %+v", g.res)
			}
		})
	}
}

func TestPayloadHashHeader(t *testing.T) {
	body := []byte(`{"a":1}`)
	other := PayloadHash([]byte("other"))

	// Non-S3: the claim is signed but must match the body.
	r := newRequest(t, "POST", "/workspaces/ws1", body)
	r.Header.Set("X-Amz-Content-Sha256", PayloadHash(body))
	if err := testSigner().Sign(r, body, testNow); err != nil {
		t.Fatal(err)
	}
	sr, sb := wire(t, r)
	if _, err := testVerifier().Verify(sr, sb); err != nil {
		t.Fatalf("matching claim rejected: %v", err)
	}
	r = newRequest(t, "POST", "/workspaces/ws1", body)
	r.Header.Set("X-Amz-Content-Sha256", other)
	if err := testSigner().Sign(r, body, testNow); err != nil {
		t.Fatal(err)
	}
	sr, sb = wire(t, r)
	_, err := testVerifier().Verify(sr, sb)
	wantErr(t, err, CodeInvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")

	// S3: the claim is what is signed; UNSIGNED-PAYLOAD is allowed.
	s3 := &Signer{AccessKeyID: "AKIDTEST", Secret: []byte(testKeys["AKIDTEST"]), Region: "us-east-1", Service: "s3"}
	v := testVerifier()
	v.Services = []string{"s3"}
	for _, claim := range []string{"", UnsignedPayload} {
		r = newRequest(t, "PUT", "/bucket/key%3Aa%20b", body)
		if claim != "" {
			r.Header.Set("X-Amz-Content-Sha256", claim)
		}
		if err := s3.Sign(r, body, testNow); err != nil {
			t.Fatal(err)
		}
		sr, sb = wire(t, r)
		if _, err := v.Verify(sr, sb); err != nil {
			t.Fatalf("s3 claim %q rejected: %v", claim, err)
		}
	}
	r = newRequest(t, "PUT", "/bucket/key", body)
	r.Header.Set("X-Amz-Content-Sha256", other)
	if err := s3.Sign(r, body, testNow); err != nil {
		t.Fatal(err)
	}
	sr, sb = wire(t, r)
	_, err = v.Verify(sr, sb)
	wantErr(t, err, CodeInvalidSignature, "does not match what was computed")

	r = newRequest(t, "GET", "/bucket/a%2Fb", nil)
	if err := s3.Presign(r, nil, testNow, time.Hour); err != nil {
		t.Fatal(err)
	}
	sr, sb = wire(t, r)
	if _, err := v.Verify(sr, sb); err != nil {
		t.Fatalf("s3 presigned rejected: %v", err)
	}
}

func TestLookupErrors(t *testing.T) {
	r, body := signedRequest(t, testSigner(), "GET", "/workspaces", nil)
	boom := errors.New("store unavailable")
	v := testVerifier()
	v.Lookup = func(context.Context, string) (Key, error) { return Key{}, boom }
	_, err := v.Verify(r, body)
	var e *Error
	if !errors.Is(err, boom) || errors.As(err, &e) {
		t.Errorf("lookup failure = %v, want an internal error wrapping the cause", err)
	}

	expired := &Error{Code: "ExpiredTokenException", Status: 403, Message: "The security token included in the request is expired"}
	v.Lookup = func(context.Context, string) (Key, error) { return Key{}, fmt.Errorf("session: %w", expired) }
	if _, err := v.Verify(r, body); !errors.As(err, &e) || e != expired {
		t.Errorf("lookup *Error = %v, want it passed on", err)
	}

	v.Lookup = func(context.Context, string) (Key, error) { return Key{}, nil }
	_, err = v.Verify(r, body)
	wantErr(t, err, CodeUnrecognizedClient, msgUnknownKey)

	for _, bad := range []*Verifier{{}, {Region: "us-east-1", Lookup: mapLookup(testKeys)}, {Services: []string{"x"}, Lookup: mapLookup(testKeys)}} {
		if _, err := bad.Verify(r, body); err == nil || errors.As(err, &e) {
			t.Errorf("misconfigured verifier: err = %v, want an internal error", err)
		}
	}
}

func TestSkewSetting(t *testing.T) {
	r, body := signedRequest(t, testSigner(), "GET", "/workspaces", nil)
	v := testVerifier()
	v.MaxSkew = 90 * time.Second
	v.Now = func() time.Time { return testNow.Add(91 * time.Second) }
	_, err := v.Verify(r, body)
	wantErr(t, err, CodeInvalidSignature, "Signature expired: 20261126T100000Z is now earlier than 20261126T100001Z (20261126T100131Z - 1m30s)")
	v.MaxSkew = 5 * time.Minute
	v.Now = func() time.Time { return testNow.Add(-5*time.Minute - 500*time.Millisecond) }
	_, err = v.Verify(r, body)
	wantErr(t, err, CodeInvalidSignature, "Signature not yet current: 20261126T100000Z is still later than 20261126T095959Z (20261126T095459Z + 5 min.)")
}

func TestSecretChange(t *testing.T) {
	keys := map[string]string{"AKIDTEST": testKeys["AKIDTEST"]}
	var mu sync.Mutex
	v := testVerifier()
	v.Lookup = func(ctx context.Context, id string) (Key, error) {
		mu.Lock()
		defer mu.Unlock()
		return mapLookup(keys)(ctx, id)
	}
	r, body := signedRequest(t, testSigner(), "GET", "/workspaces", nil)
	if _, err := v.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	keys["AKIDTEST"] = "a-new-secret"
	mu.Unlock()
	_, err := v.Verify(r, body)
	wantErr(t, err, CodeInvalidSignature, msgMismatch)
}

func TestConcurrentVerify(t *testing.T) {
	v := testVerifier()
	keys := make(map[string]string)
	for i := range maxCachedKeys + 50 {
		keys[fmt.Sprintf("AKID%06d", i)] = fmt.Sprintf("a-test-secret-access-key-%015d", i)
	}
	v.Lookup = mapLookup(keys)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(keys); i += 8 {
				id := fmt.Sprintf("AKID%06d", i)
				s := &Signer{AccessKeyID: id, Secret: []byte(keys[id]), Region: "us-east-1", Service: "iottwinmaker"}
				r, body := signedRequest(t, s, "POST", "/workspaces/ws1", []byte(`{}`))
				for range 2 { // the second one hits the cache
					if _, err := v.Verify(r, body); err != nil {
						t.Errorf("%s: %v", id, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	if n := len(v.keys); n > maxCachedKeys {
		t.Errorf("cache holds %d keys, limit %d", n, maxCachedKeys)
	}
}

func TestParseAuthorization(t *testing.T) {
	a, err := ParseAuthorization("AWS4-HMAC-SHA256   SignedHeaders=host;x-amz-date ,Signature=" + validSig + ",  " + validCred)
	if err != nil {
		t.Fatal(err)
	}
	want := Credential{AccessKeyID: "AKIDTEST", Date: "20261126", Region: "us-east-1", Service: "iottwinmaker", Terminator: "aws4_request"}
	if a.Credential != want || strings.Join(a.SignedHeaders, ";") != "host;x-amz-date" || a.Signature != validSig {
		t.Errorf("ParseAuthorization = %+v", a)
	}
	if s := a.Credential.Scope(); s != "20261126/us-east-1/iottwinmaker/aws4_request" {
		t.Errorf("Scope = %q", s)
	}
}

func TestCleanMessage(t *testing.T) {
	long := strings.Repeat("é", 100)
	if got := clean(long); len(got) > maxQuoted+3 || strings.ContainsRune(got, 'é') {
		t.Errorf("clean(long) = %q", got)
	}
	if got := clean("a\nb\x00c"); got != "a?b?c" {
		t.Errorf("clean = %q", got)
	}
}

// TestGlobalRegions: a global service is accepted signed for its own
// region as well as the server's; other services only for the server's.
func TestGlobalRegions(t *testing.T) {
	v := testVerifier()
	v.Region = "eu-west-1"
	v.Services = []string{"iottwinmaker", "iam"}
	v.GlobalRegions = map[string]string{"iam": "us-east-1"}
	for _, c := range []struct {
		service, region string
		ok              bool
	}{
		{"iam", "us-east-1", true},
		{"iam", "eu-west-1", true},
		{"iam", "eu-central-1", false},
		{"iottwinmaker", "eu-west-1", true},
		{"iottwinmaker", "us-east-1", false},
	} {
		s := &Signer{AccessKeyID: "AKIDTEST", Secret: []byte(testKeys["AKIDTEST"]), Region: c.region, Service: c.service}
		r, body := signedRequest(t, s, "POST", "/", []byte("Action=ListUsers"))
		_, err := v.Verify(r, body)
		if (err == nil) != c.ok {
			t.Errorf("%s signed for %s: %v", c.service, c.region, err)
		}
	}
}
