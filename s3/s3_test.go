package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/twinvault/twinvault/objstore"
	"github.com/twinvault/twinvault/objstore/objtest"
	"github.com/twinvault/twinvault/s3"
)

// testConfig is the S3-protocol server scripts/test starts (a TwinVault
// node of its own, serving its S3 API over HTTPS), with a fresh prefix per
// test. Under CI=true a missing server fails the run.
func testConfig(t *testing.T) s3.Config {
	t.Helper()
	endpoint := os.Getenv("TWINVAULT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TWINVAULT_TEST_S3_ENDPOINT is not set")
		}
		t.Skip("TWINVAULT_TEST_S3_ENDPOINT is not set (scripts/test starts an S3-protocol server)")
	}
	var p [6]byte
	rand.Read(p[:])
	return s3.Config{
		Endpoint:        endpoint,
		Bucket:          os.Getenv("TWINVAULT_TEST_S3_BUCKET"),
		Prefix:          "t-" + hex.EncodeToString(p[:]) + "/",
		PathStyle:       true,
		CABundle:        os.Getenv("TWINVAULT_TEST_S3_CA"),
		CredentialsFile: os.Getenv("TWINVAULT_TEST_S3_CREDENTIALS"),
		Profile:         os.Getenv("TWINVAULT_TEST_S3_PROFILE"),
		PartSize:        5 << 20,
		ListPageSize:    7,
	}
}

// TestMain creates the test bucket on the server if it is not there yet.
func TestMain(m *testing.M) {
	if endpoint := os.Getenv("TWINVAULT_TEST_S3_ENDPOINT"); endpoint != "" {
		cfg := s3.Config{Endpoint: endpoint, PathStyle: true, CABundle: os.Getenv("TWINVAULT_TEST_S3_CA"),
			CredentialsFile: os.Getenv("TWINVAULT_TEST_S3_CREDENTIALS"), Profile: os.Getenv("TWINVAULT_TEST_S3_PROFILE")}
		bucket := os.Getenv("TWINVAULT_TEST_S3_BUCKET")
		c, err := s3.Client(context.Background(), cfg)
		if err == nil {
			_, err = c.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: &bucket})
			var owned *types.BucketAlreadyOwnedByYou
			if errors.As(err, &owned) {
				err = nil
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "create the test bucket:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func open(t *testing.T, cfg s3.Config) *s3.Store {
	t.Helper()
	s, err := s3.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		var names []string
		s.List(ctx, "", func(n string) error { names = append(names, n); return nil })
		for _, n := range names {
			s.Delete(ctx, n)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	objtest.Run(t, func(t *testing.T) objstore.Store { return open(t, testConfig(t)) })
}

// raw is a plain SDK client for the same bucket, to see what the store holds.
func raw(t *testing.T, cfg s3.Config) *awss3.Client {
	t.Helper()
	c, err := s3.Client(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServerSideEncryptionRequested(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		sse  string
		want types.ServerSideEncryption
	}{{"", types.ServerSideEncryptionAes256}, {"aws:kms", types.ServerSideEncryptionAwsKms}} {
		cfg := testConfig(t)
		cfg.SSE = c.sse
		s := open(t, cfg)
		body := bytes.Repeat([]byte("x"), 6<<20) // a multipart upload
		for _, name := range []string{"small", "large"} {
			b := body
			if name == "small" {
				b = body[:10]
			}
			if _, err := s.Put(ctx, name, bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			out, err := raw(t, cfg).HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &cfg.Bucket, Key: aws.String(cfg.Prefix + hex.EncodeToString([]byte(name)))})
			if err != nil {
				t.Fatal(err)
			}
			if out.ServerSideEncryption != c.want {
				t.Errorf("SSE %q, %s object: the store reports %q", c.sse, name, out.ServerSideEncryption)
			}
		}
	}
}

// TestFailedUploadAborted: a large put whose body fails leaves no pending
// multipart upload behind (which a store would keep, unseen but billed).
func TestFailedUploadAborted(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	s := open(t, cfg)
	body := io.MultiReader(bytes.NewReader(make([]byte, 11<<20)), errReader{})
	if _, err := s.Put(ctx, "big", body); err == nil {
		t.Fatal("a failing body was stored")
	}
	out, err := raw(t, cfg).ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: &cfg.Bucket, Prefix: &cfg.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Uploads) != 0 {
		t.Fatalf("%d uploads left pending", len(out.Uploads))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("the client went away") }

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	for _, c := range []struct {
		name string
		edit func(*s3.Config)
		want string
	}{
		{"plain http", func(c *s3.Config) { c.Endpoint = strings.Replace(c.Endpoint, "https:", "http:", 1) }, "not https"},
		{"credentials in URL", func(c *s3.Config) { c.Endpoint = "https://AKIDEXAMPLE:secret@localhost/" }, "no credentials"},
		{"no bucket", func(c *s3.Config) { c.Bucket = "" }, "no bucket"},
		{"missing bucket", func(c *s3.Config) { c.Bucket = "twinvault-no-such-bucket" }, "twinvault-no-such-bucket"},
		{"small parts", func(c *s3.Config) { c.PartSize = 1 << 20 }, "part size"},
		{"unknown SSE", func(c *s3.Config) { c.SSE = "rot13" }, "rot13"},
		{"KMS key without aws:kms", func(c *s3.Config) { c.KMSKeyID = "k" }, "aws:kms"},
	} {
		cc := cfg
		c.edit(&cc)
		_, err := s3.Open(ctx, cc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the secret: %v", c.name, err)
		}
	}
}
