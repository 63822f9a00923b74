package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	twiniam "github.com/twinvault/twinvault/iam"
	"github.com/twinvault/twinvault/iam/policy"
)

// Thresholds of the CIS AWS Foundations Benchmark's identity checks.
const (
	maxKeyAge    = 90 * 24 * time.Hour
	maxKeyUnused = 45 * 24 * time.Hour
)

// finding is one failed check.
type finding struct {
	check, subject, detail string
}

// checks are the checks in the order the report lists them.
var checks = []string{
	"administrator without MFA",
	"user without MFA",
	"access key older than 90 days",
	"access key unused for 45 days",
	"policy allowing every action on every resource",
}

// securityCheck reports, CIS-style, what weakens a running server's
// identity set-up. It reads through the IAM API with the given
// credentials, so it needs a principal allowed to read IAM. The exit code
// is 0 when every check passes, 1 when some fail, 2 on bad usage and 3 on
// errors.
func securityCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("security-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := onlineFlags(fs)
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	ctx := context.Background()
	cfg, err := o.config(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault security-check: %v\n", err)
		return 3
	}
	client := iam.NewFromConfig(cfg, func(opt *iam.Options) { opt.BaseEndpoint = aws.String(o.endpoint); opt.RetryMaxAttempts = 1 })
	found, err := inspect(ctx, client, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "twinvault security-check: %v\n", err)
		return 3
	}
	report(stdout, found)
	if len(found) > 0 {
		return 1
	}
	return 0
}

func report(w io.Writer, found []finding) {
	by := map[string][]finding{}
	for _, f := range found {
		by[f.check] = append(by[f.check], f)
	}
	for _, c := range checks {
		if len(by[c]) == 0 {
			fmt.Fprintf(w, "PASS  %s\n", c)
			continue
		}
		fmt.Fprintf(w, "FAIL  %s\n", c)
		for _, f := range by[c] {
			fmt.Fprintf(w, "      %s: %s\n", f.subject, f.detail)
		}
	}
}

// inspect reads users, keys, MFA devices and policies and runs the checks.
func inspect(ctx context.Context, c *iam.Client, now time.Time) ([]finding, error) {
	var found []finding
	wildcard := map[string]bool{} // policy ARNs that allow everything
	pols, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{})
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	for _, p := range pols.Policies {
		v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: p.DefaultVersionId})
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", aws.ToString(p.Arn), err)
		}
		if allowsEverything(aws.ToString(v.PolicyVersion.Document)) {
			wildcard[aws.ToString(p.Arn)] = true
			if !twiniam.IsAWSManaged(aws.ToString(p.Arn)) {
				found = append(found, finding{checks[4], aws.ToString(p.Arn), "a customer managed policy allows \"*\" on \"*\""})
			}
		}
	}
	users, err := c.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	sort.Slice(users.Users, func(i, j int) bool {
		return aws.ToString(users.Users[i].UserName) < aws.ToString(users.Users[j].UserName)
	})
	for _, u := range users.Users {
		name := aws.ToString(u.UserName)
		admin := false
		att, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: u.UserName})
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", name, err)
		}
		for _, a := range att.AttachedPolicies {
			admin = admin || wildcard[aws.ToString(a.PolicyArn)]
		}
		inline, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: u.UserName})
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", name, err)
		}
		for _, pn := range inline.PolicyNames {
			p, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: u.UserName, PolicyName: aws.String(pn)})
			if err != nil {
				return nil, fmt.Errorf("user %s: %w", name, err)
			}
			if allowsEverything(aws.ToString(p.PolicyDocument)) {
				admin = true
				found = append(found, finding{checks[4], name + "/" + pn, "an inline policy allows \"*\" on \"*\""})
			}
		}
		mfa, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: u.UserName})
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", name, err)
		}
		if len(mfa.MFADevices) == 0 {
			if admin {
				found = append(found, finding{checks[0], name, "has every permission and no MFA device"})
			}
			found = append(found, finding{checks[1], name, "has no MFA device"})
		}
		keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u.UserName})
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", name, err)
		}
		for _, k := range keys.AccessKeyMetadata {
			if k.Status != "Active" {
				continue
			}
			id := aws.ToString(k.AccessKeyId)
			created := aws.ToTime(k.CreateDate)
			if age := now.Sub(created); age > maxKeyAge {
				found = append(found, finding{checks[2], name + " " + id, fmt.Sprintf("created %d days ago", int(age.Hours()/24))})
			}
			last, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
			if err != nil {
				return nil, fmt.Errorf("access key %s: %w", id, err)
			}
			used := created
			if t := last.AccessKeyLastUsed.LastUsedDate; t != nil {
				used = *t
			}
			if idle := now.Sub(used); idle > maxKeyUnused {
				found = append(found, finding{checks[3], name + " " + id, fmt.Sprintf("unused for %d days", int(idle.Hours()/24))})
			}
		}
	}
	return found, nil
}

// allowsEverything reports whether a document (as IAM returns it,
// URL-encoded) has an Allow of every action on every resource without
// conditions.
func allowsEverything(doc string) bool {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	p, err := policy.Parse([]byte(doc), policy.Identity, 0)
	if err != nil {
		return false
	}
	for _, st := range p.Statements {
		if st.Effect == policy.Allow && len(st.Conditions) == 0 && contains(st.Action, "*") && contains(st.Resource, "*") {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
