package node

import (
	"context"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/catalog"
)

// GetStorageUsage, on the key service's JSON protocol, reports what a
// workspace's time series take in the store: `twinvault usage` and
// `twinvault load` ask it. It is an IAM action on the workspace's ARN
// (twinvault:GetStorageUsage), audited like every call.

// StorageUsage is GetStorageUsage's answer. Bytes are what the store
// holds (keys and sealed values, nonces and tags included), before the
// storage engine's own overhead and compression.
type StorageUsage struct {
	WorkspaceID string `json:"workspaceId"`
	Series      int    `json:"series"`
	// Points are every point stored; StoredBytes everything the series take.
	Points      int64 `json:"points"`
	StoredBytes int64 `json:"storedBytes"`
	// The compacted blocks, the points written and not yet compacted, and
	// the series' bookkeeping.
	Blocks        int   `json:"blocks"`
	BlockPoints   int64 `json:"blockPoints"`
	BlockBytes    int64 `json:"blockBytes"`
	PendingPoints int64 `json:"pendingPoints"`
	PendingBytes  int64 `json:"pendingBytes"`
	OtherBytes    int64 `json:"otherBytes"`
}

func bindUsage(s *api.Server, c *catalog.Service, region string) {
	api.HandleJSON(s, KeyService, keyTargets, "GetStorageUsage", workspaceResources(region), func(ctx context.Context, body []byte) (any, error) {
		var in workspaceRef
		if err := decodeWorkspaceRequest(body, &in, &in); err != nil {
			return nil, err
		}
		u, err := c.StorageUsage(ctx, in.WorkspaceID)
		if err != nil {
			return nil, err
		}
		return StorageUsage{WorkspaceID: in.WorkspaceID, Series: u.Series, Points: u.Points(), StoredBytes: u.Bytes(),
			Blocks: u.Blocks, BlockPoints: u.BlockPoints, BlockBytes: u.BlockBytes,
			PendingPoints: u.PendingPoints, PendingBytes: u.PendingBytes, OtherBytes: u.OtherBytes}, nil
	})
}
