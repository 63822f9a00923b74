package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
	"github.com/aws/smithy-go"

	"github.com/twinvault/twinvault/twinvaulttest"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAuthenticationFailures(t *testing.T) {
	srv := twinvaulttest.Start(t)
	s := newSigner(srv)
	ok := s.call(t, "POST", "/workspaces-list", "{}")
	if ok.Status != 200 {
		t.Fatalf("signed request: %d %s %s", ok.Status, ok.ErrorType, ok.Message)
	}

	t.Run("unsigned", func(t *testing.T) {
		r := s.do(t, s.request(t, "POST", "/workspaces-list", []byte("{}")))
		if r.Status != 403 || r.ErrorType != "MissingAuthenticationTokenException" {
			t.Errorf("got %d %s %q", r.Status, r.ErrorType, r.Message)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		bad := *s
		bad.secret = strings.Repeat("x", 40)
		r := bad.call(t, "POST", "/workspaces-list", "{}")
		if r.Status != 403 || r.ErrorType != "InvalidSignatureException" {
			t.Errorf("got %d %s %q", r.Status, r.ErrorType, r.Message)
		}
		if strings.Contains(string(r.Body), srv.SecretKey) {
			t.Error("the error echoes the secret")
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		bad := *s
		bad.key = "AKIAIOSFODNN7EXAMPLE"
		r := bad.call(t, "POST", "/workspaces-list", "{}")
		if r.Status != 403 || r.ErrorType != "UnrecognizedClientException" {
			t.Errorf("got %d %s %q", r.Status, r.ErrorType, r.Message)
		}
	})
	t.Run("expired", func(t *testing.T) {
		old := *s
		old.now = func() time.Time { return time.Now().Add(-16 * time.Minute) }
		r := old.call(t, "POST", "/workspaces-list", "{}")
		if r.Status != 403 || r.ErrorType != "InvalidSignatureException" || !strings.Contains(r.Message, "Signature expired") {
			t.Errorf("got %d %s %q", r.Status, r.ErrorType, r.Message)
		}
		if r.Header.Get("Date") == "" {
			t.Error("no Date header: the SDK cannot correct its clock")
		}
	})
	t.Run("future", func(t *testing.T) {
		late := *s
		late.now = func() time.Time { return time.Now().Add(16 * time.Minute) }
		r := late.call(t, "POST", "/workspaces-list", "{}")
		if r.Status != 403 || r.ErrorType != "InvalidSignatureException" || !strings.Contains(r.Message, "not yet current") {
			t.Errorf("got %d %s %q", r.Status, r.ErrorType, r.Message)
		}
	})
	t.Run("body changed after signing", func(t *testing.T) {
		signed, sent := []byte(`{"maxResults":5}`), []byte(`{"maxResults":6}`)
		req := s.request(t, "POST", "/workspaces-list", sent)
		s.sign(t, req, signed)
		r := s.do(t, req)
		if r.Status != 403 || r.ErrorType == "" {
			t.Errorf("got %d %s %q", r.Status, r.ErrorType, r.Message)
		}
	})
	t.Run("SDK with a wrong secret", func(t *testing.T) {
		tm := srv.TwinMaker(func(o *iottwinmaker.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider(srv.AccessKey, "wrongwrongwrongwrongwrongwrongwrongwrong", "")
		})
		_, err := tm.ListWorkspaces(context.Background(), &iottwinmaker.ListWorkspacesInput{})
		if apiCode(err) != "InvalidSignatureException" {
			t.Errorf("got %v", err)
		}
	})
	for _, h := range []string{"Strict-Transport-Security", "x-amzn-RequestId", "Date"} {
		if ok.Header.Get(h) == "" {
			t.Errorf("response lacks %s", h)
		}
	}
}

func TestValidationFamilies(t *testing.T) {
	srv := twinvaulttest.Start(t)
	s := newSigner(srv)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	mustWorkspace(t, tm, "ws1")

	tests := []struct {
		name, method, path string
		body               any
		field              string // the message must name it
	}{
		{"pattern", "POST", "/workspaces/bad%20id", "{}", "workspaceId"},
		{"min effective length", "POST", "/workspaces/a", "{}", "workspaceId"},
		{"max length", "POST", "/workspaces/ws2", map[string]any{"description": strings.Repeat("d", 2049)}, "description"},
		{"range", "POST", "/workspaces-list", map[string]any{"maxResults": 201}, "maxResults"},
		{"enum", "PUT", "/workspaces/ws1/entities/e1", map[string]any{"parentEntityUpdate": map[string]any{"updateType": "SIDEWAYS"}}, "updateType"},
		{"required", "POST", "/workspaces/ws1/entities", map[string]any{"entityId": "e1"}, "entityName"},
		{"union with two members", "POST", "/workspaces/ws1/entities-list", map[string]any{"filters": []any{map[string]any{"parentEntityId": "a", "componentTypeId": "b"}}}, "filters"},
		{"map size", "POST", "/workspaces/ws3", map[string]any{"tags": manyTags(51)}, "tags"},
		{"map key pattern", "POST", "/workspaces/ws1/entities", map[string]any{"entityName": "x", "components": map[string]any{"bad key!": map[string]any{}}}, "components"},
		{"list size", "POST", "/workspaces/ws1/component-types/com.example.t", map[string]any{"extendsFrom": manyStrings(11)}, "extendsFrom"},
		{"string value length", "POST", "/workspaces/ws1/entities", map[string]any{"entityName": "x", "components": map[string]any{"c": map[string]any{"componentTypeId": "com.amazon.iottwinmaker.parameters", "properties": map[string]any{"p": map[string]any{"definition": map[string]any{"dataType": map[string]any{"type": "STRING"}}, "value": map[string]any{"stringValue": strings.Repeat("v", 257)}}}}}}, "stringValue"},
		{"control character in name", "POST", "/workspaces/ws1/entities", map[string]any{"entityName": "a\u0001b"}, "entityName"},
		{"wrong JSON type", "POST", "/workspaces-list", `{"maxResults":"ten"}`, "maxResults"},
		{"malformed JSON", "POST", "/workspaces-list", `{"maxResults":`, "JSON"},
		{"trailing data", "POST", "/workspaces-list", `{} {}`, "JSON"},
		{"member names are exact", "POST", "/workspaces/ws1/entities", `{"EntityName":"x"}`, "entityName"},
		{"duplicate member", "POST", "/workspaces-list", `{"maxResults":1,"maxResults":2}`, "twice"},
		{"not an object", "POST", "/workspaces-list", `[1,2]`, "object"},
		{"value of the wrong type", "POST", "/workspaces/ws1/entities", map[string]any{"entityName": "x", "components": map[string]any{"c": map[string]any{"componentTypeId": "com.amazon.iottwinmaker.documents", "properties": map[string]any{"documents": map[string]any{"value": map[string]any{"stringValue": "not a map"}}}}}}, "documents"},
		{"two value members", "POST", "/workspaces/ws1/entities", map[string]any{"entityName": "x", "components": map[string]any{"c": map[string]any{"componentTypeId": "com.amazon.iottwinmaker.parameters", "properties": map[string]any{"p": map[string]any{"definition": map[string]any{"dataType": map[string]any{"type": "STRING"}}, "value": map[string]any{"stringValue": "a", "longValue": 1}}}}}}, "value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.call(t, tt.method, tt.path, tt.body)
			if r.Status != 400 || r.ErrorType != "ValidationException" {
				t.Fatalf("got %d %s %q", r.Status, r.ErrorType, r.Message)
			}
			if !strings.Contains(r.Message, tt.field) {
				t.Errorf("message %q does not name %s", r.Message, tt.field)
			}
		})
	}

	// The SDK returns its typed error.
	_, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("bad id")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Errorf("CreateWorkspace(bad id): %v, want *types.ValidationException", err)
	}
	// Nothing was created by any of the refused requests.
	list, err := tm.ListWorkspaces(ctx, &iottwinmaker.ListWorkspacesInput{})
	if err != nil || len(list.WorkspaceSummaries) != 1 {
		t.Errorf("workspaces after refused requests: %v %v", list, err)
	}
}

func manyTags(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m["k"+string(rune('a'+i%26))+strings.Repeat("x", i/26)] = "v"
	}
	return m
}

func manyStrings(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "com.example.p" + string(rune('a'+i))
	}
	return out
}

func mustWorkspace(t *testing.T, tm *iottwinmaker.Client, id string) {
	t.Helper()
	if _, err := tm.CreateWorkspace(context.Background(), &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String(id)}); err != nil {
		t.Fatalf("CreateWorkspace %s: %v", id, err)
	}
}

func TestBodyLimitsAndRouting(t *testing.T) {
	srv := twinvaulttest.Start(t)
	s := newSigner(srv)
	big := `{"description":"` + strings.Repeat("x", 5<<20) + `"}`
	r := s.call(t, "POST", "/workspaces/ws1", big)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %s", r.Status, r.ErrorType)
	}
	r = s.call(t, "GET", "/no/such/operation", nil)
	if r.Status != 404 || r.ErrorType == "" {
		t.Errorf("unknown path: %d %s", r.Status, r.ErrorType)
	}
	r = s.call(t, "PATCH", "/workspaces/ws1", "{}")
	if r.Status < 400 || r.Status >= 500 || r.ErrorType == "" {
		t.Errorf("wrong method: %d %s", r.Status, r.ErrorType)
	}
}

func TestPresignedAndMalformedAuth(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	mustWorkspace(t, tm, "pre")
	s := newSigner(srv)
	presign := func(signedAt time.Time, expires string) *http.Request {
		req := s.request(t, "GET", "/workspaces/pre", nil)
		q := req.URL.Query()
		q.Set("X-Amz-Expires", expires)
		req.URL.RawQuery = q.Encode()
		url, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret},
			req, emptySHA256, "iottwinmaker", s.region, signedAt)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := http.NewRequest("GET", url, nil)
		return out
	}
	if r := s.do(t, presign(time.Now(), "300")); r.Status != 200 {
		t.Errorf("presigned GET: %d %s %q", r.Status, r.ErrorType, r.Message)
	}
	if r := s.do(t, presign(time.Now().Add(-10*time.Minute), "300")); r.Status != 403 {
		t.Errorf("expired presigned GET: %d %s %q", r.Status, r.ErrorType, r.Message)
	}
	if r := s.do(t, presign(time.Now(), "604801")); r.Status < 400 || r.Status >= 500 {
		t.Errorf("X-Amz-Expires over 7 days: %d %s", r.Status, r.ErrorType)
	}
	for _, auth := range []string{
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 Credential=" + s.key + "/20260101/us-east-1/iottwinmaker/aws4_request",
		"AWS4-HMAC-SHA512 Credential=x, SignedHeaders=host, Signature=00",
		"Basic dXNlcjpwYXNz",
	} {
		req := s.request(t, "POST", "/workspaces-list", []byte("{}"))
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
		r := s.do(t, req)
		if r.Status < 400 || r.Status >= 500 || r.ErrorType == "" {
			t.Errorf("Authorization %q: %d %s", auth, r.Status, r.ErrorType)
		}
	}
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
