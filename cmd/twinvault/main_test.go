package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/fips140"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The test binary doubles as the twinvault binary: with this variable set
// it runs main, so the tests start real server processes.
func TestMain(m *testing.M) {
	if os.Getenv("TWINVAULT_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

type proc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *strings.Builder
}

func start(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	return startEnv(t, dir, nil, args...)
}

// startEnv starts `twinvault serve` with more environment.
func startEnv(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "TWINVAULT_TEST_MAIN=1"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 100), stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return p
}

// ready reads the start-up banner and returns its fields.
func (p *proc) ready(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	timeout := time.After(60 * time.Second)
	for got["FIPS 140-3"] == "" { // the banner's last line
		select {
		case l, ok := <-p.lines:
			if !ok {
				p.cmd.Wait()
				t.Fatalf("server exited: %s", p.stderr)
			}
			if k, v, ok := strings.Cut(l, ":"); ok {
				got[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		case <-timeout:
			t.Fatalf("server not ready: %s", p.stderr)
		}
	}
	return got
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeFirstStartAndRestart(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	p := start(t, dir, "--listen", addr)
	banner := p.ready(t)
	_, port, _ := net.SplitHostPort(addr)
	if banner["endpoint"] != "https://localhost:"+port {
		t.Errorf("endpoint %q", banner["endpoint"])
	}
	if banner["region"] != "us-east-1" || !strings.HasPrefix(banner["credentials"], "./twinvault-credentials") {
		t.Errorf("banner %v", banner)
	}
	for path, mode := range map[string]os.FileMode{
		"twinvault-master.key":      0o600,
		"twinvault-credentials":     0o600,
		"twinvault-data":            0o700 | os.ModeDir,
		"twinvault-data/tls/ca.pem": 0o644,
	} {
		st, err := os.Stat(filepath.Join(dir, path))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if st.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), mode)
		}
	}
	creds, _ := os.ReadFile(filepath.Join(dir, "twinvault-credentials"))
	if !strings.Contains(string(creds), "[twinvault]") || !strings.Contains(string(creds), "aws_secret_access_key") {
		t.Errorf("credentials file: no [twinvault] profile")
	}

	tm := client(t, dir, banner["endpoint"])
	if _, err := tm.CreateWorkspace(context.Background(), &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("persist")}); err != nil {
		t.Fatal(err)
	}
	// SIGTERM: a graceful stop.
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v: %s", err, p.stderr)
	}

	// The same files again: same data, same keys, credentials kept.
	p2 := start(t, dir, "--listen", addr)
	p2.ready(t)
	again, _ := os.ReadFile(filepath.Join(dir, "twinvault-credentials"))
	if string(again) != string(creds) {
		t.Error("credentials file rewritten on restart")
	}
	if _, err := client(t, dir, banner["endpoint"]).GetWorkspace(context.Background(), &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("persist")}); err != nil {
		t.Errorf("after restart: %v", err)
	}
	// Only TLS: a plaintext request gets no HTTP answer.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	reply, _ := io.ReadAll(c)
	c.Close()
	if strings.HasPrefix(string(reply), "HTTP/1.1 200") {
		t.Errorf("plaintext request answered: %q", reply)
	}
}

// awsConfig is the SDK configuration of a server's administrator: its CA
// and its credentials file (profile twinvault).
func awsConfig(t *testing.T, ca, creds string) aws.Config {
	t.Helper()
	f, err := os.Open(ca)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithSharedCredentialsFiles([]string{creds}), config.WithSharedConfigFiles([]string{}),
		config.WithSharedConfigProfile("twinvault"), config.WithRegion("us-east-1"), config.WithCustomCABundle(f))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// needEnv returns the values of the variables scripts/test sets for the
// engines it starts; without them the test is skipped, or fails under
// CI=true, where they are promised.
func needEnv(t *testing.T, names ...string) []string {
	t.Helper()
	var vals, missing []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			missing = append(missing, n)
		}
		vals = append(vals, v)
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not set", strings.Join(missing, ", "))
		}
		t.Skipf("%s not set (scripts/test starts PostgreSQL and an S3-protocol server)", strings.Join(missing, ", "))
	}
	return vals
}

// s3Flags are the serve flags that keep object bodies in the test S3
// server, under prefix.
func s3Flags(prefix string) []string {
	return []string{"--objects", "s3", "--s3-endpoint", os.Getenv("TWINVAULT_TEST_S3_ENDPOINT"), "--s3-bucket", os.Getenv("TWINVAULT_TEST_S3_BUCKET"),
		"--s3-prefix", prefix, "--s3-ca-bundle", os.Getenv("TWINVAULT_TEST_S3_CA"),
		"--s3-credentials-file", os.Getenv("TWINVAULT_TEST_S3_CREDENTIALS"), "--s3-profile", os.Getenv("TWINVAULT_TEST_S3_PROFILE")}
}

// s3Client is an S3 client of the server in dir.
func s3Client(t *testing.T, dir, endpoint string) *s3.Client {
	t.Helper()
	cfg := awsConfig(t, filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), filepath.Join(dir, "twinvault-credentials"))
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true })
}

// client is a TwinMaker client of the server in dir.
func client(t *testing.T, dir, endpoint string) *iottwinmaker.Client {
	t.Helper()
	return tmClient(t, filepath.Join(dir, "twinvault-data", "tls", "ca.pem"), filepath.Join(dir, "twinvault-credentials"), endpoint)
}

// tmClient is a TwinMaker client of endpoint, which needs no api. and data.
// host names in DNS.
func tmClient(t *testing.T, ca, creds, endpoint string) *iottwinmaker.Client {
	t.Helper()
	return iottwinmaker.NewFromConfig(awsConfig(t, ca, creds), func(o *iottwinmaker.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		})
	})
}

func TestServeRefusesUnsafeKeyFile(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(dir string)
		args    []string
		want    string
	}{
		{"inside the data dir", func(string) {}, []string{"--key-file", "twinvault-data/master.key"}, "data dir"},
		{"readable by others", func(dir string) {
			os.WriteFile(filepath.Join(dir, "open.key"), []byte("x"), 0o644)
		}, []string{"--key-file", "open.key"}, "0644"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.prepare(dir)
			p := start(t, dir, append(tt.args, "--listen", freePort(t))...)
			err := p.cmd.Wait()
			if err == nil {
				t.Fatal("server started with an unsafe key file")
			}
			if !strings.Contains(strings.ToLower(p.stderr.String()), tt.want) {
				t.Errorf("error %q does not explain %q", p.stderr, tt.want)
			}
		})
	}
}

func TestServeTLSVersions(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	p := start(t, dir, "--listen", addr, "--tls-hostname", "twin.example")
	p.ready(t)
	pem, _ := os.ReadFile(filepath.Join(dir, "twinvault-data", "tls", "ca.pem"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	for _, name := range []string{"localhost", "api.localhost", "data.localhost", "api.twin.example"} {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if v := c.ConnectionState().Version; v != tls.VersionTLS13 {
			t.Errorf("%s: TLS version %x, want 1.3", name, v)
		}
		c.Close()
	}
	if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 accepted")
	}
}

func TestUsage(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "serve") {
		t.Errorf("no arguments: %d %q", code, errOut.String())
	}
	if code := run([]string{"bogus"}, &out, &errOut); code != 2 {
		t.Errorf("unknown command: %d", code)
	}
	errOut.Reset()
	if code := run([]string{"serve", "--help"}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "--data-dir") && !strings.Contains(errOut.String(), "-data-dir") {
		t.Errorf("serve --help: %d %q", code, errOut.String())
	}
}

// An operator's own certificate replaces the generated one.
func TestServeOperatorCertificate(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "twin.operator"},
		DNSNames: []string{"twin.operator"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(filepath.Join(dir, "op.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "op.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	addr := freePort(t)
	p := start(t, dir, "--listen", addr, "--tls-cert", "op.crt", "--tls-key", "op.key")
	p.ready(t)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "twin.operator"})
	if err != nil {
		t.Fatalf("handshake with the operator's certificate: %v", err)
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(dir, "twinvault-data", "tls", "ca.pem")); err == nil {
		t.Error("a CA was generated although the operator gave a certificate")
	}
	// Half a pair is refused.
	p2 := start(t, t.TempDir(), "--listen", freePort(t), "--tls-cert", filepath.Join(dir, "op.crt"))
	if err := p2.cmd.Wait(); err == nil || !strings.Contains(p2.stderr.String(), "tls-key") {
		t.Errorf("--tls-cert alone: %v %s", err, p2.stderr)
	}
}

// TestServeTLSProfiles: the modern profile refuses TLS 1.2; the
// intermediate one takes its ECDHE AEAD suites and no CBC suite.
func TestServeTLSProfiles(t *testing.T) {
	for _, c := range []struct {
		profile string
		tls12   bool
	}{{"intermediate", true}, {"modern", false}} {
		t.Run(c.profile, func(t *testing.T) {
			dir := t.TempDir()
			addr := freePort(t)
			p := start(t, dir, "--listen", addr, "--tls-profile", c.profile)
			if got := p.ready(t)["TLS profile"]; got != c.profile {
				t.Fatalf("banner says TLS profile %q", got)
			}
			pem, _ := os.ReadFile(filepath.Join(dir, "twinvault-data", "tls", "ca.pem"))
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			dial := func(cfg *tls.Config) error {
				cfg.RootCAs, cfg.ServerName = pool, "localhost"
				conn, err := tls.Dial("tcp", addr, cfg)
				if err == nil {
					conn.Close()
				}
				return err
			}
			if err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}); (err == nil) != c.tls12 {
				t.Errorf("TLS 1.2 AEAD: %v", err)
			}
			if err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}}); err == nil {
				t.Error("a CBC suite was accepted")
			}
			if err := dial(&tls.Config{MinVersion: tls.VersionTLS13}); err != nil {
				t.Errorf("TLS 1.3: %v", err)
			}
		})
	}
	var out, errOut strings.Builder
	if code := run([]string{"serve", "--tls-profile", "old"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown TLS profile") {
		t.Errorf("an unknown profile: %d %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"serve", "--cache-size", "1MiB"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--cache-size") {
		t.Errorf("a cache below the minimum: %d %q", code, errOut.String())
	}
}

// TestServeFIPS: --fips refuses to start outside FIPS 140-3 mode; a fips.
// host name is refused by a process not in that mode and served by one
// in it, whose TLS 1.2 keys agree on P-256 with no ChaCha20.
func TestServeFIPS(t *testing.T) {
	var out, errOut strings.Builder
	if fips140.Enabled() {
		t.Skip("the test process itself runs in FIPS mode")
	}
	dir := t.TempDir()
	if code := run([]string{"serve", "--fips", "--data-dir", filepath.Join(dir, "d"), "--key-file", filepath.Join(dir, "k"), "--credentials-file", filepath.Join(dir, "c")}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "FIPS 140-3 mode is not on") {
		t.Fatalf("--fips outside FIPS mode: %d %q", code, errOut.String())
	}
	get := func(addr, host string, pool *x509.CertPool) (int, string) {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}}
		_, port, _ := net.SplitHostPort(addr)
		resp, err := c.Post("https://"+host+":"+port+"/workspaces-list", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, mode := range []string{"", "fips140=on"} {
		dir := t.TempDir()
		addr := freePort(t)
		var env []string
		args := []string{"--listen", addr}
		if mode != "" {
			env = []string{"GODEBUG=" + mode}
			args = append(args, "--fips")
		}
		p := startEnv(t, dir, env, args...)
		banner := p.ready(t)
		pem, _ := os.ReadFile(filepath.Join(dir, "twinvault-data", "tls", "ca.pem"))
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		status, body := get(addr, "api.fips.localhost", pool)
		plain, _ := get(addr, "api.localhost", pool)
		if mode == "" {
			if !strings.HasPrefix(banner["FIPS 140-3"], "off") || status != http.StatusMisdirectedRequest || !strings.Contains(body, "FIPS") || plain != http.StatusForbidden {
				t.Errorf("outside FIPS mode: banner %q, fips. host %d %s, plain host %d", banner["FIPS 140-3"], status, body, plain)
			}
			continue
		}
		// Unsigned, so refused for that: the endpoint itself is served.
		if !strings.HasPrefix(banner["FIPS 140-3"], "on") || status != http.StatusForbidden || plain != http.StatusForbidden {
			t.Errorf("in FIPS mode: banner %q, fips. host %d %s, plain host %d", banner["FIPS 140-3"], status, body, plain)
		}
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "fips.localhost", MaxVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatal(err)
		}
		st := conn.ConnectionState()
		conn.Close()
		if st.CurveID != tls.CurveP256 || strings.Contains(tls.CipherSuiteName(st.CipherSuite), "CHACHA") {
			t.Errorf("FIPS TLS 1.2: group %v suite %s", st.CurveID, tls.CipherSuiteName(st.CipherSuite))
		}
		if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "fips.localhost", MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}); err == nil {
			t.Error("FIPS mode took a ChaCha20 suite")
		}
	}
}

// TestServeKeySources: a server keyed by a passphrase or by an environment
// variable restarts with the same one, refuses another, and leaves no key
// file behind.
func TestServeKeySources(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("a passphrase long enough for PBKDF2\n"), 0o600)
	args := []string{"--listen", freePort(t), "--key-source", "passphrase", "--passphrase-file", pass}
	p := start(t, dir, args...)
	p.ready(t)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit: %v: %s", err, p.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "twinvault-master.key")); err == nil {
		t.Fatal("a key file was written with a passphrase source")
	}
	p = start(t, dir, args...)
	p.ready(t)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	os.WriteFile(pass, []byte("another passphrase, also long enough\n"), 0o600)
	p = start(t, dir, args...)
	if err := p.cmd.Wait(); err == nil || !strings.Contains(p.stderr.String(), "master key") {
		t.Fatalf("a wrong passphrase: %v %s", err, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "another passphrase") {
		t.Fatal("the passphrase is in the error")
	}

	// The environment, base64 of 32 bytes.
	dir = t.TempDir()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))
	p = startEnv(t, dir, []string{"TWINVAULT_MASTER_KEY=" + key}, "--listen", freePort(t), "--key-source", "env")
	p.ready(t)
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	p = startEnv(t, dir, []string{"TWINVAULT_MASTER_KEY=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{43}, 32))}, "--listen", freePort(t), "--key-source", "env")
	if err := p.cmd.Wait(); err == nil || !strings.Contains(p.stderr.String(), "master key") {
		t.Fatalf("another key in the environment: %v %s", err, p.stderr)
	}
}

// TestServeRedirectListener: the optional plaintext listener processes no
// request: GET goes to the HTTPS endpoint (which sends HSTS), POST is
// refused.
func TestServeRedirectListener(t *testing.T) {
	dir := t.TempDir()
	plain := freePort(t)
	p := start(t, dir, "--listen", freePort(t), "--redirect-listen", plain)
	banner := p.ready(t)
	if !strings.Contains(banner["redirect"], plain) {
		t.Fatalf("the banner: %v", banner)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + plain + "/workspaces?maxResults=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := strings.Replace(banner["endpoint"], "localhost", "127.0.0.1", 1) + "/workspaces?maxResults=1"
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("GET: %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, err = http.Post("http://"+plain+"/workspaces", "application/json", strings.NewReader(`{"workspaceId":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(filepath.Join(dir, "twinvault-data", "tls", "ca.pem"))
	pool.AppendCertsFromPEM(ca)
	secure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err = secure.Get("http://localhost:" + strings.Split(plain, ":")[1] + "/workspaces")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Scheme != "https" || resp.Header.Get("Strict-Transport-Security") != "max-age=63072000" {
		t.Fatalf("after the redirect: %s %v", resp.Request.URL, resp.Header)
	}
}

// TestServeOnPostgres: --storage postgres keeps the store in PostgreSQL
// (TWINVAULT_TEST_POSTGRES, which scripts/test starts): the data survives
// a restart, nothing lands in the data directory's kv, and the
// connection string comes from the environment, never the command line.
func TestServeOnPostgres(t *testing.T) {
	dsn := needEnv(t, "TWINVAULT_TEST_POSTGRES")[0]
	dir := t.TempDir()
	schema := fmt.Sprintf("tv_serve_%d", time.Now().UnixNano())
	env := []string{"TWINVAULT_POSTGRES_DSN=" + dsn}
	args := []string{"--storage", "postgres", "--postgres-schema", schema}
	p := startEnv(t, dir, env, append(args, "--listen", freePort(t))...)
	endpoint := p.ready(t)["endpoint"]
	ctx := context.Background()
	if _, err := client(t, dir, endpoint).CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("on-postgres")}); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("stop: %v %s", err, p.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "twinvault-data", "kv")); err == nil {
		t.Fatal("a pebble store was made in the data directory")
	}
	p = startEnv(t, dir, env, append(args, "--listen", freePort(t))...)
	endpoint = p.ready(t)["endpoint"]
	if _, err := client(t, dir, endpoint).GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("on-postgres")}); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	// Without a connection string it does not start, and says why.
	p = startEnv(t, dir, nil, append(args, "--listen", freePort(t))...)
	if err := p.cmd.Wait(); err == nil || !strings.Contains(p.stderr.String(), "TWINVAULT_POSTGRES_DSN") {
		t.Fatalf("no connection string: %v %s", err, p.stderr)
	}
}

// TestMigrateToPostgres: a server's embedded store copied into PostgreSQL
// with `twinvault migrate`, verified, served from there with the same data
// directory (its objects) and key; a second migration into the same schema
// is refused.
func TestMigrateToPostgres(t *testing.T) {
	dsn := needEnv(t, "TWINVAULT_TEST_POSTGRES")[0]
	dir := t.TempDir()
	p := start(t, dir, "--listen", freePort(t))
	endpoint := p.ready(t)["endpoint"]
	ctx := context.Background()
	if _, err := client(t, dir, endpoint).CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("moved"),
		Description: aws.String("before the move")}); err != nil {
		t.Fatal(err)
	}
	// An object body (a 3D model, 6 MiB) in a workspace bucket.
	model := bytes.Repeat([]byte("glTF-binary "), 6<<20/12)
	s3c := s3Client(t, dir, endpoint)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("models")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String("mixer.glb"), Body: bytes.NewReader(model)}); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("stop: %v %s", err, p.stderr)
	}
	schema := fmt.Sprintf("tv_migrate_%d", time.Now().UnixNano())
	t.Setenv("TWINVAULT_POSTGRES_DSN", dsn)
	// With an S3-protocol server at hand, the bodies move there too.
	var objArgs []string
	if os.Getenv("TWINVAULT_TEST_S3_ENDPOINT") != "" {
		objArgs = s3Flags(schema + "/")
	} else if os.Getenv("CI") == "true" {
		t.Fatal("TWINVAULT_TEST_S3_ENDPOINT is not set")
	}
	args := append([]string{"migrate", "--from", "pebble:" + filepath.Join(dir, "twinvault-data"), "--to", "postgres:" + schema}, objArgs...)
	var out, errOut strings.Builder
	if code := run(args, &out, &errOut); code != 0 || !strings.Contains(out.String(), "verified") {
		t.Fatalf("migrate: %d %s %s", code, out.String(), errOut.String())
	}
	if objArgs != nil && !strings.Contains(out.String(), "copied 1 object bodies") {
		t.Fatalf("migrate did not copy the body:\n%s", out.String())
	}
	t.Setenv("TWINVAULT_POSTGRES_DSN", dsn) // read and cleared by the first run
	if code := run(args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "not empty") {
		t.Fatalf("a second migration: %d %s", code, errOut.String())
	}
	// The old store goes (and the old bodies, when they moved); the server
	// runs on PostgreSQL with the same key.
	os.RemoveAll(filepath.Join(dir, "twinvault-data", "kv"))
	if objArgs != nil {
		os.RemoveAll(filepath.Join(dir, "twinvault-data", "objects"))
	}
	p = startEnv(t, dir, []string{"TWINVAULT_POSTGRES_DSN=" + dsn}, append([]string{"--storage", "postgres", "--postgres-schema", schema, "--listen", freePort(t)}, objArgs...)...)
	endpoint = p.ready(t)["endpoint"]
	w, err := client(t, dir, endpoint).GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("moved")})
	if err != nil || aws.ToString(w.Description) != "before the move" {
		t.Fatalf("after the move: %+v %v", w, err)
	}
	got, err := s3Client(t, dir, endpoint).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("models"), Key: aws.String("mixer.glb")})
	if err != nil {
		t.Fatalf("the model after the move: %v", err)
	}
	body, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || !bytes.Equal(body, model) {
		t.Fatalf("the model after the move differs (%d bytes, %v)", len(body), err)
	}
}
