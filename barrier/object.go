package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Objects (scene documents, 3D models) are too large to seal whole: they
// are sealed as a stream of segments, so a write needs one segment of
// memory and a range read opens only the segments it touches.
//
//	object  = header | segment 0 | segment 1 | ... | segment n-1
//	header  = magic | segSize u32 | len u16 | wrapped object key (len bytes)
//	segment = nonce 12 | AES-256-GCM(segment key, plaintext ≤ segSize) | tag 16
//
// The magic is "TVO1", and the segment key the object key, or "TVOC" for
// an object sealed with a customer-provided key (S3's SSE-C), whose
// segment key is HKDF-SHA256(object key | customer key): the view alone
// cannot open it, and the customer key is never stored.
//
// Each object has its own random key, which the caller keeps in a record
// of the view (ObjectWriter.Key), sealed like any value: the view's keys
// then seal one small value per object, and re-sealing the records is all
// a rotation of the view's keys needs, the bodies staying as they are. The
// header's wrapped key is empty; objects sealed before keys were kept in
// records have theirs there, sealed by the view (AAD = the object's
// name), and ObjectKey recovers it so the caller can move it to the
// record. A segment's AAD is the
// object's name, its index and whether it is the last, so segments cannot
// be moved, reordered, dropped from the end or lent to another object.
// Every segment is full but the last, which may be empty: an empty object
// is one empty last segment. Nonces are drawn inside the cryptographic
// module (cipher.NewGCMWithRandomNonce), as FIPS 140-3 mode requires.

// SegmentSize is the plaintext size of an object's segments.
const SegmentSize = 64 << 10

const (
	objectMagic     = "TVO1"
	customerMagic   = "TVOC"
	segmentOverhead = nonceSize + tagSize

	// CustomerKeySize is the size of a customer-provided key.
	CustomerKeySize = 32
)

// ErrRange is a read outside an object.
var ErrRange = errors.New("barrier: range outside the object")

// ErrCustomerKey is an object opened with a customer key it was not sealed
// with, or without the one it was.
var ErrCustomerKey = errors.New("barrier: the object's customer key is needed")

// segmentKey is the key an object's segments are sealed with.
func segmentKey(objectKey, customer []byte) ([]byte, error) {
	if customer == nil {
		return slices.Clone(objectKey), nil
	}
	if len(customer) != CustomerKeySize {
		return nil, fmt.Errorf("barrier: a customer key has %d bytes", CustomerKeySize)
	}
	return hkdf.Key(sha256.New, append(slices.Clone(objectKey), customer...), nil, "twinvault object customer key", 32)
}

func segmentAAD(name []byte, i uint64, last bool) []byte {
	aad := make([]byte, 0, len(name)+9)
	aad = append(aad, name...)
	aad = binary.BigEndian.AppendUint64(aad, i)
	if last {
		return append(aad, 1)
	}
	return append(aad, 0)
}

func objectAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(b)
}

// ObjectWriter seals an object as it is written. Close seals the last
// segment; an object not closed does not open.
type ObjectWriter struct {
	w    io.Writer
	aead cipher.AEAD
	key  []byte
	name []byte
	buf  []byte
	ct   []byte // a sealed segment, reused: Write must not keep it
	seg  uint64
	n    int64
	done bool
}

// SealObject starts sealing the object named name (the name it will be read
// back under) into w.
func (v *View) SealObject(name []byte, w io.Writer) (*ObjectWriter, error) {
	return v.SealObjectWith(name, w, nil)
}

// SealObjectWith seals an object that opens only with customer as well,
// a CustomerKeySize key; nil seals with the object key alone. The object
// key (Key) is not written with the object: the caller keeps it in a
// record of the view.
func (v *View) SealObjectWith(name []byte, w io.Writer, customer []byte) (*ObjectWriter, error) {
	if v.keys.Load() == nil {
		return nil, ErrNoView
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	sk, err := segmentKey(key, customer)
	if err != nil {
		return nil, err
	}
	aead, err := objectAEAD(sk)
	clear(sk)
	if err != nil {
		return nil, err
	}
	magic := objectMagic
	if customer != nil {
		magic = customerMagic
	}
	hdr := make([]byte, 0, 10)
	hdr = append(hdr, magic...)
	hdr = binary.BigEndian.AppendUint32(hdr, SegmentSize)
	hdr = binary.BigEndian.AppendUint16(hdr, 0)
	if _, err := w.Write(hdr); err != nil {
		return nil, err
	}
	return &ObjectWriter{w: w, aead: aead, key: key, name: append([]byte(nil), name...), buf: make([]byte, 0, SegmentSize)}, nil
}

// Key returns the object's key, which opens it: keep it sealed.
func (o *ObjectWriter) Key() []byte { return slices.Clone(o.key) }

func (o *ObjectWriter) Write(p []byte) (int, error) {
	if o.done {
		return 0, errors.New("barrier: write to a closed object")
	}
	n := 0
	for len(p) > 0 {
		// A full segment is written only once more data shows it is not
		// the last.
		if len(o.buf) == SegmentSize {
			if err := o.flush(false); err != nil {
				return n, err
			}
		}
		take := min(SegmentSize-len(o.buf), len(p))
		o.buf = append(o.buf, p[:take]...)
		p, n = p[take:], n+take
	}
	return n, nil
}

func (o *ObjectWriter) flush(last bool) error {
	o.ct = o.aead.Seal(o.ct[:0], nil, o.buf, segmentAAD(o.name, o.seg, last))
	if _, err := o.w.Write(o.ct); err != nil {
		return err
	}
	o.n += int64(len(o.buf))
	o.seg++
	o.buf = o.buf[:0]
	return nil
}

// Close seals the last segment; Size is then the plaintext size.
func (o *ObjectWriter) Close() error {
	if o.done {
		return nil
	}
	o.done = true
	return o.flush(true)
}

// Size is the number of plaintext bytes written so far.
func (o *ObjectWriter) Size() int64 { return o.n + int64(len(o.buf)) }

// Object is a sealed object opened for reading.
type Object struct {
	r      io.ReaderAt
	aead   cipher.AEAD
	name   []byte
	start  int64 // of segment 0
	segs   uint64
	size   int64 // plaintext
	segLen int64
}

// OpenObject opens the object named name, of stored size stored, read
// through r, with its key (nil: the key in its header). It checks the
// header and the key now, and each segment when it is read.
func (v *View) OpenObject(name []byte, r io.ReaderAt, stored int64, key []byte) (*Object, error) {
	return v.OpenObjectWith(name, r, stored, key, nil)
}

// OpenObjectWith opens an object sealed with a customer key; nil opens one
// sealed without. A wrong object or customer key shows as ErrIntegrity
// when a segment is read.
func (v *View) OpenObjectWith(name []byte, r io.ReaderAt, stored int64, key, customer []byte) (*Object, error) {
	segLen, wlen, err := objectHeader(r, stored, customer)
	if err != nil {
		return nil, err
	}
	if key == nil {
		if key, err = v.headerKey(name, r, wlen); err != nil {
			return nil, err
		}
		defer clear(key)
	} else if len(key) != 32 {
		return nil, fmt.Errorf("%w: an object key has 32 bytes", ErrIntegrity)
	}
	sk, err := segmentKey(key, customer)
	if err != nil {
		return nil, err
	}
	aead, err := objectAEAD(sk)
	clear(sk)
	if err != nil {
		return nil, err
	}
	body := stored - 10 - wlen
	full := segLen + segmentOverhead
	segs := uint64(body / full)
	rem := body % full
	if rem == 0 {
		// The last segment is full (or the object is cut at a boundary,
		// which the last segment's AAD will tell).
		if segs == 0 {
			return nil, fmt.Errorf("%w: object has no segments", ErrIntegrity)
		}
		rem = full
		segs--
	}
	if rem < segmentOverhead {
		return nil, fmt.Errorf("%w: object cut inside a segment", ErrIntegrity)
	}
	o := &Object{r: r, aead: aead, name: append([]byte(nil), name...), start: 10 + wlen, segs: segs + 1, segLen: segLen}
	o.size = int64(segs)*segLen + rem - segmentOverhead
	return o, nil
}

// objectHeader checks an object's header and returns its segment size
// and the length of the key it holds.
func objectHeader(r io.ReaderAt, stored int64, customer []byte) (segLen, wlen int64, err error) {
	var fixed [10]byte
	if _, err := r.ReadAt(fixed[:], 0); err != nil || (string(fixed[:4]) != objectMagic && string(fixed[:4]) != customerMagic) {
		return 0, 0, fmt.Errorf("%w: not a sealed object", ErrIntegrity)
	}
	segLen = int64(binary.BigEndian.Uint32(fixed[4:]))
	wlen = int64(binary.BigEndian.Uint16(fixed[8:]))
	if segLen != SegmentSize || 10+wlen > stored {
		return 0, 0, fmt.Errorf("%w: bad object header", ErrIntegrity)
	}
	// Only a well-formed header speaks for how the object was sealed.
	if (string(fixed[:4]) == customerMagic) != (customer != nil) {
		return 0, 0, ErrCustomerKey
	}
	return segLen, wlen, nil
}

// headerKey opens the key an object's header holds, wlen bytes sealed by
// the view.
func (v *View) headerKey(name []byte, r io.ReaderAt, wlen int64) ([]byte, error) {
	v.mu.RLock()
	k := v.keys.Load()
	v.mu.RUnlock()
	if k == nil {
		return nil, ErrNoView
	}
	if wlen == 0 {
		return nil, fmt.Errorf("%w: the object's key is kept apart from it", ErrIntegrity)
	}
	wrapped := make([]byte, wlen)
	if _, err := r.ReadAt(wrapped, 10); err != nil {
		return nil, fmt.Errorf("%w: object header cut short", ErrIntegrity)
	}
	return k.open(v.key(name), wrapped)
}

// ObjectKey returns the key held in the header of an object sealed before
// keys were kept apart, nil for one whose header holds none; the caller
// keeps it in the object's record, after which the view's older DEK
// versions no longer need to open the header.
func (v *View) ObjectKey(name []byte, r io.ReaderAt, stored int64) ([]byte, error) {
	var fixed [10]byte
	if _, err := r.ReadAt(fixed[:], 0); err != nil || (string(fixed[:4]) != objectMagic && string(fixed[:4]) != customerMagic) {
		return nil, fmt.Errorf("%w: not a sealed object", ErrIntegrity)
	}
	wlen := int64(binary.BigEndian.Uint16(fixed[8:]))
	if 10+wlen > stored {
		return nil, fmt.Errorf("%w: bad object header", ErrIntegrity)
	}
	if wlen == 0 {
		return nil, nil
	}
	return v.headerKey(name, r, wlen)
}

// Size is the object's plaintext size.
func (o *Object) Size() int64 { return o.size }

// segBufs holds the buffers a segment is read and opened with.
var segBufs = sync.Pool{New: func() any {
	b := make([]byte, 2*SegmentSize+segmentOverhead)
	return &b
}}

// segment opens segment i into buf (at least 2*SegmentSize+overhead
// bytes) and returns its plaintext, which aliases buf.
func (o *Object) segment(i uint64, buf []byte) ([]byte, error) {
	full := o.segLen + segmentOverhead
	off := o.start + int64(i)*full
	n := full
	last := i == o.segs-1
	if last {
		n = (o.size - int64(i)*o.segLen) + segmentOverhead
	}
	ct := buf[SegmentSize : SegmentSize+int(n)]
	if _, err := o.r.ReadAt(ct, off); err != nil && !(errors.Is(err, io.EOF) && last) {
		return nil, fmt.Errorf("%w: segment %d cannot be read", ErrIntegrity, i)
	}
	pt, err := o.aead.Open(buf[:0], nil, ct, segmentAAD(o.name, i, last))
	if err != nil {
		return nil, fmt.Errorf("%w: segment %d", ErrIntegrity, i)
	}
	return pt, nil
}

// ReadAt reads plaintext at off, opening only the segments p covers. A
// read of whole, aligned segments opens each once.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > o.size {
		return 0, ErrRange
	}
	bp := segBufs.Get().(*[]byte)
	defer segBufs.Put(bp)
	n := 0
	for n < len(p) && off < o.size {
		i := uint64(off / o.segLen)
		pt, err := o.segment(i, *bp)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], pt[off-int64(i)*o.segLen:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Verify opens every segment: whether the whole object is intact.
func (o *Object) Verify() error {
	bp := segBufs.Get().(*[]byte)
	defer segBufs.Put(bp)
	for i := uint64(0); i < o.segs; i++ {
		if _, err := o.segment(i, *bp); err != nil {
			return err
		}
	}
	return nil
}
