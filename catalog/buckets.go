package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/twinvault/twinvault"
)

// Buckets are the S3 buckets where workspaces keep scene documents and
// models, as the catalog needs them.
type Buckets interface {
	// CreateBucket makes a bucket, encrypted as every bucket is; a bucket
	// that exists already is reported with twinvault.BucketAlreadyOwnedByYou.
	CreateBucket(ctx context.Context, name string) error
	DeleteBucket(ctx context.Context, name string) error
	BucketExists(ctx context.Context, name string) (bool, error)
	ObjectExists(ctx context.Context, bucket, key string) (bool, error)
}

const bucketARNPrefix = "arn:aws:s3:::"

// workspaceBucket names the bucket made for a workspace created without an
// s3Location, after TwinMaker's console: twinmaker-workspace-<id>-<account>.
// An ID that is not a valid bucket name as it stands (upper case,
// underscores, length) is folded, and a hash of the ID keeps folded names
// apart.
func workspaceBucket(id string) string {
	const prefix, most = "twinmaker-workspace-", 63
	name := strings.Trim(strings.ReplaceAll(strings.ToLower(id), "_", "-"), "-")
	room := most - len(prefix) - 1 - len(twinvault.Account)
	if name != id || len(name) > room {
		sum := sha256.Sum256([]byte(id))
		h := hex.EncodeToString(sum[:4])
		name = strings.TrimRight(name[:min(len(name), room-len(h)-1)], "-") + "-" + h
	}
	return prefix + strings.TrimPrefix(name, "-") + "-" + twinvault.Account
}

// bucketOf reads the bucket name of an s3Location ARN.
func bucketOf(arn string) (string, error) {
	name, ok := strings.CutPrefix(arn, bucketARNPrefix)
	if !ok || name == "" || strings.ContainsAny(name, "/:*") {
		return "", invalid("s3Location %s is not the ARN of a bucket (arn:aws:s3:::name)", arn)
	}
	return name, nil
}

// workspaceLocation settles a workspace's bucket: the one s3Location names,
// which must exist, or a new one made for it. It returns the ARN to record
// and, if it made the bucket, its name.
func (s *Service) workspaceLocation(ctx context.Context, id string, s3Location *string) (string, string, error) {
	if s.buckets == nil {
		if s3Location == nil {
			return "", "", nil
		}
		return *s3Location, "", nil
	}
	if s3Location != nil {
		name, err := bucketOf(*s3Location)
		if err != nil {
			return "", "", err
		}
		ok, err := s.buckets.BucketExists(ctx, name)
		if err != nil {
			return "", "", err
		}
		if !ok {
			return "", "", invalid("The S3 bucket %s of s3Location does not exist", name)
		}
		return *s3Location, "", nil
	}
	name := workspaceBucket(id)
	err := s.buckets.CreateBucket(ctx, name)
	if twinvault.ErrorCode(err) == twinvault.BucketAlreadyOwnedByYou {
		// Kept from an earlier workspace of this ID: TwinMaker leaves the
		// bucket behind when a workspace is deleted.
		return bucketARNPrefix + name, "", nil
	}
	if err != nil {
		return "", "", err
	}
	return bucketARNPrefix + name, name, nil
}

// checkContent checks that a scene's contentLocation names an object in
// its workspace's bucket.
func (s *Service) checkContent(ctx context.Context, ws *workspace, location string) error {
	if s.buckets == nil {
		return nil
	}
	rest, ok := strings.CutPrefix(location, "s3://")
	if !ok {
		rest, ok = strings.CutPrefix(location, "S3://")
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return invalid("contentLocation %s must be s3://bucket/key", location)
	}
	if ws.S3Location == nil {
		return invalid("Workspace %s has no S3 bucket for scene content", ws.ID)
	}
	if want, _ := bucketOf(*ws.S3Location); bucket != want {
		return invalid("contentLocation %s is not in workspace %s's bucket %s", location, ws.ID, want)
	}
	found, err := s.buckets.ObjectExists(ctx, bucket, key)
	if err != nil {
		return err
	}
	if !found {
		return invalid("contentLocation %s names no object: upload the scene document first", location)
	}
	return nil
}
