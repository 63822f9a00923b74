package objects

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
)

// S3's tag limits.
const (
	MaxObjectTags = 10
	MaxBucketTags = 50
	maxTagKey     = 128 // characters
	maxTagValue   = 256
)

// validTags checks a tag set against S3's rules.
func validTags(tags map[string]string, max int) error {
	if len(tags) > max {
		return fail(twinvault.InvalidTag, "Object tags cannot be greater than %d.", max)
	}
	for k, v := range tags {
		switch n := utf8.RuneCountInString(k); {
		case n == 0 || n > maxTagKey || !utf8.ValidString(k):
			return fail(twinvault.InvalidTag, "The TagKey you have provided is invalid: it must be 1 to %d characters.", maxTagKey)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return fail(twinvault.InvalidTag, "Your TagKey cannot be prefixed with aws:.")
		case utf8.RuneCountInString(v) > maxTagValue || !utf8.ValidString(v):
			return fail(twinvault.InvalidTag, "The TagValue you have provided is invalid: it must be at most %d characters.", maxTagValue)
		}
	}
	return nil
}

// SetBucketTags replaces a bucket's tags; an empty set removes them.
func (s *Service) SetBucketTags(ctx context.Context, bucket string, tags map[string]string) error {
	if err := validTags(tags, MaxBucketTags); err != nil {
		return err
	}
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		b, _, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		b.Tags = tags
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		return tx.Set(s.b.System(), s.bucketKey(bucket), data)
	})
}

// SetObjectTags replaces an object's tags; an empty set removes them. The
// object's content and ETag are untouched.
func (s *Service) SetObjectTags(ctx context.Context, bucket, key string, tags map[string]string) error {
	if err := validTags(tags, MaxObjectTags); err != nil {
		return err
	}
	return s.b.Update(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		o, err := getObject(tx, v, key)
		if err != nil {
			return err
		}
		if o == nil {
			return fail(twinvault.NoSuchKey, "The specified key does not exist.")
		}
		o.Tags = tags
		data, err := json.Marshal(o)
		if err != nil {
			return err
		}
		return tx.Set(v, objectKey(v, key), data)
	})
}

// ObjectInfo returns an object's record without opening its body.
func (s *Service) ObjectInfo(ctx context.Context, bucket, key string) (*Object, error) {
	var o *Object
	err := s.b.Read(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.bucket(tx, bucket)
		if err != nil {
			return err
		}
		if o, err = getObject(tx, v, key); err == nil && o == nil {
			err = fail(twinvault.NoSuchKey, "The specified key does not exist.")
		}
		return err
	})
	return o, err
}
