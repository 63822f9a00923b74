package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/auth/sigv4"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// benchObject is the size of the object the S3 benchmarks move.
const benchObject = 256 << 20

// streamServer is the baseline of the S3 benchmarks: an HTTPS server in
// the same process that checks SigV4 and the aws-chunked body as TwinVault
// does, then discards what is put and serves GETs from memory, with no
// storage and no encryption at rest. With etag, a put answers with the
// MD5 of the body as S3 does for an SSE-S3 object (and as TwinVault
// must); without, with a constant: the bare transport.
func streamServer(b *testing.B, region, id, secret string, data []byte, etag bool) *s3.Client {
	v := &sigv4.Verifier{Region: region, Services: []string{"s3"},
		Lookup: func(_ context.Context, key string) (sigv4.Key, error) {
			if key != id {
				return sigv4.Key{}, sigv4.ErrUnknownKey
			}
			return sigv4.Key{Secret: []byte(secret)}, nil
		}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Method != http.MethodPut {
			body = []byte{}
		}
		res, err := v.Verify(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		switch r.Method {
		case http.MethodPut:
			var in io.Reader = r.Body
			if res.Payload != "" {
				if in, err = res.Chunks(r, r.Body); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
			}
			sum := md5.New()
			var out io.Writer = io.Discard
			if etag {
				out = sum
			}
			if _, err := io.Copy(out, in); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			tag := "transport"
			if etag {
				tag = hex.EncodeToString(sum.Sum(nil))
			}
			w.Header().Set("ETag", `"`+tag+`"`)
		case http.MethodGet:
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data)
		}
	}))
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = api.HTTP2Config() // the same server, but for storage and encryption
	srv.StartTLS()
	b.Cleanup(srv.Close)
	return s3.NewFromConfig(aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient: srv.Client(), RetryMaxAttempts: 1}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
}

// BenchmarkS3Object measures PutObject and GetObject of a 256 MiB object
// through the SDK, against TwinVault and against the streaming baseline,
// in one run: the MB/s of each pair give the ratio of TwinVault's
// throughput to the baseline's (and to the bare transport's).
func BenchmarkS3Object(b *testing.B) {
	data := make([]byte, benchObject)
	rand.Read(data)
	srv := twinvaulttest.Start(b)
	ctx := context.Background()
	tv := srv.S3(srv.AWSConfig())
	if _, err := tv.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	base := streamServer(b, srv.Region, srv.AccessKey, srv.SecretKey, data, true)
	bare := streamServer(b, srv.Region, srv.AccessKey, srv.SecretKey, data, false)
	for _, c := range []struct {
		name string
		c    *s3.Client
	}{{"transport", bare}, {"baseline", base}, {"twinvault", tv}} {
		b.Run("put/"+c.name, func(b *testing.B) {
			b.SetBytes(benchObject)
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := c.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("site.glb"), Body: bytes.NewReader(data)}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("get/"+c.name, func(b *testing.B) {
			b.SetBytes(benchObject)
			defer reportCPU(b)()
			for b.Loop() {
				out, err := c.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("site.glb")})
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, out.Body)
				out.Body.Close()
				if err != nil || n != benchObject {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			}
		})
	}
}
