package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Context holds the condition keys of a request, each with its values (a
// single-valued key has one). Keys compare without regard to case.
type Context map[string][]string

// Get returns the values of key.
func (c Context) Get(key string) ([]string, bool) {
	if v, ok := c[key]; ok {
		return v, true
	}
	for k, v := range c {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// Request is what is asked: a principal doing an action on a resource.
// Principal and Account matter only to trust policies.
type Request struct {
	Action    string // service:Action
	Resource  string // an ARN, or "*" for actions without one
	Principal string // ARN of the caller
	Account   string // the caller's account
	Context   Context
}

// Policy is a named document, attached to the principal or passed with a
// session.
type Policy struct {
	Name string
	Doc  *Document
}

// Decision is the outcome of an evaluation.
type Decision int

const (
	// ImplicitDeny: no statement allows the request.
	ImplicitDeny Decision = iota
	// Allowed: a statement allows it and none denies it.
	Allowed
	// ExplicitDeny: a statement denies it.
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Match names a statement that took part in a decision.
type Match struct {
	Policy string
	Sid    string
	Index  int // of the statement in its document
}

// Result is a decision and the statements that made it: the denying ones
// for an explicit deny, the allowing ones for an allow.
type Result struct {
	Decision Decision
	By       []Match
}

// Evaluate decides req against the principal's policies. Each of limits
// (session policies, a permissions boundary) must allow the request too:
// an allow is the intersection, and a deny anywhere is final.
func Evaluate(req *Request, policies []Policy, limits ...[]Policy) Result {
	var denied, allowed []Match
	scan := func(set []Policy) bool {
		found := false
		for _, p := range set {
			for i, st := range p.Doc.Statements {
				if !st.matches(p.Doc.Version, req) {
					continue
				}
				m := Match{Policy: p.Name, Sid: st.Sid, Index: i}
				if st.Effect == Deny {
					denied = append(denied, m)
				} else {
					found = true
					allowed = append(allowed, m)
				}
			}
		}
		return found
	}
	allow := scan(policies)
	for _, set := range limits {
		if !scan(set) {
			allow = false
		}
	}
	switch {
	case len(denied) > 0:
		return Result{Decision: ExplicitDeny, By: denied}
	case allow:
		return Result{Decision: Allowed, By: allowed}
	}
	return Result{Decision: ImplicitDeny}
}

func (st *Statement) matches(version string, req *Request) bool {
	vars := version == Version2012
	if st.Action != nil && !anyAction(st.Action, req.Action) || st.NotAction != nil && anyAction(st.NotAction, req.Action) {
		return false
	}
	if st.Resource != nil && !anyResource(st.Resource, req, vars) || st.NotResource != nil && anyResource(st.NotResource, req, vars) {
		return false
	}
	if st.Principal != nil && !st.Principal.matches(req) {
		return false
	}
	for i := range st.Conditions {
		if !st.Conditions[i].holds(req.Context, vars) {
			return false
		}
	}
	return true
}

func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if globMatch(literal(p), action, true) {
			return true
		}
	}
	return false
}

func anyResource(patterns []string, req *Request, vars bool) bool {
	for _, p := range patterns {
		pat, ok := expand(p, req.Context, vars)
		if ok && globMatch(pat, req.Resource, false) {
			return true
		}
	}
	return false
}

// matches: "*" is anyone; an account ID, or its root ARN, is any principal
// of that account; otherwise the caller's ARN exactly.
func (p *Principal) matches(req *Request) bool {
	if p.Any {
		return true
	}
	for _, v := range p.Kinds["AWS"] {
		switch {
		case v == "*", v == req.Principal:
			return true
		case v == req.Account, v == "arn:aws:iam::"+req.Account+":root":
			return req.Account != ""
		}
	}
	for _, kind := range []string{"Service", "Federated"} {
		for _, v := range p.Kinds[kind] {
			if v == req.Principal {
				return true
			}
		}
	}
	return false
}

// negatedBase gives a negated operator's positive counterpart.
var negatedBase = map[string]string{
	"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike": "StringLike", "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals",
	"NotIpAddress": "IpAddress", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
}

func (c *Condition) holds(ctx Context, vars bool) bool {
	have, _ := ctx.Get(c.Key)
	if c.Op.Name == "Null" {
		absent := len(have) == 0
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == absent {
				return true
			}
		}
		return false
	}
	negated := operators[c.Op.Name]
	if len(have) == 0 {
		switch {
		case c.Op.IfExists:
			return true
		case c.Op.Set == "ForAllValues":
			return true // vacuously
		case c.Op.Set == "ForAnyValue":
			return false
		}
		return negated
	}
	base := c.Op.Name
	if b, ok := negatedBase[base]; ok {
		base = b
	}
	// The policy's values, with their variables substituted; a value
	// whose variable has no value matches nothing.
	var want []pattern
	for _, v := range c.Values {
		if p, ok := expand(v, ctx, vars); ok {
			want = append(want, p)
		}
	}
	matchOne := func(got string) bool {
		for _, w := range want {
			if relate(base, got, w) {
				return true
			}
		}
		return false
	}
	single := func(got string) bool { return matchOne(got) != negated }
	switch c.Op.Set {
	case "ForAnyValue":
		for _, got := range have {
			if single(got) {
				return true
			}
		}
		return false
	case "ForAllValues":
		for _, got := range have {
			if !single(got) {
				return false
			}
		}
		return true
	}
	if negated {
		for _, got := range have {
			if matchOne(got) {
				return false
			}
		}
		return true
	}
	for _, got := range have {
		if matchOne(got) {
			return true
		}
	}
	return false
}

// relate applies a positive operator to a request value and a policy
// value.
func relate(op, got string, want pattern) bool {
	switch op {
	case "StringEquals":
		return got == want.text()
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(got, want.text())
	case "StringLike":
		return globMatch(want, got, false)
	case "Bool":
		return strings.EqualFold(got, want.text())
	case "BinaryEquals":
		a, err1 := base64.StdEncoding.DecodeString(got)
		b, err2 := base64.StdEncoding.DecodeString(want.text())
		return err1 == nil && err2 == nil && bytes.Equal(a, b)
	case "IpAddress":
		addr, err := netip.ParseAddr(got)
		prefix, ok := parseIP(want.text())
		return err == nil && ok && prefix.Contains(addr.Unmap())
	case "ArnEquals", "ArnLike":
		return arnMatch(want, got)
	}
	switch {
	case strings.HasPrefix(op, "Numeric"):
		a, err1 := strconv.ParseFloat(got, 64)
		b, err2 := strconv.ParseFloat(want.text(), 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return order(op[len("Numeric"):], compareFloat(a, b))
	case strings.HasPrefix(op, "Date"):
		a, ok1 := parseDate(got)
		b, ok2 := parseDate(want.text())
		if !ok1 || !ok2 {
			return false
		}
		return order(op[len("Date"):], a.Compare(b))
	}
	return false
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func order(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// arnMatch compares an ARN with a pattern part by part: the five parts
// before the resource are matched separately, each with its own
// wildcards, then the resource part, which may hold colons.
func arnMatch(want pattern, got string) bool {
	wp := want.split(':', 6)
	gp := strings.SplitN(got, ":", 6)
	if len(wp) != 6 || len(gp) != 6 {
		return false
	}
	for i := range wp {
		if !globMatch(wp[i], gp[i], false) {
			return false
		}
	}
	return true
}

// pattern is text in which * and ? are wildcards except where they came
// from a substituted variable: a glob of literal runs and wildcards.
type pattern []patItem

type patItem struct {
	wild rune // '*', '?' or 0 for literal text
	lit  string
}

// literal compiles s with * and ? as wildcards.
func literal(s string) pattern {
	var p pattern
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '?' {
			if i > start {
				p = append(p, patItem{lit: s[start:i]})
			}
			p = append(p, patItem{wild: rune(s[i])})
			start = i + 1
		}
	}
	if start < len(s) {
		p = append(p, patItem{lit: s[start:]})
	}
	return p
}

// text is the pattern as plain text, wildcards as their characters.
func (p pattern) text() string {
	var b strings.Builder
	for _, it := range p {
		if it.wild != 0 {
			b.WriteRune(it.wild)
		} else {
			b.WriteString(it.lit)
		}
	}
	return b.String()
}

// split cuts the pattern at sep in its literal text, into at most n parts.
func (p pattern) split(sep byte, n int) []pattern {
	out := []pattern{{}}
	for _, it := range p {
		if it.wild != 0 || len(out) == n {
			out[len(out)-1] = append(out[len(out)-1], it)
			continue
		}
		s := it.lit
		for len(out) < n {
			i := strings.IndexByte(s, sep)
			if i < 0 {
				break
			}
			if i > 0 {
				out[len(out)-1] = append(out[len(out)-1], patItem{lit: s[:i]})
			}
			out = append(out, pattern{})
			s = s[i+1:]
		}
		if s != "" {
			out[len(out)-1] = append(out[len(out)-1], patItem{lit: s})
		}
	}
	return out
}

// globMatch reports whether s matches p; fold compares letters without
// regard to case. Backtracking to the last * keeps it linear in practice.
func globMatch(p pattern, s string, fold bool) bool {
	// Flatten into runes: -1 is *, -2 is ?.
	var pr []rune
	for _, it := range p {
		switch it.wild {
		case '*':
			pr = append(pr, -1)
		case '?':
			pr = append(pr, -2)
		default:
			pr = append(pr, []rune(it.lit)...)
		}
	}
	eq := func(a, b rune) bool {
		if a == b {
			return true
		}
		return fold && strings.EqualFold(string(a), string(b))
	}
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, n := utf8.DecodeRuneInString(s[si:])
		switch {
		case pi < len(pr) && pr[pi] == -1:
			starP, starS = pi, si
			pi++
		case pi < len(pr) && (pr[pi] == -2 || pr[pi] >= 0 && eq(pr[pi], r)):
			pi++
			si += n
		case starP >= 0:
			pi = starP + 1
			_, m := utf8.DecodeRuneInString(s[starS:])
			starS += m
			si = starS
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == -1 {
		pi++
	}
	return pi == len(pr)
}

// expand substitutes the policy variables of s from ctx (when vars is
// set): ${key}, ${key, 'default'}, and ${*}, ${?}, ${$} for the literal
// characters. Substituted text is literal in the resulting pattern. ok is
// false when a variable has no value and no default.
func expand(s string, ctx Context, vars bool) (pattern, bool) {
	if !vars || !strings.Contains(s, "${") {
		return literal(s), true
	}
	var p pattern
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			p = append(p, literal(s)...)
			return p, true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			p = append(p, literal(s)...)
			return p, true
		}
		p = append(p, literal(s[:i])...)
		inner := strings.TrimSpace(s[i+2 : i+j])
		s = s[i+j+1:]
		switch inner {
		case "*", "?", "$":
			p = append(p, patItem{lit: inner})
			continue
		}
		name, def, hasDef := strings.Cut(inner, ",")
		name = strings.TrimSpace(name)
		vals, _ := ctx.Get(name)
		switch {
		case len(vals) == 1:
			p = append(p, patItem{lit: vals[0]})
		case hasDef:
			def = strings.TrimSpace(def)
			if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
				def = def[1 : len(def)-1]
			}
			p = append(p, patItem{lit: def})
		default:
			return nil, false
		}
	}
}
