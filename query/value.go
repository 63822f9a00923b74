package query

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/model"
)

// Values the executor computes with. Scalars are Go values as encoding/json
// decodes them, with integers kept as int64: nil is NULL, missing is
// MISSING, then string, int64, float64, bool, []any and map[string]any.
// Graph values (nodes, edges, walks, paths, components, properties) are the
// types below; they become documents only when a row is rendered.

// missingValue is PartiQL's MISSING: an absent field.
type missingValue struct{}

var missing = missingValue{}

// nodeValue is an entity, by ID; its record is read when a field needs it.
type nodeValue string

// edgeValue is one relationship, or a parent link.
type edgeValue catalog.Edge

// walkValue is what a quantified edge binds: the relationships walked, in
// the order the pattern is written.
type walkValue []catalog.Edge

// pathValue is a whole path binding: nodes[i] and nodes[i+1] are joined by
// edges[i].
type pathValue struct {
	nodes []string
	edges []catalog.Edge
}

// componentValue is one element of e.components.
type componentValue struct{ c *catalog.NodeComponent }

// propertyValue is one element of c.properties.
type propertyValue struct{ p *catalog.NodeProperty }

// field returns v.name, or missing.
func (x *executor) field(v any, name string) (any, error) {
	switch v := v.(type) {
	case nodeValue:
		if name == "entityId" {
			return string(v), nil
		}
		if name == "components" {
			n, err := x.node(string(v))
			if err != nil || n == nil {
				return missing, err
			}
			list := make([]any, len(n.Components))
			for i := range n.Components {
				list[i] = componentValue{&n.Components[i]}
			}
			return list, nil
		}
		m, err := x.meta(string(v))
		if err != nil || m == nil {
			return missing, err
		}
		switch name {
		case "entityName":
			return m.Name, nil
		case "description":
			if m.Description == "" {
				return missing, nil
			}
			return m.Description, nil
		case "arn":
			return m.ARN, nil
		case "workspaceId":
			return m.Workspace, nil
		case "creationDate":
			return m.Created.UnixMilli(), nil
		case "lastUpdateDate":
			return m.Updated.UnixMilli(), nil
		}
	case edgeValue:
		switch name {
		case "relationshipName":
			return v.Label, nil
		case "sourceEntityId":
			return v.Source, nil
		case "targetEntityId":
			return v.Target, nil
		case "sourceComponentName":
			if v.Component != "" {
				return v.Component, nil
			}
		case "sourceComponentTypeId":
			if v.ComponentType != "" {
				return v.ComponentType, nil
			}
		}
	case componentValue:
		switch name {
		case "componentName":
			return v.c.Name, nil
		case "componentTypeId":
			return v.c.TypeID, nil
		case "properties":
			list := make([]any, len(v.c.Properties))
			for i := range v.c.Properties {
				list[i] = propertyValue{&v.c.Properties[i]}
			}
			return list, nil
		}
	case propertyValue:
		switch name {
		case "propertyName":
			return v.p.Name, nil
		case "propertyValue":
			if v.p.Value == nil {
				return missing, nil
			}
			return dataValue(v.p.Value), nil
		case "definition":
			return definitionDoc(&v.p.Definition), nil
		}
	case map[string]any:
		if x, ok := v[name]; ok {
			return x, nil
		}
	}
	return missing, nil
}

// dataValue turns a property value into a scalar, list or map.
func dataValue(d *model.DataValue) any {
	switch {
	case d == nil:
		return nil
	case d.StringValue != nil:
		return *d.StringValue
	case d.DoubleValue != nil:
		return float64(*d.DoubleValue)
	case d.IntegerValue != nil:
		return int64(*d.IntegerValue)
	case d.LongValue != nil:
		return *d.LongValue
	case d.BooleanValue != nil:
		return *d.BooleanValue
	case d.Expression != nil:
		return *d.Expression
	case d.ListValue != nil:
		list := make([]any, len(d.ListValue))
		for i := range d.ListValue {
			list[i] = dataValue(&d.ListValue[i])
		}
		return list
	case d.MapValue != nil:
		m := make(map[string]any, len(d.MapValue))
		for k, v := range d.MapValue {
			m[k] = dataValue(&v)
		}
		return m
	case d.RelationshipValue != nil:
		m := map[string]any{}
		if d.RelationshipValue.TargetEntityId != nil {
			m["targetEntityId"] = *d.RelationshipValue.TargetEntityId
		}
		if d.RelationshipValue.TargetComponentName != nil {
			m["targetComponentName"] = *d.RelationshipValue.TargetComponentName
		}
		return m
	}
	return nil
}

// definitionDoc is a property definition as a document, the way
// GetEntity shows it, so p.definition.configuration.unit and
// p.definition.dataType.type can be read.
func definitionDoc(d *model.PropertyDefinitionResponse) any {
	raw, err := json.Marshal(d)
	if err != nil {
		return missing
	}
	var doc any
	if err := decodeNumbers(raw, &doc); err != nil {
		return missing
	}
	return doc
}

// decodeNumbers decodes JSON with integers as int64 and other numbers as
// float64, the executor's number types.
func decodeNumbers(raw []byte, dst *any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	*dst = numbers(*dst)
	return nil
}

func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = numbers(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = numbers(v[k])
		}
	}
	return v
}

// number returns v as a float64 when it is a number.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// equal is PartiQL's = on two present values: numbers compare by value
// (20 = 20.0), strings and booleans exactly, lists and maps element by
// element; graph values by identity. Values of different types are not
// equal.
func equal(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	switch a := a.(type) {
	case string:
		b, ok := b.(string)
		return ok && a == b
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !equal(av, bv) {
				return false
			}
		}
		return true
	case nodeValue, edgeValue:
		return a == b
	}
	return false
}

// compare orders two numbers or two strings; ok is false for other pairs.
func compare(a, b any) (c int, ok bool) {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		if !ok || math.IsNaN(fa) || math.IsNaN(fb) {
			return 0, false
		}
		switch {
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	}
	if sa, ok := a.(string); ok {
		sb, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(sa, sb), true
	}
	return 0, false
}
