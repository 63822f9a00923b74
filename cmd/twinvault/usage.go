package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/twinvault/twinvault/node"
)

// storageUsageCmd runs `twinvault usage`: what a workspace's time series
// take in a running server's store.
func storageUsageCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("usage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := onlineFlags(fs)
	ws := fs.String("workspace", "", "the workspace (required)")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	if *ws == "" {
		fmt.Fprintln(stderr, "twinvault usage: --workspace is required")
		return 2
	}
	u, err := storageUsage(context.Background(), o, *ws)
	if err != nil {
		fmt.Fprintf(stderr, "twinvault usage: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(u); err != nil {
			return 1
		}
		return 0
	}
	printStorageUsage(stdout, u)
	return 0
}

func storageUsage(ctx context.Context, o *online, ws string) (node.StorageUsage, error) {
	var u node.StorageUsage
	err := o.callJSON(ctx, node.KeyService, "TwinVault_20261101.GetStorageUsage", map[string]string{"workspaceId": ws}, &u)
	return u, err
}

// printStorageUsage writes u for a reader; bytes per point are against
// the 16 of a raw point (an 8-byte time and an 8-byte value).
func printStorageUsage(w io.Writer, u node.StorageUsage) {
	per := func(bytes, points int64) string {
		if points == 0 {
			return "no points"
		}
		return fmt.Sprintf("%.2f bytes per point", float64(bytes)/float64(points))
	}
	fmt.Fprintf(w, "time series of workspace %s: %d series, %d points, %d bytes stored, %s (a raw point is 16)\n",
		u.WorkspaceID, u.Series, u.Points, u.StoredBytes, per(u.StoredBytes, u.Points))
	fmt.Fprintf(w, "  compacted:         %d points in %d blocks, %d bytes, %s\n", u.BlockPoints, u.Blocks, u.BlockBytes, per(u.BlockBytes, u.BlockPoints))
	fmt.Fprintf(w, "  not yet compacted: %d points, %d bytes\n", u.PendingPoints, u.PendingBytes)
	fmt.Fprintf(w, "  bookkeeping:       %d bytes (what each series has compacted, deletions: per series, not per point)\n", u.OtherBytes)
}
