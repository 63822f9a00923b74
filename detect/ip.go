package detect

import (
	"net/netip"
	"strings"
)

// nonPublic are the special-purpose ranges, beyond what net/netip names,
// whose addresses identify no one on the internet (RFC 6890, RFC 5737,
// RFC 3849, RFC 9637).
var nonPublic = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, p := range strings.Fields(`0.0.0.0/8 100.64.0.0/10 192.0.0.0/24 192.0.2.0/24 198.18.0.0/15
		198.51.100.0/24 203.0.113.0/24 240.0.0.0/4 2001:db8::/32 3fff::/20 fec0::/10`) {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	return ps
}()

// ipConfidence is Medium for a public address, which can identify a
// person or a site; Low for private, loopback, link-local, documentation
// and other special ranges, which identify no one outside.
func ipConfidence(a netip.Addr) Confidence {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return Low
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return Low
		}
	}
	return Medium
}

func isV6(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' || c == ':' || c == '.' }

// ipv6s finds IPv6 addresses: runs of hex digits, colons and points with
// two or more colons that net/netip accepts, as a word of their own.
func (s *scanner) ipv6s() {
	t := s.text
	for i := 0; i < len(t); {
		c := strings.IndexByte(t[i:], ':')
		if c < 0 {
			return
		}
		c += i
		lo, hi := c, c+1
		for lo > i && isV6(t[lo-1]) {
			lo--
		}
		for hi < len(t) && isV6(t[hi]) {
			hi++
		}
		i = hi
		// The run is maximal: what borders it is no hex digit, but may be
		// another letter ("std::g").
		if lo > 0 && isAlnum(t[lo-1]) || hi < len(t) && isAlnum(t[hi]) {
			continue
		}
		for lo < hi && t[lo] == '.' {
			lo++
		}
		for hi > lo && t[hi-1] == '.' {
			hi--
		}
		if hi-lo > 2 && t[hi-1] == ':' && t[hi-2] != ':' { // "address fe80::1: up"
			hi--
		}
		v := t[lo:hi]
		// A digit is required: "Face::Add" parses, but is C++.
		if len(v) > 45 || strings.Count(v, ":") < 2 || !strings.ContainsAny(v, "0123456789") {
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is6() {
			continue
		}
		head := strings.IndexByte(v, ':')
		s.add(IPAddress, ipConfidence(a), lo, hi, mask(v, head, 0))
	}
}
