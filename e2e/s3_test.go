package e2e

import (
	"bytes"
	"context"
	"crypto/fips140"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// TestS3Objects: buckets and objects through the S3 SDK: the CookieFactory
// scene documents and models go up and come back byte for byte, ranges
// across segment boundaries, listing, errors, and a prefix-limited user.
func TestS3Objects(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	c := srv.S3(srv.AWSConfig())
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cookiefactory")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cookiefactory")}); apiCode(err) != "BucketAlreadyOwnedByYou" {
		t.Fatalf("twice: %v", err)
	}
	dir := filepath.Join(sampleDir(t))
	files := map[string][]byte{}
	for _, f := range []string{"CookieFactory.json", "Mixer.json", "../models/CookieFactoryMixer.glb", "../models/CookieFactoryWaterTank.glb"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		key := "scenes/" + filepath.Base(f)
		files[key] = data
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String(key), Body: bytes.NewReader(data),
			Metadata: map[string]string{"origin": "sample"}})
		if err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
		if out.ServerSideEncryption != "AES256" {
			t.Errorf("put %s: encryption %q", key, out.ServerSideEncryption)
		}
	}
	for key, data := range files {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) || out.Metadata["origin"] != "sample" {
			t.Fatalf("%s: %d bytes back of %d", key, len(got), len(data))
		}
	}
	// Ranges around the 64 KiB segment boundaries of a large object.
	big := make([]byte, 300_000)
	rand.Read(big)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String("big.bin"), Body: bytes.NewReader(big)}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		spec     string
		from, to int
	}{{"bytes=65530-65545", 65530, 65545}, {"bytes=0-0", 0, 0}, {"bytes=131070-262150", 131070, 262150}, {"bytes=-10", 299990, 299999}, {"bytes=299000-", 299000, 299999}} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String("big.bin"), Range: aws.String(r.spec)})
		if err != nil {
			t.Fatalf("%s: %v", r.spec, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, big[r.from:r.to+1]) {
			t.Fatalf("%s: wrong bytes", r.spec)
		}
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String("big.bin"), Range: aws.String("bytes=400000-")}); apiCode(err) != "InvalidRange" {
		t.Fatalf("a range past the end: %v", err)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("cookiefactory"), Prefix: aws.String("scenes/"), Delimiter: aws.String("/")})
	if err != nil || len(list.Contents) != 4 {
		t.Fatalf("list: %v", err)
	}
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("cookiefactory"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	if len(keys) != 5 || keys[0] != "big.bin" {
		t.Fatalf("paged: %v", keys)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String("missing")}); apiCode(err) != "NoSuchKey" {
		t.Fatalf("a missing key: %v", err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("cookiefactory")}); apiCode(err) != "BucketNotEmpty" {
		t.Fatalf("deleting a full bucket: %v", err)
	}

	// A user limited to one prefix.
	admin := srv.IAM(srv.AWSConfig())
	admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("designer")})
	key, _ := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("designer")})
	admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("designer"), PolicyName: aws.String("scenes"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::cookiefactory/scenes/*"}}`)})
	d := srv.S3(srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	if out, err := d.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String("scenes/Mixer.json")}); err != nil {
		t.Fatalf("the designer's read: %v", err)
	} else {
		out.Body.Close()
	}
	if _, err := d.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String("big.bin")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("outside the prefix: %v", err)
	}
	if _, err := d.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String("elsewhere.txt"), Body: strings.NewReader("x")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("a write outside the prefix: %v", err)
	}

	for key := range files {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cookiefactory"), Key: aws.String("big.bin")})
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("cookiefactory")}); err != nil {
		t.Fatalf("deleting the emptied bucket: %v", err)
	}
}

// TestS3Presigned: a presigned PUT and GET work without credentials, and
// a presigned URL past its expiry is refused.
func TestS3Presigned(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	c := srv.S3(srv.AWSConfig())
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	pc := s3.NewPresignClient(c)
	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("drop/box.txt")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, put.URL, strings.NewReader("dropped"))
	for k, v := range put.SignedHeader {
		req.Header[k] = v
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned put: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String("drop/box.txt")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = srv.HTTPClient().Get(get.URL)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned get: %v %v", err, resp.Status)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "dropped" {
		t.Fatalf("presigned get read %q", body)
	}
	// Expired: signed for a past time with a one-second life.
	old := s3.NewPresignClient(c, func(o *s3.PresignOptions) {
		o.Presigner = pastSigner{v4.NewSigner()}
	})
	exp, err := old.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String("drop/box.txt")}, s3.WithPresignExpires(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = srv.HTTPClient().Get(exp.URL)
	if err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an expired presigned get: %v %v", err, resp.Status)
	}
	resp.Body.Close()
}

// pastSigner presigns as of ten minutes ago.
type pastSigner struct{ s3.HTTPPresignerV4 }

func (p pastSigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.HTTPPresignerV4.PresignHTTP(ctx, creds, r, payloadHash, service, region, t.Add(-10*time.Minute), opts...)
}

// TestS3BucketConfiguration: encryption is reported on and cannot be
// turned off; the location is the server's region; a batch delete removes
// what it lists.
func TestS3BucketConfiguration(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	c := srv.S3(srv.AWSConfig())
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("conf")})
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("conf")})
	if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) != 1 ||
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "AES256" {
		t.Fatalf("GetBucketEncryption: %v", err)
	}
	if _, err := c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String("conf")}); apiCode(err) != "InvalidRequest" {
		t.Fatalf("removing encryption: %v", err)
	}
	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("conf"), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}}); err != nil {
		t.Fatalf("PutBucketEncryption AES256: %v", err)
	}
	// aws:kms with the bucket's own key: reported on the bucket and on
	// objects; another key is refused.
	kms := func(id *string) error {
		_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("conf"), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: id}}}}})
		return err
	}
	if err := kms(nil); err != nil {
		t.Fatalf("PutBucketEncryption aws:kms: %v", err)
	}
	enc, err = c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("conf")})
	if err != nil {
		t.Fatal(err)
	}
	def := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
	keyARN := aws.ToString(def.KMSMasterKeyID)
	if def.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms || !strings.HasPrefix(keyARN, "arn:aws:kms:us-east-1:000000000000:key/") {
		t.Fatalf("the aws:kms configuration: %s %s", def.SSEAlgorithm, keyARN)
	}
	if err := kms(aws.String(keyARN)); err != nil {
		t.Fatalf("the bucket's own key: %v", err)
	}
	if err := kms(aws.String("arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555")); apiCode(err) != "InvalidArgument" {
		t.Fatalf("another key: %v", err)
	}
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("conf"), Key: aws.String("k"), Body: strings.NewReader("kms")})
	if err != nil || put.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(put.SSEKMSKeyId) != keyARN {
		t.Fatalf("a put under aws:kms: %v %v", put, err)
	}
	put, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("conf"), Key: aws.String("k2"), Body: strings.NewReader("x"), ServerSideEncryption: s3types.ServerSideEncryptionAes256})
	if err != nil || put.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		t.Fatalf("a put asking AES256: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("conf"), Key: aws.String("k3"), Body: strings.NewReader("x"),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("alias/other")}); apiCode(err) != "InvalidArgument" {
		t.Fatalf("a put with another KMS key: %v", err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("conf"), Key: aws.String("k")})
	if err != nil || head.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) != keyARN {
		t.Fatalf("head of the aws:kms object: %v", err)
	}
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("conf"), Key: aws.String("k")})
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("conf"), Key: aws.String("k2")})
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("conf")})
	if err != nil || string(loc.LocationConstraint) != "us-east-1" {
		t.Fatalf("GetBucketLocation: %q %v", loc.LocationConstraint, err)
	}
	for _, k := range []string{"a", "b", "c"} {
		c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("conf"), Key: aws.String(k), Body: strings.NewReader(k)})
	}
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("conf"), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b")}}}})
	if err != nil || len(del.Deleted) != 2 {
		t.Fatalf("DeleteObjects: %v", err)
	}
	list, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("conf")})
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "c" {
		t.Fatalf("after the batch delete: %d objects", len(list.Contents))
	}
}

// TestS3Copy: a copy has the source's content and metadata; copying needs
// read rights on the source.
func TestS3Copy(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	c := srv.S3(srv.AWSConfig())
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("src")})
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("dst")})
	data := bytes.Repeat([]byte("mixer "), 30000)
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("models/m.glb"), Body: bytes.NewReader(data), Metadata: map[string]string{"v": "1"}})
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("m.glb"), CopySource: aws.String("src/models/m.glb")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("m.glb")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, data) || out.Metadata["v"] != "1" {
		t.Fatal("the copy differs")
	}
	admin := srv.IAM(srv.AWSConfig())
	admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("copier")})
	key, _ := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("copier")})
	admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("copier"), PolicyName: aws.String("dst"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::dst/*"}}`)})
	u := srv.S3(srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	if _, err := u.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("stolen.glb"), CopySource: aws.String("src/models/m.glb")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("a copy without read rights on the source: %v", err)
	}
}

// TestS3VirtualHosted: buckets addressed as bucket.localhost, the server's
// certificate covering them.
func TestS3VirtualHosted(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	var hosts []string
	c := srv.S3Virtual(srv.AWSConfig())
	record := func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("host", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					hosts = append(hosts, req.URL.Host)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
		})
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plant-models")}, record); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("plant-models"), Key: aws.String("line/mixer.glb"), Body: strings.NewReader("glTF")}, record); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("plant-models"), Key: aws.String("line/mixer.glb")}, record)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("plant-models")}, record)
	if err != nil || string(body) != "glTF" || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "line/mixer.glb" {
		t.Fatalf("read back %q, list %v", body, err)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, "plant-models.localhost:") {
			t.Fatalf("a request went to %s, not virtual-hosted", h)
		}
	}
	// The same object, path-style.
	p, err := srv.S3(srv.AWSConfig()).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("plant-models"), Key: aws.String("line/mixer.glb")})
	if err != nil || aws.ToInt64(p.ContentLength) != 4 {
		t.Fatalf("path-style head: %v", err)
	}
}

// TestS3Tagging: tag sets on buckets and objects, set with the write or
// afterwards, S3's limits, copied with the object, and the tagging action
// needed to tag on upload.
func TestS3Tagging(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	c := srv.S3(srv.AWSConfig())
	b := aws.String("tagged")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); apiCode(err) != "NoSuchTagSet" {
		t.Fatalf("tags of an untagged bucket: %v", err)
	}
	tagset := func(kv ...string) []s3types.Tag {
		var out []s3types.Tag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, s3types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return out
	}
	flat := func(tags []s3types.Tag) string {
		var out []string
		for _, t := range tags {
			out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
		}
		return strings.Join(out, "&")
	}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{TagSet: tagset("site", "north", "line", "2")}}); err != nil {
		t.Fatal(err)
	}
	if bt, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); err != nil || flat(bt.TagSet) != "line=2&site=north" {
		t.Fatalf("bucket tags: %v", err)
	}
	if _, err := c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); apiCode(err) != "NoSuchTagSet" {
		t.Fatalf("tags after delete: %v", err)
	}

	k := aws.String("scenes/plant.json")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("{}"), Tagging: aws.String("stage=draft&owner=ops%20team")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k})
	if err != nil || aws.ToInt32(got.TagCount) != 2 {
		t.Fatalf("tag count: %v", err)
	}
	got.Body.Close()
	if ot, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: k}); err != nil || flat(ot.TagSet) != "owner=ops team&stage=draft" {
		t.Fatalf("object tags: %v", err)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: k, Tagging: &s3types.Tagging{TagSet: tagset("stage", "final")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy.json"), CopySource: aws.String("tagged/scenes/plant.json"), CopySourceIfMatch: aws.String(`"0123"`)}); apiCode(err) != "PreconditionFailed" {
		t.Fatalf("a copy whose source condition fails: %v", err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy.json"), CopySource: aws.String("tagged/scenes/plant.json"), CopySourceIfModifiedSince: aws.Time(time.Now().Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if ot, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("copy.json")}); err != nil || flat(ot.TagSet) != "stage=final" {
		t.Fatalf("a copy's tags: %v", err)
	}
	eleven := tagset("a", "1", "b", "1", "c", "1", "d", "1", "e", "1", "f", "1", "g", "1", "h", "1", "i", "1", "j", "1", "k", "1")
	for i, ts := range [][]s3types.Tag{eleven, tagset("aws:owner", "x"), tagset(strings.Repeat("k", 129), "x"), tagset("k", "1", "k", "2")} {
		if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: k, Tagging: &s3types.Tagging{TagSet: ts}}); apiCode(err) != "InvalidTag" {
			t.Errorf("bad tag set %d: %v", i, err)
		}
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: aws.String("missing"), Tagging: &s3types.Tagging{TagSet: tagset("a", "1")}}); apiCode(err) != "NoSuchKey" {
		t.Fatalf("tagging a missing object: %v", err)
	}
	if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: b, Key: k}); err != nil {
		t.Fatal(err)
	}
	if ot, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: k}); err != nil || len(ot.TagSet) != 0 {
		t.Fatalf("tags after delete: %v", err)
	}

	// Without s3:PutObjectTagging, a user may write but not tag.
	admin := srv.IAM(srv.AWSConfig())
	admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("writer")})
	key, _ := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("writer")})
	admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("writer"), PolicyName: aws.String("put"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::tagged/*"}}`)})
	w := srv.S3(srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	if _, err := w.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("w.txt"), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("an untagged write: %v", err)
	}
	if _, err := w.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("w.txt"), Body: strings.NewReader("x"), Tagging: aws.String("a=1")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("a tagged write without the tagging action: %v", err)
	}
}

// keyMD5 is an SSE-C key's MD5, base64, as the headers carry it.
func keyMD5(key []byte) string {
	var sum [16]byte
	fips140.WithoutEnforcement(func() { sum = md5.Sum(key) })
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestS3CustomerKey: SSE-C. An object put with a customer key is read with
// that key only; the responses name the key by its MD5; multipart uploads
// and copies take keys too.
func TestS3CustomerKey(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	c := srv.S3(srv.AWSConfig())
	b := aws.String("vault")
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b})
	ck, other := make([]byte, 32), make([]byte, 32)
	rand.Read(ck)
	rand.Read(other)
	enc := func(k []byte) (*string, *string, *string) {
		return aws.String("AES256"), aws.String(base64.StdEncoding.EncodeToString(k)), aws.String(keyMD5(k))
	}
	alg, key, sum := enc(ck)
	body := make([]byte, 200_000)
	rand.Read(body)
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("recipe.bin"), Body: bytes.NewReader(body),
		SSECustomerAlgorithm: alg, SSECustomerKey: key, SSECustomerKeyMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.SSECustomerKeyMD5) != *sum || aws.ToString(put.SSECustomerAlgorithm) != "AES256" {
		t.Fatalf("put answered %v %v", put.SSECustomerAlgorithm, put.SSECustomerKeyMD5)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("recipe.bin")}); apiCode(err) != "InvalidRequest" {
		t.Fatalf("read without the key: %v", err)
	}
	oalg, okey, osum := enc(other)
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("recipe.bin"), SSECustomerAlgorithm: oalg, SSECustomerKey: okey, SSECustomerKeyMD5: osum}); apiCode(err) != "AccessDenied" {
		t.Fatalf("read with another key: %v", err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("recipe.bin"), SSECustomerAlgorithm: alg, SSECustomerKey: key, SSECustomerKeyMD5: osum}); apiCode(err) != "InvalidArgument" {
		t.Fatalf("a key with a wrong MD5: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("recipe.bin")}); httpStatus(err) != 400 {
		t.Fatalf("head without the key: %v", err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("recipe.bin"), Range: aws.String("bytes=65000-70000"),
		SSECustomerAlgorithm: alg, SSECustomerKey: key, SSECustomerKeyMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(part, body[65000:70001]) || aws.ToString(got.SSECustomerKeyMD5) != *sum {
		t.Fatal("a range read with the key differs")
	}

	// Copied into an ordinary object: the source key is needed, the copy
	// then reads without one.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("plain.bin"), CopySource: aws.String("vault/recipe.bin")}); apiCode(err) != "InvalidRequest" {
		t.Fatalf("a copy without the source key: %v", err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("plain.bin"), CopySource: aws.String("vault/recipe.bin"),
		CopySourceSSECustomerAlgorithm: alg, CopySourceSSECustomerKey: key, CopySourceSSECustomerKeyMD5: sum}); err != nil {
		t.Fatal(err)
	}
	if out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("plain.bin")}); err != nil {
		t.Fatalf("the plain copy: %v", err)
	} else {
		out.Body.Close()
	}

	// A multipart upload under a key: every part needs it.
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("big.bin"), SSECustomerAlgorithm: alg, SSECustomerKey: key, SSECustomerKeyMD5: sum})
	if err != nil || aws.ToString(cr.SSECustomerKeyMD5) != *sum {
		t.Fatalf("create upload: %v", err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("big.bin"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(body)}); apiCode(err) != "InvalidRequest" {
		t.Fatalf("a part without the key: %v", err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("big.bin"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(body),
		SSECustomerAlgorithm: alg, SSECustomerKey: key, SSECustomerKeyMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("big.bin"), UploadId: cr.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("big.bin")}); apiCode(err) != "InvalidRequest" {
		t.Fatalf("the assembled object without the key: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("big.bin"), SSECustomerAlgorithm: alg, SSECustomerKey: key, SSECustomerKeyMD5: sum})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(all, body) {
		t.Fatal("the assembled object differs")
	}
}

// TestWorkspaceBuckets: a workspace made without an s3Location gets an
// encrypted bucket of its own; an s3Location must name a bucket that
// exists; scenes point at objects in their workspace's bucket; deleting
// the workspace leaves the bucket, as TwinMaker does.
func TestWorkspaceBuckets(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	c := srv.S3(srv.AWSConfig())
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("Plant_North")}); err != nil {
		t.Fatal(err)
	}
	w, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("Plant_North")})
	if err != nil {
		t.Fatal(err)
	}
	bucket, ok := strings.CutPrefix(aws.ToString(w.S3Location), "arn:aws:s3:::twinmaker-workspace-plant-north-")
	if !ok {
		t.Fatalf("s3Location %s", aws.ToString(w.S3Location))
	}
	bucket = "twinmaker-workspace-plant-north-" + bucket
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Fatalf("the workspace bucket's encryption: %v", err)
	}

	for _, loc := range []string{"arn:aws:s3:::no-such-bucket", "arn:aws:s3:::" + bucket + "/key", "arn:aws:iam::000000000000:role/x"} {
		_, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("other"), S3Location: aws.String(loc)})
		if apiCode(err) != "ValidationException" {
			t.Errorf("s3Location %s: %v", loc, err)
		}
		if _, err := tm.UpdateWorkspace(ctx, &iottwinmaker.UpdateWorkspaceInput{WorkspaceId: aws.String("Plant_North"), S3Location: aws.String(loc)}); apiCode(err) != "ValidationException" {
			t.Errorf("updated to s3Location %s: %v", loc, err)
		}
	}
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("Plant_North")}); apiCode(err) != "ConflictException" {
		t.Fatalf("twice: %v", err)
	}
	// The conflict made no second bucket.
	if bs, _ := c.ListBuckets(ctx, &s3.ListBucketsInput{}); len(bs.Buckets) != 1 {
		t.Fatalf("%d buckets after a conflict", len(bs.Buckets))
	}

	// Scenes: the Cookie Factory documents and a model, uploaded, then
	// pointed at.
	dir := sampleDir(t)
	doc, _ := os.ReadFile(filepath.Join(dir, "CookieFactory.json"))
	glb, _ := os.ReadFile(filepath.Join(dir, "../models/CookieFactoryMixer.glb"))
	for key, data := range map[string][]byte{"scenes/CookieFactory.json": doc, "models/CookieFactoryMixer.glb": glb} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
	}
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("elsewhere")})
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("elsewhere"), Key: aws.String("scene.json"), Body: strings.NewReader("{}")})
	for _, loc := range []string{"s3://elsewhere/scene.json", "s3://" + bucket + "/scenes/Missing.json", "s3://" + bucket} {
		if _, err := tm.CreateScene(ctx, &iottwinmaker.CreateSceneInput{WorkspaceId: aws.String("Plant_North"), SceneId: aws.String("factory"), ContentLocation: aws.String(loc)}); apiCode(err) != "ValidationException" {
			t.Errorf("contentLocation %s: %v", loc, err)
		}
	}
	loc := "s3://" + bucket + "/scenes/CookieFactory.json"
	if _, err := tm.CreateScene(ctx, &iottwinmaker.CreateSceneInput{WorkspaceId: aws.String("Plant_North"), SceneId: aws.String("factory"), ContentLocation: aws.String(loc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.UpdateScene(ctx, &iottwinmaker.UpdateSceneInput{WorkspaceId: aws.String("Plant_North"), SceneId: aws.String("factory"), ContentLocation: aws.String("s3://elsewhere/scene.json")}); apiCode(err) != "ValidationException" {
		t.Fatalf("a scene moved out of its bucket: %v", err)
	}
	// The scene's document and the model it names come back byte for byte.
	sc, err := tm.GetScene(ctx, &iottwinmaker.GetSceneInput{WorkspaceId: aws.String("Plant_North"), SceneId: aws.String("factory")})
	if err != nil || aws.ToString(sc.ContentLocation) != loc {
		t.Fatalf("the scene: %v", err)
	}
	for key, want := range map[string][]byte{"scenes/CookieFactory.json": doc, "models/CookieFactoryMixer.glb": glb} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs", key)
		}
	}

	// Deleting the workspace keeps the bucket and its objects; a workspace
	// of the same ID takes the bucket up again.
	tm.DeleteScene(ctx, &iottwinmaker.DeleteSceneInput{WorkspaceId: aws.String("Plant_North"), SceneId: aws.String("factory")})
	if _, err := tm.DeleteWorkspace(ctx, &iottwinmaker.DeleteWorkspaceInput{WorkspaceId: aws.String("Plant_North")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("scenes/CookieFactory.json")}); err != nil {
		t.Fatalf("the bucket after the workspace was deleted: %v", err)
	}
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("Plant_North")}); err != nil {
		t.Fatal(err)
	}
	if w, _ := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("Plant_North")}); aws.ToString(w.S3Location) != "arn:aws:s3:::"+bucket {
		t.Fatalf("re-created: %s", aws.ToString(w.S3Location))
	}
	// With an s3Location naming a bucket that exists.
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("south"), S3Location: aws.String("arn:aws:s3:::elsewhere")}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateScene(ctx, &iottwinmaker.CreateSceneInput{WorkspaceId: aws.String("south"), SceneId: aws.String("s1"), ContentLocation: aws.String("s3://elsewhere/scene.json")}); err != nil {
		t.Fatal(err)
	}
}
