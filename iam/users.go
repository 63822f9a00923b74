package iam

import (
	"context"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/iam/policy"
)

// Limits, as IAM's defaults.
const (
	MaxAccessKeys      = 2  // per user
	MaxPolicyVersions  = 5  // per managed policy
	MaxAttached        = 10 // managed policies per user, group or role
	MaxGroupsPerUser   = 10
	MaxTags            = 50
	InlineUserChars    = 2048
	InlineGroupChars   = 5120
	InlineRoleChars    = 10240
	ManagedPolicyChars = 6144
)

// CreateUser creates a user with no permissions.
func (s *Store) CreateUser(ctx context.Context, name, path string, tags []Tag) (*User, error) {
	if err := checkName("userName", name, namePattern); err != nil {
		return nil, err
	}
	path, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	if len(tags) > MaxTags {
		return nil, twinvault.Errorf(twinvault.LimitExceeded, "a user may have at most %d tags", MaxTags)
	}
	u := &User{Name: name, ID: newID("AIDA"), Path: path, Created: s.now().UTC(), Tags: tags}
	if err := createNamed(ctx, s, "u", "user", name, u); err != nil {
		return nil, err
	}
	return u, nil
}

// User returns a user.
func (s *Store) User(ctx context.Context, name string) (*User, error) {
	return readNamed[User](ctx, s, "u", "user", name)
}

func (s *Store) user(tx *barrier.Tx, name string) (*User, error) {
	return getNamed[User](s, tx, "u", "user", name)
}

// Users lists users whose path begins with pathPrefix, by name.
func (s *Store) Users(ctx context.Context, pathPrefix string) ([]*User, error) {
	return listNamed(ctx, s, "u", pathPrefix, func(u *User) string { return u.Path }, func(u *User) string { return u.Name })
}

// DeleteUser deletes a user that has nothing left attached, as IAM
// requires: no access keys, policies, groups or MFA devices.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		u, err := s.user(tx, name)
		if err != nil {
			return err
		}
		keys, err := s.userKeys(tx, name)
		if err != nil {
			return err
		}
		if len(keys) > 0 || len(u.Inline) > 0 || len(u.Attached) > 0 || len(u.Groups) > 0 || len(u.MFA) > 0 {
			return twinvault.Errorf(twinvault.DeleteConflict, "Cannot delete entity, must delete access keys, policies, group memberships and MFA devices first.")
		}
		return del(s, tx, "u", name)
	})
}

// TagUser adds or replaces tags on a user.
func (s *Store) TagUser(ctx context.Context, name string, tags []Tag) error {
	return s.updateUser(ctx, name, func(u *User) error {
		for _, t := range tags {
			replaced := false
			for i := range u.Tags {
				if u.Tags[i].Key == t.Key {
					u.Tags[i].Value, replaced = t.Value, true
				}
			}
			if !replaced {
				u.Tags = append(u.Tags, t)
			}
		}
		if len(u.Tags) > MaxTags {
			return twinvault.Errorf(twinvault.LimitExceeded, "a user may have at most %d tags", MaxTags)
		}
		return nil
	})
}

// UntagUser removes tags from a user.
func (s *Store) UntagUser(ctx context.Context, name string, keys []string) error {
	return s.updateUser(ctx, name, func(u *User) error {
		kept := u.Tags[:0]
		for _, t := range u.Tags {
			drop := false
			for _, k := range keys {
				drop = drop || k == t.Key
			}
			if !drop {
				kept = append(kept, t)
			}
		}
		u.Tags = kept
		return nil
	})
}

func (s *Store) updateUser(ctx context.Context, name string, fn func(u *User) error) error {
	return updateNamed(ctx, s, "u", "user", name, fn)
}

// PutUserPolicy sets an inline policy of a user.
func (s *Store) PutUserPolicy(ctx context.Context, user, name, doc string) error {
	if doc == "" {
		return invalid("policyDocument is required")
	}
	return putInline(ctx, s, "u", "user", user, name, doc, InlineUserChars, func(u *User) *map[string]string { return &u.Inline })
}

// DeleteUserPolicy removes an inline policy of a user.
func (s *Store) DeleteUserPolicy(ctx context.Context, user, name string) error {
	return putInline(ctx, s, "u", "user", user, name, "", 0, func(u *User) *map[string]string { return &u.Inline })
}

// checkDocument parses a policy as it is stored: a malformed one is
// refused with IAM's MalformedPolicyDocument.
func checkDocument(doc string, kind policy.Kind, maxChars int) error {
	if _, err := policy.Parse([]byte(doc), kind, maxChars); err != nil {
		return twinvault.Errorf(twinvault.MalformedPolicyDocument, "%s", err.Error())
	}
	return nil
}
