package iam

import (
	"context"
	"strconv"
	"strings"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/iam/policy"
)

// AWS managed policies the server knows, by ARN. They cannot be changed.
var awsManaged = map[string]*ManagedPolicy{}

// AdministratorAccess allows everything; the bootstrap administrator has it.
const AdministratorAccess = "arn:aws:iam::aws:policy/AdministratorAccess"

func init() {
	for name, doc := range map[string]string{
		"AdministratorAccess":           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"IAMReadOnlyAccess":             `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:Generate*","iam:Simulate*"],"Resource":"*"}]}`,
		"AWSIoTTwinMakerReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iottwinmaker:Get*","iottwinmaker:List*","iottwinmaker:ExecuteQuery"],"Resource":"*"}]}`,
	} {
		created := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
		awsManaged["arn:aws:iam::aws:policy/"+name] = &ManagedPolicy{Name: name, ID: "ANPA" + strings.ToUpper(name)[:min(17, len(name))],
			Path: "/", Default: "v1", Versions: []PolicyVersion{{ID: "v1", Document: doc, Created: created}}, Created: created, Updated: created, awsManaged: true}
	}
}

// IsAWSManaged reports whether arn names an AWS managed policy.
func IsAWSManaged(arn string) bool { return strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") }

// policyName is the name part of a customer managed policy ARN.
func policyName(arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::"+Account+":policy/")
	if !ok {
		return "", false
	}
	return rest[strings.LastIndexByte(rest, '/')+1:], true
}

// CreatePolicy stores a customer managed policy as version v1.
func (s *Store) CreatePolicy(ctx context.Context, name, path, description, doc string) (*ManagedPolicy, error) {
	if err := checkName("policyName", name, policyNamePattern); err != nil {
		return nil, err
	}
	path, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	if err := checkDocument(doc, policy.Identity, ManagedPolicyChars); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &ManagedPolicy{Name: name, ID: newID("ANPA"), Path: path, Description: description, Default: "v1",
		Versions: []PolicyVersion{{ID: "v1", Document: doc, Created: now}}, NextVersion: 2, Created: now, Updated: now}
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, found, err := get[ManagedPolicy](s, tx, "p", name); err != nil || found {
			if found {
				return twinvault.Errorf(twinvault.EntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", name)
			}
			return err
		}
		return put(s, tx, "p", name, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Policy returns a managed policy by ARN.
func (s *Store) Policy(ctx context.Context, arn string) (*ManagedPolicy, error) {
	var p *ManagedPolicy
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		p, err = s.policy(tx, arn)
		return err
	})
	return p, err
}

func (s *Store) policy(tx *barrier.Tx, arn string) (*ManagedPolicy, error) {
	if p, ok := awsManaged[arn]; ok {
		return p, nil
	}
	name, ok := policyName(arn)
	if !ok {
		return nil, invalid("%s is not a policy ARN of this account", arn)
	}
	p, found, err := get[ManagedPolicy](s, tx, "p", name)
	if err != nil {
		return nil, err
	}
	if !found || p.ARN() != arn {
		return nil, noSuch("Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

// Policies lists managed policies: scope "Local", "AWS" or "All" (or "").
func (s *Store) Policies(ctx context.Context, scope, pathPrefix string, onlyAttached bool) ([]*ManagedPolicy, error) {
	var out []*ManagedPolicy
	if scope == "" || scope == "All" || scope == "AWS" {
		for _, p := range awsManaged {
			out = append(out, p)
		}
	}
	if scope == "" || scope == "All" || scope == "Local" {
		err := s.b.Read(ctx, func(tx *barrier.Tx) error {
			local, err := list[ManagedPolicy](s, tx, "p")
			out = append(out, local...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	kept := out[:0]
	for _, p := range out {
		if hasPathPrefix(p.Path, pathPrefix) && (!onlyAttached || p.Attachments > 0) {
			kept = append(kept, p)
		}
	}
	return sortedNames(kept, func(p *ManagedPolicy) string { return p.Name }), nil
}

// DeletePolicy deletes a policy that is attached nowhere and has no
// version but its default.
func (s *Store) DeletePolicy(ctx context.Context, arn string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		p, err := s.policy(tx, arn)
		if err != nil {
			return err
		}
		if IsAWSManaged(arn) {
			return twinvault.Errorf(twinvault.InvalidInput, "AWS managed policies cannot be deleted")
		}
		if p.Attachments > 0 || len(p.Versions) > 1 {
			return twinvault.Errorf(twinvault.DeleteConflict, "Cannot delete a policy attached to entities or with versions other than the default.")
		}
		return del(s, tx, "p", p.Name)
	})
}

// CreatePolicyVersion adds a version, optionally the new default.
func (s *Store) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (*PolicyVersion, error) {
	if err := checkDocument(doc, policy.Identity, ManagedPolicyChars); err != nil {
		return nil, err
	}
	var v PolicyVersion
	err := s.updatePolicy(ctx, arn, func(p *ManagedPolicy) error {
		if len(p.Versions) >= MaxPolicyVersions {
			return twinvault.Errorf(twinvault.LimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MaxPolicyVersions)
		}
		v = PolicyVersion{ID: "v" + strconv.Itoa(p.NextVersion), Document: doc, Created: s.now().UTC()}
		p.NextVersion++
		p.Versions = append(p.Versions, v)
		if setDefault {
			p.Default = v.ID
		}
		p.Updated = v.Created
		return nil
	})
	return &v, err
}

// SetDefaultPolicyVersion makes a version the one in force.
func (s *Store) SetDefaultPolicyVersion(ctx context.Context, arn, version string) error {
	return s.updatePolicy(ctx, arn, func(p *ManagedPolicy) error {
		for _, v := range p.Versions {
			if v.ID == version {
				p.Default = version
				return nil
			}
		}
		return noSuch("Policy %s version %s does not exist.", arn, version)
	})
}

// DeletePolicyVersion deletes a version other than the default.
func (s *Store) DeletePolicyVersion(ctx context.Context, arn, version string) error {
	return s.updatePolicy(ctx, arn, func(p *ManagedPolicy) error {
		if version == p.Default {
			return twinvault.Errorf(twinvault.DeleteConflict, "Cannot delete the default version of a policy.")
		}
		for i, v := range p.Versions {
			if v.ID == version {
				p.Versions = append(p.Versions[:i], p.Versions[i+1:]...)
				return nil
			}
		}
		return noSuch("Policy %s version %s does not exist.", arn, version)
	})
}

func (s *Store) updatePolicy(ctx context.Context, arn string, fn func(p *ManagedPolicy) error) error {
	if IsAWSManaged(arn) {
		if _, ok := awsManaged[arn]; !ok {
			return noSuch("Policy %s does not exist or is not attachable.", arn)
		}
		return twinvault.Errorf(twinvault.InvalidInput, "AWS managed policies cannot be changed")
	}
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		p, err := s.policy(tx, arn)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return put(s, tx, "p", p.Name, p)
	})
}

// AttachUserPolicy attaches a managed policy to a user.
func (s *Store) AttachUserPolicy(ctx context.Context, user, arn string) error {
	return s.attach(ctx, arn, true, attachedList(s, "u", "user", user, func(u *User) *[]string { return &u.Attached }))
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Store) DetachUserPolicy(ctx context.Context, user, arn string) error {
	return s.attach(ctx, arn, false, attachedList(s, "u", "user", user, func(u *User) *[]string { return &u.Attached }))
}

// attach adds or removes arn in the list an entity gives, keeping the
// policy's attachment count.
func (s *Store) attach(ctx context.Context, arn string, on bool, entity func(tx *barrier.Tx) (*[]string, func() error, error)) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		p, err := s.policy(tx, arn)
		if err != nil {
			return err
		}
		list, save, err := entity(tx)
		if err != nil {
			return err
		}
		changed := false
		if on {
			if len(*list) >= MaxAttached {
				return twinvault.Errorf(twinvault.LimitExceeded, "Cannot exceed quota for PoliciesPerEntity: %d", MaxAttached)
			}
			n := len(*list)
			*list = addUnique(*list, arn)
			changed = len(*list) != n
		} else {
			var found bool
			if *list, found = remove(*list, arn); !found {
				return noSuch("Policy %s was not found.", arn)
			}
			changed = true
		}
		if err := save(); err != nil {
			return err
		}
		if !changed || IsAWSManaged(arn) {
			return nil
		}
		if on {
			p.Attachments++
		} else {
			p.Attachments--
		}
		return put(s, tx, "p", p.Name, p)
	})
}
