package catalog

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/model"
)

// componentType is the stored record of a component type: what the client
// declared. Inherited parts are resolved on read, so a change to a parent
// reaches every type that extends it.
type componentType struct {
	ID                      string                                         `json:"id"`
	Name                    *string                                        `json:"name,omitempty"`
	Description             *string                                        `json:"description,omitempty"`
	IsSingleton             bool                                           `json:"isSingleton,omitempty"`
	PropertyDefinitions     map[string]model.PropertyDefinitionRequest     `json:"propertyDefinitions,omitempty"`
	ExtendsFrom             []string                                       `json:"extendsFrom,omitempty"`
	Functions               map[string]model.FunctionRequest               `json:"functions,omitempty"`
	PropertyGroups          map[string]model.PropertyGroupRequest          `json:"propertyGroups,omitempty"`
	CompositeComponentTypes map[string]model.CompositeComponentTypeRequest `json:"compositeComponentTypes,omitempty"`
	Tags                    map[string]string                              `json:"tags,omitempty"`
	Created                 time.Time                                      `json:"created"`
	Updated                 time.Time                                      `json:"updated"`
	builtin                 bool
}

// maxParents is TwinMaker's limit on extendsFrom.
const maxParents = 10

func ctKey(v *barrier.View, id string) []byte { return key("ct", v.Index(id)) }

func (s *Service) componentTypeARN(ws, id string) string {
	return s.arn("workspace/" + ws + "/component-type/" + id)
}

// loadType reads a component type: a built-in one or a stored one.
func loadType(tx *barrier.Tx, v *barrier.View, id string) (*componentType, error) {
	if ct, ok := builtinTypes[id]; ok {
		return ct, nil
	}
	return load[componentType](tx, v, ctKey(v, id))
}

// resolved is a component type with its inheritance applied.
type resolved struct {
	ct         *componentType
	props      map[string]resolvedProp
	funcs      map[string]resolvedFunc
	groups     map[string]resolvedGroup
	composites map[string]resolvedComposite
	ancestors  []string // every type it extends, transitively
	abstract   bool
}

type resolvedProp struct {
	def       model.PropertyDefinitionRequest
	inherited bool
}

type resolvedFunc struct {
	fn        model.FunctionRequest
	inherited bool
}

type resolvedGroup struct {
	group     model.PropertyGroupRequest
	inherited bool
}

type resolvedComposite struct {
	typeID    string
	inherited bool
}

// resolver resolves component types within one transaction, remembering
// what it has resolved.
type resolver struct {
	tx    *barrier.Tx
	v     *barrier.View
	cache map[string]*resolved
	// pending overrides stored records, for a type being created or
	// updated in this transaction.
	pending map[string]*componentType
	shared  *typeCache // nil: decode every read, share nothing
	gen     uint64     // with shared: the reader's catalog generation (Service.viewAt)
}

func newResolver(tx *barrier.Tx, v *barrier.View) *resolver {
	return &resolver{tx: tx, v: v, cache: map[string]*resolved{}, pending: map[string]*componentType{}}
}

// load reads a stored or built-in type, through the shared cache when the
// resolver has one.
func (r *resolver) load(id string) (*componentType, error) {
	if ct, ok := builtinTypes[id]; ok || r.shared == nil {
		if ok {
			return ct, nil
		}
		return loadType(r.tx, r.v, id)
	}
	return r.shared.records.loadAt(r.tx, r.v, ctKey(r.v, id), r.gen)
}

// resolve returns the type with inheritance applied, or nil if it does not
// exist.
func (r *resolver) resolve(id string) (*resolved, error) {
	if r.shared == nil || len(r.pending) > 0 {
		return r.resolveFrom(id, nil)
	}
	if res, ok := r.cache[id]; ok {
		return res, nil
	}
	k := r.v.Name() + "\x00" + id
	if s, ok := r.shared.getResolved(k); ok {
		if r.gen != 0 && s.gen == r.gen {
			r.cache[id] = s.res
			return s.res, nil
		}
		if r.current(s.chain) {
			if r.gen != 0 {
				s.gen = r.gen
				r.shared.putResolved(k, s)
			}
			r.cache[id] = s.res
			return s.res, nil
		}
	}
	res, err := r.resolveFrom(id, nil)
	if err != nil || res == nil {
		return res, err
	}
	chain := []chainLink{{id, res.ct}}
	for _, a := range res.ancestors {
		chain = append(chain, chainLink{a, r.cache[a].ct})
	}
	r.shared.putResolved(k, sharedResolved{res, chain, r.gen})
	return res, nil
}

// current reports whether every type of a shared resolution still loads
// as the same record.
func (r *resolver) current(chain []chainLink) bool {
	for _, l := range chain {
		ct, err := r.load(l.id)
		if err != nil || ct != l.ct {
			return false
		}
	}
	return true
}

func (r *resolver) resolveFrom(id string, path []string) (*resolved, error) {
	if res, ok := r.cache[id]; ok {
		return res, nil
	}
	if slices.Contains(path, id) {
		return nil, invalid("extendsFrom forms a cycle: %s -> %s", strings.Join(path, " -> "), id)
	}
	if len(path) > 32 {
		return nil, invalid("extendsFrom chain is too deep at %s", id)
	}
	ct := r.pending[id]
	if ct == nil {
		var err error
		if ct, err = r.load(id); err != nil || ct == nil {
			return nil, err
		}
	}
	res := &resolved{ct: ct, props: map[string]resolvedProp{}, funcs: map[string]resolvedFunc{},
		groups: map[string]resolvedGroup{}, composites: map[string]resolvedComposite{}}
	for _, pid := range ct.ExtendsFrom {
		parent, err := r.resolveFrom(pid, append(path, id))
		if err != nil {
			return nil, err
		}
		if parent == nil {
			return nil, invalid("component type %s extends %s, which does not exist", id, pid)
		}
		res.ancestors = append(res.ancestors, pid)
		for _, a := range parent.ancestors {
			if !slices.Contains(res.ancestors, a) {
				res.ancestors = append(res.ancestors, a)
			}
		}
		for name, p := range parent.props {
			if have, ok := res.props[name]; ok && !sameType(have.def.DataType, p.def.DataType) {
				return nil, invalid("property %s is inherited with different data types", name)
			}
			res.props[name] = resolvedProp{def: p.def, inherited: true}
		}
		for name, f := range parent.funcs {
			res.funcs[name] = resolvedFunc{fn: f.fn, inherited: true}
		}
		for name, g := range parent.groups {
			res.groups[name] = resolvedGroup{group: g.group, inherited: true}
		}
		for name, c := range parent.composites {
			res.composites[name] = resolvedComposite{typeID: c.typeID, inherited: true}
		}
	}
	for name, def := range ct.PropertyDefinitions {
		p, inherited := res.props[name]
		if inherited {
			// An override refines an inherited definition; it keeps the
			// parent's data type when it names none.
			if def.DataType == nil {
				def.DataType = p.def.DataType
			} else if !sameType(def.DataType, p.def.DataType) {
				return nil, invalid("property %s of %s changes the data type it inherits", name, id)
			}
		}
		res.props[name] = resolvedProp{def: def, inherited: inherited}
	}
	for name, f := range ct.Functions {
		res.funcs[name] = resolvedFunc{fn: f}
	}
	for name, g := range ct.PropertyGroups {
		res.groups[name] = resolvedGroup{group: g}
	}
	for name, c := range ct.CompositeComponentTypes {
		res.composites[name] = resolvedComposite{typeID: deref(c.ComponentTypeId)}
	}
	res.abstract = isAbstract(res)
	r.cache[id] = res
	return res, nil
}

// isAbstract: a type whose properties are stored externally but that has no
// data reader to fetch them can only be extended, never used by an entity.
func isAbstract(r *resolved) bool {
	external := false
	for _, p := range r.props {
		if deref(p.def.IsStoredExternally) {
			external = true
			break
		}
	}
	if !external {
		return false
	}
	for name := range r.funcs {
		if strings.HasPrefix(name, "dataReader") {
			return false
		}
	}
	return true
}

// typeFields is what Create and UpdateComponentType both carry.
type typeFields struct {
	IsSingleton             *bool
	Description             *string
	PropertyDefinitions     map[string]model.PropertyDefinitionRequest
	ExtendsFrom             []string
	Functions               map[string]model.FunctionRequest
	PropertyGroups          map[string]model.PropertyGroupRequest
	ComponentTypeName       *string
	CompositeComponentTypes map[string]model.CompositeComponentTypeRequest
}

func (f typeFields) apply(ct *componentType) {
	ct.IsSingleton = deref(f.IsSingleton)
	ct.Description = f.Description
	ct.PropertyDefinitions = f.PropertyDefinitions
	ct.ExtendsFrom = f.ExtendsFrom
	ct.Functions = f.Functions
	ct.PropertyGroups = f.PropertyGroups
	ct.Name = f.ComponentTypeName
	ct.CompositeComponentTypes = f.CompositeComponentTypes
}

// checkType validates a new or changed type against the rest of the
// workspace: its parents exist and form no cycle, its definitions are
// sound, and functions and groups name properties it has.
func checkType(r *resolver, ct *componentType) (*resolved, error) {
	if len(ct.ExtendsFrom) > maxParents {
		return nil, invalid("extendsFrom names %d component types; at most %d are allowed", len(ct.ExtendsFrom), maxParents)
	}
	seen := map[string]bool{}
	for _, p := range ct.ExtendsFrom {
		if p == ct.ID {
			return nil, invalid("component type %s cannot extend itself", ct.ID)
		}
		if seen[p] {
			return nil, invalid("extendsFrom names %s twice", p)
		}
		seen[p] = true
	}
	for _, name := range sortedKeys(ct.PropertyDefinitions) {
		def := ct.PropertyDefinitions[name]
		field := "propertyDefinitions." + name
		if def.DataType != nil {
			if err := checkDataType(field+".dataType", def.DataType, 0); err != nil {
				return nil, err
			}
		}
	}
	r.pending[ct.ID] = ct
	delete(r.cache, ct.ID)
	res, err := r.resolve(ct.ID)
	if err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(res.props) {
		p := res.props[name]
		field := "propertyDefinitions." + name
		if p.def.DataType == nil {
			return nil, invalid("%s: dataType is required", field)
		}
		if err := checkValue(field+".defaultValue", p.def.DataType, p.def.DefaultValue, 0); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(ct.Functions) {
		f := ct.Functions[name]
		if f.ImplementedBy != nil && f.ImplementedBy.Lambda == nil && f.ImplementedBy.IsNative == nil {
			return nil, invalid("functions.%s.implementedBy: name a lambda or set isNative", name)
		}
		for _, p := range f.RequiredProperties {
			if _, ok := res.props[p]; !ok {
				return nil, invalid("functions.%s.requiredProperties: %s is not a property of the component type", name, p)
			}
		}
	}
	for _, name := range sortedKeys(ct.PropertyGroups) {
		for _, p := range ct.PropertyGroups[name].PropertyNames {
			if _, ok := res.props[p]; !ok {
				return nil, invalid("propertyGroups.%s.propertyNames: %s is not a property of the component type", name, p)
			}
		}
	}
	for _, name := range sortedKeys(ct.CompositeComponentTypes) {
		id := deref(ct.CompositeComponentTypes[name].ComponentTypeId)
		if id == "" {
			return nil, invalid("compositeComponentTypes.%s.componentTypeId is required", name)
		}
		if id == ct.ID {
			return nil, invalid("compositeComponentTypes.%s: a component type cannot contain itself", name)
		}
		sub, err := r.resolve(id)
		if err != nil {
			return nil, err
		}
		if sub == nil {
			return nil, invalid("compositeComponentTypes.%s: component type %s does not exist", name, id)
		}
	}
	return res, nil
}

func (s *Service) CreateComponentType(ctx context.Context, in *model.CreateComponentTypeInput) (*model.CreateComponentTypeOutput, error) {
	id := in.ComponentTypeId
	if isReserved(id) {
		return nil, invalid("componentTypeId: the namespace %s is reserved for built-in component types", reservedPrefix)
	}
	now := s.timestamp()
	err := s.update(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		if old, err := loadType(tx, v, id); err != nil {
			return err
		} else if old != nil {
			return conflict("Component type %s already exists in workspace %s", id, in.WorkspaceId)
		}
		ct := &componentType{ID: id, Tags: in.Tags, Created: now, Updated: now}
		typeFields{in.IsSingleton, in.Description, in.PropertyDefinitions, in.ExtendsFrom, in.Functions,
			in.PropertyGroups, in.ComponentTypeName, in.CompositeComponentTypes}.apply(ct)
		if _, err := checkType(newResolver(tx, v), ct); err != nil {
			return err
		}
		if err := putJSON(tx, v, ctKey(v, id), ct); err != nil {
			return err
		}
		return linkParents(tx, v, id, nil, ct.ExtendsFrom)
	})
	if err != nil {
		return nil, err
	}
	return &model.CreateComponentTypeOutput{
		Arn:              model.String(s.componentTypeARN(in.WorkspaceId, id)),
		CreationDateTime: ts(now),
		State:            model.StateCreating,
	}, nil
}

// linkParents keeps the ctx/<parent>/<child> index in step with a type's
// extendsFrom, so a parent knows it cannot be deleted.
func linkParents(tx *barrier.Tx, v *barrier.View, id string, old, new []string) error {
	for _, p := range old {
		if !slices.Contains(new, p) {
			if err := tx.Delete(v, key("ctx", v.Index(p), v.Index(id))); err != nil {
				return err
			}
		}
	}
	for _, p := range new {
		if isBuiltin(p) {
			continue
		}
		if err := tx.Set(v, key("ctx", v.Index(p), v.Index(id)), []byte(id)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) GetComponentType(ctx context.Context, in *model.GetComponentTypeInput) (*model.GetComponentTypeOutput, error) {
	var out *model.GetComponentTypeOutput
	err := s.view(ctx, func(tx *barrier.Tx) error {
		ws, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		res, err := newResolver(tx, v).resolve(in.ComponentTypeId)
		if err != nil {
			return err
		}
		if res == nil {
			return notFound("Component type %s not found in workspace %s", in.ComponentTypeId, ws.ID)
		}
		out = s.typeResponse(ws, res)
		return nil
	})
	return out, err
}

func (s *Service) typeResponse(ws *workspace, res *resolved) *model.GetComponentTypeOutput {
	ct := res.ct
	created, updated := ct.Created, ct.Updated
	if ct.builtin {
		created, updated = ws.Created, ws.Created
	}
	out := &model.GetComponentTypeOutput{
		WorkspaceId:         model.String(ws.ID),
		ComponentTypeId:     model.String(ct.ID),
		Arn:                 model.String(s.componentTypeARN(ws.ID, ct.ID)),
		Description:         ct.Description,
		ComponentTypeName:   ct.Name,
		IsSingleton:         model.Bool(ct.IsSingleton),
		IsAbstract:          model.Bool(res.abstract),
		IsSchemaInitialized: model.Bool(false),
		ExtendsFrom:         ct.ExtendsFrom,
		CreationDateTime:    ts(created),
		UpdateDateTime:      ts(updated),
		Status:              &model.Status{State: model.StateActive},
		PropertyDefinitions: map[string]model.PropertyDefinitionResponse{},
	}
	for name, p := range res.props {
		out.PropertyDefinitions[name] = definitionResponse(p.def, p.inherited, false)
	}
	if len(res.funcs) > 0 {
		out.Functions = map[string]model.FunctionResponse{}
		for name, f := range res.funcs {
			out.Functions[name] = model.FunctionResponse{
				RequiredProperties: f.fn.RequiredProperties,
				Scope:              f.fn.Scope,
				ImplementedBy:      f.fn.ImplementedBy,
				IsInherited:        model.Bool(f.inherited),
			}
		}
	}
	if len(res.groups) > 0 {
		out.PropertyGroups = map[string]model.PropertyGroupResponse{}
		for name, g := range res.groups {
			out.PropertyGroups[name] = model.PropertyGroupResponse{
				GroupType:     g.group.GroupType,
				PropertyNames: nonNil(g.group.PropertyNames),
				IsInherited:   model.Bool(g.inherited),
			}
		}
	}
	if len(res.composites) > 0 {
		out.CompositeComponentTypes = map[string]model.CompositeComponentTypeResponse{}
		for name, c := range res.composites {
			out.CompositeComponentTypes[name] = model.CompositeComponentTypeResponse{
				ComponentTypeId: model.String(c.typeID),
				IsInherited:     model.Bool(c.inherited),
			}
		}
	}
	return out
}

// definitionResponse fills every boolean the model requires in the output.
func definitionResponse(def model.PropertyDefinitionRequest, inherited, imported bool) model.PropertyDefinitionResponse {
	return model.PropertyDefinitionResponse{
		DataType:           def.DataType,
		IsTimeSeries:       model.Bool(deref(def.IsTimeSeries)),
		IsRequiredInEntity: model.Bool(deref(def.IsRequiredInEntity)),
		IsExternalId:       model.Bool(deref(def.IsExternalId)),
		IsStoredExternally: model.Bool(deref(def.IsStoredExternally)),
		IsImported:         model.Bool(imported),
		IsFinal:            model.Bool(false),
		IsInherited:        model.Bool(inherited),
		DefaultValue:       def.DefaultValue,
		Configuration:      def.Configuration,
		DisplayName:        def.DisplayName,
	}
}

func (s *Service) UpdateComponentType(ctx context.Context, in *model.UpdateComponentTypeInput) (*model.UpdateComponentTypeOutput, error) {
	id := in.ComponentTypeId
	if isBuiltin(id) {
		return nil, invalid("component type %s is built in and cannot be updated", id)
	}
	err := s.update(ctx, func(tx *barrier.Tx) error {
		_, v, ct, err := s.typeIn(ctx, tx, in.WorkspaceId, id)
		if err != nil {
			return err
		}
		oldParents := ct.ExtendsFrom
		typeFields{in.IsSingleton, in.Description, in.PropertyDefinitions, in.ExtendsFrom, in.Functions,
			in.PropertyGroups, in.ComponentTypeName, in.CompositeComponentTypes}.apply(ct)
		ct.Updated = s.timestamp()
		r := newResolver(tx, v)
		if _, err := checkType(r, ct); err != nil {
			return err
		}
		// Types that extend this one must still resolve with the change.
		if err := checkDescendants(tx, v, r, id, 0); err != nil {
			return err
		}
		if err := putJSON(tx, v, ctKey(v, id), ct); err != nil {
			return err
		}
		return linkParents(tx, v, id, oldParents, ct.ExtendsFrom)
	})
	if err != nil {
		return nil, err
	}
	return &model.UpdateComponentTypeOutput{
		WorkspaceId:     model.String(in.WorkspaceId),
		ComponentTypeId: model.String(in.ComponentTypeId),
		Arn:             model.String(s.componentTypeARN(in.WorkspaceId, id)),
		State:           model.StateUpdating,
	}, nil
}

func checkDescendants(tx *barrier.Tx, v *barrier.View, r *resolver, id string, depth int) error {
	if depth > 32 {
		return invalid("extendsFrom chain below %s is too deep", id)
	}
	children, err := listIndex(tx, v, append(key("ctx", v.Index(id)), '/'), 0)
	if err != nil {
		return err
	}
	for _, child := range children {
		delete(r.cache, child)
		if _, err := r.resolve(child); err != nil {
			return invalid("the change breaks component type %s, which extends %s: %s", child, id, errMessage(err))
		}
		if err := checkDescendants(tx, v, r, child, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// DeleteComponentType refuses while an entity uses the type or another
// type extends it, so no entity is left with a dangling type.
func (s *Service) DeleteComponentType(ctx context.Context, in *model.DeleteComponentTypeInput) (*model.DeleteComponentTypeOutput, error) {
	id := in.ComponentTypeId
	if isBuiltin(id) {
		return nil, invalid("component type %s is built in and cannot be deleted", id)
	}
	err := s.update(ctx, func(tx *barrier.Tx) error {
		_, v, ct, err := s.typeIn(ctx, tx, in.WorkspaceId, id)
		if err != nil {
			return err
		}
		users, err := listIndex(tx, v, append(key("ctu", v.Index(id)), '/'), 3)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return invalid("Component type %s is in use by entities (%s); remove those components first", id, strings.Join(users, ", "))
		}
		children, err := listIndex(tx, v, append(key("ctx", v.Index(id)), '/'), 3)
		if err != nil {
			return err
		}
		if len(children) > 0 {
			return invalid("Component type %s is extended by %s; delete or change those first", id, strings.Join(children, ", "))
		}
		for _, p := range ct.ExtendsFrom {
			if err := tx.Delete(v, key("ctx", v.Index(p), v.Index(id))); err != nil {
				return err
			}
		}
		return tx.Delete(v, ctKey(v, id))
	})
	if err != nil {
		return nil, err
	}
	return &model.DeleteComponentTypeOutput{State: model.StateDeleting}, nil
}

func (s *Service) ListComponentTypes(ctx context.Context, in *model.ListComponentTypesInput) (*model.ListComponentTypesOutput, error) {
	if len(in.Filters) > 1 {
		return nil, invalid("filters: at most one filter is allowed")
	}
	scope := "ListComponentTypes\x00" + in.WorkspaceId + "\x00" + filterScope(in.Filters)
	p := pager{sys: s.b.System(), scope: scope}
	after, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 25)
	out := &model.ListComponentTypesOutput{WorkspaceId: model.String(in.WorkspaceId), ComponentTypeSummaries: []model.ComponentTypeSummary{}, MaxResults: model.Int32(int32(n))}
	err = s.view(ctx, func(tx *barrier.Tx) error {
		ws, v, err := s.loadWorkspace(ctx, tx, in.WorkspaceId)
		if err != nil {
			return err
		}
		ids, err := allTypeIDs(tx, v)
		if err != nil {
			return err
		}
		// Order by blind index: stable, and a token holds no type name.
		sort.Slice(ids, func(i, j int) bool { return string(v.Index(ids[i])) < string(v.Index(ids[j])) })
		r := newResolver(tx, v)
		for _, id := range ids {
			pos := v.Index(id)
			if after != nil && string(pos) <= string(after) {
				continue
			}
			res, err := r.resolve(id)
			if err != nil {
				return err
			}
			if res == nil || !typeMatches(res, in.Filters) {
				continue
			}
			if len(out.ComponentTypeSummaries) == n {
				out.NextToken = optString(p.encode(after))
				return nil
			}
			ct := res.ct
			created, updated := ct.Created, ct.Updated
			if ct.builtin {
				created, updated = ws.Created, ws.Created
			}
			out.ComponentTypeSummaries = append(out.ComponentTypeSummaries, model.ComponentTypeSummary{
				Arn:               model.String(s.componentTypeARN(ws.ID, ct.ID)),
				ComponentTypeId:   model.String(ct.ID),
				CreationDateTime:  ts(created),
				UpdateDateTime:    ts(updated),
				Description:       ct.Description,
				Status:            &model.Status{State: model.StateActive},
				ComponentTypeName: ct.Name,
			})
			after = pos
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func filterScope(fs []model.ListComponentTypesFilter) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%q|%q|%v;", deref(f.ExtendsFrom), deref(f.Namespace), f.IsAbstract)
	}
	return b.String()
}

func typeMatches(res *resolved, fs []model.ListComponentTypesFilter) bool {
	for _, f := range fs {
		switch {
		case f.ExtendsFrom != nil:
			if !slices.Contains(res.ancestors, *f.ExtendsFrom) {
				return false
			}
		case f.Namespace != nil:
			if namespace(res.ct.ID) != *f.Namespace {
				return false
			}
		case f.IsAbstract != nil:
			if res.abstract != *f.IsAbstract {
				return false
			}
		}
	}
	return true
}

// namespace is the part of a component type ID before its last dot.
func namespace(id string) string {
	if i := strings.LastIndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return ""
}

func allTypeIDs(tx *barrier.Tx, v *barrier.View) ([]string, error) {
	ids := make([]string, 0, len(builtinTypes))
	for id := range builtinTypes {
		ids = append(ids, id)
	}
	err := tx.Scan(v, prefixRange("ct/"), func(_, val []byte) error {
		var ct componentType
		if err := decode(val, &ct); err != nil {
			return err
		}
		ids = append(ids, ct.ID)
		return nil
	})
	return ids, err
}
