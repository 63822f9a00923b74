// Package s3 is an objstore.Store in a bucket of an S3-compatible object
// store, for deployments of several nodes: every node reads and writes the
// same bodies. The barrier has sealed each body before it arrives, so the
// store holds ciphertext only; server-side encryption is requested there too,
// so the bytes are also encrypted under the store's own keys.
package s3

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/twinvault/twinvault/objstore"
)

// Config says where the objects go and how to reach them.
type Config struct {
	// Endpoint is the store's HTTPS URL; "" means AWS S3 itself. Plain
	// HTTP is refused: the access key signs every request, but names,
	// sizes and timing would still cross the network in the clear.
	Endpoint string
	Region   string // "" for us-east-1
	Bucket   string
	// Prefix begins every key this deployment writes (e.g. "twinvault/"),
	// so one bucket may hold several deployments.
	Prefix string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// rather than the host name, as most self-hosted stores want.
	PathStyle bool
	// CABundle is a PEM file of the CAs that sign the store's
	// certificate, in addition to the system's.
	CABundle string
	// CredentialsFile and Profile name an AWS shared-credentials file and
	// its profile; with no file the standard chain is used (environment,
	// ~/.aws, a container or instance role).
	CredentialsFile string
	Profile         string
	// SSE is the server-side encryption asked of the store: "AES256"
	// ("" too), "aws:kms" (with KMSKeyID, or the store's default key), or
	// "none" for a store that refuses the header.
	SSE      string
	KMSKeyID string
	// PartSize is the size of each part of a multipart upload, and the
	// largest body sent in one request (0: 16 MiB; at least 5 MiB, the
	// protocol's least part).
	PartSize int
	// ListPageSize is how many keys one list request asks for (0: 1000).
	ListPageSize int32
}

// Store is an objstore.Store in one bucket.
type Store struct {
	c        *awss3.Client
	bucket   string
	prefix   string
	sse      types.ServerSideEncryption
	kmsKey   *string
	partSize int
	page     int32
}

const (
	minPart     = 5 << 20
	defaultPart = 16 << 20
)

// Open connects to the bucket and checks that it is there and reachable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket given")
	}
	s := &Store{bucket: cfg.Bucket, prefix: cfg.Prefix, partSize: cfg.PartSize, page: cfg.ListPageSize}
	if s.partSize == 0 {
		s.partSize = defaultPart
	}
	if s.partSize < minPart {
		return nil, fmt.Errorf("s3: part size %d is below the protocol's least, %d", s.partSize, minPart)
	}
	if s.page <= 0 {
		s.page = 1000
	}
	switch cfg.SSE {
	case "", "AES256":
		s.sse = types.ServerSideEncryptionAes256
	case "aws:kms":
		s.sse = types.ServerSideEncryptionAwsKms
		if cfg.KMSKeyID != "" {
			s.kmsKey = aws.String(cfg.KMSKeyID)
		}
	case "none":
	default:
		return nil, fmt.Errorf("s3: unknown server-side encryption %q (AES256, aws:kms or none)", cfg.SSE)
	}
	if cfg.KMSKeyID != "" && s.sse != types.ServerSideEncryptionAwsKms {
		return nil, errors.New("s3: a KMS key is only taken with aws:kms encryption")
	}

	c, err := Client(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.c = c
	if _, err := s.c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return nil, fmt.Errorf("s3: bucket %s: %w", s.bucket, err)
	}
	return s, nil
}

// Client is an SDK client for cfg's endpoint, with its TLS and credentials,
// for the few things the Store does not do (creating the bucket, say).
func Client(ctx context.Context, cfg Config) (*awss3.Client, error) {
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || u.Host == "" || u.User != nil {
			return nil, errors.New("s3: the endpoint must be an https URL with no credentials in it")
		}
		if u.Scheme != "https" {
			return nil, fmt.Errorf("s3: the endpoint %s is not https; TwinVault talks to its object store over TLS only", u.Redacted())
		}
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CABundle != "" {
		pem, err := os.ReadFile(cfg.CABundle)
		if err != nil {
			return nil, fmt.Errorf("s3: CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("s3: CA bundle %s holds no PEM certificate", cfg.CABundle)
		}
		tlsCfg.RootCAs = pool
	}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = tlsCfg
		tr.MaxIdleConnsPerHost = 64
	})
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(region), config.WithHTTPClient(hc)}
	if cfg.CredentialsFile != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{cfg.CredentialsFile}), config.WithSharedConfigFiles([]string{}))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: credentials: %w", err)
	}
	return awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Bodies are AEAD-sealed, so a flipped bit fails to open anyway;
		// extra checksums only narrow the stores that accept the requests.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}), nil
}

// key is where name is kept: hex, so any byte string is a safe key and the
// store's order (by UTF-8 bytes) is the order of the names.
func (s *Store) key(name string) string { return s.prefix + hex.EncodeToString([]byte(name)) }

// Put sends a body that fits one part in one request; a larger one goes up
// as a multipart upload, aborted if anything fails, so a failed put leaves
// nothing behind (the store shows an upload only once it is complete).
func (s *Store) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	if name == "" {
		return 0, errors.New("s3: empty name")
	}
	key := s.key(name)
	// Most bodies are small: the buffer grows to a part only for a body
	// that reaches one.
	first, last, err := readPart(ctx, r, s.partSize)
	if err != nil {
		return 0, fmt.Errorf("s3: put %s: %w", name, err)
	}
	n := len(first)
	if last {
		_, err := s.c.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(first), ContentLength: aws.Int64(int64(n)),
			ServerSideEncryption: s.sse, SSEKMSKeyId: s.kmsKey,
		})
		if err != nil {
			return 0, fmt.Errorf("s3: put %s: %w", name, err)
		}
		return int64(n), nil
	}
	up, err := s.c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, ServerSideEncryption: s.sse, SSEKMSKeyId: s.kmsKey,
	})
	if err != nil {
		return 0, fmt.Errorf("s3: put %s: %w", name, err)
	}
	total, err := s.upload(ctx, key, up.UploadId, r, first[:s.partSize], n, last)
	if err != nil {
		// Abort even when ctx has ended: the parts would otherwise stay,
		// invisible but stored and billed.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		s.c.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: up.UploadId})
		return 0, fmt.Errorf("s3: put %s: %w", name, err)
	}
	return total, nil
}

// upload sends the parts of an upload, the first (n bytes) already in buf.
func (s *Store) upload(ctx context.Context, key string, id *string, r io.Reader, buf []byte, n int, last bool) (int64, error) {
	var parts []types.CompletedPart
	var total int64
	for num := int32(1); ; num++ {
		if num > 10000 {
			return 0, fmt.Errorf("the body exceeds 10000 parts of %d bytes", s.partSize)
		}
		out, err := s.c.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: &s.bucket, Key: &key, UploadId: id, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return 0, err
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		total += int64(n)
		if last {
			break
		}
		if n, last, err = fill(ctx, r, buf); err != nil {
			return 0, err
		}
		if n == 0 { // the body ended exactly at a part boundary
			break
		}
	}
	_, err := s.c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return total, err
}

// fill reads into buf until it is full or r ends; last reports the end.
// readPart reads up to size bytes of r into a buffer that grows as they
// come; last reports that r ended.
func readPart(ctx context.Context, r io.Reader, size int) (b []byte, last bool, err error) {
	b = make([]byte, 0, min(64<<10, size))
	for {
		if len(b) == size {
			return b, false, nil
		}
		if len(b) == cap(b) {
			b = append(b, make([]byte, min(2*cap(b), size)-len(b))...)[:len(b)]
		}
		if err := ctx.Err(); err != nil {
			return b, false, err
		}
		m, err := r.Read(b[len(b):min(cap(b), size)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, true, nil
		}
		if err != nil {
			return b, false, err
		}
	}
}

func fill(ctx context.Context, r io.Reader, buf []byte) (n int, last bool, err error) {
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, false, err
		}
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// Open looks the object up once; reads then fetch byte ranges of that very
// version (If-Match on its ETag), so a replaced object is never read half
// old, half new.
func (s *Store) Open(ctx context.Context, name string) (objstore.Reader, error) {
	key := s.key(name)
	out, err := s.c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		if notFound(err) {
			return nil, objstore.ErrNotFound
		}
		return nil, fmt.Errorf("s3: open %s: %w", name, err)
	}
	return &reader{ctx: ctx, s: s, name: name, key: key, etag: out.ETag, size: aws.ToInt64(out.ContentLength)}, nil
}

// reader reads one object by ranges. It keeps the context of Open, since
// io.ReaderAt has no place for one: reads end when the request that opened
// the object does.
//
// Bodies are read a segment at a time, so one request per ReadAt would
// make a large object thousands of requests. The reader fetches a window
// instead, which doubles while reads go on where the last window ended (a
// stream) and starts small again when they jump (a range read).
type reader struct {
	ctx  context.Context
	s    *Store
	name string
	key  string
	etag *string
	size int64

	mu     sync.Mutex
	win    []byte // the bytes at winOff
	winOff int64
	next   int // the size of the next window
}

const (
	minWindow = 256 << 10
	maxWindow = 16 << 20
)

func (r *reader) Size() int64  { return r.size }
func (r *reader) Close() error { return nil }

func (r *reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("s3: negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := min(off+int64(len(p)), r.size) // exclusive
	var err error
	if len(p) >= maxWindow {
		err = r.fetch(p[:end-off], off)
	} else {
		err = r.windowed(p[:end-off], off)
	}
	if err != nil {
		return 0, err
	}
	if end-off < int64(len(p)) {
		return int(end - off), io.EOF
	}
	return len(p), nil
}

// windowed fills p, which lies within the object, from the window.
func (r *reader) windowed(p []byte, off int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	wend := r.winOff + int64(len(r.win))
	if off >= r.winOff && off+int64(len(p)) <= wend {
		copy(p, r.win[off-r.winOff:])
		return nil
	}
	size := minWindow
	if off == wend && r.next > 0 {
		size = r.next // the stream goes on
	}
	size = max(size, len(p))
	n := int(min(int64(size), r.size-off))
	if cap(r.win) < n {
		r.win = make([]byte, n)
	}
	r.win = r.win[:n]
	if err := r.fetch(r.win, off); err != nil {
		r.win = r.win[:0]
		return err
	}
	r.winOff, r.next = off, min(2*size, maxWindow)
	copy(p, r.win)
	return nil
}

// fetch reads len(p) bytes at off, which lie within the object.
func (r *reader) fetch(p []byte, off int64) error {
	out, err := r.s.c.GetObject(r.ctx, &awss3.GetObjectInput{
		Bucket: &r.s.bucket, Key: &r.key, IfMatch: r.etag,
		Range: aws.String("bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+int64(len(p))-1, 10)),
	})
	if err != nil {
		if notFound(err) {
			return fmt.Errorf("s3: read %s: %w", r.name, objstore.ErrNotFound)
		}
		return fmt.Errorf("s3: read %s: %w", r.name, err)
	}
	defer out.Body.Close()
	if _, err := io.ReadFull(out.Body, p); err != nil {
		return fmt.Errorf("s3: read %s: %w", r.name, err)
	}
	return nil
}

func (s *Store) Delete(ctx context.Context, name string) error {
	key := s.key(name)
	if _, err := s.c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil && !notFound(err) {
		return fmt.Errorf("s3: delete %s: %w", name, err)
	}
	return nil
}

func (s *Store) List(ctx context.Context, prefix string, fn func(name string) error) error {
	p := awss3.NewListObjectsV2Paginator(s.c, &awss3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: aws.String(s.key(prefix)), MaxKeys: aws.Int32(s.page),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3: list: %w", err)
		}
		for _, o := range page.Contents {
			raw, err := hex.DecodeString(strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
			if err != nil {
				continue // not a key this store wrote
			}
			if err := fn(string(raw)); err != nil {
				return err
			}
		}
	}
	return nil
}

// notFound reports a missing object, whichever way the store says it.
func notFound(err error) bool {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket":
			return false
		}
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}
