package totp

import (
	"testing"
	"time"
)

// FuzzVerify checks that arbitrary codes, times and last steps never make
// the verifiers panic, and that whatever Verify accepts is a well-formed
// code of a step inside the window, later than the last one, and refused
// when replayed.
func FuzzVerify(f *testing.F) {
	f.Fuzz(func(t *testing.T, code string, unix, lastStep int64) {
		now := time.Unix(unix, 0)
		step, ok := Verify(seed1, code, now, lastStep)
		if ok {
			n := Step(now)
			switch {
			case !wellFormed(code):
				t.Fatalf("accepted malformed code %q", code)
			case step < 0 || step < n-Window || step > n+Window:
				t.Fatalf("accepted step %d outside the window around %d", step, n)
			case step <= lastStep:
				t.Fatalf("accepted step %d not after the last step %d", step, lastStep)
			case HOTP(seed1, uint64(step), Digits, SHA1) != code:
				t.Fatalf("accepted %q as the code of step %d", code, step)
			}
			if _, again := Verify(seed1, code, now, step); again {
				t.Fatalf("accepted %q twice", code)
			}
		}
		if len(code) >= 2*Digits {
			if step, ok := VerifyConsecutive(seed1, code[:Digits], code[Digits:2*Digits], now); ok {
				if n := Step(now); step < 1 || step < n-EnrollWindow+1 || step > n+Window {
					t.Fatalf("enrollment accepted step %d for now at step %d", step, n)
				}
			}
		}
		VerifyConsecutive(seed1, code, code, now)
	})
}
