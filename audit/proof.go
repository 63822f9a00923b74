package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// Proof shows that one event is in the log a checkpoint commits to. It
// carries the entry holding the event (whose body is the CloudTrail record
// itself), the entry's place among the checkpoint's leaves and the RFC 6962
// inclusion proof: anyone with the checkpoints' public key can check it
// (VerifyProof), with neither the store nor any key of the server.
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

// Prove returns the proof that the event with eventID is in the log, under
// a checkpoint of the log as it is now. The leaves and the entry come from
// one snapshot, so the checkpoint and the proof agree.
func (l *Log) Prove(ctx context.Context, eventID string) (*Proof, error) {
	var leaves [][]byte
	p := &Proof{EventID: eventID, LeafIndex: -1}
	err := l.b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(l.b.System(), kv.Range{Start: entryKey(0), End: kv.PrefixEnd(entryPrefix)}, func(_, val []byte) error {
			var e Entry
			if err := json.Unmarshal(val, &e); err != nil {
				return fmt.Errorf("audit: decode entry: %w", err)
			}
			if p.LeafIndex < 0 && e.Kind == kindEvent && eventIDOf(e.Body) == eventID {
				p.Entry, p.LeafIndex = e, len(leaves)
			}
			leaves = append(leaves, LeafHash(e.Hash))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if p.LeafIndex < 0 {
		return nil, ErrNoEvent
	}
	cp, err := l.sign(ctx, leaves)
	if err != nil {
		return nil, err
	}
	p.TreeSize, p.Hashes, p.Checkpoint = len(leaves), InclusionProof(leaves, p.LeafIndex), string(cp)
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
