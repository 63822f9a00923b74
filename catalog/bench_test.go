package catalog

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/pebble"
	"github.com/twinvault/twinvault/tsdb"
)

// BenchmarkBatchPut measures the catalog's part of a BatchPut of 10
// entries of 10 values (resolving, checking, building chunks) with the
// time-series store's: no HTTP, no signing, no audit, over the embedded
// engine. The server's figures are e2e.BenchmarkServer's.
func BenchmarkBatchPut(b *testing.B) {
	store, err := pebble.Open(filepath.Join(b.TempDir(), "kv"), pebble.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	bar := barriertest.Open(b, store)
	ts := tsdb.Open(bar, nil)
	b.Cleanup(ts.Close)
	s := New(bar, Config{TS: ts})
	ctx := context.Background()
	if _, err := s.CreateWorkspace(ctx, &model.CreateWorkspaceInput{WorkspaceId: "w"}); err != nil {
		b.Fatal(err)
	}
	props := map[string]model.PropertyDefinitionRequest{}
	for p := range 10 {
		props[fmt.Sprintf("p%d", p)] = model.PropertyDefinitionRequest{DataType: &model.DataType{Type: model.TypeDouble}, IsTimeSeries: model.Bool(true)}
	}
	if _, err := s.CreateComponentType(ctx, &model.CreateComponentTypeInput{WorkspaceId: "w", ComponentTypeId: "com.example.t", PropertyDefinitions: props}); err != nil {
		b.Fatal(err)
	}
	for e := range 10 {
		if _, err := s.CreateEntity(ctx, &model.CreateEntityInput{WorkspaceId: "w", EntityId: model.String(fmt.Sprintf("e%d", e)), EntityName: model.String("e"),
			Components: map[string]model.ComponentRequest{"c": {ComponentTypeId: model.String("com.example.t")}}}); err != nil {
			b.Fatal(err)
		}
	}
	origin := time.Unix(1_700_000_000, 0)
	batch := func(i int) *model.BatchPutPropertyValuesInput {
		in := &model.BatchPutPropertyValuesInput{WorkspaceId: "w"}
		for k := range 10 {
			vals := make([]model.PropertyValue, 10)
			for j := range vals {
				sec := i*10 + j
				vals[j] = model.PropertyValue{Time: model.String(origin.Add(time.Duration(sec) * time.Second).UTC().Format(time.RFC3339)),
					Value: &model.DataValue{DoubleValue: model.NewDouble(20 + float64(sec%500)/10)}}
			}
			in.Entries = append(in.Entries, model.PropertyValueEntry{EntityPropertyReference: &model.EntityPropertyReference{
				EntityId: model.String(fmt.Sprintf("e%d", k)), ComponentName: model.String("c"), PropertyName: model.String(fmt.Sprintf("p%d", (i+k)%10))},
				PropertyValues: vals})
		}
		return in
	}
	ins := make([]*model.BatchPutPropertyValuesInput, b.N)
	for i := range ins {
		ins[i] = batch(i)
	}
	var next atomic.Int64
	start := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			out, err := s.BatchPutPropertyValues(ctx, ins[next.Add(1)-1])
			if err != nil || len(out.ErrorEntries) > 0 {
				b.Error(err, out)
				return
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the process's CPU time so far. Each call waits for its sync;
// what the calls cost is the CPU they take, which is what decides the rate
// on a busy server.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
