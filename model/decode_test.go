package model

import (
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// sameDecoding decodes in into a T through its UnmarshalJSONFrom and into
// its method-less twin F by reflection, and reports how they differ.
func sameDecoding[T, F any](in []byte) error {
	var fast T
	var slow F
	errFast := jsonv2.Unmarshal(in, &fast)
	errSlow := jsonv2.Unmarshal(in, &slow)
	switch {
	case (errFast == nil) != (errSlow == nil):
		return fmt.Errorf("errors differ: %v / %v", errFast, errSlow)
	case errFast != nil:
		// Malformed JSON fails either way (where the tokenizer says it
		// noticed may differ by a byte); anything else fails the same,
		// but for the names of the twin types.
		var synFast, synSlow *jsontext.SyntacticError
		if errors.As(errFast, &synFast) && errors.As(errSlow, &synSlow) {
			return nil
		}
		if norm(errFast.Error()) != norm(errSlow.Error()) {
			return fmt.Errorf("errors differ:\n %v\n %v", errFast, errSlow)
		}
		return nil
	}
	a, _ := jsonv2.Marshal(fast) // NaN is not DeepEqual to itself
	b, _ := jsonv2.Marshal((*T)(reflect.ValueOf(&slow).UnsafePointer()))
	if string(a) != string(b) {
		return fmt.Errorf("values differ:\n %s\n %s", a, b)
	}
	return nil
}

var twinNames = strings.NewReplacer("dataValueFields", "DataValue", "propertyValueFields", "PropertyValue",
	"dataValueTwin", "DataValue", "propertyValueTwin", "PropertyValue")

func norm(s string) string { return twinNames.Replace(s) }

// dataValueTwin and propertyValueTwin are the types decoded without the types'
// methods, all the way down.
type (
	dataValueTwin struct {
		BooleanValue      *bool                    `json:"booleanValue,omitempty"`
		DoubleValue       *Double                  `json:"doubleValue,omitempty"`
		IntegerValue      *int32                   `json:"integerValue,omitempty"`
		LongValue         *int64                   `json:"longValue,omitempty"`
		StringValue       *string                  `json:"stringValue,omitempty"`
		ListValue         []dataValueTwin          `json:"listValue,omitempty"`
		MapValue          map[string]dataValueTwin `json:"mapValue,omitempty"`
		RelationshipValue *RelationshipValue       `json:"relationshipValue,omitempty"`
		Expression        *string                  `json:"expression,omitempty"`
	}
	propertyValueTwin struct {
		Timestamp *Timestamp     `json:"timestamp,omitempty"`
		Value     *dataValueTwin `json:"value"`
		Time      *string        `json:"time,omitempty"`
	}
)

var decodeSeeds = []string{
	`[{"time":"2026-11-27T10:00:00Z","value":{"doubleValue":21.5}}]`,
	`[{"time":"t","value":{"doubleValue":"NaN"}},{"value":{"doubleValue":"Infinity","stringValue":"s"}}]`,
	`[{"timestamp":1700000000,"value":{"longValue":12,"integerValue":-3}}]`,
	`[{"value":{"booleanValue":true,"expression":"x","unknown":[1,{"a":2}]}},null,{"value":null,"time":null}]`,
	`[{"value":{"listValue":[{"doubleValue":1},{"stringValue":"a"}],"mapValue":{"k":{"booleanValue":false}}}}]`,
	`[{"value":{"relationshipValue":{"targetEntityId":"e","targetComponentName":"c"}}}]`,
	`[{"value":{"stringValue":1}}]`, `[{"value":{"doubleValue":"nan"}}]`, `[{"value":{"doubleValue":1e999}}]`,
	`[{"value":{"longValue":1.5}}]`, `[{"value":{"integerValue":3000000000}}]`, `[{"value":{"booleanValue":"true"}}]`,
	`[{"time":5}]`, `[{"value":7}]`, `[{"value":{"a":1,"a":2}}]`, `[{"time":"a","time":"b"}]`, `[{"Time":"a","VALUE":{}}]`,
	`[{"value":{"doubleValue":null,"stringValue":null,"booleanValue":null}}]`, `[{"time":"\u00e9\ud800"}]`,
	`[{"value":{"listValue":[{"stringValue":2}]}}]`, `[{"value":{"mapValue":{"k":{"doubleValue":"x"}}}}]`, `[{"value":`, `[1]`, `{}`,
}

func TestDecodeValues(t *testing.T) {
	for _, in := range decodeSeeds {
		if err := sameDecoding[[]PropertyValue, []propertyValueTwin]([]byte(in)); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

// FuzzDecodeValues: property values decode to the same values, and fail
// with the same errors, as encoding/json/v2 decodes them by reflection.
func FuzzDecodeValues(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if err := sameDecoding[[]PropertyValue, []propertyValueTwin]([]byte(in)); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if err := sameDecoding[DataValue, dataValueTwin]([]byte(in)); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
	})
}
