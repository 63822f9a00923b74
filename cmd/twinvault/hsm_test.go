//go:build cgo

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/hsm"
)

const softHSM = "/usr/lib/softhsm/libsofthsm2.so"

// TestServeWithHSM: a server whose master key lives in a SoftHSM token
// starts, serves, rotates its keys, restarts, and never writes a key
// file; without the PIN it does not start.
func TestServeWithHSM(t *testing.T) {
	if _, err := os.Stat(softHSM); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("SoftHSM is missing: %v", err)
		}
		t.Skip("SoftHSM is not installed (apt install softhsm2)")
	}
	dir := t.TempDir()
	hsmDir := t.TempDir()
	conf := filepath.Join(hsmDir, "softhsm2.conf")
	os.Mkdir(filepath.Join(hsmDir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(hsmDir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	init := exec.Command("softhsm2-util", "--init-token", "--free", "--label", "twinvault", "--pin", "4321", "--so-pin", "8765")
	init.Env = append(os.Environ(), "SOFTHSM2_CONF="+conf)
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util: %v: %s", err, out)
	}
	pin := filepath.Join(dir, "pin")
	os.WriteFile(pin, []byte("4321\n"), 0o600)
	env := []string{"SOFTHSM2_CONF=" + conf}
	args := []string{"--key-source", "pkcs11", "--pkcs11-module", softHSM, "--pkcs11-token", "twinvault", "--pkcs11-pin-file", pin}

	p := startEnv(t, dir, env, append(args, "--listen", freePort(t))...)
	endpoint := p.ready(t)["endpoint"]
	ctx := context.Background()
	if _, err := client(t, dir, endpoint).CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("sealed")}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	var out, errOut strings.Builder
	if code := run([]string{"keys", "rotate", "--wait", "--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), "--profile", "twinvault"}, &out, &errOut); code != 0 {
		t.Fatalf("keys rotate: %d %s", code, errOut.String())
	}
	// A new master key, generated in the token; the old one is destroyed.
	out.Reset()
	if code := run([]string{"keys", "rotate", "--master", "--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), "--profile", "twinvault"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "PKCS#11 token") {
		t.Fatalf("keys rotate --master: %d %s %s", code, out.String(), errOut.String())
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("stop: %v %s", err, p.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "twinvault-master.key")); err == nil {
		t.Fatal("a key file was written")
	}
	// One key is left under the label: the rotation destroyed the old one.
	t.Setenv("SOFTHSM2_CONF", conf)
	m, err := hsm.Open(hsm.Config{Module: softHSM, TokenLabel: "twinvault", PIN: "4321"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Choose(nil); err != nil {
		t.Fatalf("after a master rotation: %v", err)
	}
	m.Close()

	p = startEnv(t, dir, env, append(args, "--listen", freePort(t))...)
	endpoint = p.ready(t)["endpoint"]
	if _, err := client(t, dir, endpoint).GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("sealed")}); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()

	// Without the PIN, or with another token's key, it does not start.
	os.WriteFile(pin, []byte("0000\n"), 0o600)
	p = startEnv(t, dir, env, append(args, "--listen", freePort(t))...)
	if err := p.cmd.Wait(); err == nil || strings.Contains(p.stderr.String(), "0000") {
		t.Fatalf("a wrong PIN: %v %s", err, p.stderr)
	}
	os.WriteFile(pin, []byte("4321\n"), 0o600)
	p = startEnv(t, dir, env, append(args, "--pkcs11-key-label", "another", "--listen", freePort(t))...)
	if err := p.cmd.Wait(); err == nil || !strings.Contains(p.stderr.String(), "master key does not match") {
		t.Fatalf("another key in the token: %v %s", err, p.stderr)
	}
}
