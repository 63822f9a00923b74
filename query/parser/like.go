package parser

import "unicode/utf8"

// Match reports whether s matches the LIKE pattern: % stands for any run of
// characters (also none), _ for exactly one, and the escape character makes
// the next %, _ or escape character literal. Matching is case-sensitive and
// by character, not byte. NOT is not applied; that is the caller's job.
func (l *Like) Match(s string) bool {
	return likeMatch(compileLike(l.Pattern, l.Escape), s)
}

// likeItem is one element of a compiled pattern: a literal character, or
// (r < 0) one of the wildcards.
type likeItem rune

const (
	likeAny  likeItem = -1 // _
	likeRest likeItem = -2 // %
)

func compileLike(pattern, escape string) []likeItem {
	esc := rune(-1)
	if escape != "" {
		esc, _ = utf8.DecodeRuneInString(escape)
	}
	items := make([]likeItem, 0, len(pattern))
	escaped := false
	for _, r := range pattern {
		switch {
		case escaped:
			items = append(items, likeItem(r))
			escaped = false
		case r == esc:
			escaped = true
		case r == '%':
			if n := len(items); n == 0 || items[n-1] != likeRest {
				items = append(items, likeRest)
			}
		case r == '_':
			items = append(items, likeAny)
		default:
			items = append(items, likeItem(r))
		}
	}
	return items
}

// likeMatch is the usual greedy wildcard match with backtracking to the last
// %; it takes O(len(s) * len(pattern)) time at worst.
func likeMatch(p []likeItem, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, n := utf8.DecodeRuneInString(s[si:])
		switch {
		case pi < len(p) && p[pi] == likeRest:
			starP, starS = pi, si
			pi++
		case pi < len(p) && (p[pi] == likeAny || p[pi] == likeItem(r)):
			pi++
			si += n
		case starP >= 0:
			// Let the last % swallow one more character and retry.
			_, m := utf8.DecodeRuneInString(s[starS:])
			starS += m
			si = starS
			pi = starP + 1
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == likeRest {
		pi++
	}
	return pi == len(p)
}
