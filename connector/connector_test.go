package connector

import (
	"context"
	"strings"
	"testing"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/egress"
	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/model"
)

var ctx = context.Background()

func newService(t *testing.T) (*Service, *kvtest.Mem) {
	t.Helper()
	mem := kvtest.NewMem()
	b := barriertest.Open(t, mem)
	return New(b, &egress.Policy{HTTPSOnly: true}, "eu-west-1", nil), mem
}

func TestSecretRefs(t *testing.T) {
	s, _ := newService(t)
	for ref, want := range map[string]string{
		"secret://historian":         "historian",
		"secret://team/historian-v2": "team/historian-v2",
		"arn:aws:secretsmanager:eu-west-1:000000000000:secret:historian": "historian",
		"secret://":           "",
		"secret://bad name":   "",
		"arn:aws:s3:::bucket": "",
		"historian":           "",
	} {
		got, err := s.secretRef(ref)
		if (err == nil) != (want != "") || got != want {
			t.Errorf("%q: %q %v, want %q", ref, got, err, want)
		}
	}
}

// TestSecretsAndConnectors: values are stored sealed and never listed; a
// connector's endpoint and secret are checked; a secret in use stays;
// connectors are per workspace and counted.
func TestSecretsAndConnectors(t *testing.T) {
	s, mem := newService(t)
	if _, err := s.PutSecret(ctx, "historian", "QZXtoken-value"); err != nil {
		t.Fatal(err)
	}
	for k, v := range mem.Raw() {
		if strings.Contains(k+string(v), "QZX") || strings.Contains(k+string(v), "historian") {
			t.Fatal("a secret or its name is in the store in plaintext")
		}
	}
	list, err := s.Secrets(ctx)
	if err != nil || len(list) != 1 || list[0].ARN != "arn:aws:secretsmanager:eu-west-1:000000000000:secret:historian" {
		t.Fatalf("Secrets: %+v %v", list, err)
	}
	for _, bad := range []string{"", strings.Repeat("x", 64<<10+1)} {
		if _, err := s.PutSecret(ctx, "x", bad); twinvault.ErrorCode(err) != twinvault.ValidationException {
			t.Errorf("a secret of %d bytes: %v", len(bad), err)
		}
	}
	if s.Registered() {
		t.Fatal("connectors counted before any was registered")
	}
	for _, c := range []Connector{
		{WorkspaceID: "plant", Name: "historian", Endpoint: "http://gw.example.com/"},
		{WorkspaceID: "plant", Name: "historian", Endpoint: "https://u:p@gw.example.com/"},
		{WorkspaceID: "plant", Name: "historian", Endpoint: "https://gw.example.com/?api_key=x"},
		{WorkspaceID: "plant", Name: "bad name!", Endpoint: "https://gw.example.com/"},
		{WorkspaceID: "plant", Name: "historian", Endpoint: "https://gw.example.com/", Secret: "secret://missing"},
	} {
		if _, err := s.PutConnector(ctx, c); twinvault.ErrorCode(err) != twinvault.ValidationException || strings.Contains(err.Error(), "gw.example.com") {
			t.Errorf("%+v: %v", c, err)
		}
	}
	c, err := s.PutConnector(ctx, Connector{WorkspaceID: "plant", Name: "historian", Endpoint: "https://gw.example.com/history", Secret: "secret://historian"})
	if err != nil || !s.Registered() {
		t.Fatalf("PutConnector: %+v %v", c, err)
	}
	if l, _ := s.Connectors(ctx, "other"); len(l) != 0 {
		t.Fatalf("another workspace lists %+v", l)
	}
	if _, ok, err := s.History(ctx, "other", "historian", &model.GetPropertyValueHistoryInput{}); ok || err != nil {
		t.Fatalf("another workspace reached the connector: %v %v", ok, err)
	}
	if err := s.DeleteSecret(ctx, "historian"); twinvault.ErrorCode(err) != twinvault.ConflictException {
		t.Fatalf("deleting a secret in use: %v", err)
	}
	if err := s.DeleteConnector(ctx, "plant", "historian"); err != nil || s.Registered() {
		t.Fatalf("DeleteConnector: %v, registered %v", err, s.Registered())
	}
	if err := s.DeleteSecret(ctx, "historian"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSecret(ctx, "historian"); twinvault.ErrorCode(err) != twinvault.ResourceNotFoundException {
		t.Fatalf("deleting it again: %v", err)
	}
}
