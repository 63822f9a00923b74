// Package hsm keeps TwinVault's master key in a PKCS#11 hardware security
// module (or SoftHSM): an AES-256 key generated inside the token,
// sensitive and not extractable, seals the keyring record, so the master
// key never leaves the module. It is a keyring.Sealer.
package hsm

import (
	"errors"
	"fmt"
)

// Config names the module, the token, the user PIN and the key.
type Config struct {
	Module     string // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	TokenLabel string
	PIN        string
	KeyLabel   string // "" for DefaultKeyLabel
}

// DefaultKeyLabel labels the master key in the token.
const DefaultKeyLabel = "twinvault-master"

// Sealer seals with one key of the token; it is what a rotation hands the
// keyring (keyring.Sealer).
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
	Check() ([]byte, error)
}

// nonceSize is the GCM IV length, drawn at random for each seal.
const nonceSize = 12

// checkAAD binds the check value; no record is ever sealed with it.
var checkAAD = []byte("twinvault keyring check v1")

// ErrUnavailable reports a binary built without cgo, which PKCS#11 needs.
var ErrUnavailable = errors.New("hsm: PKCS#11 needs a binary built with cgo")

func (c Config) label() string {
	if c.KeyLabel != "" {
		return c.KeyLabel
	}
	return DefaultKeyLabel
}

func (c Config) validate() error {
	switch {
	case c.Module == "":
		return errors.New("hsm: the PKCS#11 module path is empty (--pkcs11-module)")
	case c.TokenLabel == "":
		return errors.New("hsm: the token label is empty (--pkcs11-token)")
	case c.PIN == "":
		return errors.New("hsm: the user PIN is empty (--pkcs11-pin-file or TWINVAULT_PKCS11_PIN)")
	}
	return nil
}

// wrapErr names what failed without echoing the PIN.
func wrapErr(what string, err error) error { return fmt.Errorf("hsm: %s: %w", what, err) }
