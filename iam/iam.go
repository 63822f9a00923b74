// Package iam keeps the server's principals and their access keys. Secret
// access keys are stored sealed by the barrier (the server needs them to
// recompute SigV4 signatures, so they cannot be hashed), and looked up by a
// blind index of the access key ID.
package iam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twinvault/twinvault/auth/sigv4"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// AccessKey is a long-term credential of a user.
type AccessKey struct {
	ID      string    `json:"id"`
	Secret  string    `json:"secret"`
	User    string    `json:"user"`
	Status  string    `json:"status"` // Active or Inactive
	Created time.Time `json:"created"`
	// Last use, recorded at most once a minute.
	LastUsed    time.Time `json:"lastUsed,omitzero"`
	LastService string    `json:"lastService,omitempty"`
	LastRegion  string    `json:"lastRegion,omitempty"`
}

// BootstrapUser is the administrator created on first start.
const BootstrapUser = "twinvault-admin"

// Store holds users and keys in the barrier's system view.
type Store struct {
	b      *barrier.Barrier
	now    func() time.Time
	used   lastUse
	parsed parsedCache
}

// Now is the store's time.
func (s *Store) Now() time.Time { return s.now() }

// New returns a Store over b; now tells the time (nil: time.Now), which
// decides when sessions end and which one-time codes are current.
func New(b *barrier.Barrier, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{b: b, now: now}
}

var bootstrapKey = []byte("iam/bootstrap")

func (s *Store) keyPath(id string) []byte {
	return append([]byte("iam/ak/"), s.b.System().Index(id)...)
}

// Bootstrap creates the administrator's access key on first start and
// hands it to deliver before storing it, so a key is never kept that
// nobody received. Later calls do nothing: the secret is handed out once.
func (s *Store) Bootstrap(ctx context.Context, deliver func(*AccessKey) error) (created bool, err error) {
	// Another node starting at the same time may bootstrap first; the
	// retry then finds its key and creates none.
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		return s.bootstrap(tx, deliver, &created)
	})
	if err != nil {
		return false, fmt.Errorf("iam: bootstrap: %w", err)
	}
	return created, nil
}

// BootstrapKeyID is the ID of the administrator's first access key, once
// one was made.
func (s *Store) BootstrapKeyID(ctx context.Context) (string, error) {
	id, err := s.b.System().Get(ctx, bootstrapKey)
	return string(id), err
}

func (s *Store) bootstrap(tx *barrier.Tx, deliver func(*AccessKey) error, created *bool) error {
	*created = false // the transaction may run again
	sys := s.b.System()
	if err := s.ensureAdmin(tx); err != nil {
		return err
	}
	if _, err := tx.Get(sys, bootstrapKey); err == nil {
		return nil
	} else if !errors.Is(err, kv.ErrNotFound) {
		return err
	}
	k, err := newAccessKey(BootstrapUser)
	if err != nil {
		return err
	}
	rec, err := json.Marshal(k)
	if err != nil {
		return err
	}
	if err := tx.Set(sys, s.keyPath(k.ID), rec); err != nil {
		return err
	}
	if err := tx.Set(sys, bootstrapKey, []byte(k.ID)); err != nil {
		return err
	}
	*created = true
	return deliver(k)
}

// Lookup returns the secret of an active access key, for SigV4.
func (s *Store) Lookup(ctx context.Context, id string) (sigv4.Key, error) {
	if IsSession(id) {
		var k sigv4.Key
		err := s.b.Read(ctx, func(tx *barrier.Tx) error {
			var err error
			k, err = s.lookupSession(tx, id)
			return err
		})
		return k, err
	}
	data, err := s.b.System().Get(ctx, s.keyPath(id))
	if errors.Is(err, kv.ErrNotFound) {
		return sigv4.Key{}, sigv4.ErrUnknownKey
	}
	if err != nil {
		return sigv4.Key{}, fmt.Errorf("iam: look up access key: %w", err)
	}
	var k AccessKey
	if err := json.Unmarshal(data, &k); err != nil {
		return sigv4.Key{}, fmt.Errorf("iam: decode access key: %w", err)
	}
	if k.ID != id || k.Status != "Active" {
		return sigv4.Key{}, sigv4.ErrUnknownKey
	}
	return sigv4.Key{Secret: []byte(k.Secret)}, nil
}

// Access key IDs look like AWS ones: "AKIA" and 16 characters of base32,
// so tools that recognise AWS keys treat them alike.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// randomID returns n random characters of idAlphabet.
func randomID(n int) string {
	raw := make([]byte, n)
	rand.Read(raw)
	for i, c := range raw {
		raw[i] = idAlphabet[c&31]
	}
	return string(raw)
}

func newAccessKey(user string) (*AccessKey, error) {
	var raw [30]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	return &AccessKey{
		ID:      "AKIA" + randomID(16),
		Secret:  base64.RawStdEncoding.EncodeToString(raw[:])[:40],
		User:    user,
		Status:  "Active",
		Created: time.Now().UTC(),
	}, nil
}
