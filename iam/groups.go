package iam

import (
	"context"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/iam/policy"
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
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, found, err := get[Group](s, tx, "g", name); err != nil || found {
			if found {
				return twinvault.Errorf(twinvault.EntityAlreadyExists, "Group with name %s already exists.", name)
			}
			return err
		}
		return put(s, tx, "g", name, g)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Store) group(tx *barrier.Tx, name string) (*Group, error) {
	g, found, err := get[Group](s, tx, "g", name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuch("The group with name %s cannot be found.", name)
	}
	return g, nil
}

// Group returns a group.
func (s *Store) Group(ctx context.Context, name string) (*Group, error) {
	var g *Group
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		g, err = s.group(tx, name)
		return err
	})
	return g, err
}

// Groups lists groups by name.
func (s *Store) Groups(ctx context.Context, pathPrefix string) ([]*Group, error) {
	var out []*Group
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		all, err := list[Group](s, tx, "g")
		for _, g := range all {
			if hasPathPrefix(g.Path, pathPrefix) {
				out = append(out, g)
			}
		}
		return err
	})
	return sortedNames(out, func(g *Group) string { return g.Name }), err
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

func (s *Store) updateGroup(ctx context.Context, name string, fn func(g *Group) error) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		g, err := s.group(tx, name)
		if err != nil {
			return err
		}
		if err := fn(g); err != nil {
			return err
		}
		return put(s, tx, "g", name, g)
	})
}

// PutGroupPolicy sets an inline policy of a group.
func (s *Store) PutGroupPolicy(ctx context.Context, group, name, doc string) error {
	if err := checkName("policyName", name, policyNamePattern); err != nil {
		return err
	}
	if err := checkDocument(doc, policy.Identity, InlineGroupChars); err != nil {
		return err
	}
	return s.updateGroup(ctx, group, func(g *Group) error {
		if g.Inline == nil {
			g.Inline = map[string]string{}
		}
		g.Inline[name] = doc
		return nil
	})
}

// DeleteGroupPolicy removes an inline policy of a group.
func (s *Store) DeleteGroupPolicy(ctx context.Context, group, name string) error {
	return s.updateGroup(ctx, group, func(g *Group) error {
		if _, ok := g.Inline[name]; !ok {
			return noSuch("The group policy with name %s cannot be found.", name)
		}
		delete(g.Inline, name)
		return nil
	})
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Store) AttachGroupPolicy(ctx context.Context, group, arn string) error {
	return s.attach(ctx, arn, true, s.groupList(group))
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Store) DetachGroupPolicy(ctx context.Context, group, arn string) error {
	return s.attach(ctx, arn, false, s.groupList(group))
}

func (s *Store) groupList(name string) func(tx *barrier.Tx) (*[]string, func() error, error) {
	return func(tx *barrier.Tx) (*[]string, func() error, error) {
		g, err := s.group(tx, name)
		if err != nil {
			return nil, nil, err
		}
		return &g.Attached, func() error { return put(s, tx, "g", name, g) }, nil
	}
}
