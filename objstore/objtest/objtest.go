// Package objtest is the suite every objstore.Store passes.
package objtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
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
	t.Run("LargeRanges", func(t *testing.T) {
		// Larger than one request's worth in stores that split bodies
		// (the S3 store's least part is 5 MiB), read back in ranges.
		s := open(t)
		data := make([]byte, 12<<20+3)
		rand.Read(data)
		if n, err := s.Put(ctx, "large", onlyReader{bytes.NewReader(data)}); err != nil || n != int64(len(data)) {
			t.Fatalf("put: %d %v", n, err)
		}
		r, err := s.Open(ctx, "large")
		if err != nil || r.Size() != int64(len(data)) {
			t.Fatalf("open: %v", err)
		}
		defer r.Close()
		for _, c := range []struct{ off, n int }{{0, 1}, {5<<20 - 1, 2}, {6 << 20, 1 << 20}, {len(data) - 10, 10}} {
			got := make([]byte, c.n)
			if n, err := r.ReadAt(got, int64(c.off)); n != c.n || (err != nil && !errors.Is(err, io.EOF)) {
				t.Fatalf("read %d at %d: %d %v", c.n, c.off, n, err)
			}
			if !bytes.Equal(got, data[c.off:c.off+c.n]) {
				t.Fatalf("read %d at %d: the data differs", c.n, c.off)
			}
		}
		// A read past the end returns what there is, and io.EOF.
		got := make([]byte, 20)
		if n, err := r.ReadAt(got, int64(len(data)-5)); n != 5 || !errors.Is(err, io.EOF) || !bytes.Equal(got[:5], data[len(data)-5:]) {
			t.Fatalf("read across the end: %d %v", n, err)
		}
		if n, err := r.ReadAt(got, int64(len(data))); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("read at the end: %d %v", n, err)
		}
		// A large put that fails midway leaves nothing either.
		if _, err := s.Put(ctx, "large2", io.MultiReader(bytes.NewReader(data), failing{})); err == nil {
			t.Fatal("a large put whose reader fails succeeded")
		}
		if _, err := s.Open(ctx, "large2"); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("a failed large put left an object: %v", err)
		}
	})
	t.Run("ListMany", func(t *testing.T) {
		// More names than a small list page, in order, prefix kept apart.
		s := open(t)
		var want []string
		for i := range 25 {
			n := fmt.Sprintf("m/%03d", i)
			want = append(want, n)
			if _, err := s.Put(ctx, n, strings.NewReader(n)); err != nil {
				t.Fatal(err)
			}
		}
		s.Put(ctx, "n/0", strings.NewReader("x"))
		var got []string
		if err := s.List(ctx, "m/", func(n string) error { got = append(got, n); return nil }); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("list m/: %q", got)
		}
		stop := errors.New("stop")
		calls := 0
		if err := s.List(ctx, "", func(string) error { calls++; return stop }); err != stop || calls != 1 {
			t.Fatalf("a list whose callback fails: %v after %d calls", err, calls)
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

// onlyReader hides every method but Read, as a request body does.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
