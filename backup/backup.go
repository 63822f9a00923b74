// Package backup writes a server's stored data to one stream and reads it
// back into an empty store. What it copies is ciphertext only: every kv
// value is sealed by the barrier (the keyring record by the master key),
// every object body by its bucket's keys, and kv keys and object names are
// blind. A backup is therefore useless without the master key, and a
// restore checks that key before it writes anything.
//
// The stream:
//
//	"TVBACKUP1\n"
//	record*   kind u8 | uvarint len | name | uvarint len | bytes
//	trailer   kind 0  | uvarint records | SHA-256 of everything before the trailer
//
// kind 1 is a kv pair (name = key), kind 2 an object body (name = its
// object-store name). Records come in that order: the kv pairs sorted by
// key, so the keyring record, whose key sorts first, leads; then the
// bodies. The trailer makes a cut, reordered or altered stream fail.
package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/objstore"
)

const magic = "TVBACKUP1\n"

const (
	kindEnd    = 0
	kindKV     = 1
	kindObject = 2

	maxName = 1 << 16 // longest key or object name taken back
	maxKV   = 1 << 30 // longest kv value taken back
)

// ErrFormat is a stream that is not a whole, unaltered backup.
var ErrFormat = errors.New("backup: not a whole TwinVault backup")

// Stats counts what a backup or restore moved.
type Stats struct {
	Pairs, Objects int
	Bytes          int64 // of object bodies
}

// Write streams a consistent snapshot of store, then every body in objs,
// to w. The caller keeps the bodies the snapshot names from being deleted
// until Write returns (objects.Service.Hold).
func Write(ctx context.Context, w io.Writer, store kv.Store, objs objstore.Store) (Stats, error) {
	var st Stats
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
	bw.WriteString(magic)
	err := store.View(ctx, func(r kv.Reader) error {
		return r.Scan(ctx, kv.Range{}, func(k, v []byte) error {
			st.Pairs++
			return writeRecord(bw, kindKV, k, bytes.NewReader(v), int64(len(v)))
		})
	})
	if err != nil {
		return st, fmt.Errorf("backup: store: %w", err)
	}
	if objs != nil {
		err = objs.List(ctx, "", func(name string) error {
			f, err := objs.Open(ctx, name)
			if err != nil {
				return fmt.Errorf("open %s: %w", name, err)
			}
			defer f.Close()
			st.Objects++
			st.Bytes += f.Size()
			return writeRecord(bw, kindObject, []byte(name), io.NewSectionReader(f, 0, f.Size()), f.Size())
		})
		if err != nil {
			return st, fmt.Errorf("backup: objects: %w", err)
		}
	}
	// The trailer's hash covers what precedes it.
	if err := bw.Flush(); err != nil {
		return st, err
	}
	sum := h.Sum(nil)
	tr := []byte{kindEnd}
	tr = binary.AppendUvarint(tr, uint64(st.Pairs+st.Objects))
	tr = append(tr, sum...)
	if _, err := w.Write(tr); err != nil {
		return st, err
	}
	return st, nil
}

func writeRecord(w *bufio.Writer, kind byte, name []byte, body io.Reader, n int64) error {
	var hdr []byte
	hdr = append(hdr, kind)
	hdr = binary.AppendUvarint(hdr, uint64(len(name)))
	hdr = append(hdr, name...)
	hdr = binary.AppendUvarint(hdr, uint64(n))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	m, err := io.Copy(w, body)
	if err == nil && m != n {
		err = fmt.Errorf("%s changed size while being copied", name)
	}
	return err
}

// hashReader hashes what is read through it.
type hashReader struct {
	r *bufio.Reader
	h hash.Hash
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

func (h *hashReader) ReadByte() (byte, error) {
	b, err := h.r.ReadByte()
	if err == nil {
		h.h.Write([]byte{b})
	}
	return b, err
}

// ErrNotEmpty refuses a restore into a store that holds data.
var ErrNotEmpty = errors.New("backup: the store to restore into is not empty")

// Restore reads a backup from r into store and objs; store must be empty
// (ErrNotEmpty otherwise). check is given the keyring record, the stream's
// first, and must accept it (keyring.CheckRecord with the master key)
// before anything is written. Pairs go in batches as they come; a restore
// that fails midway leaves a store to discard, which the keyring refuses
// to start on.
func Restore(ctx context.Context, r io.Reader, store kv.Store, objs objstore.Store, keyringKey []byte, check func(record []byte) error) (Stats, error) {
	var found bool
	err := store.View(ctx, func(r kv.Reader) error {
		var err error
		found, err = kv.Any(ctx, r, kv.Range{})
		return err
	})
	if err != nil || found {
		if err == nil {
			err = ErrNotEmpty
		}
		return Stats{}, err
	}
	var batch []kv.Write
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := store.Batch(ctx, batch)
		batch, size = nil, 0
		return err
	}
	first := true
	st, err := read(r, func(k, v []byte) error {
		if first {
			if !bytes.Equal(k, keyringKey) {
				return fmt.Errorf("%w: it does not begin with a keyring", ErrFormat)
			}
			if err := check(v); err != nil {
				return err
			}
			first = false
		}
		batch = append(batch, kv.Write{Key: k, Value: v})
		if size += len(k) + len(v); size > 4<<20 || len(batch) >= 1024 {
			return flush()
		}
		return nil
	}, func(name string, body io.Reader) (int64, error) {
		if first {
			return 0, fmt.Errorf("%w: it does not begin with a keyring", ErrFormat)
		}
		if err := flush(); err != nil {
			return 0, err
		}
		return objs.Put(ctx, name, body)
	})
	if err != nil {
		return st, err
	}
	return st, flush()
}

// Verify reads a whole backup and checks its framing and trailer, storing
// nothing: what `twinvault backup` runs over what it wrote.
func Verify(r io.Reader) (Stats, error) {
	return read(r, func(_, _ []byte) error { return nil }, func(_ string, body io.Reader) (int64, error) {
		return io.Copy(io.Discard, body)
	})
}

// read parses a backup, handing each record to onKV or onObject, and
// checks the trailer at the end.
func read(r io.Reader, onKV func(k, v []byte) error, onObject func(name string, body io.Reader) (int64, error)) (Stats, error) {
	var st Stats
	hr := &hashReader{r: bufio.NewReaderSize(r, 1<<20), h: sha256.New()}
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(hr, head); err != nil || string(head) != magic {
		return st, fmt.Errorf("%w: no backup header", ErrFormat)
	}
	for {
		sumBefore := hr.h.Sum(nil)
		kind, err := hr.ReadByte()
		if err != nil {
			return st, fmt.Errorf("%w: cut short", ErrFormat)
		}
		if kind == kindEnd {
			n, err := binary.ReadUvarint(hr.r)
			want := make([]byte, sha256.Size)
			if err == nil {
				_, err = io.ReadFull(hr.r, want)
			}
			if err != nil || int(n) != st.Pairs+st.Objects || !bytes.Equal(want, sumBefore) {
				return st, fmt.Errorf("%w: the trailer does not match the records", ErrFormat)
			}
			if _, err := hr.r.ReadByte(); err != io.EOF {
				return st, fmt.Errorf("%w: bytes follow the trailer", ErrFormat)
			}
			return st, nil
		}
		name, err := readBytes(hr, maxName)
		if err != nil {
			return st, err
		}
		n, err := binary.ReadUvarint(hr)
		if err != nil {
			return st, fmt.Errorf("%w: a record is cut short", ErrFormat)
		}
		switch kind {
		case kindKV:
			if n > maxKV {
				return st, fmt.Errorf("%w: a value is too large", ErrFormat)
			}
			v := make([]byte, n)
			if _, err := io.ReadFull(hr, v); err != nil {
				return st, fmt.Errorf("%w: a value is cut short", ErrFormat)
			}
			if err := onKV(name, v); err != nil {
				return st, err
			}
			st.Pairs++
		case kindObject:
			got, err := onObject(string(name), io.LimitReader(hr, int64(n)))
			if err != nil {
				return st, fmt.Errorf("backup: object %x: %w", name, err)
			}
			if got != int64(n) {
				return st, fmt.Errorf("%w: an object is cut short", ErrFormat)
			}
			st.Objects++
			st.Bytes += got
		default:
			return st, fmt.Errorf("%w: unknown record kind %d", ErrFormat, kind)
		}
	}
}

func readBytes(r io.ByteReader, max uint64) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > max {
		return nil, fmt.Errorf("%w: a record name is malformed", ErrFormat)
	}
	b := make([]byte, n)
	for i := range b {
		if b[i], err = r.ReadByte(); err != nil {
			return nil, fmt.Errorf("%w: a record name is cut short", ErrFormat)
		}
	}
	return b, nil
}
