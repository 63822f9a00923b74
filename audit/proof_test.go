package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
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

// TestCheckpointsSurviveRetention: entries removed by retention stay in the
// tree through the base's frontier: a checkpoint signed before the prune is
// still the root of as many leaves after it, the size keeps counting them,
// and an event written before the prune but kept is proven at its Seq.
func TestCheckpointsSurviveRetention(t *testing.T) {
	ctx := context.Background()
	l, _, clk := hourlyLog(t)
	vkey, _ := l.PublicKey(ctx)
	before, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size0, root0, err := OpenCheckpoint(before, vkey)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Export(ctx, time.Time{}, clk.now(), func([]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Hour)
	l.SetRetention(150 * time.Minute) // the first hours go, the last stay
	if err := l.SealDigests(ctx, clk.now()); err != nil {
		t.Fatal(err)
	}
	var left int
	l.Scan(ctx, 0, false, func(*Entry) error { left++; return nil })
	if left == 0 || left >= size0 {
		t.Fatalf("%d of %d entries left: the test prunes nothing or everything", left, size0)
	}
	after, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size1, _, err := OpenCheckpoint(after, vkey)
	if err != nil || size1 < size0 {
		t.Fatalf("after the prune the log has %d leaves, before %d: %v", size1, size0, err)
	}
	// The pruned log's tree, cut at the old size, has the old root.
	err = l.b.Read(ctx, func(tx *barrier.Tx) error {
		b, err := l.readBase(tx)
		if err != nil {
			return err
		}
		var leaves [][]byte
		tx.Scan(l.b.System(), kv.Range{Start: entryKey(b.Seq), End: kv.PrefixEnd(entryPrefix)}, func(_, v []byte) error {
			var e Entry
			json.Unmarshal(v, &e)
			leaves = append(leaves, LeafHash(e.Hash))
			return nil
		})
		tr, off, err := b.tree(leaves)
		if err != nil || off != 0 {
			return fmt.Errorf("tree: %v, offset %d", err, off)
		}
		r, err := tr.root(uint64(size0))
		if err == nil && !bytes.Equal(r, root0) {
			err = errors.New("the root of the old size changed")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var last *Entry
	l.Scan(ctx, 0, false, func(e *Entry) error {
		if e.Kind == kindEvent {
			c := *e
			last = &c
		}
		return nil
	})
	p, err := l.Prove(ctx, eventIDOf(last.Body))
	if err != nil {
		t.Fatal(err)
	}
	if p.LeafIndex != int(last.Seq) || VerifyProof(p, vkey) != nil {
		t.Fatalf("proof after the prune: leaf %d (entry %d): %v", p.LeafIndex, last.Seq, VerifyProof(p, vkey))
	}
}
