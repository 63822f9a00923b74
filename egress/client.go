package egress

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Client returns an *http.Client whose every connection passes Check, with the timeouts, redirect checks,
// no proxy, and a body cap (reading past MaxBody fails with an error wrapping ErrTooLarge).
//
// The client works on a copy of p taken now; later changes to p do not affect it. Beyond Check, it
// refuses (with ErrRefused) schemes other than http and https (and http under HTTPSOnly), more than
// 5 redirects, the names localhost and *.localhost, and hosts whose last label is a number
// ("127.1", "2130706433", "0x7f000001"), which the system resolver would read as IPv4 addresses but
// Go's would not. Errors from the client are *url.Error values whose text holds the request URL with
// any password masked by net/http but its query intact: log the wrapped error, not the *url.Error.
func (p *Policy) Client() *http.Client {
	if p == nil {
		p = &Policy{}
	}
	pol := *p
	pol.Allow = slices.Clone(p.Allow)
	pol.AllowPorts = slices.Clone(p.AllowPorts)
	timeout := pol.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	maxBody := pol.MaxBody
	if maxBody <= 0 {
		maxBody = defaultMaxBody
	}

	d := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
		Resolver:  pol.Resolver,
		Control:   pol.control, // sees every candidate address of a name, after resolution
	}
	base := &http.Transport{
		Proxy:                  nil, // never from the environment
		DialContext:            pol.dialContext(d),
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pol.RootCAs},
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           100,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     &transport{p: &pol, base: base, dialer: d, maxBody: maxBody},
		CheckRedirect: pol.checkRedirect,
		Timeout:       timeout,
	}
}

// control is the net.Dialer.Control hook: address is the literal IP and
// port about to be connected to.
func (p *Policy) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %s is not allowed", ErrRefused, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address", ErrRefused)
	}
	return p.Check(ap)
}

// dialContext checks an IP-literal destination before dialing, so it is
// refused even where its address family has no socket support, then dials
// through d, whose Control checks every resolved address.
func (p *Policy) dialContext(d *net.Dialer) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(address); err == nil {
			ip, err1 := netip.ParseAddr(host)
			n, err2 := strconv.ParseUint(port, 10, 16)
			if err1 == nil && err2 == nil {
				if err := p.Check(netip.AddrPortFrom(ip, uint16(n))); err != nil {
					return nil, &net.OpError{Op: "dial", Net: network, Err: err}
				}
			}
		}
		return d.DialContext(ctx, network, address)
	}
}

func (p *Policy) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRefused, maxRedirects)
	}
	return p.checkURL(req.URL)
}

// checkURL applies the rules that need the URL rather than the address.
func (p *Policy) checkURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
	case "http":
		if p.HTTPSOnly {
			return fmt.Errorf("%w: plain http is not allowed (https only)", ErrRefused)
		}
	default:
		return fmt.Errorf("%w: scheme %q is not allowed", ErrRefused, u.Scheme)
	}
	return checkHost(u.Hostname())
}

// checkHost refuses host names that are loopback by definition (RFC 6761)
// and numeric names that resolvers disagree on: getaddrinfo reads
// "127.1" or "0x7f000001" as 127.0.0.1 (inet_aton), Go's resolver calls
// them invalid. No top-level domain is numeric (RFC 3696), so no real name
// is lost. IP literals pass here; the dialer checks them.
func checkHost(host string) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") ||
		h == "localhost.localdomain" || strings.HasSuffix(h, ".localhost.localdomain") {
		return fmt.Errorf("%w: %q is a loopback name", ErrRefused, host)
	}
	if isNumber(h[strings.LastIndexByte(h, '.')+1:]) {
		return fmt.Errorf("%w: %q is neither a standard IP address nor a DNS name", ErrRefused, host)
	}
	return nil
}

// isNumber reports whether s is a number in C notation: decimal, octal
// with a leading 0, or hexadecimal with a leading 0x.
func isNumber(s string) bool {
	hex := len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
	if hex {
		s = s[2:]
	} else if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case '0' <= c && c <= '9':
		case hex && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
		default:
			return false
		}
	}
	return true
}

// transport applies the URL rules to every request, redirect hops
// included, and caps response bodies.
type transport struct {
	p       *Policy
	base    *http.Transport
	dialer  *net.Dialer // the one base dials through
	maxBody int64
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.p.checkURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on errors
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.Body != nil {
		resp.Body = &cappedBody{rc: resp.Body, left: t.maxBody, max: t.maxBody}
	}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base transport.
func (t *transport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// cappedBody fails with ErrTooLarge once more than max bytes are read.
type cappedBody struct {
	rc   io.ReadCloser
	left int64 // bytes still allowed
	max  int64
	err  error // sticky ErrTooLarge
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left+1] // one byte more than allowed tells "exactly max" from "too large"
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		n = int(b.left)
		b.left = 0
		b.err = fmt.Errorf("%w: body exceeds %d bytes", ErrTooLarge, b.max)
		return n, b.err
	}
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
