package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// rawResponse is a response read in full.
type rawResponse struct {
	Status    int
	Header    http.Header
	Body      []byte
	ErrorType string
	Message   string
}

// signer builds requests signed the way the SDK signs them, for tests that
// need to send what the SDK's own client-side checks would stop.
type signer struct {
	srv    *twinvaulttest.Server
	client *http.Client
	key    string
	secret string
	region string
	now    func() time.Time
}

func newSigner(srv *twinvaulttest.Server) *signer {
	return &signer{srv: srv, client: srv.HTTPClient(), key: srv.AccessKey, secret: srv.SecretKey, region: srv.Region, now: time.Now}
}

func (s *signer) request(t *testing.T, method, path string, body []byte) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.Endpoint+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func (s *signer) sign(t *testing.T, req *http.Request, body []byte) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iottwinmaker", s.region, s.now()); err != nil {
		t.Fatal(err)
	}
}

func (s *signer) do(t *testing.T, req *http.Request) *rawResponse {
	t.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: data, ErrorType: resp.Header.Get("X-Amzn-ErrorType")}
	if out.ErrorType != "" {
		var m struct{ Message string }
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("error body is not JSON: %q", data)
		}
		out.Message = m.Message
	}
	return out
}

// call sends a signed request with a JSON body (nil: no body).
func (s *signer) call(t *testing.T, method, path string, body any) *rawResponse {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req := s.request(t, method, path, data)
	s.sign(t, req, data)
	return s.do(t, req)
}
