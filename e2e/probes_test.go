package e2e

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// TestProbes: unsigned GETs of /livez and /readyz answer "ok" over HTTPS,
// say nothing more, and are not audited as API calls; anything else
// unsigned is still refused.
func TestProbes(t *testing.T) {
	srv := twinvaulttest.Start(t)
	c := srv.HTTPClient()
	ct := srv.CloudTrail(srv.AWSConfig())
	before := len(lookupAll(t, ct, "", ""))
	for _, path := range []string{"/livez", "/readyz"} {
		resp, err := c.Get(srv.Endpoint + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "ok\n" || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	// The lookups above and below are the only calls audited.
	if after := len(lookupAll(t, ct, "", "")); after != before+1 {
		t.Fatalf("%d events before the probes, %d after", before, after)
	}
	for _, req := range []struct{ method, path string }{{"POST", "/livez"}, {"GET", "/livez/x"}, {"GET", "/workspaces"}} {
		r, _ := http.NewRequestWithContext(context.Background(), req.method, srv.Endpoint+req.path, nil)
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("unsigned %s %s was served", req.method, req.path)
		}
	}
}
