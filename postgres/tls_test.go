package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twinvault/twinvault/postgres"
)

// testCA makes a CA and a server certificate it signs for localhost and
// 127.0.0.1, returning the CA's PEM and the server's certificate and key.
func testCA(t *testing.T) (caPEM []byte, srv *serverTLS) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), &serverTLS{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
}

// TestVerifyFull: a server that takes TLS only, reached with
// sslmode=verify-full: the store works when the CA and the name match,
// and Open fails plainly — without the connection string — when the CA is
// another's or TLS is off.
func TestVerifyFull(t *testing.T) {
	needDB(t) // the same PostgreSQL binaries start a second, TLS-only server
	caPEM, srv := testCA(t)
	dsn, stop, err := startServerWith(srv)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	port := dsn[strings.Index(dsn, "port=")+5:]
	port = port[:strings.IndexByte(port, ' ')]
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, caPEM, 0o600)
	otherCA, _ := testCA(t)
	otherFile := filepath.Join(dir, "other.pem")
	os.WriteFile(otherFile, otherCA, 0o600)
	ctx := context.Background()
	base := "host=localhost port=" + port + " user=postgres dbname=postgres password=Sekr1t-in-dsn connect_timeout=10 "

	s, err := postgres.Open(ctx, postgres.Config{DSN: base + "sslmode=verify-full sslrootcert=" + caFile, Schema: "tls_test"})
	if err != nil {
		t.Fatalf("verify-full with the server's CA: %v", err)
	}
	if err := s.Batch(ctx, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for name, c := range map[string]struct{ dsn, want string }{
		"another CA": {base + "sslmode=verify-full sslrootcert=" + otherFile, "certificate"},
		"no TLS":     {base + "sslmode=disable", "pg_hba.conf"},
	} {
		_, err := postgres.Open(ctx, postgres.Config{DSN: c.dsn, Schema: "tls_test"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), "Sekr1t") {
			t.Fatalf("%s: the error shows the password: %v", name, err)
		}
	}
}
