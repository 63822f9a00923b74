package totp_test

import (
	"fmt"
	"time"

	"github.com/twinvault/twinvault/auth/totp"
)

func Example() {
	secret := []byte("12345678901234567890") // from totp.NewSecret in practice
	fmt.Println(totp.Base32(secret))

	// Enrollment: two consecutive codes, read off the app a minute ago.
	now := time.Unix(1234567890, 0)
	c1 := totp.TOTP(secret, now.Add(-90*time.Second), totp.Digits, totp.SHA1)
	c2 := totp.TOTP(secret, now.Add(-60*time.Second), totp.Digits, totp.SHA1)
	last, ok := totp.VerifyConsecutive(secret, c1, c2, now)
	fmt.Println("enrolled:", ok)

	// Sign-in: the current code is accepted once.
	code := totp.TOTP(secret, now, totp.Digits, totp.SHA1)
	last, ok = totp.Verify(secret, code, now, last)
	fmt.Println(code, ok)
	_, ok = totp.Verify(secret, code, now, last)
	fmt.Println(code, ok)
	// Output:
	// GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
	// enrolled: true
	// 005924 true
	// 005924 false
}
