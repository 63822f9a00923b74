package node

import (
	"context"
	"encoding/json"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/connector"
)

// Secrets and data connectors are managed through the key service's JSON
// protocol, each operation an IAM action (twinvault:PutSecret, …) on the
// secret's ARN or the workspace's (and, to name a secret, the secret's
// too), audited like every call with secretString hidden. No operation
// returns a secret's value.

// connectorRequest is the body of the secret and connector operations.
type connectorRequest struct {
	WorkspaceID  string `json:"workspaceId"`  // connectors: the workspace they serve
	Name         string `json:"name"`         // the secret's, or the connector's (a dataReader function name)
	SecretString string `json:"secretString"` // PutSecret: the value, write-only
	Endpoint     string `json:"endpoint"`     // PutConnector: an https URL without credentials
	Secret       string `json:"secret"`       // PutConnector: secret://name or the secret's ARN
}

func bindConnectors(s *api.Server, c *connector.Service, cat *catalog.Service, region string) {
	decode := func(body []byte) (*connectorRequest, error) {
		var in connectorRequest
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, twinvault.Errorf(twinvault.SerializationException, "the request body is not JSON")
			}
		}
		return &in, nil
	}
	arn := func(service, resource string) string {
		return twinvault.ARN{Partition: "aws", Service: service, Region: region, Account: twinvault.Account, Resource: resource}.String()
	}
	secretARN := func(body []byte, _ *api.Request) []string {
		in, err := decode(body)
		if err != nil || in.Name == "" {
			return []string{"*"}
		}
		return []string{arn("secretsmanager", "secret:"+in.Name)}
	}
	workspaceARN := func(body []byte, _ *api.Request) []string {
		in, err := decode(body)
		if err != nil || in.WorkspaceID == "" {
			return []string{"*"}
		}
		out := []string{arn("iottwinmaker", "workspace/"+in.WorkspaceID)}
		if name, ok := connector.SecretName(in.Secret); ok {
			out = append(out, arn("secretsmanager", "secret:"+name))
		}
		return out
	}
	handle := func(op string, resources func([]byte, *api.Request) []string, fn func(ctx context.Context, in *connectorRequest) (any, error)) {
		api.HandleJSON(s, KeyService, keyTargets, op, resources, func(ctx context.Context, body []byte) (any, error) {
			in, err := decode(body)
			if err != nil {
				return nil, err
			}
			switch op {
			case "PutConnector", "ListConnectors", "DeleteConnector":
				if in.WorkspaceID == "" {
					return nil, twinvault.Errorf(twinvault.ValidationException, "a connector belongs to a workspace: give workspaceId")
				}
				if _, err := cat.DataPolicy(ctx, in.WorkspaceID); err != nil {
					return nil, err // no such workspace
				}
			}
			return fn(ctx, in)
		})
	}
	handle("PutSecret", secretARN, func(ctx context.Context, in *connectorRequest) (any, error) {
		return c.PutSecret(ctx, in.Name, in.SecretString)
	})
	handle("ListSecrets", func([]byte, *api.Request) []string { return []string{"*"} }, func(ctx context.Context, _ *connectorRequest) (any, error) {
		list, err := c.Secrets(ctx)
		return map[string]any{"secrets": nonNil(list)}, err
	})
	handle("DeleteSecret", secretARN, func(ctx context.Context, in *connectorRequest) (any, error) {
		return map[string]any{}, c.DeleteSecret(ctx, in.Name)
	})
	handle("PutConnector", workspaceARN, func(ctx context.Context, in *connectorRequest) (any, error) {
		return c.PutConnector(ctx, connector.Connector{WorkspaceID: in.WorkspaceID, Name: in.Name, Endpoint: in.Endpoint, Secret: in.Secret})
	})
	handle("ListConnectors", workspaceARN, func(ctx context.Context, in *connectorRequest) (any, error) {
		list, err := c.Connectors(ctx, in.WorkspaceID)
		return map[string]any{"connectors": nonNil(list)}, err
	})
	handle("DeleteConnector", workspaceARN, func(ctx context.Context, in *connectorRequest) (any, error) {
		return map[string]any{}, c.DeleteConnector(ctx, in.WorkspaceID, in.Name)
	})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
