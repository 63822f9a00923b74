package barrier

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
)

func sealObject(t testing.TB, v *View, name string, data []byte, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := v.SealObject([]byte(name), &buf)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestObjectRoundTrip(t *testing.T) {
	_, b := newTestBarrier(t)
	v := create(t, b, "ws")
	for _, size := range []int{0, 1, SegmentSize - 1, SegmentSize, SegmentSize + 1, 3*SegmentSize + 5, 4 * SegmentSize} {
		for _, chunk := range []int{1 << 20, 1000, SegmentSize} {
			data := make([]byte, size)
			rand.Read(data)
			sealed := sealObject(t, v, "scene.json", data, chunk)
			o, err := v.OpenObject([]byte("scene.json"), bytes.NewReader(sealed), int64(len(sealed)))
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if o.Size() != int64(size) {
				t.Fatalf("size %d: Size %d", size, o.Size())
			}
			got := make([]byte, size)
			if _, err := o.ReadAt(got, 0); err != nil && !(size == 0 && err == nil) {
				t.Fatalf("size %d: %v", size, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("size %d: the data differs", size)
			}
			// Ranges around every segment boundary.
			for _, off := range []int{SegmentSize - 2, SegmentSize, SegmentSize + 3, 2*SegmentSize - 1} {
				for _, n := range []int{1, 4, SegmentSize + 10} {
					if off+n > size {
						continue
					}
					part := make([]byte, n)
					if _, err := o.ReadAt(part, int64(off)); err != nil || !bytes.Equal(part, data[off:off+n]) {
						t.Fatalf("size %d: range %d+%d: %v", size, off, n, err)
					}
				}
			}
			if size > 0 {
				if _, err := o.ReadAt(make([]byte, 2), int64(size-1)); !errors.Is(err, io.EOF) {
					t.Fatalf("size %d: a read past the end: %v", size, err)
				}
			}
		}
	}
}

// TestObjectTamper: a changed byte, a dropped or moved segment, a cut
// object, another name or another view: none opens.
func TestObjectTamper(t *testing.T) {
	_, b := newTestBarrier(t)
	v, other := create(t, b, "ws"), create(t, b, "other")
	data := make([]byte, 3*SegmentSize+100)
	rand.Read(data)
	sealed := sealObject(t, v, "model.glb", data, 1<<20)
	hdr := len(sealed) - (3*(SegmentSize+segmentOverhead) + 100 + segmentOverhead)
	seg := SegmentSize + segmentOverhead
	read := func(name string, view *View, blob []byte) error {
		o, err := view.OpenObject([]byte(name), bytes.NewReader(blob), int64(len(blob)))
		if err != nil {
			return err
		}
		return o.Verify()
	}
	if err := read("model.glb", v, sealed); err != nil {
		t.Fatalf("untouched: %v", err)
	}
	flip := bytes.Clone(sealed)
	flip[hdr+seg+500] ^= 1
	swapped := bytes.Clone(sealed)
	copy(swapped[hdr:], sealed[hdr+seg:hdr+2*seg])
	copy(swapped[hdr+seg:], sealed[hdr:hdr+seg])
	for name, c := range map[string]struct {
		name string
		view *View
		blob []byte
	}{
		"a changed byte":   {"model.glb", v, flip},
		"swapped segments": {"model.glb", v, swapped},
		"the last cut off": {"model.glb", v, sealed[:hdr+3*seg]},
		"cut inside":       {"model.glb", v, sealed[:hdr+seg+10]},
		"another name":     {"other.glb", v, sealed},
		"another view":     {"model.glb", other, sealed},
		"a changed header": {"model.glb", v, append([]byte("TVO2"), sealed[4:]...)},
	} {
		if err := read(c.name, c.view, c.blob); !errors.Is(err, ErrIntegrity) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzOpenObject: any bytes either open to an object whose every segment
// checks out, or fail with ErrIntegrity; nothing panics.
func FuzzOpenObject(f *testing.F) {
	_, b := newTestBarrier(f)
	v := create(f, b, "ws")
	for _, n := range []int{0, 10, SegmentSize + 1} {
		f.Add(sealObject(f, v, "o", make([]byte, n), 1<<20))
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		o, err := v.OpenObject([]byte("o"), bytes.NewReader(blob), int64(len(blob)))
		if err != nil {
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("error %v is not an integrity error", err)
			}
			return
		}
		if err := o.Verify(); err != nil && !errors.Is(err, ErrIntegrity) {
			t.Fatalf("error %v is not an integrity error", err)
		}
	})
}

func BenchmarkSealObject(b *testing.B) {
	_, br := newTestBarrier(b)
	v := create(b, br, "ws")
	data := make([]byte, 8<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		w, _ := v.SealObject([]byte("o"), io.Discard)
		w.Write(data)
		w.Close()
	}
}

// TestObjectCustomerKey: an object sealed with a customer key opens with
// that key only; without it, or with it on an ordinary object, opening
// fails.
func TestObjectCustomerKey(t *testing.T) {
	_, b := newTestBarrier(t)
	v := create(t, b, "ws")
	ck := bytes.Repeat([]byte{9}, CustomerKeySize)
	data := make([]byte, 2*SegmentSize+7)
	rand.Read(data)
	var buf bytes.Buffer
	w, err := v.SealObjectWith([]byte("secret.glb"), &buf, ck)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	sealed := buf.Bytes()
	open := func(key []byte) (*Object, error) {
		return v.OpenObjectWith([]byte("secret.glb"), bytes.NewReader(sealed), int64(len(sealed)), key)
	}
	o, err := open(ck)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if _, err := o.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with the key: %v", err)
	}
	if _, err := open(nil); !errors.Is(err, ErrCustomerKey) {
		t.Fatalf("opened without the key: %v", err)
	}
	other := bytes.Repeat([]byte{8}, CustomerKeySize)
	o, err = open(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.ReadAt(got[:10], 0); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("read with another key: %v", err)
	}
	if _, err := open(ck[:16]); err == nil {
		t.Fatal("a short customer key was taken")
	}
	plain := sealObject(t, v, "plain", data, 1<<20)
	if _, err := v.OpenObjectWith([]byte("plain"), bytes.NewReader(plain), int64(len(plain)), ck); !errors.Is(err, ErrCustomerKey) {
		t.Fatalf("an ordinary object opened with a customer key: %v", err)
	}
}
