package iam

import (
	"context"
	"sort"
	"sync"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
)

// CreateAccessKey makes a new active key for a user. Its secret is in the
// result and nowhere else the client can read it again.
func (s *Store) CreateAccessKey(ctx context.Context, user string) (*AccessKey, error) {
	var k *AccessKey
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, err := s.user(tx, user); err != nil {
			return err
		}
		keys, err := s.userKeys(tx, user)
		if err != nil {
			return err
		}
		if len(keys) >= MaxAccessKeys {
			return twinvault.Errorf(twinvault.LimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeys)
		}
		if k, err = newAccessKey(user); err != nil {
			return err
		}
		return put(s, tx, "ak", k.ID, k)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// userKeys lists a user's keys, oldest first.
func (s *Store) userKeys(tx *barrier.Tx, user string) ([]*AccessKey, error) {
	all, err := list[AccessKey](s, tx, "ak")
	var out []*AccessKey
	for _, k := range all {
		if k.User == user {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// AccessKeys lists a user's keys. The secrets are blanked.
func (s *Store) AccessKeys(ctx context.Context, user string) ([]*AccessKey, error) {
	var out []*AccessKey
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		if _, err := s.user(tx, user); err != nil {
			return err
		}
		var err error
		out, err = s.userKeys(tx, user)
		return err
	})
	for _, k := range out {
		k.Secret = ""
	}
	return out, err
}

// accessKey returns a key that belongs to user.
func (s *Store) accessKey(tx *barrier.Tx, user, id string) (*AccessKey, error) {
	k, found, err := get[AccessKey](s, tx, "ak", id)
	if err != nil {
		return nil, err
	}
	if !found || k.ID != id || k.User != user {
		return nil, noSuch("The Access Key with id %s cannot be found.", id)
	}
	return k, nil
}

// UpdateAccessKey makes a key Active or Inactive; an inactive key stops
// working with the next request.
func (s *Store) UpdateAccessKey(ctx context.Context, user, id, status string) error {
	if status != "Active" && status != "Inactive" {
		return invalid("status must be Active or Inactive")
	}
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		k, err := s.accessKey(tx, user, id)
		if err != nil {
			return err
		}
		k.Status = status
		return put(s, tx, "ak", id, k)
	})
}

// DeleteAccessKey deletes a key.
func (s *Store) DeleteAccessKey(ctx context.Context, user, id string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, err := s.accessKey(tx, user, id); err != nil {
			return err
		}
		return del(s, tx, "ak", id)
	})
}

// AccessKeyLastUsed returns a key's record, secret blanked, with its last
// use.
func (s *Store) AccessKeyLastUsed(ctx context.Context, id string) (*AccessKey, error) {
	var k *AccessKey
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var found bool
		var err error
		k, found, err = get[AccessKey](s, tx, "ak", id)
		if err == nil && (!found || k.ID != id) {
			err = noSuch("The Access Key with id %s cannot be found.", id)
		}
		return err
	})
	if k != nil {
		k.Secret = ""
	}
	return k, err
}

// lastUse remembers when each key's use was last written, so a busy key
// costs one write a minute.
type lastUse struct {
	mu sync.Mutex
	at map[string]time.Time
}

// Touch records that a key was used, at most once a minute per key.
func (s *Store) Touch(ctx context.Context, id, service, region string) error {
	now := s.now().UTC()
	s.used.mu.Lock()
	if s.used.at == nil {
		s.used.at = map[string]time.Time{}
	}
	if now.Sub(s.used.at[id]) < time.Minute {
		s.used.mu.Unlock()
		return nil
	}
	s.used.at[id] = now
	s.used.mu.Unlock()
	// Nodes of a deployment record the same key's use at once now and
	// then: the loser of the race tries again, and a use older than the
	// one stored is not written.
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		k, found, err := get[AccessKey](s, tx, "ak", id)
		if err != nil || !found || !k.LastUsed.Before(now) {
			return err
		}
		k.LastUsed, k.LastService, k.LastRegion = now, service, region
		return put(s, tx, "ak", id, k)
	})
}
