package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
)

// TestBackupRestore: a backup taken from a running server restores into a
// new data directory that a server then serves; another master key is
// refused and leaves nothing behind.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "--listen", freePort(t))
	endpoint := p.ready(t)["endpoint"]
	ctx := context.Background()
	tm := client(t, dir, endpoint)
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("kept"), Description: aws.String("QZXdescMARK")}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	file := filepath.Join(dir, "site.tvbackup")
	var out, errOut strings.Builder
	if code := run([]string{"backup", "--out", file, "--endpoint-url", endpoint, "--ca-bundle", filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), "--profile", "twinvault"}, &out, &errOut); code != 0 {
		t.Fatalf("backup: %d %s", code, errOut.String())
	}
	raw, _ := os.ReadFile(file)
	if strings.Contains(string(raw), "QZXdescMARK") || strings.Contains(string(raw), "kept") {
		t.Fatal("the backup holds plaintext")
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", st.Mode())
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()

	// Another master key: refused, nothing left.
	restored := filepath.Join(dir, "restored")
	t.Setenv("TWINVAULT_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	errOut.Reset()
	if code := run([]string{"restore", "--from", file, "--data-dir", restored, "--key-source", "env"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "master key") {
		t.Fatalf("restore with another key: %d %s", code, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(restored, "kv")); err == nil {
		t.Fatal("a refused restore left a store")
	}
	errOut.Reset()
	if code := run([]string{"restore", "--from", file, "--data-dir", restored, "--key-file", filepath.Join(dir, "twinvault-master.key")}, &out, &errOut); code != 0 {
		t.Fatalf("restore: %d %s", code, errOut.String())
	}
	if code := run([]string{"restore", "--from", file, "--data-dir", restored, "--key-file", filepath.Join(dir, "twinvault-master.key")}, &out, &errOut); code != 1 {
		t.Fatal("restored over a store")
	}
	p2 := start(t, dir, "--listen", freePort(t), "--data-dir", "restored")
	endpoint2 := p2.ready(t)["endpoint"]
	got, err := client(t, dir, endpoint2).GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("kept")})
	if err != nil || aws.ToString(got.Description) != "QZXdescMARK" {
		t.Fatalf("the restored workspace: %v", err)
	}
}
