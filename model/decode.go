package model

import (
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
)

// A BatchPutPropertyValues body is mostly property values: up to a hundred
// of them, each an object holding a time and a data value. Decoding them
// through reflection allocated and dispatched for every member, so the two
// types read their usual members directly from the token stream. Anything
// unusual (a member of another kind, null, a list, a map, a relationship,
// an integer) goes through encoding/json/v2 itself, so the results and the
// errors are the same as before (FuzzDecodeValues checks that).

// dataValueFields and propertyValueFields are the types without their
// methods: what encoding/json/v2 decodes by reflection.
type (
	dataValueFields     DataValue
	propertyValueFields PropertyValue
)

// UnmarshalJSONFrom decodes a DataValue as encoding/json/v2 would.
func (v *DataValue) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() != '{' {
		return jsonv2.UnmarshalDecode(dec, (*dataValueFields)(v))
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		switch name.String() {
		case "doubleValue":
			err = decodeDouble(dec, &v.DoubleValue)
		case "stringValue":
			err = decodeString(dec, &v.StringValue)
		case "booleanValue":
			err = decodeBool(dec, &v.BooleanValue)
		case "expression":
			err = decodeString(dec, &v.Expression)
		case "integerValue":
			err = jsonv2.UnmarshalDecode(dec, &v.IntegerValue)
		case "longValue":
			err = jsonv2.UnmarshalDecode(dec, &v.LongValue)
		case "listValue":
			err = jsonv2.UnmarshalDecode(dec, &v.ListValue)
		case "mapValue":
			err = jsonv2.UnmarshalDecode(dec, &v.MapValue)
		case "relationshipValue":
			err = jsonv2.UnmarshalDecode(dec, &v.RelationshipValue)
		default:
			err = dec.SkipValue() // unknown members are ignored
		}
		if err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// UnmarshalJSONFrom decodes a PropertyValue as encoding/json/v2 would.
func (v *PropertyValue) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() != '{' {
		return jsonv2.UnmarshalDecode(dec, (*propertyValueFields)(v))
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		switch name.String() {
		case "time":
			err = decodeString(dec, &v.Time)
		case "value":
			if dec.PeekKind() != '{' {
				err = jsonv2.UnmarshalDecode(dec, &v.Value)
				break
			}
			if v.Value == nil {
				v.Value = new(DataValue)
			}
			err = v.Value.UnmarshalJSONFrom(dec)
		case "timestamp":
			err = jsonv2.UnmarshalDecode(dec, &v.Timestamp)
		default:
			err = dec.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// decodeString reads a string member; null clears it.
func decodeString(dec *jsontext.Decoder, p **string) error {
	switch dec.PeekKind() {
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		s := tok.String()
		*p = &s
		return nil
	case 'n':
		*p = nil
		_, err := dec.ReadToken()
		return err
	}
	return jsonv2.UnmarshalDecode(dec, p) // its error names the member
}

// decodeBool reads a boolean member; null clears it.
func decodeBool(dec *jsontext.Decoder, p **bool) error {
	switch dec.PeekKind() {
	case 't', 'f':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		b := tok.Bool()
		*p = &b
		return nil
	case 'n':
		*p = nil
		_, err := dec.ReadToken()
		return err
	}
	return jsonv2.UnmarshalDecode(dec, p)
}

// decodeDouble reads a Double member; null clears it.
func decodeDouble(dec *jsontext.Decoder, p **Double) error {
	switch dec.PeekKind() {
	case '0', '"':
		d := new(Double)
		// Through encoding/json/v2, whose error names the member.
		if err := jsonv2.UnmarshalDecode(dec, d); err != nil {
			return err
		}
		*p = d
		return nil
	case 'n':
		*p = nil
		_, err := dec.ReadToken()
		return err
	}
	return jsonv2.UnmarshalDecode(dec, p)
}
