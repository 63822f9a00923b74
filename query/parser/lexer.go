package parser

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tErr            // a lexical error; the message is in val
	tWord           // identifier or keyword, unquoted
	tQuoted         // "quoted identifier"; val is the name
	tString         // 'string literal'; val is the value
	tNumber         // 12, 1.5, 2e-3; float is set when it has "." or an exponent
	tLParen         // (
	tRParen         // )
	tLBrack         // [
	tRBrack         // ]
	tLBrace         // {
	tRBrace         // }
	tComma          // ,
	tDot            // .
	tColon          // :
	tSemi           // ;
	tStar           // *
	tPlus           // +
	tMinus          // -
	tTilde          // ~
	tEq             // =
	tNe             // != or <>
	tLt             // <
	tLe             // <=
	tGt             // >
	tGe             // >= or => (see lexer.next)
)

// keyword is a reserved word. Keywords are matched without regard to case
// and cannot be used as unquoted variable names or aliases; after "." and ":"
// (field names, relationship names) they are ordinary names.
type keyword uint8

const (
	kwNone keyword = iota
	kwSelect
	kwDistinct
	kwAs
	kwFrom
	kwMatch
	kwWhere
	kwLimit
	kwOffset
	kwAnd
	kwOr
	kwNot
	kwIn
	kwLike
	kwEscape
	kwIs
	kwNull
	kwMissing
	kwTrue
	kwFalse
)

var keywords = map[string]keyword{
	"SELECT": kwSelect, "DISTINCT": kwDistinct, "AS": kwAs, "FROM": kwFrom, "MATCH": kwMatch,
	"WHERE": kwWhere, "LIMIT": kwLimit, "OFFSET": kwOffset, "AND": kwAnd, "OR": kwOr, "NOT": kwNot,
	"IN": kwIn, "LIKE": kwLike, "ESCAPE": kwEscape, "IS": kwIs, "NULL": kwNull, "MISSING": kwMissing,
	"TRUE": kwTrue, "FALSE": kwFalse,
}

// lookupKeyword returns the keyword s spells in any case, or kwNone.
func lookupKeyword(s string) keyword {
	var buf [8]byte
	if len(s) > len(buf) {
		return kwNone
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return keywords[string(buf[:len(s)])]
}

type token struct {
	kind  tokKind
	kw    keyword // for tWord
	float bool    // for tNumber
	pos   Pos
	text  string // the source text of the token
	val   string // decoded value (tString, tQuoted) or error message (tErr)
}

// lexer turns the query into tokens on demand, so the first error the
// parser reports is the first one in the text.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func newLexer(src string) lexer { return lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Col: l.col} }

// advance moves n bytes forward, keeping line and column.
func (l *lexer) advance(n int) {
	end := l.off + n
	for i := l.off; i < end; i++ {
		switch c := l.src[i]; {
		case c == '\n':
			l.line++
			l.col = 1
		case c&0xC0 != 0x80: // not a UTF-8 continuation byte
			l.col++
		}
	}
	l.off = end
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipSpace skips white space, including Unicode spaces such as the no-break
// spaces that copying a query from a web page brings along.
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
			l.advance(1)
			continue
		}
		if c < utf8.RuneSelf {
			return
		}
		r, n := utf8.DecodeRuneInString(l.src[l.off:])
		if r == utf8.RuneError || !unicode.IsSpace(r) {
			return
		}
		l.advance(n)
	}
}

func (l *lexer) next() token {
	l.skipSpace()
	start := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: start}
	}
	tok := func(k tokKind, n int) token {
		t := token{kind: k, pos: start, text: l.src[l.off : l.off+n]}
		l.advance(n)
		return t
	}
	rest := l.src[l.off:]
	c := rest[0]
	switch {
	case isIdentStart(c):
		n := 1
		for n < len(rest) && isIdentPart(rest[n]) {
			n++
		}
		t := tok(tWord, n)
		t.kw = lookupKeyword(t.text)
		return t
	case isDigit(c):
		return l.number(start)
	case c == '\'':
		return l.quoted(start, '\'', tString)
	case c == '"':
		return l.quoted(start, '"', tQuoted)
	}
	two := ""
	if len(rest) >= 2 {
		two = rest[:2]
	}
	switch two {
	case "<=":
		return tok(tLe, 2)
	case ">=":
		return tok(tGe, 2)
	case "<>", "!=":
		return tok(tNe, 2)
	case "=>":
		// "=>" is not an operator of PartiQL, but the TwinMaker docs write it
		// for ">=" in one example; nothing else could be meant, so it is
		// tolerated as ">=" (and printed as ">=").
		return tok(tGe, 2)
	case "==":
		return l.fail(start, 2, `"==" is not an operator: use "=" to compare`)
	case "||":
		return l.fail(start, 2, `string concatenation "||" is not supported`)
	case "/*":
		return l.fail(start, 2, "comments are not supported")
	}
	switch c {
	case '(':
		return tok(tLParen, 1)
	case ')':
		return tok(tRParen, 1)
	case '[':
		return tok(tLBrack, 1)
	case ']':
		return tok(tRBrack, 1)
	case '{':
		return tok(tLBrace, 1)
	case '}':
		return tok(tRBrace, 1)
	case ',':
		return tok(tComma, 1)
	case '.':
		return tok(tDot, 1)
	case ':':
		return tok(tColon, 1)
	case ';':
		return tok(tSemi, 1)
	case '*':
		return tok(tStar, 1)
	case '+':
		return tok(tPlus, 1)
	case '-':
		return tok(tMinus, 1)
	case '~':
		return tok(tTilde, 1)
	case '=':
		return tok(tEq, 1)
	case '<':
		return tok(tLt, 1)
	case '>':
		return tok(tGt, 1)
	}
	r, n := utf8.DecodeRuneInString(rest)
	switch {
	case r == utf8.RuneError && n <= 1:
		return l.fail(start, 1, "the query is not valid UTF-8")
	case r == '\u2018' || r == '\u2019' || r == '\u201C' || r == '\u201D':
		return l.fail(start, n, "unexpected typographic quote "+quote(string(r))+": use ' for strings and \" for names")
	}
	return l.fail(start, n, "unexpected character "+quote(string(r)))
}

// fail returns an error token covering n bytes.
func (l *lexer) fail(start Pos, n int, msg string) token {
	t := token{kind: tErr, pos: start, text: l.src[l.off : l.off+n], val: msg}
	l.advance(n)
	return t
}

// number lexes digits ["." digits] [("e"|"E") ["+"|"-"] digits]. A number
// glued to letters ("10abc", "1e") is an error rather than two tokens.
func (l *lexer) number(start Pos) token {
	rest := l.src[l.off:]
	n := 0
	digits := func() {
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
	}
	digits()
	float := false
	if n+1 < len(rest) && rest[n] == '.' && isDigit(rest[n+1]) {
		float = true
		n++
		digits()
	}
	if n < len(rest) && (rest[n] == 'e' || rest[n] == 'E') {
		m := n + 1
		if m < len(rest) && (rest[m] == '+' || rest[m] == '-') {
			m++
		}
		if m < len(rest) && isDigit(rest[m]) {
			float = true
			n = m
			digits()
		}
	}
	if n < len(rest) && (isIdentPart(rest[n]) || rest[n] == '.' && n+1 < len(rest) && isDigit(rest[n+1])) {
		m := n
		for m < len(rest) && (isIdentPart(rest[m]) || rest[m] == '.') {
			m++
		}
		return l.fail(start, m, "malformed number "+quote(rest[:m]))
	}
	t := token{kind: tNumber, float: float, pos: start, text: rest[:n]}
	l.advance(n)
	return t
}

// quoted lexes a 'string' or a "quoted identifier"; a doubled quote stands
// for one quote character. Backslash has no special meaning.
func (l *lexer) quoted(start Pos, q byte, kind tokKind) token {
	rest := l.src[l.off:]
	doubled := false
	n := 1
	for {
		i := strings.IndexByte(rest[n:], q)
		if i < 0 {
			what := "string literal"
			if kind == tQuoted {
				what = "quoted identifier"
			}
			return l.fail(start, len(rest), "unterminated "+what+" (it starts here)")
		}
		n += i + 1
		if n < len(rest) && rest[n] == q {
			doubled = true
			n++
			continue
		}
		break
	}
	body := rest[1 : n-1]
	if !utf8.ValidString(body) {
		return l.fail(start, n, "the query is not valid UTF-8")
	}
	if doubled {
		body = strings.ReplaceAll(body, string([]byte{q, q}), string(q))
	}
	if kind == tQuoted && body == "" {
		return l.fail(start, n, "empty quoted identifier")
	}
	t := token{kind: kind, pos: start, text: rest[:n], val: body}
	l.advance(n)
	return t
}
