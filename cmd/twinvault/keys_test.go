package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestKeysCommands: `keys status`, `keys rotate --wait` and `keys status`
// again against a running server.
func TestKeysCommands(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "--listen", freePort(t))
	endpoint := p.ready(t)["endpoint"]
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	flags := []string{"--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), "--profile", "twinvault"}
	keys := func(args ...string) string {
		t.Helper()
		var out, errOut strings.Builder
		if code := run(append(append([]string{"keys"}, args...), flags...), &out, &errOut); code != 0 {
			t.Fatalf("keys %v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	if out := keys("status"); !strings.Contains(out, "keyring term 1: active") {
		t.Fatalf("status:\n%s", out)
	}
	out := keys("rotate", "--wait")
	if !strings.Contains(out, "keyring term 2 active") || !strings.Contains(out, "re-sealing: done") {
		t.Fatalf("rotate --wait:\n%s", out)
	}
	out = keys("status")
	if !strings.Contains(out, "keyring term 2: active") || strings.Contains(out, "keyring term 1") || !strings.Contains(out, "0 with older data keys") {
		t.Fatalf("status after rotation:\n%s", out)
	}
	var o, e strings.Builder
	if code := run([]string{"keys", "spin"}, &o, &e); code != 2 {
		t.Errorf("an unknown keys command: %d", code)
	}

	// A new master key: the key file is replaced, a restart opens the
	// data with it, and the old key no longer does.
	keyFile := filepath.Join(dir, "twinvault-master.key")
	old, _ := os.ReadFile(keyFile)
	if out := keys("rotate", "--master"); !strings.Contains(out, "new master key") {
		t.Fatalf("rotate --master:\n%s", out)
	}
	now, _ := os.ReadFile(keyFile)
	if bytes.Equal(old, now) {
		t.Fatal("the key file is unchanged")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	addr := freePort(t)
	p = start(t, dir, "--listen", addr)
	p.ready(t)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	os.WriteFile(filepath.Join(dir, "old.key"), old, 0o600)
	p = start(t, dir, "--listen", freePort(t), "--key-file", "old.key")
	if err := p.cmd.Wait(); err == nil || !strings.Contains(p.stderr.String(), "master key does not match") {
		t.Fatalf("the old master key: %v %s", err, p.stderr)
	}
}
