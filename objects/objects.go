// Package objects keeps buckets and their objects, the bodies sealed by the
// barrier before they reach the object store. Each bucket is a barrier view
// of its own: its object records are sealed with its keys, and deleting it
// drops the view, so what might linger in the object store can no longer
// be opened.
package objects

import (
	"bytes"
	"context"
	"crypto/fips140"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/objstore"
)

// Service serves buckets and objects.
type Service struct {
	b     *barrier.Barrier
	store objstore.Store
	now   func() time.Time

	mu      sync.Mutex
	holds   int      // backups in progress
	pending []string // bodies to remove once the last hold ends
}

// remove deletes a body from the object store, or, while a backup holds
// the store, once it is released: a backup's snapshot of the records may
// still name the body. Over a shared store the backup may be another
// node's: its hold is a record in the store, and the body's name is queued
// there for whichever node collects after the last hold ends.
func (s *Service) remove(ctx context.Context, name string) error {
	s.mu.Lock()
	if s.holds > 0 {
		s.pending = append(s.pending, name)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if s.b.Shared() {
		held, err := s.held(ctx)
		if err != nil {
			return err
		}
		if held {
			return s.b.System().Batch(ctx, []kv.Write{{Key: append([]byte(gcPrefix), name...), Value: []byte{}}})
		}
	}
	return s.store.Delete(ctx, name)
}

const (
	holdPrefix = "objects/hold/"
	gcPrefix   = "objects/gc/"
	// holdTTL bounds a hold whose node stopped without releasing it; a
	// live hold is renewed well before.
	holdTTL = 10 * time.Minute
)

// held reports whether any node's hold is live.
func (s *Service) held(ctx context.Context) (bool, error) {
	now := s.now()
	live := false
	err := s.b.System().Scan(ctx, kv.Prefix([]byte(holdPrefix)), func(_, v []byte) error {
		var until time.Time
		if until.UnmarshalBinary(v) == nil && now.Before(until) {
			live = true
			return kv.Stop
		}
		return nil
	})
	return live, err
}

// Collect removes the bodies queued while holds were live, once none is.
func (s *Service) Collect(ctx context.Context) error {
	if !s.b.Shared() {
		return nil
	}
	if held, err := s.held(ctx); err != nil || held {
		return err
	}
	var keys [][]byte
	err := s.b.System().Scan(ctx, kv.Prefix([]byte(gcPrefix)), func(k, _ []byte) error {
		keys = append(keys, bytes.Clone(k))
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.store.Delete(ctx, string(k[len(gcPrefix):])); err != nil {
			return err
		}
		if err := s.b.System().Batch(ctx, []kv.Write{{Key: k}}); err != nil {
			return err
		}
	}
	return nil
}

// Hold keeps every body in the object store until release is called, so
// a backup can copy the bodies its snapshot of the records names. Over a
// shared store the hold is recorded there, for every node to see, before
// Hold returns; when it cannot be, Hold fails and holds nothing.
func (s *Service) Hold(ctx context.Context) (release func(), err error) {
	var stop func()
	if s.b.Shared() {
		if stop, err = s.holdShared(ctx); err != nil {
			return nil, fmt.Errorf("objects: hold the bodies: %w", err)
		}
	}
	s.mu.Lock()
	s.holds++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			if stop != nil {
				stop()
			}
			s.mu.Lock()
			s.holds--
			var names []string
			if s.holds == 0 {
				names, s.pending = s.pending, nil
			}
			s.mu.Unlock()
			ctx := context.Background()
			for _, n := range names {
				s.remove(ctx, n)
			}
			s.Collect(ctx)
		})
	}, nil
}

// holdShared records a hold in the store and renews it until stop. A
// renewal that fails is tried again at the next tick; the hold lapses only
// after holdTTL without one.
func (s *Service) holdShared(ctx context.Context) (stop func(), err error) {
	key := make([]byte, len(holdPrefix)+16)
	copy(key, holdPrefix)
	rand.Read(key[len(holdPrefix):])
	put := func(ctx context.Context) error {
		until, _ := s.now().Add(holdTTL).MarshalBinary()
		return s.b.System().Batch(ctx, []kv.Write{{Key: key, Value: until}})
	}
	if err := put(ctx); err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(holdTTL / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				put(ctx)
			}
		}
	}()
	return func() {
		close(done)
		s.b.System().Batch(ctx, []kv.Write{{Key: key}})
	}, nil
}

// Store is the object store the bodies are in.
func (s *Service) Store() objstore.Store { return s.store }

// New returns a Service keeping records through b and bodies in store.
func New(b *barrier.Barrier, store objstore.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{b: b, store: store, now: now}
}

// Bucket is a bucket's record.
type Bucket struct {
	Name    string            `json:"name"`
	ViewID  []byte            `json:"viewId"`
	Created time.Time         `json:"created"`
	Tags    map[string]string `json:"tags,omitempty"`
	// Default is how objects put without saying are reported: AES256
	// ("") or aws:kms with the bucket's key. Either way they are sealed
	// with the bucket's own keys.
	Default string `json:"sse,omitempty"`
}

// KeyID names the bucket's key as KMS names keys: a UUID drawn from its
// view ID. It is what aws:kms encryption reports, and the one KMS key ID
// the bucket accepts.
func (b *Bucket) KeyID() string {
	v := b.ViewID
	if len(v) < 16 {
		return ""
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:16])
}

// Encryption is how an object is sealed, in S3's terms.
type Encryption struct {
	Algorithm   string `json:"alg,omitempty"`    // "" (AES256), "aws:kms" or "aws:kms:dsse"
	KeyID       string `json:"kmsKey,omitempty"` // the bucket's KeyID, with aws:kms
	CustomerKey string `json:"ssec,omitempty"`   // MD5 (base64) of the SSE-C key, if sealed with one
}

// encryption settles what a write asks for against the bucket: the
// algorithm (or the bucket's default), and a KMS key that must be the
// bucket's own.
func (b *Bucket) encryption(opt PutOptions) (Encryption, error) {
	if opt.CustomerKey != nil {
		if opt.SSE != "" || opt.KMSKeyID != "" {
			return Encryption{}, fail(twinvault.InvalidArgument, "Server Side Encryption with Customer provided key is incompatible with the encryption method specified.")
		}
		return Encryption{CustomerKey: KeyMD5(opt.CustomerKey)}, nil
	}
	e := Encryption{Algorithm: opt.SSE}
	if e.Algorithm == "" {
		e.Algorithm = b.Default
	}
	switch e.Algorithm {
	case "", "AES256":
		e.Algorithm = ""
		if opt.KMSKeyID != "" {
			return e, fail(twinvault.InvalidArgument, "A KMS key ID is only taken with aws:kms encryption.")
		}
	case "aws:kms", "aws:kms:dsse":
		if err := b.checkKey(opt.KMSKeyID); err != nil {
			return e, err
		}
		e.KeyID = b.KeyID()
	default:
		return e, fail(twinvault.InvalidArgument, "The encryption method specified is not supported: use AES256 or aws:kms.")
	}
	return e, nil
}

// checkKey accepts no key ID, or the bucket's own as a UUID or a KMS ARN.
func (b *Bucket) checkKey(id string) error {
	if id == "" || id == b.KeyID() {
		return nil
	}
	if strings.HasPrefix(id, "arn:aws:kms:") && strings.HasSuffix(id, ":"+twinvault.Account+":key/"+b.KeyID()) {
		return nil
	}
	return fail(twinvault.InvalidArgument, "KMS key %s is not this bucket's: TwinVault seals each bucket with its own key, %s.", id, b.KeyID())
}

// SetBucketEncryption sets how objects put without saying are reported:
// AES256 or aws:kms (with no key ID, or the bucket's own). Every object is
// sealed with the bucket's keys whatever the setting.
func (s *Service) SetBucketEncryption(ctx context.Context, bucket, alg, keyID string) error {
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		b, _, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		e, err := b.encryption(PutOptions{SSE: alg, KMSKeyID: keyID})
		if err != nil {
			return err
		}
		b.Default = e.Algorithm
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		return tx.Set(s.b.System(), s.bucketKey(bucket), data)
	})
}

// Object is an object's record: its metadata and where its sealed body is.
type Object struct {
	Key         string            `json:"key"`
	Size        int64             `json:"size"`
	ETag        string            `json:"etag"` // hex MD5 of the content, as S3's for single uploads
	Modified    time.Time         `json:"modified"`
	ContentType string            `json:"contentType,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"` // x-amz-meta-*
	Tags        map[string]string `json:"tags,omitempty"`
	Encryption
	Body    string `json:"body,omitempty"`    // the sealed body's name in the object store
	BodyKey []byte `json:"bodyKey,omitempty"` // its key; none in records older than keys kept here
	Parts   []Part `json:"parts,omitempty"`   // a multipart object's bodies, in order
}

// Part is one sealed body of a multipart object.
type Part struct {
	Body string `json:"body"`
	Size int64  `json:"size"`
	Key  []byte `json:"key,omitempty"` // the body's key (barrier.ObjectWriter.Key)
}

// bodies are the sealed bodies that make up the object, in order.
func (o *Object) bodies() []Part {
	if len(o.Parts) > 0 {
		return o.Parts
	}
	return []Part{{o.Body, o.Size, o.BodyKey}}
}

// PutOptions are what a PutObject request sets besides the body.
type PutOptions struct {
	ContentType string
	Meta        map[string]string
	Tags        map[string]string

	// CustomerKey is an SSE-C key (barrier.CustomerKeySize bytes): the
	// body is sealed with it as well, and reads need it.
	CustomerKey []byte
	// SSE and KMSKeyID are what the write asks to be reported: AES256 or
	// aws:kms, and a KMS key that must be the bucket's; "" for the
	// bucket's default.
	SSE, KMSKeyID string

	// Conditional writes, checked atomically with the write: IfNoneMatch
	// refuses to replace an object, IfMatch to write unless the object
	// there has that ETag.
	IfNoneMatch bool
	IfMatch     string
}

// check applies opt's conditions to the object now under the key, nil
// if there is none.
func (opt PutOptions) check(old *Object) error {
	switch {
	case opt.IfNoneMatch && old != nil:
		return fail(twinvault.PreconditionFailed, "At least one of the pre-conditions you specified did not hold.")
	case opt.IfMatch != "" && old == nil:
		return fail(twinvault.NoSuchKey, "The specified key does not exist.")
	case opt.IfMatch != "" && strings.Trim(opt.IfMatch, `"`) != old.ETag && opt.IfMatch != "*":
		return fail(twinvault.PreconditionFailed, "At least one of the pre-conditions you specified did not hold.")
	}
	return nil
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func fail(code, format string, args ...any) error { return twinvault.Errorf(code, format, args...) }

func (s *Service) bucketKey(name string) []byte {
	return append([]byte("objects/bucket/"), s.b.System().Index(name)...)
}

func objectKey(v *barrier.View, key string) []byte { return append([]byte("o/"), v.Index(key)...) }

// CreateBucket makes an empty bucket.
func (s *Service) CreateBucket(ctx context.Context, name string) (*Bucket, error) {
	if !bucketName.MatchString(name) || strings.Contains(name, "..") {
		return nil, fail(twinvault.InvalidBucketName, "The specified bucket is not valid.")
	}
	b := &Bucket{Name: name, ViewID: make([]byte, 16), Created: s.now().UTC()}
	rand.Read(b.ViewID)
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		if _, err := tx.Get(s.b.System(), s.bucketKey(name)); err == nil {
			return fail(twinvault.BucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		if _, err := tx.CreateView(append([]byte("bucket/"), b.ViewID...)); err != nil {
			return err
		}
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		return tx.Set(s.b.System(), s.bucketKey(name), data)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (s *Service) bucket(tx *barrier.Tx, name string) (*Bucket, *barrier.View, error) {
	data, err := tx.Get(s.b.System(), s.bucketKey(name))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil, fail(twinvault.NoSuchBucket, "The specified bucket does not exist.")
	}
	if err != nil {
		return nil, nil, err
	}
	var b Bucket
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, nil, fmt.Errorf("objects: decode bucket: %w", err)
	}
	v, err := tx.View(append([]byte("bucket/"), b.ViewID...))
	if err != nil {
		return nil, nil, err
	}
	return &b, v, nil
}

// Bucket returns a bucket's record.
func (s *Service) Bucket(ctx context.Context, name string) (*Bucket, error) {
	var b *Bucket
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		b, _, err = s.bucket(tx, name)
		return err
	})
	return b, err
}

// Buckets lists the buckets by name.
func (s *Service) Buckets(ctx context.Context) ([]*Bucket, error) {
	var out []*Bucket
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(s.b.System(), kv.Prefix([]byte("objects/bucket/")), func(_, v []byte) error {
			var b Bucket
			if err := json.Unmarshal(v, &b); err != nil {
				return err
			}
			out = append(out, &b)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// DeleteBucket deletes an empty bucket and drops its view; uploads in
// progress are discarded with it.
func (s *Service) DeleteBucket(ctx context.Context, name string) error {
	var viewID []byte
	var parts []string
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		parts = parts[:0]
		b, v, err := s.bucket(tx, name)
		if err != nil {
			return err
		}
		empty := true
		err = tx.Scan(v, kv.Prefix([]byte("o/")), func(_, _ []byte) error {
			empty = false
			return kv.Stop
		})
		if err != nil {
			return err
		}
		if !empty {
			return fail(twinvault.BucketNotEmpty, "The bucket you tried to delete is not empty.")
		}
		err = tx.Scan(v, kv.Prefix([]byte("p/")), func(_, raw []byte) error {
			var p UploadedPart
			if json.Unmarshal(raw, &p) == nil {
				parts = append(parts, p.Body)
			}
			return nil
		})
		if err != nil {
			return err
		}
		viewID = append([]byte("bucket/"), b.ViewID...)
		return tx.Delete(s.b.System(), s.bucketKey(name))
	})
	if err != nil {
		return err
	}
	if err := s.b.DropView(ctx, viewID); err != nil {
		return err
	}
	for _, p := range parts {
		s.remove(ctx, p)
	}
	return nil
}

// md5Hash is S3's ETag hash. MD5 is not approved in FIPS 140-3 mode; the
// ETag is a compatibility checksum, not a protection, so it is computed
// outside enforcement.
type md5Hash struct{ h hash.Hash }

func newMD5() *md5Hash {
	var m md5Hash
	fips140.WithoutEnforcement(func() { m.h = md5.New() })
	return &m
}

func (m *md5Hash) Write(p []byte) (int, error) {
	var n int
	var err error
	fips140.WithoutEnforcement(func() { n, err = m.h.Write(p) })
	return n, err
}

func (m *md5Hash) sum() string {
	var s []byte
	fips140.WithoutEnforcement(func() { s = m.h.Sum(nil) })
	return hex.EncodeToString(s)
}

// PutObject stores body under key, replacing any object there: the body is
// sealed as it streams into the object store, and the record written once
// the body is durable.
func (s *Service) PutObject(ctx context.Context, bucket, key string, body io.Reader, opt PutOptions) (*Object, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	var v *barrier.View
	var b *Bucket
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		b, v, err = s.bucket(tx, bucket)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := validTags(opt.Tags, MaxObjectTags); err != nil {
		return nil, err
	}
	enc, err := b.encryption(opt)
	if err != nil {
		return nil, err
	}
	o := &Object{Key: key, ContentType: opt.ContentType, Meta: opt.Meta, Tags: opt.Tags, Encryption: enc}
	if opt.IfNoneMatch || opt.IfMatch != "" {
		// Fail early; the write checks again.
		err := s.b.Read(ctx, func(tx *barrier.Tx) error {
			old, err := getObject(tx, v, key)
			if err != nil {
				return err
			}
			return opt.check(old)
		})
		if err != nil {
			return nil, err
		}
	}
	sealed, etag, err := s.sealBody(ctx, v, io.LimitReader(body, MaxPartSize+1), opt.CustomerKey)
	if err != nil {
		return nil, err
	}
	o.Body, o.Size, o.BodyKey, o.ETag = sealed.Body, sealed.Size, sealed.Key, etag
	if o.Size > MaxPartSize {
		s.remove(context.Background(), o.Body)
		return nil, fail(twinvault.EntityTooLarge, "Your proposed upload exceeds the maximum allowed size.")
	}
	o.Modified = s.now().UTC()
	var old *Object
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		if old, err = getObject(tx, v, key); err != nil {
			return err
		}
		if err := opt.check(old); err != nil {
			return err
		}
		data, err := json.Marshal(o)
		if err != nil {
			return err
		}
		return tx.Set(v, objectKey(v, key), data)
	})
	if err != nil {
		s.remove(context.Background(), o.Body)
		return nil, err
	}
	if old != nil {
		s.deleteBodies(ctx, old) // the replaced bodies
	}
	return o, nil
}

// getObject reads an object's record; nil if there is none.
func getObject(tx *barrier.Tx, v *barrier.View, key string) (*Object, error) {
	raw, err := tx.Get(v, objectKey(v, key))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var o Object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("objects: decode object: %w", err)
	}
	return &o, nil
}

// pipeDepth is how many sealed segments may wait for the object store.
const pipeDepth = 8

// sealBody seals body as it streams into the object store under a new
// name, and returns the name, the content's size, the body's key and its
// MD5 (hex). A body that fails midway leaves nothing behind.
func (s *Service) sealBody(ctx context.Context, v *barrier.View, body io.Reader, customerKey []byte) (sealed Part, etag string, err error) {
	raw := make([]byte, 16)
	rand.Read(raw)
	name := hex.EncodeToString(v.ID()) + "/" + hex.EncodeToString(raw)
	var size int64
	var key []byte
	// Three stages run side by side: hashing (the ETag), sealing, and
	// storing; the body is read once.
	hs := newHashStage()
	pp := newPipe(pipeDepth)
	done := make(chan error, 1)
	go func() {
		w, err := v.SealObjectWith([]byte(name), pp, customerKey)
		if err == nil {
			if _, err = hs.copy(w, body); err == nil {
				err = w.Close()
				size, key = w.Size(), w.Key()
			}
		}
		hs.finish()
		pp.CloseWrite(err)
		done <- err
	}()
	_, err = s.store.Put(ctx, name, pp)
	pp.CloseRead(err)
	if serr := <-done; err == nil {
		err = serr
	}
	if err != nil {
		s.remove(context.Background(), name)
		return Part{}, "", err
	}
	return Part{Body: name, Size: size, Key: key}, hs.etag(), nil
}

// ReadBuffer is a good size for the buffer of a sequential read: whole
// segments.
const ReadBuffer = 4 * barrier.SegmentSize

// Reader reads an object's content, across its parts; close it when
// done.
type Reader struct {
	parts []*barrier.Object
	start []int64 // of each part in the object
	size  int64
	close []io.Closer
}

// Size is the object's size.
func (r *Reader) Size() int64 { return r.size }

// ReadAt reads the content at off, opening only the segments it covers.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > r.size {
		return 0, barrier.ErrRange
	}
	n := 0
	for n < len(p) && off < r.size {
		i := sort.Search(len(r.start), func(i int) bool { return r.start[i] > off }) - 1
		part := r.parts[i]
		within := off - r.start[i]
		want := min(int64(len(p)-n), part.Size()-within)
		m, err := part.ReadAt(p[n:n+int(want)], within)
		n += m
		off += int64(m)
		if err != nil && !(errors.Is(err, io.EOF) && int64(m) == want) {
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases the stored bodies.
func (r *Reader) Close() error {
	var errs []error
	for _, c := range r.close {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// CustomerKeySize is the size of an SSE-C key: AES-256.
const CustomerKeySize = barrier.CustomerKeySize

// KeyMD5 is how S3 names an SSE-C key: its MD5, base64; "" for none.
func KeyMD5(key []byte) string {
	if key == nil {
		return ""
	}
	m := newMD5()
	m.Write(key)
	var sum []byte
	fips140.WithoutEnforcement(func() { sum = m.h.Sum(nil) })
	return base64.StdEncoding.EncodeToString(sum)
}

// checkCustomerKey checks that a read brings the SSE-C key an object was
// sealed with, or none if it was sealed without.
func checkCustomerKey(stored string, key []byte) error {
	switch {
	case stored == "" && key == nil:
		return nil
	case stored == "":
		return fail(twinvault.InvalidRequest, "The encryption parameters are not applicable to this object.")
	case key == nil:
		return fail(twinvault.InvalidRequest, "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	case KeyMD5(key) != stored:
		return fail(twinvault.AccessDenied, "The provided customer encryption key does not match the object's.")
	}
	return nil
}

// GetObject returns an object's record and a reader of its content;
// customerKey is the SSE-C key the object was sealed with, if any.
func (s *Service) GetObject(ctx context.Context, bucket, key string, customerKey []byte) (*Object, *Reader, error) {
	var o Object
	var v *barrier.View
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		if _, v, err = s.bucket(tx, bucket); err != nil {
			return err
		}
		raw, err := tx.Get(v, objectKey(v, key))
		if errors.Is(err, kv.ErrNotFound) {
			return fail(twinvault.NoSuchKey, "The specified key does not exist.")
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &o)
	})
	if err != nil {
		return nil, nil, err
	}
	if err := checkCustomerKey(o.CustomerKey, customerKey); err != nil {
		return nil, nil, err
	}
	rd := &Reader{}
	for _, p := range o.bodies() {
		f, err := s.store.Open(ctx, p.Body)
		if err != nil {
			rd.Close()
			return nil, nil, fmt.Errorf("objects: body of %s: %w", key, err)
		}
		rd.close = append(rd.close, f)
		obj, err := v.OpenObjectWith([]byte(p.Body), f, f.Size(), p.Key, customerKey)
		if err != nil {
			rd.Close()
			return nil, nil, err
		}
		rd.parts = append(rd.parts, obj)
		rd.start = append(rd.start, rd.size)
		rd.size += obj.Size()
	}
	return &o, rd, nil
}

// DeleteObject deletes an object; a missing key is not an error, as in S3.
func (s *Service) DeleteObject(ctx context.Context, bucket, key string) error {
	var old *Object
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		old = nil // the transaction may run again
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		raw, err := tx.Get(v, objectKey(v, key))
		if errors.Is(err, kv.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		old = &Object{}
		if err := json.Unmarshal(raw, old); err != nil {
			return err
		}
		return tx.Delete(v, objectKey(v, key))
	})
	if err != nil || old == nil {
		return err
	}
	return s.deleteBodies(ctx, old)
}

// deleteBodies removes an object's sealed bodies from the object store.
func (s *Service) deleteBodies(ctx context.Context, o *Object) error {
	var errs []error
	for _, p := range o.bodies() {
		errs = append(errs, s.remove(ctx, p.Body))
	}
	return errors.Join(errs...)
}

// Listing is one page of ListObjectsV2.
type Listing struct {
	Objects        []*Object
	CommonPrefixes []string
	Next           string // the key to start after for the next page; "" when done
}

// ListObjects lists a bucket's objects in key order: those after
// startAfter whose key begins with prefix, keys that share a part up to
// delimiter after the prefix rolled up into common prefixes, at most max
// entries. Keys are blind-indexed in storage, so the listing decrypts the
// bucket's records and sorts them.
func (s *Service) ListObjects(ctx context.Context, bucket, prefix, delimiter, startAfter string, max int) (*Listing, error) {
	var all []*Object
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		return tx.Scan(v, kv.Prefix([]byte("o/")), func(_, raw []byte) error {
			var o Object
			if err := json.Unmarshal(raw, &o); err != nil {
				return err
			}
			if strings.HasPrefix(o.Key, prefix) && o.Key > startAfter {
				all = append(all, &o)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Key < all[j].Key })
	out := &Listing{}
	seen := map[string]bool{}
	for _, o := range all {
		if len(out.Objects)+len(out.CommonPrefixes) == max {
			out.Next = lastKey(out)
			break
		}
		if delimiter != "" {
			if i := strings.Index(o.Key[len(prefix):], delimiter); i >= 0 {
				cp := o.Key[:len(prefix)+i+len(delimiter)]
				if !seen[cp] {
					seen[cp] = true
					out.CommonPrefixes = append(out.CommonPrefixes, cp)
				}
				continue
			}
		}
		out.Objects = append(out.Objects, o)
	}
	return out, nil
}

// lastKey is where the next page starts: after the last object, or after
// every key of the last common prefix.
func lastKey(l *Listing) string {
	last := ""
	if n := len(l.Objects); n > 0 {
		last = l.Objects[n-1].Key
	}
	if n := len(l.CommonPrefixes); n > 0 && l.CommonPrefixes[n-1] > last {
		last = l.CommonPrefixes[n-1] + "\U0010FFFF"
	}
	return last
}
