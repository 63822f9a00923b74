package node

import (
	"context"
	"encoding/json"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/model"
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
	decode := func(body []byte) (string, error) {
		var in struct {
			WorkspaceID string `json:"workspaceId"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.WorkspaceID == "" {
			return "", twinvault.Errorf(twinvault.ValidationException, "the request names no workspaceId")
		}
		// An ID as the workspace operations take it (not an ARN).
		if err := (&model.DeleteWorkspaceInput{WorkspaceId: in.WorkspaceID}).Validate(); err != nil {
			return "", err
		}
		return in.WorkspaceID, nil
	}
	workspace := func(body []byte, _ *api.Request) []string {
		id, err := decode(body)
		if err != nil {
			return []string{"*"}
		}
		return []string{workspaceARN(region, id)}
	}
	api.HandleJSON(s, KeyService, keyTargets, "GetStorageUsage", workspace, func(ctx context.Context, body []byte) (any, error) {
		id, err := decode(body)
		if err != nil {
			return nil, err
		}
		u, err := c.StorageUsage(ctx, id)
		if err != nil {
			return nil, err
		}
		return StorageUsage{WorkspaceID: id, Series: u.Series, Points: u.Points(), StoredBytes: u.Bytes(),
			Blocks: u.Blocks, BlockPoints: u.BlockPoints, BlockBytes: u.BlockBytes,
			PendingPoints: u.PendingPoints, PendingBytes: u.PendingBytes, OtherBytes: u.OtherBytes}, nil
	})
}

// workspaceARN is the ARN of a workspace, the resource of the key
// service's operations on one.
func workspaceARN(region, id string) string {
	return twinvault.ARN{Partition: "aws", Service: "iottwinmaker", Region: region, Account: twinvault.Account, Resource: "workspace/" + id}.String()
}
