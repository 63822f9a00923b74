package catalog

import (
	"fmt"

	"github.com/twinvault/twinvault/model"
)

// maxTypeDepth bounds nested LIST/MAP data types, so a hostile request
// cannot make validation recurse without end.
const maxTypeDepth = 8

// checkDataType checks a property's data type beyond what the model's
// constraints say: LIST and MAP name the type of their elements, and
// allowed values have the declared type.
func checkDataType(field string, dt *model.DataType, depth int) error {
	if dt == nil {
		return invalid("%s: dataType is required", field)
	}
	if depth > maxTypeDepth {
		return invalid("%s: data types nest deeper than %d levels", field, maxTypeDepth)
	}
	switch dt.Type {
	case model.TypeList, model.TypeMap:
		if dt.NestedType == nil {
			return invalid("%s: a %s data type requires nestedType", field, dt.Type)
		}
		if err := checkDataType(field+".nestedType", dt.NestedType, depth+1); err != nil {
			return err
		}
	default:
		if dt.NestedType != nil {
			return invalid("%s: nestedType is only allowed on LIST and MAP data types", field)
		}
	}
	if dt.Relationship != nil && dt.Type != model.TypeRelationship {
		return invalid("%s: relationship is only allowed on RELATIONSHIP data types", field)
	}
	for i := range dt.AllowedValues {
		av := dt.AllowedValues[i]
		if err := checkValue(fmt.Sprintf("%s.allowedValues[%d]", field, i), &model.DataType{Type: dt.Type, NestedType: dt.NestedType}, &av, 0); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks that v is a well-formed value of type dt: exactly one
// member set, the one that matches the type (or an expression), elements
// of lists and maps of the nested type, and one of the allowed values when
// the type lists them.
func checkValue(field string, dt *model.DataType, v *model.DataValue, depth int) error {
	if v == nil {
		return nil
	}
	if depth > maxTypeDepth {
		return invalid("%s: values nest deeper than %d levels", field, maxTypeDepth)
	}
	set := setMembers(v)
	if len(set) != 1 {
		if len(set) == 0 {
			return invalid("%s: a value must set exactly one member, none is set", field)
		}
		return invalid("%s: a value must set exactly one member, not %d (%v)", field, len(set), set)
	}
	if v.Expression != nil {
		return nil
	}
	if dt == nil {
		return nil
	}
	want := valueMember(dt.Type)
	if set[0] != want {
		return invalid("%s: a %s property takes %s, not %s", field, dt.Type, want, set[0])
	}
	switch dt.Type {
	case model.TypeList:
		for i := range v.ListValue {
			if err := checkValue(fmt.Sprintf("%s.listValue[%d]", field, i), dt.NestedType, &v.ListValue[i], depth+1); err != nil {
				return err
			}
		}
	case model.TypeMap:
		for k, e := range v.MapValue {
			e := e
			if err := checkValue(fmt.Sprintf("%s.mapValue.%s", field, k), dt.NestedType, &e, depth+1); err != nil {
				return err
			}
		}
	case model.TypeRelationship:
		if v.RelationshipValue.TargetEntityId == nil {
			return invalid("%s: relationshipValue requires targetEntityId", field)
		}
	}
	if len(dt.AllowedValues) > 0 && !allowed(dt.AllowedValues, v) {
		return invalid("%s: the value is not one of the property's allowedValues", field)
	}
	return nil
}

// valueMember names the member that holds a value of type t.
func valueMember(t model.Type) string {
	for _, m := range valueMembers {
		if m.typ == t && t != "" {
			return m.name
		}
	}
	return ""
}

// valueMembers are a DataValue's members, with the type each holds (an
// expression holds none).
var valueMembers = [...]struct {
	name string
	typ  model.Type
	set  func(*model.DataValue) bool
}{
	{"booleanValue", model.TypeBoolean, func(v *model.DataValue) bool { return v.BooleanValue != nil }},
	{"doubleValue", model.TypeDouble, func(v *model.DataValue) bool { return v.DoubleValue != nil }},
	{"integerValue", model.TypeInteger, func(v *model.DataValue) bool { return v.IntegerValue != nil }},
	{"longValue", model.TypeLong, func(v *model.DataValue) bool { return v.LongValue != nil }},
	{"stringValue", model.TypeString, func(v *model.DataValue) bool { return v.StringValue != nil }},
	{"listValue", model.TypeList, func(v *model.DataValue) bool { return v.ListValue != nil }},
	{"mapValue", model.TypeMap, func(v *model.DataValue) bool { return v.MapValue != nil }},
	{"relationshipValue", model.TypeRelationship, func(v *model.DataValue) bool { return v.RelationshipValue != nil }},
	{"expression", "", func(v *model.DataValue) bool { return v.Expression != nil }},
}

func setMembers(v *model.DataValue) []string {
	var set []string
	for _, m := range valueMembers {
		if m.set(v) {
			set = append(set, m.name)
		}
	}
	return set
}

// onlyMember returns the type held by v's one set member; ok is false
// when none or several are set, or the one is an expression.
// It reads the members directly, not through valueMembers' funcs: it runs
// for every value a BatchPut writes (TestOnlyMember holds the two equal).
func onlyMember(v *model.DataValue) (typ model.Type, ok bool) {
	n := 0
	set := func(is bool, t model.Type) {
		if is {
			n, typ = n+1, t
		}
	}
	set(v.BooleanValue != nil, model.TypeBoolean)
	set(v.DoubleValue != nil, model.TypeDouble)
	set(v.IntegerValue != nil, model.TypeInteger)
	set(v.LongValue != nil, model.TypeLong)
	set(v.StringValue != nil, model.TypeString)
	set(v.ListValue != nil, model.TypeList)
	set(v.MapValue != nil, model.TypeMap)
	set(v.RelationshipValue != nil, model.TypeRelationship)
	set(v.Expression != nil, "")
	return typ, n == 1 && typ != ""
}

func allowed(list []model.DataValue, v *model.DataValue) bool {
	for i := range list {
		if scalarEqual(&list[i], v) {
			return true
		}
	}
	return false
}

func scalarEqual(a, b *model.DataValue) bool {
	switch {
	case a.StringValue != nil && b.StringValue != nil:
		return *a.StringValue == *b.StringValue
	case a.BooleanValue != nil && b.BooleanValue != nil:
		return *a.BooleanValue == *b.BooleanValue
	case a.IntegerValue != nil && b.IntegerValue != nil:
		return *a.IntegerValue == *b.IntegerValue
	case a.LongValue != nil && b.LongValue != nil:
		return *a.LongValue == *b.LongValue
	case a.DoubleValue != nil && b.DoubleValue != nil:
		return *a.DoubleValue == *b.DoubleValue
	}
	return false
}

// sameType reports whether two data types are the same, ignoring allowed
// values, units and relationship hints.
func sameType(a, b *model.DataType) bool {
	for a != nil && b != nil {
		if a.Type != b.Type {
			return false
		}
		a, b = a.NestedType, b.NestedType
	}
	return a == nil && b == nil
}

// truncateValue caps list and map values at limit elements, as GetEntity
// does; it reports whether anything was cut.
func truncateValue(v *model.DataValue, limit int) (*model.DataValue, bool) {
	if v == nil {
		return nil, false
	}
	switch {
	case len(v.ListValue) > limit:
		c := *v
		c.ListValue = v.ListValue[:limit]
		return &c, true
	case len(v.MapValue) > limit:
		c := *v
		c.MapValue = make(map[string]model.DataValue, limit)
		for _, k := range sortedKeys(v.MapValue)[:limit] {
			c.MapValue[k] = v.MapValue[k]
		}
		return &c, true
	}
	return v, false
}
