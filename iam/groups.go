package iam

import (
	"context"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
)

// CreateGroup creates a group with no members and no permissions.
func (s *Store) CreateGroup(ctx context.Context, name, path string) (*Group, error) {
	if err := checkName("groupName", name, namePattern); err != nil {
		return nil, err
	}
	path, err := checkPath(path)
	if err != nil {
		return nil, err
	}
	g := &Group{Name: name, ID: newID("AGPA"), Path: path, Created: s.now().UTC()}
	if err := createNamed(ctx, s, "g", "group", name, g); err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Store) group(tx *barrier.Tx, name string) (*Group, error) {
	return getNamed[Group](s, tx, "g", "group", name)
}

// Group returns a group.
func (s *Store) Group(ctx context.Context, name string) (*Group, error) {
	return readNamed[Group](ctx, s, "g", "group", name)
}

// Groups lists groups by name.
func (s *Store) Groups(ctx context.Context, pathPrefix string) ([]*Group, error) {
	return listNamed(ctx, s, "g", pathPrefix, func(g *Group) string { return g.Path }, func(g *Group) string { return g.Name })
}

// DeleteGroup deletes a group with no members and no policies.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		g, err := s.group(tx, name)
		if err != nil {
			return err
		}
		if len(g.Members) > 0 || len(g.Inline) > 0 || len(g.Attached) > 0 {
			return twinvault.Errorf(twinvault.DeleteConflict, "Cannot delete entity, must remove users and policies from group first.")
		}
		return del(s, tx, "g", name)
	})
}

// AddUserToGroup makes a user a member of a group: it gets the group's
// policies.
func (s *Store) AddUserToGroup(ctx context.Context, group, user string) error {
	return s.membership(ctx, group, user, true)
}

// RemoveUserFromGroup ends a membership.
func (s *Store) RemoveUserFromGroup(ctx context.Context, group, user string) error {
	return s.membership(ctx, group, user, false)
}

func (s *Store) membership(ctx context.Context, group, user string, in bool) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		g, err := s.group(tx, group)
		if err != nil {
			return err
		}
		u, err := s.user(tx, user)
		if err != nil {
			return err
		}
		if in {
			if len(u.Groups) >= MaxGroupsPerUser {
				return twinvault.Errorf(twinvault.LimitExceeded, "Cannot exceed quota for GroupsPerUser: %d", MaxGroupsPerUser)
			}
			g.Members, u.Groups = addUnique(g.Members, user), addUnique(u.Groups, group)
		} else {
			var found bool
			if g.Members, found = remove(g.Members, user); !found {
				return noSuch("User %s is not in group %s.", user, group)
			}
			u.Groups, _ = remove(u.Groups, group)
		}
		if err := put(s, tx, "g", group, g); err != nil {
			return err
		}
		return put(s, tx, "u", user, u)
	})
}

// PutGroupPolicy sets an inline policy of a group.
func (s *Store) PutGroupPolicy(ctx context.Context, group, name, doc string) error {
	if doc == "" {
		return invalid("policyDocument is required")
	}
	return putInline(ctx, s, "g", "group", group, name, doc, InlineGroupChars, func(g *Group) *map[string]string { return &g.Inline })
}

// DeleteGroupPolicy removes an inline policy of a group.
func (s *Store) DeleteGroupPolicy(ctx context.Context, group, name string) error {
	return putInline(ctx, s, "g", "group", group, name, "", 0, func(g *Group) *map[string]string { return &g.Inline })
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Store) AttachGroupPolicy(ctx context.Context, group, arn string) error {
	return s.attach(ctx, arn, true, attachedList(s, "g", "group", group, func(g *Group) *[]string { return &g.Attached }))
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Store) DetachGroupPolicy(ctx context.Context, group, arn string) error {
	return s.attach(ctx, arn, false, attachedList(s, "g", "group", group, func(g *Group) *[]string { return &g.Attached }))
}
