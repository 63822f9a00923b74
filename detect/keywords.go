package detect

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxGap is how near a keyword must be to a candidate, in characters,
// before or after it (Macie's proximity rule).
const maxGap = 30

// kwSet names a list of keywords.
type kwSet uint8

const (
	kwCard kwSet = iota
	kwSSN
	kwPhone
	kwPassport
	kwAWSSecret
	kwGeneric
	kwVersion // a dotted quad next to these is a version, not an address
	kwIPWord  // ... unless these say otherwise
	kwPassword
	kwSets
)

// keywords are written folded (see fold): lower case, with a space
// standing for any of space, '_' and '-', so "api key" also finds
// "API_KEY" and "x-api-key". A keyword matches as a word: not inside a
// longer word, though a camel-case hump ("dbPassword") and a plural "s"
// count as word boundaries.
var keywords = [kwSets][]string{
	kwCard: {"card", "cardnumber", "cardno", "creditcard", "credit", "debit", "cc#", "ccn", "ccnum", "cc no",
		"cc number", "pan", "visa", "mastercard", "master card", "amex", "american express", "discover",
		"jcb", "diners", "unionpay", "union pay", "maestro", "payment", "cardholder", "cvv", "cvc"},
	kwSSN:      {"ssn", "ssn#", "ss#", "ssid", "social security", "socialsecurity", "social sec", "ssnumber"},
	kwPhone:    {"phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax", "call", "phonenumber"},
	kwPassport: {"passport", "passportno", "passportnumber", "passportnum"},
	kwAWSSecret: {"aws secret access key", "secret access key", "secretaccesskey", "secret key", "secretkey",
		"aws secret", "awssecret", "credentials", "credential", "set awscredential"},
	kwGeneric: {"secret", "token", "api key", "apikey", "password", "passwd", "private", "bearer", "auth",
		"authorization", "access key", "accesskey", "authtoken"},
	kwVersion: {"version", "ver", "firmware", "fw", "release", "rev", "revision", "build", "section", "chapter",
		"clause", "oid"},
	kwIPWord:   {"ip", "ipv4", "ipv6", "address", "addr", "host", "server", "gateway", "gw", "subnet", "dns", "netmask"},
	kwPassword: {"password", "passwd", "pwd", "accountkey", "account key", "sharedaccesskey", "shared access key"},
}

// keywordsByFirst groups each set's keywords by their first byte, for a
// search that jumps from one occurrence of that byte to the next.
type keywordGroup struct {
	first byte
	words []string
}

var (
	keywordsByFirst [kwSets][]keywordGroup
	firstBytes      [kwSets][256]bool // first bytes of the keywords, both cases
	maxKeywordLen   int
)

func init() {
	for set, list := range keywords {
		for _, k := range list {
			maxKeywordLen = max(maxKeywordLen, len(k))
			firstBytes[set][k[0]] = true
			firstBytes[set][k[0]-'a'+'A'] = true
			groups := &keywordsByFirst[set]
			i := slices.IndexFunc(*groups, func(g keywordGroup) bool { return g.first == k[0] })
			if i < 0 {
				*groups = append(*groups, keywordGroup{first: k[0]})
				i = len(*groups) - 1
			}
			(*groups)[i].words = append((*groups)[i].words, k)
		}
	}
}

// Byte classes.
const (
	cDigit = 1 << iota
	cUpper
	cLower
	cToken // in a generic secret: + / _ -
)

var class = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = cUpper
		t[c+'a'-'A'] = cLower
	}
	for _, c := range "+/_-" {
		t[c] = cToken
	}
	return t
}()

func isDigit(c byte) bool  { return class[c] == cDigit }
func isUpper(c byte) bool  { return class[c] == cUpper }
func isLower(c byte) bool  { return class[c] == cLower }
func isLetter(c byte) bool { return class[c]&(cUpper|cLower) != 0 }
func isAlnum(c byte) bool  { return class[c]&(cDigit|cUpper|cLower) != 0 }

// byteSet returns a table of the bytes in chars, for loops that stop at
// any of them.
func byteSet(chars string) (t *[256]bool) {
	t = new([256]bool)
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}

// fold maps a byte for keyword search: ASCII to lower case, '_' and '-'
// to a space.
var fold = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c + 'a' - 'A')
	}
	t['_'], t['-'] = ' ', ' '
	return t
}()

// keywordAt returns the longest keyword of set that stands as a word at
// offset i, matching case-insensitively and with a space in a keyword
// matching any of space, '_' and '-'; "" if none.
func (s *scanner) keywordAt(set kwSet, i int) string {
	t := s.text
	found := ""
	for _, g := range keywordsByFirst[set] {
		if fold[t[i]] != g.first {
			continue
		}
	words:
		for _, k := range g.words {
			if i+len(k) > len(t) {
				continue
			}
			for j := 1; j < len(k); j++ {
				if fold[t[i+j]] != k[j] {
					continue words
				}
			}
			if len(k) > len(found) && s.isWord(i, i+len(k)) {
				found = k
			}
		}
	}
	return found
}

// keywordsOf returns where the keywords of set occur, ordered by offset.
func (s *scanner) keywordsOf(set kwSet) []span {
	if s.kwHas&(1<<set) != 0 {
		return s.kw[set]
	}
	s.kwHas |= 1 << set
	var occ []span
	for _, g := range keywordsByFirst[set] {
		for _, c := range [2]byte{g.first, g.first - 'a' + 'A'} {
			for from := 0; ; {
				i := strings.IndexByte(s.text[from:], c)
				if i < 0 {
					break
				}
				i += from
				from = i + 1
				if k := s.keywordAt(set, i); k != "" {
					occ = append(occ, span{i, i + len(k)})
				}
			}
		}
	}
	slices.SortFunc(occ, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	s.kw[set] = occ
	return occ
}

// isWord reports whether text[i:j] stands as a word: no letter joins it
// on either side, except at a camel-case hump or a plural "s".
func (s *scanner) isWord(i, j int) bool {
	t := s.text
	if i > 0 && isLetter(t[i-1]) && isLetter(t[i]) && !(isLower(t[i-1]) && isUpper(t[i])) {
		return false
	}
	if j < len(t) && isLetter(t[j-1]) && isLetter(t[j]) {
		if isLower(t[j-1]) && isUpper(t[j]) {
			return true
		}
		if t[j] == 's' || t[j] == 'S' {
			return j+1 == len(t) || !isLetter(t[j+1]) || isLower(t[j]) && isUpper(t[j+1])
		}
		return false
	}
	return true
}

// near reports whether a keyword of set lies within maxGap characters of
// text[start:end], before, after or overlapping it.
func (s *scanner) near(set kwSet, start, end int) bool {
	reach := maxGap * utf8.UTFMax
	// A few questions are answered by looking around the candidate; many
	// (a document full of numbers) by listing the keywords once.
	if s.kwHas&(1<<set) == 0 && (s.asked[set] < windowQueries || len(s.text) < windowText) {
		s.asked[set]++
		lo, hi := max(0, start-reach-maxKeywordLen), min(len(s.text), end+reach)
		for i := lo; i < hi; i++ {
			if !firstBytes[set][s.text[i]] {
				continue
			}
			if k := s.keywordAt(set, i); k != "" && s.close(span{i, i + len(k)}, start, end) {
				return true
			}
		}
		return false
	}
	occ := s.keywordsOf(set)
	i, _ := slices.BinarySearchFunc(occ, start-reach-maxKeywordLen, func(o span, v int) int { return cmp.Compare(o.start, v) })
	for ; i < len(occ) && occ[i].start <= end+reach; i++ {
		if s.close(occ[i], start, end) {
			return true
		}
	}
	return false
}

// How near answers: by a window around the candidate for the first
// windowQueries questions about a set, or always in a text shorter than
// windowText; then from the full list.
const (
	windowQueries = 16
	windowText    = 1024
)

// close reports whether keyword occurrence o is within maxGap characters
// of text[start:end], or overlaps it.
func (s *scanner) close(o span, start, end int) bool {
	switch {
	case o.end <= start:
		return s.within(o.end, start)
	case o.start >= end:
		return s.within(end, o.start)
	}
	return true
}

// within reports whether text[i:j] is at most maxGap characters long.
func (s *scanner) within(i, j int) bool {
	switch n := j - i; {
	case n <= maxGap:
		return true
	case n > maxGap*utf8.UTFMax:
		return false
	}
	return utf8.RuneCountInString(s.text[i:j]) <= maxGap
}

// back returns the offset n characters before i (or 0).
func (s *scanner) back(i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s.text[:i])
		i -= size
	}
	return i
}

// fwd returns the offset n characters after i (or the end).
func (s *scanner) fwd(i, n int) int {
	for ; n > 0 && i < len(s.text); n-- {
		_, size := utf8.DecodeRuneInString(s.text[i:])
		i += size
	}
	return i
}
