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
	if err := createNamed(ctx, s, "r", "role", name, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *Store) role(tx *barrier.Tx, name string) (*Role, error) {
	return getNamed[Role](s, tx, "r", "role", name)
}

// Role returns a role.
func (s *Store) Role(ctx context.Context, name string) (*Role, error) {
	return readNamed[Role](ctx, s, "r", "role", name)
}

// Roles lists roles by name.
func (s *Store) Roles(ctx context.Context, pathPrefix string) ([]*Role, error) {
	return listNamed(ctx, s, "r", pathPrefix, func(r *Role) string { return r.Path }, func(r *Role) string { return r.Name })
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

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Store) UpdateAssumeRolePolicy(ctx context.Context, name, trust string) error {
	if err := checkDocument(trust, policy.Trust, InlineRoleChars); err != nil {
		return err
	}
	return updateNamed(ctx, s, "r", "role", name, func(r *Role) error {
		r.Trust = trust
		return nil
	})
}

// PutRolePolicy sets an inline policy of a role.
func (s *Store) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	if doc == "" {
		return invalid("policyDocument is required")
	}
	return putInline(ctx, s, "r", "role", role, name, doc, InlineRoleChars, func(r *Role) *map[string]string { return &r.Inline })
}

// DeleteRolePolicy removes an inline policy of a role.
func (s *Store) DeleteRolePolicy(ctx context.Context, role, name string) error {
	return putInline(ctx, s, "r", "role", role, name, "", 0, func(r *Role) *map[string]string { return &r.Inline })
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Store) AttachRolePolicy(ctx context.Context, role, arn string) error {
	return s.attach(ctx, arn, true, attachedList(s, "r", "role", role, func(r *Role) *[]string { return &r.Attached }))
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Store) DetachRolePolicy(ctx context.Context, role, arn string) error {
	return s.attach(ctx, arn, false, attachedList(s, "r", "role", role, func(r *Role) *[]string { return &r.Attached }))
}
