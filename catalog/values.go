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
	want := valueMember[dt.Type]
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

var valueMember = map[model.Type]string{
	model.TypeString:       "stringValue",
	model.TypeDouble:       "doubleValue",
	model.TypeInteger:      "integerValue",
	model.TypeLong:         "longValue",
	model.TypeBoolean:      "booleanValue",
	model.TypeList:         "listValue",
	model.TypeMap:          "mapValue",
	model.TypeRelationship: "relationshipValue",
}

func setMembers(v *model.DataValue) []string {
	var set []string
	add := func(ok bool, name string) {
		if ok {
			set = append(set, name)
		}
	}
	add(v.BooleanValue != nil, "booleanValue")
	add(v.DoubleValue != nil, "doubleValue")
	add(v.IntegerValue != nil, "integerValue")
	add(v.LongValue != nil, "longValue")
	add(v.StringValue != nil, "stringValue")
	add(v.ListValue != nil, "listValue")
	add(v.MapValue != nil, "mapValue")
	add(v.RelationshipValue != nil, "relationshipValue")
	add(v.Expression != nil, "expression")
	return set
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
