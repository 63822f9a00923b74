package node

import (
	"context"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/objects"
)

// buckets lends the object service to the catalog for workspace buckets.
type buckets struct{ s *objects.Service }

func (b buckets) CreateBucket(ctx context.Context, name string) error {
	_, err := b.s.CreateBucket(ctx, name)
	return err
}

func (b buckets) DeleteBucket(ctx context.Context, name string) error {
	return b.s.DeleteBucket(ctx, name)
}

func (b buckets) BucketExists(ctx context.Context, name string) (bool, error) {
	_, err := b.s.Bucket(ctx, name)
	return found(err, twinvault.NoSuchBucket)
}

func (b buckets) ObjectExists(ctx context.Context, bucket, key string) (bool, error) {
	_, err := b.s.ObjectInfo(ctx, bucket, key)
	return found(err, twinvault.NoSuchKey, twinvault.NoSuchBucket)
}

// found turns a lookup's error into whether the thing was there.
func found(err error, missing ...string) (bool, error) {
	if err == nil {
		return true, nil
	}
	for _, code := range missing {
		if twinvault.ErrorCode(err) == code {
			return false, nil
		}
	}
	return false, err
}
