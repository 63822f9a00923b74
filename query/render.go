package query

import (
	"math"

	"github.com/twinvault/twinvault/catalog"
)

// The documents of a result row, shaped as TwinMaker shapes them: nodes
// with list-shaped components and properties and millisecond dates; edges
// named by their relationship; paths as alternating node and edge
// summaries.

type nodeDoc struct {
	ARN            string         `json:"arn"`
	CreationDate   int64          `json:"creationDate"`
	EntityID       string         `json:"entityId"`
	EntityName     string         `json:"entityName"`
	LastUpdateDate int64          `json:"lastUpdateDate"`
	WorkspaceID    string         `json:"workspaceId"`
	Description    string         `json:"description,omitempty"`
	Components     []componentDoc `json:"components"`
}

type componentDoc struct {
	ComponentName   string        `json:"componentName"`
	ComponentTypeID string        `json:"componentTypeId"`
	Properties      []propertyDoc `json:"properties"`
}

type propertyDoc struct {
	PropertyName  string `json:"propertyName"`
	PropertyValue any    `json:"propertyValue,omitempty"`
}

type edgeDoc struct {
	RelationshipName      string `json:"relationshipName"`
	SourceEntityID        string `json:"sourceEntityId"`
	TargetEntityID        string `json:"targetEntityId"`
	SourceComponentName   string `json:"sourceComponentName,omitempty"`
	SourceComponentTypeID string `json:"sourceComponentTypeId,omitempty"`
}

type pathNodeDoc struct {
	EntityID   string `json:"entityId"`
	EntityName string `json:"entityName"`
}

type pathEdgeDoc struct {
	RelationshipName string `json:"relationshipName"`
	SourceEntityID   string `json:"sourceEntityId"`
	TargetEntityID   string `json:"targetEntityId"`
}

type pathDoc struct {
	Path []any `json:"path"`
}

// render turns a value into what encoding/json writes in rowData.
func (x *executor) render(v any) (any, error) {
	switch v := v.(type) {
	case missingValue:
		return nil, nil
	case nodeValue:
		n, err := x.node(string(v))
		if err != nil || n == nil {
			return nil, err
		}
		d := nodeDoc{ARN: n.ARN, CreationDate: n.Created.UnixMilli(), EntityID: n.ID, EntityName: n.Name,
			LastUpdateDate: n.Updated.UnixMilli(), WorkspaceID: n.Workspace, Description: n.Description,
			Components: make([]componentDoc, 0, len(n.Components))}
		for i := range n.Components {
			d.Components = append(d.Components, componentJSON(&n.Components[i]))
		}
		return d, nil
	case edgeValue:
		return edgeJSON(catalog.Edge(v)), nil
	case walkValue:
		list := make([]any, len(v))
		for i, e := range v {
			list[i] = edgeJSON(e)
		}
		return list, nil
	case pathValue:
		d := pathDoc{Path: make([]any, 0, 2*len(v.nodes))}
		for i, id := range v.nodes {
			m, err := x.meta(id)
			if err != nil {
				return nil, err
			}
			name := ""
			if m != nil {
				name = m.Name
			}
			d.Path = append(d.Path, pathNodeDoc{EntityID: id, EntityName: name})
			if i < len(v.edges) {
				e := v.edges[i]
				d.Path = append(d.Path, pathEdgeDoc{RelationshipName: e.Label, SourceEntityID: e.Source, TargetEntityID: e.Target})
			}
		}
		return d, nil
	case componentValue:
		return componentJSON(v.c), nil
	case propertyValue:
		return propertyJSON(v.p), nil
	case []any:
		list := make([]any, len(v))
		for i := range v {
			r, err := x.render(v[i])
			if err != nil {
				return nil, err
			}
			list[i] = r
		}
		return list, nil
	case map[string]any:
		m := make(map[string]any, len(v))
		for k := range v {
			r, err := x.render(v[k])
			if err != nil {
				return nil, err
			}
			m[k] = r
		}
		return m, nil
	case float64:
		return jsonFloat(v), nil
	}
	return v, nil
}

// jsonFloat writes the doubles JSON cannot hold the way TwinMaker writes
// them in a DataValue.
func jsonFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

func edgeJSON(e catalog.Edge) edgeDoc {
	return edgeDoc{RelationshipName: e.Label, SourceEntityID: e.Source, TargetEntityID: e.Target,
		SourceComponentName: e.Component, SourceComponentTypeID: e.ComponentType}
}

func componentJSON(c *catalog.NodeComponent) componentDoc {
	d := componentDoc{ComponentName: c.Name, ComponentTypeID: c.TypeID, Properties: make([]propertyDoc, 0, len(c.Properties))}
	for i := range c.Properties {
		d.Properties = append(d.Properties, propertyJSON(&c.Properties[i]))
	}
	return d
}

func propertyJSON(p *catalog.NodeProperty) propertyDoc {
	d := propertyDoc{PropertyName: p.Name}
	if p.Value != nil {
		d.PropertyValue = finite(dataValue(p.Value))
	}
	return d
}

// finite replaces NaN and infinities inside a plain value.
func finite(v any) any {
	switch v := v.(type) {
	case float64:
		return jsonFloat(v)
	case []any:
		for i := range v {
			v[i] = finite(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = finite(v[k])
		}
	}
	return v
}
