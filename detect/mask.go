package detect

import "strings"

// mask returns v with its letters and digits replaced by '*', except the
// first head and the last tail of them; separators stay, so the excerpt
// keeps the shape of what was found ("****-****-****-1111").
func mask(v string, head, tail int) string {
	n := 0
	for i := 0; i < len(v); i++ {
		if isAlnum(v[i]) {
			n++
		}
	}
	b := []byte(v)
	k := 0
	for i, c := range b {
		if isAlnum(c) {
			if k >= head && k < n-tail {
				b[i] = '*'
			}
			k++
		}
	}
	return string(b)
}

// prefixed returns the first n bytes of v and a fixed run of stars, for
// secrets: the length is not worth revealing.
func prefixed(v string, n int) string {
	return v[:min(n, len(v))] + strings.Repeat("*", 8)
}
