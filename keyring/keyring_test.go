package keyring

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/twinvault/twinvault/kv"
)

func testMaster(b byte) []byte { return bytes.Repeat([]byte{b}, MasterKeySize) }

func mustOpen(t *testing.T, s kv.Store, master []byte) *Keyring {
	t.Helper()
	k, err := Open(context.Background(), s, master)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOpenCreatesAndReopens(t *testing.T) {
	s := newMemStore()
	k := mustOpen(t, s, testMaster(1))
	term, key := k.Active()
	if term != 1 || len(key) != KeySize {
		t.Fatalf("Active() = %d, %d bytes; want 1, %d", term, len(key), KeySize)
	}
	k2 := mustOpen(t, s, testMaster(1))
	term2, key2 := k2.Active()
	if term2 != term || !bytes.Equal(key2, key) {
		t.Fatal("reopened keyring differs")
	}
	// Returned keys are copies.
	key[0] ^= 0xff
	if _, again := k.Active(); bytes.Equal(again, key) {
		t.Fatal("Active returned the keyring's own slice")
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(rec []byte) []byte
		master []byte
		want   error
		msg    string
	}{
		{"wrong master key", nil, testMaster(2), ErrMasterKeyMismatch, "master key does not match this data directory"},
		{"flipped ciphertext", func(r []byte) []byte { r[len(r)-1] ^= 1; return r }, testMaster(1), ErrCorrupt, "corrupt"},
		{"flipped nonce", func(r []byte) []byte { r[1+checkSize] ^= 1; return r }, testMaster(1), ErrCorrupt, "corrupt"},
		{"flipped check", func(r []byte) []byte { r[1] ^= 1; return r }, testMaster(1), ErrMasterKeyMismatch, "does not match"},
		{"unknown format", func(r []byte) []byte { r[0] = 2; return r }, testMaster(1), ErrCorrupt, "corrupt"},
		{"truncated", func(r []byte) []byte { return r[:len(r)/2] }, testMaster(1), ErrCorrupt, "corrupt"},
		{"empty", func(r []byte) []byte { return []byte{} }, testMaster(1), ErrCorrupt, "corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMemStore()
			mustOpen(t, s, testMaster(1))
			if tt.mangle != nil {
				s.Put(RecordKey, tt.mangle(s.Raw()[RecordKey]))
			}
			_, err := Open(context.Background(), s, tt.master)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
	if _, err := Open(context.Background(), newMemStore(), make([]byte, 16)); err == nil {
		t.Error("16-byte master key accepted")
	}
}

func TestOpenRefusesStoreWithoutKeyring(t *testing.T) {
	s := newMemStore()
	mustOpen(t, s, testMaster(1))
	s.Put("v\x01xdata", []byte("sealed"))
	s.Put(RecordKey, nil)
	if _, err := Open(context.Background(), s, testMaster(1)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open over data without a keyring: %v, want ErrCorrupt", err)
	}
	if _, ok := s.Raw()[RecordKey]; ok {
		t.Fatal("a new keyring was created over existing data")
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	k := mustOpen(t, s, testMaster(1))
	_, k1 := k.Active()
	for want := uint32(2); want <= 4; want++ {
		got, err := k.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		term, key := k.Active()
		if got != want || term != want {
			t.Fatalf("Rotate() = %d, Active() = %d; want %d", got, term, want)
		}
		if bytes.Equal(key, k1) {
			t.Fatal("new term reuses the old key")
		}
	}
	old, err := k.Key(1)
	if err != nil || !bytes.Equal(old, k1) {
		t.Fatalf("Key(1) after rotation: %v", err)
	}
	if _, err := k.Key(5); !errors.Is(err, ErrUnknownTerm) {
		t.Fatalf("Key(5) err = %v, want ErrUnknownTerm", err)
	}
	if _, err := k.Key(0); !errors.Is(err, ErrUnknownTerm) {
		t.Fatalf("Key(0) err = %v, want ErrUnknownTerm", err)
	}

	// A fresh open sees every term.
	k2 := mustOpen(t, s, testMaster(1))
	infos := k2.Terms()
	if len(infos) != 4 {
		t.Fatalf("Terms() has %d entries, want 4", len(infos))
	}
	for i, ti := range infos {
		if ti.Term != uint32(i+1) || ti.Active != (i == 3) || ti.Created.IsZero() {
			t.Errorf("Terms()[%d] = %+v", i, ti)
		}
		a, _ := k.Key(ti.Term)
		b, _ := k2.Key(ti.Term)
		if !bytes.Equal(a, b) {
			t.Errorf("term %d differs after reopen", ti.Term)
		}
	}
}

func TestRefreshSeesOtherNodesRotation(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	a := mustOpen(t, s, testMaster(1))
	b := mustOpen(t, s, testMaster(1))
	if _, err := b.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Key(2); !errors.Is(err, ErrUnknownTerm) {
		t.Fatalf("stale keyring knows term 2: %v", err)
	}
	// Rotating on a stale node builds on the stored keyring, not its own.
	if got, err := a.Rotate(ctx); err != nil || got != 3 {
		t.Fatalf("stale Rotate() = %d, %v; want 3", got, err)
	}
	if err := b.Refresh(ctx, s); err != nil {
		t.Fatal(err)
	}
	for term := uint32(1); term <= 3; term++ {
		ka, err1 := a.Key(term)
		kb, err2 := b.Key(term)
		if err1 != nil || err2 != nil || !bytes.Equal(ka, kb) {
			t.Fatalf("term %d differs between nodes: %v %v", term, err1, err2)
		}
	}
	// Refresh through a transaction works too.
	err := s.Update(ctx, func(tx kv.Tx) error { return b.Refresh(ctx, tx) })
	if err != nil {
		t.Fatal(err)
	}
}

func TestNoKeyMaterialInStore(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	master := testMaster(7)
	k := mustOpen(t, s, master)
	if _, err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte
	secrets = append(secrets, master)
	for _, ti := range k.Terms() {
		key, _ := k.Key(ti.Term)
		secrets = append(secrets, key)
	}
	for rk, v := range s.Raw() {
		for _, sec := range secrets {
			for _, part := range [][]byte{sec[:8], sec[8:16], sec[16:24], sec[24:]} {
				if bytes.Contains(v, part) || strings.Contains(rk, string(part)) {
					t.Fatal("key material found in the store")
				}
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	k := mustOpen(t, s, testMaster(1))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, err := k.Rotate(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 200 {
				term, key := k.Active()
				got, err := k.Key(term)
				if err != nil || !bytes.Equal(got, key) {
					t.Errorf("Key(%d) disagrees with Active: %v", term, err)
					return
				}
				_ = k.Terms()
				if err := k.Refresh(ctx, s); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if term, _ := k.Active(); term != 81 {
		t.Errorf("after 80 rotations active term = %d, want 81", term)
	}
}
