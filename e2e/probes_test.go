package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/node"
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

// TestMetrics: GET /metrics answers a scrape bearing the metrics token with
// Prometheus metrics of the calls served, naming operations and error
// codes but nothing a user chose; a wrong token or none gets nothing, and
// scrapes are not audited.
func TestMetrics(t *testing.T) {
	token := "scrape-token-0123456789"
	file := filepath.Join(t.TempDir(), "metrics-token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := twinvaulttest.Start(t, func(c *node.Config) { c.MetricsTokenFile = file })
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	marker := "qzxmetricsmark"
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String(marker), Description: aws.String(marker + "desc"),
		Tags: map[string]string{marker + "k": marker + "v"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String(marker + "missing")}); err == nil {
		t.Fatal("a missing workspace was found")
	}
	scrape := func(auth string) (int, string) {
		r, _ := http.NewRequestWithContext(ctx, "GET", srv.Endpoint+"/metrics", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		resp, err := srv.HTTPClient().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	ct := srv.CloudTrail(srv.AWSConfig())
	before := len(lookupAll(t, ct, "", ""))
	code, body := scrape("Bearer " + token)
	if code != http.StatusOK {
		t.Fatalf("scrape: %d %s", code, body)
	}
	for _, want := range []string{
		`twinvault_api_requests_total{operation="CreateWorkspace",outcome="OK",service="iottwinmaker"} 1`,
		`twinvault_api_requests_total{operation="GetWorkspace",outcome="ResourceNotFoundException",service="iottwinmaker"} 1`,
		`twinvault_api_request_duration_seconds_bucket{operation="CreateWorkspace",service="iottwinmaker",le="+Inf"} 1`,
		"twinvault_api_requests_in_flight", "twinvault_node_draining 0", `twinvault_lease_held{lease="keys/rewrap"}`, "go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the metrics lack %s", want)
		}
	}
	// The audit log's counts: every call so far left entries, none was
	// refused; over the embedded store each durable write waited for a
	// sync of its write-ahead log.
	value := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Errorf("the metrics lack %s", name)
			return 0
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return v
	}
	entries, writes := value("twinvault_audit_entries_total"), value("twinvault_audit_writes_total")
	if entries < 3 || writes < 1 || writes > entries || value("twinvault_audit_refused_total") != 0 || value("twinvault_audit_wait_seconds_total") <= 0 {
		t.Errorf("audit metrics: %d entries in %d writes", int(entries), int(writes))
	}
	if srv.Config().Storage == "" || srv.Config().Storage == node.StoragePebble {
		if syncs := value("twinvault_kv_wal_syncs_total"); syncs < 1 || value("twinvault_kv_wal_sync_seconds_total") <= 0 {
			t.Errorf("%v write-ahead log syncs", syncs)
		}
	}
	if strings.Contains(strings.ToLower(body), marker) {
		t.Error("the metrics show a name a user chose")
	}
	for _, auth := range []string{"Bearer wrong-token-0123456789", ""} {
		if code, body := scrape(auth); code == http.StatusOK || strings.Contains(body, "twinvault_api") {
			t.Errorf("a scrape with %q: %d", auth, code)
		}
	}
	// One lookup before, one after: the scrapes are not API calls. (The
	// unsigned one is an anonymous S3 call, refused and recorded.)
	if after := len(lookupAll(t, ct, "", "")); after > before+2 {
		t.Fatalf("%d events before the scrapes, %d after", before, after)
	}
}
