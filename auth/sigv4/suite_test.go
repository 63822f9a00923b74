package sigv4

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// suiteDir is the public SigV4 suite, kept beside the repository.
const suiteDir = "../../../shared/reference/sigv4-testsuite/v4"

// suiteContext is a case's context.json.
type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	Expiration       int    `json:"expiration_in_seconds"`
	Normalize        bool   `json:"normalize"`
	Region           string `json:"region"`
	Service          string `json:"service"`
	SignBody         bool   `json:"sign_body"`
	Timestamp        string `json:"timestamp"`
	OmitSessionToken bool   `json:"omit_session_token"`
}

// suiteCase is one case directory.
type suiteCase struct {
	name string
	dir  string
	ctx  suiteContext
	now  time.Time
}

func (c *suiteCase) file(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (c *suiteCase) rules() Rules { return Rules{RawPath: !c.ctx.Normalize} }

// verifier returns a verifier that knows the case's key, with the clock at
// now.
func (c *suiteCase) verifier(now time.Time, keys map[string]string) *Verifier {
	if keys == nil {
		keys = map[string]string{c.ctx.Credentials.AccessKeyID: c.ctx.Credentials.SecretAccessKey}
	}
	return &Verifier{
		Region:   c.ctx.Region,
		Services: []string{c.ctx.Service},
		Lookup:   mapLookup(keys),
		Now:      func() time.Time { return now },
		Rules:    func(string) Rules { return c.rules() },
	}
}

func mapLookup(keys map[string]string) Lookup {
	return func(_ context.Context, id string) (Key, error) {
		s, ok := keys[id]
		if !ok {
			return Key{}, fmt.Errorf("key %q: %w", id, ErrUnknownKey)
		}
		return Key{Secret: []byte(s)}, nil
	}
}

func loadSuite(t *testing.T) []*suiteCase {
	t.Helper()
	entries, err := os.ReadDir(suiteDir)
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("SigV4 suite missing at %s (required when CI=true)", suiteDir)
		}
		t.Skipf("SigV4 suite not found at %s", suiteDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var cases []*suiteCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c := &suiteCase{name: e.Name(), dir: filepath.Join(suiteDir, e.Name())}
		data, err := os.ReadFile(filepath.Join(c.dir, "context.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &c.ctx); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.now, err = time.Parse(time.RFC3339, c.ctx.Timestamp); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cases = append(cases, c)
	}
	if len(cases) != 38 {
		t.Fatalf("found %d suite cases, want 38", len(cases))
	}
	return cases
}

// parseRaw reads a raw HTTP/1.1 request as a server would receive it, but
// more permissively than http.ReadRequest: the suite has raw spaces in
// targets, repeated and folded headers. Host goes to r.Host as in Go's
// server, and the target is kept verbatim in RequestURI.
func parseRaw(raw string) (*http.Request, []byte, error) {
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		head, body, ok = strings.Cut(raw, "\n\n")
	}
	if !ok {
		head = strings.TrimRight(raw, "\r\n")
	}
	lines := strings.Split(head, "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	reqLine := lines[0]
	sp1 := strings.IndexByte(reqLine, ' ')
	sp2 := strings.LastIndexByte(reqLine, ' ')
	if sp1 <= 0 || sp2 <= sp1 {
		return nil, nil, fmt.Errorf("malformed request line %q", reqLine)
	}
	r := &http.Request{
		Method:     reqLine[:sp1],
		RequestURI: reqLine[sp1+1 : sp2],
		Proto:      reqLine[sp2+1:],
		ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header),
	}
	var last string
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' { // obs-fold continues the previous value
			if last == "" {
				return nil, nil, fmt.Errorf("continuation line without a header")
			}
			vs := r.Header[last]
			vs[len(vs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, nil, fmt.Errorf("malformed header line %q", l)
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		r.Header[last] = append(r.Header[last], strings.TrimSpace(value))
	}
	if h, ok := r.Header["Host"]; ok {
		r.Host = h[0]
		delete(r.Header, "Host")
	}
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		p, q, _ := strings.Cut(r.RequestURI, "?")
		u = &url.URL{Path: p, RawQuery: q}
	}
	if u.Host != "" {
		r.Host = u.Host
	}
	r.URL = u
	r.ContentLength = int64(len(body))
	return r, []byte(body), nil
}

func mustParse(t *testing.T, raw string) (*http.Request, []byte) {
	t.Helper()
	r, body, err := parseRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

// wantErr checks that err is an *Error with the code and a message holding
// want, and that the message leaks nothing in secrets.
func wantErr(t *testing.T, err error, code, want string, secrets ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *Error %s", err, code)
	}
	if e.Code != code || !strings.Contains(e.Message, want) {
		t.Fatalf("error = %s %q, want %s containing %q", e.Code, e.Message, code, want)
	}
	wantStatus := map[string]int{
		CodeMissingAuthenticationToken: 403, CodeIncompleteSignature: 400,
		CodeInvalidSignature: 403, CodeUnrecognizedClient: 403,
	}[code]
	if e.Status != wantStatus {
		t.Errorf("status = %d, want %d", e.Status, wantStatus)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(e.Message, s) {
			t.Errorf("message %q leaks %q", e.Message, s)
		}
	}
}

// mutateValue changes one significant byte of a header value: the
// last digit (so a date stays a date) or else the last letter.
func mutateValue(v string) string {
	b := []byte(v)
	for i := len(b) - 1; i >= 0; i-- {
		if c := b[i]; '0' <= c && c <= '9' {
			b[i] = '0' + (c-'0'+1)%10
			return string(b)
		}
	}
	for i := len(b) - 1; i >= 0; i-- {
		if c := b[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			b[i] ^= 0x20
			return string(b)
		}
	}
	return v + "x"
}

func TestSuite(t *testing.T) {
	for _, c := range loadSuite(t) {
		t.Run(c.name, func(t *testing.T) {
			for _, form := range []string{"header", "query"} {
				t.Run(form, func(t *testing.T) { testSuiteForm(t, c, form) })
			}
		})
	}
}

func testSuiteForm(t *testing.T, c *suiteCase, form string) {
	raw := c.file(t, form+"-signed-request.txt")
	sig := strings.TrimSpace(c.file(t, form+"-signature.txt"))
	secret := c.ctx.Credentials.SecretAccessKey
	presigned := form == "query"

	// Accepted, with the expected intermediate forms.
	r, body := mustParse(t, raw)
	res, err := c.verifier(c.now, nil).Verify(r, body)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.AccessKeyID != c.ctx.Credentials.AccessKeyID || res.Region != c.ctx.Region ||
		res.Service != c.ctx.Service || res.Presigned != presigned || !res.SignedAt.Equal(c.now) {
		t.Errorf("result = %+v", res)
	}
	if res.SecurityToken != c.ctx.Credentials.Token {
		t.Errorf("security token = %q, want %q", res.SecurityToken, c.ctx.Credentials.Token)
	}
	if presigned && !res.Expires.Equal(c.now.Add(time.Duration(c.ctx.Expiration)*time.Second)) {
		t.Errorf("expires = %v", res.Expires)
	}

	var signedHeaders []string
	var amzDate string
	if presigned {
		_, q, _ := strings.Cut(r.RequestURI, "?")
		vals, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		signedHeaders = strings.Split(vals.Get("X-Amz-SignedHeaders"), ";")
		amzDate = vals.Get("X-Amz-Date")
		if c.ctx.OmitSessionToken {
			// The token was appended after signing: the expected
			// canonical request does not have it.
			r2, _ := mustParse(t, strings.Replace(raw, "&X-Amz-Security-Token="+url.QueryEscape(c.ctx.Credentials.Token), "", 1))
			r = r2
		}
	} else {
		a, err := ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		signedHeaders = a.SignedHeaders
		amzDate = r.Header.Get("X-Amz-Date")
	}
	canon, err := CanonicalRequest(r, signedHeaders, PayloadHash(body), c.rules())
	if err != nil {
		t.Fatal(err)
	}
	if want := c.file(t, form+"-canonical-request.txt"); canon != want {
		t.Errorf("canonical request:\n%s\nwant:\n%s", canon, want)
	}
	scope := Scope(amzDate[:8], c.ctx.Region, c.ctx.Service)
	sts := StringToSign(amzDate, scope, canon)
	if want := c.file(t, form+"-string-to-sign.txt"); sts != want {
		t.Errorf("string to sign:\n%s\nwant:\n%s", sts, want)
	}
	if got := Signature(SigningKey([]byte(secret), amzDate[:8], c.ctx.Region, c.ctx.Service), sts); got != sig {
		t.Errorf("signature = %s, want %s", got, sig)
	}

	reject := func(t *testing.T, raw string, now time.Time, keys map[string]string, mutate func(*http.Request, []byte) []byte) error {
		t.Helper()
		r, body := mustParse(t, raw)
		if mutate != nil {
			body = mutate(r, body)
		}
		res, err := c.verifier(now, keys).Verify(r, body)
		if err == nil {
			t.Fatalf("accepted: %+v", res)
		}
		return err
	}
	accept := func(t *testing.T, now time.Time) {
		t.Helper()
		r, body := mustParse(t, raw)
		if _, err := c.verifier(now, nil).Verify(r, body); err != nil {
			t.Fatalf("rejected at %v: %v", now, err)
		}
	}

	t.Run("signature-byte", func(t *testing.T) {
		flipped := sig[:63] + string("10"[boolInt(sig[63] == '1')])
		err := reject(t, strings.Replace(raw, sig, flipped, 1), c.now, nil, nil)
		wantErr(t, err, CodeInvalidSignature, msgMismatch, sig, secret)
	})
	t.Run("signed-header-value", func(t *testing.T) {
		for _, h := range signedHeaders {
			err := reject(t, raw, c.now, nil, func(r *http.Request, body []byte) []byte {
				if h == "host" {
					r.Host = mutateValue(r.Host)
					return body
				}
				k := textproto.CanonicalMIMEHeaderKey(h)
				vs := r.Header[k]
				if len(vs) == 0 {
					t.Fatalf("signed header %s missing", h)
				}
				vs[len(vs)-1] = mutateValue(vs[len(vs)-1])
				return body
			})
			wantErr(t, err, CodeInvalidSignature, msgMismatch, sig, secret)
		}
	})
	if len(body) > 0 {
		t.Run("body-byte", func(t *testing.T) {
			err := reject(t, raw, c.now, nil, func(_ *http.Request, body []byte) []byte {
				b := bytes.Clone(body)
				b[len(b)-1] ^= 1
				return b
			})
			wantErr(t, err, CodeInvalidSignature, msgMismatch, sig, secret)
		})
	}
	t.Run("clock", func(t *testing.T) {
		const skew = 15 * time.Minute
		accept(t, c.now.Add(skew-time.Second))
		accept(t, c.now.Add(-skew+time.Second))
		accept(t, c.now.Add(skew))
		err := reject(t, raw, c.now.Add(-skew-time.Second), nil, nil)
		wantErr(t, err, CodeInvalidSignature,
			"Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)")
		if !presigned {
			err := reject(t, raw, c.now.Add(skew+time.Second), nil, nil)
			wantErr(t, err, CodeInvalidSignature,
				"Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)")
		}
	})
	if presigned {
		t.Run("expiry", func(t *testing.T) {
			exp := time.Duration(c.ctx.Expiration) * time.Second
			accept(t, c.now.Add(exp))
			err := reject(t, raw, c.now.Add(exp+time.Second), nil, nil)
			wantErr(t, err, CodeInvalidSignature, msgExpired)
			for _, e := range []string{"0", "604801"} {
				err := reject(t, strings.Replace(raw, "X-Amz-Expires=3600", "X-Amz-Expires="+e, 1), c.now, nil, nil)
				wantErr(t, err, CodeInvalidSignature, "X-Amz-Expires must be between 1 and 604800 seconds")
			}
			err = reject(t, strings.Replace(raw, "X-Amz-Expires=3600", "X-Amz-Expires=1h", 1), c.now, nil, nil)
			wantErr(t, err, CodeIncompleteSignature, "X-Amz-Expires must be a whole number")
		})
	}
	t.Run("wrong-secret", func(t *testing.T) {
		err := reject(t, raw, c.now, map[string]string{c.ctx.Credentials.AccessKeyID: secret + "x"}, nil)
		wantErr(t, err, CodeInvalidSignature, msgMismatch, sig, secret)
	})
	t.Run("unknown-key", func(t *testing.T) {
		err := reject(t, raw, c.now, map[string]string{"AKIDOTHER": secret}, nil)
		wantErr(t, err, CodeUnrecognizedClient, msgUnknownKey)
	})
	sep := "/"
	if presigned {
		sep = "%2F"
	}
	// scoped replaces old by new in the request's credential scope.
	scoped := func(old, new string) string {
		const scope = "20150830/us-east-1/service/aws4_request"
		return strings.Replace(raw, strings.ReplaceAll(scope, "/", sep),
			strings.ReplaceAll(strings.Replace(scope, old, new, 1), "/", sep), 1)
	}
	for _, m := range []struct{ name, old, new, want string }{
		{"region", "us-east-1", "eu-west-1", "Credential should be scoped to a valid region, not 'eu-west-1'. "},
		{"service", "/service/", "/other/", "Credential should be scoped to correct service: 'service'. "},
		{"date", "20150830", "20150831", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'."},
		{"terminator", "aws4_request", "aws4_reqest", "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'. "},
	} {
		t.Run("scope-"+m.name, func(t *testing.T) {
			mutated := scoped(m.old, m.new)
			if mutated == raw {
				t.Fatal("scope not found in request")
			}
			err := reject(t, mutated, c.now, nil, nil)
			wantErr(t, err, CodeInvalidSignature, m.want)
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
