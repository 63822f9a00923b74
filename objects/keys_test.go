package objects

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/objstore"
)

// legacy turns a body into the older form that holds its key in its
// header, sealed by the bucket's view under the body's name, and removes
// the key from the record that names it. A value the view seals under the
// body's name is exactly what such a header held.
func legacy(t *testing.T, s *Service, mem *kvtest.Mem, v *barrier.View, body string, key []byte, dropKey func(tx *barrier.Tx) error) {
	t.Helper()
	ctx := context.Background()
	before := mem.Raw()
	if err := s.b.Update(ctx, func(tx *barrier.Tx) error { return tx.Set(v, []byte(body), key) }); err != nil {
		t.Fatal(err)
	}
	var wrapped []byte
	for k, val := range mem.Raw() {
		if _, ok := before[k]; !ok {
			wrapped = val
		}
	}
	if wrapped == nil {
		t.Fatal("the sealed key was not found")
	}
	f, err := s.store.Open(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
	f.Close()
	if binary.BigEndian.Uint16(sealed[8:]) != 0 {
		t.Fatal("a new body holds a key")
	}
	old := append(bytes.Clone(sealed[:8]), byte(len(wrapped)>>8), byte(len(wrapped)))
	old = append(append(old, wrapped...), sealed[10:]...)
	if _, err := s.store.Put(ctx, body, bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		if err := tx.Delete(v, []byte(body)); err != nil {
			return err
		}
		return dropKey(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAdoptKeys: bodies whose keys are in their headers (an object, a
// multipart object, a part of an upload in progress) get them moved to
// their records; the bucket's first DEK version then retires, the headers
// no longer open, and everything still reads.
func TestAdoptKeys(t *testing.T) {
	ctx := context.Background()
	mem := kvtest.NewMem()
	b := barriertest.Open(t, mem)
	store, err := objstore.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := New(b, store, nil)
	bk, err := s.CreateBucket(ctx, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	viewID := append([]byte("bucket/"), bk.ViewID...)
	v, err := b.View(ctx, viewID)
	if err != nil {
		t.Fatal(err)
	}
	single := strings.Repeat("single body ", 10000)
	o, err := s.PutObject(ctx, "legacy", "single", strings.NewReader(single), PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUpload(ctx, "legacy", "multi", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := s.UploadPart(ctx, "legacy", "multi", u.ID, 1, strings.NewReader("one part"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mo, err := s.CompleteUpload(ctx, "legacy", "multi", u.ID, []CompletedPart{{1, p1.ETag}}, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	open, err := s.CreateUpload(ctx, "legacy", "open", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.UploadPart(ctx, "legacy", "open", open.ID, 1, strings.NewReader("a part waiting"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(rec []byte, val any) func(tx *barrier.Tx) error {
		return func(tx *barrier.Tx) error {
			data, _ := json.Marshal(val)
			return tx.Set(v, rec, data)
		}
	}
	key := o.BodyKey
	o.BodyKey = nil
	legacy(t, s, mem, v, o.Body, key, rewrite(objectKey(v, "single"), o))
	key = mo.Parts[0].Key
	mo.Parts[0].Key = nil
	legacy(t, s, mem, v, mo.Parts[0].Body, key, rewrite(objectKey(v, "multi"), mo))
	key = p2.BodyKey
	p2.BodyKey = nil
	legacy(t, s, mem, v, p2.Body, key, rewrite(partKey(v, open.ID, 1), p2))

	read := func(name, want string) {
		t.Helper()
		_, r, err := s.GetObject(ctx, "legacy", name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer r.Close()
		got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
		if err != nil || string(got) != want {
			t.Fatalf("%s: %v, the content differs", name, err)
		}
	}
	read("single", single) // through the header's key
	read("multi", "one part")

	if _, err := b.RotateView(ctx, viewID); err != nil {
		t.Fatal(err)
	}
	if moved, left, err := s.AdoptKeys(ctx, viewID); moved != 3 || left != 0 || err != nil {
		t.Fatalf("AdoptKeys: moved %d, left %d, %v", moved, left, err)
	}
	if moved, left, err := s.AdoptKeys(ctx, viewID); moved != 0 || left != 0 || err != nil {
		t.Fatalf("AdoptKeys again: moved %d, left %d, %v", moved, left, err)
	}
	if _, err := b.Rewrap(ctx, viewID, nil); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Retire(ctx, viewID); err != nil || len(r) != 1 || r[0] != 1 {
		t.Fatalf("retire: %v %v", r, err)
	}
	read("single", single)
	read("multi", "one part")
	done, err := s.CompleteUpload(ctx, "legacy", "open", open.ID, []CompletedPart{{1, p2.ETag}}, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	read("open", "a part waiting")
	// The headers were sealed with the retired version: only the records
	// open the bodies now.
	for _, body := range []string{o.Body, mo.Parts[0].Body, done.Parts[0].Body} {
		f, err := store.Open(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.ObjectKey([]byte(body), f, f.Size()); !errors.Is(err, barrier.ErrIntegrity) {
			t.Fatalf("a header opened after its version retired: %v", err)
		}
		f.Close()
	}
}
