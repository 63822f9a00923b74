package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// memWriterAt collects a download written out of order.
type memWriterAt struct {
	mu  sync.Mutex
	buf []byte
}

func (m *memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := int(off) + len(p); end > len(m.buf) {
		m.buf = append(m.buf, make([]byte, end-len(m.buf))...)
	}
	copy(m.buf[off:], p)
	return len(p), nil
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestS3Multipart: the SDK's transfer manager uploads in parts and
// downloads by part and by range; the multipart calls one by one, with
// S3's errors; parts copied from another object; conditional reads and
// writes.
func TestS3Multipart(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	c := srv.S3(srv.AWSConfig())
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("models")}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 37<<20+12345) // five 8 MiB parts, the last short
	rand.NewChaCha8([32]byte{1}).Read(data)
	tm := transfermanager.New(c, func(o *transfermanager.Options) { o.Concurrency = 3 })
	up, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("models"), Key: aws.String("plant/line.glb"),
		Body: bytes.NewReader(data), ContentType: aws.String("model/gltf-binary")})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(up.ETag); !strings.HasSuffix(etag, `-5"`) {
		t.Fatalf("the multipart ETag %s", etag)
	}
	for _, kind := range []tmtypes.GetObjectType{tmtypes.GetObjectParts, tmtypes.GetObjectRanges} {
		var w memWriterAt
		_, err := tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{Bucket: aws.String("models"), Key: aws.String("plant/line.glb"), WriterAt: &w},
			func(o *transfermanager.Options) { o.GetObjectType = kind })
		if err != nil {
			t.Fatalf("download by %s: %v", kind, err)
		}
		if !bytes.Equal(w.buf, data) {
			t.Fatalf("download by %s: %d bytes differ from the %d sent", kind, len(w.buf), len(data))
		}
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("models"), Key: aws.String("plant/line.glb"), PartNumber: aws.Int32(5)})
	if err != nil || aws.ToInt32(head.PartsCount) != 5 || aws.ToInt64(head.ContentLength) != int64(len(data)-4*8<<20) ||
		aws.ToString(head.ContentType) != "model/gltf-binary" || head.ServerSideEncryption != "AES256" {
		t.Fatalf("head of part 5: %+v %v", head, err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("models"), Key: aws.String("plant/line.glb"), PartNumber: aws.Int32(6)}); apiCode(err) != "InvalidPartNumber" {
		t.Fatalf("part 6 of 5: %v", err)
	}

	// The calls one by one.
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("models"), Key: aws.String("copy.glb")})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.UploadId
	p1, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), UploadId: id, PartNumber: aws.Int32(1),
		CopySource: aws.String("models/plant/line.glb"), CopySourceRange: aws.String("bytes=1000-5243879")})
	if err != nil {
		t.Fatal(err)
	}
	tail := []byte("and a short tail")
	p2, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), UploadId: id, PartNumber: aws.Int32(2), Body: bytes.NewReader(tail)})
	if err != nil {
		t.Fatal(err)
	}
	p3, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), UploadId: id, PartNumber: aws.Int32(3), Body: bytes.NewReader(tail)})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), UploadId: id, MaxParts: aws.Int32(2)})
	if err != nil || len(parts.Parts) != 2 || !aws.ToBool(parts.IsTruncated) || aws.ToString(parts.NextPartNumberMarker) != "2" {
		t.Fatalf("list parts: %+v %v", parts, err)
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("models")})
	if err != nil || len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("list uploads: %+v %v", ups, err)
	}
	complete := func(parts ...s3types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), UploadId: id,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
		return err
	}
	part := func(n int32, etag *string) s3types.CompletedPart {
		return s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag}
	}
	if err := complete(part(1, p1.CopyPartResult.ETag), part(2, p1.CopyPartResult.ETag)); apiCode(err) != "InvalidPart" {
		t.Fatalf("a wrong ETag: %v", err)
	}
	if err := complete(part(2, p2.ETag), part(1, p1.CopyPartResult.ETag)); apiCode(err) != "InvalidPartOrder" {
		t.Fatalf("out of order: %v", err)
	}
	if err := complete(part(1, p1.CopyPartResult.ETag), part(2, p2.ETag), part(3, p3.ETag)); apiCode(err) != "EntityTooSmall" {
		t.Fatalf("a short middle part: %v", err)
	}
	if err := complete(part(1, p1.CopyPartResult.ETag), part(3, p3.ETag)); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("models"), Key: aws.String("copy.glb")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if want := append(append([]byte{}, data[1000:5243880]...), tail...); !bytes.Equal(body, want) || aws.ToInt32(got.PartsCount) != 2 {
		t.Fatalf("the assembled copy: %d bytes, %d parts", len(body), aws.ToInt32(got.PartsCount))
	}
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), UploadId: id}); apiCode(err) != "NoSuchUpload" {
		t.Fatalf("parts of a completed upload: %v", err)
	}
	ab, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("models"), Key: aws.String("abandoned")})
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("models"), Key: aws.String("abandoned"), UploadId: ab.UploadId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("models"), Key: aws.String("abandoned"), UploadId: ab.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")}); apiCode(err) != "NoSuchUpload" {
		t.Fatalf("a part of an aborted upload: %v", err)
	}

	// Conditional reads and writes.
	etag := got.ETag
	cond := []struct {
		in     s3.GetObjectInput
		status int
	}{
		{s3.GetObjectInput{IfMatch: etag}, 200},
		{s3.GetObjectInput{IfMatch: aws.String(`"0123"`)}, 412},
		{s3.GetObjectInput{IfNoneMatch: etag}, 304},
		{s3.GetObjectInput{IfNoneMatch: aws.String(`"0123"`)}, 200},
		{s3.GetObjectInput{IfModifiedSince: aws.Time(time.Now().Add(time.Hour))}, 304},
		{s3.GetObjectInput{IfModifiedSince: aws.Time(time.Now().Add(-time.Hour))}, 200},
		{s3.GetObjectInput{IfUnmodifiedSince: aws.Time(time.Now().Add(-time.Hour))}, 412},
		{s3.GetObjectInput{IfMatch: etag, IfUnmodifiedSince: aws.Time(time.Now().Add(-time.Hour))}, 200},
	}
	for i, cd := range cond {
		in := cd.in
		in.Bucket, in.Key = aws.String("models"), aws.String("copy.glb")
		out, err := c.GetObject(ctx, &in)
		status := 200
		if err != nil {
			status = httpStatus(err)
		} else {
			out.Body.Close()
		}
		if status != cd.status {
			t.Errorf("condition %d: status %d, want %d (%v)", i, status, cd.status, err)
		}
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")}); apiCode(err) != "PreconditionFailed" {
		t.Fatalf("If-None-Match over an object: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), Body: strings.NewReader("x"), IfMatch: aws.String(`"0123"`)}); apiCode(err) != "PreconditionFailed" {
		t.Fatalf("If-Match with another ETag: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String("new.txt"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")}); err != nil {
		t.Fatalf("If-None-Match on a new key: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("models"), Key: aws.String("copy.glb"), Body: strings.NewReader("v2"), IfMatch: etag}); err != nil {
		t.Fatalf("If-Match with the ETag: %v", err)
	}
}

// TestS3MultipartGiB: a 1 GiB object goes up through the transfer manager
// and comes back whole, streamed both ways.
func TestS3MultipartGiB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 2 GiB")
	}
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	c := srv.S3(srv.AWSConfig())
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("large")}); err != nil {
		t.Fatal(err)
	}
	const size = 1 << 30
	sent := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{7}), size), sent)
	tm := transfermanager.New(c, func(o *transfermanager.Options) { o.PartSizeBytes = 64 << 20; o.Concurrency = 2 })
	if _, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String("large"), Key: aws.String("site.glb"), Body: src}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("large"), Key: aws.String("site.glb")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	back := sha256.New()
	n, err := io.Copy(back, out.Body)
	if err != nil || n != size || !bytes.Equal(back.Sum(nil), sent.Sum(nil)) || aws.ToInt32(out.PartsCount) != 16 {
		t.Fatalf("read back %d bytes in %d parts, err %v, same: %v", n, aws.ToInt32(out.PartsCount), err, bytes.Equal(back.Sum(nil), sent.Sum(nil)))
	}
}
