package totp

import (
	"crypto/subtle"
	"time"
)

// Acceptance windows, in time steps.
const (
	// Window is how many steps before and after the current one Verify
	// accepts: one, as RFC 6238 §5.2 recommends.
	Window = 1
	// EnrollWindow is how many steps before the current one the first of
	// two enrollment codes may be from: ten, five minutes, enough to read
	// two codes off an app and fill in a form. The second code may be one
	// step ahead of the server's clock.
	EnrollWindow = 10
)

// Verify checks a code of an IAM virtual MFA device (SHA-1, Digits digits)
// at time now. It accepts the codes of the steps within Window of now that
// are later than lastStep, the step the caller last accepted for this
// device, and returns the step that matched, which the caller must store as
// the device's new last step before acting on the code. For a device that
// has never accepted a code, lastStep is the step returned by
// VerifyConsecutive at enrollment, or -1 if there was none.
//
// If the code matches more than one step (codes repeat), the latest is
// returned, so that none of them can be used again.
func Verify(secret []byte, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	if !wellFormed(code) {
		return 0, false
	}
	n := Step(now)
	lo, hi := max(n-Window, 0), n+Window
	if lastStep >= lo {
		if lastStep >= hi {
			return 0, false
		}
		lo = lastStep + 1
	}
	var found, matched int64
	for s := lo; s <= hi; s++ {
		c := HOTP(secret, uint64(s), Digits, SHA1)
		eq := int64(subtle.ConstantTimeCompare([]byte(code), []byte(c)))
		// Keep the latest match without branching on the comparison.
		found = eq*s + (1-eq)*found
		matched |= eq
	}
	return found, matched == 1
}

// VerifyConsecutive checks the two codes of IAM's EnableMFADevice: code1
// from some step and code2 from the step right after it, with code1 at
// most EnrollWindow steps before now's step and code2 at most Window steps
// after it. It returns the step of code2, which the caller stores as the device's
// last accepted step so that the enrollment codes cannot be replayed.
//
// ResyncMFADevice can use it too, as long as the caller also requires the
// returned step to be later than the step last accepted for the device.
func VerifyConsecutive(secret []byte, code1, code2 string, now time.Time) (step int64, ok bool) {
	if !wellFormed(code1) || !wellFormed(code2) {
		return 0, false
	}
	n := Step(now)
	lo := max(n-EnrollWindow, 0)
	hi := n + Window
	if hi < lo+1 {
		return 0, false
	}
	codes := make([]string, hi-lo+1)
	for i := range codes {
		codes[i] = HOTP(secret, uint64(lo+int64(i)), Digits, SHA1)
	}
	var found, matched int64
	for i := 1; i < len(codes); i++ {
		eq := int64(subtle.ConstantTimeCompare([]byte(code1), []byte(codes[i-1])) &
			subtle.ConstantTimeCompare([]byte(code2), []byte(codes[i])))
		s := lo + int64(i)
		found = eq*s + (1-eq)*found
		matched |= eq
	}
	return found, matched == 1
}

// wellFormed reports whether code is exactly Digits ASCII digits.
func wellFormed(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}
