package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/model"
)

// root is the parent of top-level entities.
const root = "$ROOT"

// TwinMaker's caps on what GetEntity returns; ListComponents and
// ListProperties page through the rest.
const (
	maxComponentsReturned = 30
	maxPropertiesReturned = 800
	maxValuesReturned     = 50
)

// entity is the stored record of an entity.
type entity struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	Description *string               `json:"description,omitempty"`
	Parent      string                `json:"parent"`
	Components  map[string]*component `json:"components,omitempty"`
	// Composite holds the sub-components of composite component types,
	// keyed by path ("component/sub/...").
	Composite map[string]*component `json:"composite,omitempty"`
	Tags      map[string]string     `json:"tags,omitempty"`
	Created   time.Time             `json:"created"`
	Updated   time.Time             `json:"updated"`
}

type component struct {
	TypeID      string                                         `json:"typeId"`
	Description *string                                        `json:"description,omitempty"`
	Properties  map[string]*property                           `json:"properties,omitempty"`
	Groups      map[string]model.ComponentPropertyGroupRequest `json:"groups,omitempty"`
}

// property is what an entity sets on a property: a value, and a
// definition when the property is the entity's own rather than its type's.
type property struct {
	Definition *model.PropertyDefinitionRequest `json:"definition,omitempty"`
	Value      *model.DataValue                 `json:"value,omitempty"`
}

func entityKey(v *barrier.View, id string) []byte { return key("en", v.Index(id)) }

func (s *Service) entityARN(ws, id string) string { return s.arn("workspace/" + ws + "/entity/" + id) }

func loadEntity(tx *barrier.Tx, v *barrier.View, id string) (*entity, error) {
	return load[entity](tx, v, entityKey(v, id))
}

func hasChildren(tx *barrier.Tx, v *barrier.View, id string) (bool, error) {
	found := false
	r := prefixRange(string(key("ch", v.Index(id))) + "/")
	r.Limit = 1
	err := tx.Scan(v, r, func(_, _ []byte) error { found = true; return kv.Stop })
	return found, err
}

// effectiveProps is the full set of a component's properties: its type's
// (with inheritance) and the entity's own.
type effectiveProp struct {
	def       model.PropertyDefinitionRequest
	inherited bool
	own       bool // defined by the entity, not the type
	value     *model.DataValue
}

func effective(res *resolved, c *component) map[string]effectiveProp {
	out := map[string]effectiveProp{}
	if res != nil {
		for name, p := range res.props {
			out[name] = effectiveProp{def: p.def, inherited: p.inherited}
		}
	}
	for name, p := range c.Properties {
		ep, ok := out[name]
		if !ok && p.Definition != nil {
			ep = effectiveProp{def: *p.Definition, own: true}
		}
		ep.value = p.Value
		out[name] = ep
	}
	return out
}

// componentType returns the type of the component at path: the named type
// of a top-level component, or for a sub-component the type its parent's
// composite component type names.
func (r *resolver) compositeType(e *entity, path string) (string, error) {
	parts := strings.Split(path, "/")
	c := e.Components[parts[0]]
	if c == nil {
		return "", invalid("compositeComponents.%s: the entity has no component %s", path, parts[0])
	}
	typeID := c.TypeID
	for _, sub := range parts[1:] {
		res, err := r.resolve(typeID)
		if err != nil {
			return "", err
		}
		if res == nil {
			return "", invalid("compositeComponents.%s: component type %s does not exist", path, typeID)
		}
		cc, ok := res.composites[sub]
		if !ok {
			return "", invalid("compositeComponents.%s: component type %s has no composite component type %s", path, typeID, sub)
		}
		typeID = cc.typeID
	}
	return typeID, nil
}

// setProperties applies property requests to c, checking each value
// against the property's data type. With create set every request adds or
// replaces; otherwise each follows its updateType.
func setProperties(field string, c *component, res *resolved, reqs map[string]model.PropertyRequest, create bool) error {
	if c.Properties == nil {
		c.Properties = map[string]*property{}
	}
	for _, name := range sortedKeys(reqs) {
		req := reqs[name]
		f := field + "." + name
		typeProp, inType := resolvedProp{}, false
		if res != nil {
			typeProp, inType = res.props[name]
		}
		op := req.UpdateType
		if create || op == "" {
			op = model.PropertyUpdateTypeUpdate
		}
		p := c.Properties[name]
		switch op {
		case model.PropertyUpdateTypeDelete:
			if inType {
				return invalid("%s: a property of the component type cannot be deleted; use RESET_VALUE to clear its value", f)
			}
			if p == nil {
				return invalid("%s: the component has no property %s", f, name)
			}
			delete(c.Properties, name)
			continue
		case model.PropertyUpdateTypeResetValue:
			if p == nil && !inType {
				return invalid("%s: the component has no property %s", f, name)
			}
			if p != nil {
				p.Value = nil
				if p.Definition == nil {
					delete(c.Properties, name)
				}
			}
			continue
		case model.PropertyUpdateTypeCreate:
			if p != nil || inType {
				return invalid("%s: property %s already exists", f, name)
			}
		}
		if p == nil {
			p = &property{}
		}
		var def *model.PropertyDefinitionRequest
		switch {
		case inType:
			if req.Definition != nil && req.Definition.DataType != nil && !sameType(req.Definition.DataType, typeProp.def.DataType) {
				return invalid("%s.definition: the data type differs from the component type's definition", f)
			}
			d := typeProp.def
			def = &d
		case req.Definition != nil:
			if p.Definition != nil && req.Definition.DataType == nil {
				merged := *req.Definition
				merged.DataType = p.Definition.DataType
				req.Definition = &merged
			}
			if err := checkDataType(f+".definition.dataType", req.Definition.DataType, 0); err != nil {
				return err
			}
			if err := checkValue(f+".definition.defaultValue", req.Definition.DataType, req.Definition.DefaultValue, 0); err != nil {
				return err
			}
			d := *req.Definition
			p.Definition, def = &d, &d
		case p.Definition != nil:
			def = p.Definition
		default:
			return invalid("%s: %s is not a property of the component type; give its definition", f, name)
		}
		if req.Value != nil {
			if deref(def.IsTimeSeries) {
				return invalid("%s: %s is a time-series property; write its values with BatchPutPropertyValues", f, name)
			}
			if err := checkValue(f+".value", def.DataType, req.Value, 0); err != nil {
				return err
			}
			v := *req.Value
			p.Value = &v
		}
		c.Properties[name] = p
	}
	return nil
}

// setGroups applies property-group requests to a component.
func setGroups(field string, c *component, props map[string]effectiveProp, reqs map[string]model.ComponentPropertyGroupRequest, create bool) error {
	for _, name := range sortedKeys(reqs) {
		g := reqs[name]
		f := field + "." + name
		op := g.UpdateType
		if create || op == "" {
			op = model.PropertyGroupUpdateTypeUpdate
		}
		if op == model.PropertyGroupUpdateTypeDelete {
			if _, ok := c.Groups[name]; !ok {
				return invalid("%s: the component has no property group %s", f, name)
			}
			delete(c.Groups, name)
			continue
		}
		if op == model.PropertyGroupUpdateTypeCreate {
			if _, ok := c.Groups[name]; ok {
				return invalid("%s: property group %s already exists", f, name)
			}
		}
		for _, p := range g.PropertyNames {
			if _, ok := props[p]; !ok {
				return invalid("%s.propertyNames: %s is not a property of the component", f, p)
			}
		}
		if c.Groups == nil {
			c.Groups = map[string]model.ComponentPropertyGroupRequest{}
		}
		g.UpdateType = ""
		c.Groups[name] = g
	}
	return nil
}

// checkComponent verifies a component as a whole after its changes: its
// type exists and is concrete, and its required properties have values.
func checkComponent(field string, c *component, res *resolved) error {
	if res != nil && res.abstract {
		return invalid("%s: component type %s is abstract: extend it with a data reader before using it", field, c.TypeID)
	}
	for name, p := range effective(res, c) {
		if deref(p.def.IsRequiredInEntity) && p.value == nil && p.def.DefaultValue == nil && !deref(p.def.IsTimeSeries) {
			return invalid("%s.properties.%s: the property is required in the entity and has no value", field, name)
		}
	}
	return nil
}

// buildComponent creates a component from a create request.
func buildComponent(r *resolver, field, typeID string, desc *string, props map[string]model.PropertyRequest, groups map[string]model.ComponentPropertyGroupRequest) (*component, *resolved, error) {
	c := &component{TypeID: typeID, Description: desc}
	var res *resolved
	if typeID != "" {
		var err error
		if res, err = r.resolve(typeID); err != nil {
			return nil, nil, err
		}
		if res == nil {
			return nil, nil, invalid("%s.componentTypeId: component type %s does not exist", field, typeID)
		}
	}
	if err := setProperties(field+".properties", c, res, props, true); err != nil {
		return nil, nil, err
	}
	if err := setGroups(field+".propertyGroups", c, effective(res, c), groups, true); err != nil {
		return nil, nil, err
	}
	return c, res, nil
}

// checkEntity checks rules that span components: singleton types, and
// every component's own rules.
func checkEntity(r *resolver, e *entity) error {
	count := map[string]int{}
	for _, name := range sortedKeys(e.Components) {
		c := e.Components[name]
		field := "components." + name
		if c.TypeID == "" {
			return invalid("%s.componentTypeId is required", field)
		}
		res, err := r.resolve(c.TypeID)
		if err != nil {
			return err
		}
		if res == nil {
			return invalid("%s.componentTypeId: component type %s does not exist", field, c.TypeID)
		}
		if err := checkComponent(field, c, res); err != nil {
			return err
		}
		count[c.TypeID]++
		if res.ct.IsSingleton && count[c.TypeID] > 1 {
			return invalid("%s: component type %s is a singleton: an entity can have only one component of it", field, c.TypeID)
		}
	}
	for _, path := range sortedKeys(e.Composite) {
		c := e.Composite[path]
		typeID, err := r.compositeType(e, path)
		if err != nil {
			return err
		}
		c.TypeID = typeID
		res, err := r.resolve(typeID)
		if err != nil {
			return err
		}
		if err := checkComponent("compositeComponents."+path, c, res); err != nil {
			return err
		}
	}
	return nil
}

// indexKeys lists the index entries an entity needs: its place under its
// parent, the types it uses, and its external IDs.
func indexKeys(r *resolver, v *barrier.View, e *entity) (map[string]string, error) {
	idx := v.Index(e.ID)
	keys := map[string]string{
		string(key("ch", v.Index(e.Parent), idx)): e.ID,
		string(key("nm", v.Index(e.Name), idx)):   e.ID,
	}
	visit := func(path string, c *component) error {
		keys[string(key("ctu", v.Index(c.TypeID), idx))] = e.ID
		res, err := r.resolve(c.TypeID)
		if err != nil {
			return err
		}
		for name, p := range effective(res, c) {
			if deref(p.def.IsExternalId) && p.value != nil && p.value.StringValue != nil {
				keys[string(key("ex", v.Index(*p.value.StringValue), idx))] = e.ID
			}
			value := p.value
			if value == nil {
				value = p.def.DefaultValue
			}
			for _, target := range relationshipTargets(value, 0) {
				ed := Edge{Label: name, Source: e.ID, Target: target, Component: path, ComponentType: c.TypeID}
				data, err := json.Marshal(ed)
				if err != nil {
					return err
				}
				for _, k := range edgeKeys(v, ed) {
					keys[string(k)] = string(data)
				}
			}
		}
		return nil
	}
	for _, name := range sortedKeys(e.Components) {
		if err := visit(name, e.Components[name]); err != nil {
			return nil, err
		}
	}
	for _, path := range sortedKeys(e.Composite) {
		if err := visit(path, e.Composite[path]); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// Edge is a relationship of the knowledge graph: a RELATIONSHIP value (or
// an element of a list or map of them) of a component's property, named
// after the property, from the entity that holds it to its target.
type Edge struct {
	Label         string `json:"label"`
	Source        string `json:"source"`
	Target        string `json:"target"`
	Component     string `json:"component"`     // component name or composite path
	ComponentType string `json:"componentType"` // the component's type
}

// edgeKeys are the three index entries of an edge: by source, by target and
// by label, each narrowed by label where it is not the first part, so every
// walk of the graph is a prefix scan.
//
//	rf/<idx(source)>/<idx(label)>/<idx(target)>/<idx(component)>
//	rr/<idx(target)>/<idx(label)>/<idx(source)>/<idx(component)>
//	lb/<idx(label)>/<idx(source)>/<idx(target)>/<idx(component)>
func edgeKeys(v *barrier.View, ed Edge) [][]byte {
	src, tgt, lbl, comp := v.Index(ed.Source), v.Index(ed.Target), v.Index(ed.Label), v.Index(ed.Component)
	return [][]byte{
		key("rf", src, lbl, tgt, comp),
		key("rr", tgt, lbl, src, comp),
		key("lb", lbl, src, tgt, comp),
	}
}

// relationshipTargets lists the entities a value points to: a relationship,
// or relationships nested in lists and maps.
func relationshipTargets(v *model.DataValue, depth int) []string {
	if v == nil || depth > maxTypeDepth {
		return nil
	}
	switch {
	case v.RelationshipValue != nil:
		if t := deref(v.RelationshipValue.TargetEntityId); t != "" {
			return []string{t}
		}
	case v.ListValue != nil:
		var out []string
		for i := range v.ListValue {
			out = append(out, relationshipTargets(&v.ListValue[i], depth+1)...)
		}
		return out
	case v.MapValue != nil:
		var out []string
		for _, k := range sortedKeys(v.MapValue) {
			e := v.MapValue[k]
			out = append(out, relationshipTargets(&e, depth+1)...)
		}
		return out
	}
	return nil
}

// reindex replaces the old index entries of an entity with the new ones.
func reindex(tx *barrier.Tx, v *barrier.View, old, new map[string]string, d *graphDelta) error {
	n := len(d.keys)
	for k := range old {
		if _, ok := new[k]; !ok {
			if err := tx.Delete(v, []byte(k)); err != nil {
				return err
			}
			d.keys = append(d.keys, []byte(k))
		}
	}
	for _, k := range sortedKeys(new) {
		if v0, ok := old[k]; !ok || v0 != new[k] {
			if err := tx.Set(v, []byte(k), []byte(new[k])); err != nil {
				return err
			}
			d.keys = append(d.keys, []byte(k))
		}
	}
	if len(d.keys) == n {
		return nil
	}
	return bumpGraph(tx, v, d)
}

var entityCountKey = []byte("n/entities")

func addEntityCount(tx *barrier.Tx, v *barrier.View, delta int64) error {
	n := int64(0)
	data, err := tx.Get(v, entityCountKey)
	switch {
	case err == nil:
		if n, err = strconv.ParseInt(string(data), 10, 64); err != nil {
			return fmt.Errorf("entity count: %w", err)
		}
	case !isNotFound(err):
		return err
	}
	return tx.Set(v, entityCountKey, []byte(strconv.FormatInt(n+delta, 10)))
}

func (s *Service) CreateEntity(ctx context.Context, in *model.CreateEntityInput) (*model.CreateEntityOutput, error) {
	id := deref(in.EntityId)
	if id == "" {
		id = twinvault.NewUUID()
	}
	if id == root {
		return nil, invalid("entityId: %s is reserved", root)
	}
	now := s.timestamp()
	var d graphDelta // what this change does to the graph
	err := s.update(ctx, func(tx *barrier.Tx) error {
		d = graphDelta{} // the transaction may run again
		ws, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		if old, err := loadEntity(tx, v, id); err != nil {
			return err
		} else if old != nil {
			return conflict("Entity %s already exists in workspace %s", id, ws.ID)
		}
		e := &entity{ID: id, Name: *in.EntityName, Description: in.Description, Parent: root,
			Components: map[string]*component{}, Tags: in.Tags, Created: now, Updated: now}
		if p := deref(in.ParentEntityId); p != "" && p != root {
			parent, err := loadEntity(tx, v, p)
			if err != nil {
				return err
			}
			if parent == nil {
				return invalid("parentEntityId: entity %s does not exist in workspace %s", p, ws.ID)
			}
			e.Parent = p
		}
		r := newResolver(tx, v)
		for _, name := range sortedKeys(in.Components) {
			c := in.Components[name]
			comp, _, err := buildComponent(r, "components."+name, deref(c.ComponentTypeId), c.Description, c.Properties, c.PropertyGroups)
			if err != nil {
				return err
			}
			e.Components[name] = comp
		}
		for _, path := range sortedKeys(in.CompositeComponents) {
			c := in.CompositeComponents[path]
			typeID, err := r.compositeType(e, path)
			if err != nil {
				return err
			}
			comp, _, err := buildComponent(r, "compositeComponents."+path, typeID, c.Description, c.Properties, c.PropertyGroups)
			if err != nil {
				return err
			}
			if e.Composite == nil {
				e.Composite = map[string]*component{}
			}
			e.Composite[path] = comp
		}
		if err := checkEntity(r, e); err != nil {
			return err
		}
		keys, err := indexKeys(r, v, e)
		if err != nil {
			return err
		}
		if err := reindex(tx, v, nil, keys, &d); err != nil {
			return err
		}
		if err := addEntityCount(tx, v, 1); err != nil {
			return err
		}
		return putJSON(tx, v, entityKey(v, id), e)
	})
	if err == nil {
		s.graphs.advance(&d)
	}
	if err != nil {
		return nil, err
	}
	return &model.CreateEntityOutput{
		EntityId:         model.String(id),
		Arn:              model.String(s.entityARN(in.WorkspaceId, id)),
		CreationDateTime: ts(now),
		State:            model.StateCreating,
	}, nil
}

func (s *Service) GetEntity(ctx context.Context, in *model.GetEntityInput) (*model.GetEntityOutput, error) {
	var out *model.GetEntityOutput
	err := s.view(ctx, func(tx *barrier.Tx) error {
		ws, v, e, err := s.entityIn(ctx, tx, in.WorkspaceId, in.EntityId)
		if err != nil {
			return err
		}
		kids, err := hasChildren(tx, v, e.ID)
		if err != nil {
			return err
		}
		out = &model.GetEntityOutput{
			EntityId:         model.String(e.ID),
			EntityName:       model.String(e.Name),
			Arn:              model.String(s.entityARN(ws.ID, e.ID)),
			Status:           &model.Status{State: model.StateActive},
			WorkspaceId:      model.String(ws.ID),
			Description:      e.Description,
			ParentEntityId:   model.String(e.Parent),
			HasChildEntities: model.Bool(kids),
			CreationDateTime: ts(e.Created),
			UpdateDateTime:   ts(e.Updated),
			Components:       map[string]model.ComponentResponse{},
		}
		r := newResolver(tx, v)
		names := sortedKeys(e.Components)
		out.AreAllComponentsReturned = model.Bool(len(names) <= maxComponentsReturned)
		if len(names) > maxComponentsReturned {
			names = names[:maxComponentsReturned]
		}
		for _, name := range names {
			cr, err := componentResponse(r, e, name, "")
			if err != nil {
				return err
			}
			out.Components[name] = *cr
		}
		return nil
	})
	return out, err
}

// componentResponse describes the component at path (a name, or a
// composite path) as GetEntity shows it.
func componentResponse(r *resolver, e *entity, name, path string) (*model.ComponentResponse, error) {
	c := e.Components[name]
	if path != "" {
		c = e.Composite[path]
	}
	res, err := r.resolve(c.TypeID)
	if err != nil {
		return nil, err
	}
	props := effective(res, c)
	out := &model.ComponentResponse{
		ComponentName:   model.String(name),
		Description:     c.Description,
		ComponentTypeId: model.String(c.TypeID),
		Status:          &model.Status{State: model.StateActive},
		Properties:      map[string]model.PropertyResponse{},
		PropertyGroups:  groupResponses(res, c),
	}
	pnames := sortedKeys(props)
	out.AreAllPropertiesReturned = model.Bool(len(pnames) <= maxPropertiesReturned)
	if len(pnames) > maxPropertiesReturned {
		pnames = pnames[:maxPropertiesReturned]
	}
	for _, pn := range pnames {
		out.Properties[pn] = propertyResponse(props[pn])
	}
	prefix := name + "/"
	if path != "" {
		prefix = path + "/"
	}
	var subs []string
	for p := range e.Composite {
		if strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			subs = append(subs, p)
		}
	}
	if len(subs) > 0 {
		sort.Strings(subs)
		out.AreAllCompositeComponentsReturned = model.Bool(true)
		out.CompositeComponents = map[string]model.ComponentSummary{}
		for _, p := range subs {
			out.CompositeComponents[p] = componentSummary(r, e, p)
		}
	}
	return out, nil
}

func propertyResponse(p effectiveProp) model.PropertyResponse {
	pr := model.PropertyResponse{Definition: ptr(definitionResponse(p.def, p.inherited, false))}
	value := p.value
	if value == nil {
		value = p.def.DefaultValue
	}
	var cut bool
	value, cut = truncateValue(value, maxValuesReturned)
	pr.Value = value
	if value != nil {
		pr.AreAllPropertyValuesReturned = model.Bool(!cut)
	}
	return pr
}

func groupResponses(res *resolved, c *component) map[string]model.ComponentPropertyGroupResponse {
	out := map[string]model.ComponentPropertyGroupResponse{}
	if res != nil {
		for name, g := range res.groups {
			out[name] = model.ComponentPropertyGroupResponse{GroupType: g.group.GroupType, PropertyNames: nonNil(g.group.PropertyNames), IsInherited: model.Bool(true)}
		}
	}
	for name, g := range c.Groups {
		out[name] = model.ComponentPropertyGroupResponse{GroupType: g.GroupType, PropertyNames: nonNil(g.PropertyNames), IsInherited: model.Bool(false)}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func componentSummary(r *resolver, e *entity, path string) model.ComponentSummary {
	c := e.Composite[path]
	name := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		name = path[i+1:]
	}
	res, _ := r.resolve(c.TypeID)
	return model.ComponentSummary{
		ComponentName:   model.String(name),
		ComponentTypeId: model.String(c.TypeID),
		Description:     c.Description,
		PropertyGroups:  groupResponses(res, c),
		Status:          &model.Status{State: model.StateActive},
		ComponentPath:   model.String(path),
	}
}

func (s *Service) UpdateEntity(ctx context.Context, in *model.UpdateEntityInput) (*model.UpdateEntityOutput, error) {
	now := s.timestamp()
	var d graphDelta // what this change does to the graph
	err := s.update(ctx, func(tx *barrier.Tx) error {
		d = graphDelta{} // the transaction may run again
		_, v, e, err := s.entityIn(ctx, tx, in.WorkspaceId, in.EntityId)
		if err != nil {
			return err
		}
		r := newResolver(tx, v)
		oldKeys, err := indexKeys(r, v, e)
		if err != nil {
			return err
		}
		oldSeries, err := timeSeries(r, e)
		if err != nil {
			return err
		}
		if in.EntityName != nil {
			e.Name = *in.EntityName
		}
		if in.Description != nil {
			e.Description = in.Description
		}
		if u := in.ParentEntityUpdate; u != nil {
			if err := s.moveEntity(tx, v, e, u); err != nil {
				return err
			}
		}
		for _, name := range sortedKeys(in.ComponentUpdates) {
			if err := updateComponent(r, e, name, in.ComponentUpdates[name]); err != nil {
				return err
			}
		}
		for _, path := range sortedKeys(in.CompositeComponentUpdates) {
			if err := updateComposite(r, e, path, in.CompositeComponentUpdates[path]); err != nil {
				return err
			}
		}
		if err := checkEntity(r, e); err != nil {
			return err
		}
		newKeys, err := indexKeys(r, v, e)
		if err != nil {
			return err
		}
		if err := reindex(tx, v, oldKeys, newKeys, &d); err != nil {
			return err
		}
		// History of properties and components that are gone goes too.
		newSeries, err := timeSeries(r, e)
		if err != nil {
			return err
		}
		for sp, dt := range oldSeries {
			if _, ok := newSeries[sp]; !ok {
				if err := s.ts.DeleteSeries(tx, v, seriesOf(v, e, sp[0], sp[1], dt)); err != nil {
					return err
				}
			}
		}
		e.Updated = now
		return putJSON(tx, v, entityKey(v, e.ID), e)
	})
	if err == nil {
		s.graphs.advance(&d)
	}
	if err != nil {
		return nil, err
	}
	return &model.UpdateEntityOutput{UpdateDateTime: ts(now), State: model.StateUpdating}, nil
}

// moveEntity changes an entity's parent; moving under one of its own
// descendants would cut the subtree loose, so it is refused.
func (s *Service) moveEntity(tx *barrier.Tx, v *barrier.View, e *entity, u *model.ParentEntityUpdateRequest) error {
	target := root
	if u.UpdateType == model.ParentEntityUpdateTypeUpdate {
		target = deref(u.ParentEntityId)
		if target == "" {
			return invalid("parentEntityUpdate.parentEntityId is required when updateType is UPDATE")
		}
	}
	if target == root {
		e.Parent = root
		return nil
	}
	for id, depth := target, 0; id != root; depth++ {
		if id == e.ID {
			return invalid("parentEntityUpdate: entity %s cannot move under itself or its descendant %s", e.ID, target)
		}
		if depth > 10000 {
			return invalid("parentEntityUpdate: the hierarchy above %s is too deep", target)
		}
		p, err := loadEntity(tx, v, id)
		if err != nil {
			return err
		}
		if p == nil {
			return invalid("parentEntityUpdate.parentEntityId: entity %s does not exist", target)
		}
		id = p.Parent
	}
	e.Parent = target
	return nil
}

func updateComponent(r *resolver, e *entity, name string, u model.ComponentUpdateRequest) error {
	return applyChange(r, e, "componentUpdates."+name, name, false,
		componentChange{u.UpdateType, u.ComponentTypeId, u.Description, u.PropertyUpdates, u.PropertyGroupUpdates})
}

func updateComposite(r *resolver, e *entity, path string, u model.CompositeComponentUpdateRequest) error {
	return applyChange(r, e, "compositeComponentUpdates."+path, path, true,
		componentChange{u.UpdateType, nil, u.Description, u.PropertyUpdates, u.PropertyGroupUpdates})
}

// componentChange is what a component or composite component update says.
type componentChange struct {
	op          model.ComponentUpdateType
	typeID      *string
	description *string
	props       map[string]model.PropertyRequest
	groups      map[string]model.ComponentPropertyGroupRequest
}

// applyChange creates, updates or deletes the component at key (a name,
// or a composite path); without an updateType it creates a missing
// component and updates an existing one. Deleting a component deletes the
// composite components below it.
func applyChange(r *resolver, e *entity, field, key string, composite bool, u componentChange) error {
	what := "component"
	if composite {
		what = "composite component"
		if e.Composite == nil {
			e.Composite = map[string]*component{}
		}
	}
	if e.Components == nil {
		e.Components = map[string]*component{} // an entity created without components
	}
	set := e.Components
	if composite {
		set = e.Composite
	}
	c := set[key]
	op := u.op
	if op == "" {
		op = model.ComponentUpdateTypeUpdate
		if c == nil {
			op = model.ComponentUpdateTypeCreate
		}
	}
	switch op {
	case model.ComponentUpdateTypeDelete:
		if c == nil {
			return invalid("%s: the entity has no %s %s", field, what, key)
		}
		delete(set, key)
		for p := range e.Composite {
			if strings.HasPrefix(p, key+"/") {
				delete(e.Composite, p)
			}
		}
		return nil
	case model.ComponentUpdateTypeCreate:
		if c != nil {
			return invalid("%s: %s %s already exists", field, what, key)
		}
		typeID := deref(u.typeID)
		if composite {
			var err error
			if typeID, err = r.compositeType(e, key); err != nil {
				return err
			}
		}
		comp, _, err := buildComponent(r, field, typeID, u.description, u.props, u.groups)
		if err != nil {
			return err
		}
		set[key] = comp
		return nil
	}
	if c == nil {
		return invalid("%s: the entity has no %s %s", field, what, key)
	}
	if u.typeID != nil && *u.typeID != c.TypeID {
		return invalid("%s.componentTypeId: a component's type cannot change; delete and re-create the component", field)
	}
	if u.description != nil {
		c.Description = u.description
	}
	res, err := r.resolve(c.TypeID)
	if err != nil {
		return err
	}
	if err := setProperties(field+".propertyUpdates", c, res, u.props, false); err != nil {
		return err
	}
	return setGroups(field+".propertyGroupUpdates", c, effective(res, c), u.groups, false)
}

// DeleteEntity deletes an entity, or with isRecursive its whole subtree,
// in one transaction. Without isRecursive an entity with children stays.
func (s *Service) DeleteEntity(ctx context.Context, in *model.DeleteEntityInput) (*model.DeleteEntityOutput, error) {
	var d graphDelta // what this change does to the graph
	err := s.update(ctx, func(tx *barrier.Tx) error {
		d = graphDelta{} // the transaction may run again
		_, v, e, err := s.entityIn(ctx, tx, in.WorkspaceId, in.EntityId)
		if err != nil {
			return err
		}
		r := newResolver(tx, v)
		queue := []*entity{e}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			kids, err := listIndex(tx, v, append(key("ch", v.Index(cur.ID)), '/'), 0)
			if err != nil {
				return err
			}
			if len(kids) > 0 && !deref(in.IsRecursive) {
				return invalid("Entity %s has child entities; delete them first or set isRecursive", cur.ID)
			}
			for _, id := range kids {
				child, err := loadEntity(tx, v, id)
				if err != nil {
					return err
				}
				if child != nil {
					queue = append(queue, child)
				}
			}
			keys, err := indexKeys(r, v, cur)
			if err != nil {
				return err
			}
			if err := reindex(tx, v, keys, nil, &d); err != nil {
				return err
			}
			if err := tx.Delete(v, entityKey(v, cur.ID)); err != nil {
				return err
			}
			var ent [16]byte
			copy(ent[:], entitySeriesIndex(v, cur))
			if err := s.ts.DeleteEntity(tx, v, ent); err != nil {
				return err
			}
			if err := addEntityCount(tx, v, -1); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.graphs.advance(&d)
	}
	if err != nil {
		return nil, err
	}
	return &model.DeleteEntityOutput{State: model.StateDeleting}, nil
}

func (s *Service) ListEntities(ctx context.Context, in *model.ListEntitiesInput) (*model.ListEntitiesOutput, error) {
	if len(in.Filters) > 1 {
		return nil, invalid("filters: only one filter is allowed")
	}
	var f model.ListEntitiesFilter
	if len(in.Filters) == 1 {
		f = in.Filters[0]
	}
	scope := fmt.Sprintf("ListEntities\x00%s\x00%q|%q|%q", in.WorkspaceId, deref(f.ParentEntityId), deref(f.ComponentTypeId), deref(f.ExternalId))
	p := pager{sys: s.b.System(), scope: scope}
	after, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &model.ListEntitiesOutput{EntitySummaries: []model.EntitySummary{}}
	var next []byte
	err = s.view(ctx, func(tx *barrier.Tx) error {
		ws, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		var prefix []byte
		switch {
		case f.ParentEntityId != nil:
			prefix = append(key("ch", v.Index(*f.ParentEntityId)), '/')
		case f.ComponentTypeId != nil:
			prefix = append(key("ctu", v.Index(*f.ComponentTypeId)), '/')
		case f.ExternalId != nil:
			prefix = append(key("ex", v.Index(*f.ExternalId)), '/')
		default:
			prefix = []byte("en/")
		}
		next, err = scanPage(tx, v, prefix, after, pageSize(in.MaxResults, 25), func(_, val []byte) (bool, error) {
			var (
				e   *entity
				err error
			)
			if string(prefix) == "en/" {
				e = &entity{}
				if err := decode(val, e); err != nil {
					return false, err
				}
			} else if e, err = loadEntity(tx, v, string(val)); err != nil || e == nil {
				return false, err
			}
			kids, err := hasChildren(tx, v, e.ID)
			if err != nil {
				return false, err
			}
			out.EntitySummaries = append(out.EntitySummaries, model.EntitySummary{
				EntityId:         model.String(e.ID),
				EntityName:       model.String(e.Name),
				Arn:              model.String(s.entityARN(ws.ID, e.ID)),
				ParentEntityId:   model.String(e.Parent),
				Status:           &model.Status{State: model.StateActive},
				Description:      e.Description,
				HasChildEntities: model.Bool(kids),
				CreationDateTime: ts(e.Created),
				UpdateDateTime:   ts(e.Updated),
			})
			return true, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = optString(p.encode(next))
	return out, nil
}

// memPage pages through names held in memory, ordered by blind index so
// that tokens carry no name.
func memPage(v *barrier.View, names []string, after []byte, n int) (page []string, next []byte) {
	type item struct {
		name string
		pos  string
	}
	items := make([]item, len(names))
	for i, name := range names {
		items[i] = item{name, string(v.Index(name))}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].pos < items[j].pos })
	var last string
	for _, it := range items {
		if after != nil && it.pos <= string(after) {
			continue
		}
		if len(page) == n {
			return page, []byte(last)
		}
		page, last = append(page, it.name), it.pos
	}
	return page, nil
}

func (s *Service) ListComponents(ctx context.Context, in *model.ListComponentsInput) (*model.ListComponentsOutput, error) {
	scope := fmt.Sprintf("ListComponents\x00%s\x00%s\x00%s", in.WorkspaceId, in.EntityId, deref(in.ComponentPath))
	p := pager{sys: s.b.System(), scope: scope}
	after, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &model.ListComponentsOutput{ComponentSummaries: []model.ComponentSummary{}}
	var next []byte
	err = s.view(ctx, func(tx *barrier.Tx) error {
		_, v, e, err := s.entityIn(ctx, tx, in.WorkspaceId, in.EntityId)
		if err != nil {
			return err
		}
		r := newResolver(tx, v)
		var paths []string
		if cp := deref(in.ComponentPath); cp != "" {
			if e.Components[cp] == nil && e.Composite[cp] == nil {
				return notFound("Component %s not found in entity %s", cp, e.ID)
			}
			for path := range e.Composite {
				if strings.HasPrefix(path, cp+"/") && !strings.Contains(path[len(cp)+1:], "/") {
					paths = append(paths, path)
				}
			}
		} else {
			paths = sortedKeys(e.Components)
		}
		var page []string
		page, next = memPage(v, paths, after, pageSize(in.MaxResults, 25))
		for _, path := range page {
			if c, ok := e.Components[path]; ok {
				res, err := r.resolve(c.TypeID)
				if err != nil {
					return err
				}
				out.ComponentSummaries = append(out.ComponentSummaries, model.ComponentSummary{
					ComponentName:   model.String(path),
					ComponentTypeId: model.String(c.TypeID),
					Description:     c.Description,
					PropertyGroups:  groupResponses(res, c),
					Status:          &model.Status{State: model.StateActive},
				})
				continue
			}
			out.ComponentSummaries = append(out.ComponentSummaries, componentSummary(r, e, path))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = optString(p.encode(next))
	return out, nil
}

func (s *Service) ListProperties(ctx context.Context, in *model.ListPropertiesInput) (*model.ListPropertiesOutput, error) {
	path := deref(in.ComponentPath)
	if path == "" {
		path = deref(in.ComponentName)
	}
	if path == "" {
		return nil, invalid("componentName or componentPath is required")
	}
	scope := fmt.Sprintf("ListProperties\x00%s\x00%s\x00%s", in.WorkspaceId, *in.EntityId, path)
	p := pager{sys: s.b.System(), scope: scope}
	after, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &model.ListPropertiesOutput{PropertySummaries: []model.PropertySummary{}}
	var next []byte
	err = s.view(ctx, func(tx *barrier.Tx) error {
		ws, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		e, err := loadEntity(tx, v, *in.EntityId)
		if err != nil {
			return err
		}
		if e == nil {
			return notFound("Entity %s not found in workspace %s", *in.EntityId, ws.ID)
		}
		c := e.Components[path]
		if c == nil {
			c = e.Composite[path]
		}
		if c == nil {
			return notFound("Component %s not found in entity %s", path, e.ID)
		}
		res, err := newResolver(tx, v).resolve(c.TypeID)
		if err != nil {
			return err
		}
		props := effective(res, c)
		var page []string
		page, next = memPage(v, sortedKeys(props), after, pageSize(in.MaxResults, 25))
		for _, name := range page {
			pr := propertyResponse(props[name])
			out.PropertySummaries = append(out.PropertySummaries, model.PropertySummary{
				PropertyName:                 model.String(name),
				Definition:                   pr.Definition,
				Value:                        pr.Value,
				AreAllPropertyValuesReturned: pr.AreAllPropertyValuesReturned,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = optString(p.encode(next))
	return out, nil
}

// timeSeries lists the (component path, property) pairs of an entity's
// time-series properties, with their data types.
func timeSeries(r *resolver, e *entity) (map[[2]string]*model.DataType, error) {
	out := map[[2]string]*model.DataType{}
	visit := func(path string, c *component) error {
		res, err := r.resolve(c.TypeID)
		if err != nil {
			return err
		}
		for name, p := range effective(res, c) {
			if deref(p.def.IsTimeSeries) {
				out[[2]string{path, name}] = p.def.DataType
			}
		}
		return nil
	}
	for name, c := range e.Components {
		if err := visit(name, c); err != nil {
			return nil, err
		}
	}
	for path, c := range e.Composite {
		if err := visit(path, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}
