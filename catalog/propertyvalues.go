package catalog

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/tsdb"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// The data plane: BatchPutPropertyValues, GetPropertyValue and
// GetPropertyValueHistory. TwinMaker hands time series to Lambda
// connectors; here the series of every property marked isTimeSeries live in
// the built-in store (tsdb), whatever connector its component type names.

// seriesRef is one property of one entity's component, resolved.
type seriesRef struct {
	e      *entity
	path   string // component name, or composite path
	prop   string
	def    model.PropertyDefinitionRequest
	value  *model.DataValue // the entity's own value (non-time-series)
	series tsdb.Series
}

// seriesOf names the series of a property. The entity's creation time is
// part of it, so an entity deleted and created again starts with no history
// even if a write raced the delete; so is the kind of value, so a property
// whose data type changes starts a new series instead of mixing kinds.
func seriesOf(v *barrier.View, e *entity, path, prop string, dt *model.DataType) tsdb.Series {
	var s tsdb.Series
	copy(s.Entity[:], entitySeriesIndex(v, e))
	copy(s.Prop[:], v.Index(fmt.Sprintf("series\x00%s\x00%s\x00%d", path, prop, kindOf(dt))))
	return s
}

func entitySeriesIndex(v *barrier.View, e *entity) []byte {
	return v.Index("series\x00" + e.ID + "\x00" + e.Created.Format(time.RFC3339Nano))
}

// reference is the entityPropertyReference TwinMaker echoes for a series.
func (r *seriesRef) reference() *model.EntityPropertyReference {
	ref := &model.EntityPropertyReference{EntityId: model.String(r.e.ID), PropertyName: model.String(r.prop)}
	if i := strings.IndexByte(r.path, '/'); i >= 0 {
		ref.ComponentName = model.String(r.path[:i])
		ref.ComponentPath = model.String(r.path)
	} else {
		ref.ComponentName = model.String(r.path)
	}
	return ref
}

// refError is a per-entry failure of BatchPutPropertyValues.
type refError struct{ code, msg string }

func (e *refError) Error() string { return e.msg }

func refNotFound(format string, args ...any) *refError {
	return &refError{twinvault.ResourceNotFoundException, fmt.Sprintf(format, args...)}
}

func refInvalid(format string, args ...any) *refError {
	return &refError{twinvault.ValidationException, fmt.Sprintf(format, args...)}
}

// propResolver resolves property references within one read-only
// transaction, remembering what it has read and worked out.
type propResolver struct {
	tx       *barrier.Tx
	v        *barrier.View
	r        *resolver
	cache    *recordCache[entity]
	gen      uint64
	refs     *refCache
	entities map[string]*entity
	effect   map[*component]map[string]effectiveProp
}

// newPropResolver returns a resolver for a reader at catalog generation
// gen (Service.viewAt).
func (s *Service) newPropResolver(tx *barrier.Tx, v *barrier.View, gen uint64) *propResolver {
	r := newResolver(tx, v)
	r.shared, r.gen = &s.types, gen
	return &propResolver{tx: tx, v: v, r: r, cache: &s.entities, gen: gen, refs: &s.refs, entities: map[string]*entity{},
		effect: map[*component]map[string]effectiveProp{}}
}

func (p *propResolver) entity(id string) (*entity, error) {
	if e, ok := p.entities[id]; ok {
		return e, nil
	}
	e, err := p.cache.loadAt(p.tx, p.v, entityKey(p.v, id), p.gen)
	if err != nil {
		return nil, err
	}
	p.entities[id] = e
	return e, nil
}

// seriesOf is seriesOf with the blind indexes remembered.
func (p *propResolver) seriesOf(e *entity, path, prop string, dt *model.DataType) tsdb.Series {
	return p.r.shared.seriesOf(p.v, e, path, prop, dt)
}

// resolve finds the property a reference names: by entity ID, or by the
// value of an isExternalId property; in the named component, or in the one
// component that has the property.
func (p *propResolver) resolve(ref *model.EntityPropertyReference) (*seriesRef, error) {
	if ref == nil || ref.PropertyName == nil {
		return nil, refInvalid("entityPropertyReference.propertyName is required")
	}
	prop := *ref.PropertyName
	path := deref(ref.ComponentPath)
	if path == "" {
		path = deref(ref.ComponentName)
	}
	k, cacheable := p.refKey(ref, path, prop)
	if cacheable {
		if r, ok := p.refs.Get(p.gen, k); ok {
			return r, nil
		}
	}
	r, err := p.resolveAt(ref, path, prop)
	if err == nil && cacheable {
		// The names share the request's body: the cache keeps copies.
		own := *r
		own.path, own.prop = strings.Clone(r.path), strings.Clone(r.prop)
		p.refs.Put(p.gen, k.clone(), &own)
	}
	return r, err
}

// refKey is what a reference resolves from, for the reference cache; ok
// is false when the cache may not serve it: for a reader that saw a
// catalog write end (generation 0), or a reference by several external
// IDs.
func (p *propResolver) refKey(ref *model.EntityPropertyReference, path, prop string) (k refKey, ok bool) {
	k = refKey{view: p.v.Name(), path: path, prop: prop}
	switch {
	case p.gen == 0:
		return k, false
	case ref.EntityId != nil:
		k.entity = *ref.EntityId
	case len(ref.ExternalIdProperty) == 1:
		for name, value := range ref.ExternalIdProperty {
			k.byExternal, k.entity, k.external = true, name, value
		}
	default:
		return k, false
	}
	return k, true
}

// resolveAt is resolve for a reference that has a property name, and the
// component path it names (or "").
func (p *propResolver) resolveAt(ref *model.EntityPropertyReference, path, prop string) (*seriesRef, error) {
	var e *entity
	var err error
	switch {
	case ref.EntityId != nil:
		if e, err = p.entity(*ref.EntityId); err != nil {
			return nil, err
		}
		if e == nil {
			return nil, refNotFound("entity %s not found", *ref.EntityId)
		}
	case len(ref.ExternalIdProperty) > 0:
		if e, path, err = p.byExternalID(ref.ExternalIdProperty, path); err != nil {
			return nil, err
		}
	default:
		return nil, refInvalid("entityPropertyReference needs entityId or externalIdProperty")
	}
	if path == "" {
		for _, name := range sortedKeys(e.Components) {
			props, err := p.props(e, name)
			if err != nil {
				return nil, err
			}
			if _, ok := props[prop]; ok {
				if path != "" {
					return nil, refInvalid("property %s is in several components of entity %s; name the component", prop, e.ID)
				}
				path = name
			}
		}
		if path == "" {
			return nil, refNotFound("property %s not found in entity %s", prop, e.ID)
		}
	}
	props, err := p.props(e, path)
	if err != nil {
		return nil, err
	}
	if props == nil {
		return nil, refNotFound("component %s not found in entity %s", path, e.ID)
	}
	ep, ok := props[prop]
	if !ok {
		return nil, refNotFound("property %s not found in component %s of entity %s", prop, path, e.ID)
	}
	return &seriesRef{e: e, path: path, prop: prop, def: ep.def, value: ep.value, series: p.seriesOf(e, path, prop, ep.def.DataType)}, nil
}

// props returns the effective properties of the component at path, or nil
// when the entity has no such component.
func (p *propResolver) props(e *entity, path string) (map[string]effectiveProp, error) {
	c := e.Components[path]
	if c == nil {
		c = e.Composite[path]
	}
	if c == nil {
		return nil, nil
	}
	if m, ok := p.effect[c]; ok {
		return m, nil
	}
	res, err := p.r.resolve(c.TypeID)
	if err != nil {
		return nil, err
	}
	m := p.r.shared.effectiveOf(res, c)
	p.effect[c] = m
	return m, nil
}

// byExternalID finds the one entity whose isExternalId property has the
// given value.
func (p *propResolver) byExternalID(ext map[string]string, path string) (*entity, string, error) {
	name := sortedKeys(ext)[0]
	value := ext[name]
	ids, err := listIndex(p.tx, p.v, append(key("ex", p.v.Index(value)), '/'), 0)
	if err != nil {
		return nil, "", err
	}
	var found *entity
	foundPath := ""
	for _, id := range ids {
		e, err := p.entity(id)
		if err != nil {
			return nil, "", err
		}
		if e == nil {
			continue
		}
		for _, cp := range append(sortedKeys(e.Components), sortedKeys(e.Composite)...) {
			if path != "" && cp != path {
				continue
			}
			props, err := p.props(e, cp)
			if err != nil {
				return nil, "", err
			}
			ep, ok := props[name]
			if !ok || !deref(ep.def.IsExternalId) || ep.value == nil || deref(ep.value.StringValue) != value {
				continue
			}
			if found != nil && found != e {
				return nil, "", refInvalid("external ID %s=%s names more than one entity", name, value)
			}
			found, foundPath = e, cp
		}
	}
	if found == nil {
		return nil, "", refNotFound("no entity has external ID %s=%s", name, value)
	}
	if path == "" {
		path = foundPath
	}
	return found, path, nil
}

// kindOf is the chunk encoding of a data type.
func kindOf(dt *model.DataType) chunkenc.Kind {
	switch dt.Type {
	case model.TypeDouble:
		return chunkenc.KindDouble
	case model.TypeInteger, model.TypeLong:
		return chunkenc.KindInt
	case model.TypeBoolean:
		return chunkenc.KindBool
	case model.TypeString:
		return chunkenc.KindString
	default: // LIST, MAP, RELATIONSHIP: the value's JSON
		return chunkenc.KindBytes
	}
}

// point is one value to write, in request order.
type point struct {
	t     int64
	value *model.DataValue
}

// newChunk returns an empty chunk of kind with room for n points.
func newChunk(kind chunkenc.Kind, n int) *chunkenc.Chunk {
	c := &chunkenc.Chunk{Kind: kind, Times: make([]int64, 0, n)}
	switch kind {
	case chunkenc.KindDouble:
		c.Doubles = make([]float64, 0, n)
	case chunkenc.KindInt:
		c.Ints = make([]int64, 0, n)
	case chunkenc.KindBool:
		c.Bools = make([]bool, 0, n)
	default:
		c.Strings = make([]string, 0, n)
	}
	return c
}

// appendPoint adds a checked value to a chunk of its kind.
func appendPoint(c *chunkenc.Chunk, t int64, v *model.DataValue) error {
	c.Times = append(c.Times, t)
	switch c.Kind {
	case chunkenc.KindDouble:
		c.Doubles = append(c.Doubles, float64(*v.DoubleValue))
	case chunkenc.KindInt:
		if v.IntegerValue != nil {
			c.Ints = append(c.Ints, int64(*v.IntegerValue))
		} else {
			c.Ints = append(c.Ints, *v.LongValue)
		}
	case chunkenc.KindBool:
		c.Bools = append(c.Bools, *v.BooleanValue)
	case chunkenc.KindString:
		c.Strings = append(c.Strings, *v.StringValue)
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		c.Strings = append(c.Strings, string(data))
	}
	return nil
}

// valueAt turns point i of c back into a DataValue of type dt.
func valueAt(c *chunkenc.Chunk, i int, dt *model.DataType) (*model.DataValue, error) {
	switch c.Kind {
	case chunkenc.KindDouble:
		return &model.DataValue{DoubleValue: model.NewDouble(c.Doubles[i])}, nil
	case chunkenc.KindInt:
		if dt.Type == model.TypeInteger && c.Ints[i] >= math.MinInt32 && c.Ints[i] <= math.MaxInt32 {
			return &model.DataValue{IntegerValue: model.Int32(int32(c.Ints[i]))}, nil
		}
		return &model.DataValue{LongValue: model.Int64(c.Ints[i])}, nil
	case chunkenc.KindBool:
		return &model.DataValue{BooleanValue: model.Bool(c.Bools[i])}, nil
	case chunkenc.KindString:
		return &model.DataValue{StringValue: model.String(c.Strings[i])}, nil
	default:
		var v model.DataValue
		if err := json.Unmarshal([]byte(c.Strings[i]), &v); err != nil {
			return nil, fmt.Errorf("decode stored value: %w", err)
		}
		return &v, nil
	}
}

// parseTime reads a point's time: the ISO-8601 time, or the deprecated
// epoch timestamp. The store keeps Unix nanoseconds.
func parseTime(field string, iso *string, epoch *model.Timestamp) (int64, error) {
	var t time.Time
	switch {
	case iso != nil:
		if n, ok := utcNano(*iso); ok {
			return n, nil
		}
		var err error
		if t, err = time.Parse(time.RFC3339Nano, *iso); err != nil {
			return 0, invalid("%s: time must be ISO-8601 with a zone, such as 2023-01-02T15:04:05.123Z", field)
		}
	case epoch != nil:
		t = epoch.Time
	default:
		return 0, invalid("%s: time is required", field)
	}
	if t.Year() < 1678 || t.Year() > 2261 {
		return 0, invalid("%s: time is outside the years 1678 to 2261", field)
	}
	return t.UnixNano(), nil
}

func formatTime(t int64) *string {
	s := time.Unix(0, t).UTC().Format(time.RFC3339Nano)
	return &s
}

// BatchPutPropertyValues writes time-series values. Each entry succeeds or
// fails whole; failed entries come back in errorEntries and never stop the
// others, which are all written in one durable batch. Properties are
// resolved on a snapshot, so writers never queue behind each other.
func (s *Service) BatchPutPropertyValues(ctx context.Context, in *model.BatchPutPropertyValuesInput) (*model.BatchPutPropertyValuesOutput, error) {
	out := &model.BatchPutPropertyValuesOutput{ErrorEntries: []model.BatchPutPropertyErrorEntry{}}
	var view *barrier.View
	var items []tsdb.Item
	err := s.viewAt(ctx, func(tx *barrier.Tx, gen uint64, ts tsdb.Stamp) error {
		v, err := s.workspaceView(tx, in.WorkspaceId, gen)
		if err != nil {
			return err
		}
		view = v
		pr := s.newPropResolver(tx, v, gen)
		type batch struct {
			ref    *seriesRef
			points []point
		}
		var order []tsdb.Series
		batches := map[tsdb.Series]*batch{}
		for i := range in.Entries {
			entry := &in.Entries[i]
			ref, pts, err := s.checkEntry(pr, i, entry)
			if err != nil {
				re, ok := err.(*refError)
				if !ok {
					var te *twinvault.Error
					if !asError(err, &te) {
						return err
					}
					re = &refError{te.Code, te.Message}
				}
				out.ErrorEntries = append(out.ErrorEntries, model.BatchPutPropertyErrorEntry{Errors: []model.BatchPutPropertyError{{
					ErrorCode: model.String(re.code), ErrorMessage: model.String(re.msg), Entry: entry,
				}}})
				continue
			}
			b := batches[ref.series]
			if b == nil {
				b = &batch{ref: ref}
				batches[ref.series] = b
				order = append(order, ref.series)
			}
			b.points = append(b.points, pts...)
		}
		for _, sid := range order {
			b := batches[sid]
			// Sort by time; of equal times the last written wins.
			byTime := func(x, y point) int { return cmp.Compare(x.t, y.t) }
			if !slices.IsSortedFunc(b.points, byTime) {
				slices.SortStableFunc(b.points, byTime)
			}
			c := newChunk(kindOf(b.ref.def.DataType), len(b.points))
			for i, p := range b.points {
				if i+1 < len(b.points) && b.points[i+1].t == p.t {
					continue
				}
				if err := appendPoint(c, p.t, p.value); err != nil {
					return err
				}
			}
			items = append(items, tsdb.Item{Series: sid, Points: c})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.ts.Write(ctx, view, items); err != nil {
		if errors.Is(err, barrier.ErrNoView) {
			return nil, notFound("Workspace %s not found", in.WorkspaceId)
		}
		return nil, err
	}
	return out, nil
}

// checkEntry resolves an entry's property and checks its values.
func (s *Service) checkEntry(pr *propResolver, i int, entry *model.PropertyValueEntry) (*seriesRef, []point, error) {
	ref, err := pr.resolve(entry.EntityPropertyReference)
	if err != nil {
		return nil, nil, err
	}
	if !deref(ref.def.IsTimeSeries) {
		return nil, nil, refInvalid("property %s of component %s is not a time series; set its value with UpdateEntity", ref.prop, ref.path)
	}
	if len(entry.PropertyValues) == 0 {
		return nil, nil, refInvalid("entries[%d].propertyValues is empty", i)
	}
	pts := make([]point, 0, len(entry.PropertyValues))
	for j := range entry.PropertyValues {
		pv := &entry.PropertyValues[j]
		t, ok := plainPoint(pv, ref.def.DataType)
		if !ok {
			var err error
			if t, err = checkPoint(fmt.Sprintf("entries[%d].propertyValues[%d]", i, j), pv, ref.def.DataType); err != nil {
				return nil, nil, err
			}
		}
		pts = append(pts, point{t, pv.Value})
	}
	return ref, pts, nil
}

// checkPoint checks a point of a property of type dt and returns its time.
func checkPoint(field string, pv *model.PropertyValue, dt *model.DataType) (int64, error) {
	t, err := parseTime(field, pv.Time, pv.Timestamp)
	if err != nil {
		return 0, err
	}
	if pv.Value == nil {
		return 0, refInvalid("%s.value is required", field)
	}
	if pv.Value.Expression != nil {
		return 0, refInvalid("%s.value: a time-series value cannot be an expression", field)
	}
	if err := checkValue(field+".value", dt, pv.Value, 0); err != nil {
		return 0, err
	}
	return t, nil
}

// plainPoint accepts the usual point, an ISO time and one scalar of the
// property's type with no allowed values to match, without building the
// field name that only an error message needs; for anything else it
// declines, and the full checks run (and name the field).
func plainPoint(pv *model.PropertyValue, dt *model.DataType) (int64, bool) {
	v := pv.Value
	if pv.Time == nil || v == nil || v.Expression != nil || dt == nil || len(dt.AllowedValues) > 0 {
		return 0, false
	}
	switch only, ok := onlyMember(v); {
	case !ok || only != dt.Type:
		return 0, false
	case only == model.TypeList || only == model.TypeMap || only == model.TypeRelationship:
		return 0, false
	}
	if t, ok := utcNano(*pv.Time); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, *pv.Time)
	if err != nil || t.Year() < 1678 || t.Year() > 2261 {
		return 0, false
	}
	return t.UnixNano(), true
}

// timeRange reads GetPropertyValueHistory's range: startTime and endTime,
// or the deprecated epoch forms.
func timeRange(in *model.GetPropertyValueHistoryInput) (from, to int64, err error) {
	if (in.StartTime == nil && in.StartDateTime == nil) || (in.EndTime == nil && in.EndDateTime == nil) {
		return 0, 0, invalid("startTime and endTime are required")
	}
	if from, err = parseTime("startTime", in.StartTime, in.StartDateTime); err != nil {
		return 0, 0, err
	}
	if to, err = parseTime("endTime", in.EndTime, in.EndDateTime); err != nil {
		return 0, 0, err
	}
	if to < from {
		return 0, 0, invalid("endTime is before startTime")
	}
	return from, to, nil
}

// historyScope binds a page token to everything that shapes the result:
// every member of the request but nextToken and maxResults. legacy, when
// not nil, gives the scope earlier releases bound the request to, which
// took every request through encoding/json: a client paging across an
// upgrade (or across the nodes of a rolling one) keeps its place.
func historyScope(in *model.GetPropertyValueHistoryInput, from, to int64) (scope string, legacy func() string) {
	if in.PropertyFilters == nil && in.StartDateTime == nil && in.EndDateTime == nil && in.Interpolation == nil {
		return hashScope(usualScope(in, from, to)), func() string { return hashScope(jsonScope(in, from, to)) }
	}
	return hashScope(jsonScope(in, from, to)), nil
}

func hashScope(data []byte) string {
	sum := sha256.Sum256(data)
	return "GetPropertyValueHistory\x00" + hex.EncodeToString(sum[:])
}

func jsonScope(in *model.GetPropertyValueHistoryInput, from, to int64) []byte {
	q := *in
	q.NextToken, q.MaxResults = nil, nil
	data, _ := json.Marshal(struct {
		In       *model.GetPropertyValueHistoryInput
		WS       string
		From, To int64
	}{&q, in.WorkspaceId, from, to})
	return data
}

// usualScope writes the members of a request without filters,
// interpolation or the deprecated times, each length-prefixed, where
// encoding/json took a tenth of a page's time in the catalog. It starts
// with 0, which no JSON document does.
func usualScope(in *model.GetPropertyValueHistoryInput, from, to int64) []byte {
	b := make([]byte, 1, 256)
	str := func(s string) { b = append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	opt := func(s *string) {
		if s == nil {
			b = append(b, 0)
			return
		}
		b = append(b, 1)
		str(*s)
	}
	str(in.WorkspaceId)
	opt(in.EntityId)
	opt(in.ComponentName)
	opt(in.ComponentPath)
	opt(in.ComponentTypeId)
	if in.SelectedProperties == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(in.SelectedProperties))+1)
		for _, p := range in.SelectedProperties {
			str(p)
		}
	}
	str(string(in.OrderByTime))
	opt(in.StartTime)
	opt(in.EndTime)
	b = binary.BigEndian.AppendUint64(b, uint64(from))
	return binary.BigEndian.AppendUint64(b, uint64(to))
}

// seriesPos orders the series of a history request: by entity, then
// component, both by blind index (so a token names neither), then by the
// order of selectedProperties.
type seriesPos struct {
	entity, comp [16]byte
	prop         int
}

func (a seriesPos) before(b seriesPos) bool {
	if c := bytes.Compare(a.entity[:], b.entity[:]); c != 0 {
		return c < 0
	}
	if c := bytes.Compare(a.comp[:], b.comp[:]); c != 0 {
		return c < 0
	}
	return a.prop < b.prop
}

// cursor is where a history page ends: in the series at pos, after the
// point (or interpolation step) at time at; or, with done, after that
// whole series.
type cursor struct {
	pos  seriesPos
	at   int64
	done bool
}

func (c cursor) encode() []byte {
	b := append(c.pos.entity[:], c.pos.comp[:]...)
	b = binary.AppendUvarint(b, uint64(c.pos.prop))
	if c.done {
		return append(b, 1)
	}
	return binary.BigEndian.AppendUint64(append(b, 0), uint64(c.at))
}

func decodeCursor(b []byte) (*cursor, error) {
	if b == nil {
		return nil, nil
	}
	bad := invalid("nextToken is not valid for this request")
	if len(b) < 34 {
		return nil, bad
	}
	c := &cursor{}
	copy(c.pos.entity[:], b[:16])
	copy(c.pos.comp[:], b[16:32])
	n, w := binary.Uvarint(b[32:])
	if w <= 0 || n > 10 {
		return nil, bad
	}
	c.pos.prop = int(n)
	rest := b[32+w:]
	switch {
	case len(rest) == 1 && rest[0] == 1:
		c.done = true
	case len(rest) == 9 && rest[0] == 0:
		c.at = int64(binary.BigEndian.Uint64(rest[1:]))
	default:
		return nil, bad
	}
	return c, nil
}

// filter is one propertyFilter, applied to a series' points when it names
// the series' property, or to the component's static value otherwise.
type filter struct {
	prop  string
	op    string
	value *model.DataValue
}

func parseFilters(fs []model.PropertyFilter) ([]filter, error) {
	out := make([]filter, 0, len(fs))
	for i, f := range fs {
		if f.PropertyName == nil || f.Value == nil {
			return nil, invalid("propertyFilters[%d]: propertyName and value are required", i)
		}
		op := deref(f.Operator)
		if op == "" {
			op = "="
		}
		switch op {
		case "=", "!=", "<", "<=", ">", ">=":
		default:
			return nil, invalid("propertyFilters[%d].operator: %q is not one of =, !=, <, <=, >, >=", i, op)
		}
		out = append(out, filter{*f.PropertyName, op, f.Value})
	}
	return out, nil
}

// matches compares a value with the filter's.
func (f filter) matches(v *model.DataValue) bool {
	if v == nil {
		return false
	}
	c, ok := compareValues(v, f.value)
	if !ok {
		return f.op == "!="
	}
	switch f.op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	default:
		return c >= 0
	}
}

// compareValues orders two scalar values; numbers compare across types.
func compareValues(a, b *model.DataValue) (int, bool) {
	num := func(v *model.DataValue) (float64, bool) {
		switch {
		case v.DoubleValue != nil:
			return float64(*v.DoubleValue), true
		case v.IntegerValue != nil:
			return float64(*v.IntegerValue), true
		case v.LongValue != nil:
			return float64(*v.LongValue), true
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		y, ok := num(b)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	switch {
	case a.StringValue != nil && b.StringValue != nil:
		return strings.Compare(*a.StringValue, *b.StringValue), true
	case a.BooleanValue != nil && b.BooleanValue != nil:
		x, y := *a.BooleanValue, *b.BooleanValue
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

// eachSeries hands fn the series a history request reads, in seriesPos
// order, from the cursor's series on. Entities are loaded one at a time as
// the walk reaches them, so a page costs what it returns, not the size of
// the workspace.
func (s *Service) eachSeries(pr *propResolver, in *model.GetPropertyValueHistoryInput, filters []filter, from *cursor,
	fn func(pos seriesPos, r *seriesRef) (stop bool, err error)) error {
	path := deref(in.ComponentPath)
	if path == "" {
		path = deref(in.ComponentName)
	}
	selected := map[string]bool{}
	for _, p := range in.SelectedProperties {
		selected[p] = true
	}
	// visit walks the series of the given components of one entity.
	visit := func(e *entity, paths []string) (bool, error) {
		var pos seriesPos
		copy(pos.entity[:], pr.v.Index(e.ID))
		sort.Slice(paths, func(i, j int) bool { return string(pr.v.Index(paths[i])) < string(pr.v.Index(paths[j])) })
	comps:
		for _, cp := range paths {
			copy(pos.comp[:], pr.v.Index(cp))
			props, err := pr.props(e, cp)
			if err != nil {
				return false, err
			}
			// Filters on properties that are not selected time series
			// apply to the component as a whole.
			for _, f := range filters {
				if selected[f.prop] && deref(props[f.prop].def.IsTimeSeries) {
					continue
				}
				if p, ok := props[f.prop]; !ok || !f.matches(p.value) {
					continue comps
				}
			}
			for k, name := range in.SelectedProperties {
				pos.prop = k
				if from != nil && (pos.before(from.pos) || from.done && pos == from.pos) {
					continue
				}
				p, ok := props[name]
				if !ok {
					if in.EntityId != nil {
						return false, notFound("Property %s not found in component %s of entity %s", name, cp, e.ID)
					}
					continue
				}
				if !deref(p.def.IsTimeSeries) {
					return false, invalid("selectedProperties: %s is not a time-series property; read it with GetPropertyValue", name)
				}
				r := &seriesRef{e: e, path: cp, prop: name, def: p.def, series: pr.seriesOf(e, cp, name, p.def.DataType)}
				if stop, err := fn(pos, r); stop || err != nil {
					return true, err
				}
			}
		}
		return false, nil
	}
	switch {
	case in.EntityId != nil:
		e, err := pr.entity(*in.EntityId)
		if err != nil {
			return err
		}
		if e == nil {
			return notFound("Entity %s not found in workspace %s", *in.EntityId, in.WorkspaceId)
		}
		if path == "" {
			return invalid("componentName is required with entityId")
		}
		if e.Components[path] == nil && e.Composite[path] == nil {
			return notFound("Component %s not found in entity %s", path, e.ID)
		}
		_, err = visit(e, []string{path})
		return err
	case in.ComponentTypeId != nil:
		typeID := *in.ComponentTypeId
		prefix := append(key("ctu", pr.v.Index(typeID)), '/')
		r := kv.Prefix(prefix)
		if from != nil {
			r.Start = append(bytes.Clone(prefix), from.pos.entity[:]...)
		}
		return pr.tx.Scan(pr.v, r, func(_, val []byte) error {
			e, err := pr.entity(string(val))
			if err != nil || e == nil {
				return err
			}
			var paths []string
			for cp, c := range e.Components {
				if c.TypeID == typeID {
					paths = append(paths, cp)
				}
			}
			for cp, c := range e.Composite {
				if c.TypeID == typeID {
					paths = append(paths, cp)
				}
			}
			stop, err := visit(e, paths)
			if err == nil && stop {
				return kv.Stop
			}
			return err
		})
	default:
		return invalid("entityId with componentName, or componentTypeId, is required")
	}
}

// defaultHistoryPage is the page size of GetPropertyValueHistory when
// maxResults is absent or 0: TwinMaker's documented default.
const defaultHistoryPage = 25

// maxPageBytes is TwinMaker's cap on the data one data-access call returns:
// a page ends early, with a nextToken, rather than grow past about 20 KB.
// A page always holds at least one value.
const maxPageBytes = 20 << 10

// pointSize approximates the JSON a value's time and wrapping take.
const pointSize = len(`{"time":"2006-01-02T15:04:05.999999999Z","value":{}},`)

// valueSize approximates the JSON size of a value, cheaply.
func valueSize(v *model.DataValue, depth int) int {
	if v == nil || depth > maxTypeDepth {
		return 0
	}
	switch {
	case v.StringValue != nil:
		return len(*v.StringValue) + 18
	case v.ListValue != nil:
		n := 14
		for i := range v.ListValue {
			n += valueSize(&v.ListValue[i], depth+1) + 3
		}
		return n
	case v.MapValue != nil:
		n := 13
		for k, e := range v.MapValue {
			n += len(k) + 6 + valueSize(&e, depth+1)
		}
		return n
	case v.RelationshipValue != nil:
		return 80 + len(deref(v.RelationshipValue.TargetEntityId)) + len(deref(v.RelationshipValue.TargetComponentName))
	case v.Expression != nil:
		return len(*v.Expression) + 16
	}
	return 36 // a number or a boolean
}

func (s *Service) GetPropertyValueHistory(ctx context.Context, in *model.GetPropertyValueHistoryInput) (*model.GetPropertyValueHistoryOutput, error) {
	if ws, name, err := s.readerOf(ctx, in); err != nil {
		return nil, err
	} else if name != "" {
		out, ok, err := s.connectors.History(ctx, ws, name, in)
		if ok || err != nil {
			return out, err
		}
	}
	from, to, err := timeRange(in)
	if err != nil {
		return nil, err
	}
	filters, err := parseFilters(in.PropertyFilters)
	if err != nil {
		return nil, err
	}
	var step int64
	if ip := in.Interpolation; ip != nil {
		if ip.InterpolationType != "" && ip.InterpolationType != model.InterpolationTypeLinear {
			return nil, invalid("interpolation.interpolationType: only LINEAR is supported")
		}
		secs := deref(ip.IntervalInSeconds)
		if secs <= 0 {
			secs = 1
		}
		if secs > math.MaxInt64/int64(time.Second) {
			return nil, invalid("interpolation.intervalInSeconds is too large")
		}
		step = secs * int64(time.Second)
	}
	desc := in.OrderByTime == model.OrderByTimeDescending
	scope, legacy := historyScope(in, from, to)
	p := pager{sys: s.b.System(), scope: scope, legacy: legacy}
	raw, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	cur, err := decodeCursor(raw)
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.MaxResults, defaultHistoryPage)
	out := &model.GetPropertyValueHistoryOutput{PropertyValues: []model.PropertyValueHistory{}}
	var lastPos seriesPos
	err = s.viewAt(ctx, func(tx *barrier.Tx, gen uint64, ts tsdb.Stamp) error {
		v, err := s.workspaceView(tx, in.WorkspaceId, gen)
		if err != nil {
			return err
		}
		pr := s.newPropResolver(tx, v, gen)
		remaining, budget := limit, maxPageBytes
		return s.eachSeries(pr, in, filters, cur, func(pos seriesPos, r *seriesRef) (bool, error) {
			if remaining == 0 {
				// The page is full, and another series follows.
				out.NextToken = optString(p.encode(cursor{pos: lastPos, done: true}.encode()))
				return true, nil
			}
			if step > 0 {
				if k := kindOf(r.def.DataType); k != chunkenc.KindDouble && k != chunkenc.KindInt {
					return true, invalid("interpolation: property %s is not numeric", r.prop)
				}
			}
			var pointFilters []filter
			for _, f := range filters {
				if f.prop == r.prop {
					pointFilters = append(pointFilters, f)
				}
			}
			var c *cursor
			if cur != nil && pos == cur.pos && !cur.done {
				c = cur
			}
			var values []model.PropertyValue
			var last int64
			var more bool
			var err error
			if step > 0 {
				values, last, more, err = s.interpolate(tx, v, r, from, to, step, desc, c, remaining, ts)
			} else {
				values, last, more, err = s.history(tx, v, r, from, to, desc, c, remaining, pointFilters, &budget, ts)
			}
			if err != nil {
				return true, err
			}
			if len(values) > 0 {
				out.PropertyValues = append(out.PropertyValues, model.PropertyValueHistory{EntityPropertyReference: r.reference(), Values: values})
				remaining -= len(values)
			}
			lastPos = pos
			if more {
				out.NextToken = optString(p.encode(cursor{pos: pos, at: last}.encode()))
				return true, nil
			}
			return false, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// history reads up to n points of one series after the cursor, keeping
// those that pass the point filters. ts is the snapshot's tsdb stamp.
func (s *Service) history(tx *barrier.Tx, v *barrier.View, r *seriesRef, from, to int64, desc bool, c *cursor, n int, filters []filter, budget *int, ts tsdb.Stamp) ([]model.PropertyValue, int64, bool, error) {
	if c != nil {
		if desc {
			to = c.at
		} else {
			from = c.at + 1
		}
	}
	var out []model.PropertyValue
	var last int64
	for len(out) < n {
		chunk, more, err := s.ts.Read(tx, v, r.series, tsdb.Query{From: from, To: to, Desc: desc, Limit: n - len(out), Stamp: ts})
		if err != nil {
			return nil, 0, false, err
		}
		if chunk == nil {
			return out, last, false, nil
		}
		for i := range chunk.Len() {
			val, err := valueAt(chunk, i, r.def.DataType)
			if err != nil {
				return nil, 0, false, err
			}
			t := chunk.Times[i]
			keep := true
			for _, f := range filters {
				keep = keep && f.matches(val)
			}
			if keep {
				size := pointSize + valueSize(val, 0)
				if size > *budget && *budget < maxPageBytes {
					return out, last, true, nil // the page is full
				}
				*budget -= size
				out = append(out, model.PropertyValue{Time: formatTime(t), Value: val})
			}
			last = t
		}
		if desc {
			to = last
		} else {
			from = last + 1
		}
		if !more {
			return out, last, false, nil
		}
	}
	return out, last, true, nil
}

// interpolate computes the values at from, from+step, ... before to, each
// linearly between the points around it; steps without a point on both
// sides have no value. The cursor's time is the last step returned.
func (s *Service) interpolate(tx *barrier.Tx, v *barrier.View, r *seriesRef, from, to, step int64, desc bool, c *cursor, n int, ts tsdb.Stamp) ([]model.PropertyValue, int64, bool, error) {
	steps := (to - from + step - 1) / step // steps in [from, to)
	if to == from {
		steps = 0
	}
	k := int64(0)
	if desc {
		k = steps - 1
	}
	if c != nil {
		k = (c.at-from)/step + 1
		if desc {
			k = (c.at-from)/step - 1
		}
	}
	var out []model.PropertyValue
	var last int64
	var before, after *pointValue // the points around the current step
	for ; k >= 0 && k < steps; k = next(k, desc) {
		t := from + k*step
		if len(out) == n {
			return out, last, true, nil
		}
		if before == nil || before.t > t || after == nil || after.t < t {
			var err error
			if before, err = s.pointNear(tx, v, r, t, true, ts); err != nil {
				return nil, 0, false, err
			}
			if after, err = s.pointNear(tx, v, r, t, false, ts); err != nil {
				return nil, 0, false, err
			}
		}
		last = t
		if before == nil || after == nil {
			continue
		}
		val := before.v
		if after.t != before.t {
			val = before.v + (after.v-before.v)*float64(t-before.t)/float64(after.t-before.t)
		}
		out = append(out, model.PropertyValue{Time: formatTime(t), Value: &model.DataValue{DoubleValue: model.NewDouble(val)}})
	}
	return out, last, false, nil
}

func next(k int64, desc bool) int64 {
	if desc {
		return k - 1
	}
	return k + 1
}

type pointValue struct {
	t int64
	v float64
}

// pointNear returns the last point at or before t (atOrBefore), or the
// first at or after it.
func (s *Service) pointNear(tx *barrier.Tx, v *barrier.View, r *seriesRef, t int64, atOrBefore bool, ts tsdb.Stamp) (*pointValue, error) {
	q := tsdb.Query{From: t, To: tsdb.MaxTime, Limit: 1, Stamp: ts}
	if atOrBefore {
		q = tsdb.Query{From: tsdb.MinTime, To: t + 1, Desc: true, Limit: 1, Stamp: ts}
	}
	c, _, err := s.ts.Read(tx, v, r.series, q)
	if err != nil || c == nil || c.Len() == 0 {
		return nil, err
	}
	p := &pointValue{t: c.Times[0]}
	if c.Kind == chunkenc.KindDouble {
		p.v = c.Doubles[0]
	} else {
		p.v = float64(c.Ints[0])
	}
	return p, nil
}

func (s *Service) GetPropertyValue(ctx context.Context, in *model.GetPropertyValueInput) (*model.GetPropertyValueOutput, error) {
	if in.EntityId == nil {
		return nil, invalid("entityId is required: values belong to one entity's component")
	}
	path := deref(in.ComponentPath)
	if path == "" {
		path = deref(in.ComponentName)
	}
	if path == "" {
		return nil, invalid("componentName is required")
	}
	if in.PropertyGroupName != nil {
		return s.tabular(ctx, in, path)
	}
	out := &model.GetPropertyValueOutput{PropertyValues: map[string]model.PropertyLatestValue{}}
	err := s.viewAt(ctx, func(tx *barrier.Tx, gen uint64, ts tsdb.Stamp) error {
		v, err := s.workspaceView(tx, in.WorkspaceId, gen)
		if err != nil {
			return err
		}
		pr := s.newPropResolver(tx, v, gen)
		for _, name := range in.SelectedProperties {
			r, err := pr.resolve(&model.EntityPropertyReference{EntityId: in.EntityId, ComponentPath: model.String(path), PropertyName: model.String(name)})
			if err != nil {
				if re, ok := err.(*refError); ok {
					return &twinvault.Error{Code: re.code, Message: re.msg}
				}
				return err
			}
			lv := model.PropertyLatestValue{PropertyReference: r.reference()}
			if deref(r.def.IsTimeSeries) {
				c, _, err := s.ts.Read(tx, v, r.series, tsdb.Query{From: tsdb.MinTime, To: tsdb.MaxTime, Desc: true, Limit: 1, Stamp: ts})
				if err != nil {
					return err
				}
				if c != nil && c.Len() > 0 {
					if lv.PropertyValue, err = valueAt(c, 0, r.def.DataType); err != nil {
						return err
					}
				}
			} else {
				lv.PropertyValue = r.value
				if lv.PropertyValue == nil {
					lv.PropertyValue = r.def.DefaultValue
				}
			}
			out.PropertyValues[name] = lv
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func asError(err error, target **twinvault.Error) bool {
	te, ok := err.(*twinvault.Error)
	if ok {
		*target = te
	}
	return ok
}

// maxTabularPoints bounds what one tabular read loads.
const maxTabularPoints = 100_000

// tabular answers GetPropertyValue for a TABULAR property group: one row
// per time at which any selected time-series property of the group has a
// point, with the group's static values repeated on each row; rows are
// filtered and ordered by tabularConditions and paged by maxResults.
func (s *Service) tabular(ctx context.Context, in *model.GetPropertyValueInput, path string) (*model.GetPropertyValueOutput, error) {
	q := *in
	q.NextToken, q.MaxResults = nil, nil
	data, _ := json.Marshal(struct {
		In *model.GetPropertyValueInput
		WS string
	}{&q, in.WorkspaceId})
	sum := sha256.Sum256(data)
	p := pager{sys: s.b.System(), scope: "GetPropertyValue\x00" + hex.EncodeToString(sum[:])}
	raw, err := p.decode(in.NextToken)
	if err != nil {
		return nil, err
	}
	offset := 0
	if raw != nil {
		n, w := binary.Uvarint(raw)
		if w <= 0 || w != len(raw) || n > maxTabularPoints {
			return nil, invalid("nextToken is not valid for this request")
		}
		offset = int(n)
	}
	var filters []filter
	var orderBy []model.OrderBy
	if tc := in.TabularConditions; tc != nil {
		if filters, err = parseFilters(tc.PropertyFilters); err != nil {
			return nil, err
		}
		orderBy = tc.OrderBy
	}
	out := &model.GetPropertyValueOutput{}
	err = s.viewAt(ctx, func(tx *barrier.Tx, gen uint64, ts tsdb.Stamp) error {
		v, err := s.workspaceView(tx, in.WorkspaceId, gen)
		if err != nil {
			return err
		}
		pr := s.newPropResolver(tx, v, gen)
		e, err := pr.entity(*in.EntityId)
		if err != nil {
			return err
		}
		if e == nil {
			return notFound("Entity %s not found in workspace %s", *in.EntityId, in.WorkspaceId)
		}
		c := e.Components[path]
		if c == nil {
			c = e.Composite[path]
		}
		if c == nil {
			return notFound("Component %s not found in entity %s", path, e.ID)
		}
		res, err := pr.r.resolve(c.TypeID)
		if err != nil {
			return err
		}
		groups := groupResponses(res, c)
		g, ok := groups[*in.PropertyGroupName]
		if !ok {
			return notFound("Property group %s not found in component %s", *in.PropertyGroupName, path)
		}
		if g.GroupType != model.GroupTypeTabular {
			return invalid("propertyGroupName: %s is not a TABULAR group", *in.PropertyGroupName)
		}
		props := effective(res, c)
		rows := map[int64]map[string]model.DataValue{}
		static := map[string]model.DataValue{}
		loaded := 0
		for _, name := range in.SelectedProperties {
			if !contains(g.PropertyNames, name) {
				return invalid("selectedProperties: %s is not in property group %s", name, *in.PropertyGroupName)
			}
			ep, ok := props[name]
			if !ok {
				return notFound("Property %s not found in component %s", name, path)
			}
			if !deref(ep.def.IsTimeSeries) {
				if val := ep.value; val != nil {
					static[name] = *val
				} else if ep.def.DefaultValue != nil {
					static[name] = *ep.def.DefaultValue
				}
				continue
			}
			chunk, more, err := s.ts.Read(tx, v, seriesOf(v, e, path, name, ep.def.DataType), tsdb.Query{From: tsdb.MinTime, To: tsdb.MaxTime, Limit: maxTabularPoints - loaded})
			if err != nil {
				return err
			}
			if more {
				return invalid("property group %s holds more than %d points; narrow it with a connector query", *in.PropertyGroupName, maxTabularPoints)
			}
			if chunk == nil {
				continue
			}
			loaded += chunk.Len()
			for i, t := range chunk.Times {
				val, err := valueAt(chunk, i, ep.def.DataType)
				if err != nil {
					return err
				}
				if rows[t] == nil {
					rows[t] = map[string]model.DataValue{}
				}
				rows[t][name] = *val
			}
		}
		times := make([]int64, 0, len(rows))
		for t := range rows {
			times = append(times, t)
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		var table []map[string]model.DataValue
		if len(times) == 0 && len(static) > 0 {
			table = append(table, static)
		}
		for _, t := range times {
			row := rows[t]
			for k, val := range static {
				row[k] = val
			}
			table = append(table, row)
		}
		kept := table[:0]
		for _, row := range table {
			ok := true
			for _, f := range filters {
				val, has := row[f.prop]
				ok = ok && has && f.matches(&val)
			}
			if ok {
				kept = append(kept, row)
			}
		}
		table = kept
		sort.SliceStable(table, func(i, j int) bool {
			for _, o := range orderBy {
				a, aok := table[i][deref(o.PropertyName)]
				b, bok := table[j][deref(o.PropertyName)]
				if !aok || !bok {
					if aok != bok {
						return aok
					}
					continue
				}
				c, _ := compareValues(&a, &b)
				if c == 0 {
					continue
				}
				if o.Order == model.OrderDescending {
					return c > 0
				}
				return c < 0
			}
			return false
		})
		n := pageSize(in.MaxResults, 25)
		if offset > len(table) {
			offset = len(table)
		}
		end := min(offset+n, len(table))
		budget := maxPageBytes
		for i := offset; i < end; i++ {
			size := 4
			for k, val := range table[i] {
				size += len(k) + 4 + valueSize(&val, 0)
			}
			if size > budget && i > offset {
				end = i // the page is full
				break
			}
			budget -= size
		}
		out.TabularPropertyValues = [][]map[string]model.DataValue{table[offset:end]}
		if end < len(table) {
			out.NextToken = optString(p.encode(binary.AppendUvarint(nil, uint64(end))))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readerOf names the external data reader of the component a history read
// is for: the Lambda function its type's dataReader names, "" when the read
// names no single component, no connectors are configured, or the type
// names none.
func (s *Service) readerOf(ctx context.Context, in *model.GetPropertyValueHistoryInput) (ws, name string, err error) {
	if s.connectors == nil || !s.connectors.Registered() || in.EntityId == nil || in.ComponentName == nil {
		return "", "", nil
	}
	err = s.viewAt(ctx, func(tx *barrier.Tx, gen uint64, ts tsdb.Stamp) error {
		w, v, e, err := s.entityIn(ctx, tx, in.WorkspaceId, *in.EntityId)
		if err != nil {
			return err
		}
		c := e.Components[*in.ComponentName]
		if in.ComponentPath != nil {
			c = e.Composite[*in.ComponentPath]
		}
		if c == nil {
			return nil // the read itself reports it
		}
		ws = w.ID
		res, err := newResolver(tx, v).resolve(c.TypeID)
		if err != nil {
			return err
		}
		if f, ok := res.funcs["dataReader"]; ok && f.fn.ImplementedBy != nil && f.fn.ImplementedBy.Lambda != nil && !deref(f.fn.ImplementedBy.IsNative) {
			name = functionName(deref(f.fn.ImplementedBy.Lambda.Arn))
		}
		return nil
	})
	return ws, name, err
}

// functionName is the name of the Lambda function an ARN names, or the
// whole string when it is not a Lambda ARN.
func functionName(arn string) string {
	if a, err := twinvault.ParseARN(arn); err == nil && a.Service == "lambda" {
		name, _ := strings.CutPrefix(a.Resource, "function:")
		name, _, _ = strings.Cut(name, ":")
		return name
	}
	return arn
}
