package audit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// A checkpoint commits to the whole log at one size: a signed note in the
// C2SP tlog-checkpoint format, whose body is the log's origin, its size and
// the root of its Merkle tree. Anyone holding the public key can check a
// checkpoint, that an event is in it (InclusionProof) and that a later one
// extends it (ConsistencyProof); keep checkpoints elsewhere and the log
// cannot be rewritten unseen, even by someone holding the store.
//
// The signing key is Ed25519 (FIPS 186-5), generated on first use and kept
// through the barrier like every secret.

// Origin names this log in its checkpoints.
const Origin = "twinvault.audit/" + twinvault.Account

var signerKey = []byte("audit/signer")

type signerRecord struct {
	Private string `json:"private"`
	Public  string `json:"public"`
}

func (l *Log) signer(ctx context.Context) (*signerRecord, error) {
	var rec signerRecord
	err := l.b.Update(ctx, func(tx *barrier.Tx) error {
		raw, err := tx.Get(l.b.System(), signerKey)
		if err == nil {
			return json.Unmarshal(raw, &rec)
		}
		if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		rec.Private, rec.Public, err = note.GenerateKey(rand.Reader, Origin)
		if err != nil {
			return err
		}
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return tx.Set(l.b.System(), signerKey, data)
	})
	return &rec, err
}

// PublicKey is the verifier key of the log's checkpoints, in the signed-note
// format ("name+hash+base64 key").
func (l *Log) PublicKey(ctx context.Context) (string, error) {
	rec, err := l.signer(ctx)
	if err != nil {
		return "", err
	}
	return rec.Public, nil
}

// Leaves returns the Merkle leaf hashes of the first size entries (all,
// when size is negative): each is the RFC 6962 leaf hash of the entry's
// chain hash.
func (l *Log) Leaves(ctx context.Context, size int) ([][]byte, error) {
	var leaves [][]byte
	err := l.Scan(ctx, 0, false, func(e *Entry) error {
		if size >= 0 && len(leaves) == size {
			return kv.Stop
		}
		leaves = append(leaves, LeafHash(e.Hash))
		return nil
	})
	if err == nil && size >= 0 && len(leaves) < size {
		err = fmt.Errorf("audit: the log has %d entries, not %d", len(leaves), size)
	}
	return leaves, err
}

// Checkpoint signs the log's current size and root: of every entry ever
// written, those removed by retention included (through the base's
// frontier).
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	var b *base
	var leaves [][]byte
	err := l.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		if b, err = l.readBase(tx); err != nil {
			return err
		}
		return tx.Scan(l.b.System(), kv.Range{Start: entryKey(b.Seq), End: kv.PrefixEnd(entryPrefix)}, func(_, val []byte) error {
			var e Entry
			if err := json.Unmarshal(val, &e); err != nil {
				return fmt.Errorf("audit: decode entry: %w", err)
			}
			leaves = append(leaves, LeafHash(e.Hash))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	t, _, err := b.tree(leaves)
	if err != nil {
		return nil, err
	}
	root, err := t.root(t.n())
	if err != nil {
		return nil, err
	}
	return l.sign(ctx, t.n(), root)
}

// sign makes the checkpoint of a log of n leaves with that root.
func (l *Log) sign(ctx context.Context, n uint64, root []byte) ([]byte, error) {
	rec, err := l.signer(ctx)
	if err != nil {
		return nil, err
	}
	s, err := note.NewSigner(rec.Private)
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("%s\n%d\n%s\n", Origin, n, base64.StdEncoding.EncodeToString(root))
	return note.Sign(&note.Note{Text: text}, s)
}

// OpenCheckpoint checks a checkpoint's signature with the verifier key and
// returns the size and root it commits to.
func OpenCheckpoint(signed []byte, vkey string) (size int, root []byte, err error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return 0, nil, err
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return 0, nil, fmt.Errorf("audit: checkpoint: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != Origin {
		return 0, nil, errors.New("audit: checkpoint: not a checkpoint of this log")
	}
	if size, err = strconv.Atoi(lines[1]); err != nil || size < 0 {
		return 0, nil, errors.New("audit: checkpoint: bad size")
	}
	if root, err = base64.StdEncoding.DecodeString(lines[2]); err != nil || len(root) != 32 {
		return 0, nil, errors.New("audit: checkpoint: bad root")
	}
	return size, root, nil
}
