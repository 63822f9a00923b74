package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// keyCall calls an operation of TwinVault's key service as the
// administrator.
func keyCall(t *testing.T, srv *twinvaulttest.Server, op string, out any) int {
	t.Helper()
	return keyCallWith(t, srv, op, []byte("{}"), out)
}

// keyCallWith is keyCall with a request body.
func keyCallWith(t *testing.T, srv *twinvaulttest.Server, op string, body []byte, out any) int {
	t.Helper()
	resp := keyRequest(t, srv, op, body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v: %s", op, err, raw)
		}
	}
	return resp.StatusCode
}

// keyRequest sends a signed request to the key service; the caller
// closes the response.
func keyRequest(t *testing.T, srv *twinvaulttest.Server, op string, body []byte) *http.Response {
	t.Helper()
	return keyRequestAs(t, srv, aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, op, body)
}

// keyRequestAs is keyRequest signed with creds.
func keyRequestAs(t *testing.T, srv *twinvaulttest.Server, creds aws.Credentials, op string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.Endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TwinVault_20261101."+op)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), node.KeyService, srv.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestRotationUnderLoad: writers and readers keep going through the SDK
// while the data keys rotate twice, the master key once, and every value
// is re-sealed; no request fails, every value reads back, and the old keys
// are retired.
func TestRotationUnderLoad(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	sensorWorkspace(t, tm, "rot")
	s3c := srv.S3(srv.AWSConfig())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("rot-models")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rot-models"), Key: aws.String("m.glb"), Body: strings.NewReader("before rotation")}); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var failures, writes atomic.Int64
	var mu sync.Mutex
	var errs []string
	fail := func(err error) {
		failures.Add(1)
		mu.Lock()
		if len(errs) < 5 {
			errs = append(errs, err.Error())
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1))
				_, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("rot"),
					Entries: []types.PropertyValueEntry{{EntityPropertyReference: ref("d"),
						PropertyValues: []types.PropertyValue{{Time: at(i), Value: &types.DataValue{DoubleValue: aws.Float64(float64(i))}}}}}})
				if err != nil {
					fail(err)
					continue
				}
				writes.Add(1)
				if w == 0 {
					if _, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("rot"), EntityId: aws.String("dev1")}); err != nil {
						fail(err)
					}
				}
			}
		}()
	}
	waitDone := func() node.KeyStatus {
		var st node.KeyStatus
		for range 600 {
			if code := keyCall(t, srv, "GetKeyStatus", &st); code != http.StatusOK {
				t.Fatalf("GetKeyStatus: %d", code)
			}
			if !st.Rewrap.Running && st.Views.Pending == 0 && len(st.Terms) == 1 {
				return st
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("re-sealing did not finish: %+v", st)
		return st
	}
	for round := range 2 {
		for writes.Load() < int64(50*(round+1)) {
			time.Sleep(10 * time.Millisecond)
		}
		var out struct{ Term uint32 }
		if code := keyCall(t, srv, "RotateKeys", &out); code != http.StatusOK || out.Term != uint32(round+2) {
			t.Fatalf("RotateKeys: %d term %d", code, out.Term)
		}
		if round == 0 {
			var m struct{ Master bool }
			if code := keyCallWith(t, srv, "RotateKeys", []byte(`{"master":true}`), &m); code != http.StatusOK || !m.Master {
				t.Fatalf("RotateKeys master: %d %+v", code, m)
			}
		}
		st := waitDone()
		if st.Terms[0].Term != uint32(round+2) || !st.Terms[0].Active || st.Rewrap.Error != "" {
			t.Fatalf("after round %d: %+v", round, st)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d requests failed during rotation: %v", n, errs)
	}
	// Every value written, each at its own time, reads back.
	count := func() int {
		n := 0
		p := iottwinmaker.NewGetPropertyValueHistoryPaginator(tm, &iottwinmaker.GetPropertyValueHistoryInput{
			WorkspaceId: aws.String("rot"), EntityId: aws.String("dev1"), ComponentName: aws.String("sensor"),
			SelectedProperties: []string{"d"}, StartTime: at(0), EndTime: at(int(next.Load()) + 1), MaxResults: aws.Int32(200)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("history after rotation: %v", err)
			}
			for _, h := range page.PropertyValues {
				n += len(h.Values)
			}
		}
		return n
	}
	if got := count(); int64(got) != writes.Load() {
		t.Fatalf("%d values read back of %d written", got, writes.Load())
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rot-models"), Key: aws.String("m.glb")})
	if err != nil {
		t.Fatalf("an object sealed before the rotation: %v", err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(body) != "before rotation" {
		t.Fatalf("the object reads %q", body)
	}
	// A restart reads everything with the keys that are left.
	srv.Restart(t)
	tm = srv.TwinMaker(twinvaulttest.NoHostPrefix)
	if got := count(); int64(got) != writes.Load() {
		t.Fatalf("after a restart: %d values of %d", got, writes.Load())
	}
}

// TestBackupUnderLoad: a backup taken while values and objects keep
// changing restores to a store holding every write acknowledged before it
// began, and every object it lists reads back.
func TestBackupUnderLoad(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	sensorWorkspace(t, tm, "bk")
	s3c := srv.S3(srv.AWSConfig())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bk-models")}); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var writes atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // values at increasing times
		defer wg.Done()
		for i := 1; !stop.Load(); i++ {
			if _, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("bk"),
				Entries: []types.PropertyValueEntry{{EntityPropertyReference: ref("d"),
					PropertyValues: []types.PropertyValue{{Time: at(i), Value: &types.DataValue{DoubleValue: aws.Float64(float64(i))}}}}}}); err != nil {
				t.Error(err)
				return
			}
			writes.Store(int64(i))
		}
	}()
	go func() { // objects replaced over and over: their old bodies go
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			key := aws.String(fmt.Sprintf("m%d.glb", i%5))
			if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bk-models"), Key: key, Body: strings.NewReader(strings.Repeat("glTF", 1000+i))}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for writes.Load() < 20 {
		time.Sleep(5 * time.Millisecond)
	}
	before := writes.Load()
	body := bytes.Buffer{}
	req, _ := http.NewRequest(http.MethodPost, srv.Endpoint+"/", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TwinVault_20261101.GetBackup")
	sum := sha256.Sum256([]byte("{}"))
	v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, req, hex.EncodeToString(sum[:]), node.KeyService, srv.Region, time.Now())
	resp, err := srv.HTTPClient().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GetBackup: %v %v", resp, err)
	}
	io.Copy(&body, resp.Body)
	resp.Body.Close()
	stop.Store(true)
	wg.Wait()
	after := writes.Load()

	// Restore in place of the data directory, and serve it.
	srv.Stop(t)
	cfg := srv.Config()
	if cfg.Storage == node.StoragePostgres {
		t.Skip("restores in place of a data directory; the store here is a database")
	}
	if err := os.Rename(cfg.DataDir, cfg.DataDir+".old"); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Restore(ctx, cfg, bytes.NewReader(body.Bytes())); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	tm = srv.TwinMaker(twinvaulttest.NoHostPrefix)
	n := 0
	p := iottwinmaker.NewGetPropertyValueHistoryPaginator(tm, &iottwinmaker.GetPropertyValueHistoryInput{
		WorkspaceId: aws.String("bk"), EntityId: aws.String("dev1"), ComponentName: aws.String("sensor"),
		SelectedProperties: []string{"d"}, StartTime: at(0), EndTime: at(int(after) + 1), MaxResults: aws.Int32(200)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page.PropertyValues {
			n += len(h.Values)
		}
	}
	if int64(n) < before || int64(n) > after {
		t.Fatalf("restored %d values; %d were acknowledged before the backup, %d by its end", n, before, after)
	}
	s3c = srv.S3(srv.AWSConfig())
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bk-models")})
	if err != nil || len(list.Contents) == 0 {
		t.Fatalf("restored objects: %v", err)
	}
	for _, o := range list.Contents {
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bk-models"), Key: o.Key})
		if err != nil {
			t.Fatalf("%s: %v", aws.ToString(o.Key), err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if int64(len(got)) != aws.ToInt64(o.Size) || !strings.HasPrefix(string(got), "glTF") {
			t.Fatalf("%s: %d bytes", aws.ToString(o.Key), len(got))
		}
	}
}
