package smithygen

import (
	"fmt"
	"regexp"
	"strings"
)

// ecmaSpace is the set of characters ECMAScript's \s matches (WhiteSpace and
// LineTerminator), written as the inside of an RE2 character class. RE2's
// own \s is ASCII only.
const ecmaSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// ecmaDot is what ECMAScript's "." matches without the s flag: anything but a
// line terminator. RE2's "." only leaves out \n.
const ecmaDot = `[^\n\r\x{2028}\x{2029}]`

// TranslatePattern rewrites a Smithy pattern (an ECMA 262 regular
// expression) into RE2 syntax for Go's regexp package, keeping its meaning:
//
//   - \uXXXX and \u{X...} become \x{XXXX};
//   - "." and \s get ECMAScript's wider sets (line terminators, Unicode
//     spaces); \S inside a class keeps RE2's ASCII meaning (RE2 has no class
//     subtraction), which only matters for non-ASCII spaces;
//   - constructs RE2 cannot express the same way (look-around, back
//     references, \c, unknown letter escapes, the empty classes [] and [^])
//     are errors.
//
// The result is compiled before it is returned. Smithy patterns are not
// anchored implicitly; callers use MatchString (find semantics).
func TranslatePattern(p string) (string, error) {
	var b strings.Builder
	rs := []rune(p)
	inClass := false
	classStart := false // just after "[" or "[^"
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\':
			if i+1 >= len(rs) {
				return "", fmt.Errorf("pattern %q: trailing backslash", p)
			}
			i++
			e := rs[i]
			switch {
			case e == 'u':
				hex, n, err := readUnicodeEscape(rs[i+1:])
				if err != nil {
					return "", fmt.Errorf("pattern %q: %w", p, err)
				}
				i += n
				b.WriteString(`\x{` + hex + `}`)
			case e == 'x':
				if i+2 >= len(rs) || !isHex(rs[i+1]) || !isHex(rs[i+2]) {
					return "", fmt.Errorf("pattern %q: \\x needs two hex digits", p)
				}
				b.WriteString(`\x{` + string(rs[i+1:i+3]) + `}`)
				i += 2
			case e == '0':
				if i+1 < len(rs) && rs[i+1] >= '0' && rs[i+1] <= '9' {
					return "", fmt.Errorf("pattern %q: octal escapes are not supported", p)
				}
				b.WriteString(`\x{0}`)
			case e >= '1' && e <= '9', e == 'k':
				return "", fmt.Errorf("pattern %q: back references are not supported by RE2", p)
			case e == 's':
				if inClass {
					b.WriteString(ecmaSpace)
				} else {
					b.WriteString("[" + ecmaSpace + "]")
				}
			case e == 'S':
				if inClass {
					b.WriteString(`\S`)
				} else {
					b.WriteString("[^" + ecmaSpace + "]")
				}
			case e == 'b' && inClass:
				b.WriteString(`\x{8}`) // backspace inside a class
			case strings.ContainsRune("dDwWbBtnrfvpP", e):
				b.WriteRune('\\')
				b.WriteRune(e)
				if e == 'p' || e == 'P' {
					// \p{Name}: copy the braces verbatim.
					if i+1 >= len(rs) || rs[i+1] != '{' {
						return "", fmt.Errorf("pattern %q: \\%c needs {Name}", p, e)
					}
					j := i + 1
					for j < len(rs) && rs[j] != '}' {
						j++
					}
					if j >= len(rs) {
						return "", fmt.Errorf("pattern %q: unterminated \\%c{", p, e)
					}
					b.WriteString(string(rs[i+1 : j+1]))
					i = j
				}
			case isLetter(e) || isDigit(e):
				return "", fmt.Errorf("pattern %q: escape \\%c has no RE2 equivalent", p, e)
			default:
				// An escaped punctuation character is itself in both syntaxes.
				b.WriteRune('\\')
				b.WriteRune(e)
			}
			classStart = false
			continue
		case inClass:
			switch c {
			case ']':
				if classStart {
					return "", fmt.Errorf("pattern %q: empty character classes are not supported", p)
				}
				inClass = false
				b.WriteRune(c)
			case '[':
				b.WriteString(`\[`)
			default:
				b.WriteRune(c)
			}
			classStart = false
			continue
		case c == '[':
			inClass, classStart = true, true
			b.WriteRune(c)
			if i+1 < len(rs) && rs[i+1] == '^' {
				b.WriteRune('^')
				i++
			}
			continue
		case c == '.':
			b.WriteString(ecmaDot)
		case c == '(' && i+2 < len(rs) && rs[i+1] == '?':
			switch rs[i+2] {
			case ':':
			case '=', '!':
				return "", fmt.Errorf("pattern %q: look-ahead is not supported by RE2", p)
			case '<':
				if i+3 < len(rs) && (rs[i+3] == '=' || rs[i+3] == '!') {
					return "", fmt.Errorf("pattern %q: look-behind is not supported by RE2", p)
				}
			default:
				return "", fmt.Errorf("pattern %q: group (?%c is not supported by RE2", p, rs[i+2])
			}
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	if inClass {
		return "", fmt.Errorf("pattern %q: unterminated character class", p)
	}
	out := b.String()
	if _, err := regexp.Compile(out); err != nil {
		return "", fmt.Errorf("pattern %q (RE2 %q) does not compile: %w", p, out, err)
	}
	return out, nil
}

// readUnicodeEscape reads what follows "\u": four hex digits or {hex}.
func readUnicodeEscape(rs []rune) (hex string, consumed int, err error) {
	if len(rs) > 0 && rs[0] == '{' {
		j := 1
		for j < len(rs) && isHex(rs[j]) {
			j++
		}
		if j == 1 || j >= len(rs) || rs[j] != '}' || j-1 > 6 {
			return "", 0, fmt.Errorf("malformed \\u{...} escape")
		}
		return string(rs[1:j]), j + 1, nil
	}
	if len(rs) < 4 {
		return "", 0, fmt.Errorf("\\u needs four hex digits")
	}
	for _, r := range rs[:4] {
		if !isHex(r) {
			return "", 0, fmt.Errorf("\\u needs four hex digits")
		}
	}
	return string(rs[:4]), 4, nil
}

func isHex(r rune) bool {
	return isDigit(r) || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
}
func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
