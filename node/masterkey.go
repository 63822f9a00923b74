package node

import (
	"context"
	"fmt"

	"github.com/twinvault/twinvault"

	"github.com/twinvault/twinvault/hsm"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
)

// SourcePKCS11 keeps the master key in a PKCS#11 module (see package hsm).
const SourcePKCS11 = "pkcs11"

// PKCS11 names the module, token, key and PIN of the pkcs11 source.
type PKCS11 struct {
	Module, Token, KeyLabel string
	PINFile                 string // "" reads TWINVAULT_PKCS11_PIN
}

// masterKey is a master-key source opened: it seals and checks keyring
// records, by a key in memory or by a hardware module.
type masterKey struct {
	key     []byte      // the key, unless a module holds it
	pending []byte      // passphrase: the key of a change a stop interrupted
	module  *hsm.Module // the module, for pkcs11
}

// openMasterKey opens cfg's master-key source; create allows a new key
// file, passphrase parameters or module key on a first start.
func (c *Config) openMasterKey(create bool) (*masterKey, error) {
	if c.KeySource != SourcePKCS11 {
		key, pending, err := c.keySource().LoadWithPending(create)
		if err != nil {
			return nil, err
		}
		return &masterKey{key: key, pending: pending}, nil
	}
	pin, err := keyring.ReadSecret(c.PKCS11.PINFile, "TWINVAULT_PKCS11_PIN", c.DataDir, "PKCS#11 PIN")
	if err != nil {
		return nil, err
	}
	m, err := hsm.Open(hsm.Config{Module: c.PKCS11.Module, TokenLabel: c.PKCS11.Token, PIN: pin, KeyLabel: c.PKCS11.KeyLabel}, create)
	if err != nil {
		return nil, err
	}
	return &masterKey{module: m}, nil
}

// open opens the keyring of store. With a key file, an interrupted master
// key rotation is finished on the way.
func (m *masterKey) open(ctx context.Context, c *Config, store kv.Store) (*keyring.Keyring, error) {
	switch {
	case m.module != nil:
		check, err := keyring.StoredCheck(ctx, store)
		if err != nil {
			return nil, err
		}
		others, err := m.module.Choose(check)
		if err != nil {
			return nil, err
		}
		if others > 0 && c.Logger != nil {
			c.Logger.Warn("the PKCS#11 token holds other keys under the master key's label, left by a rotation that stopped; they seal nothing, and the next `keys rotate --master` destroys them", "count", others)
		}
		return keyring.OpenSealed(ctx, store, m.module)
	case fileSource(c.KeySource):
		return keyring.OpenWithKeyFile(ctx, store, c.KeyFile, c.DataDir)
	}
	return keyring.OpenWithPending(ctx, store, m.key, m.pending, c.DataDir)
}

// check reports whether a keyring record opens with this master key.
func (m *masterKey) check(record []byte) error {
	if m.module != nil {
		check, err := keyring.RecordCheck(record)
		if err != nil {
			return err
		}
		if _, err := m.module.Choose(check); err != nil {
			return err
		}
		return keyring.CheckRecordSealed(m.module, record)
	}
	return keyring.CheckRecord(m.key, record)
}

// rotate re-seals the keyring under a new master key from the source of
// c: a new key file; the key given (env), which the environment must hold
// from the next start on; a new passphrase; or a new key generated in the
// module, the old one destroyed.
func (m *masterKey) rotate(ctx context.Context, c *Config, kr *keyring.Keyring, newKey []byte, newPassphrase string) error {
	given := newKey != nil || newPassphrase != ""
	switch {
	case m.module != nil:
		if given {
			return twinvault.Errorf(twinvault.ValidationException, "This server's master key is generated inside its PKCS#11 token: give no new key or passphrase.")
		}
		return m.module.Rotate(func(next hsm.Sealer) error { return kr.ResealWith(ctx, next) })
	case fileSource(c.KeySource):
		if given {
			return twinvault.Errorf(twinvault.ValidationException, "This server's master key is in its key file, which the rotation replaces with a new key: give no new key or passphrase.")
		}
		return keyring.RotateMasterKeyFile(ctx, kr, c.KeyFile, c.DataDir)
	case c.KeySource == keyring.SourceEnv:
		if len(newKey) != keyring.MasterKeySize || newPassphrase != "" {
			return twinvault.Errorf(twinvault.ValidationException, "This server's master key comes from the environment: give the new one (newMasterKey, base64 of %d bytes).", keyring.MasterKeySize)
		}
		return kr.Reseal(ctx, newKey)
	case c.KeySource == keyring.SourcePassphrase:
		if newKey != nil || len(newPassphrase) < keyring.MinPassphrase {
			return twinvault.Errorf(twinvault.ValidationException, "This server's master key comes from a passphrase: give the new one (newPassphrase, at least %d bytes).", keyring.MinPassphrase)
		}
		return keyring.ChangePassphrase(ctx, kr, c.DataDir, newPassphrase)
	}
	return fmt.Errorf("master key source %q cannot rotate", c.KeySource)
}

// close wipes the keys or ends the module's session.
func (m *masterKey) close() {
	clear(m.key)
	clear(m.pending)
	if m.module != nil {
		m.module.Close()
	}
}
