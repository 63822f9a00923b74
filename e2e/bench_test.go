package e2e

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// The end-to-end benchmarks drive a real server through the SDK over
// HTTPS; compare BatchPut and History with GetWorkspace, the cheapest
// authenticated call, measured in the same run.

func benchServer(b *testing.B) (*iottwinmaker.Client, func(i int) []types.PropertyValueEntry) {
	srv := twinvaulttest.Start(b)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	ws := aws.String("bench")
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: ws}); err != nil {
		b.Fatal(err)
	}
	props := map[string]types.PropertyDefinitionRequest{}
	for p := range 10 {
		props[fmt.Sprintf("p%d", p)] = types.PropertyDefinitionRequest{DataType: &types.DataType{Type: types.TypeDouble}, IsTimeSeries: aws.Bool(true)}
	}
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.b"), PropertyDefinitions: props}); err != nil {
		b.Fatal(err)
	}
	for e := range 10 {
		if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String(fmt.Sprintf("e%d", e)), EntityName: aws.String("e"),
			Components: map[string]types.ComponentRequest{"c": {ComponentTypeId: aws.String("com.example.b")}}}); err != nil {
			b.Fatal(err)
		}
	}
	origin := time.Unix(1_700_000_000, 0)
	// batch i writes seconds [i*10, i*10+10) of 10 series.
	batch := func(i int) []types.PropertyValueEntry {
		var entries []types.PropertyValueEntry
		for s := range 10 {
			vals := make([]types.PropertyValue, 10)
			for j := range vals {
				sec := i*10 + j
				vals[j] = types.PropertyValue{Time: aws.String(origin.Add(time.Duration(sec) * time.Second).UTC().Format(time.RFC3339)),
					Value: &types.DataValue{DoubleValue: aws.Float64(20 + float64(sec%500)/10)}}
			}
			entries = append(entries, types.PropertyValueEntry{EntityPropertyReference: &types.EntityPropertyReference{
				EntityId: aws.String(fmt.Sprintf("e%d", s)), ComponentName: aws.String("c"), PropertyName: aws.String(fmt.Sprintf("p%d", (i+s)%10))}, PropertyValues: vals})
		}
		return entries
	}
	return tm, batch
}

// cpuTime is the process's CPU time so far: the servers', the clients' and
// the runtime's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports, when the returned func runs, the process's CPU time
// per operation (clients and servers alike) and the cores it kept busy:
// the work a call takes, apart from the shared machine's waits. On a busy
// two-core server that work decides the rate, so the load tool's ratios
// follow these figures' ratios.
func reportCPU(b *testing.B) func() {
	start, at := cpuTime(), time.Now()
	return func() {
		used := cpuTime() - start
		b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/op")
		b.ReportMetric(used.Seconds()/time.Since(at).Seconds(), "cores")
	}
}

// BenchmarkServer measures, on one server: GetWorkspace (the baseline),
// BatchPutPropertyValues of 100 values, and history pages of 25 values
// (the default) and of 200 at random depths of 20 000-point series.
func BenchmarkServer(b *testing.B) {
	tm, batch := benchServer(b)
	ctx := context.Background()
	b.Run("GetWorkspace", func(b *testing.B) {
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("bench")}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	var ctr atomic.Int64
	b.Run("BatchPut", func(b *testing.B) {
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("bench"), Entries: batch(int(ctr.Add(1)))})
				if err != nil || len(out.ErrorEntries) > 0 {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "values/s")
	})
	const batches = 2000 // 20 000 points in each of 10 series
	for i := int(ctr.Load()) + 1; i < batches; i++ {
		if _, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("bench"), Entries: batch(i)}); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(3 * time.Second) // let the compactor settle
	origin := time.Unix(1_700_000_000, 0)
	for _, page := range []int32{25, 200} {
		b.Run(fmt.Sprintf("HistoryPage/values=%d", page), func(b *testing.B) {
			historyPages(b, tm, origin, batches, page)
		})
	}
}

// historyPages reads pages of up to page values from random depths of the
// series that BenchmarkServer wrote.
func historyPages(b *testing.B, tm *iottwinmaker.Client, origin time.Time, batches int, page int32) {
	defer reportCPU(b)()
	ctx := context.Background()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			from := origin.Add(time.Duration(i*7919%(batches*10)) * time.Second)
			_, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String("bench"),
				EntityId: aws.String(fmt.Sprintf("e%d", i%10)), ComponentName: aws.String("c"), SelectedProperties: []string{fmt.Sprintf("p%d", i%10)},
				StartTime: aws.String(from.UTC().Format(time.RFC3339)), EndTime: aws.String(origin.Add(time.Duration(batches*10) * time.Second).UTC().Format(time.RFC3339)),
				MaxResults: aws.Int32(page)})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
