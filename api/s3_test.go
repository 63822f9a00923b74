package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/twinvault/twinvault/objects"
)

func TestByteRange(t *testing.T) {
	cases := []struct {
		h        string
		off, n   int64
		partial  bool
		rejected bool
	}{
		{"", 0, 100, false, false},
		{"bytes=0-9", 0, 10, true, false},
		{"bytes=90-", 90, 10, true, false},
		{"bytes=90-500", 90, 10, true, false},
		{"bytes=-10", 90, 10, true, false},
		{"bytes=-500", 0, 100, true, false},
		{"bytes=100-", 0, 0, false, true},
		{"bytes=5-4", 0, 0, false, true},
		{"bytes=-0", 0, 0, false, true},
		{"bytes=0-1,5-6", 0, 100, false, false}, // several ranges: ignored, as S3 does
		{"items=0-1", 0, 100, false, false},
	}
	for _, c := range cases {
		off, n, partial, err := byteRange(c.h, 100)
		if (err != nil) != c.rejected || (!c.rejected && (off != c.off || n != c.n || partial != c.partial)) {
			t.Errorf("%q: %d+%d partial %v err %v", c.h, off, n, partial, err)
		}
	}
}

// FuzzByteRange: any header gives a range inside the object or an error.
func FuzzByteRange(f *testing.F) {
	for _, h := range []string{"bytes=0-9", "bytes=-5", "bytes=7-", "bytes=9223372036854775807-", "bytes=--1"} {
		f.Add(h, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		off, n, _, err := byteRange(h, size)
		if err == nil && (off < 0 || n < 0 || off+n > size || off+n < off) {
			t.Fatalf("%q of %d: %d+%d", h, size, off, n)
		}
	})
}

func TestPreconditions(t *testing.T) {
	mod := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	o := &objects.Object{ETag: "abc", Modified: mod.Add(300 * time.Millisecond)}
	before, after := mod.Add(-time.Hour).Format(http.TimeFormat), mod.Add(time.Hour).Format(http.TimeFormat)
	at := mod.Format(http.TimeFormat)
	cases := []struct {
		h    map[string]string
		want int
	}{
		{nil, 0},
		{map[string]string{"If-Match": `"abc"`}, 0},
		{map[string]string{"If-Match": `"x", "abc"`}, 0},
		{map[string]string{"If-Match": "*"}, 0},
		{map[string]string{"If-Match": `"x"`}, 412},
		{map[string]string{"If-None-Match": `"abc"`}, 304},
		{map[string]string{"If-None-Match": `"x"`}, 0},
		{map[string]string{"If-Modified-Since": at}, 304}, // to the second
		{map[string]string{"If-Modified-Since": before}, 0},
		{map[string]string{"If-Unmodified-Since": before}, 412},
		{map[string]string{"If-Unmodified-Since": after}, 0},
		{map[string]string{"If-Match": `"abc"`, "If-Unmodified-Since": before}, 0}, // If-Match wins
		{map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": after}, 0}, // If-None-Match wins
		{map[string]string{"If-Modified-Since": "not a date"}, 0},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c.h {
			h.Set(k, v)
		}
		if got := preconditions(h, o); got != c.want {
			t.Errorf("%v: %d, want %d", c.h, got, c.want)
		}
	}
}
