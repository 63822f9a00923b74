package api

import (
	"context"
	"reflect"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/model"
)

// Authorizer decides whether the signer of a request may make a call.
// Authorize returns nil to allow; a refusal is a *twinvault.Error with
// code (the service's own access-denied code) and AWS's explanation.
type Authorizer interface {
	Authorize(ctx context.Context, req *Request, call *Call, code string) error
}

// Call is what one request asks to do.
type Call struct {
	Action    string   // service:Operation; empty: only identify the signer
	Resources []string // the ARNs the action needs; none for actions without a resource
	Region    string
	UserAgent string
	Secure    bool
	Context   map[string][]string // request condition keys: aws:RequestTag/k, aws:TagKeys
}

// twinmakerCall is the action and resources of a TwinMaker operation, as
// AWS's authorisation reference lists them: the workspace, and inside it
// the entity, component type or scene the request names.
func twinmakerCall(op string, in model.Input, region string) *Call {
	c := &Call{Action: "iottwinmaker:" + op, Region: region}
	ws := field(in, "WorkspaceId")
	arn := func(res string) string {
		return twinvault.ARN{Partition: "aws", Service: "iottwinmaker", Region: region, Account: twinvault.Account, Resource: res}.String()
	}
	base := arn("workspace/" + ws)
	switch op {
	case "CreateWorkspace", "ListWorkspaces", "GetPricingPlan", "UpdatePricingPlan",
		"CreateMetadataTransferJob", "ListMetadataTransferJobs":
		// No resource.
	case "TagResource", "UntagResource", "ListTagsForResource":
		c.Resources = []string{field(in, "ResourceARN")}
	case "GetMetadataTransferJob", "CancelMetadataTransferJob":
		c.Resources = []string{arn("metadata-transfer-job/" + field(in, "MetadataTransferJobId"))}
	default:
		c.Resources = []string{base}
		for _, sub := range []struct{ field, kind string }{{"EntityId", "entity"}, {"ComponentTypeId", "component-type"}, {"SceneId", "scene"}} {
			switch op {
			case "CreateEntity", "CreateComponentType", "CreateScene", "BatchPutPropertyValues", "ExecuteQuery",
				"ListEntities", "ListComponentTypes", "ListScenes":
				continue // the workspace alone
			}
			if id := field(in, sub.field); ws != "" && id != "" {
				c.Resources = append(c.Resources, base+"/"+sub.kind+"/"+id)
			}
		}
	}
	if tags := tagsOf(in); tags != nil {
		c.Context = map[string][]string{}
		for k, v := range tags {
			c.Context["aws:RequestTag/"+k] = []string{v}
			c.Context["aws:TagKeys"] = append(c.Context["aws:TagKeys"], k)
		}
	}
	if keys := listField(in, "TagKeys"); keys != nil {
		if c.Context == nil {
			c.Context = map[string][]string{}
		}
		c.Context["aws:TagKeys"] = keys
	}
	return c
}

// field reads a string member of an input by its Go name: labels are
// strings, body members *string.
func field(in any, name string) string {
	v := reflect.Indirect(reflect.ValueOf(in))
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName(name)
	switch {
	case !f.IsValid():
		return ""
	case f.Kind() == reflect.String:
		return f.String()
	case f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String:
		return f.Elem().String()
	}
	return ""
}

func tagsOf(in any) map[string]string {
	v := reflect.Indirect(reflect.ValueOf(in))
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName("Tags")
	if !f.IsValid() || f.Kind() != reflect.Map || f.Len() == 0 {
		return nil
	}
	m, _ := f.Interface().(map[string]string)
	return m
}

func listField(in any, name string) []string {
	v := reflect.Indirect(reflect.ValueOf(in))
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	l, _ := f.Interface().([]string)
	return l
}
