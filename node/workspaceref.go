package node

import (
	"encoding/json"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/model"
)

// workspaceRef is the workspace a key-service request is about; its
// operations on one are IAM actions on the workspace's ARN.
type workspaceRef struct {
	WorkspaceID string `json:"workspaceId"`
}

// decodeWorkspaceRequest decodes body into in, a request that holds ref,
// and checks the ID as the workspace operations take it (not an ARN).
func decodeWorkspaceRequest(body []byte, in any, ref *workspaceRef) error {
	if err := json.Unmarshal(body, in); err != nil || ref.WorkspaceID == "" {
		return twinvault.Errorf(twinvault.ValidationException, "the request names no workspaceId")
	}
	return (&model.DeleteWorkspaceInput{WorkspaceId: ref.WorkspaceID}).Validate()
}

// workspaceResources authorises a request on the workspace it names;
// one that names none is authorised on "*", and then refused as invalid.
func workspaceResources(region string) func([]byte, *api.Request) []string {
	return func(body []byte, _ *api.Request) []string {
		var ref workspaceRef
		if decodeWorkspaceRequest(body, &ref, &ref) != nil {
			return []string{"*"}
		}
		return []string{workspaceARN(region, ref.WorkspaceID)}
	}
}

// workspaceARN is the ARN of a workspace.
func workspaceARN(region, id string) string {
	return twinvault.ARN{Partition: "aws", Service: "iottwinmaker", Region: region, Account: twinvault.Account, Resource: "workspace/" + id}.String()
}
