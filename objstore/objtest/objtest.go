// Package objtest is the suite every objstore.Store passes.
package objtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/twinvault/twinvault/objstore"
)

// Run runs the suite on stores made by open, a fresh one per test.
func Run(t *testing.T, open func(t *testing.T) objstore.Store) {
	ctx := context.Background()
	t.Run("PutOpen", func(t *testing.T) {
		s := open(t)
		for _, size := range []int{0, 1, 1 << 20} {
			data := make([]byte, size)
			rand.Read(data)
			n, err := s.Put(ctx, "o", bytes.NewReader(data))
			if err != nil || n != int64(size) {
				t.Fatalf("put %d: %d %v", size, n, err)
			}
			r, err := s.Open(ctx, "o")
			if err != nil || r.Size() != int64(size) {
				t.Fatalf("open %d: %v", size, err)
			}
			got := make([]byte, size)
			if _, err := r.ReadAt(got, 0); err != nil && !(size == 0 && errors.Is(err, io.EOF)) {
				t.Fatalf("read %d: %v", size, err)
			}
			r.Close()
			if !bytes.Equal(got, data) {
				t.Fatalf("size %d: the data differs", size)
			}
		}
	})
	t.Run("Missing", func(t *testing.T) {
		s := open(t)
		if _, err := s.Open(ctx, "nothing"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("open a missing object: %v", err)
		}
		if err := s.Delete(ctx, "nothing"); err != nil {
			t.Fatalf("delete a missing object: %v", err)
		}
	})
	t.Run("FailedPutLeavesNothing", func(t *testing.T) {
		s := open(t)
		s.Put(ctx, "keep", strings.NewReader("old"))
		if _, err := s.Put(ctx, "keep", io.MultiReader(strings.NewReader("new"), failing{})); err == nil {
			t.Fatal("a put whose reader fails succeeded")
		}
		r, err := s.Open(ctx, "keep")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got := make([]byte, r.Size())
		r.ReadAt(got, 0)
		if string(got) != "old" {
			t.Fatalf("after a failed put: %q", got)
		}
		if _, err := s.Put(ctx, "new", failingReader{}); err == nil {
			t.Fatal("a failed put succeeded")
		}
		if _, err := s.Open(ctx, "new"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("a failed put left an object: %v", err)
		}
	})
	t.Run("ListDelete", func(t *testing.T) {
		s := open(t)
		for _, n := range []string{"b/2", "a/1", "b/1", "c", "b/\x00bin"} {
			if _, err := s.Put(ctx, n, strings.NewReader(n)); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		if err := s.List(ctx, "b/", func(n string) error { got = append(got, n); return nil }); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != "b/\x00bin,b/1,b/2" {
			t.Fatalf("list b/: %q", got)
		}
		if err := s.Delete(ctx, "b/1"); err != nil {
			t.Fatal(err)
		}
		got = nil
		s.List(ctx, "", func(n string) error { got = append(got, n); return nil })
		if strings.Join(got, ",") != "a/1,b/\x00bin,b/2,c" {
			t.Fatalf("list after delete: %q", got)
		}
	})
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("the client went away") }

type failingReader = failing
