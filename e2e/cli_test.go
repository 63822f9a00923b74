package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// awsCLI is the Debian awscli package (2.9), the client this test judges
// the server by; another "aws" earlier in PATH may be a different major
// version.
const awsCLI = "/usr/bin/aws"

// connectProxy tunnels CONNECT requests for any host to the server. The CLI
// prepends "api." to the endpoint and cannot be told not to; through this
// proxy "api.localhost" reaches the server while TLS still checks that name
// against the server's certificate, with no change to the machine's DNS.
func connectProxy(t *testing.T, target string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(2 * time.Minute))
				req, err := http.ReadRequest(bufioReader(c))
				if err != nil || req.Method != http.MethodConnect {
					io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
					return
				}
				up, err := net.Dial("tcp", target)
				if err != nil {
					io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				defer up.Close()
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				done := make(chan struct{}, 2)
				go func() { io.Copy(up, c); done <- struct{}{} }()
				go func() { io.Copy(c, up); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

type cli struct {
	t        *testing.T
	env      []string
	endpoint string
	ca       string
}

func newCLI(t *testing.T, srv *twinvaulttest.Server) *cli {
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the AWS CLI is not installed at %s", awsCLI)
		}
		t.Skipf("the AWS CLI is not installed at %s", awsCLI)
	}
	home := t.TempDir()
	proxy := connectProxy(t, srv.Node.Addr().String())
	cfg := srv.Config()
	return &cli{t: t, endpoint: srv.Endpoint, ca: cfg.CAPath(), env: []string{
		"HOME=" + home,
		"PATH=/usr/bin:/bin",
		"AWS_SHARED_CREDENTIALS_FILE=" + cfg.CredentialsFile,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_PROFILE=twinvault",
		"AWS_REGION=" + srv.Region,
		"AWS_PAGER=",
		"HTTPS_PROXY=" + proxy,
		"NO_PROXY=",
	}}
}

// run runs one iottwinmaker command and decodes its JSON output.
func (c *cli) run(args ...string) (map[string]any, error) {
	c.t.Helper()
	return c.runIn("iottwinmaker", args...)
}

// runIn runs one command of a service (iottwinmaker, iam, sts).
func (c *cli) runIn(service string, args ...string) (map[string]any, error) {
	c.t.Helper()
	full := append([]string{service}, args...)
	full = append(full, "--endpoint-url", c.endpoint, "--ca-bundle", c.ca, "--output", "json", "--cli-read-timeout", "60")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, awsCLI, full...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &cliError{args: args[0], stderr: stderr.String(), err: err}
	}
	out := map[string]any{}
	if s := strings.TrimSpace(stdout.String()); s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			c.t.Fatalf("%s: output is not JSON: %q", args[0], s)
		}
	}
	return out, nil
}

// as returns a CLI that signs with another access key.
func (c *cli) as(id, secret string) *cli {
	env := []string{"AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret}
	for _, e := range c.env {
		if !strings.HasPrefix(e, "AWS_PROFILE=") && !strings.HasPrefix(e, "AWS_SHARED_CREDENTIALS_FILE=") {
			env = append(env, e)
		}
	}
	return &cli{t: c.t, endpoint: c.endpoint, ca: c.ca, env: env}
}

func (c *cli) must(args ...string) map[string]any {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

type cliError struct {
	args, stderr string
	err          error
}

func (e *cliError) Error() string { return e.args + ": " + e.err.Error() + ": " + e.stderr }

func TestAWSCLI(t *testing.T) {
	srv := twinvaulttest.Start(t)
	c := newCLI(t, srv)

	if _, err := c.runIn("s3api", "create-bucket", "--bucket", "cli-bucket"); err != nil {
		t.Fatal(err)
	}
	c.must("create-workspace", "--workspace-id", "cli", "--description", "from the CLI",
		"--role", "arn:aws:iam::123456789012:role/twinmaker", "--s3-location", "arn:aws:s3:::cli-bucket")
	got := c.must("get-workspace", "--workspace-id", "cli")
	if got["workspaceId"] != "cli" || got["description"] != "from the CLI" || got["s3Location"] != "arn:aws:s3:::cli-bucket" {
		t.Errorf("get-workspace: %v", got)
	}
	if created, _ := got["creationDateTime"].(string); !strings.HasPrefix(created, "20") {
		t.Errorf("creationDateTime %v: the CLI did not parse an epoch timestamp", got["creationDateTime"])
	}
	list := c.must("list-workspaces")
	if ws, _ := list["workspaceSummaries"].([]any); len(ws) != 1 {
		t.Errorf("list-workspaces: %v", list)
	}

	// A component type from the sample, as the CLI takes it.
	dir := sampleDir(t)
	types := loadSampleTypes(t, dir, "cli")
	var src *sampleType
	for _, st := range types {
		if st.id == "com.example.timestream-telemetry" {
			src = st
		}
	}
	input := map[string]any{"workspaceId": "cli", "componentTypeId": src.id, "isSingleton": src.raw["isSingleton"]}
	props := map[string]any{}
	for name, p := range src.raw["propertyDefinitions"].(map[string]any) {
		def := map[string]any{}
		for k, v := range p.(map[string]any) {
			if k != "isInherited" && k != "isFinal" && k != "isImported" {
				def[k] = v
			}
		}
		props[name] = def
	}
	input["propertyDefinitions"] = props
	fns := map[string]any{}
	for name, f := range src.raw["functions"].(map[string]any) {
		fns[name] = map[string]any{"implementedBy": f.(map[string]any)["implementedBy"]}
	}
	input["functions"] = fns
	file := filepath.Join(t.TempDir(), "component-type.json")
	data, _ := json.Marshal(input)
	os.WriteFile(file, data, 0o600)
	c.must("create-component-type", "--cli-input-json", "file://"+file)
	ct := c.must("get-component-type", "--workspace-id", "cli", "--component-type-id", src.id)
	if defs, _ := ct["propertyDefinitions"].(map[string]any); len(defs) != 2 {
		t.Errorf("get-component-type: %v", ct)
	}

	c.must("create-entity", "--workspace-id", "cli", "--entity-id", "asset-1", "--entity-name", "Asset 1",
		"--components", `{"telemetry":{"componentTypeId":"com.example.timestream-telemetry","properties":{"telemetryAssetId":{"value":{"stringValue":"A1"}},"telemetryAssetType":{"value":{"stringValue":"Mixer"}}}}}`)
	e := c.must("get-entity", "--workspace-id", "cli", "--entity-id", "asset-1")
	if e["entityName"] != "Asset 1" || e["parentEntityId"] != "$ROOT" {
		t.Errorf("get-entity: %v", e)
	}
	comps, _ := e["components"].(map[string]any)
	tel, _ := comps["telemetry"].(map[string]any)
	props2, _ := tel["properties"].(map[string]any)
	val, _ := props2["telemetryAssetId"].(map[string]any)["value"].(map[string]any)
	if val["stringValue"] != "A1" {
		t.Errorf("get-entity property: %v", tel)
	}
	ents := c.must("list-entities", "--workspace-id", "cli")
	if s, _ := ents["entitySummaries"].([]any); len(s) != 1 {
		t.Errorf("list-entities: %v", ents)
	}
	q := c.must("execute-query", "--workspace-id", "cli", "--query-statement",
		"SELECT e.entityName, e FROM EntityGraph MATCH (e) WHERE e.entityId = 'asset-1'")
	rows, _ := q["rows"].([]any)
	if len(rows) != 1 {
		t.Fatalf("execute-query: %v", q)
	}
	cells, _ := rows[0].(map[string]any)["rowData"].([]any)
	if len(cells) != 2 || cells[0] != "Asset 1" || cells[1].(map[string]any)["entityId"] != "asset-1" {
		t.Errorf("execute-query row: %v", rows[0])
	}
	if _, err := c.run("execute-query", "--workspace-id", "cli", "--query-statement", "SELECT e FROM EntityGraph MATCH"); err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Errorf("execute-query of a broken query: %v", err)
	}
	// The data plane, through the "data." host prefix; the telemetry type's
	// properties are static here, so a time-series type of its own.
	c.must("create-component-type", "--workspace-id", "cli", "--component-type-id", "com.example.meter",
		"--property-definitions", `{"temperature":{"dataType":{"type":"DOUBLE"},"isTimeSeries":true}}`)
	c.must("create-entity", "--workspace-id", "cli", "--entity-id", "meter-1", "--entity-name", "Meter 1",
		"--components", `{"meter":{"componentTypeId":"com.example.meter"}}`)
	put := c.must("batch-put-property-values", "--workspace-id", "cli", "--entries",
		`[{"entityPropertyReference":{"entityId":"meter-1","componentName":"meter","propertyName":"temperature"},"propertyValues":[{"time":"2026-01-01T00:00:00Z","value":{"doubleValue":61.5}},{"time":"2026-01-01T00:00:01Z","value":{"doubleValue":62}}]}]`)
	if ee, _ := put["errorEntries"].([]any); len(ee) != 0 {
		t.Errorf("batch-put-property-values: %v", put)
	}
	hist := c.must("get-property-value-history", "--workspace-id", "cli", "--entity-id", "meter-1", "--component-name", "meter",
		"--selected-properties", "temperature", "--start-time", "2025-12-31T00:00:00Z", "--end-time", "2026-01-02T00:00:00Z")
	pvs, _ := hist["propertyValues"].([]any)
	if len(pvs) != 1 || len(pvs[0].(map[string]any)["values"].([]any)) != 2 {
		t.Errorf("get-property-value-history: %v", hist)
	}
	latest := c.must("get-property-value", "--workspace-id", "cli", "--entity-id", "meter-1", "--component-name", "meter", "--selected-properties", "temperature")
	if v, _ := latest["propertyValues"].(map[string]any)["temperature"].(map[string]any); v == nil || v["propertyValue"].(map[string]any)["doubleValue"] != 62.0 {
		t.Errorf("get-property-value: %v", latest)
	}
	c.must("delete-entity", "--workspace-id", "cli", "--entity-id", "meter-1")
	c.must("delete-component-type", "--workspace-id", "cli", "--component-type-id", "com.example.meter")

	arn := "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/cli/entity/asset-1"
	c.must("tag-resource", "--resource-arn", arn, "--tags", "team=ops")
	tags := c.must("list-tags-for-resource", "--resource-arn", arn)
	if tg, _ := tags["tags"].(map[string]any); tg["team"] != "ops" {
		t.Errorf("list-tags-for-resource: %v", tags)
	}

	// Errors come back as the CLI prints AWS's.
	_, err := c.run("get-workspace", "--workspace-id", "missing")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("get-workspace of a missing workspace: %v", err)
	}
	_, err = c.run("delete-workspace", "--workspace-id", "cli")
	if err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Errorf("delete-workspace of a non-empty workspace: %v", err)
	}
	c.must("delete-entity", "--workspace-id", "cli", "--entity-id", "asset-1")
	c.must("delete-component-type", "--workspace-id", "cli", "--component-type-id", src.id)
	c.must("delete-workspace", "--workspace-id", "cli")
	if l := c.must("list-workspaces"); l["workspaceSummaries"] != nil && len(l["workspaceSummaries"].([]any)) != 0 {
		t.Errorf("after delete-workspace: %v", l)
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 4096) }

// TestAWSCLIIdentity: the AWS CLI manages users, keys and policies, and a
// user's key is held to its policy.
func TestAWSCLIIdentity(t *testing.T) {
	srv := twinvaulttest.Start(t)
	c := newCLI(t, srv)
	iamc := func(args ...string) map[string]any {
		t.Helper()
		out, err := c.runIn("iam", args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	who, err := c.runIn("sts", "get-caller-identity")
	if err != nil || who["Arn"] != "arn:aws:iam::000000000000:user/twinvault-admin" {
		t.Fatalf("sts get-caller-identity: %v %v", who, err)
	}
	if _, err := c.runIn("s3api", "create-bucket", "--bucket", "cli-bucket"); err != nil {
		t.Fatal(err)
	}
	c.must("create-workspace", "--workspace-id", "cli", "--role", "arn:aws:iam::123456789012:role/twinmaker", "--s3-location", "arn:aws:s3:::cli-bucket")
	iamc("create-user", "--user-name", "viewer")
	key := iamc("create-access-key", "--user-name", "viewer")["AccessKey"].(map[string]any)
	pol := iamc("create-policy", "--policy-name", "view-cli", "--policy-document",
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iottwinmaker:GetWorkspace","Resource":"arn:aws:iottwinmaker:*:*:workspace/cli"}}`)
	arn := pol["Policy"].(map[string]any)["Arn"].(string)
	iamc("attach-user-policy", "--user-name", "viewer", "--policy-arn", arn)
	users := iamc("list-users")["Users"].([]any)
	if len(users) != 2 {
		t.Errorf("list-users: %v", users)
	}
	sim := iamc("simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::000000000000:user/viewer",
		"--action-names", "iottwinmaker:GetWorkspace", "iottwinmaker:DeleteWorkspace",
		"--resource-arns", "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/cli")
	results := sim["EvaluationResults"].([]any)
	if len(results) != 2 || results[0].(map[string]any)["EvalDecision"] != "allowed" || results[1].(map[string]any)["EvalDecision"] != "implicitDeny" {
		t.Errorf("simulate-principal-policy: %v", results)
	}
	_, err = c.runIn("iam", "put-user-policy", "--user-name", "viewer", "--policy-name", "bad", "--policy-document", `{"Statement":{"Effect":"Allow"}}`)
	if err == nil || !strings.Contains(err.Error(), "MalformedPolicyDocument") {
		t.Errorf("a malformed policy: %v", err)
	}

	viewer := c.as(key["AccessKeyId"].(string), key["SecretAccessKey"].(string))
	if ws := viewer.must("get-workspace", "--workspace-id", "cli"); ws["workspaceId"] != "cli" {
		t.Errorf("the viewer's get-workspace: %v", ws)
	}
	_, err = viewer.run("delete-workspace", "--workspace-id", "cli")
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") || !strings.Contains(err.Error(), "user/viewer is not authorized to perform: iottwinmaker:DeleteWorkspace") {
		t.Errorf("the viewer's delete-workspace: %v", err)
	}
	if _, err := viewer.runIn("iam", "list-users"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("the viewer's list-users: %v", err)
	}
}

// TestAWSCLILookupEvents: aws cloudtrail lookup-events finds calls by
// their attributes.
func TestAWSCLILookupEvents(t *testing.T) {
	srv := twinvaulttest.Start(t)
	c := newCLI(t, srv)
	if _, err := c.runIn("s3api", "create-bucket", "--bucket", "trail-bucket"); err != nil {
		t.Fatal(err)
	}
	c.must("create-workspace", "--workspace-id", "trail", "--role", "arn:aws:iam::123456789012:role/twinmaker", "--s3-location", "arn:aws:s3:::trail-bucket")
	c.run("get-entity", "--workspace-id", "trail", "--entity-id", "missing")
	for _, c2 := range []struct{ attr, want string }{
		{"AttributeKey=EventName,AttributeValue=CreateWorkspace", "CreateWorkspace"},
		{"AttributeKey=ResourceName,AttributeValue=arn:aws:iottwinmaker:us-east-1:000000000000:workspace/trail", "GetEntity"},
		{"AttributeKey=Username,AttributeValue=twinvault-admin", "GetEntity"},
	} {
		out, err := c.runIn("cloudtrail", "lookup-events", "--lookup-attributes", c2.attr)
		if err != nil {
			t.Fatal(err)
		}
		events, _ := out["Events"].([]any)
		found := false
		for _, e := range events {
			ev := e.(map[string]any)
			if ev["EventName"] == c2.want {
				var rec map[string]any
				if err := json.Unmarshal([]byte(ev["CloudTrailEvent"].(string)), &rec); err != nil || rec["eventSource"] != "iottwinmaker.amazonaws.com" {
					t.Errorf("%s: the record %v", c2.attr, err)
				}
				found = true
			}
		}
		if !found {
			t.Errorf("lookup-events %s: no %s in %v", c2.attr, c2.want, out)
		}
	}
}

// TestAWSCLIS3: aws s3api puts and gets an object, encrypted on arrival.
func TestAWSCLIS3(t *testing.T) {
	srv := twinvaulttest.Start(t)
	c := newCLI(t, srv)
	if _, err := c.runIn("s3api", "create-bucket", "--bucket", "cli-scenes"); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "plant.json")
	os.WriteFile(src, []byte(`{"scene":"plant"}`), 0o600)
	put, err := c.runIn("s3api", "put-object", "--bucket", "cli-scenes", "--key", "scenes/plant.json", "--body", src)
	if err != nil || put["ServerSideEncryption"] != "AES256" {
		t.Fatalf("put-object: %v %v", put, err)
	}
	dst := filepath.Join(t.TempDir(), "back.json")
	if _, err := c.runIn("s3api", "get-object", "--bucket", "cli-scenes", "--key", "scenes/plant.json", dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != `{"scene":"plant"}` {
		t.Fatalf("read back %q", b)
	}
	list, err := c.runIn("s3api", "list-objects-v2", "--bucket", "cli-scenes")
	if err != nil || len(list["Contents"].([]any)) != 1 {
		t.Fatalf("list-objects-v2: %v %v", list, err)
	}
}

// TestAWSCLIS3HighLevel: aws s3 cp, ls and rm on small files.
func TestAWSCLIS3HighLevel(t *testing.T) {
	srv := twinvaulttest.Start(t)
	c := newCLI(t, srv)
	if _, err := c.runIn("s3api", "create-bucket", "--bucket", "hlb"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "model.glb")
	os.WriteFile(src, bytes.Repeat([]byte("glTF"), 100000), 0o600)
	for _, args := range [][]string{
		{"cp", src, "s3://hlb/models/model.glb"},
		{"cp", "s3://hlb/models/model.glb", filepath.Join(dir, "back.glb")},
	} {
		if _, err := c.runText("s3", args...); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := mustRead(t, src), mustRead(t, filepath.Join(dir, "back.glb")); !bytes.Equal(a, b) {
		t.Fatal("aws s3 cp round trip differs")
	}
	out, err := c.runText("s3", "ls", "s3://hlb/models/")
	if err != nil || !strings.Contains(out, "model.glb") {
		t.Fatalf("aws s3 ls: %q %v", out, err)
	}
	if _, err := c.runText("s3", "rm", "s3://hlb/models/model.glb"); err != nil {
		t.Fatal(err)
	}
	if out, _ := c.runText("s3", "ls", "s3://hlb/models/"); strings.Contains(out, "model.glb") {
		t.Fatalf("after rm: %q", out)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runText runs a command whose output is text, not JSON.
func (c *cli) runText(service string, args ...string) (string, error) {
	c.t.Helper()
	full := append([]string{service}, args...)
	full = append(full, "--endpoint-url", c.endpoint, "--ca-bundle", c.ca, "--cli-read-timeout", "60")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, awsCLI, full...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &cliError{args: service + " " + args[0], stderr: stderr.String(), err: err}
	}
	return stdout.String(), nil
}

// TestAWSCLIS3Sync: aws s3 sync uploads the Cookie Factory sample (scene
// documents, models), brings it back, sends only what changed, and deletes
// with --delete; aws s3 cp moves a file big enough for multipart both
// ways and copies it within the server.
func TestAWSCLIS3Sync(t *testing.T) {
	srv := twinvaulttest.Start(t)
	c := newCLI(t, srv)
	if _, err := c.runIn("s3api", "create-bucket", "--bucket", "site"); err != nil {
		t.Fatal(err)
	}
	sample := filepath.Join(sampleDir(t), "..")
	src := t.TempDir()
	for _, sub := range []string{"tmdt_project", "models"} {
		os.CopyFS(filepath.Join(src, sub), os.DirFS(filepath.Join(sample, sub)))
	}
	if _, err := c.runText("s3", "sync", src, "s3://site/cookiefactory"); err != nil {
		t.Fatal(err)
	}
	back := t.TempDir()
	if _, err := c.runText("s3", "sync", "s3://site/cookiefactory", back); err != nil {
		t.Fatal(err)
	}
	files := 0
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if !bytes.Equal(mustRead(t, p), mustRead(t, filepath.Join(back, rel))) {
			t.Errorf("%s differs after the round trip", rel)
		}
		files++
		return nil
	})
	if files < 10 {
		t.Fatalf("only %d files synced", files)
	}
	// A changed file goes up alone; a removed one is deleted with --delete.
	changed := filepath.Join(src, "tmdt_project", "Mixer.json")
	os.WriteFile(changed, []byte(`{"changed":true}`), 0o600)
	future := time.Now().Add(time.Hour)
	os.Chtimes(changed, future, future)
	os.Remove(filepath.Join(src, "tmdt_project", "tmdt.json"))
	out, err := c.runText("s3", "sync", src, "s3://site/cookiefactory", "--delete")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "upload: ") || strings.Count(out, "upload: ") != 1 || !strings.Contains(out, "Mixer.json") || !strings.Contains(out, "delete: s3://site/cookiefactory/tmdt_project/tmdt.json") {
		t.Fatalf("the second sync did:\n%s", out)
	}

	// 20 MiB: above the CLI's 8 MiB multipart threshold.
	big := filepath.Join(t.TempDir(), "plant.glb")
	data := make([]byte, 20<<20)
	rand.Read(data)
	os.WriteFile(big, data, 0o600)
	if _, err := c.runText("s3", "cp", big, "s3://site/large/plant.glb"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.runText("s3", "cp", "s3://site/large/plant.glb", "s3://site/large/copy.glb"); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.glb")
	if _, err := c.runText("s3", "cp", "s3://site/large/copy.glb", dst); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, dst), data) {
		t.Fatal("the large file differs after upload, copy and download")
	}
	head, err := c.runIn("s3api", "head-object", "--bucket", "site", "--key", "large/plant.glb")
	if err != nil || !strings.HasSuffix(fmt.Sprint(head["ETag"]), `-3"`) {
		t.Fatalf("the multipart upload's ETag: %v %v", head["ETag"], err)
	}
}
