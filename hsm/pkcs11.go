//go:build cgo

package hsm

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/ThalesGroup/crypto11"
)

// Module is an open session with the token and its master key.
type Module struct {
	ctx *crypto11.Context
	key *crypto11.SecretKey
	gcm interface {
		Seal(dst, nonce, plaintext, aad []byte) []byte
		Open(dst, nonce, ciphertext, aad []byte) ([]byte, error)
	}
	made bool
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
	m := &Module{ctx: ctx}
	keys, err := ctx.FindKeys(nil, []byte(c.label()))
	if len(keys) > 1 {
		ctx.Close()
		return nil, fmt.Errorf("hsm: the token holds %d keys labelled %q; which one seals the keyring is unclear", len(keys), c.label())
	}
	if len(keys) == 1 {
		m.key = keys[0]
	}
	if err == nil && m.key == nil {
		if !create {
			ctx.Close()
			return nil, fmt.Errorf("hsm: the token holds no key labelled %q", c.label())
		}
		id := make([]byte, 16)
		rand.Read(id)
		m.key, err = ctx.GenerateSecretKeyWithLabel(id, []byte(c.label()), 256, crypto11.CipherAES)
		m.made = true
	}
	if err != nil {
		ctx.Close()
		return nil, wrapErr("master key", err)
	}
	g, err := m.key.NewGCM()
	if err != nil {
		ctx.Close()
		return nil, wrapErr("AES-GCM", err)
	}
	m.gcm = g
	return m, nil
}

// Created reports whether Open generated the key.
func (m *Module) Created() bool { return m.made }

// Close ends the session.
func (m *Module) Close() error { return m.ctx.Close() }

// Seal encrypts inside the token under a random IV, returned ahead of the
// ciphertext.
func (m *Module) Seal(plaintext, aad []byte) (out []byte, err error) {
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	defer func() {
		if p := recover(); p != nil { // crypto11 panics on token errors
			out, err = nil, fmt.Errorf("hsm: seal: %v", p)
		}
	}()
	return m.gcm.Seal(nonce, nonce, plaintext, aad), nil
}

// Open decrypts inside the token.
func (m *Module) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceSize {
		return nil, errors.New("hsm: sealed value too short")
	}
	return m.gcm.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
}

// Check is the GCM tag of nothing under a fixed IV: fixed for the key,
// revealing nothing of it.
func (m *Module) Check() (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("hsm: check: %v", p)
		}
	}()
	return m.gcm.Seal(nil, make([]byte, nonceSize), nil, checkAAD), nil
}
