package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// trickle reads r in pieces of up to size (as much of it as the caller
// takes), one every pause, and pauses once for stall after stallAfter.
type trickle struct {
	r            io.Reader
	size         int
	pause, stall time.Duration
	stallAfter   int
	reads        int
}

func (t *trickle) Read(p []byte) (int, error) {
	if t.stall > 0 && t.reads == max(t.stallAfter, 1) {
		time.Sleep(t.stall)
	}
	if t.reads > 0 {
		time.Sleep(t.pause)
	}
	t.reads++
	n, err := io.ReadFull(t.r, p[:min(len(p), t.size)])
	if err == io.ErrUnexpectedEOF && n > 0 {
		err = nil // the end, or a cut: the next read says which
	}
	return n, err
}

// TestS3SlowTransfers: an object's body may take longer than the server's
// read and write timeouts as long as it keeps moving, as a 5 GiB part over
// a slow link does; one that stops for longer than the stall timeout is
// cut off.
// Both protocols: HTTP/2, as the Go SDK speaks it, and HTTP/1.1, as the AWS
// CLI does.
//
// The stall timeout is 2 s, the moving transfers last about 3 s, and the
// stall 4 s: a client of this test, under the race detector on a shared
// machine, sometimes pauses for most of a second between two reads.
func TestS3SlowTransfers(t *testing.T) {
	t.Run("HTTP/2", func(t *testing.T) { slowTransfers(t, false) })
	t.Run("HTTP/1.1", func(t *testing.T) { slowTransfers(t, true) })
}

func slowTransfers(t *testing.T, http1 bool) {
	srv := twinvaulttest.Start(t, func(cfg *node.Config) {
		cfg.Timeouts = api.Timeouts{Read: time.Second, Write: time.Second, Stall: 2 * time.Second}
	})
	ctx := context.Background()
	cfg := srv.AWSConfig()
	if http1 {
		hc := srv.HTTPClient()
		tr := hc.Transport.(*http.Transport)
		tr.ForceAttemptHTTP2 = false
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		cfg.HTTPClient = hc
	}
	c := srv.S3(cfg)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("slow")}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 12<<20)
	rand.Read(data)

	// Up: 2.9 s or more in pieces of 64 KiB or less, past the read timeout
	// and the stall timeout.
	up := &trickle{r: bytes.NewReader(data[:2<<20]), size: 64 << 10, pause: 90 * time.Millisecond}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("slow"), Key: aws.String("up"), Body: up,
		ContentLength: aws.Int64(2 << 20)}); err != nil {
		t.Fatalf("a slow upload that keeps moving: %v", err)
	}
	// A pause longer than the stall timeout ends it, with S3's error for
	// a stall even when sealed segments were still on their way to the
	// store (which sees the request end).
	stalled := &trickle{r: bytes.NewReader(data[:1<<20]), size: 64 << 10, pause: time.Millisecond, stall: 4 * time.Second, stallAfter: 6}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("slow"), Key: aws.String("stalled"), Body: stalled,
		ContentLength: aws.Int64(1 << 20)}); err == nil {
		t.Fatal("an upload that stalled for 4 s was taken")
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("slow"), Key: aws.String("stalled")}); err == nil {
		t.Fatal("the stalled upload left an object")
	}

	// A client that gives up mid-body: the call still gets its event.
	gone, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	quitter := &trickle{r: bytes.NewReader(data[:1<<20]), size: 64 << 10, pause: 100 * time.Millisecond}
	if _, err := c.PutObject(gone, &s3.PutObjectInput{Bucket: aws.String("slow"), Key: aws.String("gone"), Body: quitter,
		ContentLength: aws.Int64(1 << 20)}); err == nil {
		t.Fatal("an upload whose client gave up was taken")
	}

	// Down: 12 MiB, more than the client's flow-control window and the
	// sockets' buffers, read over about 3 s, past the write timeout and the
	// stall timeout.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("slow"), Key: aws.String("down"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("slow"), Key: aws.String("down")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	var got bytes.Buffer
	// (A plain Writer: a bytes.Buffer would read through ReadFrom in
	// pieces as small as its free space, slower than the server allows.)
	_, err = io.CopyBuffer(struct{ io.Writer }{&got}, &trickle{r: out.Body, size: 256 << 10, pause: 60 * time.Millisecond}, make([]byte, 256<<10))
	if err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("a slow download that keeps moving: %d of %d bytes, %v", got.Len(), len(data), err)
	}

	// Every call is in the trail (data events, which an export lists),
	// the stalled one and the abandoned one with S3's errors for them.
	srv.Stop(t)
	var trail bytes.Buffer
	if _, err := node.ExportAudit(ctx, srv.Config(), time.Time{}, time.Now().Add(time.Hour), &trail); err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	for line := range strings.Lines(trail.String()) {
		var ev struct{ EventName, ErrorCode string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.EventName == "PutObject" {
			codes[ev.ErrorCode]++
		}
	}
	if codes[""] != 2 || codes["RequestTimeout"] != 1 || codes["IncompleteBody"] != 1 || len(codes) != 3 {
		t.Errorf("PutObject events by error code: %v, want two without, one RequestTimeout and one IncompleteBody", codes)
	}
}
