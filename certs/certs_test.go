package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) Load(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	if !ok {
		return nil, ErrNotExist
	}
	return v, nil
}

func (s *memStore) Save(_ context.Context, name string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	if _, ok := s.m[name]; ok && name == "ca" {
		return ErrExist
	}
	s.m[name] = slices.Clone(data)
	return nil
}

// TestNodesShareOneCA: nodes starting at once on one store all serve
// certificates of the one CA stored.
func TestNodesShareOneCA(t *testing.T) {
	ctx := context.Background()
	store := &memStore{}
	dir := t.TempDir()
	ms := make([]*Manager, 4)
	var wg sync.WaitGroup
	for i := range ms {
		wg.Go(func() {
			m, err := Open(ctx, store, filepath.Join(dir, fmt.Sprint(i), "ca.pem"), nil, nil)
			if err != nil {
				t.Error(err)
			}
			ms[i] = m
		})
	}
	wg.Wait()
	for _, m := range ms[1:] {
		if m == nil || ms[0] == nil || m.CAFingerprint() != ms[0].CAFingerprint() {
			t.Fatal("nodes hold different CAs")
		}
		leaf, err := m.GetCertificate(nil)
		if err != nil || leaf.Leaf.CheckSignatureFrom(ms[0].caCert) != nil {
			t.Fatalf("a node's certificate is not signed by the stored CA: %v", err)
		}
	}
}

func TestFirstStartAndReload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	caPath := filepath.Join(dir, "tls", "ca.pem")
	st := &memStore{}
	m, err := Open(ctx, st, caPath, []string{"twin.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf := m.leaf.Leaf
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("server key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > 90*24*time.Hour {
		t.Errorf("lifetime %v exceeds 90 days", life)
	}
	for _, n := range []string{"localhost", "api.localhost", "data.localhost", "twin.example", "api.twin.example", "data.twin.example"} {
		if err := leaf.VerifyHostname(n); err != nil {
			t.Errorf("certificate does not cover %s: %v", n, err)
		}
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if err := leaf.VerifyHostname(ip); err != nil {
			t.Errorf("certificate does not cover %s: %v", ip, err)
		}
	}
	pemData, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		t.Fatal("ca.pem holds no certificate")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "api.localhost"}); err != nil {
		t.Fatalf("server certificate does not chain to ca.pem: %v", err)
	}
	if strings.Contains(string(pemData), "PRIVATE KEY") {
		t.Fatal("ca.pem holds a private key")
	}

	// A restart keeps the CA and the server certificate.
	os.Remove(caPath)
	m2, err := Open(ctx, st, caPath, []string{"twin.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m2.CAFingerprint() != m.CAFingerprint() {
		t.Error("CA changed across restart")
	}
	if !m2.leaf.Leaf.Equal(leaf) {
		t.Error("server certificate reissued without need")
	}
	if _, err := os.Stat(caPath); err != nil {
		t.Errorf("ca.pem not rewritten: %v", err)
	}

	// A new host name reissues the server certificate under the same CA.
	m3, err := Open(ctx, st, caPath, []string{"other.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m3.leaf.Leaf.VerifyHostname("data.other.example"); err != nil {
		t.Error(err)
	}
}

func TestRenewal(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	m, err := Open(context.Background(), &memStore{}, filepath.Join(t.TempDir(), "ca.pem"), nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := m.GetCertificate(nil)
	now = now.Add(59 * 24 * time.Hour)
	if c, _ := m.GetCertificate(nil); c != first {
		t.Error("renewed before two thirds of the lifetime")
	}
	now = now.Add(2 * 24 * time.Hour)
	c, err := m.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c == first || !c.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Error("not renewed after two thirds of the lifetime")
	}
}

func TestServerConfigProtocols(t *testing.T) {
	m, err := Open(context.Background(), &memStore{}, filepath.Join(t.TempDir(), "ca.pem"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerConfig(m.GetCertificate, Intermediate))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(m.CAPEM())
	dial := func(cfg *tls.Config) (tls.ConnectionState, error) {
		cfg.RootCAs = pool
		cfg.ServerName = "localhost"
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer c.Close()
		return c.ConnectionState(), nil
	}
	tests := []struct {
		name string
		cfg  *tls.Config
		ok   bool
		want uint16
	}{
		{"TLS 1.0 refused", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false, 0},
		{"TLS 1.1 refused", &tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}, false, 0},
		{"TLS 1.2 CBC refused", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, false, 0},
		{"TLS 1.2 AEAD", &tls.Config{MaxVersion: tls.VersionTLS12}, true, tls.VersionTLS12},
		{"TLS 1.3 preferred", &tls.Config{}, true, tls.VersionTLS13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := dial(tt.cfg)
			if tt.ok != (err == nil) {
				t.Fatalf("handshake error %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && st.Version != tt.want {
				t.Errorf("negotiated %x, want %x", st.Version, tt.want)
			}
		})
	}
}

func TestIsFIPSName(t *testing.T) {
	for host, want := range map[string]bool{
		"fips.localhost": true, "api.fips.localhost:8443": true, "data.fips.localhost": true,
		"iottwinmaker-fips.us-east-1.example.com": true, "api.iottwinmaker-fips.us-east-1.example.com": true,
		"localhost": false, "api.localhost": false, "fipsy.localhost": false, "bucket.fips.localhost": false, "127.0.0.1:8443": false,
	} {
		if got := IsFIPSName(host); got != want {
			t.Errorf("%s: %v", host, got)
		}
	}
	if _, err := ParseProfile("legacy"); err == nil {
		t.Error("an unknown profile parsed")
	}
	if p, _ := ParseProfile(""); p != Intermediate {
		t.Errorf("the default profile is %s", p)
	}
	if c := ServerConfig(nil, Modern); c.MinVersion != tls.VersionTLS13 {
		t.Error("the modern profile takes TLS 1.2")
	}
}
