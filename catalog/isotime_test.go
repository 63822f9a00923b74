package catalog

import (
	"testing"
	"time"
)

func TestUTCNano(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"2023-01-02T15:04:05Z", true},
		{"2023-01-02T15:04:05.1Z", true},
		{"2023-01-02T15:04:05.123456789Z", true},
		{"2023-01-02T15:04:05.000000001Z", true},
		{"1970-01-01T00:00:00Z", true},
		{"1969-12-31T23:59:59.999999999Z", true},
		{"2000-02-29T12:00:00Z", true},
		{"2024-02-29T00:00:00Z", true},
		{"1678-01-01T00:00:00Z", true},
		{"2261-12-31T23:59:59.999999999Z", true},
		{"2100-02-28T00:00:00Z", true},
		{"1700-03-01T00:00:00Z", true},
		// Declined: the time package decides (and may accept some).
		{"2023-01-02T15:04:05+02:00", false},
		{"2023-01-02T15:04:05z", false},
		{"2023-01-02t15:04:05Z", false},
		{"2023-01-02T15:04:05.Z", false},
		{"2023-01-02T15:04:05.1234567891Z", false},
		{"2023-01-02T15:04:60Z", false},
		{"2023-01-02T24:00:00Z", false},
		{"2023-02-29T00:00:00Z", false},
		{"2100-02-29T00:00:00Z", false},
		{"2023-13-01T00:00:00Z", false},
		{"2023-00-01T00:00:00Z", false},
		{"2023-01-00T00:00:00Z", false},
		{"1677-12-31T23:59:59Z", false},
		{"2262-01-01T00:00:00Z", false},
		{"+023-01-02T15:04:05Z", false},
		{"2023-01-02T15:04:05", false},
		{"", false},
	} {
		got, ok := utcNano(c.in)
		if ok != c.ok {
			t.Errorf("utcNano(%q) ok = %v, want %v", c.in, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		want, err := time.Parse(time.RFC3339Nano, c.in)
		if err != nil || want.UnixNano() != got {
			t.Errorf("utcNano(%q) = %d; time.Parse gives %d, %v", c.in, got, want.UnixNano(), err)
		}
	}
}

// FuzzUTCNano holds utcNano to time.Parse wherever it accepts.
func FuzzUTCNano(f *testing.F) {
	for _, s := range []string{"2023-01-02T15:04:05Z", "2024-02-29T23:59:59.5Z", "1678-01-01T00:00:00.000000001Z", "2261-12-31T23:59:59Z",
		"2023-01-02T15:04:05+01:00", "2023-01-02T15:04:05.12345678Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := utcNano(s)
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("utcNano(%q) accepts what time.Parse refuses: %v", s, err)
		}
		if want.Year() < 1678 || want.Year() > 2261 || want.UnixNano() != got {
			t.Fatalf("utcNano(%q) = %d; time.Parse gives %v (%d)", s, got, want, want.UnixNano())
		}
	})
}

// The fuzzer misses most dates by chance: every day of the years the
// store takes, at times that cross each boundary.
func TestUTCNanoEveryDay(t *testing.T) {
	for d := time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2262; d = d.AddDate(0, 0, 1) {
		for _, at := range []time.Duration{0, 23*time.Hour + 59*time.Minute + 59*time.Second + 999999999} {
			s := d.Add(at).Format(time.RFC3339Nano)
			got, ok := utcNano(s)
			if !ok || got != d.Add(at).UnixNano() {
				t.Fatalf("utcNano(%q) = %d, %v; want %d", s, got, ok, d.Add(at).UnixNano())
			}
		}
	}
}

func BenchmarkUTCNano(b *testing.B) {
	const s = "2023-01-02T15:04:05.123Z"
	b.Run("utcNano", func(b *testing.B) {
		for b.Loop() {
			utcNano(s)
		}
	})
	b.Run("time.Parse", func(b *testing.B) {
		for b.Loop() {
			t, _ := time.Parse(time.RFC3339Nano, s)
			_ = t.UnixNano()
		}
	})
}
