package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		"--data-dir", filepath.Join(dir, "twinvault-data")}, &out, &errOut)
	if code != 0 {
		t.Fatalf("load exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"baseline: GetWorkspace", "ingest: BatchPutPropertyValues", "history: 25-value pages", "values/s", "bytes per point"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
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
