package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 " + validCred + ", SignedHeaders=host;x-amz-date, Signature=" + validSig)
	f.Add("AWS4-HMAC-SHA256 Signature=" + validSig + ",SignedHeaders=content-type;host," + validCred)
	f.Add("AWS4-HMAC-SHA256 Credential=a/20150830/r/s/t, SignedHeaders=host, Signature=" + validSig + ", Foo=x")
	f.Add("AWS4-HMAC-SHA256 Credential=//, SignedHeaders=;host, Signature=")
	f.Add("AWS4-ECDSA-P256-SHA256 Credential=x")
	f.Add("AWS AKID:sig")
	f.Add("")
	if entries, err := os.ReadDir(suiteDir); err == nil {
		for _, e := range entries {
			raw, err := os.ReadFile(filepath.Join(suiteDir, e.Name(), "header-signed-request.txt"))
			if err != nil {
				continue
			}
			if r, _, err := parseRaw(string(raw)); err == nil {
				f.Add(r.Header.Get("Authorization"))
			}
		}
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeIncompleteSignature || e.Status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400 IncompleteSignatureException", err)
			}
			if len(e.Message) > 512 {
				t.Fatalf("message is %d bytes long", len(e.Message))
			}
			for i := 0; i < len(e.Message); i++ {
				if c := e.Message[i]; c < 0x20 || c >= 0x7f {
					t.Fatalf("message %q holds byte %#x", e.Message, c)
				}
			}
			return
		}
		if checkSignature(a.Signature) != nil || !slices.Contains(a.SignedHeaders, "host") ||
			!slices.IsSorted(a.SignedHeaders) || a.Credential.AccessKeyID == "" || !digits(a.Credential.Date, 8) {
			t.Fatalf("accepted an invalid header: %+v", a)
		}
		// The parsed form, written out canonically, parses to the same.
		again := Algorithm + " Credential=" + a.Credential.AccessKeyID + "/" + a.Credential.Scope() +
			", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
		b, err := ParseAuthorization(again)
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", again, b, err, a)
		}
	})
}

// reservedFuzzHeaders are set by the signer or rewritten by Go's HTTP
// writer; the fuzzer's own header takes another name instead.
var reservedFuzzHeaders = []string{"host", "content-length", "transfer-encoding", "trailer", "user-agent",
	"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}

// FuzzVerify checks that Verify never panics, that whatever Sign or Presign
// signs, sent through Go's HTTP writer and server-side reader, verifies,
// and that a changed body or Authorization header does not.
func FuzzVerify(f *testing.F) {
	f.Add("GET", "/workspaces?maxResults=1&tag=b&tag=a", "x-custom", "  a \t b  ", []byte(nil), "")
	f.Add("POST", "/workspaces/ws1/component-types/com.example%3Atype%2Fx", "content-type", "application/json",
		[]byte(`{"description":"d"}`), "AWS4-HMAC-SHA256 "+validCred+", SignedHeaders=host;x-amz-date, Signature="+validSig)
	f.Add("PUT", "/a/./b/../c//d/", "x-fold", "v1\r\n  v2", []byte("x"), "AWS4-HMAC-SHA256")
	f.Add("GET", "/\u1234?\u1234=bar&a=x+y&b=%2B&c", "x-utf8", "\u00e9t\u00e9", []byte(nil), "garbage")
	f.Add("DELETE", "//x/%2e%2e/y?=&&a=", "x-empty", "", []byte{0, 1, 2}, "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261126/us-east-1/iottwinmaker/aws4_request")
	f.Add("GET", "/?X-Amz-Signature="+validSig, "x-a", "b", []byte(nil), "")
	f.Fuzz(func(t *testing.T, method, target, hname, hval string, body []byte, auth string) {
		if method == "" || !validHeaderName(strings.ToLower(method)) || method == "CONNECT" {
			method = "POST"
		}
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		u, err := url.Parse("http://api.example.com" + target)
		if err != nil || u.Host != "api.example.com" || u.Opaque != "" {
			return
		}
		hname = strings.ToLower(hname)
		if !validHeaderName(hname) || slices.Contains(reservedFuzzHeaders, hname) {
			hname = "x-fuzz"
		}
		build := func() *http.Request {
			r := &http.Request{
				Method: method, URL: u, Host: u.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{}, ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body)),
			}
			r.Header.Set(hname, hval)
			uu := *u
			r.URL = &uu
			return r
		}
		send := func(r *http.Request) (*http.Request, []byte, string, bool) {
			var buf bytes.Buffer
			if err := r.Write(&buf); err != nil {
				return nil, nil, "", false
			}
			sr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(buf.Bytes())))
			if err != nil {
				return nil, nil, "", false
			}
			sb, err := io.ReadAll(sr.Body)
			if err != nil || !bytes.Equal(sb, body) {
				return nil, nil, "", false
			}
			return sr, sb, buf.String(), true
		}
		params, _ := parseQuery(u.RawQuery)
		clash := slices.ContainsFunc(params, func(p param) bool { return strings.HasPrefix(p.name, "X-Amz-") })

		// Header form.
		r := build()
		if err := testSigner().Sign(r, body, testNow); err != nil {
			return // not canonicalisable (malformed query escapes)
		}
		sr, sb, wired, ok := send(r)
		if !ok {
			return
		}
		res, err := testVerifier().Verify(sr, sb)
		if clash {
			return // the query holds auth parameters of its own; no panic is all we ask
		}
		if err != nil {
			t.Fatalf("signed request rejected: %v\n%s", err, wired)
		}
		if res.AccessKeyID != "AKIDTEST" {
			t.Fatalf("result = %+v", res)
		}
		if len(sb) > 0 {
			flipped := bytes.Clone(sb)
			flipped[0] ^= 1
			if _, err := testVerifier().Verify(sr, flipped); err == nil {
				t.Fatal("changed body accepted")
			}
		}
		if good := sr.Header.Get("Authorization"); auth != good {
			sr.Header.Set("Authorization", auth)
			if _, err := testVerifier().Verify(sr, sb); err == nil {
				t.Fatalf("forged Authorization %q accepted", auth)
			}
		}

		// Presigned form.
		r = build()
		if err := testSigner().Presign(r, body, testNow, 3600e9); err != nil {
			t.Fatalf("Presign: %v", err)
		}
		if sr, sb, wired, ok = send(r); !ok {
			return
		}
		if _, err := testVerifier().Verify(sr, sb); err != nil {
			t.Fatalf("presigned request rejected: %v\n%s", err, wired)
		}
	})
}
