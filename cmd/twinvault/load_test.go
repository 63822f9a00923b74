package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/node"
)

// The load tool runs its three phases against a real server and reports
// each against the baseline.
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "--listen", freePort(t), "--cache-size", "128MiB")
	endpoint := p.ready(t)["endpoint"]
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	var out, errOut strings.Builder
	code := load([]string{"--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"),
		"--profile", "twinvault", "--duration", "700ms", "--concurrency", "2", "--series", "20",
		"--data-dir", filepath.Join(dir, "twinvault-data"), "--server-pid", strconv.Itoa(p.cmd.Process.Pid)}, &out, &errOut)
	if code != 0 {
		t.Fatalf("load exited %d: %s", code, errOut.String())
	}
	wants := []string{"baseline: GetWorkspace", "ingest: BatchPutPropertyValues", "history: 25-value pages", "values/s", "time series of workspace load: 20 series", "bytes per point"}
	if runtime.GOOS == "linux" { // CPU times come from /proc
		wants = append(wants, "server CPU per call: a BatchPutPropertyValues", "CPUs busy with the tool and the server during the baseline")
	}
	for _, want := range wants {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	// `twinvault usage` counts every value the tool wrote: each series'
	// times are all different.
	var written int64
	if i := strings.Index(out.String(), " values in all"); i < 0 {
		t.Fatalf("no count of values written:\n%s", out.String())
	} else {
		written, _ = strconv.ParseInt(out.String()[strings.LastIndexByte(out.String()[:i], '(')+1:i], 10, 64)
	}
	online := []string{"--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), "--profile", "twinvault"}
	var usageOut strings.Builder
	if code := run(append([]string{"usage", "--workspace", "load", "--json"}, online...), &usageOut, &errOut); code != 0 {
		t.Fatalf("usage exited %d: %s", code, errOut.String())
	}
	var u node.StorageUsage
	if err := json.Unmarshal([]byte(usageOut.String()), &u); err != nil {
		t.Fatalf("usage --json: %v: %s", err, usageOut.String())
	}
	if written == 0 || u.Points != written || u.Series != 20 || u.StoredBytes < u.BlockBytes+u.PendingBytes {
		t.Fatalf("usage: %+v; the tool wrote %d values", u, written)
	}
	errOut.Reset()
	if code := run(append([]string{"usage", "--workspace", "nowhere"}, online...), &usageOut, &errOut); code != 1 || !strings.Contains(errOut.String(), "ResourceNotFoundException") {
		t.Errorf("usage of a missing workspace: exit %d, %s", code, errOut.String())
	}
	if code := run([]string{"usage"}, &usageOut, &errOut); code != 2 {
		t.Errorf("usage without --workspace: exit %d", code)
	}

	// A second run reuses the workspace, and reads a deep series.
	out.Reset()
	if code := load([]string{"--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"),
		"--profile", "twinvault", "--duration", "300ms", "--concurrency", "1", "--series", "30", "--deep-series", "3000"}, &out, &errOut); code != 0 {
		t.Fatalf("second run exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "random depths of a series of") {
		t.Errorf("no deep series in the report:\n%s", out.String())
	}
	if code := load([]string{"--entries", "11"}, &out, &errOut); code != 2 {
		t.Errorf("--entries 11: exit %d", code)
	}
}

// TestAppendSecond: whole seconds are written as AppendFormat writes them,
// across days, months, leap years and the ends of the four-digit years.
func TestAppendSecond(t *testing.T) {
	check := func(tm time.Time) {
		t.Helper()
		if got, want := string(appendSecond([]byte("x"), tm)), "x"+tm.UTC().Format(time.RFC3339Nano); got != want {
			t.Fatalf("appendSecond(%v) = %s, want %s", tm, got, want)
		}
	}
	start := time.Date(2023, 12, 31, 23, 59, 50, 0, time.FixedZone("x", 5*3600))
	for i := range 400 * 24 {
		check(start.Add(time.Duration(i) * 61 * time.Minute))
	}
	for _, tm := range []time.Time{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)} {
		check(tm)
	}
}

// TestLoadClientsConnections: each concurrent client calls over its own
// connection, not one HTTP/2 connection shared by all.
func TestLoadClientsConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			t.Errorf("call over %s", r.Proto)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"workspaceId":"load","arn":"arn:aws:iottwinmaker:us-east-1:000000000000:workspace/load"}`)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	clients, err := loadClients(context.Background(), loadConfig{endpoint: srv.URL, caBundle: ca, region: "us-east-1", concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	for w := range clients {
		for range 2 {
			if _, err := clients[w][0].GetWorkspace(context.Background(), &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("load")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("3 clients, 2 calls each, opened %d connections; want one each", got)
	}
}

func TestParseProcStat(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/<pid>/stat is Linux's")
	}
	for _, tc := range []struct {
		line string
		want time.Duration // -1: an error
	}{
		{"1234 (twinvault) S 1 1234 1234 0 -1 4194560 2000 0 0 0 250 31 0 0 20 0 12 0 100 0 0", 2810 * time.Millisecond},
		{"77 (a b) c)) R 1 77 77 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0", 100 * time.Millisecond},
		{"77 (x) R 1 77 77 0 -1 0 0 0 0 0 7", -1},
		{"77 (x) R 1 77 77 0 -1 0 0 0 0 0 7 -3 0", -1},
		{"77 (x) R 1 77 77 0 -1 0 0 0 0 0 seven 3 0", -1},
		{"no parenthesis", -1},
	} {
		got, err := parseProcStat([]byte(tc.line))
		if tc.want < 0 {
			if err == nil {
				t.Errorf("%q: %v, want an error", tc.line, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.line, got, err, tc.want)
		}
	}
	if _, err := procCPU("self"); err != nil {
		t.Errorf("own CPU time: %v", err)
	}
}
