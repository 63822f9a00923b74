package node

import (
	"context"
	"encoding/json"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/connector"
)

// Secrets and data connectors are managed through the key service's JSON
// protocol, each operation an IAM action (twinvault:PutSecret, …) audited
// like every call, with secretString hidden from the record. No operation
// returns a secret's value.

func bindConnectors(s *api.Server, c *connector.Service) {
	all := func([]byte, *api.Request) []string { return []string{"*"} }
	handle := func(op string, fn func(ctx context.Context, in *connectorRequest) (any, error)) {
		api.HandleJSON(s, KeyService, keyTargets, op, all, func(ctx context.Context, body []byte) (any, error) {
			var in connectorRequest
			if len(body) > 0 {
				if err := json.Unmarshal(body, &in); err != nil {
					return nil, twinvault.Errorf(twinvault.SerializationException, "the request body is not a %s request", op)
				}
			}
			return fn(ctx, &in)
		})
	}
	handle("PutSecret", func(ctx context.Context, in *connectorRequest) (any, error) {
		return c.PutSecret(ctx, in.Name, in.SecretString)
	})
	handle("ListSecrets", func(ctx context.Context, _ *connectorRequest) (any, error) {
		list, err := c.Secrets(ctx)
		return map[string]any{"secrets": nonNil(list)}, err
	})
	handle("DeleteSecret", func(ctx context.Context, in *connectorRequest) (any, error) {
		return map[string]any{}, c.DeleteSecret(ctx, in.Name)
	})
	handle("PutConnector", func(ctx context.Context, in *connectorRequest) (any, error) {
		return c.PutConnector(ctx, connector.Connector{Name: in.Name, Endpoint: in.Endpoint, Secret: in.Secret})
	})
	handle("ListConnectors", func(ctx context.Context, _ *connectorRequest) (any, error) {
		list, err := c.Connectors(ctx)
		return map[string]any{"connectors": nonNil(list)}, err
	})
	handle("DeleteConnector", func(ctx context.Context, in *connectorRequest) (any, error) {
		return map[string]any{}, c.DeleteConnector(ctx, in.Name)
	})
}

// connectorRequest is the body of the secret and connector operations.
type connectorRequest struct {
	Name         string `json:"name"`
	SecretString string `json:"secretString"` // PutSecret: the value, write-only
	Endpoint     string `json:"endpoint"`     // PutConnector: an https URL without credentials
	Secret       string `json:"secret"`       // PutConnector: secret://name or the secret's ARN
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
