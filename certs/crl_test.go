package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type testIssuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newIssuer(t *testing.T, cn string) *testIssuer {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testIssuer{cert, key}
}

func (i *testIssuer) leaf(t *testing.T, serial int64) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "device"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, i.cert, &key.PublicKey, i.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// crl returns a revocation list of the issuer, DER, revoking serials.
func (i *testIssuer) crl(t *testing.T, number int64, next time.Time, serials ...int64) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: next}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, i.cert, i.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemCRL(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}) }

// TestCRLs: a revoked certificate fails, others pass; a list signed by
// another key under the same name counts for nothing; a stale list fails
// closed; a changed file is read again; DER and PEM both parse.
func TestCRLs(t *testing.T) {
	ca := newIssuer(t, "devices CA")
	impostor := newIssuer(t, "devices CA") // same name, another key
	revoked, good := ca.leaf(t, 7), ca.leaf(t, 8)
	path := filepath.Join(t.TempDir(), "clients.crl")
	next := time.Now().Add(time.Hour)
	os.WriteFile(path, append(pemCRL(ca.crl(t, 1, next, 7)), pemCRL(impostor.crl(t, 1, next, 8))...), 0o600)
	now := time.Now()
	c, err := OpenCRLs(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check([]*x509.Certificate{revoked, ca.cert}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("a revoked certificate: %v", err)
	}
	if err := c.Check([]*x509.Certificate{good, ca.cert}); err != nil {
		t.Fatalf("a good certificate (revoked only by an impostor's list): %v", err)
	}
	if err := c.VerifyPeer(nil, nil); err != nil {
		t.Fatalf("no certificate: %v", err)
	}
	// Out of date: fails closed.
	now = next.Add(time.Minute)
	if err := c.Check([]*x509.Certificate{good, ca.cert}); err == nil {
		t.Fatal("a stale list was trusted")
	}
	now = time.Now()
	// The certificate is reinstated in a new list, written as DER.
	os.WriteFile(path, ca.crl(t, 2, next), 0o600)
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(path, future, future) // a change the clock's granularity cannot hide
	if err := c.Check([]*x509.Certificate{revoked, ca.cert}); err != nil {
		t.Fatalf("after the list changed: %v", err)
	}
	// A broken file keeps the lists read before.
	os.WriteFile(path, []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"), 0o600)
	if err := c.Check([]*x509.Certificate{revoked, ca.cert}); err != nil {
		t.Fatalf("a broken file replaced the lists: %v", err)
	}
	if _, err := OpenCRLs(path, nil); err == nil {
		t.Fatal("a broken file opened")
	}
	if _, err := OpenCRLs(filepath.Join(t.TempDir(), "none"), nil); err == nil {
		t.Fatal("a missing file opened")
	}
}
