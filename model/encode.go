package model

import (
	"encoding/json/jsontext"
	"strconv"
)

// A history page is mostly property values: up to 200 of them, each an
// object holding a time and a data value. Encoding them through reflection
// cost more than reading them from the store, so the page writes itself.
// The bytes are the JSON that encoding/json writes for the same value, up
// to the escaping of characters that need none (TestAppendJSON compares
// the two as decoded documents).

// AppendJSON appends o as JSON.
func (o *GetPropertyValueHistoryOutput) AppendJSON(b []byte) []byte {
	b = append(b, `{"propertyValues":`...)
	if o.PropertyValues == nil {
		b = append(b, "null"...)
	} else {
		b = appendList(b, o.PropertyValues, (*PropertyValueHistory).appendJSON)
	}
	if o.NextToken != nil {
		b = append(b, `,"nextToken":`...)
		b = appendString(b, *o.NextToken)
	}
	return append(b, '}')
}

func (h *PropertyValueHistory) appendJSON(b []byte) []byte {
	b = append(b, `{"entityPropertyReference":`...)
	b = h.EntityPropertyReference.appendJSON(b)
	if h.Values != nil {
		b = append(b, `,"values":`...)
		b = appendList(b, h.Values, (*PropertyValue).appendJSON)
	}
	return append(b, '}')
}

func (r *EntityPropertyReference) appendJSON(b []byte) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	o := object{b: append(b, '{')}
	o.str("componentName", r.ComponentName)
	o.str("componentPath", r.ComponentPath)
	if r.ExternalIdProperty != nil {
		o.name("externalIdProperty")
		o.b = appendMap(o.b, r.ExternalIdProperty, func(s string, b []byte) []byte { return appendString(b, s) })
	}
	o.str("entityId", r.EntityId)
	o.name("propertyName")
	if r.PropertyName == nil {
		o.b = append(o.b, "null"...)
	} else {
		o.b = appendString(o.b, *r.PropertyName)
	}
	return append(o.b, '}')
}

func (v *PropertyValue) appendJSON(b []byte) []byte {
	o := object{b: append(b, '{')}
	if v.Timestamp != nil {
		o.name("timestamp")
		o.b = v.Timestamp.appendJSON(o.b)
	}
	o.name("value")
	o.b = v.Value.appendJSON(o.b)
	o.str("time", v.Time)
	return append(o.b, '}')
}

func (v *DataValue) appendJSON(b []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	o := object{b: append(b, '{')}
	if v.BooleanValue != nil {
		o.name("booleanValue")
		o.b = strconv.AppendBool(o.b, *v.BooleanValue)
	}
	if v.DoubleValue != nil {
		o.name("doubleValue")
		o.b = v.DoubleValue.appendJSON(o.b)
	}
	if v.IntegerValue != nil {
		o.name("integerValue")
		o.b = strconv.AppendInt(o.b, int64(*v.IntegerValue), 10)
	}
	if v.LongValue != nil {
		o.name("longValue")
		o.b = strconv.AppendInt(o.b, *v.LongValue, 10)
	}
	o.str("stringValue", v.StringValue)
	if v.ListValue != nil {
		o.name("listValue")
		o.b = appendList(o.b, v.ListValue, (*DataValue).appendJSON)
	}
	if v.MapValue != nil {
		o.name("mapValue")
		o.b = appendMap(o.b, v.MapValue, func(m DataValue, b []byte) []byte { return m.appendJSON(b) })
	}
	if r := v.RelationshipValue; r != nil {
		o.name("relationshipValue")
		ro := object{b: append(o.b, '{')}
		ro.str("targetEntityId", r.TargetEntityId)
		ro.str("targetComponentName", r.TargetComponentName)
		o.b = append(ro.b, '}')
	}
	o.str("expression", v.Expression)
	return append(o.b, '}')
}

// object writes the members of a JSON object whose '{' is in b.
type object struct {
	b    []byte
	some bool // a member is written: the next needs a comma
}

func (o *object) name(n string) {
	if o.some {
		o.b = append(o.b, ',')
	}
	o.some = true
	o.b = append(o.b, '"')
	o.b = append(o.b, n...) // the model's member names need no escaping
	o.b = append(o.b, '"', ':')
}

// str writes member n unless s is nil (omitempty).
func (o *object) str(n string, s *string) {
	if s != nil {
		o.name(n)
		o.b = appendString(o.b, *s)
	}
}

// appendList appends s as a JSON array, each element written by elem.
func appendList[T any](b []byte, s []T, elem func(*T, []byte) []byte) []byte {
	b = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(&s[i], b)
	}
	return append(b, ']')
}

// appendMap appends m as a JSON object, keys sorted as encoding/json sorts
// them, each value written by value.
func appendMap[V any](b []byte, m map[string]V, value func(V, []byte) []byte) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = value(m[k], b)
	}
	return append(b, '}')
}

// appendString appends s quoted; invalid UTF-8 becomes U+FFFD, as
// encoding/json writes it.
func appendString(b []byte, s string) []byte {
	b, _ = jsontext.AppendQuote(b, s)
	return b
}
