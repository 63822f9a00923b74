package node

import (
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/query"
)

// bindTwinMaker connects the TwinMaker operations to the catalog and the
// query engine, whose results being paged are kept in pages too when it
// is not nil (several nodes).
func bindTwinMaker(s *api.Server, c *catalog.Service, pages query.Pages) {
	qs := query.NewService(c)
	if pages != nil {
		qs.SharePages(pages)
	}
	api.Handle(s, "ExecuteQuery", qs.ExecuteQuery)

	api.Handle(s, "CreateWorkspace", c.CreateWorkspace)
	api.Handle(s, "GetWorkspace", c.GetWorkspace)
	api.Handle(s, "UpdateWorkspace", c.UpdateWorkspace)
	api.Handle(s, "DeleteWorkspace", c.DeleteWorkspace)
	api.Handle(s, "ListWorkspaces", c.ListWorkspaces)

	api.Handle(s, "CreateComponentType", c.CreateComponentType)
	api.Handle(s, "GetComponentType", c.GetComponentType)
	api.Handle(s, "UpdateComponentType", c.UpdateComponentType)
	api.Handle(s, "DeleteComponentType", c.DeleteComponentType)
	api.Handle(s, "ListComponentTypes", c.ListComponentTypes)

	api.Handle(s, "CreateEntity", c.CreateEntity)
	api.Handle(s, "GetEntity", c.GetEntity)
	api.Handle(s, "UpdateEntity", c.UpdateEntity)
	api.Handle(s, "DeleteEntity", c.DeleteEntity)
	api.Handle(s, "ListEntities", c.ListEntities)
	api.Handle(s, "ListComponents", c.ListComponents)
	api.Handle(s, "ListProperties", c.ListProperties)

	api.Handle(s, "CreateScene", c.CreateScene)
	api.Handle(s, "GetScene", c.GetScene)
	api.Handle(s, "UpdateScene", c.UpdateScene)
	api.Handle(s, "DeleteScene", c.DeleteScene)
	api.Handle(s, "ListScenes", c.ListScenes)

	api.Handle(s, "TagResource", c.TagResource)
	api.Handle(s, "UntagResource", c.UntagResource)
	api.Handle(s, "ListTagsForResource", c.ListTagsForResource)

	api.Handle(s, "BatchPutPropertyValues", c.BatchPutPropertyValues)
	api.Handle(s, "GetPropertyValue", c.GetPropertyValue)
	api.Handle(s, "GetPropertyValueHistory", c.GetPropertyValueHistory)

	api.Handle(s, "GetPricingPlan", c.GetPricingPlan)
	api.Handle(s, "UpdatePricingPlan", c.UpdatePricingPlan)
}
