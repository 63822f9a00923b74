// Package detect finds personal data and credentials in free text, in the
// manner of Amazon Macie's managed data identifiers, and checks URLs given
// to the service for credentials.
//
// Scan runs on every write of a name, description or tag, and in
// discovery over stored property values and scene documents, so its cost
// must not depend on what the text holds: every detector is a
// hand-written scan over the bytes that looks at each byte a bounded
// number of times. There are no regular expressions (not even RE2's),
// and a 64 KiB scene costs a fraction of a millisecond.
//
// Every detector has the same four parts:
//
//   - a candidate: a run of digits, a token, an '@' with what surrounds it;
//   - an optional keyword that must appear within 30 characters before or
//     after the candidate (Macie's proximity rule), case-insensitively and
//     as a word of its own: "pan" counts in "PAN:" and "cardPan" but not in
//     "panel", and "api key" also finds "API_KEY" and "x-api-key";
//   - a validator: Luhn and issuer ranges for payment cards, ISO 13616
//     lengths and mod-97 for IBANs, the SSA's rules for social security
//     numbers, net/netip for IP addresses, base64url and JSON for web
//     tokens, Shannon entropy and the shape of names for generic secrets;
//   - exclusions: the card issuers' published test numbers, the AWS
//     documentation keys (anything ending in EXAMPLE), UUIDs, ARNs, paths,
//     hashes of nothing, template placeholders such as ${DB_PASSWORD}.
//
// Confidence says how sure a finding is:
//
//	Type                        Confidence
//	EMAIL_ADDRESS               High
//	PHONE_NUMBER                High for E.164 ('+' and 8 to 15 digits); Medium for
//	                            a national number, (555) 123-4567, 555-123-4567 or
//	                            020 7946 0958, next to a phone keyword; never bare digits
//	CREDIT_CARD_NUMBER          High next to a card keyword, Medium without
//	USA_SOCIAL_SECURITY_NUMBER  keyword required; High for ddd-dd-dddd, Medium for
//	                            nine bare digits
//	IBAN                        High
//	PASSPORT_NUMBER             keyword required; Medium
//	IP_ADDRESS                  Medium for a public address, which can point at a
//	                            person; Low for private, loopback, link-local,
//	                            documentation and other special ranges; none for a
//	                            dotted quad next to a version keyword ("firmware 2.4.1.0")
//	AWS_ACCESS_KEY_ID           High
//	AWS_SECRET_ACCESS_KEY       keyword required; High
//	PRIVATE_KEY                 High
//	JSON_WEB_TOKEN              High
//	CONNECTION_STRING_PASSWORD  High
//	GENERIC_SECRET              keyword required; Medium
//
// Where matches overlap, the one with the higher confidence is kept, and
// between equals the more specific type: a private key over the base64
// lines inside it, an IBAN over the digits inside it.
//
// A Finding never holds the matched value: only its type, offset, length
// and a masked excerpt such as "****-****-****-1111" or "j***@e***.com",
// from which the value cannot be recovered.
//
// Scan and CheckURL are safe for concurrent use.
package detect

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Type names what a finding is, in Macie's style.
type Type string

// The types of finding.
const (
	Email         Type = "EMAIL_ADDRESS"
	Phone         Type = "PHONE_NUMBER"
	CreditCard    Type = "CREDIT_CARD_NUMBER"
	SSN           Type = "USA_SOCIAL_SECURITY_NUMBER"
	IBAN          Type = "IBAN"
	Passport      Type = "PASSPORT_NUMBER"
	IPAddress     Type = "IP_ADDRESS"
	AWSAccessKey  Type = "AWS_ACCESS_KEY_ID"
	AWSSecretKey  Type = "AWS_SECRET_ACCESS_KEY"
	PrivateKey    Type = "PRIVATE_KEY"
	JWT           Type = "JSON_WEB_TOKEN"
	ConnPassword  Type = "CONNECTION_STRING_PASSWORD"
	GenericSecret Type = "GENERIC_SECRET"
)

// Confidence of a finding.
type Confidence int

// The confidence levels, in increasing order.
const (
	Low Confidence = iota + 1
	Medium
	High
)

func (c Confidence) String() string {
	switch c {
	case Low:
		return "LOW"
	case Medium:
		return "MEDIUM"
	case High:
		return "HIGH"
	}
	return "Confidence(" + strconv.Itoa(int(c)) + ")"
}

// Finding is one match: where it is and a masked excerpt, never the match itself.
type Finding struct {
	Type       Type
	Confidence Confidence
	Offset     int    // byte offset of the match in the text
	Length     int    // byte length of the match
	Excerpt    string // the match masked, e.g. "j***@e***.com", "****-****-****-1111" minus most characters; never enough to recover the value
}

// Scan returns the findings in text, ordered by offset, overlapping
// matches resolved (keep the more specific/higher-confidence one).
func Scan(text string) []Finding {
	if text == "" {
		return nil
	}
	s := scanner{text: text}
	s.privateKeys()
	s.jwts()
	s.awsKeyIDs()
	s.tokens()
	s.connURLs()
	s.connPairs()
	s.emails()
	s.numbers()
	s.passports()
	s.ipv6s()
	return resolve(s.found)
}

// Worst returns the finding with the highest confidence (first by offset
// among equals), ok=false if none.
func Worst(fs []Finding) (Finding, bool) {
	if len(fs) == 0 {
		return Finding{}, false
	}
	w := fs[0]
	for _, f := range fs[1:] {
		if f.Confidence > w.Confidence || f.Confidence == w.Confidence && f.Offset < w.Offset {
			w = f
		}
	}
	return w, true
}

// scanner holds one text under scan and what is computed about it lazily.
type scanner struct {
	text  string
	kw    [kwSets][]span // keyword occurrences, computed on demand
	kwHas uint16         // bit n set: kw[n] is computed
	asked [kwSets]uint8  // questions near has answered by a window
	buf   [24]byte
	gbuf  [8]group // backs the groups of a cluster, most need no more
	found []finding
}

type span struct{ start, end int }

// finding is a candidate before overlaps are resolved.
type finding struct {
	Finding
	end int
}

// specificity breaks ties between overlapping findings of equal
// confidence: the narrower definition wins over the looser one.
var specificity = map[Type]int{
	PrivateKey:    13,
	JWT:           12,
	AWSAccessKey:  11,
	AWSSecretKey:  10,
	ConnPassword:  9,
	IBAN:          8,
	CreditCard:    7,
	SSN:           6,
	Email:         5,
	Phone:         4,
	Passport:      3,
	GenericSecret: 2,
	IPAddress:     1,
}

// add records a candidate finding over text[start:end]. The excerpt is
// checked once more here, so no detector can leak the match through it.
func (s *scanner) add(t Type, c Confidence, start, end int, excerpt string) {
	m := s.text[start:end]
	if strings.Contains(excerpt, m) {
		excerpt = "[hidden]"
		if strings.Contains(excerpt, m) {
			excerpt = ""
		}
	}
	s.found = append(s.found, finding{Finding{Type: t, Confidence: c, Offset: start, Length: end - start, Excerpt: excerpt}, end})
}

// better orders overlapping candidates: higher confidence, then the more
// specific type, then the longer match, then the earlier one.
func better(a, b finding) int {
	if c := cmp.Compare(b.Confidence, a.Confidence); c != 0 {
		return c
	}
	if c := cmp.Compare(specificity[b.Type], specificity[a.Type]); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Length, a.Length); c != 0 {
		return c
	}
	return cmp.Compare(a.Offset, b.Offset)
}

// resolve orders the candidates by offset and, within each run of
// overlapping ones, keeps the best that do not overlap a better one.
func resolve(fs []finding) []Finding {
	if len(fs) == 0 {
		return nil
	}
	slices.SortFunc(fs, func(a, b finding) int {
		if c := cmp.Compare(a.Offset, b.Offset); c != 0 {
			return c
		}
		return cmp.Compare(b.end, a.end)
	})
	out := make([]Finding, 0, len(fs))
	var kept []finding
	for i := 0; i < len(fs); {
		j, end := i+1, fs[i].end
		for j < len(fs) && fs[j].Offset < end {
			end = max(end, fs[j].end)
			j++
		}
		if j == i+1 {
			out = append(out, fs[i].Finding)
			i = j
			continue
		}
		group := slices.Clone(fs[i:j])
		slices.SortFunc(group, better)
		kept = kept[:0]
		for _, f := range group {
			// kept is sorted by offset and its spans are disjoint, so the
			// only span that can overlap f is the last one starting before
			// f ends.
			k, _ := slices.BinarySearchFunc(kept, f.end, func(g finding, end int) int { return cmp.Compare(g.Offset, end) })
			if k > 0 && kept[k-1].end > f.Offset {
				continue
			}
			kept = slices.Insert(kept, k, f)
		}
		for _, f := range kept {
			out = append(out, f.Finding)
		}
		i = j
	}
	return out
}
