package model

import (
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The operations table of twinmaker-api-notes.md §2: method, URI, host
// prefix and modelled errors (abbreviated as there).
var wantOps = []struct {
	name, method, path, prefix, errs string
}{
	{"CreateWorkspace", "POST", "/workspaces/{workspaceId}", "api.", "AD,CF,IS,SQ,TH,VA"},
	{"GetWorkspace", "GET", "/workspaces/{workspaceId}", "api.", "IS,NF,SQ,TH,VA"},
	{"UpdateWorkspace", "PUT", "/workspaces/{workspaceId}", "api.", "AD,IS,NF,SQ,TH,VA"},
	{"DeleteWorkspace", "DELETE", "/workspaces/{workspaceId}", "api.", "AD,IS,NF,TH,VA"},
	{"ListWorkspaces", "POST", "/workspaces-list", "api.", "IS,SQ,TH,VA"},
	{"CreateComponentType", "POST", "/workspaces/{workspaceId}/component-types/{componentTypeId}", "api.", "AD,CF,IS,SQ,TH,VA"},
	{"GetComponentType", "GET", "/workspaces/{workspaceId}/component-types/{componentTypeId}", "api.", "AD,IS,NF,TH,VA"},
	{"UpdateComponentType", "PUT", "/workspaces/{workspaceId}/component-types/{componentTypeId}", "api.", "AD,IS,NF,SQ,TH,VA"},
	{"DeleteComponentType", "DELETE", "/workspaces/{workspaceId}/component-types/{componentTypeId}", "api.", "AD,IS,NF,TH,VA"},
	{"ListComponentTypes", "POST", "/workspaces/{workspaceId}/component-types-list", "api.", "AD,IS,TH,VA"},
	{"CreateEntity", "POST", "/workspaces/{workspaceId}/entities", "api.", "AD,CF,IS,SQ,TH,VA"},
	{"GetEntity", "GET", "/workspaces/{workspaceId}/entities/{entityId}", "api.", "IS,NF,SQ,TH,VA"},
	{"UpdateEntity", "PUT", "/workspaces/{workspaceId}/entities/{entityId}", "api.", "AD,CF,IS,NF,SQ,TH,VA"},
	{"DeleteEntity", "DELETE", "/workspaces/{workspaceId}/entities/{entityId}", "api.", "IS,NF,SQ,TH,VA"},
	{"ListEntities", "POST", "/workspaces/{workspaceId}/entities-list", "api.", "IS,SQ,TH,VA"},
	{"ListComponents", "POST", "/workspaces/{workspaceId}/entities/{entityId}/components-list", "api.", "AD,IS,NF,TH,VA"},
	{"ListProperties", "POST", "/workspaces/{workspaceId}/properties-list", "api.", "AD,IS,NF,TH,VA"},
	{"CreateScene", "POST", "/workspaces/{workspaceId}/scenes", "api.", "AD,CF,IS,SQ,TH,VA"},
	{"GetScene", "GET", "/workspaces/{workspaceId}/scenes/{sceneId}", "api.", "AD,IS,NF,TH,VA"},
	{"UpdateScene", "PUT", "/workspaces/{workspaceId}/scenes/{sceneId}", "api.", "AD,IS,NF,TH,VA"},
	{"DeleteScene", "DELETE", "/workspaces/{workspaceId}/scenes/{sceneId}", "api.", "AD,IS,NF,TH,VA"},
	{"ListScenes", "POST", "/workspaces/{workspaceId}/scenes-list", "api.", "AD,IS,TH,VA"},
	{"BatchPutPropertyValues", "POST", "/workspaces/{workspaceId}/entity-properties", "data.", "IS,NF,TH,VA"},
	{"GetPropertyValue", "POST", "/workspaces/{workspaceId}/entity-properties/value", "data.", "AD,CnF,CnT,IS,NF,TH,VA"},
	{"GetPropertyValueHistory", "POST", "/workspaces/{workspaceId}/entity-properties/history", "data.", "AD,CnF,CnT,IS,NF,TH,VA"},
	{"ExecuteQuery", "POST", "/queries/execution", "api.", "AD,IS,QT,SQ,TH,VA"},
	{"CreateSyncJob", "POST", "/workspaces/{workspaceId}/sync-jobs/{syncSource}", "api.", "AD,CF,IS,SQ,TH,VA"},
	{"GetSyncJob", "GET", "/sync-jobs/{syncSource}", "api.", "AD,IS,NF,SQ,TH,VA"},
	{"DeleteSyncJob", "DELETE", "/workspaces/{workspaceId}/sync-jobs/{syncSource}", "api.", "AD,IS,NF,SQ,TH,VA"},
	{"ListSyncJobs", "POST", "/workspaces/{workspaceId}/sync-jobs-list", "api.", "AD,IS,SQ,TH,VA"},
	{"ListSyncResources", "POST", "/workspaces/{workspaceId}/sync-jobs/{syncSource}/resources-list", "api.", "AD,IS,SQ,TH,VA"},
	{"CreateMetadataTransferJob", "POST", "/metadata-transfer-jobs", "api.", "AD,CF,IS,NF,SQ,TH,VA"},
	{"GetMetadataTransferJob", "GET", "/metadata-transfer-jobs/{metadataTransferJobId}", "api.", "AD,IS,NF,TH,VA"},
	{"CancelMetadataTransferJob", "PUT", "/metadata-transfer-jobs/{metadataTransferJobId}/cancel", "api.", "AD,CF,IS,NF,TH,VA"},
	{"ListMetadataTransferJobs", "POST", "/metadata-transfer-jobs-list", "api.", "AD,IS,TH,VA"},
	{"GetPricingPlan", "GET", "/pricingplan", "api.", "AD,IS,TH,VA"},
	{"UpdatePricingPlan", "POST", "/pricingplan", "api.", "AD,IS,TH,VA"},
	{"TagResource", "POST", "/tags", "api.", "AD,NF,TT"},
	{"UntagResource", "DELETE", "/tags", "api.", "AD,NF"},
	{"ListTagsForResource", "POST", "/tags-list", "api.", "AD,NF"},
}

var errAbbrev = map[string]string{
	"AD": "AccessDeniedException", "CF": "ConflictException", "IS": "InternalServerException",
	"NF": "ResourceNotFoundException", "SQ": "ServiceQuotaExceededException", "TH": "ThrottlingException",
	"VA": "ValidationException", "CnF": "ConnectorFailureException", "CnT": "ConnectorTimeoutException",
	"QT": "QueryTimeoutException", "TT": "TooManyTagsException",
}

func TestOperationTable(t *testing.T) {
	if len(Operations) != 40 || len(wantOps) != 40 {
		t.Fatalf("%d operations in the table, %d expected", len(Operations), len(wantOps))
	}
	if !slices.IsSortedFunc(Operations, func(a, b Operation) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Operations is not sorted by name")
	}
	routes := map[string]string{}
	for _, w := range wantOps {
		op, ok := LookupOperation(w.name)
		if !ok {
			t.Errorf("%s is missing", w.name)
			continue
		}
		if op.Method != w.method || op.Path != w.path || op.HostPrefix != w.prefix {
			t.Errorf("%s: got %s %s %s, want %s %s %s", w.name, op.Method, op.Path, op.HostPrefix, w.method, w.path, w.prefix)
		}
		var errs []string
		for _, a := range strings.Split(w.errs, ",") {
			errs = append(errs, errAbbrev[a])
		}
		got := slices.Sorted(slices.Values(op.Errors))
		if slices.Sort(errs); !slices.Equal(got, errs) {
			t.Errorf("%s: errors %v, want %v", w.name, got, errs)
		}
		if !op.HasError("AccessDeniedException") && strings.Contains(w.errs, "AD") || op.HasError("Nope") {
			t.Errorf("%s: HasError", w.name)
		}
		route := op.Method + " " + op.Path
		if prev, dup := routes[route]; dup {
			t.Errorf("%s and %s share the route %s", prev, w.name, route)
		}
		routes[route] = w.name

		in, out := op.Input(), op.Output()
		// (new of a zero-size type may return the same address every time.)
		if in == nil || out == nil || reflect.TypeOf(in).Elem().Size() > 0 && in == op.Input() {
			t.Errorf("%s: Input/Output must return new values", w.name)
		}
		if n := reflect.TypeOf(in).Elem().Name(); n != w.name+"Input" {
			t.Errorf("%s: input type %s", w.name, n)
		}
		if n := reflect.TypeOf(out).Elem().Name(); n != w.name+"Output" {
			t.Errorf("%s: output type %s", w.name, n)
		}
	}
	if _, ok := LookupOperation("Nope"); ok {
		t.Error("LookupOperation found Nope")
	}
}

func labelsOf(path string) []string {
	var out []string
	for _, s := range strings.Split(path, "/") {
		if strings.HasPrefix(s, "{") {
			out = append(out, strings.Trim(s, "{}"))
		}
	}
	return out
}

// TestSetLabel sets every label of every operation and reads it back through
// reflection; the field is the label name with its first letter upper-cased.
func TestSetLabel(t *testing.T) {
	for _, op := range Operations {
		in := op.Input()
		for _, l := range labelsOf(op.Path) {
			value := "v/" + l + ":%2F é" // already decoded: any bytes go through
			if err := in.SetLabel(l, value); err != nil {
				t.Errorf("%s: SetLabel(%s): %v", op.Name, l, err)
				continue
			}
			f := reflect.ValueOf(in).Elem().FieldByName(strings.ToUpper(l[:1]) + l[1:])
			if !f.IsValid() || f.Kind() != reflect.String || f.String() != value {
				t.Errorf("%s: label %s not set (%v)", op.Name, l, f)
			}
			sf, _ := reflect.TypeOf(in).Elem().FieldByName(strings.ToUpper(l[:1]) + l[1:])
			if sf.Tag.Get("json") != "-" {
				t.Errorf("%s: label %s has json tag %q", op.Name, l, sf.Tag.Get("json"))
			}
		}
		if err := in.SetLabel("nope", "x"); err == nil {
			t.Errorf("%s: SetLabel accepted an unknown label", op.Name)
		}
	}
}

func TestSetLabelThenValidate(t *testing.T) {
	op, _ := LookupOperation("GetEntity")
	in := op.Input()
	must(t, in.SetLabel("workspaceId", "ws1"))
	must(t, in.SetLabel("entityId", "site.a:mixer-1"))
	must(t, in.Validate())
	must(t, in.SetLabel("entityId", "a/b"))
	if err := in.Validate(); err == nil || !strings.Contains(err.Error(), "'entityId'") {
		t.Fatalf("got %v", err)
	}
	op, _ = LookupOperation("GetWorkspace")
	in = op.Input()
	must(t, in.SetLabel("workspaceId", "arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1"))
	must(t, in.Validate())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func bind(t *testing.T, name, rawQuery string) (Input, error) {
	t.Helper()
	op, ok := LookupOperation(name)
	if !ok {
		t.Fatalf("no %s", name)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	in := op.Input()
	return in, in.BindQuery(q)
}

func TestBindQuery(t *testing.T) {
	in, err := bind(t, "UntagResource", "resourceARN=arn%3Aaws%3Aiottwinmaker%3Aus-east-1%3A123456789012%3Aworkspace%2Fws1&tagKeys=a&tagKeys=b%20c")
	must(t, err)
	u := in.(*UntagResourceInput)
	if Deref(u.ResourceARN) != "arn:aws:iottwinmaker:us-east-1:123456789012:workspace/ws1" || !slices.Equal(u.TagKeys, []string{"a", "b c"}) {
		t.Fatalf("got %+v", u)
	}
	must(t, u.Validate())

	in, err = bind(t, "DeleteEntity", "isRecursive=true")
	must(t, err)
	if d := in.(*DeleteEntityInput); d.IsRecursive == nil || !*d.IsRecursive {
		t.Fatalf("isRecursive: %v", d.IsRecursive)
	}
	in, err = bind(t, "DeleteEntity", "isRecursive=false&other=1")
	must(t, err)
	if d := in.(*DeleteEntityInput); d.IsRecursive == nil || *d.IsRecursive {
		t.Fatalf("isRecursive: %v", d.IsRecursive)
	}
	in, err = bind(t, "DeleteEntity", "")
	must(t, err)
	if d := in.(*DeleteEntityInput); d.IsRecursive != nil {
		t.Fatalf("isRecursive set without the parameter")
	}
	for _, bad := range []string{"isRecursive=yes", "isRecursive=1", "isRecursive=TRUE", "isRecursive="} {
		_, err = bind(t, "DeleteEntity", bad)
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != "isRecursive" {
			t.Errorf("%s: got %v", bad, err)
		}
	}

	in, err = bind(t, "GetSyncJob", "workspace=ws1")
	must(t, err)
	g := in.(*GetSyncJobInput)
	must(t, g.SetLabel("syncSource", "SITEWISE"))
	if Deref(g.WorkspaceId) != "ws1" {
		t.Fatalf("workspace: %+v", g)
	}
	must(t, g.Validate())
	in, err = bind(t, "GetSyncJob", "workspace=bad%21")
	must(t, err)
	must(t, in.SetLabel("syncSource", "SITEWISE"))
	if err := in.Validate(); err == nil || !strings.Contains(err.Error(), "'workspaceId'") {
		t.Fatalf("got %v", err)
	}

	// Operations without query members ignore the query string.
	for _, op := range Operations {
		switch op.Name {
		case "UntagResource", "DeleteEntity", "GetSyncJob":
			continue
		}
		if err := op.Input().BindQuery(url.Values{"isRecursive": {"maybe"}, "tagKeys": {"x"}}); err != nil {
			t.Errorf("%s: %v", op.Name, err)
		}
	}
}

func TestEmptyInputs(t *testing.T) {
	// Inputs without required members validate when empty; the others name
	// what is missing.
	optional := map[string]bool{"ListWorkspaces": true, "GetPricingPlan": true}
	for _, op := range Operations {
		err := op.Input().Validate()
		if optional[op.Name] != (err == nil) {
			t.Errorf("%s: Validate of an empty input gave %v", op.Name, err)
		}
		if err != nil && !strings.Contains(err.Error(), "Member must not be null") {
			t.Errorf("%s: %v", op.Name, err)
		}
	}
}

// labelValue reads the label l of in through reflection.
func labelValue(in Input, l string) string {
	return reflect.ValueOf(in).Elem().FieldByName(strings.ToUpper(l[:1]) + l[1:]).String()
}
