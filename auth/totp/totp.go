// Package totp implements the one-time passwords of RFC 4226 (HOTP) and
// RFC 6238 (TOTP) for IAM-style virtual MFA devices, and the rules for
// accepting them over the network.
//
// A virtual MFA device is a secret of SecretSize bytes shared with an
// authenticator app as Base32 text or as an otpauth:// key URI, usually
// shown as a QR code. Its codes are IAM's: HMAC-SHA-1, 6 digits, a 30-second
// time step counted from the Unix epoch (T0 = 0). HOTP and TOTP also take
// SHA-256, SHA-512 and other lengths, as the RFC test vectors do.
//
// Verification:
//   - Window. Verify accepts the code of the current time step and of the
//     step on either side (Window), so a code typed just before a step
//     boundary, or read off a phone whose clock is some seconds off, still
//     works. A wider window would hand an online guesser more valid codes
//     per try for little gain.
//   - Replay. RFC 6238 §5.2 forbids accepting the same code twice. Verify
//     takes the last step accepted for the device and accepts only later
//     steps, and it returns the step it matched for the caller to store
//     together with whatever the code granted. This also refuses an older
//     code once a newer one has been used, which remembering used codes
//     alone would not.
//   - Enrollment. EnableMFADevice proves the app holds the secret with two
//     consecutive codes, which people read off the app and then type into
//     a form. VerifyConsecutive therefore looks further back (EnrollWindow
//     steps, five minutes) and returns the step of the second code, to be
//     stored as the device's last accepted step so that neither enrollment
//     code can then be used to sign in.
//   - Malformed codes, anything but exactly Digits ASCII digits, are
//     refused before any HMAC is computed. Well-formed codes are compared
//     with every candidate step in constant time, so timing reveals neither
//     how much of a code was right nor which step matched.
//   - Throttling is the caller's: with three acceptable codes per attempt,
//     a guesser needs about 333,000 tries on average, so failures must be
//     rate-limited and the device locked after a few of them.
//
// FIPS 140-3: SHA-1 is not an approved hash for HMAC in the Go
// Cryptographic Module, and with GODEBUG=fips140=only crypto/hmac panics on
// it. SHA-1 codes are computed inside fips140.WithoutEnforcement, the one
// sanctioned exception: IAM devices use SHA-1 and many authenticator apps
// support nothing else, a one-time code is a short-lived authentication
// factor rather than protection for stored data, and SHA-1's collision
// weakness does not carry over to HMAC. SHA-256 and SHA-512 stay under
// enforcement, so under fips140=only their secrets must be at least 112
// bits (14 bytes) long.
package totp

import (
	"crypto/fips140"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"strconv"
	"time"
)

// Parameters of IAM virtual MFA devices.
const (
	// Period is the length of a time step (X in RFC 6238); steps are
	// counted from the Unix epoch.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// SecretSize is the length in bytes of a new secret: 160 bits, the
	// size RFC 4226 recommends and the output size of SHA-1.
	SecretSize = 20
)

// An Algorithm is the hash function under HMAC. The zero value is SHA1,
// IAM's.
type Algorithm int

// Algorithms, named as in key URIs.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// String returns the name used for the algorithm parameter of key URIs.
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// HOTP returns the RFC 4226 code for counter: the HMAC of the counter as
// 8 big-endian bytes, dynamically truncated to 31 bits and reduced to
// digits decimal digits, zero-padded on the left.
//
// It panics if digits is outside 1..10 (a 31-bit value has at most 10
// digits) or alg is unknown, and, under GODEBUG=fips140=only, if alg is
// SHA256 or SHA512 and the secret is shorter than 14 bytes.
func HOTP(secret []byte, counter uint64, digits int, alg Algorithm) string {
	if digits < 1 || digits > 10 {
		panic("totp: digits " + strconv.Itoa(digits) + " outside 1..10")
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	sum := mac(secret, msg[:], alg)
	off := sum[len(sum)-1] & 0x0f
	v := uint64(binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff)
	code := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		code[i] = '0' + byte(v%10)
		v /= 10
	}
	return string(code)
}

// TOTP returns the RFC 6238 code for time t: the HOTP code of t's step.
// Times before the Unix epoch have no meaningful code.
func TOTP(secret []byte, t time.Time, digits int, alg Algorithm) string {
	return HOTP(secret, uint64(Step(t)), digits, alg)
}

// Step returns the number of whole periods between the Unix epoch and t,
// rounded down (T in RFC 6238).
func Step(t time.Time) int64 {
	const p = int64(Period / time.Second)
	s := t.Unix()
	n := s / p
	if s%p < 0 {
		n--
	}
	return n
}

// mac returns the HMAC of msg under secret with alg.
func mac(secret, msg []byte, alg Algorithm) []byte {
	var h func() hash.Hash
	switch alg {
	case SHA1:
		// The single FIPS 140-3 exception, explained in the package
		// comment. Everything that touches SHA-1 stays inside the call.
		var sum []byte
		fips140.WithoutEnforcement(func() {
			m := hmac.New(sha1.New, secret)
			m.Write(msg)
			sum = m.Sum(nil)
		})
		return sum
	case SHA256:
		h = sha256.New
	case SHA512:
		h = sha512.New
	default:
		panic("totp: unknown " + alg.String())
	}
	m := hmac.New(h, secret)
	m.Write(msg)
	return m.Sum(nil)
}
