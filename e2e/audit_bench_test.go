package e2e

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// BenchmarkAuditStage measures GetWorkspace, the cheapest authenticated
// call, through the whole pipeline and through the same pipeline without
// its audit stage. Both servers run side by side and take turns, a round of
// calls each per iteration, so that the shared machine's drift falls on
// both alike; "audited/unaudited" is the ratio of their request rates (the
// median of the rounds' ratios is reported beside it), and each pipeline's
// CPU time per call and cores kept busy show how much of the difference is
// work and how much is waiting, and the audit log's entries per write and
// per sync of the store how many calls share each durable write.
func BenchmarkAuditStage(b *testing.B) {
	const (
		clients  = 32 // a busy server's load on two cores
		perRound = 2000
	)
	ctx := context.Background()
	var n *node.Node
	open := func(without bool) *iottwinmaker.Client {
		srv := twinvaulttest.Start(b, func(cfg *node.Config) { cfg.WithoutAudit = without })
		if !without {
			n = srv.Node
		}
		tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
		if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("bench")}); err != nil {
			b.Fatal(err)
		}
		return tm
	}
	var audited, unaudited *iottwinmaker.Client
	audited, unaudited = open(false), open(true)
	// A round's CPU time (the process's, both servers' and the clients')
	// tells the pipelines' cost per call apart from time spent waiting.
	var cpuWith, cpuWithout time.Duration
	round := func(tm *iottwinmaker.Client) time.Duration {
		cpu := cpuTime()
		defer func() {
			if tm == audited {
				cpuWith += cpuTime() - cpu
			} else {
				cpuWithout += cpuTime() - cpu
			}
		}()
		var n atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Go(func() {
				for n.Add(1) <= perRound {
					if _, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("bench")}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	round(audited) // connections, caches
	round(unaudited)
	cpuWith, cpuWithout = 0, 0
	logged := n.AuditLog().Stats()
	synced, _, _ := n.WALSyncs()
	b.ResetTimer()
	var with, without time.Duration
	ratios := make([]float64, 0, b.N)
	for i := range b.N {
		var w, wo time.Duration
		if i%2 == 0 {
			w, wo = round(audited), round(unaudited)
		} else {
			wo, w = round(unaudited), round(audited)
		}
		with, without = with+w, without+wo
		ratios = append(ratios, wo.Seconds()/w.Seconds())
	}
	b.StopTimer()
	st := n.AuditLog().Stats()
	syncs, _, walOK := n.WALSyncs()
	sort.Float64s(ratios)
	calls := float64(b.N * perRound)
	b.ReportMetric(calls/with.Seconds(), "audited-calls/s")
	b.ReportMetric(calls/without.Seconds(), "unaudited-calls/s")
	b.ReportMetric(without.Seconds()/with.Seconds(), "audited/unaudited")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	b.ReportMetric(float64(cpuWith.Microseconds())/calls, "audited-cpu-µs/call")
	b.ReportMetric(float64(cpuWithout.Microseconds())/calls, "unaudited-cpu-µs/call")
	b.ReportMetric(cpuWith.Seconds()/with.Seconds(), "audited-cores")
	b.ReportMetric(cpuWithout.Seconds()/without.Seconds(), "unaudited-cores")
	b.ReportMetric(float64(st.Entries-logged.Entries)/float64(st.Batches-logged.Batches), "audit-entries/write")
	if walOK {
		b.ReportMetric(float64(st.Entries-logged.Entries)/float64(syncs-synced), "audit-entries/sync")
	}
}
