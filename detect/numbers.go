package detect

import (
	"net/netip"
	"strings"
)

// The numeric detectors (cards, social security numbers, phone numbers,
// IPv4 addresses) share one pass that cuts the text into clusters: runs
// of digit groups joined by one separator (space, '-' or '.'), possibly
// with parentheses around a group, as in "+1 (555) 123-4567". A candidate
// is a run of consecutive groups of a cluster, so "4111 1111 1111 1111"
// is one candidate and the float 0.4539578763621486 is not a card.

// group is a run of digits within a cluster.
type group struct {
	start, end int  // the digits
	sep        byte // the separator before the group: ' ', '-', '.', or 0
	plain      bool // joined to the previous group by sep alone
	open       bool // a '(' precedes the digits
	paren      bool // the digits are enclosed in parentheses
}

type cluster struct {
	g      []group
	lo, hi int // the span of the cluster, parentheses included
}

func (c *cluster) len(k int) int { return c.g[k].end - c.g[k].start }

// from and to return where a candidate of groups k..e starts and ends.
func (c *cluster) from(k int) int {
	if c.g[k].paren {
		return c.g[k].start - 1
	}
	return c.g[k].start
}

func (c *cluster) to(e int) int {
	if c.g[e].paren {
		return c.g[e].end + 1
	}
	return c.g[e].end
}

func (s *scanner) numbers() {
	t := s.text
	c := cluster{g: s.gbuf[:0]}
	for i := 0; i < len(t); {
		if !isDigit(t[i]) {
			i++
			continue
		}
		s.iban(i)
		c.g = c.g[:0]
		pos := i
		var sep byte
		plain, open := false, i > 0 && t[i-1] == '('
		for {
			g := group{start: pos, sep: sep, plain: plain, open: open}
			for pos < len(t) && isDigit(t[pos]) {
				pos++
			}
			g.end = pos
			if open && pos < len(t) && t[pos] == ')' {
				g.paren = true
				pos++
			}
			c.g = append(c.g, g)
			k := pos
			sep = 0
			if k < len(t) && (t[k] == ' ' || t[k] == '-' || t[k] == '.') {
				sep = t[k]
				k++
			}
			open = sep != '.' && k < len(t) && t[k] == '('
			if open {
				k++
			}
			if k >= len(t) || !isDigit(t[k]) || sep == 0 && !open && !g.paren {
				break
			}
			plain = sep != 0 && !open && !g.paren
			pos = k
		}
		c.lo, c.hi = c.from(0), pos
		s.cards(&c)
		s.ssns(&c)
		s.phones(&c)
		s.ipv4s(&c)
		i = pos
	}
}

// leftOK reports whether a candidate may start at group k: inside a
// cluster only after a space; at its start not after a letter or digit,
// nor after one of the banned bytes, nor after a digit and a comma.
func (s *scanner) leftOK(c *cluster, k int, banned string) bool {
	if k > 0 {
		return c.g[k].sep == ' '
	}
	i := c.lo
	if i == 0 {
		return true
	}
	b := s.text[i-1]
	if isAlnum(b) || strings.IndexByte(banned, b) >= 0 {
		return false
	}
	return !(b == ',' && i >= 2 && isDigit(s.text[i-2]))
}

// rightOK reports whether a candidate may end at group e: inside a
// cluster only before a space; at its end not before a letter or digit,
// nor before a comma or point and a digit.
func (s *scanner) rightOK(c *cluster, e int) bool {
	if e < len(c.g)-1 {
		return c.g[e+1].sep == ' '
	}
	i := c.hi
	if i == len(s.text) {
		return true
	}
	b := s.text[i]
	if isAlnum(b) {
		return false
	}
	return !((b == ',' || b == '.') && i+1 < len(s.text) && isDigit(s.text[i+1]))
}

// digits returns the digits of groups k..e, at most len(s.buf) of them.
func (s *scanner) digits(c *cluster, k, e int) []byte {
	d := s.buf[:0]
	for _, g := range c.g[k : e+1] {
		if len(d)+g.end-g.start > len(s.buf) {
			return nil
		}
		d = append(d, s.text[g.start:g.end]...)
	}
	return d
}

// cards finds payment card numbers: 13 to 19 digits, in one group or in
// groups of 4 to 6 (the last of 3 to 6) joined by one kind of separator,
// Luhn-valid, of a known issuer and not a published test number.
func (s *scanner) cards(c *cluster) {
	for k := 0; k < len(c.g); {
		best := -1
		if !c.g[k].paren && s.leftOK(c, k, ".+-") {
			n := 0
			for e := k; e < len(c.g); e++ {
				g := c.g[e]
				if g.paren || e > k && (!g.plain || g.sep == '.' || g.sep != c.g[k+1].sep) {
					break
				}
				if e > k && (c.len(e-1) < 4 || c.len(e-1) > 6) {
					break
				}
				n += c.len(e)
				if n > 19 {
					break
				}
				if n >= 13 && (e == k || c.len(e) >= 3 && c.len(e) <= 6) && s.rightOK(c, e) && validCard(s.digits(c, k, e)) {
					best = e
				}
			}
		}
		if best < 0 {
			k++
			continue
		}
		start, end := c.from(k), c.to(best)
		conf := Medium
		if s.near(kwCard, start, end) {
			conf = High
		}
		s.add(CreditCard, conf, start, end, mask(s.text[start:end], 0, 4))
		k = best + 1
	}
}

func validCard(d []byte) bool {
	if len(d) < 13 || len(d) > 19 || !luhn(d) || !issuer(d) {
		return false
	}
	// Numbers of three or fewer distinct digits are test patterns
	// (4111111111111111, 5105105105105100, 4000000000000002, ...); a real
	// card number is one in millions to look like that.
	var seen [10]bool
	distinct := 0
	for _, b := range d {
		if !seen[b-'0'] {
			seen[b-'0'] = true
			distinct++
		}
	}
	if distinct <= 3 {
		return false
	}
	_, test := testCards[string(d)]
	return !test
}

func luhn(d []byte) bool {
	sum := 0
	for i := range d {
		v := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// issuer reports whether d starts with a known issuer identification
// number and has a length that issuer uses.
func issuer(d []byte) bool {
	n := len(d)
	p := func(k int) int {
		v := 0
		for _, b := range d[:k] {
			v = v*10 + int(b-'0')
		}
		return v
	}
	p2, p3, p4, p6 := p(2), p(3), p(4), p(6)
	switch {
	case d[0] == '4': // Visa, Visa Electron
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34, p2 == 37: // American Express
		return n == 15
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925: // Discover
		return n >= 16
	case p2 == 62: // UnionPay
		return n >= 16
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16
	case p3 >= 300 && p3 <= 305, p4 == 3095, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		return n >= 14
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763: // Maestro
		return true
	case p4 == 5019: // Dankort
		return n == 16
	case p4 >= 2200 && p4 <= 2204: // Mir
		return n >= 16
	}
	return false
}

// testCards are the card numbers the issuers and payment processors
// publish for testing; like Macie, never report them. Numbers of three
// or fewer distinct digits are excluded by rule and need no entry.
var testCards = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, n := range strings.Fields(`
		4012888888881881 4000056655665556 4005519200000004 4009348888881881 4012000033330026
		4012000077777777 4217651111111119 4500600000000061 4000002500003155 4000002760003184
		4000000760000002 4000001240000000 4000008260000000 4000008400001629 4917610000000000
		4462030000000000 4484070000000000 4917300800000000 4571000000000001 4000000000003220
		4000000000009995 4000000000000341 4000000000000127 4000000000000069 4000000000000119
		4000000000000101 4000000000000259 4000000000003063 4000000000003089 4000000000003055
		5200828282828210 2223003122003222 2223000048400011 5431111111111111 5424000000000015
		5123456789012346 2222400010000008 5555341244441115 5577000055770004 5136333333333335
		5185540000000019 5204740000001002 5200000000001096
		378282246310005 371449635398431 378734493671000 371238839571772
		6011111111111117 6011000990139424 6011981111111113 6011601160116611 6445644564456445
		30569309025904 38520000023237 3056930009020004 36227206271667 36148900647913
		36006666333344 36259600000004
		3530111333300000 3566002020360505 3566111111111113 3569990010095841 3528000700000000
		3566000020000410
		6200000000000005 6205500000000000004 6212345678901232 6212345678901265 6250941006528599
		6222821234560017 6200000000000047
		6759649826438453 6759411100000008
		5019717010103742`) {
		m[n] = struct{}{}
	}
	return m
}()

// ssns finds US social security numbers next to a keyword: ddd-dd-dddd
// (or with spaces or points) or nine bare digits, not of an unissued
// area, group or serial.
func (s *scanner) ssns(c *cluster) {
	for k := range c.g {
		if c.g[k].paren || !s.leftOK(c, k, ".+-") {
			continue
		}
		e, conf := -1, Medium
		if k+2 < len(c.g) && c.len(k) == 3 && c.len(k+1) == 2 && c.len(k+2) == 4 &&
			c.g[k+1].plain && c.g[k+2].plain && c.g[k+1].sep == c.g[k+2].sep && s.rightOK(c, k+2) {
			e, conf = k+2, High
		} else if c.len(k) == 9 && s.rightOK(c, k) {
			e = k
		}
		if e < 0 || !validSSN(s.digits(c, k, e)) {
			continue
		}
		start, end := c.from(k), c.to(e)
		if s.near(kwSSN, start, end) {
			s.add(SSN, conf, start, end, mask(s.text[start:end], 0, 0))
		}
	}
}

func validSSN(d []byte) bool {
	if len(d) != 9 {
		return false
	}
	area, group, serial := string(d[:3]), string(d[3:5]), string(d[5:])
	switch {
	case area == "000", area == "666", area[0] == '9', group == "00", serial == "0000":
		return false
	case strings.Count(string(d), string(d[:1])) == 9:
		return false
	}
	switch string(d) {
	case "123456789", // the usual made-up number
		"078051120", // printed on a wallet insert in 1938, voided
		"219099999": // used in an advertisement, voided
		return false
	}
	return true
}

// phones finds E.164 numbers ('+' and 8 to 15 digits) anywhere, and
// national numbers only next to a keyword: North American (555) 123-4567,
// 555-123-4567, 1-555-123-4567, and trunk-prefixed 020 7946 0958. A bare
// run of digits is never a phone number.
func (s *scanner) phones(c *cluster) {
	t := s.text
	if p := c.lo - 1; p >= 0 && t[p] == '+' && (p == 0 || !isAlnum(t[p-1]) && t[p-1] != '+') && !c.g[0].paren && t[c.g[0].start] != '0' {
		n := 0
		for e := range c.g {
			n += c.len(e)
		}
		if n >= 8 && n <= 15 && s.rightOK(c, len(c.g)-1) {
			end := c.hi
			s.add(Phone, High, p, end, mask(t[p:end], 0, 2))
			return
		}
	}
	for k := 0; k < len(c.g); k++ {
		if !s.leftOK(c, k, ".+") {
			continue
		}
		e := s.nanp(c, k)
		if e < 0 && c.len(k) == 1 && t[c.g[k].start] == '1' && k+1 < len(c.g) && !c.g[k].paren {
			e = s.nanp(c, k+1)
		}
		if e < 0 {
			e = s.trunk(c, k)
		}
		if e < 0 {
			continue
		}
		start, end := c.from(k), c.to(e)
		if s.near(kwPhone, start, end) {
			s.add(Phone, Medium, start, end, mask(t[start:end], 0, 2))
		}
		k = e
	}
}

// nanp matches a North American number whose area code is group a and
// returns its last group, or -1.
func (s *scanner) nanp(c *cluster, a int) int {
	if a+2 >= len(c.g) || c.len(a) != 3 || c.len(a+1) != 3 || c.len(a+2) != 4 {
		return -1
	}
	ex, line := c.g[a+1], c.g[a+2]
	if ex.open || line.open || !line.plain || !ex.plain && !(c.g[a].paren && ex.sep != '.') {
		return -1
	}
	if c.g[a].open && !c.g[a].paren {
		return -1
	}
	// Area codes start with 2 to 9. (So do exchanges, but the fictional
	// 555-123-4567 is how people write examples, and tests.)
	if s.text[c.g[a].start] < '2' || !s.rightOK(c, a+2) {
		return -1
	}
	return a + 2
}

// trunk matches a national number with a trunk prefix 0 from group k, in
// groups of 2 to 5 digits, 9 to 12 digits in all, and returns its last
// group, or -1.
func (s *scanner) trunk(c *cluster, k int) int {
	if s.text[c.g[k].start] != '0' || c.g[k].open && !c.g[k].paren {
		return -1
	}
	n, best := 0, -1
	for e := k; e < len(c.g); e++ {
		g := c.g[e]
		if c.len(e) < 2 || c.len(e) > 5 {
			break
		}
		if e > k && (g.open || !(g.plain && g.sep != '.' || e == k+1 && c.g[k].paren && g.sep != '.')) {
			break
		}
		if n += c.len(e); n > 12 {
			break
		}
		if n >= 9 && e > k && s.rightOK(c, e) {
			best = e
		}
	}
	return best
}

// ipv4s finds dotted quads that net/netip accepts (no leading zeros).
func (s *scanner) ipv4s(c *cluster) {
	for k := 0; k+3 < len(c.g); k++ {
		ok := s.leftOK(c, k, ".") && s.rightOK(c, k+3)
		for m := k; ok && m <= k+3; m++ {
			g := c.g[m]
			ok = c.len(m) <= 3 && !g.open && !g.paren && (m == k || g.plain && g.sep == '.')
		}
		if !ok {
			continue
		}
		start, end := c.g[k].start, c.g[k+3].end
		a, err := netip.ParseAddr(s.text[start:end])
		if err != nil {
			continue
		}
		// "firmware 2.4.1.0" is a version, unless an address word is near too.
		if s.near(kwVersion, start, end) && !s.near(kwIPWord, start, end) {
			continue
		}
		s.add(IPAddress, ipConfidence(a), start, end, mask(s.text[start:end], c.len(k), 0))
		k += 3
	}
}
