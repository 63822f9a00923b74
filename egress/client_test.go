package egress

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// server is an httptest server on a chosen loopback address that counts
// the connections it accepts and the requests it serves.
type server struct {
	*httptest.Server
	port        string
	conns, reqs atomic.Int64
}

// startServer starts a server listening on addr ("127.0.0.1:0", "[::1]:0");
// it skips the test when addr cannot be bound (no IPv6, say).
func startServer(t *testing.T, addr string, useTLS bool, h http.HandlerFunc) *server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reqs.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	s.Listener.Close()
	s.Listener = ln
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	return s
}

// untouched fails the test if s accepted a connection.
func (s *server) untouched(t *testing.T, what string) {
	t.Helper()
	if n := s.conns.Load(); n != 0 {
		t.Errorf("%s: server %s accepted %d connections (%d requests), want none", what, s.URL, n, s.reqs.Load())
	}
}

// trust makes c accept the TLS servers' certificates.
func trust(c *http.Client, servers ...*server) {
	pool := x509.NewCertPool()
	for _, s := range servers {
		pool.AddCert(s.Certificate())
	}
	c.Transport.(*transport).base.TLSClientConfig.RootCAs = pool
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return resp, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

const loopback4 = "127.0.0.1"

func loopbackResolver(t *testing.T) *dnsServer {
	return newDNSServer(t, func(name string) []netip.Addr {
		return []netip.Addr{netip.MustParseAddr(loopback4)}
	})
}

// TestClientRefusesSSRFVectors runs the SSRF vectors of security notes
// §9(c) that Go can parse, each as given (port 80) and aimed at the port of
// a local server that must see no connection at all. With a resolver that
// answers every name with 127.0.0.1 (an attacker's DNS) all are refused
// with ErrRefused. With one that knows only rebind.test, evil.example does
// not resolve: a *net.DNSError (not found), still no connection.
//
// Per vector (want holds the refusal message):
//   - 127.1, 2130706433, 0x7f000001, 0177.0.0.1: refused before any lookup
//     because the last label is numeric (getaddrinfo would read them as
//     127.0.0.1, Go's resolver as invalid names);
//   - [::ffff:127.0.0.1]: unmapped, refused as loopback;
//   - [::] and 0.0.0.0: refused as unspecified (connecting to them reaches
//     the local host);
//   - 169.254.169.254, [fd00:ec2::254]: refused as cloud metadata;
//   - localhost.: refused as a loopback name (RFC 6761), no lookup;
//   - evil.example#@good.example: Go parses host evil.example (the rest is
//     the fragment); refused at dial time when it resolves to 127.0.0.1;
//   - rebind.test, resolving to 127.0.0.1: refused at dial time.
func TestClientRefusesSSRFVectors(t *testing.T) {
	v4 := startServer(t, loopback4+":0", false, nil)
	v6 := startServer(t, "[::1]:0", false, nil)

	vectors := []struct {
		url      string // %s is replaced by "" or ":port"
		v6       bool   // aimed at the IPv6 server
		want     string // message of the refusal
		resolves bool   // depends on DNS: not found with the strict resolver
	}{
		{url: "http://127.1%s/", want: `egress: refused: "127.1" is neither a standard IP address nor a DNS name`},
		{url: "http://2130706433%s/", want: `egress: refused: "2130706433" is neither`},
		{url: "http://0x7f000001%s/", want: `egress: refused: "0x7f000001" is neither`},
		{url: "http://0177.0.0.1%s/", want: `egress: refused: "0177.0.0.1" is neither`},
		{url: "http://[::ffff:127.0.0.1]%s/", want: "egress: refused: 127.0.0.1 is a loopback address"},
		{url: "http://[::]%s/", v6: true, want: "egress: refused: :: is an unspecified address"},
		{url: "http://0.0.0.0%s/", want: "egress: refused: 0.0.0.0 is an unspecified address"},
		{url: "http://169.254.169.254%s/latest/meta-data/", want: "egress: refused: 169.254.169.254 is a cloud metadata address"},
		{url: "http://[fd00:ec2::254]%s/", v6: true, want: "egress: refused: fd00:ec2::254 is a cloud metadata address"},
		{url: "http://localhost.%s/", want: `egress: refused: "localhost." is a loopback name`},
		{url: "http://evil.example%s#@good.example/", want: "egress: refused: 127.0.0.1 is a loopback address", resolves: true},
		{url: "http://rebind.test%s/", want: "egress: refused: 127.0.0.1 is a loopback address"},
		// More of the same families.
		{url: "http://127.0.0.1%s/", want: "egress: refused: 127.0.0.1 is a loopback address"},
		{url: "http://[::1]%s/", v6: true, want: "egress: refused: ::1 is a loopback address"},
		{url: "http://[fe80::1%%25lo]%s/", v6: true, want: "egress: refused: fe80::1 is a link-local address"},
		{url: "http://127.000.000.001%s/", want: `egress: refused: "127.000.000.001" is neither`},
		{url: "http://0x7f.1%s/", want: `egress: refused: "0x7f.1" is neither`},
		{url: "http://LocalHost%s/", want: `egress: refused: "LocalHost" is a loopback name`},
		{url: "http://db.localhost%s/", want: `egress: refused: "db.localhost" is a loopback name`},
		{url: "http://10.0.0.1%s/", want: "egress: refused: 10.0.0.1 is a private address"},
		{url: "http://169.254.170.2%s/v2/credentials", want: "egress: refused: 169.254.170.2 is a cloud metadata address"},
	}

	resolvers := map[string]*dnsServer{
		"attacker": loopbackResolver(t),
		"strict": newDNSServer(t, func(name string) []netip.Addr {
			if name == "rebind.test" {
				return []netip.Addr{netip.MustParseAddr(loopback4)}
			}
			return nil
		}),
	}
	for rname, dns := range resolvers {
		c := (&Policy{Resolver: dns.resolver()}).Client()
		for _, vec := range vectors {
			target := v4
			if vec.v6 {
				target = v6
			}
			for _, port := range []string{"", ":" + target.port} {
				u := fmt.Sprintf(vec.url, port)
				_, _, err := get(t, c, u)
				var ue *url.Error
				switch {
				case !errors.As(err, &ue):
					t.Errorf("%s: GET %s: error %v is not a *url.Error", rname, u, err)
				case rname == "strict" && vec.resolves:
					var de *net.DNSError
					if !errors.As(err, &de) || !de.IsNotFound {
						t.Errorf("%s: GET %s: error %v, want a not-found DNS error", rname, u, err)
					}
				case !errors.Is(err, ErrRefused):
					t.Errorf("%s: GET %s: error %v, want ErrRefused", rname, u, err)
				case !strings.Contains(err.Error(), vec.want):
					t.Errorf("%s: GET %s: error %q, want it to contain %q", rname, u, err, vec.want)
				}
			}
		}
		// Only names that are neither numeric nor localhost were looked up.
		if q := dns.queried(); !slices.Equal(q, []string{"evil.example", "rebind.test"}) {
			t.Errorf("%s resolver was asked about %q, want only evil.example and rebind.test", rname, q)
		}
	}
	v4.untouched(t, "SSRF vectors")
	v6.untouched(t, "SSRF vectors")
}

// TestClientAllowed checks that allow-listed destinations work, so the
// refusals above are not an artefact of a broken client.
func TestClientAllowed(t *testing.T) {
	v4 := startServer(t, loopback4+":0", false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	v6 := startServer(t, "[::1]:0", false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	dns := loopbackResolver(t)
	allow, err := ParseAllow("127.0.0.1/32,::1/128")
	if err != nil {
		t.Fatal(err)
	}
	c := (&Policy{Allow: allow, Resolver: dns.resolver()}).Client()
	for _, u := range []string{
		"http://127.0.0.1:" + v4.port + "/",
		"http://[::ffff:127.0.0.1]:" + v4.port + "/",
		"http://rebind.test:" + v4.port + "/",
		"http://[::1]:" + v6.port + "/",
	} {
		if _, body, err := get(t, c, u); err != nil || string(body) != "ok" {
			t.Errorf("GET %s = %q, %v; want ok", u, body, err)
		}
	}
	// The allow-list does not cover the unspecified address or other loopback addresses.
	for _, u := range []string{"http://0.0.0.0:" + v4.port + "/", "http://127.0.0.2:" + v4.port + "/"} {
		if _, _, err := get(t, c, u); !errors.Is(err, ErrRefused) {
			t.Errorf("GET %s: %v, want ErrRefused", u, err)
		}
	}
	// AllowPorts restricts allow-listed destinations too.
	c = (&Policy{Allow: allow, AllowPorts: []uint16{1}}).Client()
	if _, _, err := get(t, c, v4.URL); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "port "+v4.port+" is not allowed") {
		t.Errorf("GET with port not allowed: %v", err)
	}
	port, _ := strconv.ParseUint(v4.port, 10, 16)
	c = (&Policy{Allow: allow, AllowPorts: []uint16{1, uint16(port)}}).Client()
	if _, _, err := get(t, c, v4.URL); err != nil {
		t.Errorf("GET with port allowed: %v", err)
	}
}

// TestClientDNSRebinding: a name that resolved to an allowed address is
// refused once it resolves to a forbidden one, because the check runs on
// every dial rather than once per name.
func TestClientDNSRebinding(t *testing.T) {
	good := startServer(t, "127.0.0.1:0", false, nil)
	evil := startServer(t, "127.0.0.2:"+good.port, false, nil) // same port, other loopback address
	var rebound atomic.Bool
	dns := newDNSServer(t, func(string) []netip.Addr {
		if rebound.Load() {
			return []netip.Addr{netip.MustParseAddr("127.0.0.2")}
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	})
	c := (&Policy{Allow: pfx("127.0.0.1/32"), Resolver: dns.resolver()}).Client()
	u := "http://rebind.test:" + good.port + "/"
	if _, _, err := get(t, c, u); err != nil {
		t.Fatalf("first GET: %v", err)
	}
	c.CloseIdleConnections() // force a new dial
	rebound.Store(true)
	_, _, err := get(t, c, u)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "127.0.0.2 is a loopback address") {
		t.Errorf("GET after rebinding: %v, want refusal of 127.0.0.2", err)
	}
	evil.untouched(t, "after rebinding")
}

func TestClientRedirects(t *testing.T) {
	v6 := startServer(t, "[::1]:0", false, nil)
	other := startServer(t, "127.0.0.2:0", false, nil)
	// metadata.test resolves to the metadata address, other names to 127.0.0.1.
	dns := newDNSServer(t, func(name string) []netip.Addr {
		if name == "metadata.test" {
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}
		}
		return []netip.Addr{netip.MustParseAddr(loopback4)}
	})
	targets := []struct{ location, want string }{
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"},
		{"http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254 is a cloud metadata address"},
		{"http://[::1]:" + v6.port + "/", "::1 is a loopback address"},
		{"http://127.0.0.2:" + other.port + "/", "127.0.0.2 is a loopback address"},
		{"http://2130706433:" + other.port + "/", `"2130706433" is neither`},
		{"http://localhost:" + other.port + "/", `"localhost" is a loopback name`},
		{"http://metadata.test/", "169.254.169.254 is a cloud metadata address"},
		{"file:///etc/passwd", `scheme "file" is not allowed`},
	}
	for _, tc := range targets {
		s := startServer(t, "127.0.0.1:0", false, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, tc.location, http.StatusFound)
		})
		c := (&Policy{Allow: pfx("127.0.0.1/32"), Resolver: dns.resolver()}).Client()
		resp, _, err := get(t, c, s.URL+"/start")
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("redirect to %s: %v, want refusal %q", tc.location, err, tc.want)
		}
		// A refusal in CheckRedirect comes with the redirect response
		// (body closed), as net/http documents; a dial refusal without.
		if resp != nil && resp.StatusCode != http.StatusFound {
			t.Errorf("redirect to %s: got status %d with the error", tc.location, resp.StatusCode)
		}
		if n := s.reqs.Load(); n != 1 {
			t.Errorf("redirect to %s: allowed server saw %d requests, want 1", tc.location, n)
		}
	}
	v6.untouched(t, "redirects")
	other.untouched(t, "redirects")
}

func TestClientRedirectLimit(t *testing.T) {
	for _, hops := range []int{5, 6, 20} {
		s := startServer(t, "127.0.0.1:0", false, func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			if n < hops {
				http.Redirect(w, r, "/?n="+strconv.Itoa(n+1), http.StatusFound)
				return
			}
			io.WriteString(w, "done")
		})
		c := (&Policy{Allow: pfx("127.0.0.1/32")}).Client()
		_, body, err := get(t, c, s.URL+"/?n=0")
		if hops <= maxRedirects {
			if err != nil || string(body) != "done" {
				t.Errorf("%d redirects: %q, %v; want done", hops, body, err)
			}
		} else if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "more than 5 redirects") {
			t.Errorf("%d redirects: %v, want refusal after 5", hops, err)
		}
		// The first request and at most 5 redirects reach the server.
		if want := int64(min(hops, maxRedirects) + 1); s.reqs.Load() != want {
			t.Errorf("%d redirects: server saw %d requests, want %d", hops, s.reqs.Load(), want)
		}
	}
}

func TestClientHTTPSOnly(t *testing.T) {
	plain := startServer(t, "127.0.0.1:0", false, nil)
	secure := startServer(t, "127.0.0.1:0", true, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			http.Redirect(w, r, plain.URL+"/", http.StatusFound)
		case "/up":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	})
	p := &Policy{Allow: pfx("127.0.0.1/32"), HTTPSOnly: true}
	c := p.Client()
	trust(c, secure)

	if _, body, err := get(t, c, secure.URL+"/up"); err != nil || string(body) != "ok" {
		t.Fatalf("https redirect to https: %q, %v", body, err)
	}
	_, _, err := get(t, c, secure.URL+"/down")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "plain http is not allowed") {
		t.Errorf("https redirect to http: %v, want refusal", err)
	}
	_, _, err = get(t, c, plain.URL+"/")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "plain http is not allowed") {
		t.Errorf("plain http URL: %v, want refusal", err)
	}
	plain.untouched(t, "HTTPSOnly")

	// Without HTTPSOnly the same redirect is followed.
	p.HTTPSOnly = false
	c = p.Client()
	trust(c, secure)
	if _, _, err := get(t, c, secure.URL+"/down"); err != nil {
		t.Errorf("https redirect to http without HTTPSOnly: %v", err)
	}
}

func TestClientBodyCap(t *testing.T) {
	const max = 1000
	gz := func(n int) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(bytes.Repeat([]byte("a"), n))
		w.Close()
		return b.Bytes()
	}
	s := startServer(t, "127.0.0.1:0", false, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		switch r.URL.Path {
		case "/chunked":
			for range n {
				w.Write([]byte("a"))
				w.(http.Flusher).Flush()
			}
		case "/gzip": // a small response that inflates past the cap
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz(n))
		default:
			w.Header().Set("Content-Length", strconv.Itoa(n))
			w.Write(bytes.Repeat([]byte("a"), n))
		}
	})
	c := (&Policy{Allow: pfx("127.0.0.1/32"), MaxBody: max}).Client()
	for _, path := range []string{"/fixed", "/chunked", "/gzip"} {
		for _, n := range []int{0, 1, max - 1, max, max + 1, 10 * max} {
			_, body, err := get(t, c, s.URL+path+"?n="+strconv.Itoa(n))
			if n <= max {
				if err != nil || len(body) != n {
					t.Errorf("%s n=%d: read %d bytes, %v", path, n, len(body), err)
				}
				continue
			}
			if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrRefused) {
				t.Errorf("%s n=%d: %v, want ErrTooLarge", path, n, err)
			}
			if len(body) != max {
				t.Errorf("%s n=%d: read %d bytes before the error, want %d", path, n, len(body), max)
			}
		}
	}

	// The default cap is 10 MiB.
	c = (&Policy{Allow: pfx("127.0.0.1/32")}).Client()
	if _, body, err := get(t, c, s.URL+"/fixed?n="+strconv.Itoa(10<<20)); err != nil || len(body) != 10<<20 {
		t.Errorf("10 MiB: read %d bytes, %v", len(body), err)
	}
	if _, _, err := get(t, c, s.URL+"/fixed?n="+strconv.Itoa(10<<20+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("10 MiB + 1: %v, want ErrTooLarge", err)
	}
}

func TestCappedBodyReads(t *testing.T) {
	// Small reads, big reads and reads of exactly the remaining size.
	for _, size := range []int{1, 3, 7, 10, 11, 64} {
		b := &cappedBody{rc: io.NopCloser(strings.NewReader("0123456789")), left: 10, max: 10}
		got, err := io.ReadAll(&oneRead{b, size})
		if err != nil || string(got) != "0123456789" {
			t.Errorf("read size %d, exactly max: %q, %v", size, got, err)
		}
		b = &cappedBody{rc: io.NopCloser(strings.NewReader("0123456789X")), left: 10, max: 10}
		got, err = io.ReadAll(&oneRead{b, size})
		if !errors.Is(err, ErrTooLarge) || string(got) != "0123456789" {
			t.Errorf("read size %d, max+1: %q, %v", size, got, err)
		}
		if _, err := b.Read(make([]byte, 1)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("read after ErrTooLarge: %v", err)
		}
	}
	// A cap near the int64 limit must not overflow.
	b := &cappedBody{rc: io.NopCloser(strings.NewReader("abc")), left: 1<<63 - 1, max: 1<<63 - 1}
	if got, err := io.ReadAll(b); err != nil || string(got) != "abc" {
		t.Errorf("huge cap: %q, %v", got, err)
	}
}

// oneRead limits each Read to size bytes.
type oneRead struct {
	r    io.Reader
	size int
}

func (o *oneRead) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), o.size)]) }

func TestClientConfig(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	c := (&Policy{}).Client()
	tr := c.Transport.(*transport)
	if c.Timeout != 30*time.Second {
		t.Errorf("Timeout = %v, want 30s", c.Timeout)
	}
	if tr.maxBody != 10<<20 {
		t.Errorf("maxBody = %d, want 10 MiB", tr.maxBody)
	}
	b := tr.base
	if b.Proxy != nil {
		t.Error("Proxy is set")
	}
	//lint:ignore SA1019 the deprecated dialers must stay unset too
	if b.DialContext == nil || b.DialTLSContext != nil || b.DialTLS != nil || b.Dial != nil {
		t.Error("every connection must go through the guarded DialContext")
	}
	if b.TLSHandshakeTimeout != 10*time.Second || b.ResponseHeaderTimeout != 15*time.Second {
		t.Errorf("timeouts: TLS handshake %v, response header %v", b.TLSHandshakeTimeout, b.ResponseHeaderTimeout)
	}
	if d := tr.dialer; d.Timeout != 5*time.Second || d.Control == nil || d.ControlContext != nil {
		t.Errorf("dialer: timeout %v, Control set %v", d.Timeout, d.Control != nil)
	}
	r := &net.Resolver{}
	if d := (&Policy{Resolver: r}).Client().Transport.(*transport).dialer; d.Resolver != r {
		t.Error("dialer does not use the policy's resolver")
	}
	if c.CheckRedirect == nil {
		t.Error("no CheckRedirect")
	}
	if c := (&Policy{Timeout: time.Second}).Client(); c.Timeout != time.Second {
		t.Errorf("Timeout = %v, want 1s", c.Timeout)
	}
	if c := (*Policy)(nil).Client(); c.Timeout != 30*time.Second {
		t.Errorf("nil policy: Timeout = %v", c.Timeout)
	}

	// The client works on a copy: later edits of the policy do not leak in.
	p := &Policy{Allow: pfx("10.0.0.0/8")}
	c = p.Client()
	p.Allow[0] = netip.MustParsePrefix("127.0.0.0/8")
	if err := c.Transport.(*transport).p.Check(netip.MustParseAddrPort("127.0.0.1:80")); !errors.Is(err, ErrRefused) {
		t.Errorf("client saw a later change to the policy: %v", err)
	}
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := startServer(t, "127.0.0.1:0", false, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := (&Policy{Allow: pfx("127.0.0.1/32"), Timeout: 200 * time.Millisecond}).Client()
	_, _, err := get(t, c, s.URL)
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Errorf("slow server: %v, want a timeout", err)
	}
}

// TestClientErrorHidesSecrets: the refusal names the address, never the
// URL; the *url.Error net/http wraps it in masks the password.
func TestClientErrorHidesSecrets(t *testing.T) {
	c := (&Policy{}).Client()
	_, _, err := get(t, c, "http://user:hunter2@127.0.0.1:1/path?token=canary")
	var ue *url.Error
	if !errors.As(err, &ue) || !errors.Is(err, ErrRefused) {
		t.Fatalf("error %v, want a refusal in a *url.Error", err)
	}
	if inner := ue.Err.Error(); strings.Contains(inner, "hunter2") || strings.Contains(inner, "canary") || strings.Contains(inner, "user") {
		t.Errorf("refusal %q leaks the URL", inner)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q leaks the password", err)
	}
}
