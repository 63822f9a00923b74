// Package twinvaulttest starts real TwinVault servers for tests: a node on
// 127.0.0.1 with a temporary data directory, HTTPS with its own CA, the
// bootstrap administrator's credentials, and AWS SDK clients that trust it.
package twinvaulttest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/twinvault/twinvault/node"
)

// Server is a running node and what a client needs to reach it.
type Server struct {
	Node      *node.Node
	Dir       string // holds data/, master.key, credentials
	Endpoint  string // https://localhost:PORT
	Region    string
	AccessKey string
	SecretKey string
	CAPEM     []byte

	cfg    node.Config
	cancel context.CancelFunc
	done   chan error
}

// schemaSeq numbers the PostgreSQL schemas of a test process's nodes.
var schemaSeq atomic.Int64

// Option changes the node's configuration before it starts.
type Option func(*node.Config)

// Start runs a node until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := node.Config{
		DataDir:         filepath.Join(dir, "data"),
		KeyFile:         filepath.Join(dir, "master.key"),
		CredentialsFile: filepath.Join(dir, "credentials"),
		Listen:          "127.0.0.1:0",
		Region:          "us-east-1",
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	// TWINVAULT_E2E_POSTGRES (a connection string) runs every node over
	// PostgreSQL, each in a schema of its own, instead of Pebble.
	if dsn := os.Getenv("TWINVAULT_E2E_POSTGRES"); dsn != "" {
		cfg.Storage, cfg.PostgresDSN = node.StoragePostgres, dsn
		cfg.PostgresSchema = fmt.Sprintf("tv_e2e_%d_%d", os.Getpid(), schemaSeq.Add(1))
	}
	// TWINVAULT_E2E_S3=1 keeps every node's object bodies in the
	// S3-protocol server the TWINVAULT_TEST_S3_* variables name, each under
	// a prefix of its own.
	if os.Getenv("TWINVAULT_E2E_S3") != "" {
		cfg.Objects = node.ObjectsS3
		c := &cfg.S3
		c.Endpoint, c.Bucket = os.Getenv("TWINVAULT_TEST_S3_ENDPOINT"), os.Getenv("TWINVAULT_TEST_S3_BUCKET")
		c.Prefix, c.PathStyle = fmt.Sprintf("e2e-%d-%d/", os.Getpid(), schemaSeq.Add(1)), true
		c.CABundle, c.CredentialsFile = os.Getenv("TWINVAULT_TEST_S3_CA"), os.Getenv("TWINVAULT_TEST_S3_CREDENTIALS")
		c.Profile = os.Getenv("TWINVAULT_TEST_S3_PROFILE")
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{Dir: dir, cfg: cfg, Region: cfg.Region}
	s.start(t)
	key := s.Node.BootstrapKey
	if key == nil {
		t.Fatal("twinvaulttest: first start created no administrator key")
	}
	s.AccessKey, s.SecretKey = key.ID, key.Secret
	t.Cleanup(func() { s.Stop(t) })
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	n, err := node.Open(context.Background(), s.cfg)
	if err != nil {
		t.Fatalf("twinvaulttest: open node: %v", err)
	}
	s.Node = n
	// Later starts listen on the same port, so endpoints stay valid.
	s.cfg.Listen = n.Addr().String()
	s.Endpoint = n.Endpoint()
	ca, err := os.ReadFile(n.Config().CAPath())
	if err != nil {
		t.Fatalf("twinvaulttest: %v", err)
	}
	s.CAPEM = ca
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan error, 1)
	go func() { s.done <- n.Serve(ctx) }()
}

// Stop shuts the node down gracefully; it is safe to call twice.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		t.Errorf("twinvaulttest: serve: %v", err)
	}
	if err := s.Node.Close(); err != nil {
		t.Errorf("twinvaulttest: close: %v", err)
	}
}

// Restart stops the node and starts it again on the same files and port.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.start(t)
}

// Config is the node's configuration.
func (s *Server) Config() node.Config { return s.cfg }

// HTTPClient trusts the server's CA and dials 127.0.0.1 for every host, so
// the "api." and "data." names the SDK prepends reach the server while TLS
// still checks them against the certificate.
func (s *Server) HTTPClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM)
	_, port, _ := net.SplitHostPort(s.cfg.Listen)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err == nil && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
					addr = net.JoinHostPort("127.0.0.1", port)
				}
				return dialer.DialContext(ctx, network, addr)
			},
		},
	}
}

// AWSConfig is an SDK configuration with the administrator's credentials.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:           s.Region,
		Credentials:      credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:       s.HTTPClient(),
		RetryMaxAttempts: 1,
	}
}

// TwinMaker returns an SDK client for the server. It keeps the SDK's
// "api."/"data." host prefixes; use NoHostPrefix to turn them off.
func (s *Server) TwinMaker(opts ...func(*iottwinmaker.Options)) *iottwinmaker.Client {
	base := []func(*iottwinmaker.Options){func(o *iottwinmaker.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
	}}
	return iottwinmaker.NewFromConfig(s.AWSConfig(), append(base, opts...)...)
}

// NoHostPrefix is a client option that stops the SDK from prepending
// "api." or "data." to the endpoint's host.
func NoHostPrefix(o *iottwinmaker.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

// Credentials is an SDK configuration with other credentials: a user's
// access key, or a session's (token set).
func (s *Server) Credentials(id, secret, token string) aws.Config {
	cfg := s.AWSConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)
	return cfg
}

// IAM returns an IAM client for the server, signed with cfg.
func (s *Server) IAM(cfg aws.Config) *iam.Client {
	return iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(s.Endpoint) })
}

// STS returns an STS client for the server, signed with cfg.
func (s *Server) STS(cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.Endpoint) })
}

// TwinMakerAs returns a TwinMaker client signed with cfg, without host
// prefixes.
func (s *Server) TwinMakerAs(cfg aws.Config) *iottwinmaker.Client {
	return iottwinmaker.NewFromConfig(cfg, func(o *iottwinmaker.Options) { o.BaseEndpoint = aws.String(s.Endpoint) }, NoHostPrefix)
}

// CloudTrail returns a CloudTrail client for the server, signed with cfg.
func (s *Server) CloudTrail(cfg aws.Config) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(s.Endpoint) })
}

// S3Virtual returns an S3 client for the server that addresses buckets
// virtual-hosted style (https://bucket.localhost:PORT/key).
func (s *Server) S3Virtual(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(s.Endpoint) })
}

// S3 returns an S3 client for the server with path-style addressing,
// signed with cfg.
func (s *Server) S3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
		o.UsePathStyle = true
	})
}
