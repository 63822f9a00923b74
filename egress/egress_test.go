package egress

import (
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// inside holds one address inside every special range, with the class
// Check names; IPv4 entries are also tried in their IPv4-mapped form.
var inside = []struct {
	addr, class string
}{
	{"0.0.0.0", "an unspecified address"},
	{"0.1.2.3", "a this-network address"},
	{"127.0.0.1", "a loopback address"},
	{"127.255.255.254", "a loopback address"},
	{"10.1.2.3", "a private address"},
	{"172.16.0.1", "a private address"},
	{"172.31.255.255", "a private address"},
	{"192.168.1.1", "a private address"},
	{"100.64.0.1", "a carrier-grade NAT address"},
	{"100.127.255.255", "a carrier-grade NAT address"},
	{"169.254.1.1", "a link-local address"},
	{"169.254.169.254", "a cloud metadata address"},
	{"169.254.170.2", "a cloud metadata address"},
	{"224.0.0.1", "a multicast address"},
	{"239.255.255.250", "a multicast address"},
	{"240.0.0.1", "a reserved address"},
	{"255.255.255.254", "a reserved address"},
	{"255.255.255.255", "a broadcast address"},
	{"192.0.0.8", "an IETF protocol assignment address"},
	{"192.0.2.1", "a documentation address"},
	{"198.18.0.1", "a benchmarking address"},
	{"198.19.255.255", "a benchmarking address"},
	{"198.51.100.7", "a documentation address"},
	{"203.0.113.9", "a documentation address"},
	{"192.88.99.1", "a 6to4 relay anycast address"},

	{"::", "an unspecified address"},
	{"::1", "a loopback address"},
	{"::7f00:1", "an IPv4-compatible address"},
	{"fe80::1", "a link-local address"},
	{"febf:ffff::1", "a link-local address"},
	{"fc00::1", "a private address"},
	{"fd12:3456::1", "a private address"},
	{"fd00:ec2::254", "a cloud metadata address"},
	{"fd00:ec2::23", "a cloud metadata address"},
	{"ff02::1", "a multicast address"},
	{"ff0e::1", "a multicast address"},
	{"2001:db8::1", "a documentation address"},
	{"3fff::1", "a documentation address"},
	{"64:ff9b::7f00:1", "a NAT64 address"},
	{"64:ff9b:1::1", "a NAT64 address"},
	{"100::1", "a discard-only address"},
	{"2001::1", "an IETF protocol assignment address"},
	{"2002:7f00:1::1", "a 6to4 address"},
	{"fec0::1", "a site-local address"},
	{"4000::1", "a reserved address"},
	{"5f00::1", "a reserved address"},
}

func TestCheckRefusesSpecialRanges(t *testing.T) {
	var p Policy
	for _, tc := range inside {
		forms := []string{tc.addr}
		if a := netip.MustParseAddr(tc.addr); a.Is4() {
			forms = append(forms, "::ffff:"+tc.addr)
		}
		for _, form := range forms {
			for _, port := range []uint16{80, 443} {
				ap := netip.AddrPortFrom(netip.MustParseAddr(form), port)
				err := p.Check(ap)
				if !errors.Is(err, ErrRefused) {
					t.Errorf("Check(%s) = %v, want ErrRefused", ap, err)
					continue
				}
				// The message names the unmapped address and its class.
				want := "egress: refused: " + tc.addr + " is " + tc.class
				if err.Error() != want {
					t.Errorf("Check(%s) = %q, want %q", ap, err, want)
				}
			}
		}
	}
}

func TestCheckZone(t *testing.T) {
	// Prefix.Contains never matches an address with a zone: Check strips it.
	var p Policy
	for _, s := range []string{"fe80::1%lo", "fe80::1%eth0", "::1%lo", "ff02::1%1"} {
		if err := p.Check(netip.AddrPortFrom(netip.MustParseAddr(s), 80)); !errors.Is(err, ErrRefused) {
			t.Errorf("Check(%s) = %v, want ErrRefused", s, err)
		}
	}
}

func TestCheckInvalid(t *testing.T) {
	var p Policy
	if err := p.Check(netip.AddrPort{}); !errors.Is(err, ErrRefused) {
		t.Errorf("Check(zero) = %v, want ErrRefused", err)
	}
}

func TestCheckAllowsPublic(t *testing.T) {
	var p Policy
	for _, s := range []string{
		"8.8.8.8:443", "1.1.1.1:80", "[2606:4700::1111]:443", "[2a00:1450:4001::200e]:443",
		"[::ffff:8.8.8.8]:443",
		// Just outside special ranges.
		"1.0.0.0:443", "9.255.255.255:443", "11.0.0.0:443", "100.63.255.255:443", "100.128.0.0:443",
		"126.255.255.255:443", "128.0.0.0:443", "169.253.255.255:443", "169.255.0.0:443",
		"172.15.255.255:443", "172.32.0.0:443", "192.0.1.1:443", "192.0.3.0:443", "192.167.255.255:443",
		"192.169.0.0:443", "198.17.255.255:443", "198.20.0.0:443", "198.51.99.255:443", "203.0.112.255:443",
		"223.255.255.255:443", "[2001:200::1]:443", "[2001:db9::1]:443", "[2003::1]:443", "[3ffe::1]:443",
	} {
		if err := p.Check(netip.MustParseAddrPort(s)); err != nil {
			t.Errorf("Check(%s) = %v, want nil", s, err)
		}
	}
}

func TestCheckAllow(t *testing.T) {
	tests := []struct {
		name  string
		p     Policy
		addr  string
		allow bool
	}{
		{"allow-listed", Policy{Allow: pfx("127.0.0.1/32")}, "127.0.0.1:8080", true},
		{"allow-listed mapped", Policy{Allow: pfx("127.0.0.1/32")}, "[::ffff:127.0.0.1]:8080", true},
		{"mapped allow entry", Policy{Allow: pfx("::ffff:127.0.0.1/128")}, "127.0.0.1:8080", true},
		{"mapped allow network", Policy{Allow: pfx("::ffff:10.0.0.0/104")}, "10.9.8.7:8080", true},
		{"neighbour not listed", Policy{Allow: pfx("127.0.0.1/32")}, "127.0.0.2:8080", false},
		{"other range", Policy{Allow: pfx("127.0.0.1/32")}, "10.0.0.1:8080", false},
		{"on-prem gateway", Policy{Allow: pfx("10.1.2.0/24")}, "10.1.2.77:4840", true},
		{"on-prem gateway, outside", Policy{Allow: pfx("10.1.2.0/24")}, "10.1.3.1:4840", false},
		{"v6 ULA", Policy{Allow: pfx("fd12::/64")}, "[fd12::5]:443", true},
		{"v6 loopback", Policy{Allow: pfx("::1/128")}, "[::1]:443", true},
		{"v4 entry does not allow v6", Policy{Allow: pfx("127.0.0.1/32")}, "[::1]:443", false},
		{"metadata needs exact entry", Policy{Allow: pfx("169.254.0.0/16")}, "169.254.169.254:80", false},
		{"link-local by wide entry", Policy{Allow: pfx("169.254.0.0/16")}, "169.254.1.1:80", true},
		{"metadata exact entry", Policy{Allow: pfx("169.254.169.254/32")}, "169.254.169.254:80", true},
		{"metadata v6 needs exact entry", Policy{Allow: pfx("fd00::/8")}, "[fd00:ec2::254]:80", false},
		{"metadata by allow-all", Policy{Allow: pfx("0.0.0.0/0")}, "169.254.169.254:80", false},
		{"port allowed", Policy{AllowPorts: []uint16{443}}, "8.8.8.8:443", true},
		{"port not allowed", Policy{AllowPorts: []uint16{443}}, "8.8.8.8:80", false},
		{"allow-listed, port not allowed", Policy{Allow: pfx("127.0.0.1/32"), AllowPorts: []uint16{443, 8443}}, "127.0.0.1:80", false},
		{"allow-listed, port allowed", Policy{Allow: pfx("127.0.0.1/32"), AllowPorts: []uint16{443, 8443}}, "127.0.0.1:8443", true},
		{"port allowed, range not", Policy{AllowPorts: []uint16{443}}, "127.0.0.1:443", false},
	}
	for _, tc := range tests {
		err := tc.p.Check(netip.MustParseAddrPort(tc.addr))
		if tc.allow && err != nil || !tc.allow && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: Check(%s) = %v, want allowed %v", tc.name, tc.addr, err, tc.allow)
		}
	}
	err := (&Policy{AllowPorts: []uint16{443}}).Check(netip.MustParseAddrPort("8.8.8.8:80"))
	if want := "egress: refused: port 80 is not allowed"; err == nil || err.Error() != want {
		t.Errorf("port refusal = %v, want %q", err, want)
	}
}

// pfx builds an allow-list directly, without ParseAllow's normalisation.
func pfx(s string) []netip.Prefix {
	var ps []netip.Prefix
	for e := range strings.SplitSeq(s, ",") {
		ps = append(ps, netip.MustParsePrefix(e))
	}
	return ps
}

func TestParseAllow(t *testing.T) {
	tests := []struct {
		in   string
		want string // prefixes joined by ","; "ERR" for an error
	}{
		{"", ""},
		{"  ", ""},
		{"10.1.2.0/24,192.168.7.10/32,fd12::/64", "10.1.2.0/24,192.168.7.10/32,fd12::/64"},
		{" 10.1.2.0/24 , 127.0.0.1/32 ", "10.1.2.0/24,127.0.0.1/32"},
		{"127.0.0.1", "127.0.0.1/32"},
		{"::1", "::1/128"},
		{"::ffff:127.0.0.1", "127.0.0.1/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"10.1.2.3/24", "ERR"},
		{"fd12::1/64", "ERR"},
		{"10.1.2.0/33", "ERR"},
		{"10.1.2.0/", "ERR"},
		{"10.1.2.0/24,", "ERR"},
		{",10.1.2.0/24", "ERR"},
		{"10.1.2.0/24,,fd12::/64", "ERR"},
		{"fe80::1%eth0", "ERR"},
		{"fe80::%eth0/64", "ERR"},
		{"example.com", "ERR"},
		{"127.1", "ERR"},
		{"010.1.2.0/24", "ERR"},
		{"10.1.2.0/24 10.1.3.0/24", "ERR"},
	}
	for _, tc := range tests {
		ps, err := ParseAllow(tc.in)
		if tc.want == "ERR" {
			if err == nil {
				t.Errorf("ParseAllow(%q) = %v, want error", tc.in, ps)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAllow(%q): %v", tc.in, err)
			continue
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("ParseAllow(%q) = %v, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseAllowErrorNamesEntry(t *testing.T) {
	_, err := ParseAllow("10.1.2.0/24,10.1.2.3/24")
	if err == nil || !strings.Contains(err.Error(), `"10.1.2.3/24"`) || !strings.Contains(err.Error(), "10.1.2.0/24") {
		t.Errorf("error %v should name the entry and its network", err)
	}
	if errors.Is(err, ErrRefused) {
		t.Error("a parse error is not a refusal")
	}
}

// TestURLParseRejectsBareIPv6Host documents that Go (1.26 and later,
// GODEBUG urlstrictcolons) rejects an unbracketed IPv6 host, so
// "http://::1/" never reaches the client: callers get a url.Parse error.
func TestURLParseRejectsBareIPv6Host(t *testing.T) {
	for _, s := range []string{"http://::1/", "http://::1:80/", "http://::ffff:127.0.0.1/"} {
		if u, err := url.Parse(s); err == nil {
			t.Errorf("url.Parse(%q) = host %q, want an error", s, u.Host)
		}
	}
}

// TestSpecialsOrdered makes sure a narrower range never hides behind a
// wider one listed earlier, which would give it the wrong class.
func TestSpecialsOrdered(t *testing.T) {
	for i, a := range specials {
		for _, b := range specials[:i] {
			if b.prefix.Bits() < a.prefix.Bits() && b.prefix.Contains(a.prefix.Addr()) {
				t.Errorf("%s (%s) is shadowed by %s listed before it", a.prefix, a.class, b.prefix)
			}
		}
	}
	if !slices.ContainsFunc(specials, func(s special) bool { return s.prefix == netip.MustParsePrefix("ff00::/8") }) {
		t.Error("ff00::/8 missing")
	}
}
