package egress

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
)

// dnsServer is a minimal DNS responder on 127.0.0.1 (UDP) for tests: it
// answers A and AAAA questions from a lookup function and records every
// name it was asked about, so no test ever needs real DNS.
type dnsServer struct {
	pc     net.PacketConn
	lookup func(name string) []netip.Addr // nil: NXDOMAIN; no address of the asked family: NODATA

	mu    sync.Mutex
	names []string
}

func newDNSServer(t *testing.T, lookup func(name string) []netip.Addr) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{pc: pc, lookup: lookup}
	t.Cleanup(func() { pc.Close() })
	go s.serve()
	return s
}

// resolver returns a pure-Go resolver whose every query goes to s,
// whatever /etc/resolv.conf says.
func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", s.pc.LocalAddr().String())
		},
	}
}

// queried returns the names asked about so far, sorted and deduplicated.
func (s *dnsServer) queried() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := slices.Clone(s.names)
	slices.Sort(n)
	return slices.Compact(n)
}

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := s.reply(buf[:n]); resp != nil {
			s.pc.WriteTo(resp, from)
		}
	}
}

const (
	typeA    = 1
	typeAAAA = 28
)

// reply builds the response to query q, or nil to drop it.
func (s *dnsServer) reply(q []byte) []byte {
	if len(q) < 12 || q[2]&0x80 != 0 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil // not a query with exactly one question
	}
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return nil
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(q) {
			return nil // compression or garbage: never sent in questions
		}
		labels = append(labels, string(q[i:i+l]))
		i += l
	}
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	name := strings.ToLower(strings.Join(labels, "."))
	s.mu.Lock()
	s.names = append(s.names, name)
	s.mu.Unlock()

	addrs := s.lookup(name)
	var answers [][]byte
	for _, a := range addrs {
		if qtype == typeA && a.Is4() || qtype == typeAAAA && a.Is6() {
			answers = append(answers, a.AsSlice())
		}
	}
	rcode := byte(0)
	if addrs == nil {
		rcode = 3 // NXDOMAIN
	}
	resp := []byte{
		q[0], q[1], // ID
		0x80 | 0x04 | q[2]&0x01, // QR, AA, RD copied
		0x80 | rcode,            // RA
		0, 1,                    // QDCOUNT
		0, byte(len(answers)), // ANCOUNT
		0, 0, 0, 0, // NSCOUNT, ARCOUNT (the query's EDNS0 record is not echoed)
	}
	resp = append(resp, q[12:i+4]...)
	for _, rdata := range answers {
		resp = append(resp, 0xc0, 12) // name: pointer to the question's
		resp = binary.BigEndian.AppendUint16(resp, qtype)
		resp = binary.BigEndian.AppendUint16(resp, 1) // class IN
		resp = binary.BigEndian.AppendUint32(resp, 0) // TTL: never cache
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
		resp = append(resp, rdata...)
	}
	return resp
}

// TestDNSServer checks the test resolver itself.
func TestDNSServer(t *testing.T) {
	s := newDNSServer(t, func(name string) []netip.Addr {
		if name == "rebind.test" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		}
		return nil
	})
	ips, err := s.resolver().LookupNetIP(context.Background(), "ip", "rebind.test")
	if err != nil || len(ips) != 1 || ips[0] != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("LookupNetIP(rebind.test) = %v, %v", ips, err)
	}
	_, err = s.resolver().LookupNetIP(context.Background(), "ip", "nothing.test")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("LookupNetIP(nothing.test) error = %v, want not found", err)
	}
}
