// Package model holds the shapes of the AWS IoT TwinMaker API (REST-JSON,
// API version 2021-11-29) as Go types, generated from the service's Smithy
// model, with their validation, their HTTP bindings and the table of the 40
// operations. The HTTP layer decodes requests into these types and the
// services use them as their vocabulary.
//
// # Conventions of the generated code (zz_generated.go)
//
//   - Type names are the Smithy shape names (EntitySummary, DataValue),
//     except that an operation's input and output are named <Operation>Input
//     and <Operation>Output (CreateEntityInput, CreateEntityOutput).
//   - Field names are the member names with the first letter upper-cased and
//     nothing else changed: entityId → EntityId, componentTypeId →
//     ComponentTypeId, resourceARN → ResourceARN, s3Location → S3Location.
//     JSON tags carry the exact wire names; optional members have omitempty
//     (lists and maps omitzero, so an empty one is sent as [] or {} and only
//     an absent one, nil, is left out), required ones do not (so an output
//     always carries them).
//   - Scalars are pointers, so presence is known: *string, *bool, *int32
//     (integer), *int64 (long), *Double (double), *Timestamp (timestamp).
//     Nested structures and unions are pointers; lists are slices and maps are
//     map[string]T, holding values (not pointers).
//   - Enumerations are string types with constants (StateActive,
//     PropertyUpdateTypeResetValue) and are held by value: the empty string
//     means "absent". Values() lists them; IsValid() checks membership.
//   - Members bound to URI labels are plain strings (a label is never absent;
//     empty means missing) with json:"-". Members bound to the query string
//     keep their pointer or slice type and also have json:"-".
//   - Document shapes (ExecuteQuery's rowData cells) are any: a service puts
//     any value encoding/json can marshal there.
//   - Unions are structs of pointers; Validate requires exactly one set.
//
// # Validation
//
// Every structure has Validate, which checks required members, lengths (in
// Unicode code points for strings; items and entries for lists and maps),
// ranges, enum membership, unique items, union exactly-one, patterns (with
// Smithy's find semantics, translated from ECMA 262 to RE2 when generated)
// and map keys, recursively. Violations are collected, at most
// MaxViolations, into a *ValidationError whose message follows the AWS
// (Coral) wording without echoing any value.
//
// Field paths name members by their wire names, list items by a 0-based
// index and map entries by key:
//
//	workspaceId
//	entries[3].propertyValues[0].value
//	components.Comp1.properties.temp.value.stringValue
//
// A key made of anything but letters, digits and _-:/@+= (or longer than
// 128 bytes) is written quoted and cut to 64 characters: mapValue["a.b"].
// A broken map key is reported on the map itself ("Map keys must satisfy
// constraint: [...]"), never by its value.
package model

//go:generate go run ./internal/gen -in ../../shared/reference/iottwinmaker.smithy.json -out zz_generated.go
