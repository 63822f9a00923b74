package objects

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// Multipart uploads, as S3 has them: parts numbered 1 to 10,000 are sealed
// and stored as they arrive, each a body of its own; completing the upload
// writes an object record that lists the chosen parts' bodies in order, so
// nothing is copied. An upload's record and its parts' records live in the
// bucket's view; aborting one, or deleting the bucket, removes them.

// S3's multipart limits.
const (
	MinPartSize = 5 << 20 // every part but the last
	MaxPartSize = 5 << 30 // and the largest single PutObject
	MaxParts    = 10000   // part numbers run 1..MaxParts
	MaxObject   = 5 << 40 // the largest completed object
	maxUploads  = 1 << 16 // uploads in progress per bucket, a guard against litter
	partNumLen  = 2       // bytes of a part number in a part record's key
	uploadIDLen = 24      // random bytes of an upload ID
)

// Upload is a multipart upload in progress.
type Upload struct {
	ID          string            `json:"id"`
	Key         string            `json:"key"`
	Initiated   time.Time         `json:"initiated"`
	ContentType string            `json:"contentType,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Encryption                    // as Object's; with an SSE-C key, every part is sealed with it
}

// UploadedPart is a part stored for an upload.
type UploadedPart struct {
	Number   int       `json:"number"`
	Body     string    `json:"body"`
	BodyKey  []byte    `json:"bodyKey,omitempty"` // none in records older than keys kept here
	Size     int64     `json:"size"`
	ETag     string    `json:"etag"` // hex MD5 of the part
	Modified time.Time `json:"modified"`

	Upload *Upload `json:"-"` // set by UploadPart
}

// CompletedPart names a part to assemble, as CompleteMultipartUpload
// lists them.
type CompletedPart struct {
	Number int
	ETag   string // quotes allowed
}

func uploadKey(v *barrier.View, id string) []byte { return append([]byte("u/"), v.Index(id)...) }

func partsPrefix(v *barrier.View, id string) []byte { return append([]byte("p/"), v.Index(id)...) }

func partKey(v *barrier.View, id string, n int) []byte {
	return binary.BigEndian.AppendUint16(partsPrefix(v, id), uint16(n))
}

func noUpload() error {
	return fail(twinvault.NoSuchUpload, "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

// upload reads an upload's record and checks that it is for key.
func upload(tx *barrier.Tx, v *barrier.View, key, id string) (*Upload, error) {
	raw, err := tx.Get(v, uploadKey(v, id))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, noUpload()
	}
	if err != nil {
		return nil, err
	}
	var u Upload
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("objects: decode upload: %w", err)
	}
	if u.Key != key {
		return nil, noUpload()
	}
	return &u, nil
}

// uploadedPart reads part n of upload id, or returns nil when there is none.
func uploadedPart(tx *barrier.Tx, v *barrier.View, id string, n int) (*UploadedPart, error) {
	raw, err := tx.Get(v, partKey(v, id, n))
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p UploadedPart
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("objects: decode part: %w", err)
	}
	return &p, nil
}

func uploadedParts(tx *barrier.Tx, v *barrier.View, id string) ([]*UploadedPart, error) {
	var out []*UploadedPart
	err := tx.Scan(v, kv.Prefix(partsPrefix(v, id)), func(_, raw []byte) error {
		var p UploadedPart
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("objects: decode part: %w", err)
		}
		out = append(out, &p)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, err
}

func validKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fail(twinvault.InvalidArgument, "The object key must be 1 to 1024 bytes.")
	}
	return nil
}

// CreateUpload starts a multipart upload of key.
func (s *Service) CreateUpload(ctx context.Context, bucket, key string, opt PutOptions) (*Upload, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	if err := validTags(opt.Tags, MaxObjectTags); err != nil {
		return nil, err
	}
	raw := make([]byte, uploadIDLen)
	rand.Read(raw)
	u := &Upload{ID: hex.EncodeToString(raw), Key: key, Initiated: s.now().UTC(), ContentType: opt.ContentType, Meta: opt.Meta, Tags: opt.Tags}
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		b, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		if u.Encryption, err = b.encryption(opt); err != nil {
			return err
		}
		n := 0
		err = tx.Scan(v, kv.Prefix([]byte("u/")), func(_, _ []byte) error {
			if n++; n >= maxUploads {
				return kv.Stop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n >= maxUploads {
			return fail(twinvault.ServiceUnavailable, "The bucket has too many multipart uploads in progress; complete or abort some first.")
		}
		data, err := json.Marshal(u)
		if err != nil {
			return err
		}
		return tx.Set(v, uploadKey(v, u.ID), data)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UploadPart stores part number n of an upload, replacing any part stored
// under that number; customerKey must be the SSE-C key the upload was
// created with, if any.
func (s *Service) UploadPart(ctx context.Context, bucket, key, id string, n int, body io.Reader, customerKey []byte) (*UploadedPart, error) {
	if n < 1 || n > MaxParts {
		return nil, fail(twinvault.InvalidArgument, "Part number must be an integer between 1 and %d, inclusive.", MaxParts)
	}
	var v *barrier.View
	var u *Upload
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		if _, v, err = s.bucket(tx, bucket); err != nil {
			return err
		}
		u, err = upload(tx, v, key, id)
		if err != nil {
			return err
		}
		if KeyMD5(customerKey) != u.CustomerKey {
			return fail(twinvault.InvalidRequest, "The customer encryption parameters of a part must be those the upload was created with.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p := &UploadedPart{Number: n, Upload: u}
	sealed, etag, err := s.sealBody(ctx, v, io.LimitReader(body, MaxPartSize+1), customerKey)
	if err != nil {
		return nil, err
	}
	p.Body, p.Size, p.BodyKey, p.ETag = sealed.Body, sealed.Size, sealed.Key, etag
	if p.Size > MaxPartSize {
		s.remove(context.Background(), p.Body)
		return nil, fail(twinvault.EntityTooLarge, "Your proposed upload exceeds the maximum allowed size.")
	}
	p.Modified = s.now().UTC()
	var old *UploadedPart
	err = s.b.Update(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		if _, err := upload(tx, v, key, id); err != nil {
			return err // aborted or completed while the part streamed
		}
		// The part it replaces, whose body is removed once this commits; a
		// record that cannot be read fails the call rather than leave that
		// body stored for good.
		if old, err = uploadedPart(tx, v, id, n); err != nil {
			return err
		}
		data, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return tx.Set(v, partKey(v, id, n), data)
	})
	if err != nil {
		s.remove(context.Background(), p.Body)
		return nil, err
	}
	if old != nil && old.Body != "" {
		s.remove(ctx, old.Body)
	}
	return p, nil
}

// CompleteUpload assembles an upload's parts into its object, replacing
// any object under its key if cond allows. The listed parts must be in
// ascending order, each stored with the given ETag, and all but the last
// at least MinPartSize; parts not listed are discarded. The object's ETag
// is S3's: the MD5 of the parts' MD5s, a dash and the number of parts.
func (s *Service) CompleteUpload(ctx context.Context, bucket, key, id string, list []CompletedPart, cond PutOptions) (*Object, error) {
	if len(list) == 0 {
		return nil, fail(twinvault.MalformedXML, "You must specify at least one part.")
	}
	if len(list) > MaxParts {
		return nil, fail(twinvault.MalformedXML, "An upload has at most %d parts.", MaxParts)
	}
	var o *Object
	var drop []string // bodies to remove once committed
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		drop = drop[:0]
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		u, err := upload(tx, v, key, id)
		if err != nil {
			return err
		}
		stored, err := uploadedParts(tx, v, id)
		if err != nil {
			return err
		}
		byNum := make(map[int]*UploadedPart, len(stored))
		for _, p := range stored {
			byNum[p.Number] = p
		}
		o = &Object{Key: key, ContentType: u.ContentType, Meta: u.Meta, Tags: u.Tags, Encryption: u.Encryption, Modified: s.now().UTC()}
		sum := newMD5()
		used := map[int]bool{}
		for i, c := range list {
			if i > 0 && c.Number <= list[i-1].Number {
				return fail(twinvault.InvalidPartOrder, "The list of parts was not in ascending order. Parts must be ordered by part number.")
			}
			p := byNum[c.Number]
			if p == nil || strings.Trim(c.ETag, `"`) != p.ETag {
				return fail(twinvault.InvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
			}
		}
		for i, c := range list {
			p := byNum[c.Number]
			if i < len(list)-1 && p.Size < MinPartSize {
				return fail(twinvault.EntityTooSmall, "Your proposed upload is smaller than the minimum allowed size: part %d is %d bytes, and every part but the last must be at least %d.", p.Number, p.Size, MinPartSize)
			}
			raw, _ := hex.DecodeString(p.ETag)
			sum.Write(raw)
			used[p.Number] = true
			o.Parts = append(o.Parts, Part{Body: p.Body, Size: p.Size, Key: p.BodyKey})
			o.Size += p.Size
		}
		if o.Size > MaxObject {
			return fail(twinvault.EntityTooLarge, "Your proposed upload exceeds the maximum allowed size.")
		}
		o.ETag = fmt.Sprintf("%s-%d", sum.sum(), len(list))
		for _, p := range stored {
			if !used[p.Number] {
				drop = append(drop, p.Body)
			}
			if err := tx.Delete(v, partKey(v, id, p.Number)); err != nil {
				return err
			}
		}
		if err := tx.Delete(v, uploadKey(v, id)); err != nil {
			return err
		}
		old, err := getObject(tx, v, key)
		if err != nil {
			return err
		}
		if err := cond.check(old); err != nil {
			return err
		}
		if old != nil {
			for _, p := range old.bodies() {
				drop = append(drop, p.Body)
			}
		}
		data, err := json.Marshal(o)
		if err != nil {
			return err
		}
		return tx.Set(v, objectKey(v, key), data)
	})
	if err != nil {
		return nil, err
	}
	for _, b := range drop {
		s.remove(ctx, b)
	}
	return o, nil
}

// AbortUpload discards an upload and its parts.
func (s *Service) AbortUpload(ctx context.Context, bucket, key, id string) error {
	var parts []*UploadedPart
	err := s.b.Update(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		if _, err := upload(tx, v, key, id); err != nil {
			return err
		}
		if parts, err = uploadedParts(tx, v, id); err != nil {
			return err
		}
		for _, p := range parts {
			if err := tx.Delete(v, partKey(v, id, p.Number)); err != nil {
				return err
			}
		}
		return tx.Delete(v, uploadKey(v, id))
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range parts {
		errs = append(errs, s.remove(ctx, p.Body))
	}
	return errors.Join(errs...)
}

// PartListing is one page of ListParts.
type PartListing struct {
	Upload *Upload
	Parts  []*UploadedPart
	Next   int // the part number marker of the next page; 0 when done
}

// ListParts lists an upload's parts numbered above marker, at most max.
func (s *Service) ListParts(ctx context.Context, bucket, key, id string, marker, max int) (*PartListing, error) {
	out := &PartListing{}
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		if out.Upload, err = upload(tx, v, key, id); err != nil {
			return err
		}
		parts, err := uploadedParts(tx, v, id)
		if err != nil {
			return err
		}
		for _, p := range parts {
			if p.Number <= marker {
				continue
			}
			if len(out.Parts) == max {
				out.Next = out.Parts[len(out.Parts)-1].Number
				break
			}
			out.Parts = append(out.Parts, p)
		}
		return nil
	})
	return out, err
}

// UploadListing is one page of ListMultipartUploads.
type UploadListing struct {
	Uploads        []*Upload
	CommonPrefixes []string
	NextKey        string // markers of the next page; "" when done
	NextID         string
}

// ListUploads lists a bucket's uploads in progress whose key begins with
// prefix, ordered by key and then by initiation, after the upload
// (keyMarker, idMarker): with no idMarker, after every upload of
// keyMarker. Keys that share a part up to delimiter after the prefix roll
// up into common prefixes.
func (s *Service) ListUploads(ctx context.Context, bucket, prefix, delimiter, keyMarker, idMarker string, max int) (*UploadListing, error) {
	var all []*Upload
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		return tx.Scan(v, kv.Prefix([]byte("u/")), func(_, raw []byte) error {
			var u Upload
			if err := json.Unmarshal(raw, &u); err != nil {
				return fmt.Errorf("objects: decode upload: %w", err)
			}
			if strings.HasPrefix(u.Key, prefix) {
				all = append(all, &u)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Key != all[j].Key {
			return all[i].Key < all[j].Key
		}
		if !all[i].Initiated.Equal(all[j].Initiated) {
			return all[i].Initiated.Before(all[j].Initiated)
		}
		return all[i].ID < all[j].ID
	})
	out := &UploadListing{}
	seen := map[string]bool{}
	past := idMarker == "" // whether the marker's upload has gone by
	for _, u := range all {
		if u.Key < keyMarker || (u.Key == keyMarker && (idMarker == "" || !past)) {
			if u.Key == keyMarker && u.ID == idMarker {
				past = true
			}
			continue
		}
		if len(out.Uploads)+len(out.CommonPrefixes) == max {
			if n := len(out.Uploads); n > 0 {
				out.NextKey, out.NextID = out.Uploads[n-1].Key, out.Uploads[n-1].ID
			}
			if n := len(out.CommonPrefixes); n > 0 && out.CommonPrefixes[n-1] > out.NextKey {
				out.NextKey, out.NextID = out.CommonPrefixes[n-1]+"\U0010FFFF", ""
			}
			break
		}
		if delimiter != "" {
			if i := strings.Index(u.Key[len(prefix):], delimiter); i >= 0 {
				cp := u.Key[:len(prefix)+i+len(delimiter)]
				if !seen[cp] {
					seen[cp] = true
					out.CommonPrefixes = append(out.CommonPrefixes, cp)
				}
				continue
			}
		}
		out.Uploads = append(out.Uploads, u)
	}
	return out, nil
}
