package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/twinvault/twinvault/internal/cookiefactory"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// sampleDir is the AWS CookieFactory sample twin, beside the repository.
func sampleDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "shared", "samples", "cookiefactory", "tmdt_project")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the CookieFactory sample is missing: %v", err)
		}
		t.Skipf("the CookieFactory sample is missing: %v", err)
	}
	return dir
}

type sampleType struct {
	id     string
	raw    map[string]any // as in the sample: a GetComponentType response
	create *iottwinmaker.CreateComponentTypeInput
}

// loadSampleTypes returns the sample's component types as the SDK's
// CreateComponentType requests, parents first.
func loadSampleTypes(t *testing.T, dir, ws string) []*sampleType {
	cts, err := cookiefactory.ComponentTypes(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*sampleType
	for _, ct := range cts {
		in := &iottwinmaker.CreateComponentTypeInput{}
		remarshal(t, ct.Request, in)
		in.WorkspaceId = aws.String(ws)
		out = append(out, &sampleType{id: ct.ID, raw: ct.Raw, create: in})
	}
	return out
}

type sampleEntity struct {
	raw    map[string]any
	create *iottwinmaker.CreateEntityInput
}

// loadSampleEntities returns the sample's entities, parents first.
func loadSampleEntities(t *testing.T, dir, ws string) []*sampleEntity {
	raws, err := cookiefactory.Entities(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*sampleEntity
	for _, r := range raws {
		in := &iottwinmaker.CreateEntityInput{}
		remarshal(t, r, in)
		in.WorkspaceId = aws.String(ws)
		out = append(out, &sampleEntity{raw: r, create: in})
	}
	return out
}

// remarshal fills an SDK input from sample JSON; Go matches the sample's
// camelCase member names to the SDK's field names.
func remarshal(t *testing.T, from, to any) {
	t.Helper()
	data, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, to); err != nil {
		t.Fatal(err)
	}
}

// asJSON turns an SDK value into generic JSON with lower-camel keys, to
// compare it with the sample's own JSON.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	json.Unmarshal(data, &out)
	return lowerKeys(out)
}

func lowerKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range v {
			if e == nil || e == "" {
				continue // absent members; the SDK marshals empty enums as ""
			}
			m[strings.ToLower(k[:1])+k[1:]] = lowerKeys(e)
		}
		return m
	case []any:
		for i := range v {
			v[i] = lowerKeys(v[i])
		}
	}
	return v
}

// loadCookieFactory creates the sample's workspace, component types,
// entities and scenes through the SDK, as the sample's deploy step does.
func loadCookieFactory(t *testing.T, srv *twinvaulttest.Server, tm *iottwinmaker.Client, ws string) ([]*sampleType, []*sampleEntity) {
	t.Helper()
	dir := sampleDir(t)
	ctx := context.Background()
	// The sample's bucket, with its scene documents, as the deploy step
	// uploads them.
	s3c := srv.S3(srv.AWSConfig())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cookiefactory-bucket")}); err != nil && apiCode(err) != "BucketAlreadyOwnedByYou" {
		t.Fatal(err)
	}
	for _, scene := range []string{"Mixer", "CookieFactory"} {
		data, err := os.ReadFile(filepath.Join(dir, scene+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cookiefactory-bucket"), Key: aws.String(scene + ".json"),
			Body: bytes.NewReader(data), ContentType: aws.String("application/json")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{
		WorkspaceId: aws.String(ws),
		Description: aws.String("AWS IoT TwinMaker CookieFactory sample"),
		Role:        aws.String("arn:aws:iam::123456789012:role/twinmaker-workspace"),
		S3Location:  aws.String("arn:aws:s3:::cookiefactory-bucket"),
	}); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	typesIn := loadSampleTypes(t, dir, ws)
	if len(typesIn) != 10 {
		t.Fatalf("sample has %d component types, want 10", len(typesIn))
	}
	for _, st := range typesIn {
		out, err := tm.CreateComponentType(ctx, st.create)
		if err != nil {
			t.Fatalf("CreateComponentType %s: %v", st.id, err)
		}
		if out.State != types.StateCreating || !strings.HasSuffix(aws.ToString(out.Arn), ":workspace/"+ws+"/component-type/"+st.id) {
			t.Errorf("CreateComponentType %s = %+v", st.id, out)
		}
	}
	entities := loadSampleEntities(t, dir, ws)
	if len(entities) != 132 {
		t.Fatalf("sample has %d entities, want 132", len(entities))
	}
	for _, se := range entities {
		if _, err := tm.CreateEntity(ctx, se.create); err != nil {
			t.Fatalf("CreateEntity %s: %v", aws.ToString(se.create.EntityId), err)
		}
	}
	for _, scene := range []string{"Mixer", "CookieFactory"} {
		if _, err := tm.CreateScene(ctx, &iottwinmaker.CreateSceneInput{
			WorkspaceId:     aws.String(ws),
			SceneId:         aws.String(scene),
			ContentLocation: aws.String("s3://cookiefactory-bucket/" + scene + ".json"),
			Capabilities:    []string{"DYNAMIC_SCENE"},
			SceneMetadata:   map[string]string{"origin": "sample"},
		}); err != nil {
			t.Fatalf("CreateScene %s: %v", scene, err)
		}
	}
	return typesIn, entities
}

func TestCookieFactory(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker() // keeps the SDK's api. host prefix
	const ws = "cookiefactory"
	typesIn, entities := loadCookieFactory(t, srv, tm, ws)

	check := func(t *testing.T) {
		checkTypes(t, tm, ws, typesIn)
		checkEntities(t, tm, ws, entities)
		checkScenes(t, tm, ws)
	}
	t.Run("read back", check)
	srv.Restart(t)
	t.Run("read back after restart", check)
}

func checkTypes(t *testing.T, tm *iottwinmaker.Client, ws string, want []*sampleType) {
	ctx := context.Background()
	for _, st := range want {
		got, err := tm.GetComponentType(ctx, &iottwinmaker.GetComponentTypeInput{WorkspaceId: aws.String(ws), ComponentTypeId: aws.String(st.id)})
		if err != nil {
			t.Fatalf("GetComponentType %s: %v", st.id, err)
		}
		if got.Status == nil || got.Status.State != types.StateActive {
			t.Errorf("%s: status %+v, want ACTIVE", st.id, got.Status)
		}
		wantProps := st.raw["propertyDefinitions"].(map[string]any)
		wantFns, _ := st.raw["functions"].(map[string]any)
		// Abstract: externally stored properties and no data reader.
		external := false
		for _, p := range wantProps {
			external = external || p.(map[string]any)["isStoredExternally"] == true
		}
		if want := external && len(wantFns) == 0; aws.ToBool(got.IsAbstract) != want {
			t.Errorf("%s: isAbstract %v, want %v", st.id, aws.ToBool(got.IsAbstract), want)
		}
		for name, w := range wantProps {
			if g := asJSON(t, got.PropertyDefinitions[name]); !reflect.DeepEqual(g, lowerKeys(w)) {
				t.Errorf("%s.%s:\n got  %v\n want %v", st.id, name, g, w)
			}
		}
		if len(got.PropertyDefinitions) != len(wantProps) {
			t.Errorf("%s: %d properties, want %d", st.id, len(got.PropertyDefinitions), len(wantProps))
		}
		if len(wantFns) != len(got.Functions) {
			t.Errorf("%s: functions %v, want %v", st.id, got.Functions, wantFns)
		}
		for name, w := range wantFns {
			if g := asJSON(t, got.Functions[name]); !reflect.DeepEqual(g, lowerKeys(w)) {
				t.Errorf("%s function %s:\n got  %v\n want %v", st.id, name, g, w)
			}
		}
		if !reflect.DeepEqual(got.ExtendsFrom, st.create.ExtendsFrom) {
			t.Errorf("%s: extendsFrom %v, want %v", st.id, got.ExtendsFrom, st.create.ExtendsFrom)
		}
	}

	// Every type, the built-in ones too, through small pages.
	seen := map[string]bool{}
	p := iottwinmaker.NewListComponentTypesPaginator(tm, &iottwinmaker.ListComponentTypesInput{WorkspaceId: aws.String(ws), MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.ComponentTypeSummaries) > 3 {
			t.Fatalf("page of %d, want at most 3", len(page.ComponentTypeSummaries))
		}
		for _, s := range page.ComponentTypeSummaries {
			if seen[*s.ComponentTypeId] {
				t.Errorf("%s listed twice", *s.ComponentTypeId)
			}
			seen[*s.ComponentTypeId] = true
		}
	}
	for _, st := range want {
		if !seen[st.id] {
			t.Errorf("ListComponentTypes misses %s", st.id)
		}
	}
	for _, id := range []string{"com.amazon.iottwinmaker.documents", "com.amazon.iottwinmaker.alarm.basic", "com.amazon.iottwinmaker.parameters"} {
		if !seen[id] {
			t.Errorf("ListComponentTypes misses the built-in %s", id)
		}
	}
	abstract, err := tm.ListComponentTypes(ctx, &iottwinmaker.ListComponentTypesInput{WorkspaceId: aws.String(ws),
		Filters: []types.ListComponentTypesFilter{&types.ListComponentTypesFilterMemberIsAbstract{Value: true}}})
	if err != nil {
		t.Fatal(err)
	}
	var abstractIDs []string
	for _, s := range abstract.ComponentTypeSummaries {
		abstractIDs = append(abstractIDs, *s.ComponentTypeId)
	}
	sort.Strings(abstractIDs)
	if want := "com.amazon.iotsitewise.connector,com.amazon.iotsitewise.connector.edgevideo,com.amazon.iottwinmaker.alarm.basic,com.amazon.kvs.video,com.example.cookiefactory.cookie-former"; strings.Join(abstractIDs, ",") != want {
		t.Errorf("abstract types: %v", abstractIDs)
	}
	ext, err := tm.ListComponentTypes(ctx, &iottwinmaker.ListComponentTypesInput{WorkspaceId: aws.String(ws),
		Filters: []types.ListComponentTypesFilter{&types.ListComponentTypesFilterMemberExtendsFrom{Value: "com.example.timestream-telemetry"}}})
	if err != nil {
		t.Fatal(err)
	}
	var extIDs []string
	for _, s := range ext.ComponentTypeSummaries {
		extIDs = append(extIDs, *s.ComponentTypeId)
	}
	sort.Strings(extIDs)
	if want := []string{"com.example.cookiefactory.alarm", "com.example.cookiefactory.mixer", "com.example.cookiefactory.watertank"}; !reflect.DeepEqual(extIDs, want) {
		t.Errorf("types extending timestream-telemetry: %v, want %v", extIDs, want)
	}
}

func checkEntities(t *testing.T, tm *iottwinmaker.Client, ws string, want []*sampleEntity) {
	ctx := context.Background()
	parents := map[string]int{}
	for _, se := range want {
		parents[se.raw["parentEntityId"].(string)]++
	}
	for _, se := range want {
		id := se.raw["entityId"].(string)
		got, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String(ws), EntityId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetEntity %s: %v", id, err)
		}
		if *got.EntityName != se.raw["entityName"] || aws.ToString(got.Description) != se.raw["description"] || *got.ParentEntityId != se.raw["parentEntityId"] {
			t.Errorf("%s: name %q description %q parent %q", id, *got.EntityName, aws.ToString(got.Description), *got.ParentEntityId)
		}
		if *got.HasChildEntities != (parents[id] > 0) {
			t.Errorf("%s: hasChildEntities %v, want %v", id, *got.HasChildEntities, parents[id] > 0)
		}
		if !aws.ToBool(got.AreAllComponentsReturned) {
			t.Errorf("%s: areAllComponentsReturned false", id)
		}
		wantComps, _ := se.raw["components"].(map[string]any)
		if len(got.Components) != len(wantComps) {
			t.Errorf("%s: %d components, want %d", id, len(got.Components), len(wantComps))
		}
		for cname, wc := range wantComps {
			wc := wc.(map[string]any)
			gc, ok := got.Components[cname]
			if !ok {
				t.Errorf("%s: component %s missing", id, cname)
				continue
			}
			if *gc.ComponentTypeId != wc["componentTypeId"] {
				t.Errorf("%s.%s: type %s, want %s", id, cname, *gc.ComponentTypeId, wc["componentTypeId"])
			}
			wprops, _ := wc["properties"].(map[string]any)
			for pname, wp := range wprops {
				wp := wp.(map[string]any)
				gp, ok := gc.Properties[pname]
				if !ok {
					t.Errorf("%s.%s.%s missing", id, cname, pname)
					continue
				}
				if wv, ok := wp["value"]; ok {
					if gv := asJSON(t, gp.Value); !reflect.DeepEqual(gv, lowerKeys(wv)) {
						t.Errorf("%s.%s.%s value:\n got  %v\n want %v", id, cname, pname, gv, wv)
					}
				}
				wdt := wp["definition"].(map[string]any)["dataType"]
				if gdt := asJSON(t, gp.Definition.DataType); !reflect.DeepEqual(gdt, wdt) {
					t.Errorf("%s.%s.%s dataType:\n got  %v\n want %v", id, cname, pname, gdt, wdt)
				}
			}
		}
	}

	// All 132 through small pages, each once.
	seen := map[string]bool{}
	p := iottwinmaker.NewListEntitiesPaginator(tm, &iottwinmaker.ListEntitiesInput{WorkspaceId: aws.String(ws), MaxResults: aws.Int32(10)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.EntitySummaries {
			if seen[*s.EntityId] {
				t.Errorf("%s listed twice", *s.EntityId)
			}
			seen[*s.EntityId] = true
			if *s.HasChildEntities != (parents[*s.EntityId] > 0) {
				t.Errorf("summary of %s: hasChildEntities %v", *s.EntityId, *s.HasChildEntities)
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("ListEntities returned %d entities, want %d", len(seen), len(want))
	}
	for parent, n := range parents {
		got := listAll(t, tm, ws, &types.ListEntitiesFilterMemberParentEntityId{Value: parent})
		if len(got) != n {
			t.Errorf("children of %s: %d, want %d", parent, len(got), n)
		}
	}
	byType := map[string]int{}
	for _, se := range want {
		seenType := map[string]bool{}
		for _, c := range se.raw["components"].(map[string]any) {
			tid := c.(map[string]any)["componentTypeId"].(string)
			if !seenType[tid] {
				byType[tid]++
				seenType[tid] = true
			}
		}
	}
	for tid, n := range byType {
		if got := listAll(t, tm, ws, &types.ListEntitiesFilterMemberComponentTypeId{Value: tid}); len(got) != n {
			t.Errorf("entities with %s: %d, want %d", tid, len(got), n)
		}
	}
}

func listAll(t *testing.T, tm *iottwinmaker.Client, ws string, f types.ListEntitiesFilter) []string {
	t.Helper()
	var ids []string
	p := iottwinmaker.NewListEntitiesPaginator(tm, &iottwinmaker.ListEntitiesInput{
		WorkspaceId: aws.String(ws), Filters: []types.ListEntitiesFilter{f}, MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.EntitySummaries {
			ids = append(ids, *s.EntityId)
		}
	}
	return ids
}

func checkScenes(t *testing.T, tm *iottwinmaker.Client, ws string) {
	ctx := context.Background()
	for _, scene := range []string{"Mixer", "CookieFactory"} {
		got, err := tm.GetScene(ctx, &iottwinmaker.GetSceneInput{WorkspaceId: aws.String(ws), SceneId: aws.String(scene)})
		if err != nil {
			t.Fatalf("GetScene %s: %v", scene, err)
		}
		if want := fmt.Sprintf("s3://cookiefactory-bucket/%s.json", scene); *got.ContentLocation != want {
			t.Errorf("%s: contentLocation %s, want %s", scene, *got.ContentLocation, want)
		}
		if !reflect.DeepEqual(got.Capabilities, []string{"DYNAMIC_SCENE"}) || got.SceneMetadata["origin"] != "sample" {
			t.Errorf("%s: capabilities %v metadata %v", scene, got.Capabilities, got.SceneMetadata)
		}
	}
	list, err := tm.ListScenes(ctx, &iottwinmaker.ListScenesInput{WorkspaceId: aws.String(ws)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.SceneSummaries) != 2 {
		t.Errorf("ListScenes: %d scenes, want 2", len(list.SceneSummaries))
	}
}

// sceneDocument uploads a scene document to a workspace's bucket and
// returns its contentLocation.
func sceneDocument(t *testing.T, srv *twinvaulttest.Server, ws, key, content string) string {
	t.Helper()
	ctx := context.Background()
	w, err := srv.TwinMaker(twinvaulttest.NoHostPrefix).GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String(ws)})
	if err != nil {
		t.Fatal(err)
	}
	bucket := strings.TrimPrefix(aws.ToString(w.S3Location), "arn:aws:s3:::")
	if _, err := srv.S3(srv.AWSConfig()).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(content)}); err != nil {
		t.Fatal(err)
	}
	return "s3://" + bucket + "/" + key
}
