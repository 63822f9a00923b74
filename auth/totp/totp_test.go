package totp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Seeds of RFC 6238 Appendix B; the SHA-1 one is also RFC 4226's.
var (
	seed1   = []byte("12345678901234567890")
	seed256 = []byte("12345678901234567890123456789012")
	seed512 = bytes.Repeat([]byte("1234567890"), 7)[:64]
)

// RFC 4226 Appendix D.
func TestHOTP(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for c, w := range want {
		if got := HOTP(seed1, uint64(c), 6, SHA1); got != w {
			t.Errorf("HOTP(counter %d) = %s, want %s", c, got, w)
		}
	}
}

// RFC 6238 Appendix B.
func TestTOTP(t *testing.T) {
	tests := []struct {
		unix                 int64
		step                 int64
		sha1, sha256, sha512 string
	}{
		{59, 0x1, "94287082", "46119246", "90693936"},
		{1111111109, 0x23523EC, "07081804", "68084774", "25091201"},
		{1111111111, 0x23523ED, "14050471", "67062674", "99943326"},
		{1234567890, 0x273EF07, "89005924", "91819424", "93441116"},
		{2000000000, 0x3F940AA, "69279037", "90698825", "38618901"},
		{20000000000, 0x27BC86AA, "65353130", "77737706", "47863826"},
	}
	for _, tt := range tests {
		now := time.Unix(tt.unix, 0)
		if got := Step(now); got != tt.step {
			t.Errorf("Step(%d) = %#x, want %#x", tt.unix, got, tt.step)
		}
		for _, c := range []struct {
			alg    Algorithm
			secret []byte
			want   string
		}{
			{SHA1, seed1, tt.sha1},
			{SHA256, seed256, tt.sha256},
			{SHA512, seed512, tt.sha512},
		} {
			if got := TOTP(c.secret, now, 8, c.alg); got != c.want {
				t.Errorf("TOTP(%d, %v) = %s, want %s", tt.unix, c.alg, got, c.want)
			}
		}
		// IAM's 6-digit codes are the last six of the 8-digit ones.
		if got := TOTP(seed1, now, Digits, SHA1); got != tt.sha1[2:] {
			t.Errorf("TOTP(%d, 6 digits) = %s, want %s", tt.unix, got, tt.sha1[2:])
		}
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		unix, want int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {60, 2},
		{-1, -1}, {-30, -1}, {-31, -2},
	}
	for _, tt := range tests {
		if got := Step(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("Step(%d) = %d, want %d", tt.unix, got, tt.want)
		}
	}
	// Sub-second parts do not move the step.
	if got := Step(time.Unix(29, 999999999)); got != 0 {
		t.Errorf("Step(29.999999999) = %d, want 0", got)
	}
}

func TestHOTPDigits(t *testing.T) {
	// The truncated value for counter 0 is 1284755224 (RFC 4226 App. D).
	for d, want := range map[int]string{1: "4", 6: "755224", 9: "284755224", 10: "1284755224"} {
		if got := HOTP(seed1, 0, d, SHA1); got != want {
			t.Errorf("HOTP(0, %d digits) = %s, want %s", d, got, want)
		}
	}
}

func TestHOTPPanics(t *testing.T) {
	tests := []struct {
		name   string
		digits int
		alg    Algorithm
	}{
		{"zero digits", 0, SHA1},
		{"eleven digits", 11, SHA1},
		{"negative digits", -6, SHA1},
		{"unknown algorithm", 6, Algorithm(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("HOTP(%d digits, %v) did not panic", tt.digits, tt.alg)
				}
			}()
			HOTP(seed1, 0, tt.digits, tt.alg)
		})
	}
}

func TestAlgorithmString(t *testing.T) {
	for a, want := range map[Algorithm]string{SHA1: "SHA1", SHA256: "SHA256", SHA512: "SHA512", 7: "Algorithm(7)"} {
		if got := a.String(); got != want {
			t.Errorf("Algorithm(%d).String() = %q, want %q", int(a), got, want)
		}
	}
}

// code returns the IAM code of seed1 for step s.
func code(s int64) string { return HOTP(seed1, uint64(s), Digits, SHA1) }

// now is a time in the middle of step n.
const n = 0x3F940AA

var now = time.Unix(n*30+15, 0)

func TestVerifyWindow(t *testing.T) {
	for d := int64(-3); d <= 3; d++ {
		t.Run(fmt.Sprintf("step%+d", d), func(t *testing.T) {
			step, ok := Verify(seed1, code(n+d), now, -1)
			if want := d >= -Window && d <= Window; ok != want {
				t.Fatalf("Verify(code of step n%+d) = %v, want %v", d, ok, want)
			}
			if ok && step != n+d {
				t.Errorf("Verify(code of step n%+d) returned step n%+d", d, step-n)
			}
		})
	}
	// The RFC 6238 vector, at the very beginning of time.
	if step, ok := Verify(seed1, "287082", time.Unix(59, 0), -1); !ok || step != 1 {
		t.Errorf("Verify(287082 at 59s) = %d, %v, want 1, true", step, ok)
	}
	// Before the epoch there are no steps.
	if _, ok := Verify(seed1, code(0), time.Unix(-31, 0), -1); ok {
		t.Error("Verify accepted step 0 two steps before it")
	}
}

func TestVerifyReplay(t *testing.T) {
	tests := []struct {
		name     string
		lastStep int64
		d        int64 // step of the code, relative to n
		ok       bool
	}{
		{"first use", -1, 0, true},
		{"same step again", n, 0, false},
		{"earlier step after a later one", n, -1, false},
		{"earlier step after the next one", n + 1, 0, false},
		{"next step", n, 1, true},
		{"current step after the previous one", n - 1, 0, true},
		{"last step beyond the window", n + 5, 1, false},
		{"last step at the largest int64", 1<<63 - 1, 0, false},
		{"last step at the smallest int64", -1 << 63, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := Verify(seed1, code(n+tt.d), now, tt.lastStep)
			if ok != tt.ok || ok && step != n+tt.d {
				t.Errorf("Verify(step n%+d, last %d) = n%+d, %v, want ok %v", tt.d, tt.lastStep, step-n, ok, tt.ok)
			}
		})
	}

	// A device used the way a caller uses it: every accepted code is
	// refused afterwards, however often it is retried within the window.
	last := int64(-1)
	for _, d := range []int64{-1, 0, 1} {
		c := code(n + d)
		step, ok := Verify(seed1, c, now, last)
		if !ok {
			t.Fatalf("step n%+d refused after n%+d", d, last-n)
		}
		last = step
		if _, ok := Verify(seed1, c, now, last); ok {
			t.Fatalf("step n%+d accepted twice", d)
		}
	}
	for d := int64(-1); d <= 1; d++ {
		if _, ok := Verify(seed1, code(n+d), now, last); ok {
			t.Errorf("step n%+d accepted after n+1", d)
		}
	}
}

// malformed holds codes Verify must refuse before computing anything,
// including ones that would match if trimmed or read as numbers.
var malformed = []string{
	"",
	"12345",
	"1234567",
	" " + code(n)[1:],
	code(n) + " ",
	code(n) + "\n",
	" " + code(n),
	"0x" + code(n)[2:],
	"+" + code(n)[1:],
	"-" + code(n)[1:],
	"12a456",
	"１２３４５６", // fullwidth digits
	"١٢٣٤٥٦", // Arabic-Indic digits
	"12\x00456",
	code(n)[:3] + "\xff" + code(n)[4:],
	"99" + code(n), // an 8-digit code ending in the right six
}

func TestVerifyMalformed(t *testing.T) {
	for _, c := range malformed {
		if _, ok := Verify(seed1, c, now, -1); ok {
			t.Errorf("Verify(%q) accepted", c)
		}
		if _, ok := VerifyConsecutive(seed1, c, code(n+1), now); ok {
			t.Errorf("VerifyConsecutive(%q, good) accepted", c)
		}
		if _, ok := VerifyConsecutive(seed1, code(n-1), c, now); ok {
			t.Errorf("VerifyConsecutive(good, %q) accepted", c)
		}
		// Computing a code allocates; refusing a malformed one does not.
		if a := testing.AllocsPerRun(10, func() { Verify(seed1, c, now, -1) }); a != 0 {
			t.Errorf("Verify(%q) allocated %v times: it computed codes", c, a)
		}
		if a := testing.AllocsPerRun(10, func() { VerifyConsecutive(seed1, c, c, now) }); a != 0 {
			t.Errorf("VerifyConsecutive(%q) allocated %v times: it computed codes", c, a)
		}
	}
}

func TestVerifyConsecutive(t *testing.T) {
	tests := []struct {
		name   string
		d1, d2 int64 // steps of the two codes, relative to n
		ok     bool
	}{
		{"previous and current", -1, 0, true},
		{"current and next", 0, 1, true},
		{"oldest accepted", -EnrollWindow, -EnrollWindow + 1, true},
		{"too old", -EnrollWindow - 1, -EnrollWindow, false},
		{"too far ahead", 1, 2, false},
		{"reversed", 0, -1, false},
		{"a step skipped", -2, 0, false},
		{"the same code twice", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := VerifyConsecutive(seed1, code(n+tt.d1), code(n+tt.d2), now)
			if ok != tt.ok {
				t.Fatalf("VerifyConsecutive(n%+d, n%+d) = %v, want %v", tt.d1, tt.d2, ok, tt.ok)
			}
			if ok && step != n+tt.d2 {
				t.Errorf("VerifyConsecutive(n%+d, n%+d) returned step n%+d, want the second code's", tt.d1, tt.d2, step-n)
			}
			// Enrollment seeds replay protection: neither code opens a
			// session afterwards.
			if ok {
				for _, d := range []int64{tt.d1, tt.d2} {
					if _, ok := Verify(seed1, code(n+d), now, step); ok {
						t.Errorf("enrollment code of step n%+d accepted by Verify afterwards", d)
					}
				}
			}
		})
	}
	// Near the epoch the window is cut at step 0.
	if step, ok := VerifyConsecutive(seed1, code(0), code(1), time.Unix(1, 0)); !ok || step != 1 {
		t.Errorf("VerifyConsecutive(steps 0, 1 at 1s) = %d, %v, want 1, true", step, ok)
	}
	if _, ok := VerifyConsecutive(seed1, code(0), code(1), time.Unix(-100, 0)); ok {
		t.Error("VerifyConsecutive accepted codes before the epoch")
	}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != SecretSize || len(b) != SecretSize {
		t.Fatalf("secrets of %d and %d bytes, want %d", len(a), len(b), SecretSize)
	}
	if bytes.Equal(a, b) {
		t.Error("two secrets are equal")
	}
	if s := Base32(a); len(s) != 32 || strings.Contains(s, "=") {
		t.Errorf("Base32 of a new secret = %q, want 32 characters, no padding", s)
	}
}

func TestBase32(t *testing.T) {
	tests := []struct {
		secret []byte
		want   string
	}{
		{seed1, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
		{[]byte("Hello!\xde\xad\xbe\xef"), "JBSWY3DPEHPK3PXP"},
		{[]byte("f"), "MY"}, // RFC 4648 §10, padding dropped
		{[]byte("foobar"), "MZXW6YTBOI"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := Base32(tt.secret); got != tt.want {
			t.Errorf("Base32(%q) = %q, want %q", tt.secret, got, tt.want)
		}
	}
}
