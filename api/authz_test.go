package api

import (
	"reflect"
	"testing"

	"github.com/twinvault/twinvault/model"
)

// TestTwinMakerCall: each operation is authorised against the resources
// AWS's authorisation reference lists for it.
func TestTwinMakerCall(t *testing.T) {
	const ws = "arn:aws:iottwinmaker:eu-west-1:000000000000:workspace/w"
	cases := []struct {
		op        string
		in        model.Input
		resources []string
		context   map[string][]string
	}{
		{"GetWorkspace", &model.GetWorkspaceInput{WorkspaceId: "w"}, []string{ws}, nil},
		{"ListWorkspaces", &model.ListWorkspacesInput{}, nil, nil},
		{"CreateWorkspace", &model.CreateWorkspaceInput{WorkspaceId: "w", Tags: map[string]string{"team": "ops"}}, nil,
			map[string][]string{"aws:RequestTag/team": {"ops"}, "aws:TagKeys": {"team"}}},
		{"GetEntity", &model.GetEntityInput{WorkspaceId: "w", EntityId: "e1"}, []string{ws, ws + "/entity/e1"}, nil},
		{"DeleteEntity", &model.DeleteEntityInput{WorkspaceId: "w", EntityId: "e1"}, []string{ws, ws + "/entity/e1"}, nil},
		{"ListComponents", &model.ListComponentsInput{WorkspaceId: "w", EntityId: "e1"}, []string{ws, ws + "/entity/e1"}, nil},
		{"CreateEntity", &model.CreateEntityInput{WorkspaceId: "w", EntityId: model.String("e1")}, []string{ws}, nil},
		{"GetComponentType", &model.GetComponentTypeInput{WorkspaceId: "w", ComponentTypeId: "com.x"}, []string{ws, ws + "/component-type/com.x"}, nil},
		{"CreateComponentType", &model.CreateComponentTypeInput{WorkspaceId: "w", ComponentTypeId: "com.x"}, []string{ws}, nil},
		{"UpdateScene", &model.UpdateSceneInput{WorkspaceId: "w", SceneId: "s"}, []string{ws, ws + "/scene/s"}, nil},
		{"ListScenes", &model.ListScenesInput{WorkspaceId: "w"}, []string{ws}, nil},
		{"ExecuteQuery", &model.ExecuteQueryInput{WorkspaceId: model.String("w")}, []string{ws}, nil},
		{"BatchPutPropertyValues", &model.BatchPutPropertyValuesInput{WorkspaceId: "w"}, []string{ws}, nil},
		{"GetPropertyValueHistory", &model.GetPropertyValueHistoryInput{WorkspaceId: "w", EntityId: model.String("e1")}, []string{ws, ws + "/entity/e1"}, nil},
		{"GetPropertyValueHistory", &model.GetPropertyValueHistoryInput{WorkspaceId: "w", ComponentTypeId: model.String("com.x")}, []string{ws, ws + "/component-type/com.x"}, nil},
		{"TagResource", &model.TagResourceInput{ResourceARN: model.String(ws + "/entity/e1"), Tags: map[string]string{"a": "1"}}, []string{ws + "/entity/e1"},
			map[string][]string{"aws:RequestTag/a": {"1"}, "aws:TagKeys": {"a"}}},
		{"UntagResource", &model.UntagResourceInput{ResourceARN: model.String(ws), TagKeys: []string{"a", "b"}}, []string{ws}, map[string][]string{"aws:TagKeys": {"a", "b"}}},
		{"GetPricingPlan", &model.GetPricingPlanInput{}, nil, nil},
	}
	for _, c := range cases {
		call := twinmakerCall(c.op, c.in, "eu-west-1")
		if call.Action != "iottwinmaker:"+c.op || !reflect.DeepEqual(call.Resources, c.resources) || !reflect.DeepEqual(call.Context, c.context) {
			t.Errorf("%s: %s on %v with %v; want %v with %v", c.op, call.Action, call.Resources, call.Context, c.resources, c.context)
		}
	}
}
