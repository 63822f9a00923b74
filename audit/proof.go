package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// Proof shows that one event is in the log a checkpoint commits to. It
// carries the entry holding the event (whose body is the CloudTrail record
// itself), the entry's place among the checkpoint's leaves and the RFC 6962
// inclusion proof: anyone with the checkpoints' public key can check it
// (VerifyProof), with neither the store nor any key of the server. The
// entry's time is the log's own and not covered by the proof (the event
// carries its eventTime, which is). LeafIndex is the entry's Seq, entries
// removed by retention counting (but for a log pruned before the tree kept
// them, where leaves start at the base).
type Proof struct {
	EventID    string   `json:"eventId"`
	Entry      Entry    `json:"entry"`
	LeafIndex  int      `json:"leafIndex"`
	TreeSize   int      `json:"treeSize"`
	Hashes     [][]byte `json:"inclusionProof"`
	Checkpoint string   `json:"checkpoint"`
}

// ErrNoEvent reports an event ID the log does not hold.
var ErrNoEvent = errors.New("audit: no event with that ID")

// errBroken refuses a checkpoint of a log that does not verify.
var errBroken = errors.New("audit: the log does not verify (run twinvault audit verify); no checkpoint is signed")

var provedKey = []byte("audit/proved")

// Prove returns the proof that the event with eventID is in the log, under
// a checkpoint of the log as it is now. The leaves and the entry come from
// one snapshot, so the checkpoint and the proof agree.
//
// The log is checked as it is read (each entry follows the one before and
// matches its hash, the head names the last): a log someone cut or edited
// in the store gets no checkpoint. And the entries read are made durable
// first, so a crash cannot take back what a checkpoint committed to.
func (l *Log) Prove(ctx context.Context, eventID string) (*Proof, error) {
	// A synced write puts everything written before it on disk.
	if err := l.b.System().Batch(ctx, []kv.Write{{Key: provedKey, Value: []byte(l.now().UTC().Format(time.RFC3339Nano))}}); err != nil {
		return nil, err
	}
	var leaves [][]byte
	var b *base
	p := &Proof{EventID: eventID, LeafIndex: -1}
	err := l.b.Read(ctx, func(tx *barrier.Tx) error {
		sys := l.b.System()
		var err error
		if b, err = l.readBase(tx); err != nil {
			return err
		}
		prev, next := b.Prev, b.Seq
		err = tx.Scan(sys, kv.Range{Start: entryKey(0), End: kv.PrefixEnd(entryPrefix)}, func(_, val []byte) error {
			var e Entry
			if err := json.Unmarshal(val, &e); err != nil {
				return fmt.Errorf("%w: an entry does not decode", errBroken)
			}
			if e.Seq != next || !bytes.Equal(e.Prev, prev) || !bytes.Equal(chainHash(e.Prev, e.Seq, e.Kind, e.Body), e.Hash) {
				return fmt.Errorf("%w at entry %d", errBroken, next)
			}
			prev, next = e.Hash, e.Seq+1
			if p.LeafIndex < 0 && e.Kind == kindEvent && eventIDOf(e.Body) == eventID {
				p.Entry, p.LeafIndex = e, len(leaves)
			}
			leaves = append(leaves, LeafHash(e.Hash))
			return nil
		})
		if err != nil {
			return err
		}
		h, err := readHead(func(k []byte) ([]byte, error) { return tx.Get(sys, k) })
		if err != nil {
			return err
		}
		if h.Seq != next || !bytes.Equal(h.Hash, prev) {
			return fmt.Errorf("%w: the head does not name the last entry", errBroken)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p.LeafIndex < 0 {
		return nil, ErrNoEvent
	}
	t, _, err := b.tree(leaves)
	if err != nil {
		return nil, err
	}
	n := t.n()
	root, err := t.root(n)
	if err != nil {
		return nil, err
	}
	m := uint64(p.LeafIndex) + t.size // the entry's leaf, counted from the tree's first
	if p.Hashes, err = t.proof(m, n); err != nil {
		return nil, err
	}
	cp, err := l.sign(ctx, n, root)
	if err != nil {
		return nil, err
	}
	p.LeafIndex, p.TreeSize, p.Checkpoint = int(m), int(n), string(cp)
	return p, nil
}

func eventIDOf(body []byte) string {
	var ev struct {
		EventID string `json:"eventID"`
	}
	json.Unmarshal(body, &ev)
	return ev.EventID
}

// VerifyProof checks a proof with the checkpoints' verifier key: the
// checkpoint is signed by it, the entry's hash is the chain hash of what it
// holds, the event in it has the proof's ID, and the entry's leaf is in the
// tree the checkpoint commits to.
func VerifyProof(p *Proof, vkey string) error {
	size, root, err := OpenCheckpoint([]byte(p.Checkpoint), vkey)
	if err != nil {
		return err
	}
	if p.TreeSize != size {
		return fmt.Errorf("audit: the proof is for %d entries, the checkpoint for %d", p.TreeSize, size)
	}
	e := p.Entry
	if !bytes.Equal(chainHash(e.Prev, e.Seq, e.Kind, e.Body), e.Hash) {
		return errors.New("audit: the entry does not match its hash: it was changed")
	}
	if e.Kind != kindEvent || eventIDOf(e.Body) != p.EventID {
		return errors.New("audit: the entry does not hold the event the proof names")
	}
	if err := VerifyInclusion(LeafHash(e.Hash), p.LeafIndex, size, p.Hashes, root); err != nil {
		return fmt.Errorf("audit: the entry is not in the checkpoint's log: %w", err)
	}
	return nil
}
