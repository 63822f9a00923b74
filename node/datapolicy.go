package node

import (
	"context"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/catalog"
)

// The data policy of a workspace (see catalog.DataPolicy) is set and read
// through the key service's JSON protocol: PutDataProtectionPolicy and
// GetDataProtectionPolicy, IAM actions on the workspace's ARN
// (twinvault:PutDataProtectionPolicy), audited like every call.

// dataPolicyRequest names a workspace and, to change it, the modes.
type dataPolicyRequest struct {
	workspaceRef
	catalog.DataPolicy
}

func bindDataPolicy(s *api.Server, c *catalog.Service, region string) {
	decode := func(body []byte) (*dataPolicyRequest, error) {
		var in dataPolicyRequest
		if err := decodeWorkspaceRequest(body, &in, &in.workspaceRef); err != nil {
			return nil, err
		}
		return &in, nil
	}
	workspace := workspaceResources(region)
	api.HandleJSON(s, KeyService, keyTargets, "PutDataProtectionPolicy", workspace, func(ctx context.Context, body []byte) (any, error) {
		in, err := decode(body)
		if err != nil {
			return nil, err
		}
		p, err := c.SetDataPolicy(ctx, in.WorkspaceID, in.DataPolicy)
		if err != nil {
			return nil, err
		}
		return dataPolicyRequest{in.workspaceRef, p}, nil
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
		return dataPolicyRequest{in.workspaceRef, p}, nil
	})
}
