package node

import (
	"crypto/tls"
	"testing"
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
