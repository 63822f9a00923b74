package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The Helm chart and the systemd unit in deploy/, checked against the
// binary: the chart is rendered by Helm and a node is started from the
// rendered Deployment (its args, its environment from the Secrets it names,
// its volumes as directories) over the test PostgreSQL and S3 server, and
// answers the chart's probes; the unit passes systemd-analyze.

// helmBin is the Helm that scripts/test installs (TWINVAULT_TEST_HELM).
func helmBin(t *testing.T) string {
	h := os.Getenv("TWINVAULT_TEST_HELM")
	if h == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TWINVAULT_TEST_HELM is not set")
		}
		t.Skip("TWINVAULT_TEST_HELM is not set (scripts/test installs Helm)")
	}
	return h
}

func chartDir() string { return filepath.Join("..", "..", "deploy", "helm", "twinvault") }

// render runs helm template with the settings and returns its documents.
func render(t *testing.T, helm string, set ...string) ([]map[string]any, error) {
	t.Helper()
	args := []string{"template", "tv", chartDir(), "--namespace", "plant"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, errOut.String())
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(&out)
	for {
		var d map[string]any
		if err := dec.Decode(&d); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("helm's output is not YAML: %v", err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs, nil
}

func kind(docs []map[string]any, k string) map[string]any {
	for _, d := range docs {
		if d["kind"] == k {
			return d
		}
	}
	return nil
}

// dig walks a decoded document: string keys for maps, ints for lists.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestHelmChart(t *testing.T) {
	helm := helmBin(t)
	if out, err := exec.Command(helm, "lint", "--strict", chartDir()).CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	need := needEnv(t, "TWINVAULT_TEST_POSTGRES", "TWINVAULT_TEST_S3_ENDPOINT")
	dsn, s3ep := need[0], need[1]
	id := time.Now().UnixNano()
	docs, err := render(t, helm, "s3.endpoint="+s3ep, "s3.bucket="+os.Getenv("TWINVAULT_TEST_S3_BUCKET"),
		fmt.Sprintf("s3.prefix=chart-%d/", id), "s3.caSecret=s3-ca", fmt.Sprintf("postgres.schema=tv_chart_%d", id),
		"metrics.tokenSecret=metrics", "drainDelay=1s")
	if err != nil {
		t.Fatal(err)
	}
	dep := kind(docs, "Deployment")
	if dep == nil || kind(docs, "Service") == nil || kind(docs, "PodDisruptionBudget") == nil {
		t.Fatalf("the chart lacks a Deployment, Service or PodDisruptionBudget: %v", docs)
	}
	if r := dig(dep, "spec", "replicas"); r != 3 {
		t.Errorf("replicas: %v", r)
	}
	pod := dig(dep, "spec", "template", "spec")
	c := dig(pod, "containers", 0)
	if dig(pod, "securityContext", "runAsNonRoot") != true || dig(c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("the pod may run as root or write its image")
	}

	// The Secrets the chart names, as an operator would make them.
	s3Key, s3Secret := s3Credentials(t)
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(i * 7)
	}
	ca, err := os.ReadFile(os.Getenv("TWINVAULT_TEST_S3_CA"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]map[string]string{
		"twinvault-master-key": {"masterKey": base64.StdEncoding.EncodeToString(master)},
		"twinvault-postgres":   {"dsn": dsn},
		"twinvault-s3":         {"accessKeyId": s3Key, "secretAccessKey": s3Secret},
		"metrics":              {"token": "chart-metrics-token-0123"},
		"s3-ca":                {"ca.pem": string(ca)},
	}
	var env []string
	for _, e := range dig(c, "env").([]any) {
		name := dig(e, "name").(string)
		if v, ok := dig(e, "value").(string); ok {
			env = append(env, name+"="+v)
			continue
		}
		ref := dig(e, "valueFrom", "secretKeyRef")
		val, ok := secrets[dig(ref, "name").(string)][dig(ref, "key").(string)]
		if !ok {
			t.Fatalf("env %s names an unknown secret: %v", name, ref)
		}
		env = append(env, name+"="+val)
	}
	// Volumes become directories; a secret's keys become its files.
	root := t.TempDir()
	mounts := map[string]string{}
	for _, m := range dig(c, "volumeMounts").([]any) {
		name, path := dig(m, "name").(string), dig(m, "mountPath").(string)
		dir := filepath.Join(root, name)
		os.MkdirAll(dir, 0o700)
		mounts[path] = dir
		for _, v := range dig(pod, "volumes").([]any) {
			if dig(v, "name") != name {
				continue
			}
			if sn, ok := dig(v, "secret", "secretName").(string); ok {
				for k, val := range secrets[sn] {
					os.WriteFile(filepath.Join(dir, k), []byte(val), 0o444)
				}
			}
		}
	}
	port := freePort(t)
	var args []string
	for _, a := range dig(c, "args").([]any)[1:] { // after "serve"
		s := a.(string)
		if strings.HasPrefix(s, "--listen=") {
			s = "--listen=" + port
		}
		for path, dir := range mounts {
			if r := strings.Replace(s, "="+path, "="+dir, 1); r != s {
				s = r
				break // mount paths here do not nest
			}
		}
		args = append(args, s)
	}
	p := startEnv(t, root, env, args...)
	banner := p.ready(t)
	if !strings.Contains(banner["FIPS 140-3"], "module") {
		t.Errorf("banner %v", banner)
	}
	// The chart's probes, over HTTPS as the kubelet sends them (checking
	// the certificate, which a kubelet does not).
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(mounts["/var/lib/twinvault"], "data", "tls", "ca.pem"))
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("the node's CA: %v", err)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, probe := range []string{"startupProbe", "livenessProbe", "readinessProbe"} {
		path := dig(c, probe, "httpGet", "path").(string)
		if dig(c, probe, "httpGet", "scheme") != "HTTPS" {
			t.Errorf("%s is not HTTPS", probe)
		}
		resp, err := hc.Get("https://" + port + path)
		if err != nil {
			t.Fatalf("%s: %v", probe, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", probe, path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "https://"+port+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer chart-metrics-token-0123")
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := os.Stat(filepath.Join(mounts["/var/lib/twinvault"], "credentials")); err != nil {
		t.Errorf("no administrator credentials where NOTES.txt says: %v", err)
	}

	// The master key from an HSM instead; both at once is refused.
	docs, err = render(t, helm, "masterKey.existingSecret=", "masterKey.pkcs11.enabled=true")
	if err != nil {
		t.Fatal(err)
	}
	c = dig(kind(docs, "Deployment"), "spec", "template", "spec", "containers", 0)
	if !strings.Contains(fmt.Sprint(dig(c, "args")), "--key-source=pkcs11") || !strings.Contains(fmt.Sprint(dig(c, "env")), "TWINVAULT_PKCS11_PIN") ||
		strings.Contains(fmt.Sprint(dig(c, "env")), "TWINVAULT_MASTER_KEY") {
		t.Errorf("pkcs11: %v %v", dig(c, "args"), dig(c, "env"))
	}
	if _, err := render(t, helm, "masterKey.pkcs11.enabled=true"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both key sources: %v", err)
	}
}

// s3Credentials reads the test S3 server's access key from its
// credentials file.
func s3Credentials(t *testing.T) (id, secret string) {
	raw, err := os.ReadFile(os.Getenv("TWINVAULT_TEST_S3_CREDENTIALS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	return id, secret
}

func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze here")
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "deploy", "systemd", "twinvault.service"))
	if err != nil {
		t.Fatal(err)
	}
	// systemd-analyze checks that the program exists: this test binary
	// stands in for the installed one.
	self, _ := os.Executable()
	text := strings.Replace(string(unit), "ExecStart=/usr/local/bin/twinvault ", "ExecStart="+self+" ", 1)
	if text == string(unit) {
		t.Fatal("the unit does not run /usr/local/bin/twinvault")
	}
	path := filepath.Join(t.TempDir(), "twinvault.service")
	os.WriteFile(path, []byte(text), 0o644)
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	env, err := os.ReadFile(filepath.Join("..", "..", "deploy", "systemd", "twinvault.env"))
	if err != nil {
		t.Fatal(err)
	}
	// Every variable the environment file sets is one serve reads.
	var out, errOut strings.Builder
	serve([]string{"--help"}, &out, &errOut)
	for _, l := range strings.Split(string(env), "\n") {
		l = strings.TrimPrefix(strings.TrimSpace(l), "#")
		name, _, ok := strings.Cut(l, "=")
		if !ok || !strings.HasPrefix(name, "TWINVAULT_") {
			continue
		}
		if !strings.Contains(errOut.String(), "env "+name+")") && !strings.Contains(errOut.String(), "$"+name) {
			t.Errorf("%s is not a setting of serve", name)
		}
	}
}
