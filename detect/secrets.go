package detect

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strings"
)

// privateKeys finds PEM and PGP private key blocks: the header
// "-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----"
// through its matching footer, or the header alone if the footer is
// missing.
func (s *scanner) privateKeys() {
	t := s.text
	const begin = "-----BEGIN "
	nextEnd := -1 // offset of the next "-----END " at or after the last header; len(t) if none
	for i := 0; i < len(t); {
		j := strings.Index(t[i:], begin)
		if j < 0 {
			return
		}
		j += i
		i = j + len(begin)
		rest := t[i:]
		label := ""
		for _, p := range []string{"RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP "} {
			if strings.HasPrefix(rest, p) {
				label = p
				break
			}
		}
		rest = rest[len(label):]
		if !strings.HasPrefix(rest, "PRIVATE KEY") {
			continue
		}
		label += "PRIVATE KEY"
		rest = rest[len("PRIVATE KEY"):]
		if strings.HasPrefix(rest, " BLOCK") {
			label += " BLOCK"
			rest = rest[len(" BLOCK"):]
		}
		if !strings.HasPrefix(rest, "-----") {
			continue
		}
		end := i + len(label) + len("-----")
		// The search for footers only moves forward, so text full of
		// headers without footers stays linear.
		if nextEnd < end {
			if k := strings.Index(t[end:], "-----END "); k >= 0 {
				nextEnd = end + k
			} else {
				nextEnd = len(t)
			}
		}
		if footer := "-----END " + label + "-----"; strings.HasPrefix(t[nextEnd:], footer) {
			end = nextEnd + len(footer)
		}
		s.add(PrivateKey, High, j, end, label+" ****")
		i = end
	}
}

func isB64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

// jwts finds JSON web tokens: dot-separated base64url parts (three for a
// signed token, five for an encrypted one) whose first part decodes to a
// JSON object with an "alg" member.
func (s *scanner) jwts() {
	t := s.text
	for i := 0; i < len(t); {
		j := strings.Index(t[i:], "eyJ")
		if j < 0 {
			return
		}
		j += i
		end := j
		for end < len(t) && (isB64URL(t[end]) || t[end] == '.') {
			end++
		}
		// Any later "eyJ" in this run is inside it: skip the whole run.
		i = end
		if j > 0 && (isB64URL(t[j-1]) || t[j-1] == '.') {
			continue
		}
		parts := strings.Split(t[j:end], ".")
		if len(parts) == 4 && parts[3] == "" { // a full stop after the token
			parts, end = parts[:3], end-1
		}
		// A signed token has a payload; an encrypted one may have an
		// empty key part ("dir").
		if (len(parts) != 3 && len(parts) != 5) || len(parts[0]) < 10 || !jwtHeader(parts[0]) {
			continue
		}
		if _, err := base64.RawURLEncoding.DecodeString(parts[1]); len(parts) == 3 && (parts[1] == "" || err != nil) {
			continue
		}
		s.add(JWT, High, j, end, "eyJ****.****.****")
	}
}

func jwtHeader(p string) bool {
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return false
	}
	var h map[string]json.RawMessage
	if json.Unmarshal(b, &h) != nil {
		return false
	}
	_, ok := h["alg"]
	return ok
}

// awsKeyIDs finds AWS access key IDs: a known four-letter prefix and 16
// characters of base32, as a word of its own.
func (s *scanner) awsKeyIDs() {
	t := s.text
	for i := 0; i+20 <= len(t); {
		j := strings.IndexByte(t[i:], 'A')
		if j < 0 {
			return
		}
		j += i
		i = j + 1
		if j+20 > len(t) {
			return
		}
		switch t[j : j+4] {
		case "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA":
		default:
			continue
		}
		if j > 0 && isAlnum(t[j-1]) || j+20 < len(t) && isAlnum(t[j+20]) {
			continue
		}
		id := t[j : j+20]
		if !base32(id[4:]) || strings.HasSuffix(id, "EXAMPLE") || distinct(id[4:]) < 4 {
			// AKIAIOSFODNN7EXAMPLE and the like are from the AWS
			// documentation; AKIAXXXXXXXXXXXXXXXX is a placeholder.
			continue
		}
		s.add(AWSAccessKey, High, j, j+20, prefixed(id, 4))
		i = j + 20
	}
}

func base32(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isUpper(c) && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

func distinct(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}

// tokens cuts the text into runs of [A-Za-z0-9+/_-] (with up to two '='
// of base64 padding) and judges each as an AWS secret access key (40
// characters of [A-Za-z0-9+/] next to an AWS keyword) or as a generic
// secret (20 or more characters of high entropy next to a secret keyword).
func (s *scanner) tokens() {
	t := s.text
	for i := 0; i < len(t); {
		if class[t[i]] == 0 {
			i++
			continue
		}
		j, seen := i, uint8(0)
		for j < len(t) && class[t[j]] != 0 {
			seen |= class[t[j]]
			j++
		}
		end := j
		for end < len(t) && end-j < 2 && t[end] == '=' {
			end++
		}
		if end < len(t) && class[t[end]] != 0 { // "key=value": an assignment, not padding
			end = j
		}
		if n := end - i; n >= 20 && seen&cDigit != 0 && seen&(cUpper|cLower) != 0 {
			if !(n == 40 && end == j && s.awsSecret(i, end, seen)) && !strings.Contains(t[i:end], "EXAMPLE") {
				s.genericSecret(i, end)
			}
		}
		i = max(end, i+1)
	}
}

func (s *scanner) awsSecret(start, end int, seen uint8) bool {
	tok := s.text[start:end]
	if seen&cUpper == 0 || seen&cLower == 0 || strings.ContainsAny(tok, "_-") || strings.Contains(tok, "EXAMPLE") {
		// wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and
		// je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY are the AWS
		// documentation's; a SHA-1 in hex has no upper case.
		return false
	}
	if entropy(tok) < 3.5 || !s.near(kwAWSSecret, start, end) {
		return false
	}
	s.add(AWSSecretKey, High, start, end, prefixed(tok, 2))
	return true
}

// maxSecret bounds a generic secret: longer runs are data (images, blobs
// in base64), and private keys and tokens have their own detectors.
const maxSecret = 512

func (s *scanner) genericSecret(start, end int) {
	t := s.text
	tok := t[start:end]
	if len(tok) > maxSecret || isUUID(tok) {
		return
	}
	// Dotted names, hosts and file names: "example.com/api/v1/tokens".
	if start > 0 && t[start-1] == '.' || end < len(t) && t[end] == '.' && end+1 < len(t) && isAlnum(t[end+1]) {
		return
	}
	if pathLike(tok) || emptyHashes[tok] || !s.near(kwGeneric, start, end) || entropy(tok) < 3.5 || !random(tok) {
		return
	}
	// A data URI carries a file, and an ARN names a resource.
	if strings.HasSuffix(t[:start], ";base64,") {
		return
	}
	w := start
	for w > 0 && start-w < 256 && !wordBreak[t[w-1]] {
		w--
	}
	word := t[w:start]
	if len(word) >= 4 && strings.EqualFold(word[:4], "arn:") {
		return
	}
	s.add(GenericSecret, Medium, start, end, prefixed(tok, 2))
}

// emptyHashes are the SHA-256, SHA-1 and MD5 of nothing, which signing
// examples and logs are full of.
var emptyHashes = map[string]bool{
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855": true,
	"da39a3ee5e6b4b0d3255bfef95601890afd80709":                         true,
	"d41d8cd98f00b204e9800998ecf8427e":                                 true,
}

var wordBreak = byteSet(" \t\r\n\"'`<>()[]{},;")

// entropy returns the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	var counts [256]int32
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n, h := float64(len(s)), 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isDigit(c) && (c|0x20 < 'a' || c|0x20 > 'f') {
				return false
			}
		}
	}
	return true
}

// pathLike reports whether tok reads as a path rather than base64: it has
// slashes, and no upper case or two alphabetic segments of 3 or more.
func pathLike(tok string) bool {
	if !strings.Contains(tok, "/") {
		return false
	}
	upper, alpha := false, 0
	for seg := range strings.SplitSeq(tok, "/") {
		letters := len(seg) >= 3
		for i := 0; i < len(seg); i++ {
			upper = upper || isUpper(seg[i])
			letters = letters && isLetter(seg[i])
		}
		if letters {
			alpha++
		}
	}
	return !upper || alpha >= 2
}

// random reports whether tok reads as generated rather than as a name.
// Words joined by '_' or '-' (snake) make a name, as in
// "tls_private_key_path_v2" and "AWS4-ECDSA-P256-SHA256"; then digits
// scattered among letters (three or more changes between letter and
// digit) say generated; else long words (wordy) or camel-case ones
// (camel, "tlsPrivateKeyPathV2") make a name.
func random(tok string) bool {
	if snake(tok) {
		return false
	}
	changes := 0
	for i := 1; i < len(tok); i++ {
		if isDigit(tok[i]) && isLetter(tok[i-1]) || isLetter(tok[i]) && isDigit(tok[i-1]) {
			changes++
		}
	}
	return changes >= 3 || !(wordy(tok) || camel(tok))
}

// snake reports whether tok is two or more '_' or '-' separators between
// words, each of one case and with any digits at its end (line12, V2).
func snake(tok string) bool {
	if strings.Count(tok, "_")+strings.Count(tok, "-") < 2 {
		return false
	}
	for seg := range strings.FieldsFuncSeq(tok, func(r rune) bool { return r == '_' || r == '-' }) {
		i := 0
		if i < len(seg) && isUpper(seg[i]) {
			i++
		}
		lower := i < len(seg) && isLower(seg[i])
		for i < len(seg) && isLetter(seg[i]) && (isLower(seg[i]) == lower) {
			i++
		}
		for i < len(seg) && isDigit(seg[i]) {
			i++
		}
		if i < len(seg) {
			return false
		}
	}
	return true
}

// camel reports whether tok is camel-case words: at least 80% of its
// letters in parts (split at humps, digits and symbols) of three or more
// letters with a vowel.
func camel(tok string) bool {
	letters, inWords := wordLetters(tok, 3, 1)
	return letters > 0 && 5*inWords >= 4*letters
}

// wordy reports whether tok is made of words: at least half of its
// letters are in runs of five or more (split at camel-case humps) with two
// or more vowels, as in "Temperature_Sensor_North_7". Random strings
// rarely have such runs.
func wordy(tok string) bool {
	letters, inWords := wordLetters(tok, 5, 2)
	return letters > 0 && 2*inWords >= letters
}

// wordLetters splits tok into runs of letters (at camel-case humps,
// digits and symbols) and counts its letters and those in runs of at
// least minLen letters with at least minVowels vowels (y counted).
func wordLetters(tok string, minLen, minVowels int) (letters, inWords int) {
	for i := 0; i < len(tok); {
		if !isLetter(tok[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(tok) && isLetter(tok[j]) && !(isLower(tok[j-1]) && isUpper(tok[j])) {
			j++
		}
		letters += j - i
		if j-i >= minLen && vowels(tok[i:j]) >= minVowels {
			inWords += j - i
		}
		i = j
	}
	return letters, inWords
}

// vowels counts the vowels of s, y among them.
func vowels(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] | 0x20 {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			n++
		}
	}
	return n
}

// connURLs finds the password in scheme://user:password@host.
func (s *scanner) connURLs() {
	t := s.text
	for i := 0; i < len(t); {
		j := strings.Index(t[i:], "://")
		if j < 0 {
			return
		}
		j += i
		i = j + 3
		// A scheme: a letter, then letters, digits, '+', '-' or '.'.
		k := j
		for k > 0 && j-k < 32 && (isAlnum(t[k-1]) || t[k-1] == '+' || t[k-1] == '-' || t[k-1] == '.') {
			k--
		}
		if k == j || !isLetter(t[k]) {
			continue
		}
		// The authority runs to the first '/', '?', '#' or space; the
		// user information to its last '@'.
		a := i
		for a < len(t) && !authorityEnd[t[a]] {
			a++
		}
		at := strings.LastIndexByte(t[i:a], '@')
		if at < 0 {
			continue
		}
		at += i
		colon := strings.IndexByte(t[i:at], ':')
		if colon < 0 {
			continue
		}
		pw := i + colon + 1
		if placeholder(t[pw:at]) {
			continue
		}
		s.add(ConnPassword, High, pw, at, "********")
	}
}

var authorityEnd = byteSet("/?#\"'`<> \t\r\n")

// connPairs finds the value of a password key in key=value form, as in
// ODBC and ADO connection strings: "Server=x;User Id=u;Password=secret;",
// "Pwd={se;cret}", Azure's "AccountKey=...". It starts from each '=',
// which most text has few of.
func (s *scanner) connPairs() {
	t := s.text
	for i := 0; i < len(t); {
		eq := strings.IndexByte(t[i:], '=')
		if eq < 0 {
			return
		}
		eq += i
		i = eq + 1
		if eq+1 < len(t) && t[eq+1] == '=' || eq > 0 && strings.IndexByte("=!<>", t[eq-1]) >= 0 { // a comparison
			i = eq + 2
			continue
		}
		if !s.passwordKey(eq) {
			continue
		}
		k := eq + 1
		for k < len(t) && (t[k] == ' ' || t[k] == '\t') {
			k++
		}
		if k >= len(t) {
			return
		}
		start, end := k, -1
		switch t[k] {
		case '"', '\'', '{':
			if strings.HasPrefix(t[k:], "{{") { // a template
				continue
			}
			closer := t[k]
			if closer == '{' {
				closer = '}'
			}
			if c := strings.IndexByte(t[k+1:min(len(t), k+258)], closer); c >= 0 {
				start, end = k+1, k+1+c
			}
		default:
			end = k
			for end < len(t) && end-k < 256 && !valueEnd[t[end]] {
				end++
			}
		}
		if end <= start {
			continue
		}
		v := t[start:end]
		if placeholder(v) || (v[0] == '/' || v[0] == '~') && s.keyIs(eq, "pwd") { // PWD=/home/user is a directory
			continue
		}
		s.add(ConnPassword, High, start, end, "********")
	}
}

var valueEnd = byteSet(";&,\"'`<> \t\r\n")

// passwordKey reports whether the '=' at eq follows a password key, as a
// word: "Password", "db_password", "dbPassword", "PWD", "AccountKey".
func (s *scanner) passwordKey(eq int) bool {
	e := eq
	for e > 0 && eq-e < 3 && (s.text[e-1] == ' ' || s.text[e-1] == '\t') {
		e--
	}
	for _, k := range keywords[kwPassword] {
		if i := e - len(k); i >= 0 && s.keywordAt(kwPassword, i) == k {
			return true
		}
	}
	return false
}

// keyIs reports whether the key before the '=' at eq ends in k.
func (s *scanner) keyIs(eq int, k string) bool {
	e := eq
	for e > 0 && (s.text[e-1] == ' ' || s.text[e-1] == '\t') {
		e--
	}
	return e >= len(k) && strings.EqualFold(s.text[e-len(k):e], k)
}

// placeholder reports whether a password value is a stand-in rather than
// a password: empty, masked, a template or variable, a word meaning none.
func placeholder(v string) bool {
	if v == "" || strings.Trim(v, "*xX.#?-_•") == "" {
		return true
	}
	switch {
	case strings.HasPrefix(v, "${"), strings.HasPrefix(v, "$("), strings.HasPrefix(v, "{{"),
		strings.HasPrefix(v, "%(") || v == "%s" || v == "%v",
		v[0] == '<' && v[len(v)-1] == '>', v[0] == '[' && v[len(v)-1] == ']':
		return true
	case v[0] == '$' && len(v) > 1 && identifier(v[1:]): // $DB_PASSWORD
		return true
	}
	return slices.ContainsFunc(placeholders, func(p string) bool { return strings.EqualFold(p, v) })
}

var placeholders = []string{"password", "passwd", "pwd", "null", "nil", "none", "undefined", "empty", "true",
	"false", "yes", "no", "on", "off", "required", "optional", "hidden", "redacted", "masked",
	"hidden_due_to_security_reasons"}

func identifier(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '_' {
			return false
		}
	}
	return true
}

// passports finds 6 to 9 letters and digits, at least one a digit, within
// maxGap characters of a passport keyword.
func (s *scanner) passports() {
	t := s.text
	occ := s.keywordsOf(kwPassport)
	done := 0 // runs before this offset are judged
	for _, o := range occ {
		lo, hi := s.back(o.start, maxGap), s.fwd(o.end, maxGap)
		i := max(lo, done)
		for i > done && isAlnum(t[i-1]) && lo-i < 10 {
			i--
		}
		for i > 0 && isAlnum(t[i-1]) && i < len(t) && isAlnum(t[i]) { // inside a long run: skip it
			i++
		}
		for i <= hi && i < len(t) {
			if !isAlnum(t[i]) {
				i++
				continue
			}
			j := i
			for j < len(t) && isAlnum(t[j]) {
				j++
			}
			if (j <= o.start || i >= o.end) && j-i >= 6 && j-i <= 9 && s.passportOK(i, j) {
				s.add(Passport, Medium, i, j, mask(t[i:j], 0, 2))
			}
			i = j
		}
		done = max(done, i)
	}
}

func (s *scanner) passportOK(i, j int) bool {
	t := s.text
	tok := t[i:j]
	if strings.IndexFunc(tok, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
		return false
	}
	// Part of a longer number, date or time: 2030-01-15, 12.345678, 10:30:00.
	joined := func(c byte) bool { return c == '.' || c == '-' || c == '/' || c == ':' || c == ',' }
	if i >= 2 && joined(t[i-1]) && isDigit(t[i-2]) || j+1 < len(t) && joined(t[j]) && isDigit(t[j+1]) {
		return false
	}
	return !date(tok)
}

// date reports whether s is eight digits reading as yyyymmdd or ddmmyyyy.
func date(s string) bool {
	if len(s) != 8 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return false
	}
	n := func(a, b int) int {
		v := 0
		for _, c := range []byte(s[a:b]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	ymd := n(0, 4) >= 1900 && n(0, 4) <= 2099 && n(4, 6) >= 1 && n(4, 6) <= 12 && n(6, 8) >= 1 && n(6, 8) <= 31
	dmy := n(4, 8) >= 1900 && n(4, 8) <= 2099 && n(2, 4) >= 1 && n(2, 4) <= 12 && n(0, 2) >= 1 && n(0, 2) <= 31
	return ymd || dmy
}
