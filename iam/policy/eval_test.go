package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evalCase is one case of the corpus in testdata/eval: policies, a
// request, and the decision IAM makes, worked out from IAM's documented
// rules rather than from this code.
type evalCase struct {
	Name     string `json:"name"`
	Policies []struct {
		Name     string          `json:"name"`
		Document json.RawMessage `json:"document"`
	} `json:"policies"`
	Request struct {
		Action    string              `json:"action"`
		Resource  string              `json:"resource"`
		Principal string              `json:"principal"`
		Account   string              `json:"account"`
		Context   map[string][]string `json:"context"`
	} `json:"request"`
	Expect string `json:"expect"`
}

func loadCorpus(t testing.TB) []evalCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "eval", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no evaluation corpus: %v", err)
	}
	var all []evalCase
	names := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []evalCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cases {
			if prev, dup := names[c.Name]; dup {
				t.Fatalf("case %q is in %s and %s", c.Name, prev, f)
			}
			names[c.Name] = f
		}
		all = append(all, cases...)
	}
	return all
}

func (c *evalCase) parse(t testing.TB) ([]Policy, *Request) {
	t.Helper()
	var ps []Policy
	for _, p := range c.Policies {
		doc, err := Parse(p.Document, Identity, 0)
		if err != nil {
			t.Fatalf("%s: policy %s: %v", c.Name, p.Name, err)
		}
		ps = append(ps, Policy{Name: p.Name, Doc: doc})
	}
	req := &Request{Action: c.Request.Action, Resource: c.Request.Resource, Principal: c.Request.Principal,
		Account: c.Request.Account, Context: Context(c.Request.Context)}
	return ps, req
}

func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 150 {
		t.Errorf("the corpus has %d cases; it should have at least 150", len(cases))
	}
	for _, c := range cases {
		ps, req := c.parse(t)
		got := Evaluate(req, ps)
		if got.Decision.String() != c.Expect && !(c.Expect == "Allow" && got.Decision == Allowed) {
			t.Errorf("%s: %s, want %s", c.Name, got.Decision, c.Expect)
		}
	}
}

// TestDenyNeverAllows: adding a Deny that matches the request to any case
// of the corpus gives an explicit deny.
func TestDenyNeverAllows(t *testing.T) {
	deny, err := Parse([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`), Identity, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadCorpus(t) {
		ps, req := c.parse(t)
		if got := Evaluate(req, append(ps, Policy{Name: "deny", Doc: deny})); got.Decision != ExplicitDeny {
			t.Errorf("%s: %s with a Deny of everything", c.Name, got.Decision)
		}
	}
}

// FuzzDenyWins: whatever the policies and the request, a Deny statement
// that matches the request turns the decision into an explicit deny, and
// removing every Deny never turns an Allow into anything else.
func FuzzDenyWins(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iottwinmaker:*","Resource":"*"}}`,
		"iottwinmaker:GetEntity", "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/w/entity/e", "aws:username", "alice")
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:iottwinmaker:*:*:workspace/${aws:username}*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`,
		"iottwinmaker:GetWorkspace", "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/alice", "aws:MultiFactorAuthPresent", "true")
	f.Add(`{"Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:iam::*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*","b?"]}}}}`,
		"s3:GetObject", "arn:aws:s3:::b/k", "aws:TagKeys", "ab")
	f.Fuzz(func(t *testing.T, doc, action, resource, key, value string) {
		p, err := Parse([]byte(doc), Identity, 0)
		if err != nil {
			return
		}
		req := &Request{Action: action, Resource: resource, Context: Context{key: {value}}}
		before := Evaluate(req, []Policy{{Name: "p", Doc: p}})
		st := Statement{Effect: Deny, Action: []string{"*"}, Resource: []string{"*"}}
		withDeny := &Document{Version: p.Version, Statements: append(append([]Statement(nil), p.Statements...), st)}
		if got := Evaluate(req, []Policy{{Name: "p", Doc: withDeny}}); got.Decision != ExplicitDeny {
			t.Fatalf("a matching Deny gave %s", got.Decision)
		}
		var allows []Statement
		for _, s := range p.Statements {
			if s.Effect == Allow {
				allows = append(allows, s)
			}
		}
		if before.Decision == Allowed {
			only := &Document{Version: p.Version, Statements: allows}
			if got := Evaluate(req, []Policy{{Name: "p", Doc: only}}); got.Decision != Allowed {
				t.Fatalf("removing Deny statements turned Allow into %s", got.Decision)
			}
		}
	})
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, doc, want string
		kind            Kind
		max             int
	}{
		{"not json", `{"Version":`, "not valid JSON", Identity, 0},
		{"not an object", `[]`, "JSON object", Identity, 0},
		{"trailing text", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} x`, "after its JSON", Identity, 0},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "Version", Identity, 0},
		{"unknown element", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"},"Foo":1}`, `unknown policy element "Foo"`, Identity, 0},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement", Identity, 0},
		{"empty statement list", `{"Statement":[]}`, "must not be empty", Identity, 0},
		{"bad effect", `{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, "Effect must be", Identity, 0},
		{"no effect", `{"Statement":{"Action":"*","Resource":"*"}}`, "Effect is required", Identity, 0},
		{"action and notaction", `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}}`, "exactly one of Action", Identity, 0},
		{"no action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, "exactly one of Action", Identity, 0},
		{"no resource", `{"Statement":{"Effect":"Allow","Action":"*"}}`, "exactly one of Resource", Identity, 0},
		{"bad action", `{"Statement":{"Effect":"Allow","Action":"GetEntity","Resource":"*"}}`, "service:action", Identity, 0},
		{"wildcard service", `{"Statement":{"Effect":"Allow","Action":"*:GetEntity","Resource":"*"}}`, "service:action", Identity, 0},
		{"bad resource", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"workspace/x"}}`, "ARN", Identity, 0},
		{"empty action list", `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "must not be empty", Identity, 0},
		{"number in action", `{"Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}`, "strings", Identity, 0},
		{"principal in identity policy", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, "no Principal", Identity, 0},
		{"resource in trust policy", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}}`, "no Resource", Trust, 0},
		{"no principal in trust policy", `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, "Principal is required", Trust, 0},
		{"bad principal kind", `{"Statement":{"Effect":"Allow","Principal":{"User":"x"},"Action":"sts:AssumeRole"}}`, "unknown principal type", Trust, 0},
		{"notprincipal", `{"Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"sts:AssumeRole"}}`, "NotPrincipal", Trust, 0},
		{"unknown operator", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqual":{"aws:username":"a"}}}}`, `unknown condition operator "StringEqual"`, Identity, 0},
		{"unknown qualifier", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForSome:StringEquals":{"aws:username":"a"}}}}`, "qualifier", Identity, 0},
		{"null with set", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAnyValue:Null":{"aws:username":"true"}}}}`, "Null", Identity, 0},
		{"nullifexists", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}}`, "unknown condition operator", Identity, 0},
		{"unknown global key", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresnt":"true"}}}}`, "unknown global condition key", Identity, 0},
		{"key without service", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}}`, "service:name", Identity, 0},
		{"bad number", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"an hour"}}}}`, "not a number", Identity, 0},
		{"bad date", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`, "not a date", Identity, 0},
		{"bad bool", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}`, "true or false", Identity, 0},
		{"bad ip", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}`, "IP address", Identity, 0},
		{"empty condition values", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":[]}}}}`, "non-empty list", Identity, 0},
		{"object condition value", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}}`, "non-empty list", Identity, 0},
		{"bad sid", `{"Statement":{"Sid":"a b","Effect":"Allow","Action":"*","Resource":"*"}}`, "Sid", Identity, 0},
		{"duplicate sid", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, "used twice", Identity, 0},
		{"too long", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "at most 10", Identity, 10},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc), c.kind, c.max)
		var pe *Error
		if err == nil || !errorAs(err, &pe) || !strings.Contains(pe.Msg, c.want) {
			t.Errorf("%s: got %v, want a malformed-policy error containing %q", c.name, err, c.want)
		}
	}
	// White space does not count toward the size.
	doc := `{ "Statement" : { "Effect" : "Allow", "Action" : "*", "Resource" : "*" } }`
	if _, err := Parse([]byte(doc), Identity, len(strings.ReplaceAll(doc, " ", ""))); err != nil {
		t.Errorf("white space counted toward the size: %v", err)
	}
}

func errorAs(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// TestVariables covers substitution details the corpus states only
// through decisions.
func TestVariables(t *testing.T) {
	ctx := Context{"aws:username": {"a*b"}, "aws:PrincipalTag/team": {"ops"}}
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/a*b/*", true},
		{"${aws:principaltag/team}-${aws:userid, 'anon'}", "ops-anon", true},
		{"${*}${?}${$}", "*?$", true},
		{"x${aws:userid}", "", false},
		{"unclosed ${aws:username", "unclosed ${aws:username", true},
	}
	for _, c := range cases {
		p, ok := expand(c.in, ctx, true)
		if ok != c.ok || ok && p.text() != c.want {
			t.Errorf("expand(%q) = %q, %v; want %q, %v", c.in, p.text(), ok, c.want, c.ok)
		}
	}
	// The substituted * is literal; the pattern's own is a wildcard.
	p, _ := expand("arn:aws:s3:::home/${aws:username}/*", ctx, true)
	if !globMatch(p, "arn:aws:s3:::home/a*b/x", false) || globMatch(p, "arn:aws:s3:::home/axxb/x", false) {
		t.Error("a substituted * acted as a wildcard, or the pattern's own did not")
	}
}
