package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestAuditVerify: the offline check refuses a store a running server
// holds, and finds an untouched log valid once the server stopped.
func TestAuditVerify(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "--listen", freePort(t))
	endpoint := p.ready(t)["endpoint"]
	ca := filepath.Join(dir, "twinvault-data", "tls", "ca.pem")
	f, err := os.Open(ca)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"), config.WithCustomCABundle(f), config.WithSharedConfigProfile("twinvault"))
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) })
	for _, name := range []string{"a", "b", "a"} { // the second "a" fails, and is recorded too
		client.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(name)})
	}
	args := []string{"verify", "--data-dir", filepath.Join(dir, "twinvault-data"), "--key-file", filepath.Join(dir, "twinvault-master.key")}
	var out, errOut strings.Builder
	if code := auditCmd(args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "is the server still running") {
		t.Fatalf("while serving: exit %d, %s", code, errOut.String())
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	out.Reset()
	errOut.Reset()
	if code := auditCmd(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	// A range: the same log, limited; a time that is not RFC 3339 refused.
	out.Reset()
	errOut.Reset()
	if code := auditCmd(append(args, "--start", time.Now().Add(-time.Hour).Format(time.RFC3339), "--end", time.Now().Add(time.Hour).Format(time.RFC3339)), &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "0 problems") {
		t.Fatalf("verify a range: exit %d: %s %s", code, out.String(), errOut.String())
	}
	if code := auditCmd(append(args, "--start", "yesterday"), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "RFC 3339") {
		t.Fatalf("a bad --start: exit %d: %s", code, errOut.String())
	}
	// Three changes: a reservation and an event each (and a digest, if an
	// hour ended meanwhile).
	// The export: the three events, one JSON record a line.
	var exported, exportErr strings.Builder
	if code := auditCmd(append([]string{"export"}, args[1:]...), &exported, &exportErr); code != 0 {
		t.Fatalf("export: exit %d: %s", code, exportErr.String())
	}
	lines := strings.Split(strings.TrimSpace(exported.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], `"eventName":"CreateUser"`) || !strings.Contains(lines[2], `"errorCode":"EntityAlreadyExists"`) {
		t.Errorf("export:\n%s", exported.String())
	}
	if !strings.Contains(out.String(), "Results: 6 entries and ") || !strings.Contains(out.String(), "digest files checked, 0 problems") || !strings.Contains(out.String(), "twinvault.audit/000000000000\n6\n") {
		t.Errorf("report:\n%s", out.String())
	}
}

// TestAuditProof: `audit prove` gets from the running server the proof that
// an event is in the log; `audit check-proof` checks it with the public key
// that `audit verify` printed once the server stopped, and refuses it once
// the event in it is changed.
func TestAuditProof(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "--listen", freePort(t))
	endpoint := p.ready(t)["endpoint"]
	ca := filepath.Join(dir, "twinvault-data", "tls", "ca.pem")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	cfg := awsConfig(t, ca, filepath.Join(dir, "twinvault-credentials"))
	ctx := context.Background()
	if _, err := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) }).
		CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("proven")}); err != nil {
		t.Fatal(err)
	}
	events, err := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(endpoint) }).
		LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("CreateUser")}}})
	if err != nil || len(events.Events) != 1 {
		t.Fatalf("lookup: %v %v", events, err)
	}
	id := aws.ToString(events.Events[0].EventId)
	online := []string{"--endpoint-url", endpoint, "--ca-bundle", ca, "--profile", "twinvault"}
	file := filepath.Join(dir, "proof.json")
	var out, errOut strings.Builder
	if code := auditCmd(append([]string{"prove", "--event-id", id, "--out", file}, online...), &out, &errOut); code != 0 {
		t.Fatalf("prove: exit %d: %s", code, errOut.String())
	}
	if code := auditCmd(append([]string{"prove", "--event-id", "no-such-event"}, online...), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "ResourceNotFound") {
		t.Fatalf("prove an unknown event: exit %d: %s", code, errOut.String())
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	out.Reset()
	if code := auditCmd([]string{"verify", "--data-dir", filepath.Join(dir, "twinvault-data"), "--key-file", filepath.Join(dir, "twinvault-master.key")}, &out, &errOut); code != 0 {
		t.Fatalf("verify: exit %d: %s", code, out.String())
	}
	_, after, _ := strings.Cut(out.String(), "Checkpoint (verifier key ")
	key, _, _ := strings.Cut(after, "):")
	check := func() (int, string) {
		var o, e strings.Builder
		code := auditCmd([]string{"check-proof", "--proof", file, "--public-key", key}, &o, &e)
		return code, o.String() + e.String()
	}
	if code, msg := check(); code != 0 || !strings.Contains(msg, "valid") {
		t.Fatalf("check-proof: exit %d: %s", code, msg)
	}
	raw, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(raw), "proven", "proved", 1)), 0o600)
	if code, msg := check(); code != 1 || !strings.Contains(msg, "INVALID") {
		t.Fatalf("check-proof of a changed event: exit %d: %s", code, msg)
	}
}
