package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/query"
)

// queryPages keeps ExecuteQuery results being paged in the store, for a
// deployment of several nodes: the next page may be asked of any node.
// A result is kept in its workspace's view, so deleting the workspace
// shreds it with the rest; an index in the system view, ordered by expiry,
// lets one node remove the expired ones.
type queryPages struct {
	b   *barrier.Barrier
	cat *catalog.Service
	now func() time.Time
}

const (
	pageChunk    = 1 << 20 // bytes of a result per stored value
	pagesLease   = "query/results"
	tokenKeySize = 32
)

var (
	tokenKeyKey = []byte("query/token-key")
	pagesExpiry = []byte("query/expiry/")
)

func resultPrefix(id [16]byte) []byte { return []byte("qr/" + hex.EncodeToString(id[:]) + "/") }

type pageMeta struct {
	Expires time.Time `json:"expires"`
	Chunks  int       `json:"chunks"`
}

// Key returns the MAC key of page tokens, made by the first node to need it.
func (p queryPages) Key(ctx context.Context) ([]byte, error) {
	sys := p.b.System()
	var key []byte
	err := p.b.Update(ctx, func(tx *barrier.Tx) error {
		k, err := tx.Get(sys, tokenKeyKey)
		if err == nil {
			key = k
			return nil
		}
		if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		key = make([]byte, tokenKeySize)
		rand.Read(key)
		return tx.Set(sys, tokenKeyKey, key)
	})
	return key, err
}

// Put keeps a result in its workspace's view, in parts.
func (p queryPages) Put(ctx context.Context, workspace string, id [16]byte, data []byte, expires time.Time) error {
	v, err := p.cat.WorkspaceView(ctx, workspace)
	if err != nil {
		return err
	}
	prefix := resultPrefix(id)
	// The expiry entry first: no part is ever kept without one.
	idx := append(binary.BigEndian.AppendUint64(bytes.Clone(pagesExpiry), uint64(expires.Unix())), id[:]...)
	if err := p.b.System().Batch(ctx, []kv.Write{{Key: idx, Value: []byte(workspace)}}); err != nil {
		return err
	}
	var writes []kv.Write
	size, n := 0, 0
	for off := 0; off < len(data) || n == 0; off += pageChunk {
		chunk := data[off:min(off+pageChunk, len(data))]
		writes = append(writes, kv.Write{Key: binary.BigEndian.AppendUint32(append(bytes.Clone(prefix), 'c'), uint32(n)), Value: chunk})
		n++
		if size += len(chunk); size >= 8*pageChunk {
			if err := v.Batch(ctx, writes); err != nil {
				return err
			}
			writes, size = nil, 0
		}
	}
	meta, err := json.Marshal(pageMeta{Expires: expires, Chunks: n})
	if err != nil {
		return err
	}
	return v.Batch(ctx, append(writes, kv.Write{Key: append(bytes.Clone(prefix), 'm'), Value: meta}))
}

func (p queryPages) Get(ctx context.Context, workspace string, id [16]byte) ([]byte, time.Time, error) {
	v, err := p.cat.WorkspaceView(ctx, workspace)
	if err != nil {
		return nil, time.Time{}, err
	}
	prefix := resultPrefix(id)
	var out []byte
	var expires time.Time
	err = p.b.Read(ctx, func(tx *barrier.Tx) error {
		raw, err := tx.Get(v, append(bytes.Clone(prefix), 'm'))
		if errors.Is(err, kv.ErrNotFound) {
			return query.ErrExpired
		}
		if err != nil {
			return err
		}
		var m pageMeta
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("query result: %w", err)
		}
		if p.now().After(m.Expires) {
			return query.ErrExpired
		}
		expires = m.Expires
		n := 0
		err = tx.Scan(v, kv.Prefix(append(bytes.Clone(prefix), 'c')), func(_, val []byte) error {
			out = append(out, val...)
			n++
			return nil
		})
		if err == nil && n != m.Chunks {
			err = fmt.Errorf("query result: %d of %d parts", n, m.Chunks)
		}
		return err
	})
	return out, expires, err
}

// sweep removes the results that expired, under a lease: one node does it.
func (p queryPages) sweep(ctx context.Context, l *leases, ttl time.Duration) error {
	held, err := l.acquire(ctx, pagesLease, ttl)
	if err != nil || !held {
		return err
	}
	sys := p.b.System()
	end := binary.BigEndian.AppendUint64(bytes.Clone(pagesExpiry), uint64(p.now().Unix()))
	type due struct {
		key       []byte
		workspace string
		id        [16]byte
	}
	var list []due
	err = sys.Scan(ctx, kv.Range{Start: pagesExpiry, End: end, Limit: 1000}, func(k, v []byte) error {
		var d due
		d.key, d.workspace = bytes.Clone(k), string(v)
		copy(d.id[:], k[len(k)-16:])
		list = append(list, d)
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range list {
		v, err := p.cat.WorkspaceView(ctx, d.workspace)
		if err != nil && !gone(err) {
			return err // the entry stays for the next sweep
		}
		if err == nil {
			var dels []kv.Write
			err := p.b.Read(ctx, func(tx *barrier.Tx) error {
				return tx.Scan(v, kv.Prefix(resultPrefix(d.id)), func(k, _ []byte) error {
					dels = append(dels, kv.Write{Key: bytes.Clone(k)})
					return nil
				})
			})
			if err == nil && len(dels) > 0 {
				err = v.Batch(ctx, dels)
			}
			if err != nil {
				return err
			}
		} // a workspace gone took its results with it
		if err := sys.Batch(ctx, []kv.Write{{Key: d.key}}); err != nil {
			return err
		}
	}
	return nil
}

// gone reports an error that says the workspace no longer exists.
func gone(err error) bool {
	var te *twinvault.Error
	return errors.Is(err, barrier.ErrNoView) || errors.As(err, &te) && te.Code == twinvault.ResourceNotFoundException
}
