package node

import (
	"context"
	"encoding/json"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/catalog"
)

// The data policy of a workspace (see catalog.DataPolicy) is set and read
// through the key service's JSON protocol: PutDataProtectionPolicy and
// GetDataProtectionPolicy, IAM actions on the workspace's ARN
// (twinvault:PutDataProtectionPolicy), audited like every call.

// dataPolicyRequest names a workspace and, to change it, the modes.
type dataPolicyRequest struct {
	WorkspaceID string `json:"workspaceId"`
	catalog.DataPolicy
}

func bindDataPolicy(s *api.Server, c *catalog.Service, region string) {
	decode := func(body []byte) (*dataPolicyRequest, error) {
		var in dataPolicyRequest
		if err := json.Unmarshal(body, &in); err != nil || in.WorkspaceID == "" {
			return nil, twinvault.Errorf(twinvault.ValidationException, "the request names no workspaceId")
		}
		return &in, nil
	}
	workspace := func(body []byte, _ *api.Request) []string {
		in, err := decode(body)
		if err != nil {
			return []string{"*"}
		}
		return []string{workspaceARN(region, in.WorkspaceID)}
	}
	api.HandleJSON(s, KeyService, keyTargets, "PutDataProtectionPolicy", workspace, func(ctx context.Context, body []byte) (any, error) {
		in, err := decode(body)
		if err != nil {
			return nil, err
		}
		p, err := c.SetDataPolicy(ctx, in.WorkspaceID, in.DataPolicy)
		if err != nil {
			return nil, err
		}
		return dataPolicyRequest{in.WorkspaceID, p}, nil
	})
	api.HandleJSON(s, KeyService, keyTargets, "GetDataProtectionPolicy", workspace, func(ctx context.Context, body []byte) (any, error) {
		in, err := decode(body)
		if err != nil {
			return nil, err
		}
		p, err := c.DataPolicy(ctx, in.WorkspaceID)
		if err != nil {
			return nil, err
		}
		return dataPolicyRequest{in.WorkspaceID, p}, nil
	})
}
