package totp

import (
	"crypto/fips140"
	"crypto/hmac"
	"crypto/sha1"
	"testing"
	"time"

	"github.com/twinvault/twinvault/internal/fipstest"
)

// The package's tests, fuzz seeds included, pass again under
// GODEBUG=fips140=only, SHA-1 codes included.
func TestFIPS140Only(t *testing.T) {
	fipstest.Rerun(t, "TestHOTP", "TestTOTP", "TestVerifyWindow", "TestVerifyReplay",
		"TestVerifyConsecutive", "FuzzVerify", "TestSHA1Exception", "TestFIPSModeReported")
}

func TestFIPSModeReported(t *testing.T) { fipstest.CheckEnforced(t) }

// TestSHA1Exception shows that the exception is what makes SHA-1 codes
// work under enforcement: plain HMAC-SHA-1 panics there, HOTP does not.
func TestSHA1Exception(t *testing.T) {
	panicked := func() (p bool) {
		defer func() { p = recover() != nil }()
		hmac.New(sha1.New, seed1).Sum(nil)
		return false
	}()
	if panicked != fips140.Enforced() {
		t.Errorf("HMAC-SHA-1 outside the exception: panicked %v, FIPS 140-only mode %v", panicked, fips140.Enforced())
	}
	if got := HOTP(seed1, 1, 6, SHA1); got != "287082" {
		t.Errorf("HOTP(counter 1) = %s, want 287082", got)
	}
	if step, ok := Verify(seed1, "287082", time.Unix(59, 0), -1); !ok || step != 1 {
		t.Errorf("Verify(287082 at 59s) = %d, %v, want 1, true", step, ok)
	}
}
