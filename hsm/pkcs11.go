//go:build cgo

package hsm

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ThalesGroup/crypto11"
)

// Module is an open session with the token and its master key. The token
// may hold more than one key under the label after a rotation stopped
// midway: Choose picks the one that seals the keyring.
type Module struct {
	ctx   *crypto11.Context
	label string
	mu    sync.Mutex            // serialises Choose and Rotate
	keys  []*crypto11.SecretKey // under the label
	cur   atomic.Pointer[key]   // the one in use
	made  bool
}

// key is one AES key of the token, ready to seal.
type key struct {
	k   *crypto11.SecretKey
	gcm interface {
		Seal(dst, nonce, plaintext, aad []byte) []byte
		Open(dst, nonce, ciphertext, aad []byte) ([]byte, error)
	}
}

func newKey(k *crypto11.SecretKey) (*key, error) {
	g, err := k.NewGCM()
	if err != nil {
		return nil, wrapErr("AES-GCM", err)
	}
	return &key{k: k, gcm: g}, nil
}

// Open logs in to the token and finds the master key; with create, a
// token without one gets a new one, generated inside it.
func Open(c Config, create bool) (*Module, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: c.Module, TokenLabel: c.TokenLabel, Pin: c.PIN, GCMIVLength: nonceSize})
	if err != nil {
		return nil, wrapErr("open the token", err)
	}
	m := &Module{ctx: ctx, label: c.label()}
	m.keys, err = ctx.FindKeys(nil, []byte(m.label))
	if err == nil && len(m.keys) == 0 {
		if !create {
			ctx.Close()
			return nil, fmt.Errorf("hsm: the token holds no key labelled %q", m.label)
		}
		var k *crypto11.SecretKey
		if k, err = m.generate(); err == nil {
			m.keys, m.made = []*crypto11.SecretKey{k}, true
		}
	}
	if err != nil {
		ctx.Close()
		return nil, wrapErr("master key", err)
	}
	if len(m.keys) == 1 {
		k, err := newKey(m.keys[0])
		if err != nil {
			ctx.Close()
			return nil, err
		}
		m.cur.Store(k)
	}
	return m, nil
}

func (m *Module) generate() (*crypto11.SecretKey, error) {
	id := make([]byte, 16)
	rand.Read(id)
	return m.ctx.GenerateSecretKeyWithLabel(id, []byte(m.label), 256, crypto11.CipherAES)
}

// Choose picks, among the keys under the label, the one whose check value
// is check (keyring.StoredCheck); nil check, for a store without a
// keyring yet, needs a single key. It returns how many other keys the
// label holds: left by a rotation a stop interrupted, they seal nothing.
func (m *Module) Choose(check []byte) (others int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if check == nil {
		if len(m.keys) > 1 {
			return 0, fmt.Errorf("hsm: the token holds %d keys labelled %q and there is no keyring to tell which one seals it", len(m.keys), m.label)
		}
		return 0, nil
	}
	for _, k := range m.keys {
		c, err := newKey(k)
		if err != nil {
			return 0, err
		}
		if v, err := c.check(); err == nil && bytes.HasPrefix(v, check) {
			m.cur.Store(c)
			return len(m.keys) - 1, nil
		}
	}
	if len(m.keys) == 1 {
		return 0, nil // the keyring then reports the mismatch
	}
	return 0, fmt.Errorf("hsm: none of the %d keys labelled %q in the token seals this keyring: the master key does not match", len(m.keys), m.label)
}

// Rotate generates a new key under the label and has reseal seal the
// keyring with it; once it has, every other key under the label is
// destroyed. Should reseal fail, the new key is destroyed instead.
func (m *Module) Rotate(reseal func(next Sealer) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, err := m.generate()
	if err != nil {
		return wrapErr("generate a master key", err)
	}
	next, err := newKey(k)
	if err == nil {
		err = reseal(next)
	}
	if err != nil {
		k.Delete()
		return err
	}
	m.cur.Store(next)
	var errs []error
	for _, old := range m.keys {
		if err := old.Delete(); err != nil {
			errs = append(errs, err)
		}
	}
	m.keys = []*crypto11.SecretKey{k}
	if err := errors.Join(errs...); err != nil {
		return wrapErr("destroy the old master key", err)
	}
	return nil
}

// Created reports whether Open generated the key.
func (m *Module) Created() bool { return m.made }

// Close ends the session.
func (m *Module) Close() error { return m.ctx.Close() }

func (m *Module) key() (*key, error) {
	k := m.cur.Load()
	if k == nil {
		return nil, fmt.Errorf("hsm: the token holds %d keys labelled %q; which one seals the keyring is not chosen", len(m.keys), m.label)
	}
	return k, nil
}

// Seal encrypts inside the token under a random IV, returned ahead of the
// ciphertext.
func (m *Module) Seal(plaintext, aad []byte) ([]byte, error) {
	k, err := m.key()
	if err != nil {
		return nil, err
	}
	return k.Seal(plaintext, aad)
}

// Open decrypts inside the token.
func (m *Module) Open(sealed, aad []byte) ([]byte, error) {
	k, err := m.key()
	if err != nil {
		return nil, err
	}
	return k.Open(sealed, aad)
}

// Check is the GCM tag of nothing under a fixed IV: fixed for the key,
// revealing nothing of it.
func (m *Module) Check() ([]byte, error) {
	k, err := m.key()
	if err != nil {
		return nil, err
	}
	return k.check()
}

func (k *key) Seal(plaintext, aad []byte) (out []byte, err error) {
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	defer func() {
		if p := recover(); p != nil { // crypto11 panics on token errors
			out, err = nil, fmt.Errorf("hsm: seal: %v", p)
		}
	}()
	return k.gcm.Seal(nonce, nonce, plaintext, aad), nil
}

func (k *key) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceSize {
		return nil, errors.New("hsm: sealed value too short")
	}
	return k.gcm.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
}

func (k *key) Check() ([]byte, error) { return k.check() }

func (k *key) check() (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("hsm: check: %v", p)
		}
	}()
	return k.gcm.Seal(nil, make([]byte, nonceSize), nil, checkAAD), nil
}
