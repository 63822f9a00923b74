package objects

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/objstore"
)

// A body's key lives in its record, which the bucket's keys seal, so a
// rotation of those keys re-seals records and leaves bodies alone. Bodies
// sealed before that hold their key in their header, sealed by a DEK
// version of the bucket; AdoptKeys copies those keys into the records,
// after which the version can be retired.

// AdoptKeys moves into their records the keys of the bodies, in bucket
// view viewID, whose records lack them, and returns how many it moved and
// how many records changed meanwhile, left to the next call. A body that
// is gone or cannot be opened is left as it is: it could not be read
// before either. Once a call finds nothing to move and nothing left, no
// record needs a body header any more: new bodies keep their keys in their
// records from the start.
func (s *Service) AdoptKeys(ctx context.Context, viewID []byte) (moved, left int, err error) {
	v, err := s.b.View(ctx, viewID)
	if err != nil {
		return 0, 0, err
	}
	type missing struct {
		rec  []byte // the record's key in the view
		body string
	}
	var todo []missing
	err = s.b.Read(ctx, func(tx *barrier.Tx) error {
		todo = todo[:0]
		for _, prefix := range []string{"o/", "p/"} {
			err := tx.Scan(v, kv.Prefix([]byte(prefix)), func(k, raw []byte) error {
				for _, p := range keyless(prefix, raw) {
					todo = append(todo, missing{slices.Clone(k), p.Body})
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for _, m := range todo {
		key, err := s.headerKey(ctx, v, m.body)
		if err != nil {
			return moved, left, err
		}
		if key == nil {
			continue
		}
		changed := false
		err = s.b.Update(ctx, func(tx *barrier.Tx) error {
			changed = false
			raw, err := tx.Get(v, m.rec)
			if errors.Is(err, kv.ErrNotFound) {
				changed = true // deleted, or an upload completed
				return nil
			}
			if err != nil {
				return err
			}
			out, ok := withKey(string(m.rec[:2]), raw, m.body, key)
			if !ok {
				changed = true
				return nil
			}
			return tx.Set(v, m.rec, out)
		})
		clear(key)
		if err != nil {
			return moved, left, fmt.Errorf("objects: keep the key of %s: %w", m.body, err)
		}
		if changed {
			left++
		} else {
			moved++
		}
	}
	return moved, left, nil
}

// headerKey reads the key held in a body's header; nil if the body is gone
// or its header holds no key the view opens.
func (s *Service) headerKey(ctx context.Context, v *barrier.View, body string) ([]byte, error) {
	f, err := s.store.Open(ctx, body)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("objects: open body %s: %w", body, err)
	}
	defer f.Close()
	key, err := v.ObjectKey([]byte(body), f, f.Size())
	if errors.Is(err, barrier.ErrIntegrity) {
		return nil, nil
	}
	return key, err
}

// keyless lists the bodies of a record (an object's under "o/", an
// uploaded part's under "p/") that have no key in it.
func keyless(prefix string, raw []byte) []Part {
	var out []Part
	switch prefix {
	case "o/":
		var o Object
		if json.Unmarshal(raw, &o) != nil {
			return nil
		}
		for _, p := range o.bodies() {
			if p.Key == nil && p.Body != "" {
				out = append(out, p)
			}
		}
	case "p/":
		var p UploadedPart
		if json.Unmarshal(raw, &p) == nil && p.BodyKey == nil && p.Body != "" {
			out = append(out, Part{Body: p.Body})
		}
	}
	return out
}

// withKey returns record raw with key set for body, and whether body is
// still there without a key.
func withKey(prefix string, raw []byte, body string, key []byte) ([]byte, bool) {
	var rec any
	switch prefix {
	case "o/":
		var o Object
		if json.Unmarshal(raw, &o) != nil {
			return nil, false
		}
		found := false
		if o.Body == body && o.BodyKey == nil {
			o.BodyKey, found = bytes.Clone(key), true
		}
		for i := range o.Parts {
			if o.Parts[i].Body == body && o.Parts[i].Key == nil {
				o.Parts[i].Key, found = bytes.Clone(key), true
			}
		}
		if !found {
			return nil, false
		}
		rec = &o
	case "p/":
		var p UploadedPart
		if json.Unmarshal(raw, &p) != nil || p.Body != body || p.BodyKey != nil {
			return nil, false
		}
		p.BodyKey = bytes.Clone(key)
		rec = &p
	default:
		return nil, false
	}
	out, err := json.Marshal(rec)
	return out, err == nil
}
