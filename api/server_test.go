package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/auth/sigv4"
)

// The server bounds what a slow or idle client can hold.
func TestHTTPServerLimits(t *testing.T) {
	hs := New(Config{}).HTTPServer(nil)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 30*time.Second {
		t.Errorf("ReadHeaderTimeout %v", hs.ReadHeaderTimeout)
	}
	if hs.IdleTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 {
		t.Errorf("timeouts: idle %v read %v write %v", hs.IdleTimeout, hs.ReadTimeout, hs.WriteTimeout)
	}
	if hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes %d", hs.MaxHeaderBytes)
	}
}

func TestRequestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := twinvault.NewUUID()
		if len(id) != 36 || id[14] != '4' || seen[id] {
			t.Fatalf("request ID %q", id)
		}
		seen[id] = true
	}
}

// recordingAuditor keeps the context each event was recorded with.
type recordingAuditor struct{ ctxErrs []error }

func (a *recordingAuditor) Reserve(context.Context, *Request) error { return nil }
func (a *recordingAuditor) Record(ctx context.Context, _ *Record) error {
	a.ctxErrs = append(a.ctxErrs, ctx.Err())
	return nil
}

// A call whose client has gone is recorded all the same: the event's
// write does not inherit the request's cancellation.
func TestRecordOutlivesClient(t *testing.T) {
	aud := &recordingAuditor{}
	s := New(Config{Verifier: &sigv4.Verifier{Region: "us-east-1", Services: []string{twinmakerService}}, Auditor: aud})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "https://localhost/workspaces/ws", nil)
	s.ServeHTTP(httptest.NewRecorder(), r)
	if len(aud.ctxErrs) != 1 || aud.ctxErrs[0] != nil {
		t.Fatalf("recorded %d events, with context errors %v", len(aud.ctxErrs), aud.ctxErrs)
	}
}

// A body of announced length is read into one buffer of that size: the
// read that finds its end does not grow it.
func TestReadBodyOneBuffer(t *testing.T) {
	s := &Server{maxBody: DefaultMaxBody}
	body := bytes.Repeat([]byte("x"), 7000)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	got, err := s.readBody(r)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("readBody = %d bytes, %v", len(got), err)
	}
	if c := cap(got); c > len(body)+bytes.MinRead {
		t.Errorf("readBody read a %d-byte body into a %d-byte buffer", len(body), c)
	}
}
