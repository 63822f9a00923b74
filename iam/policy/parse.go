// Package policy reads and evaluates IAM policy documents with IAM's
// semantics: an explicit Deny beats any Allow, an Allow is needed, and
// everything else is an implicit deny. Documents are checked when they are
// stored (Parse), so evaluation never meets an operator or key it does not
// understand: a Deny that failed to parse would otherwise quietly allow.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Versions of the policy language. Policy variables are substituted only
// under Version2012; under Version2008 (or with no Version) they are text.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is Allow or Deny.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is a parsed policy.
type Document struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a document. Exactly one of Action and
// NotAction is set, and (for identity policies) of Resource and
// NotResource; trust policies have a Principal instead of a resource.
type Statement struct {
	Sid         string
	Effect      Effect
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	Principal   *Principal // trust policies only
	Conditions  []Condition
}

// Principal is the Principal element of a trust policy: "*" or
// principals by kind ("AWS", "Service", "Federated").
type Principal struct {
	Any   bool
	Kinds map[string][]string
}

// Condition is one key under one operator of a Condition block.
type Condition struct {
	Op     Operator
	Key    string // as written
	Values []string
}

// Operator is a condition operator with its qualifiers.
type Operator struct {
	Name     string // e.g. StringLike
	IfExists bool
	Set      string // "", "ForAnyValue" or "ForAllValues"
}

func (o Operator) String() string {
	s := o.Name
	if o.IfExists {
		s += "IfExists"
	}
	if o.Set != "" {
		s = o.Set + ":" + s
	}
	return s
}

// Kind says where a document is used, which decides what it may hold.
type Kind int

const (
	// Identity policies are attached to users, groups and roles, or
	// passed as session policies: they name resources, not principals.
	Identity Kind = iota
	// Trust policies say who may assume a role: they name principals,
	// not resources.
	Trust
)

// Error is a malformed document: IAM's MalformedPolicyDocument.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func malformed(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// operators lists the condition operators and whether each is negated
// (true when the key is absent).
var operators = map[string]bool{
	"StringEquals": false, "StringNotEquals": true, "StringEqualsIgnoreCase": false, "StringNotEqualsIgnoreCase": true,
	"StringLike": false, "StringNotLike": true,
	"NumericEquals": false, "NumericNotEquals": true, "NumericLessThan": false, "NumericLessThanEquals": false,
	"NumericGreaterThan": false, "NumericGreaterThanEquals": false,
	"DateEquals": false, "DateNotEquals": true, "DateLessThan": false, "DateLessThanEquals": false,
	"DateGreaterThan": false, "DateGreaterThanEquals": false,
	"Bool": false, "BinaryEquals": false, "IpAddress": false, "NotIpAddress": true,
	"ArnEquals": false, "ArnLike": false, "ArnNotEquals": true, "ArnNotLike": true,
	"Null": false,
}

// globalKeys are the aws: condition keys a policy may test. Keys with a
// tag or a variable part end in "/".
var globalKeys = map[string]bool{}

func init() {
	for _, k := range []string{
		"aws:SecureTransport", "aws:SourceIp", "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge",
		"aws:CurrentTime", "aws:EpochTime", "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType",
		"aws:username", "aws:userid", "aws:RequestedRegion", "aws:TokenIssueTime", "aws:UserAgent",
		"aws:ViaAWSService", "aws:TagKeys", "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast",
		"aws:SourceVpc", "aws:SourceVpce", "aws:Referer", "aws:SourceArn", "aws:SourceAccount",
		"aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/",
	} {
		globalKeys[strings.ToLower(k)] = true
	}
}

var (
	sidPattern = regexp.MustCompile(`^[A-Za-z0-9]*$`)
	keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*:[^\s]+$`)
)

// Parse reads and checks a document of the given kind. maxChars bounds its
// length in characters, white space excluded as IAM counts it (0: no
// bound). Errors are *Error.
func Parse(doc []byte, kind Kind, maxChars int) (*Document, error) {
	if maxChars > 0 {
		n := 0
		for _, r := range string(doc) {
			if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
				n++
			}
		}
		if n > maxChars {
			return nil, malformed("the policy has %d characters (white space excluded); at most %d are allowed", n, maxChars)
		}
	}
	if !utf8.Valid(doc) {
		return nil, malformed("the policy is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, malformed("the policy is not valid JSON")
	}
	if dec.More() {
		return nil, malformed("the policy has text after its JSON object")
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, malformed("the policy must be a JSON object")
	}
	d := &Document{}
	for k, v := range top {
		switch k {
		case "Version":
			s, ok := v.(string)
			if !ok || (s != Version2012 && s != Version2008) {
				return nil, malformed("Version must be %q or %q", Version2012, Version2008)
			}
			d.Version = s
		case "Id":
			s, ok := v.(string)
			if !ok {
				return nil, malformed("Id must be a string")
			}
			d.ID = s
		case "Statement":
			var list []any
			switch v := v.(type) {
			case []any:
				list = v
			case map[string]any:
				list = []any{v}
			default:
				return nil, malformed("Statement must be an object or a list of objects")
			}
			if len(list) == 0 {
				return nil, malformed("Statement must not be empty")
			}
			for i, item := range list {
				m, ok := item.(map[string]any)
				if !ok {
					return nil, malformed("Statement[%d] must be an object", i)
				}
				st, err := parseStatement(m, kind)
				if err != nil {
					return nil, malformed("Statement[%d]: %s", i, err.(*Error).Msg)
				}
				d.Statements = append(d.Statements, st)
			}
		default:
			return nil, malformed("unknown policy element %q", k)
		}
	}
	if d.Statements == nil {
		return nil, malformed("the policy has no Statement")
	}
	sids := map[string]bool{}
	for _, st := range d.Statements {
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, malformed("Sid %q is used twice", st.Sid)
			}
			sids[st.Sid] = true
		}
	}
	return d, nil
}

func parseStatement(m map[string]any, kind Kind) (Statement, error) {
	var st Statement
	var err error
	for k, v := range m {
		switch k {
		case "Sid":
			s, ok := v.(string)
			if !ok || !sidPattern.MatchString(s) {
				return st, malformed("Sid must be a string of letters and digits")
			}
			st.Sid = s
		case "Effect":
			s, _ := v.(string)
			if s != string(Allow) && s != string(Deny) {
				return st, malformed("Effect must be Allow or Deny")
			}
			st.Effect = Effect(s)
		case "Action", "NotAction":
			list, err := stringList(v, k)
			if err != nil {
				return st, err
			}
			for _, a := range list {
				if a != "*" && !validAction(a) {
					return st, malformed("%s %q must be service:action, with * and ? as wildcards", k, a)
				}
			}
			if k == "Action" {
				st.Action = list
			} else {
				st.NotAction = list
			}
		case "Resource", "NotResource":
			if kind == Trust {
				return st, malformed("a trust policy has no %s; it names a Principal", k)
			}
			list, err := stringList(v, k)
			if err != nil {
				return st, err
			}
			for _, r := range list {
				if r != "*" && !strings.HasPrefix(r, "arn:") {
					return st, malformed("%s %q must be an ARN or *", k, r)
				}
			}
			if k == "Resource" {
				st.Resource = list
			} else {
				st.NotResource = list
			}
		case "Principal":
			if kind != Trust {
				return st, malformed("an identity policy has no Principal")
			}
			if st.Principal, err = parsePrincipal(v); err != nil {
				return st, err
			}
		case "NotPrincipal":
			return st, malformed("NotPrincipal is not supported")
		case "Condition":
			if st.Conditions, err = parseConditions(v); err != nil {
				return st, err
			}
		default:
			return st, malformed("unknown statement element %q", k)
		}
	}
	switch {
	case st.Effect == "":
		return st, malformed("Effect is required")
	case (st.Action == nil) == (st.NotAction == nil):
		return st, malformed("exactly one of Action and NotAction is required")
	case kind == Identity && (st.Resource == nil) == (st.NotResource == nil):
		return st, malformed("exactly one of Resource and NotResource is required")
	case kind == Trust && st.Principal == nil:
		return st, malformed("Principal is required in a trust policy")
	}
	return st, nil
}

func validAction(a string) bool {
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" || strings.ContainsAny(svc, "*?") {
		return false
	}
	for _, r := range svc + name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '*' || r == '?') {
			return false
		}
	}
	return true
}

// stringList reads a string or a non-empty list of strings.
func stringList(v any, what string) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, malformed("%s must not be empty", what)
		}
		out := make([]string, len(v))
		for i, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, malformed("%s must hold strings", what)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, malformed("%s must be a string or a list of strings", what)
}

func parsePrincipal(v any) (*Principal, error) {
	if s, ok := v.(string); ok {
		if s != "*" {
			return nil, malformed(`Principal must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:user/name"}`)
		}
		return &Principal{Any: true}, nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, malformed("Principal must be \"*\" or a non-empty object")
	}
	p := &Principal{Kinds: map[string][]string{}}
	for kind, x := range m {
		if kind != "AWS" && kind != "Service" && kind != "Federated" {
			return nil, malformed("unknown principal type %q", kind)
		}
		list, err := stringList(x, "Principal."+kind)
		if err != nil {
			return nil, err
		}
		p.Kinds[kind] = list
	}
	return p, nil
}

func parseConditions(v any) ([]Condition, error) {
	block, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("Condition must be an object of operators")
	}
	var out []Condition
	for opName, keys := range block {
		op, err := parseOperator(opName)
		if err != nil {
			return nil, err
		}
		km, ok := keys.(map[string]any)
		if !ok || len(km) == 0 {
			return nil, malformed("Condition %s must be an object of keys", opName)
		}
		for key, vals := range km {
			if err := checkKey(key); err != nil {
				return nil, err
			}
			values, err := conditionValues(vals, opName, key)
			if err != nil {
				return nil, err
			}
			for _, val := range values {
				if err := checkValue(op.Name, val); err != nil {
					return nil, malformed("Condition %s %s: %s", opName, key, err.(*Error).Msg)
				}
			}
			out = append(out, Condition{Op: op, Key: key, Values: values})
		}
	}
	return out, nil
}

func parseOperator(s string) (Operator, error) {
	var op Operator
	name := s
	if set, rest, ok := strings.Cut(s, ":"); ok {
		if set != "ForAnyValue" && set != "ForAllValues" {
			return op, malformed("unknown condition qualifier %q", set)
		}
		op.Set, name = set, rest
	}
	if base, ok := strings.CutSuffix(name, "IfExists"); ok && base != "Null" {
		if _, known := operators[base]; known {
			op.IfExists, name = true, base
		}
	}
	if _, ok := operators[name]; !ok {
		return op, malformed("unknown condition operator %q", s)
	}
	if name == "Null" && op.Set != "" {
		return op, malformed("%s cannot be used with Null", op.Set)
	}
	op.Name = name
	return op, nil
}

func checkKey(key string) error {
	if !keyPattern.MatchString(key) {
		return malformed("condition key %q must be service:name", key)
	}
	lk := strings.ToLower(key)
	if !strings.HasPrefix(lk, "aws:") {
		return nil
	}
	if globalKeys[lk] {
		return nil
	}
	if i := strings.IndexByte(lk, '/'); i > 0 && globalKeys[lk[:i+1]] && i+1 < len(lk) {
		return nil
	}
	return malformed("unknown global condition key %q", key)
}

// conditionValues reads a condition's values; IAM takes strings, and
// booleans and numbers as their text.
func conditionValues(v any, op, key string) ([]string, error) {
	one := func(x any) (string, bool) {
		switch x := x.(type) {
		case string:
			return x, true
		case bool:
			return strconv.FormatBool(x), true
		case json.Number:
			return x.String(), true
		}
		return "", false
	}
	if s, ok := one(v); ok {
		return []string{s}, nil
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, malformed("Condition %s %s must hold a value or a non-empty list of values", op, key)
	}
	out := make([]string, len(list))
	for i, x := range list {
		s, ok := one(x)
		if !ok {
			return nil, malformed("Condition %s %s holds a value that is not a string, number or boolean", op, key)
		}
		out[i] = s
	}
	return out, nil
}

// checkValue checks a policy value against its operator's type. Values
// with policy variables are checked after substitution, at evaluation.
func checkValue(op, v string) error {
	if strings.Contains(v, "${") {
		return nil
	}
	switch {
	case strings.HasPrefix(op, "Numeric"):
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return malformed("%q is not a number", v)
		}
	case strings.HasPrefix(op, "Date"):
		if _, ok := parseDate(v); !ok {
			return malformed("%q is not a date (ISO 8601 or epoch seconds)", v)
		}
	case op == "Bool", op == "Null":
		if l := strings.ToLower(v); l != "true" && l != "false" {
			return malformed("%q is not true or false", v)
		}
	case op == "IpAddress", op == "NotIpAddress":
		if _, ok := parseIP(v); !ok {
			return malformed("%q is not an IP address or CIDR block", v)
		}
	}
	return nil
}

func parseDate(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseIP(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
