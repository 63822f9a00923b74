package barrier

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// sealObject seals data in writes of chunk bytes and returns the sealed
// object and its key.
func sealObject(t testing.TB, v *View, name string, data []byte, chunk int) (sealed, key []byte) {
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
	return buf.Bytes(), w.Key()
}

func TestObjectRoundTrip(t *testing.T) {
	_, b := newTestBarrier(t)
	v := create(t, b, "ws")
	for _, size := range []int{0, 1, SegmentSize - 1, SegmentSize, SegmentSize + 1, 3*SegmentSize + 5, 4 * SegmentSize} {
		for _, chunk := range []int{1 << 20, 1000, SegmentSize} {
			data := make([]byte, size)
			rand.Read(data)
			sealed, key := sealObject(t, v, "scene.json", data, chunk)
			o, err := v.OpenObject([]byte("scene.json"), bytes.NewReader(sealed), int64(len(sealed)), key)
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if o.Size() != int64(size) {
				t.Fatalf("size %d: Size %d", size, o.Size())
			}
			got := make([]byte, size)
			if _, err := o.ReadAt(got, 0); err != nil {
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
// object, another name or another object's key: none opens.
func TestObjectTamper(t *testing.T) {
	_, b := newTestBarrier(t)
	v := create(t, b, "ws")
	data := make([]byte, 3*SegmentSize+100)
	rand.Read(data)
	sealed, key := sealObject(t, v, "model.glb", data, 1<<20)
	_, otherKey := sealObject(t, v, "model.glb", data, 1<<20)
	hdr := len(sealed) - (3*(SegmentSize+segmentOverhead) + 100 + segmentOverhead)
	if hdr != 10 {
		t.Fatalf("the header is %d bytes: it holds a key", hdr)
	}
	seg := SegmentSize + segmentOverhead
	read := func(name string, key, blob []byte) error {
		o, err := v.OpenObject([]byte(name), bytes.NewReader(blob), int64(len(blob)), key)
		if err != nil {
			return err
		}
		return o.Verify()
	}
	if err := read("model.glb", key, sealed); err != nil {
		t.Fatalf("untouched: %v", err)
	}
	flip := bytes.Clone(sealed)
	flip[hdr+seg+500] ^= 1
	swapped := bytes.Clone(sealed)
	copy(swapped[hdr:], sealed[hdr+seg:hdr+2*seg])
	copy(swapped[hdr+seg:], sealed[hdr:hdr+seg])
	for name, c := range map[string]struct {
		name      string
		key, blob []byte
	}{
		"a changed byte":   {"model.glb", key, flip},
		"swapped segments": {"model.glb", key, swapped},
		"the last cut off": {"model.glb", key, sealed[:hdr+3*seg]},
		"cut inside":       {"model.glb", key, sealed[:hdr+seg+10]},
		"another name":     {"other.glb", key, sealed},
		"another key":      {"model.glb", otherKey, sealed},
		"no key":           {"model.glb", nil, sealed},
		"a short key":      {"model.glb", key[:16], sealed},
		"a changed header": {"model.glb", key, append([]byte("TVO2"), sealed[4:]...)},
	} {
		if err := read(c.name, c.key, c.blob); !errors.Is(err, ErrIntegrity) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzOpenObject: any bytes either open to an object whose every segment
// checks out, or fail with ErrIntegrity; nothing panics.
func FuzzOpenObject(f *testing.F) {
	_, b := newTestBarrier(f)
	v := create(f, b, "ws")
	key := make([]byte, 32)
	for _, n := range []int{0, 10, SegmentSize + 1} {
		sealed, k := sealObject(f, v, "o", make([]byte, n), 1<<20)
		copy(key, k) // one key for every seed
		f.Add(sealed)
		f.Add(sealLegacy(f, v, "o", sealed, k))
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		// Opened without a customer key, a blob whose well-formed header
		// says it was sealed with one is refused as such.
		ok := func(err error) bool {
			return errors.Is(err, ErrIntegrity) || errors.Is(err, ErrCustomerKey) && bytes.HasPrefix(blob, []byte(customerMagic))
		}
		o, err := v.OpenObject([]byte("o"), bytes.NewReader(blob), int64(len(blob)), key)
		if err == nil {
			err = o.Verify()
		}
		if err != nil && !ok(err) {
			t.Fatalf("error %v is not an integrity error", err)
		}
		o, err = v.OpenObject([]byte("o"), bytes.NewReader(blob), int64(len(blob)), nil)
		if err != nil {
			if !ok(err) {
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
	okey := w.Key()
	open := func(key []byte) (*Object, error) {
		return v.OpenObjectWith([]byte("secret.glb"), bytes.NewReader(sealed), int64(len(sealed)), okey, key)
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
	// A damaged header is damage, whatever its magic says.
	bad := bytes.Clone(sealed)
	bad[4] ^= 1 // the segment size
	if _, err := v.OpenObjectWith([]byte("secret.glb"), bytes.NewReader(bad), int64(len(bad)), okey, nil); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("a damaged header: %v", err)
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
	plain, pkey := sealObject(t, v, "plain", data, 1<<20)
	if _, err := v.OpenObjectWith([]byte("plain"), bytes.NewReader(plain), int64(len(plain)), pkey, ck); !errors.Is(err, ErrCustomerKey) {
		t.Fatalf("an ordinary object opened with a customer key: %v", err)
	}
}

// sealLegacy turns an object sealed with key into the older form that
// holds its key in its header, sealed by the view.
func sealLegacy(t testing.TB, v *View, name string, sealed, key []byte) []byte {
	t.Helper()
	k := v.keys.Load()
	wrapped := k.seal(v.key([]byte(name)), key)
	out := append([]byte(nil), sealed[:8]...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(wrapped)))
	out = append(out, wrapped...)
	return append(out, sealed[10:]...)
}

// TestObjectLegacyHeader: an object whose header holds its key, sealed by
// the view, opens without a key given and gives its key up to the view
// only; one sealed since holds none.
func TestObjectLegacyHeader(t *testing.T) {
	_, b := newTestBarrier(t)
	v, other := create(t, b, "ws"), create(t, b, "other")
	data := make([]byte, SegmentSize+9)
	rand.Read(data)
	sealed, key := sealObject(t, v, "old.glb", data, 1<<20)
	if k, err := v.ObjectKey([]byte("old.glb"), bytes.NewReader(sealed), int64(len(sealed))); k != nil || err != nil {
		t.Fatalf("a new object's header gave a key: %x %v", k, err)
	}
	legacy := sealLegacy(t, v, "old.glb", sealed, key)
	got, err := v.ObjectKey([]byte("old.glb"), bytes.NewReader(legacy), int64(len(legacy)))
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("ObjectKey: %v", err)
	}
	for _, k := range [][]byte{nil, key} {
		o, err := v.OpenObject([]byte("old.glb"), bytes.NewReader(legacy), int64(len(legacy)), k)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(data))
		if _, err := o.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, data) {
			t.Fatalf("legacy read: %v", err)
		}
	}
	if _, err := other.ObjectKey([]byte("old.glb"), bytes.NewReader(legacy), int64(len(legacy))); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("another view opened the header: %v", err)
	}
	if _, err := v.ObjectKey([]byte("new.glb"), bytes.NewReader(legacy), int64(len(legacy))); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("the header opened under another name: %v", err)
	}
}
