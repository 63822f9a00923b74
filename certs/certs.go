// Package certs issues and renews the server's TLS certificates and builds
// the server's TLS configuration.
//
// On first start a local certificate authority (ECDSA P-256) is created; it
// signs a short-lived server certificate whose names cover what the AWS SDKs
// and CLI connect to: each host name plus its "api." and "data." variants
// (the SDKs prepend those to any endpoint). Private keys live only in the
// Store, which the caller backs with encrypted storage; only the public CA
// certificate is written to a file, for clients' --ca-bundle.
package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrNotExist is returned by a Store that has no value for a name.
var ErrNotExist = errors.New("certs: not found")

// ErrExist is what a Store's Save of "ca" returns when a CA is stored
// already: the CA is written once, and nodes that race to make it all
// take the one stored.
var ErrExist = errors.New("certs: exists")

// Store keeps PEM blocks (private keys included) by name. It must encrypt
// what it stores.
type Store interface {
	Load(ctx context.Context, name string) ([]byte, error)
	Save(ctx context.Context, name string, data []byte) error
}

const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 90 * 24 * time.Hour
)

// DefaultNames are in every generated server certificate.
var DefaultNames = []string{"localhost", "127.0.0.1", "::1"}

// Names expands host names with the "api." and "data." variants the AWS
// clients prepend, a wildcard for S3's virtual-hosted buckets (bucket.host)
// and the FIPS endpoint (fips.host, covered by the wildcard, with its api.
// and data. variants); IP addresses are kept as they are. The result is sorted
// and free of duplicates.
func Names(hosts ...string) []string {
	var out []string
	for _, h := range append(slices.Clone(DefaultNames), hosts...) {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		out = append(out, h)
		if net.ParseIP(h) == nil {
			out = append(out, "api."+h, "data."+h, "*."+h, "api.fips."+h, "data.fips."+h)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Manager holds the CA and the current server certificate, and renews the
// latter when two thirds of its lifetime have passed.
type Manager struct {
	store Store
	names []string
	now   func() time.Time

	caCert *x509.Certificate
	caKey  crypto.Signer
	caPEM  []byte

	mu   sync.Mutex
	leaf *tls.Certificate
}

// Open loads the CA and server certificate from store, creating them when
// missing, and writes the CA certificate to caPath. now may be nil.
func Open(ctx context.Context, store Store, caPath string, hosts []string, now func() time.Time) (*Manager, error) {
	if now == nil {
		now = time.Now
	}
	m := &Manager{store: store, names: Names(hosts...), now: now}
	if err := m.loadCA(ctx); err != nil {
		return nil, err
	}
	if err := writeCA(caPath, m.caPEM); err != nil {
		return nil, err
	}
	leaf, err := m.loadLeaf(ctx)
	if err != nil {
		return nil, err
	}
	m.leaf = leaf
	return m, nil
}

// CAPEM returns the CA certificate in PEM form.
func (m *Manager) CAPEM() []byte { return slices.Clone(m.caPEM) }

// CAFingerprint is the SHA-256 of the CA certificate, for logs.
func (m *Manager) CAFingerprint() string {
	sum := sha256.Sum256(m.caCert.Raw)
	return hex.EncodeToString(sum[:])
}

// GetCertificate is a tls.Config.GetCertificate that renews the server
// certificate when it is due.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.due(m.leaf.Leaf) {
		leaf, err := m.issue(context.Background())
		if err != nil {
			return nil, err
		}
		m.leaf = leaf
	}
	return m.leaf, nil
}

func (m *Manager) due(c *x509.Certificate) bool {
	if c == nil {
		return true
	}
	life := c.NotAfter.Sub(c.NotBefore)
	renewAt := c.NotBefore.Add(life * 2 / 3)
	if !m.now().Before(renewAt) {
		return true
	}
	have := append(slices.Clone(c.DNSNames), ipStrings(c.IPAddresses)...)
	slices.Sort(have)
	return !slices.Equal(have, m.names)
}

// commonName is the name the certificate's subject shows: the first that
// is neither a wildcard nor a prefixed variant (clients check the SANs).
func commonName(names []string) string {
	for _, n := range names {
		if !strings.Contains(n, "*") && !strings.HasPrefix(n, "api.") && !strings.HasPrefix(n, "data.") && net.ParseIP(n) == nil {
			return n
		}
	}
	return names[0]
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

func (m *Manager) loadCA(ctx context.Context) error {
	data, err := m.store.Load(ctx, "ca")
	if errors.Is(err, ErrNotExist) {
		return m.createCA(ctx)
	}
	if err != nil {
		return fmt.Errorf("certs: load CA: %w", err)
	}
	cert, key, err := parsePair(data)
	if err != nil {
		return fmt.Errorf("certs: CA: %w", err)
	}
	m.caCert, m.caKey = cert, key
	m.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	return nil
}

func (m *Manager) createCA(ctx context.Context) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certs: CA key: %w", err)
	}
	now := m.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"TwinVault"}, CommonName: "TwinVault local CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("certs: create CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("certs: parse CA: %w", err)
	}
	data, err := encodePair(der, key)
	if err != nil {
		return err
	}
	if err := m.store.Save(ctx, "ca", data); errors.Is(err, ErrExist) {
		return m.loadCA(ctx) // another node of the deployment made it first
	} else if err != nil {
		return fmt.Errorf("certs: save CA: %w", err)
	}
	m.caCert, m.caKey = cert, key
	m.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return nil
}

// leafName is where the server certificate for m.names is kept: nodes of a
// deployment with other names keep theirs apart.
func (m *Manager) leafName() string {
	h := sha256.Sum256([]byte(strings.Join(m.names, "\x00")))
	return "server-" + hex.EncodeToString(h[:8])
}

func (m *Manager) loadLeaf(ctx context.Context) (*tls.Certificate, error) {
	data, err := m.store.Load(ctx, m.leafName())
	if errors.Is(err, ErrNotExist) {
		return m.issue(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("certs: load server certificate: %w", err)
	}
	cert, key, err := parsePair(data)
	if err != nil {
		return nil, fmt.Errorf("certs: server certificate: %w", err)
	}
	if cert.CheckSignatureFrom(m.caCert) != nil || m.due(cert) {
		return m.issue(ctx)
	}
	return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, nil
}

// issue signs a new server certificate for m.names and saves it.
func (m *Manager) issue(ctx context.Context) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: server key: %w", err)
	}
	now := m.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"TwinVault"}, CommonName: commonName(m.names)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafLifetime - time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range m.names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, m.caCert, key.Public(), m.caKey)
	if err != nil {
		return nil, fmt.Errorf("certs: create server certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parse server certificate: %w", err)
	}
	data, err := encodePair(der, key)
	if err != nil {
		return nil, err
	}
	if err := m.store.Save(ctx, m.leafName(), data); err != nil {
		return nil, fmt.Errorf("certs: save server certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

func encodePair(certDER []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: marshal key: %w", err)
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return b.Bytes(), nil
}

func parsePair(data []byte) (*x509.Certificate, crypto.Signer, error) {
	var cert *x509.Certificate
	var key crypto.Signer
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, err
			}
			cert = c
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, nil, err
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, nil, errors.New("private key cannot sign")
			}
			key = s
		}
	}
	if cert == nil || key == nil {
		return nil, nil, errors.New("incomplete certificate record")
	}
	return cert, key, nil
}

func writeCA(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("certs: write CA certificate: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("certs: write CA certificate: %w", err)
	}
	return nil
}

// Profile names a set of TLS settings, after Mozilla's server profiles.
type Profile string

const (
	// Intermediate is TLS 1.3, and TLS 1.2 with the six ECDHE AEAD suites
	// (AES-GCM and ChaCha20-Poly1305, ECDSA and RSA): the default.
	Intermediate Profile = "intermediate"
	// Modern is TLS 1.3 only.
	Modern Profile = "modern"
)

// ParseProfile reads a profile name; "" is Intermediate.
func ParseProfile(s string) (Profile, error) {
	switch Profile(s) {
	case "", Intermediate:
		return Intermediate, nil
	case Modern:
		return Modern, nil
	}
	return "", fmt.Errorf("certs: unknown TLS profile %q (intermediate or modern)", s)
}

// ServerConfig returns the TLS settings of every listener under profile.
// In FIPS 140-3 mode the standard library narrows them further to approved
// versions, suites and groups (no ChaCha20-Poly1305, no plain X25519).
func ServerConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error), profile Profile) *tls.Config {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		GetCertificate: getCert,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if profile == Modern {
		cfg.MinVersion, cfg.CipherSuites = tls.VersionTLS13, nil
	}
	return cfg
}

// IsFIPSName reports whether host is a FIPS endpoint's name, as AWS names
// them: a first label (after the SDKs' api. or data.) of "fips" or ending
// in "-fips", e.g. fips.localhost or iottwinmaker-fips.us-east-1.example.com.
func IsFIPSName(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	for _, p := range []string{"api.", "data."} {
		host = strings.TrimPrefix(host, p)
	}
	first, _, _ := strings.Cut(host, ".")
	return first == "fips" || strings.HasSuffix(first, "-fips")
}

// FileCertificate serves an operator-provided certificate and key, reloading
// them when either file changes, so a renewed certificate needs no restart.
type FileCertificate struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
}

// LoadFiles reads an operator-provided PEM certificate chain and key.
func LoadFiles(certFile, keyFile string) (*FileCertificate, error) {
	f := &FileCertificate{certFile: certFile, keyFile: keyFile}
	if err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *FileCertificate) latest() time.Time {
	var t time.Time
	for _, p := range []string{f.certFile, f.keyFile} {
		if st, err := os.Stat(p); err == nil && st.ModTime().After(t) {
			t = st.ModTime()
		}
	}
	return t
}

func (f *FileCertificate) reload() error {
	mod := f.latest()
	c, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return fmt.Errorf("certs: load %s: %w", f.certFile, err)
	}
	f.cert, f.modTime = &c, mod
	return nil
}

// GetCertificate is a tls.Config.GetCertificate.
func (f *FileCertificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.latest().After(f.modTime) {
		// Keep serving the old certificate if the new files are half written.
		_ = f.reload()
	}
	return f.cert, nil
}
