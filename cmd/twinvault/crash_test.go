package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
)

// TestCrashDuringIngest kills the server with SIGKILL while writers are
// busy, restarts it on the same files, and checks that every acknowledged
// write is there and that every unacknowledged one is there whole or not at
// all: no partial request, no partial chunk.
func TestCrashDuringIngest(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	p := start(t, dir, "--listen", addr)
	endpoint := p.ready(t)["endpoint"]
	tm := client(t, dir, endpoint)
	ctx := context.Background()
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("crash")}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: aws.String("crash"), ComponentTypeId: aws.String("com.example.meter"),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{"v": {DataType: &types.DataType{Type: types.TypeDouble}, IsTimeSeries: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	const writers = 4
	for w := range writers {
		if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("crash"), EntityId: aws.String(fmt.Sprintf("m%d", w)),
			EntityName: aws.String("meter"), Components: map[string]types.ComponentRequest{"meter": {ComponentTypeId: aws.String("com.example.meter")}}}); err != nil {
			t.Fatal(err)
		}
	}

	// Each request writes 10 entries (one per second) of 10 values; request
	// r of writer w covers seconds [r*100, r*100+100) of entity m<w>.
	type result struct {
		acked   []int // request numbers acknowledged
		pending int   // the request in flight when the server died, or -1
	}
	results := make([]result, writers)
	var acked atomic.Int64 // read while the writers run; results only after
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w].pending = -1
			for r := 0; ; r++ {
				select {
				case <-stop:
					return
				default:
				}
				var entries []types.PropertyValueEntry
				for e := range 10 {
					var vals []types.PropertyValue
					for i := range 10 {
						sec := r*100 + e*10 + i
						vals = append(vals, types.PropertyValue{Time: aws.String(time.Unix(int64(1_700_000_000+sec), 0).UTC().Format(time.RFC3339)),
							Value: &types.DataValue{DoubleValue: aws.Float64(float64(sec))}})
					}
					entries = append(entries, types.PropertyValueEntry{EntityPropertyReference: &types.EntityPropertyReference{
						EntityId: aws.String(fmt.Sprintf("m%d", w)), ComponentName: aws.String("meter"), PropertyName: aws.String("v")}, PropertyValues: vals})
				}
				results[w].pending = r
				out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("crash"), Entries: entries})
				if err != nil {
					return // the server is gone
				}
				if len(out.ErrorEntries) > 0 {
					t.Errorf("writer %d: %d failed entries", w, len(out.ErrorEntries))
					return
				}
				results[w].acked = append(results[w].acked, r)
				results[w].pending = -1
				acked.Add(1)
			}
		}()
	}
	// Let the writers get going, and the compactor with them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		if acked.Load() >= 60 || time.Now().After(deadline) {
			break
		}
	}
	p.cmd.Process.Kill() // SIGKILL: no shutdown at all
	p.cmd.Wait()
	close(stop)
	wg.Wait()

	p2 := start(t, dir, "--listen", addr)
	p2.ready(t)
	tm = client(t, dir, endpoint)
	total := 0
	for w, res := range results {
		got := map[int]bool{}
		var token *string
		for {
			out, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String("crash"),
				EntityId: aws.String(fmt.Sprintf("m%d", w)), ComponentName: aws.String("meter"), SelectedProperties: []string{"v"},
				StartTime: aws.String("2023-01-01T00:00:00Z"), EndTime: aws.String("2030-01-01T00:00:00Z"), MaxResults: aws.Int32(200), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range out.PropertyValues {
				for _, v := range h.Values {
					sec := int(*v.Value.DoubleValue)
					ts, _ := time.Parse(time.RFC3339, *v.Time)
					if ts.Unix() != int64(1_700_000_000+sec) {
						t.Fatalf("writer %d: value %d at %s", w, sec, *v.Time)
					}
					got[sec] = true
				}
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		for _, r := range res.acked {
			for sec := r * 100; sec < r*100+100; sec++ {
				if !got[sec] {
					t.Fatalf("writer %d: acknowledged request %d lost second %d", w, r, sec)
				}
			}
		}
		// The request in flight is all there or not there at all.
		if r := res.pending; r >= 0 {
			n := 0
			for sec := r * 100; sec < r*100+100; sec++ {
				if got[sec] {
					n++
				}
			}
			if n != 0 && n != 100 {
				t.Errorf("writer %d: request %d, cut short by the crash, left %d of 100 values", w, r, n)
			}
		}
		total += len(res.acked)
	}
	if total < 10 {
		t.Errorf("only %d requests acknowledged before the crash", total)
	}
	// The restart closed the reservations of the requests the crash cut
	// short (RequestInterrupted): the audit trail verifies whole.
	p2.cmd.Process.Signal(syscall.SIGTERM)
	p2.cmd.Wait()
	args := []string{"--data-dir", filepath.Join(dir, "twinvault-data"), "--key-file", filepath.Join(dir, "twinvault-master.key")}
	var out, errOut strings.Builder
	if code := auditCmd(append([]string{"verify"}, args...), &out, &errOut); code != 0 {
		t.Fatalf("audit verify after the crash: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := auditCmd(append([]string{"export"}, args...), &out, &errOut); code != 0 {
		t.Fatalf("audit export: exit %d %s", code, errOut.String())
	}
	t.Logf("%d requests cut short were recorded as interrupted", strings.Count(out.String(), `"eventName":"RequestInterrupted"`))
}
