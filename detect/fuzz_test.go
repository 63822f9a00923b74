package detect

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

var types = []Type{Email, Phone, CreditCard, SSN, IBAN, Passport, IPAddress, AWSAccessKey, AWSSecretKey,
	PrivateKey, JWT, ConnPassword, GenericSecret}

// FuzzScan checks that Scan never panics, that its findings lie within
// the text, in order and apart, and that no excerpt holds its match.
func FuzzScan(f *testing.F) {
	for _, tc := range positives {
		f.Add(tc.text)
	}
	for _, tc := range negatives {
		f.Add(tc.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fs := Scan(text)
		prev := 0
		for _, x := range fs {
			if x.Offset < prev || x.Length <= 0 || x.Offset+x.Length > len(text) {
				t.Fatalf("finding %+v out of range or order (previous ends at %d, text %d bytes)", x, prev, len(text))
			}
			prev = x.Offset + x.Length
			if x.Confidence < Low || x.Confidence > High || !slices.Contains(types, x.Type) {
				t.Fatalf("finding %+v has an unknown type or confidence", x)
			}
			if m := text[x.Offset:prev]; strings.Contains(x.Excerpt, m) {
				t.Fatalf("excerpt %q holds the match %q", x.Excerpt, m)
			}
		}
	})
}

// FuzzCheckURL checks that CheckURL never panics, never echoes its
// input, and never passes what net/url reads as carrying user
// information, a fragment or another scheme.
func FuzzCheckURL(f *testing.F) {
	for _, tc := range urlCases {
		f.Add(tc.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := CheckURL(raw)
		if err != nil {
			if !errors.Is(err, ErrURL) {
				t.Fatalf("CheckURL(%q) = %v, not wrapping ErrURL", raw, err)
			}
			if len(raw) > 8 && strings.Contains(err.Error(), raw) {
				t.Fatalf("CheckURL(%q) = %q holds its input", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || u.User != nil || u.Fragment != "" || u.Scheme != "https" || u.Hostname() == "" {
			t.Fatalf("CheckURL(%q) = nil, but net/url reads %#v (%v)", raw, u, perr)
		}
		for k := range u.Query() {
			if secretParams[strings.ReplaceAll(strings.ToLower(k), "-", "_")] {
				t.Fatalf("CheckURL(%q) = nil with the query parameter %q", raw, k)
			}
		}
	})
}
