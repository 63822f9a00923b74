package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Revocation lists of the client CA: a client certificate its issuer has
// revoked fails the handshake. The file (PEM, one or more X509 CRL blocks,
// or a single DER list) is read again whenever it changes, so revoking a
// device takes no restart. A list past its next update fails closed for
// the certificates of its issuer, as a stale list may miss revocations.

// ErrRevoked is a client certificate on its issuer's revocation list.
var ErrRevoked = errors.New("certs: the client certificate is revoked")

// CRLs checks client certificate chains against the lists in a file.
type CRLs struct {
	path string
	now  func() time.Time

	mu    sync.Mutex
	mod   time.Time
	size  int64
	lists []*x509.RevocationList
}

// OpenCRLs reads the lists at path; now is the clock (nil: time.Now).
func OpenCRLs(path string, now func() time.Time) (*CRLs, error) {
	if now == nil {
		now = time.Now
	}
	c := &CRLs{path: path, now: now}
	if _, err := c.current(); err != nil {
		return nil, err
	}
	return c, nil
}

// current returns the lists, read again if the file changed. A file that
// no longer parses keeps the lists read before, with the error.
func (c *CRLs) current() ([]*x509.RevocationList, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fi, err := os.Stat(c.path)
	if err != nil {
		return c.lists, fmt.Errorf("certs: client CRL: %w", err)
	}
	if c.lists != nil && fi.ModTime().Equal(c.mod) && fi.Size() == c.size {
		return c.lists, nil
	}
	raw, err := os.ReadFile(c.path)
	if err != nil {
		return c.lists, fmt.Errorf("certs: client CRL: %w", err)
	}
	lists, err := parseCRLs(raw)
	if err != nil {
		return c.lists, fmt.Errorf("certs: client CRL %s: %w", c.path, err)
	}
	c.lists, c.mod, c.size = lists, fi.ModTime(), fi.Size()
	return lists, nil
}

func parseCRLs(raw []byte) ([]*x509.RevocationList, error) {
	if !bytes.Contains(raw, []byte("-----BEGIN")) {
		l, err := x509.ParseRevocationList(raw)
		if err != nil {
			return nil, err
		}
		return []*x509.RevocationList{l}, nil
	}
	var out []*x509.RevocationList
	for {
		var b *pem.Block
		b, raw = pem.Decode(raw)
		if b == nil {
			break
		}
		if b.Type != "X509 CRL" {
			continue
		}
		l, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, errors.New("no X509 CRL block")
	}
	return out, nil
}

// Check fails a verified chain (leaf first) in which a certificate is on a
// list its issuer signed, or whose issuer's list is out of date. It is
// meant for a TLS server's certificate checks (see VerifyPeer).
func (c *CRLs) Check(chain []*x509.Certificate) error {
	lists, err := c.current()
	if lists == nil {
		return err
	}
	now := c.now()
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		for _, l := range lists {
			if !bytes.Equal(l.RawIssuer, issuer.RawSubject) || l.CheckSignatureFrom(issuer) != nil {
				continue
			}
			if !l.NextUpdate.IsZero() && now.After(l.NextUpdate) {
				return fmt.Errorf("certs: the revocation list of %s is out of date (next update %s)", issuer.Subject.CommonName, l.NextUpdate.UTC().Format(time.RFC3339))
			}
			for _, r := range l.RevokedCertificateEntries {
				if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return fmt.Errorf("%w: serial %s of %s", ErrRevoked, cert.SerialNumber, issuer.Subject.CommonName)
				}
			}
		}
	}
	return nil
}

// VerifyPeer is Check for every verified chain, in the form of
// tls.Config.VerifyPeerCertificate: one chain that passes suffices. A server
// calls it from VerifyConnection, which runs on resumed sessions too.
func (c *CRLs) VerifyPeer(_ [][]byte, chains [][]*x509.Certificate) error {
	var first error
	for _, chain := range chains {
		err := c.Check(chain)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
