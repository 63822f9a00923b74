package node

import (
	"context"

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
	key    []byte      // the key, unless a module holds it
	module *hsm.Module // the module, for pkcs11
}

// openMasterKey opens cfg's master-key source; create allows a new key
// file, passphrase parameters or module key on a first start.
func (c *Config) openMasterKey(create bool) (*masterKey, error) {
	if c.KeySource != SourcePKCS11 {
		key, err := c.keySource().Load(create)
		if err != nil {
			return nil, err
		}
		return &masterKey{key: key}, nil
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
		return keyring.OpenSealed(ctx, store, m.module)
	case fileSource(c.KeySource):
		return keyring.OpenWithKeyFile(ctx, store, c.KeyFile, c.DataDir)
	}
	return keyring.Open(ctx, store, m.key)
}

// check reports whether a keyring record opens with this master key.
func (m *masterKey) check(record []byte) error {
	if m.module != nil {
		return keyring.CheckRecordSealed(m.module, record)
	}
	return keyring.CheckRecord(m.key, record)
}

// close wipes the key or ends the module's session.
func (m *masterKey) close() {
	clear(m.key)
	if m.module != nil {
		m.module.Close()
	}
}
