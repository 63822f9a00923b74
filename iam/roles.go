package iam

import (
	"context"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/iam/policy"
)

// Session duration bounds of roles, in seconds.
const (
	MinSession     = 900
	DefaultSession = 3600
	MaxRoleSession = 43200
)

// CreateRole creates a role that the principals its trust policy names
// may assume.
func (s *Store) CreateRole(ctx context.Context, name, path, description, trust string, maxSession int, tags []Tag) (*Role, error) {
	if err := checkName("roleName", name, namePattern); err != nil {
		return nil, err
	}
	path, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	if maxSession == 0 {
		maxSession = DefaultSession
	}
	if maxSession < DefaultSession || maxSession > MaxRoleSession {
		return nil, invalid("maxSessionDuration must be between %d and %d seconds", DefaultSession, MaxRoleSession)
	}
	if err := checkDocument(trust, policy.Trust, InlineRoleChars); err != nil {
		return nil, err
	}
	r := &Role{Name: name, ID: newID("AROA"), Path: path, Description: description, Created: s.now().UTC(), Trust: trust, MaxSession: maxSession, Tags: tags}
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, found, err := get[Role](s, tx, "r", name); err != nil || found {
			if found {
				return twinvault.Errorf(twinvault.EntityAlreadyExists, "Role with name %s already exists.", name)
			}
			return err
		}
		return put(s, tx, "r", name, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Store) role(tx *barrier.Tx, name string) (*Role, error) {
	r, found, err := get[Role](s, tx, "r", name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuch("The role with name %s cannot be found.", name)
	}
	return r, nil
}

// Role returns a role.
func (s *Store) Role(ctx context.Context, name string) (*Role, error) {
	var r *Role
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		r, err = s.role(tx, name)
		return err
	})
	return r, err
}

// Roles lists roles by name.
func (s *Store) Roles(ctx context.Context, pathPrefix string) ([]*Role, error) {
	var out []*Role
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		all, err := list[Role](s, tx, "r")
		for _, r := range all {
			if hasPathPrefix(r.Path, pathPrefix) {
				out = append(out, r)
			}
		}
		return err
	})
	return sortedNames(out, func(r *Role) string { return r.Name }), err
}

// DeleteRole deletes a role with no policies left.
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		r, err := s.role(tx, name)
		if err != nil {
			return err
		}
		if len(r.Inline) > 0 || len(r.Attached) > 0 {
			return twinvault.Errorf(twinvault.DeleteConflict, "Cannot delete entity, must remove policies from role first.")
		}
		return del(s, tx, "r", name)
	})
}

func (s *Store) updateRole(ctx context.Context, name string, fn func(r *Role) error) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		r, err := s.role(tx, name)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		return put(s, tx, "r", name, r)
	})
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Store) UpdateAssumeRolePolicy(ctx context.Context, name, trust string) error {
	if err := checkDocument(trust, policy.Trust, InlineRoleChars); err != nil {
		return err
	}
	return s.updateRole(ctx, name, func(r *Role) error {
		r.Trust = trust
		return nil
	})
}

// PutRolePolicy sets an inline policy of a role.
func (s *Store) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	if err := checkName("policyName", name, policyNamePattern); err != nil {
		return err
	}
	if err := checkDocument(doc, policy.Identity, InlineRoleChars); err != nil {
		return err
	}
	return s.updateRole(ctx, role, func(r *Role) error {
		if r.Inline == nil {
			r.Inline = map[string]string{}
		}
		r.Inline[name] = doc
		return nil
	})
}

// DeleteRolePolicy removes an inline policy of a role.
func (s *Store) DeleteRolePolicy(ctx context.Context, role, name string) error {
	return s.updateRole(ctx, role, func(r *Role) error {
		if _, ok := r.Inline[name]; !ok {
			return noSuch("The role policy with name %s cannot be found.", name)
		}
		delete(r.Inline, name)
		return nil
	})
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Store) AttachRolePolicy(ctx context.Context, role, arn string) error {
	return s.attach(ctx, arn, true, s.roleList(role))
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Store) DetachRolePolicy(ctx context.Context, role, arn string) error {
	return s.attach(ctx, arn, false, s.roleList(role))
}

func (s *Store) roleList(name string) func(tx *barrier.Tx) (*[]string, func() error, error) {
	return func(tx *barrier.Tx) (*[]string, func() error, error) {
		r, err := s.role(tx, name)
		if err != nil {
			return nil, nil, err
		}
		return &r.Attached, func() error { return put(s, tx, "r", name, r) }, nil
	}
}
