package audit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestProof: a proof for an event checks with the checkpoints' public key
// alone, and fails when the event, the entry, the proof or the checkpoint
// is changed, or another key is used.
func TestProof(t *testing.T) {
	ctx := context.Background()
	l, _ := newLog(t)
	fill(t, l, 9)
	vkey, err := l.PublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Prove(ctx, "no-such-event"); !errors.Is(err, ErrNoEvent) {
		t.Fatalf("an unknown event: %v", err)
	}
	for _, id := range []string{"id-0", "id-4", "id-8"} {
		p, err := l.Prove(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyProof(p, vkey); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		// Through JSON, as it leaves the server.
		raw, _ := json.Marshal(p)
		var back Proof
		if err := json.Unmarshal(raw, &back); err != nil || VerifyProof(&back, vkey) != nil {
			t.Fatalf("%s after JSON: %v", id, err)
		}
	}
	other, _ := newLog(t)
	fill(t, other, 1)
	otherKey, _ := other.PublicKey(ctx)
	tampers := map[string]func(p *Proof){
		"event edited":      func(p *Proof) { p.Entry.Body = []byte(strings.Replace(string(p.Entry.Body), "Op4", "Op5", 1)) },
		"another event id":  func(p *Proof) { p.EventID = "id-5" },
		"another index":     func(p *Proof) { p.LeafIndex++ },
		"a proof hash":      func(p *Proof) { p.Hashes[0][0] ^= 1 },
		"checkpoint edited": func(p *Proof) { p.Checkpoint = strings.Replace(p.Checkpoint, "\n", "\n\n", 1) },
		"another tree size": func(p *Proof) { p.TreeSize-- },
		"another log's key": func(p *Proof) { p.Checkpoint += "" },
	}
	for name, tamper := range tampers {
		p, err := l.Prove(ctx, "id-4")
		if err != nil {
			t.Fatal(err)
		}
		tamper(p)
		key := vkey
		if name == "another log's key" {
			key = otherKey
		}
		if err := VerifyProof(p, key); err == nil {
			t.Errorf("%s: the proof still checks", name)
		}
	}
}

// TestProveRefusesBrokenLog: a log cut in the store gets no checkpoint.
func TestProveRefusesBrokenLog(t *testing.T) {
	ctx := context.Background()
	l, store := newLog(t)
	fill(t, l, 5)
	keys := entryKeys(store)
	store.Put(keys[2], nil)
	if _, err := l.Prove(ctx, "id-4"); !errors.Is(err, errBroken) {
		t.Fatalf("a proof from a cut log: %v", err)
	}
}
