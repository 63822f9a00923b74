package node

import (
	"crypto/tls"
	"testing"

	"github.com/twinvault/twinvault/model"
)

func TestTLSNames(t *testing.T) {
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if got := cipherSuiteName(cs.ID); got != tls.CipherSuiteName(cs.ID) {
			t.Errorf("suite %#04x: %q, want %q", cs.ID, got, tls.CipherSuiteName(cs.ID))
		}
	}
	if got := cipherSuiteName(0xfefe); got != tls.CipherSuiteName(0xfefe) {
		t.Errorf("unknown suite: %q", got)
	}
	for v, want := range map[uint16]string{tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3", tls.VersionTLS11: "TLSv1.1", 0x0999: "0x0999"} {
		if got := tlsVersionName(v); got != want {
			t.Errorf("version %#04x: %q, want %q", v, got, want)
		}
	}
}

// TestStoreOnly: storeOnly names TwinMaker operations, and none of those
// that reach outside the store (a bucket made, keys destroyed).
func TestStoreOnly(t *testing.T) {
	known := map[string]bool{}
	for _, op := range model.Operations {
		known[op.Name] = true
	}
	for name := range storeOnly {
		if !known[name] {
			t.Errorf("storeOnly lists %s, no TwinMaker operation", name)
		}
	}
	for _, name := range []string{"CreateWorkspace", "UpdateWorkspace", "DeleteWorkspace"} {
		if storeOnly[name] {
			t.Errorf("storeOnly lists %s", name)
		}
	}
}
