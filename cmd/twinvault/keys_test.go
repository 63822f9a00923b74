package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/node"
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

// TestMasterRotationSources: `keys rotate --master` for a master key from
// a passphrase and from the environment: the new one opens the data
// after a restart, the old one no longer does, and neither reaches the
// audit trail or the server's output. A new secret the source cannot take
// is refused.
func TestMasterRotationSources(t *testing.T) {
	for _, source := range []string{"passphrase", "env"} {
		t.Run(source, func(t *testing.T) {
			dir := t.TempDir()
			oldPass, newPass := "the first passphrase, long enough", "QZX the second passphrase, longer"
			oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
			newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32))
			secretFile := func(name, v string) string {
				f := filepath.Join(dir, name)
				os.WriteFile(f, []byte(v+"\n"), 0o600)
				return f
			}
			serve := func(secret string) *proc {
				args := []string{"--listen", freePort(t), "--key-source", source}
				if source == "passphrase" {
					return start(t, dir, append(args, "--passphrase-file", secretFile("pass", secret))...)
				}
				return startEnv(t, dir, []string{"TWINVAULT_MASTER_KEY=" + secret}, args...)
			}
			first, second, wrong := oldPass, newPass, "--new-key-file"
			if source == "env" {
				first, second, wrong = oldKey, newKey, "--new-passphrase-file"
			}
			p := serve(first)
			endpoint := p.ready(t)["endpoint"]
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
			flags := []string{"--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), "--profile", "twinvault"}
			rotate := func(args ...string) (int, string) {
				var out, errOut strings.Builder
				code := run(append(append([]string{"keys", "rotate", "--master"}, args...), flags...), &out, &errOut)
				return code, out.String() + errOut.String()
			}
			// Nothing given, or the other kind of secret: refused.
			if code, out := rotate(); code != 1 || !strings.Contains(out, "ValidationException") {
				t.Fatalf("no new secret: %d %s", code, out)
			}
			other := secretFile("other", "YWJj"+strings.Repeat("A", 40))
			if source == "env" {
				other = secretFile("other", "another passphrase, long enough")
			}
			if code, out := rotate(wrong, other); code == 0 {
				t.Fatalf("the other kind of secret: %d %s", code, out)
			}
			flag := "--new-passphrase-file"
			if source == "env" {
				flag = "--new-key-file"
			}
			code, out := rotate(flag, secretFile("new", second))
			if code != 0 || !strings.Contains(out, "rotated") {
				t.Fatalf("rotate --master: %d %s", code, out)
			}
			p.cmd.Process.Signal(syscall.SIGTERM)
			if err := p.cmd.Wait(); err != nil {
				t.Fatalf("stop: %v %s", err, p.stderr)
			}
			if strings.Contains(p.stderr.String(), second) {
				t.Fatal("the new secret is in the server's output")
			}
			p = serve(first)
			if err := p.cmd.Wait(); err == nil || !strings.Contains(p.stderr.String(), "master key does not match") {
				t.Fatalf("the old secret after rotation: %v %s", err, p.stderr)
			}
			p = serve(second)
			p.ready(t)
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()

			// The audit trail records the rotation, not the secret.
			exportArgs := []string{"audit", "export", "--data-dir", filepath.Join(dir, "twinvault-data"), "--key-source", source}
			if source == "passphrase" {
				exportArgs = append(exportArgs, "--passphrase-file", secretFile("pass", second))
			} else {
				t.Setenv("TWINVAULT_MASTER_KEY", second)
			}
			var trail, errOut strings.Builder
			if code := run(exportArgs, &trail, &errOut); code != 0 {
				t.Fatalf("audit export: %d %s", code, errOut.String())
			}
			if !strings.Contains(trail.String(), `"responseElements":{"master":true,"source":"`+source+`"}`) {
				t.Fatalf("no master key rotation in the trail:\n%s", trail.String())
			}
			if strings.Contains(trail.String(), second) || strings.Contains(trail.String(), "QZX") {
				t.Fatal("the new secret is in the audit trail")
			}
		})
	}
}

// TestScanCommand: `twinvault scan` against a running server, as text and
// as JSON, with the finding masked.
func TestScanCommand(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "--listen", freePort(t))
	endpoint := p.ready(t)["endpoint"]
	ctx := context.Background()
	_, err := client(t, dir, endpoint).CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("plant"),
		Description: aws.String("questions to jane.doe@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	flags := []string{"--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), "--profile", "twinvault"}
	var out, errOut strings.Builder
	if code := run(append([]string{"scan"}, flags...), &out, &errOut); code != 0 {
		t.Fatalf("scan: %d %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "findings: 1") || !strings.Contains(out.String(), "EMAIL_ADDRESS") || !strings.Contains(out.String(), "workspace/plant/description") || strings.Contains(out.String(), "jane.doe") {
		t.Fatalf("scan:\n%s", out.String())
	}
	out.Reset()
	if code := run(append([]string{"scan", "--workspace", "plant", "--json"}, flags...), &out, &errOut); code != 0 {
		t.Fatalf("scan --json: %d %s", code, errOut.String())
	}
	var r node.ScanReport
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil || r.Findings != 1 || r.ByType["EMAIL_ADDRESS"] != 1 {
		t.Fatalf("scan --json: %v\n%s", err, out.String())
	}
	if code := run(append([]string{"scan", "--workspace", "nowhere"}, flags...), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "ResourceNotFoundException") {
		t.Fatalf("scan of a missing workspace: %d %s", code, errOut.String())
	}
}
