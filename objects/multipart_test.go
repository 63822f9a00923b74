package objects

import (
	"bytes"
	"context"
	"crypto/fips140"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/objstore"
)

func bodies(t *testing.T, s *Service) int {
	t.Helper()
	n := 0
	if err := s.store.List(context.Background(), "", func(string) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func md5hex(b []byte) string {
	var sum [16]byte
	fips140.WithoutEnforcement(func() { sum = md5.Sum(b) })
	return hex.EncodeToString(sum[:])
}

func TestMultipartUpload(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "models")
	u, err := s.CreateUpload(ctx, "models", "plant/mixer.glb", PutOptions{ContentType: "model/gltf-binary", Meta: map[string]string{"line": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUpload(ctx, "nothing", "k", PutOptions{}); code(err) != twinvault.NoSuchBucket {
		t.Fatalf("in a missing bucket: %v", err)
	}
	part := func(n int) []byte {
		b := make([]byte, MinPartSize+n*1000)
		rand.Read(b)
		return b
	}
	p1, p2, p3 := part(1), part(2), []byte("the short last part")
	put := func(n int, b []byte) *UploadedPart {
		t.Helper()
		p, err := s.UploadPart(ctx, "models", "plant/mixer.glb", u.ID, n, bytes.NewReader(b), nil)
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		if p.ETag != md5hex(b) || p.Size != int64(len(b)) {
			t.Fatalf("part %d: etag %s size %d", n, p.ETag, p.Size)
		}
		return p
	}
	// Out of order, and part 2 sent twice: the second replaces the first.
	put(3, p3)
	put(2, p1)
	e1, e2 := put(1, p1), put(2, p2)
	e3 := &UploadedPart{ETag: md5hex(p3)}
	if n := bodies(t, s); n != 3 {
		t.Fatalf("%d bodies for 3 parts", n)
	}
	for _, n := range []int{0, MaxParts + 1} {
		if _, err := s.UploadPart(ctx, "models", "plant/mixer.glb", u.ID, n, strings.NewReader("x"), nil); code(err) != twinvault.InvalidArgument {
			t.Fatalf("part number %d: %v", n, err)
		}
	}
	if _, err := s.UploadPart(ctx, "models", "plant/other.glb", u.ID, 1, strings.NewReader("x"), nil); code(err) != twinvault.NoSuchUpload {
		t.Fatalf("an upload ID under another key: %v", err)
	}
	other := "0" + u.ID[1:] // another ID of the same form
	if u.ID[0] == '0' {
		other = "1" + u.ID[1:]
	}
	if _, err := s.UploadPart(ctx, "models", "plant/mixer.glb", other, 1, strings.NewReader("x"), nil); code(err) != twinvault.NoSuchUpload {
		t.Fatalf("an unknown upload ID: %v", err)
	}

	// Parts listed in pages of two.
	l, err := s.ListParts(ctx, "models", "plant/mixer.glb", u.ID, 0, 2)
	if err != nil || len(l.Parts) != 2 || l.Next != 2 || l.Upload.ContentType != "model/gltf-binary" {
		t.Fatalf("first page of parts: %+v, %v", l, err)
	}
	if l, _ = s.ListParts(ctx, "models", "plant/mixer.glb", u.ID, l.Next, 2); len(l.Parts) != 1 || l.Parts[0].Number != 3 || l.Next != 0 {
		t.Fatalf("second page of parts: %+v", l)
	}
	lu, err := s.ListUploads(ctx, "models", "plant/", "", "", "", 1000)
	if err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].ID != u.ID {
		t.Fatalf("uploads: %+v, %v", lu, err)
	}

	bad := []struct {
		list []CompletedPart
		code string
	}{
		{nil, twinvault.MalformedXML},
		{[]CompletedPart{{2, e2.ETag}, {1, e1.ETag}}, twinvault.InvalidPartOrder},
		{[]CompletedPart{{1, e1.ETag}, {1, e1.ETag}}, twinvault.InvalidPartOrder},
		{[]CompletedPart{{1, e1.ETag}, {2, e1.ETag}}, twinvault.InvalidPart},
		{[]CompletedPart{{1, e1.ETag}, {4, e1.ETag}}, twinvault.InvalidPart},
		{[]CompletedPart{{3, e3.ETag}, {4, e1.ETag}}, twinvault.InvalidPart},
		{[]CompletedPart{{1, e1.ETag}, {3, e3.ETag}, {4, e1.ETag}}, twinvault.InvalidPart},
	}
	for _, c := range bad {
		if _, err := s.CompleteUpload(ctx, "models", "plant/mixer.glb", u.ID, c.list, PutOptions{}); code(err) != c.code {
			t.Errorf("complete %v: %v, want %s", c.list, err, c.code)
		}
	}
	// A short part before the last is refused; everything stays in place.
	short, _ := s.CreateUpload(ctx, "models", "short", PutOptions{})
	s.UploadPart(ctx, "models", "short", short.ID, 1, strings.NewReader("tiny"), nil)
	s.UploadPart(ctx, "models", "short", short.ID, 2, strings.NewReader("tiny"), nil)
	if _, err := s.CompleteUpload(ctx, "models", "short", short.ID, []CompletedPart{{1, md5hex([]byte("tiny"))}, {2, md5hex([]byte("tiny"))}}, PutOptions{}); code(err) != twinvault.EntityTooSmall {
		t.Fatalf("a short first part: %v", err)
	}
	if err := s.AbortUpload(ctx, "models", "short", short.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.AbortUpload(ctx, "models", "short", short.ID); code(err) != twinvault.NoSuchUpload {
		t.Fatalf("abort twice: %v", err)
	}

	// An object is there already; completing replaces it.
	s.PutObject(ctx, "models", "plant/mixer.glb", strings.NewReader("old"), PutOptions{})
	list := []CompletedPart{{1, `"` + e1.ETag + `"`}, {2, e2.ETag}, {3, e3.ETag}}
	if _, err := s.CompleteUpload(ctx, "models", "plant/mixer.glb", u.ID, list, PutOptions{IfNoneMatch: true}); code(err) != twinvault.PreconditionFailed {
		t.Fatalf("completing over an object with If-None-Match: %v", err)
	}
	o, err := s.CompleteUpload(ctx, "models", "plant/mixer.glb", u.ID, list, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(e1.ETag + e2.ETag + e3.ETag)
	if want := md5hex(raw) + "-3"; o.ETag != want {
		t.Fatalf("etag %s, want %s", o.ETag, want)
	}
	if n := bodies(t, s); n != 3 {
		t.Fatalf("%d bodies after completing: the replaced object's and the unused parts' should be gone", n)
	}
	whole := append(append(append([]byte{}, p1...), p2...), p3...)
	got, r, err := s.GetObject(ctx, "models", "plant/mixer.glb", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got.Size != int64(len(whole)) || r.Size() != got.Size || got.Meta["line"] != "2" || got.ContentType != "model/gltf-binary" {
		t.Fatalf("object %+v", got)
	}
	all, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil || !bytes.Equal(all, whole) {
		t.Fatalf("the object read back differs: %v", err)
	}
	// Ranges within a part, across each boundary, and to the end.
	b1, b2 := int64(len(p1)), int64(len(p1)+len(p2))
	for _, rg := range [][2]int64{{0, 10}, {b1 - 5, 10}, {b1 - 70000, 140000}, {b2 - 1, 2}, {b1 - 1, b2 - b1 + 5}, {int64(len(whole)) - 3, 3}} {
		buf := make([]byte, rg[1])
		if _, err := r.ReadAt(buf, rg[0]); err != nil || !bytes.Equal(buf, whole[rg[0]:rg[0]+rg[1]]) {
			t.Fatalf("range %v: %v", rg, err)
		}
	}
	if _, err := s.ListParts(ctx, "models", "plant/mixer.glb", u.ID, 0, 10); code(err) != twinvault.NoSuchUpload {
		t.Fatalf("parts of a completed upload: %v", err)
	}
	if _, err := s.UploadPart(ctx, "models", "plant/mixer.glb", u.ID, 4, strings.NewReader("late"), nil); code(err) != twinvault.NoSuchUpload {
		t.Fatalf("a part after completion: %v", err)
	}
	if err := s.DeleteObject(ctx, "models", "plant/mixer.glb"); err != nil {
		t.Fatal(err)
	}
	if n := bodies(t, s); n != 0 {
		t.Fatalf("%d bodies after deleting", n)
	}
	// A bucket deleted with an upload in progress takes its parts along.
	left, _ := s.CreateUpload(ctx, "models", "left", PutOptions{})
	s.UploadPart(ctx, "models", "left", left.ID, 1, strings.NewReader("abandoned"), nil)
	if err := s.DeleteBucket(ctx, "models"); err != nil {
		t.Fatal(err)
	}
	if n := bodies(t, s); n != 0 {
		t.Fatalf("%d bodies after deleting the bucket", n)
	}
}

func TestListUploads(t *testing.T) {
	s, _ := newService(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	ctx := context.Background()
	s.CreateBucket(ctx, "bkt")
	var ids []string
	for _, k := range []string{"a", "d/x", "d/y", "m", "m", "z"} {
		u, err := s.CreateUpload(ctx, "bkt", k, PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k+":"+u.ID)
	}
	names := func(l *UploadListing) string {
		var out []string
		for _, u := range l.Uploads {
			out = append(out, u.Key+":"+u.ID)
		}
		for _, p := range l.CommonPrefixes {
			out = append(out, p+"*")
		}
		return strings.Join(out, ",")
	}
	// Pages of two cover every upload once, in order, including the two
	// uploads of the same key split across a page boundary.
	var got []string
	key, id := "", ""
	for range 10 {
		l, err := s.ListUploads(ctx, "bkt", "", "", key, id, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n := names(l); n != "" {
			got = append(got, n)
		}
		if l.NextKey == "" {
			break
		}
		key, id = l.NextKey, l.NextID
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged uploads\n got %v\nwant %v", got, ids)
	}
	l, _ := s.ListUploads(ctx, "bkt", "", "/", "", "", 100)
	if n := names(l); n != fmt.Sprintf("%s,%s,%s,%s,d/*", ids[0], ids[3], ids[4], ids[5]) {
		t.Fatalf("delimited: %s", n)
	}
	l, _ = s.ListUploads(ctx, "bkt", "", "", "m", "", 100) // after every upload of m
	if n := names(l); n != ids[5] {
		t.Fatalf("after m: %s", n)
	}
}

// TestCustomerKey: objects and uploads sealed with an SSE-C key are read
// with that key only.
func TestCustomerKey(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	s.CreateBucket(ctx, "vault")
	ck, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	o, err := s.PutObject(ctx, "vault", "k", strings.NewReader("classified"), PutOptions{CustomerKey: ck})
	if err != nil || o.CustomerKey != KeyMD5(ck) {
		t.Fatalf("put: %+v %v", o, err)
	}
	for _, c := range []struct {
		key  []byte
		code string
	}{{nil, twinvault.InvalidRequest}, {other, twinvault.AccessDenied}} {
		if _, _, err := s.GetObject(ctx, "vault", "k", c.key); code(err) != c.code {
			t.Errorf("read with key %x: %v, want %s", c.key, err, c.code)
		}
	}
	_, r, err := s.GetObject(ctx, "vault", "k", ck)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, r.Size())
	r.ReadAt(buf, 0)
	r.Close()
	if string(buf) != "classified" {
		t.Fatalf("read %q", buf)
	}
	s.PutObject(ctx, "vault", "plain", strings.NewReader("x"), PutOptions{})
	if _, _, err := s.GetObject(ctx, "vault", "plain", ck); code(err) != twinvault.InvalidRequest {
		t.Fatalf("a key for an ordinary object: %v", err)
	}

	u, _ := s.CreateUpload(ctx, "vault", "big", PutOptions{CustomerKey: ck})
	if _, err := s.UploadPart(ctx, "vault", "big", u.ID, 1, strings.NewReader("x"), nil); code(err) != twinvault.InvalidRequest {
		t.Fatalf("a part without the key: %v", err)
	}
	if _, err := s.UploadPart(ctx, "vault", "big", u.ID, 1, strings.NewReader("x"), other); code(err) != twinvault.InvalidRequest {
		t.Fatalf("a part with another key: %v", err)
	}
	p, err := s.UploadPart(ctx, "vault", "big", u.ID, 1, strings.NewReader("part one"), ck)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteUpload(ctx, "vault", "big", u.ID, []CompletedPart{{1, p.ETag}}, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetObject(ctx, "vault", "big", nil); code(err) != twinvault.InvalidRequest {
		t.Fatalf("the assembled object without the key: %v", err)
	}
	if _, r, err := s.GetObject(ctx, "vault", "big", ck); err != nil || r.Size() != 8 {
		t.Fatalf("the assembled object with the key: %v", err)
	} else {
		r.Close()
	}
}

// TestUploadPartDamagedRecord: a part sent again over a record that no
// longer decrypts fails, keeps the record and the body it names, and
// leaves no new body behind.
func TestUploadPartDamagedRecord(t *testing.T) {
	ctx := context.Background()
	mem := kvtest.NewMem()
	store, err := objstore.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := New(barriertest.Open(t, mem), store, nil)
	if _, err := s.CreateBucket(ctx, "models"); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUpload(ctx, "models", "k", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := mem.Raw()
	if _, err := s.UploadPart(ctx, "models", "k", u.ID, 1, strings.NewReader("first"), nil); err != nil {
		t.Fatal(err)
	}
	var rec string
	for k := range mem.Raw() {
		if _, ok := before[k]; !ok {
			if rec != "" {
				t.Fatal("a part added more than one record")
			}
			rec = k
		}
	}
	damaged := bytes.Clone(mem.Raw()[rec])
	damaged[len(damaged)-1] ^= 1
	mem.Put(rec, damaged)

	if _, err := s.UploadPart(ctx, "models", "k", u.ID, 1, strings.NewReader("second"), nil); !errors.Is(err, barrier.ErrIntegrity) {
		t.Fatalf("a part over a damaged record: %v", err)
	}
	if got := mem.Raw()[rec]; !bytes.Equal(got, damaged) {
		t.Fatal("the damaged record was replaced")
	}
	if n := bodies(t, s); n != 1 {
		t.Fatalf("%d bodies, want the first part's alone", n)
	}
}
