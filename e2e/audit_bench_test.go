package e2e

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// BenchmarkAuditStage measures GetWorkspace, the cheapest authenticated
// call, through the whole pipeline and through the same pipeline without
// its audit stage, in one run: compare the two ns/op.
func BenchmarkAuditStage(b *testing.B) {
	for _, c := range []struct {
		name    string
		without bool
	}{{"WithAudit", false}, {"WithoutAudit", true}} {
		b.Run(c.name, func(b *testing.B) {
			srv := twinvaulttest.Start(b, func(cfg *node.Config) { cfg.WithoutAudit = c.without })
			tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
			ctx := context.Background()
			if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(16) // clients per CPU: a busy server's load
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("bench")}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
