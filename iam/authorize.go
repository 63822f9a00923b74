package iam

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/iam/policy"
)

// Principal is who signed a request, with every policy that applies to
// it.
type Principal struct {
	ARN         string
	UserID      string // aws:userid
	UserName    string // aws:username; empty for roles
	Type        string // User
	AccessKeyID string
	Tags        []Tag
	Policies    []policy.Policy
	Limits      [][]policy.Policy // session policies; each set must also allow
	MFA         bool
	MFATime     time.Time // when MFA was proven
	Created     time.Time // of the credentials
	Session     bool      // temporary credentials
	RoleName    string    // of an assumed role
}

// Call is one request to authorise.
type Call struct {
	Action    string   // service:Operation
	Resources []string // every resource the action needs; "*" when none
	SourceIP  string
	Region    string
	UserAgent string
	Secure    bool                // arrived over TLS
	Context   map[string][]string // request keys such as aws:RequestTag/k and aws:TagKeys
	Now       time.Time           // zero: time.Now()
	// ResourceTags returns a resource's tags, for aws:ResourceTag keys;
	// nil when the service has none. Asked only when a policy tests them.
	ResourceTags func(arn string) (map[string]string, error)
}

// Context builds the condition keys of a call by p.
func (p *Principal) Context(c *Call, now time.Time) policy.Context {
	ctx := policy.Context{
		"aws:PrincipalArn":     {p.ARN},
		"aws:PrincipalAccount": {Account},
		"aws:PrincipalType":    {p.Type},
		"aws:userid":           {p.UserID},
		"aws:SecureTransport":  {strconv.FormatBool(c.Secure)},
		"aws:CurrentTime":      {now.UTC().Format(time.RFC3339)},
		"aws:EpochTime":        {strconv.FormatInt(now.Unix(), 10)},
	}
	set := func(k, v string) {
		if v != "" {
			ctx[k] = []string{v}
		}
	}
	set("aws:username", p.UserName)
	set("aws:SourceIp", c.SourceIP)
	set("aws:RequestedRegion", c.Region)
	set("aws:UserAgent", c.UserAgent)
	if p.MFA {
		ctx["aws:MultiFactorAuthPresent"] = []string{"true"}
		ctx["aws:MultiFactorAuthAge"] = []string{strconv.FormatInt(int64(now.Sub(p.MFATime)/time.Second), 10)}
	}
	if p.Session {
		set("aws:TokenIssueTime", p.Created.UTC().Format(time.RFC3339))
	}
	for _, t := range p.Tags {
		ctx["aws:PrincipalTag/"+t.Key] = []string{t.Value}
	}
	for k, v := range c.Context {
		ctx[k] = v
	}
	return ctx
}

// Authorize decides a call: every resource it needs must be allowed, and
// a deny on any is final. A refusal is an error with code (the service's
// own: AccessDeniedException for TwinMaker, AccessDenied for IAM and STS)
// and AWS's explanation, which names the action and the resource as the
// caller gave them and never says whether the resource exists.
func (p *Principal) Authorize(c *Call, code string) error {
	if p.Session && p.Type == "User" && !p.MFA && strings.HasPrefix(strings.ToLower(c.Action), "iam:") {
		// AWS's rule for GetSessionToken credentials.
		return twinvault.Errorf(code, "User: %s is not authorized to perform: %s because credentials from GetSessionToken without MFA cannot call IAM", p.ARN, c.Action)
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	ctx := p.Context(c, now)
	resources := c.Resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var implicit string
	tagged := c.ResourceTags != nil && p.testsResourceTags()
	for _, res := range resources {
		rctx := ctx
		if tagged && res != "*" {
			tags, err := c.ResourceTags(res)
			if err != nil {
				return err
			}
			rctx = maps.Clone(ctx)
			for k, v := range tags {
				rctx["aws:ResourceTag/"+k] = []string{v}
			}
		}
		r := policy.Evaluate(&policy.Request{Action: c.Action, Resource: res, Principal: p.ARN, Account: Account, Context: rctx}, p.Policies, p.Limits...)
		switch r.Decision {
		case policy.ExplicitDeny:
			return twinvault.Errorf(code, "User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy", p.ARN, c.Action, res)
		case policy.ImplicitDeny:
			if implicit == "" {
				implicit = res
			}
		}
	}
	if implicit != "" {
		return twinvault.Errorf(code, "User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", p.ARN, c.Action, implicit, c.Action)
	}
	return nil
}

// testsResourceTags reports whether any policy of p has a condition on
// aws:ResourceTag, which costs a read of the resource's tags.
func (p *Principal) testsResourceTags() bool {
	sets := append([][]policy.Policy{p.Policies}, p.Limits...)
	for _, set := range sets {
		for _, pol := range set {
			for _, st := range pol.Doc.Statements {
				for _, c := range st.Conditions {
					if len(c.Key) > 16 && strings.EqualFold(c.Key[:16], "aws:ResourceTag/") {
						return true
					}
				}
			}
		}
	}
	return false
}

// parsed caches documents by their text: the same few policies decide
// every request.
type parsedCache struct {
	mu sync.Mutex
	m  map[string]*policy.Document
}

func (c *parsedCache) parse(doc string, kind policy.Kind) (*policy.Document, error) {
	c.mu.Lock()
	d, ok := c.m[doc]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := policy.Parse([]byte(doc), kind, 0)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 4096 {
		c.m = map[string]*policy.Document{}
	}
	c.m[doc] = d
	c.mu.Unlock()
	return d, nil
}

// PrincipalOf returns the principal of an access key (and, for temporary
// credentials, its session token) with its policies: a user's inline and
// attached ones and those of its groups, or an assumed role's and its
// session policy.
func (s *Store) PrincipalOf(ctx context.Context, accessKeyID, token string) (*Principal, error) {
	var p *Principal
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		if IsSession(accessKeyID) {
			sess, err := s.session(tx, accessKeyID, token)
			if err != nil {
				return err
			}
			p, err = s.principalOfSession(tx, sess)
			return err
		}
		k, found, err := get[AccessKey](s, tx, "ak", accessKeyID)
		if err != nil {
			return err
		}
		if !found || k.ID != accessKeyID || k.Status != "Active" {
			return twinvault.Errorf(twinvault.UnrecognizedClientException, "The security token included in the request is invalid.")
		}
		u, err := s.user(tx, k.User)
		if err != nil {
			return err
		}
		p = &Principal{ARN: u.ARN(), UserID: u.ID, UserName: u.Name, Type: "User", AccessKeyID: k.ID, Tags: u.Tags, Created: k.Created}
		p.Policies, err = s.policiesOf(tx, u)
		return err
	})
	return p, err
}

// PrincipalOfUser is the principal of a user who proved who they are by
// other means than an access key: a client certificate naming them.
func (s *Store) PrincipalOfUser(ctx context.Context, name string) (*Principal, error) {
	var p *Principal
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		u, found, err := get[User](s, tx, "u", name)
		if err != nil {
			return err
		}
		if !found || u.Name != name {
			return twinvault.Errorf(twinvault.UnrecognizedClientException, "The client certificate names no user.")
		}
		p = &Principal{ARN: u.ARN(), UserID: u.ID, UserName: u.Name, Type: "User", Tags: u.Tags, Created: u.Created}
		p.Policies, err = s.policiesOf(tx, u)
		return err
	})
	return p, err
}

func (s *Store) policiesOf(tx *barrier.Tx, u *User) ([]policy.Policy, error) {
	out, err := s.ownPolicies(tx, u.ARN(), u.Inline, u.Attached)
	if err != nil {
		return nil, err
	}
	for _, gname := range u.Groups {
		g, found, err := get[Group](s, tx, "g", gname)
		if err != nil {
			return nil, err
		}
		if found {
			more, err := s.ownPolicies(tx, g.ARN(), g.Inline, g.Attached)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		}
	}
	return out, nil
}

// ownPolicies parses the inline and attached policies of one user, group
// or role.
func (s *Store) ownPolicies(tx *barrier.Tx, owner string, inline map[string]string, attached []string) ([]policy.Policy, error) {
	var out []policy.Policy
	add := func(name, doc string) error {
		d, err := s.parsed.parse(doc, policy.Identity)
		if err != nil {
			return fmt.Errorf("iam: stored policy %s: %w", name, err)
		}
		out = append(out, policy.Policy{Name: name, Doc: d})
		return nil
	}
	for name, doc := range inline {
		if err := add(owner+"/"+name, doc); err != nil {
			return nil, err
		}
	}
	for _, arn := range attached {
		mp, err := s.policy(tx, arn)
		var te *twinvault.Error
		if errors.As(err, &te) && te.Code == twinvault.NoSuchEntity {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := add(arn, mp.DefaultDocument()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ensureAdmin gives the bootstrap key's user a record with
// AdministratorAccess, for stores made before users had records.
func (s *Store) ensureAdmin(tx *barrier.Tx) error {
	if _, found, err := get[User](s, tx, "u", BootstrapUser); err != nil || found {
		return err
	}
	u := &User{Name: BootstrapUser, ID: newID("AIDA"), Path: "/", Created: s.now().UTC(), Attached: []string{AdministratorAccess}}
	return put(s, tx, "u", BootstrapUser, u)
}

// Simulation is the decision on one action and resource, for
// SimulatePrincipalPolicy.
type Simulation struct {
	Action, Resource string
	Result           policy.Result
}

// Simulate decides actions on resources for a user, with extra condition
// keys, without doing anything: an explanation of what the user may do.
func (s *Store) Simulate(ctx context.Context, userARN string, actions, resources []string, keys map[string][]string) ([]Simulation, error) {
	name, ok := strings.CutPrefix(userARN, "arn:aws:iam::"+Account+":user/")
	if !ok {
		return nil, invalid("policySourceArn must be a user of this account")
	}
	name = name[strings.LastIndexByte(name, '/')+1:]
	var p *Principal
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		u, err := s.user(tx, name)
		if err != nil {
			return err
		}
		p = &Principal{ARN: u.ARN(), UserID: u.ID, UserName: u.Name, Type: "User", Tags: u.Tags}
		p.Policies, err = s.policiesOf(tx, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	pctx := p.Context(&Call{Secure: true, Context: keys}, s.now())
	var out []Simulation
	for _, a := range actions {
		for _, r := range resources {
			res := policy.Evaluate(&policy.Request{Action: a, Resource: r, Principal: p.ARN, Account: Account, Context: pctx}, p.Policies)
			out = append(out, Simulation{Action: a, Resource: r, Result: res})
		}
	}
	return out, nil
}
