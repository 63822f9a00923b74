package model

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const uuid = "0b6f7f9e-3b1a-4c2d-9e8f-1a2b3c4d5e6f"

// v is a short way to write an expected violation.
func v(field, constraint string) Violation { return Violation{Field: field, Constraint: constraint} }

const (
	notNull   = "Member must not be null"
	idPattern = `Member must satisfy regular expression pattern: ^[a-zA-Z_0-9][a-zA-Z_\-0-9]*[a-zA-Z0-9]+$`
	namePat   = `Member must satisfy regular expression pattern: ^[a-zA-Z_\-0-9]+$`
	entityPat = `Member must satisfy regular expression pattern: ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|^[a-zA-Z0-9][a-zA-Z_\-0-9.:]*[a-zA-Z0-9]+$`
	parentPat = `Member must satisfy regular expression pattern: ^\$ROOT|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|^[a-zA-Z0-9][a-zA-Z_\-0-9.:]*[a-zA-Z0-9]+$`
	namePatEN = `Member must satisfy regular expression pattern: ^[^\u0000-\u001F\u007F]+$`
)

func maxLen(n int) string { return fmt.Sprintf("Member must have length less than or equal to %d", n) }
func minLen(n int) string {
	return fmt.Sprintf("Member must have length greater than or equal to %d", n)
}

func entity(name string) *CreateEntityInput {
	return &CreateEntityInput{WorkspaceId: "ws1", EntityName: String(name)}
}

func putEntries(n int) []PropertyValueEntry {
	out := make([]PropertyValueEntry, n)
	for i := range out {
		out[i] = PropertyValueEntry{
			EntityPropertyReference: &EntityPropertyReference{EntityId: String("e1"), ComponentName: String("c"), PropertyName: String("p")},
			PropertyValues:          []PropertyValue{{Value: &DataValue{DoubleValue: NewDouble(1)}, Time: String("2023-11-14T22:13:20.5Z")}},
		}
	}
	return out
}

func tags(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

func TestValidate(t *testing.T) {
	enumUpdate := "Member must satisfy enum value set: [UPDATE, DELETE]"
	union := "Member must have exactly one of [parentEntityId, componentTypeId, externalId] set"
	tests := []struct {
		name string
		in   interface{ Validate() error }
		want []Violation // nil: valid
	}{
		// required
		{"required: empty CreateEntity", &CreateEntityInput{}, []Violation{v("workspaceId", notNull), v("entityName", notNull)}},
		{"required: valid CreateEntity", entity("Mixer 1"), nil},
		{"required: empty label", &GetEntityInput{WorkspaceId: "ws1"}, []Violation{v("entityId", notNull)}},
		{"required: query list", &UntagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1")}, []Violation{v("tagKeys", notNull)}},
		{"required: nested", &UpdateEntityInput{WorkspaceId: "ws1", EntityId: "e1", ParentEntityUpdate: &ParentEntityUpdateRequest{}}, []Violation{v("parentEntityUpdate.updateType", notNull)}},
		{"required: no required members", &ListWorkspacesInput{}, nil},
		{"required: empty list is present", &TagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), Tags: map[string]string{}}, nil},

		// length of strings, in code points
		{"length: max", &GetWorkspaceInput{WorkspaceId: strings.Repeat("a", 2049)}, []Violation{v("workspaceId", maxLen(2048))}},
		{"length: id max 128", &DeleteWorkspaceInput{WorkspaceId: strings.Repeat("a", 129)}, []Violation{v("workspaceId", maxLen(128))}},
		{"length: id exactly 128", &DeleteWorkspaceInput{WorkspaceId: strings.Repeat("a", 128)}, nil},
		{"length: min", &TagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), Tags: map[string]string{"k": ""}}, []Violation{v("tags.k", minLen(1))}},
		{"length: 256 two-byte runes fit", entity(strings.Repeat("é", 256)), nil},
		{"length: 257 two-byte runes do not", entity(strings.Repeat("é", 257)), []Violation{v("entityName", maxLen(256))}},
		{"length: 256 four-byte runes fit", entity(strings.Repeat("🏭", 256)), nil},
		{"length: arn min 20", &ListTagsForResourceInput{ResourceARN: String("arn:aws:x")}, []Violation{v("resourceARN", minLen(20)), v("resourceARN", `Member must satisfy regular expression pattern: ^arn:((aws)|(aws-cn)|(aws-us-gov)):iottwinmaker:[a-z0-9-]+:[0-9]{12}:[\/a-zA-Z0-9_\-\.:]+$`)}},

		// patterns (find semantics)
		{"pattern: id of one char", &DeleteWorkspaceInput{WorkspaceId: "a"}, []Violation{v("workspaceId", idPattern)}},
		{"pattern: id ends with dash", &DeleteWorkspaceInput{WorkspaceId: "ws-"}, []Violation{v("workspaceId", idPattern)}},
		{"pattern: id with slash", &DeleteWorkspaceInput{WorkspaceId: "ws/1"}, []Violation{v("workspaceId", idPattern)}},
		{"pattern: id with newline", &DeleteWorkspaceInput{WorkspaceId: "ws1\n"}, []Violation{v("workspaceId", idPattern)}},
		{"pattern: workspace ARN accepted by GetWorkspace", &GetWorkspaceInput{WorkspaceId: "arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"}, nil},
		{"pattern: workspace ARN refused by DeleteWorkspace", &DeleteWorkspaceInput{WorkspaceId: "arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"}, []Violation{v("workspaceId", idPattern)}},
		{"pattern: entityId uuid", &GetEntityInput{WorkspaceId: "ws1", EntityId: uuid}, nil},
		{"pattern: entityId uuid prefix is enough (first alternative is not end-anchored)", &GetEntityInput{WorkspaceId: "ws1", EntityId: uuid + "/!"}, nil},
		{"pattern: entityId with dots and colons", &GetEntityInput{WorkspaceId: "ws1", EntityId: "site.a:mixer-1"}, nil},
		{"pattern: entityId $ROOT refused", &GetEntityInput{WorkspaceId: "ws1", EntityId: "$ROOT"}, []Violation{v("entityId", entityPat)}},
		{"pattern: parentEntityId $ROOT", &CreateEntityInput{WorkspaceId: "ws1", EntityName: String("x"), ParentEntityId: String("$ROOT")}, nil},
		{"pattern: parentEntityId entity", &CreateEntityInput{WorkspaceId: "ws1", EntityName: String("x"), ParentEntityId: String("FLOOR_1")}, nil},
		{"pattern: parentEntityId bad", &CreateEntityInput{WorkspaceId: "ws1", EntityName: String("x"), ParentEntityId: String("$SCENES")}, []Violation{v("parentEntityId", parentPat)}},
		{"pattern: list filter $ROOT", &ListEntitiesInput{WorkspaceId: "ws1", Filters: []ListEntitiesFilter{{ParentEntityId: String("$ROOT")}}}, nil},
		{"pattern: entityName NUL", entity("a\x00b"), []Violation{v("entityName", namePatEN)}},
		{"pattern: entityName unit separator", entity("a\x1fb"), []Violation{v("entityName", namePatEN)}},
		{"pattern: entityName DEL", entity("a\x7fb"), []Violation{v("entityName", namePatEN)}},
		{"pattern: entityName tab", entity("a\tb"), []Violation{v("entityName", namePatEN)}},
		{"pattern: entityName Unicode and spaces", entity("Cookie Line 1 – Mixer ü"), nil},
		{"pattern: entityName C1 control is allowed", entity("a\u0085b"), nil},
		{"pattern: expression", &DataValue{Expression: String("${Parameters.tableName}")}, nil},
		{"pattern: expression bad", &DataValue{Expression: String("${Parameters.1x}")}, []Violation{v("expression", `Member must satisfy regular expression pattern: ^(^\$\{Parameters\.[a-zA-z]+([a-zA-z_0-9]*)}$)$`)}},
		{"pattern: tag key letters of any script", &TagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), Tags: map[string]string{"Ключ zone:1": "v"}}, nil},
		{"pattern: query statement with newlines", &ExecuteQueryInput{WorkspaceId: String("ws1"), QueryStatement: String("SELECT e\nFROM EntityGraph MATCH (e)")}, nil},
		{"pattern: role ARN", &CreateSyncJobInput{WorkspaceId: "ws1", SyncSource: "SITEWISE", SyncRole: String("arn:aws:iam::123456789012:role/sync")}, nil},
		{"pattern: sync source", &DeleteSyncJobInput{WorkspaceId: "ws1", SyncSource: "SITE WISE"}, []Violation{v("syncSource", `Member must satisfy regular expression pattern: ^[a-zA-Z_0-9]+$`)}},
		{"pattern: scene content location", &CreateSceneInput{WorkspaceId: "ws1", SceneId: String("s1"), ContentLocation: String("https://x/y")}, []Violation{v("contentLocation", `Member must satisfy regular expression pattern: ^[sS]3://[A-Za-z0-9._/-]+$`)}},

		// ranges
		{"range: max", &ListWorkspacesInput{MaxResults: Int32(201)}, []Violation{v("maxResults", "Member must have value less than or equal to 200")}},
		{"range: 200", &ListWorkspacesInput{MaxResults: Int32(200)}, nil},
		{"range: 0", &ListWorkspacesInput{MaxResults: Int32(0)}, nil},
		{"range: min", &ListWorkspacesInput{MaxResults: Int32(-1)}, []Violation{v("maxResults", "Member must have value greater than or equal to 0")}},
		{"range: query min 1", &ExecuteQueryInput{WorkspaceId: String("ws1"), QueryStatement: String("SELECT e FROM EntityGraph MATCH (e)"), MaxResults: Int32(0)}, []Violation{v("maxResults", "Member must have value greater than or equal to 1")}},
		{"range: query max 100", &ExecuteQueryInput{WorkspaceId: String("ws1"), QueryStatement: String("SELECT e FROM EntityGraph MATCH (e)"), MaxResults: Int32(101)}, []Violation{v("maxResults", "Member must have value less than or equal to 100")}},

		// enums
		{"enum: bad", &UpdateEntityInput{WorkspaceId: "ws1", EntityId: "e1", ParentEntityUpdate: &ParentEntityUpdateRequest{UpdateType: "MOVE"}}, []Violation{v("parentEntityUpdate.updateType", enumUpdate)}},
		{"enum: case matters", &UpdateEntityInput{WorkspaceId: "ws1", EntityId: "e1", ParentEntityUpdate: &ParentEntityUpdateRequest{UpdateType: "delete"}}, []Violation{v("parentEntityUpdate.updateType", enumUpdate)}},
		{"enum: good", &UpdateEntityInput{WorkspaceId: "ws1", EntityId: "e1", ParentEntityUpdate: &ParentEntityUpdateRequest{UpdateType: ParentEntityUpdateTypeDelete}}, nil},
		{"enum: RESET_VALUE", entityWithProperty(PropertyRequest{UpdateType: PropertyUpdateTypeResetValue}), nil},
		{"enum: lower-case source type", &ListMetadataTransferJobsInput{SourceType: "s3", DestinationType: "IOTTWINMAKER"}, []Violation{v("destinationType", "Member must satisfy enum value set: [s3, iotsitewise, iottwinmaker]")}},
		{"enum: required enum absent", &ListMetadataTransferJobsInput{SourceType: SourceTypeS3}, []Violation{v("destinationType", notNull)}},

		// unions
		{"union: none set", &ListEntitiesInput{WorkspaceId: "ws1", Filters: []ListEntitiesFilter{{}}}, []Violation{v("filters[0]", union)}},
		{"union: two set", &ListEntitiesInput{WorkspaceId: "ws1", Filters: []ListEntitiesFilter{{ComponentTypeId: String("a.b"), ExternalId: String("x")}}}, []Violation{v("filters[0]", union)}},
		{"union: one set", &ListEntitiesInput{WorkspaceId: "ws1", Filters: []ListEntitiesFilter{{ComponentTypeId: String("com.example.type")}}}, nil},
		{"union: false counts as set", &ListComponentTypesInput{WorkspaceId: "ws1", Filters: []ListComponentTypesFilter{{IsAbstract: Bool(false)}}}, nil},
		{"union: enum member", &ListSyncResourcesInput{WorkspaceId: "ws1", SyncSource: "SITEWISE", Filters: []SyncResourceFilter{{State: SyncResourceStateInSync}, {}}}, []Violation{v("filters[1]", "Member must have exactly one of [state, resourceType, resourceId, externalId] set")}},
		{"union: member checked too", &ListEntitiesInput{WorkspaceId: "ws1", Filters: []ListEntitiesFilter{{ParentEntityId: String("bad id")}}}, []Violation{v("filters[0].parentEntityId", parentPat)}},

		// list sizes
		{"list: too few", &BatchPutPropertyValuesInput{WorkspaceId: "ws1", Entries: []PropertyValueEntry{}}, []Violation{v("entries", minLen(1))}},
		{"list: ten", &BatchPutPropertyValuesInput{WorkspaceId: "ws1", Entries: putEntries(10)}, nil},
		{"list: too many", &BatchPutPropertyValuesInput{WorkspaceId: "ws1", Entries: putEntries(11)}, []Violation{v("entries", maxLen(10))}},
		{"list: exactly one source", &CreateMetadataTransferJobInput{Sources: []SourceConfiguration{{Type: SourceTypeS3}, {Type: SourceTypeS3}}, Destination: &DestinationConfiguration{Type: DestinationTypeIottwinmaker}}, []Violation{v("sources", maxLen(1))}},
		{"list: unique items", &CreateComponentTypeInput{WorkspaceId: "ws1", ComponentTypeId: "com.example.t", PropertyGroups: map[string]PropertyGroupRequest{"g": {GroupType: GroupTypeTabular, PropertyNames: []string{"a", "b", "a"}}}}, []Violation{v("propertyGroups.g.propertyNames", "Member must have unique items")}},
		{"list: element pattern", &UntagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), TagKeys: []string{"ok", "bad#"}}, []Violation{v("tagKeys[1]", `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)}},

		// map sizes and keys
		{"map: 50 tags", &TagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), Tags: tags(50)}, nil},
		{"map: 51 tags", &TagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), Tags: tags(51)}, []Violation{v("tags", maxLen(50))}},
		{"map: key pattern", &CreateEntityInput{WorkspaceId: "ws1", EntityName: String("x"), Components: map[string]ComponentRequest{"bad key!": {}}}, []Violation{v("components", "Map keys must satisfy constraint: ["+namePat+"]")}},
		{"map: key length", &TagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), Tags: map[string]string{strings.Repeat("k", 129): "v"}}, []Violation{v("tags", "Map keys must satisfy constraint: ["+maxLen(128)+"]")}},
		{"map: empty key", &TagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), Tags: map[string]string{"": "v"}}, []Violation{v("tags", "Map keys must satisfy constraint: ["+minLen(1)+"]")}},
		{"map: composite path key", &CreateEntityInput{WorkspaceId: "ws1", EntityName: String("x"), CompositeComponents: map[string]CompositeComponentRequest{"a/b/c": {}, "a b": {}}}, []Violation{v("compositeComponents", `Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ^[a-zA-Z_\-0-9/]+$]`)}},
		{"map: data value map size", &DataValue{MapValue: dataValues(51)}, []Violation{v("mapValue", maxLen(50))}},

		// nested paths
		{"nested: map of map", entityWithProperty(PropertyRequest{Value: &DataValue{StringValue: String(strings.Repeat("x", 257))}}), []Violation{v("components.Comp1.properties.temp.value.stringValue", maxLen(256))}},
		{"nested: list of list", &BatchPutPropertyValuesInput{WorkspaceId: "ws1", Entries: func() []PropertyValueEntry {
			e := putEntries(4)
			e[3].PropertyValues[0].Value = nil
			return e
		}()}, []Violation{v("entries[3].propertyValues[0].value", notNull)}},
		{"nested: recursive data type", &DataType{Type: TypeList, NestedType: &DataType{Type: TypeMap, NestedType: &DataType{}}}, []Violation{v("nestedType.nestedType.type", notNull)}},
		{"nested: quoted key", &DataValue{MapValue: map[string]DataValue{"a.b": {StringValue: String("")}}}, []Violation{v(`mapValue["a.b"].stringValue`, minLen(1))}},
		{"nested: list in map value", &DataValue{MapValue: map[string]DataValue{"k": {ListValue: []DataValue{{}, {RelationshipValue: &RelationshipValue{TargetEntityId: String("-bad")}}}}}}, []Violation{v("mapValue.k.listValue[1].relationshipValue.targetEntityId", entityPat)}},
		{"nested: lambda arn required", &CreateComponentTypeInput{WorkspaceId: "ws1", ComponentTypeId: "com.example.t", Functions: map[string]FunctionRequest{"dataReader": {ImplementedBy: &DataConnector{Lambda: &LambdaFunction{}}}}}, []Violation{v("functions.dataReader.implementedBy.lambda.arn", notNull)}},
		{"nested: tabular", &GetPropertyValueInput{WorkspaceId: "ws1", SelectedProperties: []string{"a"}, TabularConditions: &TabularConditions{OrderBy: []OrderBy{{Order: "UP"}}}}, []Violation{v("tabularConditions.orderBy[0].order", "Member must satisfy enum value set: [ASCENDING, DESCENDING]"), v("tabularConditions.orderBy[0].propertyName", notNull)}},

		// outputs are structures too
		{"output: required booleans", &PropertyDefinitionResponse{DataType: &DataType{Type: TypeDouble}, IsTimeSeries: Bool(true)}, []Violation{
			v("isRequiredInEntity", notNull), v("isExternalId", notNull), v("isStoredExternally", notNull),
			v("isImported", notNull), v("isFinal", notNull), v("isInherited", notNull)}},
		{"output: nothing to check", &DeleteSceneOutput{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %T %v", err, err)
			}
			if !reflect.DeepEqual(ve.Violations, tc.want) {
				t.Fatalf("violations:\n got %q\nwant %q", ve.Violations, tc.want)
			}
		})
	}
}

func entityWithProperty(p PropertyRequest) *CreateEntityInput {
	in := entity("x")
	in.Components = map[string]ComponentRequest{
		"Comp1": {ComponentTypeId: String("com.example.t"), Properties: map[string]PropertyRequest{"temp": p}},
	}
	return in
}

func dataValues(n int) map[string]DataValue {
	m := map[string]DataValue{}
	for i := range n {
		m[fmt.Sprint(i)] = DataValue{IntegerValue: Int32(int32(i))}
	}
	return m
}

func TestValidationErrorMessage(t *testing.T) {
	err := (&ListComponentTypesInput{WorkspaceId: "-x-", MaxResults: Int32(500)}).Validate()
	want := `2 validation errors detected: Value at 'workspaceId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z_0-9][a-zA-Z_\-0-9]*[a-zA-Z0-9]+$; ` +
		`Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 200`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	err = (&GetWorkspaceInput{}).Validate()
	if want := "1 validation error detected: Value at 'workspaceId' failed to satisfy constraint: Member must not be null"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestValidationNeverEchoesValues(t *testing.T) {
	const secret = "hunter2-SECRET-value"
	in := &CreateEntityInput{
		WorkspaceId: secret + "!",
		EntityName:  String(secret + "\x00"),
		Description: String(strings.Repeat(secret, 200)),
		Components: map[string]ComponentRequest{"c": {Properties: map[string]PropertyRequest{"p": {Value: &DataValue{
			StringValue: String(strings.Repeat(secret, 20)),
			Expression:  String(secret),
		}}}}},
		Tags: map[string]string{"k": strings.Repeat(secret, 20), secret + "#": "v"},
	}
	err := in.Validate()
	if err == nil {
		t.Fatal("want violations")
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("message echoes a value: %v", err)
	}
	if n := len(err.(*ValidationError).Violations); n != 7 {
		t.Fatalf("got %d violations: %v", n, err)
	}
}

func TestValidationCap(t *testing.T) {
	in := &BatchPutPropertyValuesInput{WorkspaceId: "ws1", Entries: putEntries(10)}
	for i := range in.Entries {
		in.Entries[i].EntityPropertyReference.PropertyName = nil
		in.Entries[i].PropertyValues[0].Value = nil
	}
	var ve *ValidationError
	if !errors.As(in.Validate(), &ve) || len(ve.Violations) != MaxViolations {
		t.Fatalf("want %d violations, got %v", MaxViolations, ve)
	}
	if ve.Violations[0].Field != "entries[0].entityPropertyReference.propertyName" || ve.Violations[9].Field != "entries[4].propertyValues[0].value" {
		t.Fatalf("unexpected order: %v", ve.Violations)
	}
	if !strings.HasPrefix(ve.Error(), "10 validation errors detected: ") {
		t.Fatal(ve.Error())
	}
}

func TestValidationDeterministic(t *testing.T) {
	in := &TagResourceInput{ResourceARN: String("arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"), Tags: map[string]string{}}
	for i := range 30 {
		in.Tags[fmt.Sprintf("k%02d", i)] = ""
	}
	first := in.Validate().Error()
	for range 20 {
		if got := in.Validate().Error(); got != first {
			t.Fatalf("messages differ:\n%s\n%s", first, got)
		}
	}
	if !strings.Contains(first, "'tags.k00'") {
		t.Fatal(first)
	}
}

func TestValidateNilReceiver(t *testing.T) {
	var in *GetEntityInput
	if err := in.Validate(); err == nil || !strings.Contains(err.Error(), "'workspaceId'") {
		t.Fatalf("got %v", err)
	}
}

func TestEnumHelpers(t *testing.T) {
	if got := PropertyUpdateType("").Values(); len(got) != 4 || got[3] != PropertyUpdateTypeResetValue {
		t.Fatalf("Values: %v", got)
	}
	if !TypeRelationship.IsValid() || Type("relationship").IsValid() || Type("").IsValid() {
		t.Fatal("IsValid")
	}
	if PricingTierTier1 != "TIER_1" || SourceTypeIotsitewise != "iotsitewise" || StateActive != "ACTIVE" {
		t.Fatal("constant values")
	}
}

func TestPathRendering(t *testing.T) {
	for _, tc := range []struct {
		stack []seg
		last  seg
		want  string
	}{
		{nil, mem("a"), "a"},
		{nil, here, ""},
		{[]seg{here, mem("a"), idx(3)}, mem("b"), "a[3].b"},
		{[]seg{mem("a"), idx(3)}, here, "a[3]"},
		{[]seg{mem("m")}, mkey("Comp_1-x"), "m.Comp_1-x"},
		{[]seg{mem("m")}, mkey("a/b:c@d"), "m.a/b:c@d"},
		{[]seg{mem("m")}, mkey("a b"), `m["a b"]`},
		{[]seg{mem("m")}, mkey("a.b"), `m["a.b"]`},
		{[]seg{mem("m")}, mkey("line\nbreak"), `m["line\nbreak"]`},
		{[]seg{mem("m")}, mkey(""), `m[""]`},
		{[]seg{mem("m")}, mkey(strings.Repeat("é", 70)), `m["` + strings.Repeat("é", 64) + `..."]`},
		{nil, mkey("top"), "top"},
	} {
		if got := renderPath(tc.stack, tc.last); got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
	}
}

func BenchmarkValidateBatchPut(b *testing.B) {
	in := &BatchPutPropertyValuesInput{WorkspaceId: "ws1", Entries: putEntries(10)}
	for i := range in.Entries {
		in.Entries[i].PropertyValues = append(in.Entries[i].PropertyValues, putEntries(1)[0].PropertyValues[0])
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := in.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRuleMemo: a rule's remembered answers are the expression's, on the
// first look-up and the next, across the memo's restart and past its
// length bound.
func TestRuleMemo(t *testing.T) {
	r := &stringRule{minLen: -1, maxLen: -1, pattern: `^[a-z]+$`, re: regexp.MustCompile(`^[a-z]+$`)}
	for i := range 3 * memoStrings {
		s := strconv.Itoa(i)
		if i%2 == 0 {
			s = strings.Repeat("a", i%(2*memoLen))
		}
		want := r.re.MatchString(s)
		if first, again := r.match(s), r.match(s); first != want || again != want {
			t.Fatalf("match(%q) is not %v", s, want)
		}
	}
	if len(r.matched) > memoStrings {
		t.Errorf("the memo holds %d strings, more than %d", len(r.matched), memoStrings)
	}
}
