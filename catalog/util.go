package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twinvault/twinvault"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/model"
)

func isNotFound(err error) bool { return errors.Is(err, kv.ErrNotFound) }

func decode(data []byte, dst any) error {
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	return nil
}

func ts(t time.Time) *model.Timestamp {
	v := model.Timestamp{Time: t}
	return &v
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// scanPage visits the records under prefix that come after the key after,
// handing each to fn until n have been accepted (fn returns true). It
// returns the key of the last accepted record when more records follow, to
// resume the next page after it, or nil at the end.
func scanPage(tx *barrier.Tx, v *barrier.View, prefix, after []byte, n int, fn func(k, val []byte) (bool, error)) ([]byte, error) {
	r := kv.Prefix(prefix)
	if after != nil {
		if !bytes.HasPrefix(after, prefix) {
			return nil, invalid("nextToken is not valid for this request")
		}
		r.Start = append(bytes.Clone(after), 0)
	}
	var last, next []byte
	count := 0
	err := tx.Scan(v, r, func(k, val []byte) error {
		if count == n {
			next = last
			return kv.Stop
		}
		ok, err := fn(k, val)
		if err != nil {
			return err
		}
		if ok {
			count++
			last = bytes.Clone(k)
		}
		return nil
	})
	return next, err
}

func prefixRange(p string) kv.Range { return kv.Prefix([]byte(p)) }

// listIndex returns the values (entity or type IDs) stored under an index
// prefix; limit 0 means all.
func listIndex(tx *barrier.Tx, v *barrier.View, prefix []byte, limit int) ([]string, error) {
	var out []string
	r := kv.Prefix(prefix)
	r.Limit = limit
	err := tx.Scan(v, r, func(_, val []byte) error {
		out = append(out, string(val))
		return nil
	})
	return out, err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// errMessage is the client-facing message of err.
func errMessage(err error) string {
	var te *twinvault.Error
	if errors.As(err, &te) {
		return te.Message
	}
	return "internal error"
}
