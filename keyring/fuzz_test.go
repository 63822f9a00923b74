package keyring

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// FuzzParseKeyFile: the key file parser never panics, and whatever it
// accepts is a key that formats back to a file it reads identically.
func FuzzParseKeyFile(f *testing.F) {
	f.Add(formatKeyFile(bytes.Repeat([]byte{1}, MasterKeySize)))
	f.Add([]byte(keyFileHeader + "\nkey \ncheck \n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := parseKeyFile(data)
		if err != nil {
			if key != nil {
				t.Fatal("key returned with an error")
			}
			return
		}
		again, err := parseKeyFile(formatKeyFile(key))
		if err != nil || !bytes.Equal(again, key) {
			t.Fatalf("accepted key does not round trip: %v", err)
		}
	})
}

// FuzzUnseal feeds arbitrary keyring records, as an untrusted store could,
// to a keyring. No genuine record is in the corpus (each fuzz worker would
// make its own), so nothing may open.
func FuzzUnseal(f *testing.F) {
	k, err := Open(context.Background(), newMemStore(), testMaster(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{})
	f.Add([]byte{recordFormat})
	f.Add(append([]byte{recordFormat}, k.rs.Load().check...))
	f.Add(append(append([]byte{recordFormat}, k.rs.Load().check...), make([]byte, 100)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if st, err := k.unseal(data); err == nil {
			t.Fatalf("a forged keyring record opened (%d terms)", len(st.terms))
		}
	})
}

// FuzzDecodeState: the keyring plaintext decoder never panics, and what it
// accepts encodes back to its input.
func FuzzDecodeState(f *testing.F) {
	at := time.Unix(1700000000, 0).UTC()
	f.Add((&state{active: 1, terms: []term{{1, at, make([]byte, KeySize)}}}).encode())
	f.Add((&state{active: 3, terms: []term{{1, at, make([]byte, KeySize)}, {3, at, make([]byte, KeySize)}}}).encode())
	f.Add([]byte{stateVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeState(data)
		if err != nil {
			return
		}
		if !bytes.Equal(s.encode(), data) {
			t.Fatal("decoded keyring does not encode back to its input")
		}
	})
}
