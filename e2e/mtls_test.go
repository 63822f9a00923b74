package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// testCA is a CA that issues client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) issue(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// certCall makes an unsigned call over a connection with cert (nil: none)
// and returns the status and error type.
func certCall(srv *twinvaulttest.Server, cert *tls.Certificate, method, path string) (int, string, error) {
	code, typ, _, err := certCallResuming(srv, cert, nil, method, path)
	return code, typ, err
}

// certCallResuming is certCall on a new connection that resumes a TLS
// session from sessions when it holds one (nil: none), and says whether it
// did.
func certCallResuming(srv *twinvaulttest.Server, cert *tls.Certificate, sessions tls.ClientSessionCache, method, path string) (int, string, bool, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CAPEM)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.Endpoint, "https://"))
	cfg := &tls.Config{RootCAs: pool, ClientSessionCache: sessions}
	if cert != nil {
		// Sent whatever CAs the server names, to test its checking.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(method, "https://localhost:"+port+path, nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, "", false, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), resp.TLS.DidResume, nil
}

// TestClientCertificates: a device with a certificate from the client CA
// calls the TwinMaker API unsigned, as the IAM user its certificate names,
// and that user's policies decide; other certificates get nowhere.
func TestClientCertificates(t *testing.T) {
	ca := newTestCA(t, "devices CA")
	caFile := filepath.Join(t.TempDir(), "clients.pem")
	os.WriteFile(caFile, ca.pem, 0o600)
	srv := twinvaulttest.Start(t, func(c *node.Config) { c.ClientCAFile = caFile })
	ctx := context.Background()
	mustWorkspace(t, srv.TwinMaker(twinvaulttest.NoHostPrefix), "plant")
	admin := srv.IAM(srv.AWSConfig())
	admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("line-7-gateway")})
	admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("line-7-gateway"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iottwinmaker:GetWorkspace","Resource":"*"}}`)})

	call := func(cert *tls.Certificate, method, path string) (int, string, error) {
		return certCall(srv, cert, method, path)
	}
	device := ca.issue(t, "line-7-gateway")
	if code, typ, err := call(&device, http.MethodGet, "/workspaces/plant"); err != nil || code != 200 {
		t.Fatalf("the device's allowed call: %d %s %v", code, typ, err)
	}
	if code, typ, _ := call(&device, http.MethodDelete, "/workspaces/plant"); code != 403 || typ != "AccessDeniedException" {
		t.Fatalf("the device's denied call: %d %s", code, typ)
	}
	stranger := ca.issue(t, "nobody")
	if code, typ, _ := call(&stranger, http.MethodGet, "/workspaces/plant"); code != 403 || typ != "UnrecognizedClientException" {
		t.Fatalf("a certificate naming no user: %d %s", code, typ)
	}
	if code, typ, _ := call(nil, http.MethodGet, "/workspaces/plant"); code != 403 || typ != "MissingAuthenticationTokenException" {
		t.Fatalf("no certificate, no signature: %d %s", code, typ)
	}
	rogue := newTestCA(t, "rogue CA").issue(t, "line-7-gateway")
	if _, _, err := call(&rogue, http.MethodGet, "/workspaces/plant"); err == nil {
		t.Fatal("a certificate from another CA was taken")
	}
	// Signed requests still work, and the device's calls are audited as
	// the user.
	if _, err := srv.TwinMaker(twinvaulttest.NoHostPrefix).GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")}); err != nil {
		t.Fatal(err)
	}
	events := lookupAll(t, srv.CloudTrail(srv.AWSConfig()), "Username", "line-7-gateway")
	if len(events) < 2 {
		t.Fatalf("%d events for the device", len(events))
	}
}

// TestClientCertificateRevocation: with certificates required and a
// revocation list, a connection without a certificate and one with a
// revoked certificate fail at the handshake; revoking another device by
// rewriting the list takes effect without a restart.
func TestClientCertificateRevocation(t *testing.T) {
	ca := newTestCA(t, "devices CA")
	dir := t.TempDir()
	caFile, crlFile := filepath.Join(dir, "clients.pem"), filepath.Join(dir, "clients.crl")
	os.WriteFile(caFile, ca.pem, 0o600)
	revoked, device := ca.issue(t, "line-7-gateway"), ca.issue(t, "line-7-gateway")
	writeCRL := func(number int64, certs ...tls.Certificate) {
		tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
		for _, c := range certs {
			leaf, _ := x509.ParseCertificate(c.Certificate[0])
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: leaf.SerialNumber, RevocationTime: time.Now()})
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(crlFile, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600)
		later := time.Now().Add(time.Duration(number) * time.Second)
		os.Chtimes(crlFile, later, later)
	}
	writeCRL(1, revoked)
	srv := twinvaulttest.Start(t, func(c *node.Config) {
		c.ClientCAFile, c.ClientCRLFile, c.ClientCertRequired = caFile, crlFile, true
	})
	// Past the handshake, the certificate names no IAM user here (the
	// administrator's SDK client, without a certificate, cannot connect).
	if code, typ, err := certCall(srv, &device, http.MethodGet, "/workspaces/plant"); err != nil || code != 403 || typ != "UnrecognizedClientException" {
		t.Fatalf("a good certificate: %d %s %v", code, typ, err)
	}
	if _, _, err := certCall(srv, &revoked, http.MethodGet, "/workspaces/plant"); err == nil {
		t.Fatal("a revoked certificate was taken")
	}
	if _, _, err := certCall(srv, nil, http.MethodGet, "/workspaces/plant"); err == nil {
		t.Fatal("a connection without a certificate was taken")
	}
	// A device that keeps its TLS sessions resumes them on new
	// connections; once revoked, it cannot resume its way back in.
	sessions := tls.NewLRUClientSessionCache(4)
	for i := range 2 {
		code, _, resumed, err := certCallResuming(srv, &device, sessions, http.MethodGet, "/workspaces/plant")
		if err != nil || code != 403 || resumed != (i == 1) {
			t.Fatalf("connection %d with a session cache: %d, resumed %v, %v", i+1, code, resumed, err)
		}
	}
	writeCRL(2, revoked, device)
	if _, _, err := certCall(srv, &device, http.MethodGet, "/workspaces/plant"); err == nil {
		t.Fatal("a certificate revoked since the start was taken")
	}
	if _, _, resumed, err := certCallResuming(srv, &device, sessions, http.MethodGet, "/workspaces/plant"); err == nil {
		t.Fatalf("a revoked certificate's session was resumed (resumed %v)", resumed)
	}
}
