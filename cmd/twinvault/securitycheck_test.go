package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestSecurityCheck runs the check against a fresh server: the
// administrator has every permission and no MFA, and a policy that allows
// everything is reported; a hundred days on, the keys are stale too.
func TestSecurityCheck(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "--listen", freePort(t))
	endpoint := p.ready(t)["endpoint"]
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "twinvault-credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	ca := filepath.Join(dir, "twinvault-data", "tls", "ca.pem")
	ctx := context.Background()

	f, err := os.Open(ca)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"), config.WithCustomCABundle(f), config.WithSharedConfigProfile("twinvault"))
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) })
	if _, err := client.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("everything"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}

	var out, errOut strings.Builder
	code := securityCheck([]string{"--endpoint-url", endpoint, "--ca-bundle", ca, "--profile", "twinvault"}, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"FAIL  administrator without MFA\n      twinvault-admin: has every permission and no MFA device",
		"FAIL  user without MFA",
		"PASS  access key older than 90 days",
		"PASS  access key unused for 45 days",
		"FAIL  policy allowing every action on every resource\n      arn:aws:iam::000000000000:policy/everything",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}

	later, err := inspect(ctx, client, time.Now().Add(100*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var out2 strings.Builder
	report(&out2, later)
	for _, want := range []string{"FAIL  access key older than 90 days", "FAIL  access key unused for 45 days"} {
		if !strings.Contains(out2.String(), want) {
			t.Errorf("a hundred days on, the report lacks %q:\n%s", want, out2.String())
		}
	}
}
