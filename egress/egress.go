// Package egress makes the server's outbound HTTP calls (data connectors,
// webhooks, on-prem gateways) safe against server-side request forgery
// (SSRF): a URL given to the service must not become a way to reach the
// cloud metadata endpoint, the loopback interface or the private network
// the server lives in.
//
// Destinations are checked at dial time, not when a URL is parsed: the
// Client's dialer runs Policy.Check on every address it connects to
// (net.Dialer.Control receives the literal IP being dialed), so a host name
// resolving to 127.0.0.1, DNS rebinding between a check and the connect,
// and redirects all meet the same guard. Special-purpose ranges (loopback,
// link-local, private, CGNAT, multicast, reserved, documentation, ...) are
// refused unless an administrator allow-lists them; IPv4-mapped IPv6
// addresses are unmapped first. The Client never uses a proxy from the
// environment and has timeouts, a redirect limit and a response size cap.
package egress

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// ErrRefused is wrapped by every refusal (errors.Is), whose message names the rule and the address class
// (e.g. "egress: refused: 127.0.0.1 is a loopback address"), never a URL's user-info or query.
var ErrRefused = errors.New("egress: refused")

// ErrTooLarge is wrapped by the error a response body returns when it is read past Policy.MaxBody.
var ErrTooLarge = errors.New("egress: response too large")

// Defaults for Policy's zero values, and the fixed limits.
const (
	defaultTimeout = 30 * time.Second
	defaultMaxBody = 10 << 20

	dialTimeout           = 5 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 15 * time.Second
	maxRedirects          = 5
)

// Policy says where outbound calls may go.
type Policy struct {
	// Allow lists special-range prefixes an administrator allows (e.g. an
	// on-prem gateway's 10.1.2.0/24). Public addresses need no entry. The
	// cloud metadata addresses (169.254.169.254, 169.254.170.2,
	// 169.254.170.23, fd00:ec2::254, fd00:ec2::23) are allowed only by a
	// single-address prefix naming them (/32 or /128), never by a wider one
	// such as 169.254.0.0/16.
	Allow      []netip.Prefix
	AllowPorts []uint16      // if not empty, the only destination ports allowed (all ports otherwise)
	HTTPSOnly  bool          // refuse plain http URLs and redirects to them
	Timeout    time.Duration // whole call; 0 means 30s
	MaxBody    int64         // response body cap in bytes; 0 means 10 MiB
	Resolver   *net.Resolver // nil: net.DefaultResolver (tests inject one)
	// RootCAs verify the servers' certificates; nil: the system's roots.
	// An on-premises gateway with a private CA needs its CA here.
	RootCAs *x509.CertPool
}

// special is a special-purpose range and the class named in refusals.
// Lookups take the first match, so narrower entries come first.
type special struct {
	prefix   netip.Prefix
	class    string
	metadata bool // allowed only by an exact single-address Allow entry
}

var specials = func() []special {
	var s []special
	add := func(class string, metadata bool, prefixes ...string) {
		for _, p := range prefixes {
			s = append(s, special{netip.MustParsePrefix(p), class, metadata})
		}
	}
	add("a cloud metadata address", true,
		"169.254.169.254/32", "169.254.170.2/32", "169.254.170.23/32",
		"fd00:ec2::254/128", "fd00:ec2::23/128")
	// IPv4 (RFC 6890 and the IANA special-purpose registry).
	add("an unspecified address", false, "0.0.0.0/32")
	add("a this-network address", false, "0.0.0.0/8")
	add("a loopback address", false, "127.0.0.0/8")
	add("a private address", false, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
	add("a carrier-grade NAT address", false, "100.64.0.0/10")
	add("a link-local address", false, "169.254.0.0/16")
	add("an IETF protocol assignment address", false, "192.0.0.0/24")
	add("a documentation address", false, "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
	add("a 6to4 relay anycast address", false, "192.88.99.0/24")
	add("a benchmarking address", false, "198.18.0.0/15")
	add("a multicast address", false, "224.0.0.0/4")
	add("a broadcast address", false, "255.255.255.255/32")
	add("a reserved address", false, "240.0.0.0/4")
	// IPv6 (RFC 6890, RFC 9637 and the IANA special-purpose registry).
	add("an unspecified address", false, "::/128")
	add("a loopback address", false, "::1/128")
	add("an IPv4-compatible address", false, "::/96")
	add("a NAT64 address", false, "64:ff9b::/96", "64:ff9b:1::/48")
	add("a discard-only address", false, "100::/64")
	add("an IETF protocol assignment address", false, "2001::/23")
	add("a documentation address", false, "2001:db8::/32", "3fff::/20")
	add("a 6to4 address", false, "2002::/16")
	add("a private address", false, "fc00::/7")
	add("a link-local address", false, "fe80::/10")
	add("a site-local address", false, "fec0::/10")
	add("a multicast address", false, "ff00::/8")
	return s
}()

// global6 is the only IPv6 space IANA allocates for global unicast; every
// other IPv6 address is reserved.
var global6 = netip.MustParsePrefix("2000::/3")

// classify returns the special range addr belongs to, if any. addr must be
// unmapped and have no zone.
func classify(addr netip.Addr) (special, bool) {
	for _, s := range specials {
		if s.prefix.Contains(addr) {
			return s, true
		}
	}
	if addr.Is6() && !global6.Contains(addr) {
		return special{prefix: netip.PrefixFrom(addr, 128), class: "a reserved address"}, true
	}
	return special{}, false
}

// Check reports whether policy p allows a connection to addr (IP and port), without dialing.
//
// IPv4-mapped addresses are unmapped and zones dropped first. Refused unless in p.Allow: the
// special-purpose ranges listed in specials (those of the security notes §9(b), ff00::/8, and a few
// more from the IANA registries such as 2002::/16 and 3fff::/20) and every IPv6 address outside
// the global unicast space 2000::/3. With p.AllowPorts set, other ports are refused for every address.
func (p *Policy) Check(addr netip.AddrPort) error {
	if p == nil {
		p = &Policy{}
	}
	ip := addr.Addr().Unmap().WithZone("") // Prefix.Contains never matches an address with a zone
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrRefused)
	}
	if len(p.AllowPorts) > 0 && !slices.Contains(p.AllowPorts, addr.Port()) {
		return fmt.Errorf("%w: port %d is not allowed", ErrRefused, addr.Port())
	}
	s, ok := classify(ip)
	if !ok {
		return nil
	}
	for _, a := range p.Allow {
		a = unmapPrefix(a)
		if a.Contains(ip) && (!s.metadata || a.IsSingleIP()) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is %s", ErrRefused, ip, s.class)
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into
// the IPv4 prefix it covers (10.0.0.0/8), since Check unmaps addresses.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// ParseAllow parses a comma-separated allow-list like "10.1.2.0/24,192.168.7.10/32,fd12::/64" for a flag.
// Blanks around entries are ignored; a bare address means a single-address prefix; an entry with
// host bits set (10.1.2.3/24) is an error, as is an empty entry. The empty string gives an empty list.
func ParseAllow(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for e := range strings.SplitSeq(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, errors.New("egress: allow-list has an empty entry")
		}
		var p netip.Prefix
		if strings.Contains(e, "/") {
			var err error
			if p, err = netip.ParsePrefix(e); err != nil {
				return nil, fmt.Errorf("egress: allow-list entry %q: not a CIDR prefix", e)
			}
		} else {
			a, err := netip.ParseAddr(e)
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("egress: allow-list entry %q: not an IP address or CIDR prefix", e)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Masked() != p {
			return nil, fmt.Errorf("egress: allow-list entry %q has host bits set (network is %s)", e, p.Masked())
		}
		out = append(out, unmapPrefix(p))
	}
	return out, nil
}
