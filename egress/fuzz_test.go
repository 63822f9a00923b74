package egress

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// FuzzParseAllow checks that ParseAllow never panics, returns only valid,
// masked, zone-free, unmapped prefixes, round-trips through its own
// output, and yields an allow-list that admits each prefix's address.
func FuzzParseAllow(f *testing.F) {
	for _, s := range []string{
		"10.1.2.0/24,192.168.7.10/32,fd12::/64",
		"127.0.0.1",
		"::ffff:10.0.0.0/104",
		"10.1.2.3/24",
		"fe80::%eth0/64",
		"169.254.169.254/31",
		" , ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseAllow(s)
		if err != nil {
			if ps != nil {
				t.Fatalf("ParseAllow(%q) returned prefixes with error %v", s, err)
			}
			if errors.Is(err, ErrRefused) {
				t.Fatalf("ParseAllow(%q): parse error %v wraps ErrRefused", s, err)
			}
			return
		}
		strs := make([]string, len(ps))
		for i, p := range ps {
			if !p.IsValid() || p.Masked() != p || p.Addr().Zone() != "" || p.Addr().Is4In6() {
				t.Fatalf("ParseAllow(%q) returned %v", s, p)
			}
			strs[i] = p.String()
		}
		again, err := ParseAllow(strings.Join(strs, ","))
		if err != nil || !slices.Equal(again, ps) {
			t.Fatalf("round trip of %q: %v, %v; want %v", s, again, err, ps)
		}
		pol := Policy{Allow: ps}
		for _, p := range ps {
			a := p.Addr()
			err := pol.Check(netip.AddrPortFrom(a, 443))
			if sp, _ := classify(a); sp.metadata && !p.IsSingleIP() {
				continue // metadata needs an exact entry
			}
			if err != nil {
				t.Fatalf("allow-list %q refuses its own address %s: %v", s, a, err)
			}
		}
	})
}
