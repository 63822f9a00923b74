package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sealed value format (DESIGN §4), used for data values and key records:
//
//	 0               4     5                17
//	+---------------+-----+----------------+---------------------------------+
//	| term u32 (BE) | ver |  nonce (12 B)  | AES-256-GCM ciphertext + tag 16 |
//	+---------------+-----+----------------+---------------------------------+
//
// term names the key: a DEK version of the view for data values, a keyring
// term for key records. ver is formatVersion. The nonce is drawn inside the
// cryptographic module (cipher.NewGCMWithRandomNonce), the only GCM mode
// allowed under GODEBUG=fips140=only. The additional authenticated data is
// the full storage key, so a value copied to any other key, in this view or
// another, fails to open. The header itself is not in the AAD: changing
// term selects another key, or none, and changing ver is refused, so either
// way the value fails to open.
const (
	formatVersion = 1
	headerSize    = 5
	nonceSize     = 12
	tagSize       = 16
	// Overhead is the number of bytes sealing adds to a value.
	Overhead = headerSize + nonceSize + tagSize
)

// ErrIntegrity means a stored value did not authenticate: it was damaged,
// tampered with, moved from another key, or sealed under a key the barrier
// no longer has. Its content is never returned.
var ErrIntegrity = errors.New("barrier: integrity check failed")

// errUnknownVersion is an integrity failure caused by a key version the
// caller does not hold, which may just mean its keys are stale.
var errUnknownVersion = fmt.Errorf("%w: unknown key version", ErrIntegrity)

// newAEAD returns AES-256-GCM with module-generated random nonces.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("barrier: key must be 32 bytes, got %d", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("barrier: %w", err)
	}
	a, err := cipher.NewGCMWithRandomNonce(b)
	if err != nil {
		return nil, fmt.Errorf("barrier: %w", err)
	}
	return a, nil
}

// seal encrypts plaintext under a (whose key is version term), bound to aad.
func seal(a cipher.AEAD, term uint32, aad, plaintext []byte) []byte {
	out := make([]byte, headerSize, Overhead+len(plaintext))
	binary.BigEndian.PutUint32(out, term)
	out[4] = formatVersion
	return a.Seal(out, nil, plaintext, aad)
}

// header checks the framing of a sealed value and splits it into the key
// term and the nonce, ciphertext and tag that follow.
func header(v []byte) (term uint32, body []byte, err error) {
	if len(v) < Overhead {
		return 0, nil, fmt.Errorf("%w: value too short", ErrIntegrity)
	}
	if v[4] != formatVersion {
		return 0, nil, fmt.Errorf("%w: unknown format", ErrIntegrity)
	}
	return binary.BigEndian.Uint32(v), v[headerSize:], nil
}

// open decrypts body (nonce, ciphertext, tag) bound to aad. It never
// returns a partial or unauthenticated plaintext.
func open(a cipher.AEAD, aad, body []byte) ([]byte, error) {
	pt, err := a.Open(nil, nil, body, aad)
	if err != nil {
		return nil, ErrIntegrity
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}
