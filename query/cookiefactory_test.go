package query

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/model"
)

// loadCookieFactory creates the CookieFactory sample's component types and
// entities in workspace ws, parents first, the way the sample's deploy
// step does: read-only fields dropped, inherited definitions left to the
// parents, connector ARN placeholders filled in.
func loadCookieFactory(t testing.TB, cat *catalog.Service, ws string) {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "samples", "cookiefactory", "tmdt_project")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the CookieFactory sample is missing: %v", err)
	}
	ctx := context.Background()
	if _, err := cat.CreateWorkspace(ctx, &model.CreateWorkspaceInput{WorkspaceId: ws}); err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		ComponentTypes []string `json:"component_types"`
	}
	readSample(t, filepath.Join(dir, "tmdt.json"), &manifest)
	var types []map[string]any
	for _, f := range manifest.ComponentTypes {
		var raw map[string]any
		readSample(t, filepath.Join(dir, f), &raw)
		props := map[string]any{}
		for name, p := range raw["propertyDefinitions"].(map[string]any) {
			if pm := p.(map[string]any); pm["isInherited"] != true || pm["defaultValue"] != nil {
				props[name] = pm
			}
		}
		raw["propertyDefinitions"] = props
		if fns, ok := raw["functions"].(map[string]any); ok {
			own := map[string]any{}
			for name, fn := range fns {
				if fn.(map[string]any)["isInherited"] != true {
					own[name] = fn
				}
			}
			raw["functions"] = own
		}
		types = append(types, raw)
	}
	created := map[string]bool{}
	for len(created) < len(types) {
		progress := false
		for _, raw := range types {
			id := raw["componentTypeId"].(string)
			ready := !created[id]
			for _, p := range asStrings(raw["extendsFrom"]) {
				ready = ready && (created[p] || strings.HasPrefix(p, "com.amazon.")) // built in
			}
			if !ready {
				continue
			}
			in := &model.CreateComponentTypeInput{}
			remarshalSample(t, raw, in)
			in.WorkspaceId, in.ComponentTypeId = ws, id // labels, not body members
			if _, err := cat.CreateComponentType(ctx, in); err != nil {
				t.Fatalf("component type %s: %v", id, err)
			}
			created[id], progress = true, true
		}
		if !progress {
			t.Fatal("the sample's component types extend types it lacks")
		}
	}
	var entities []map[string]any
	readSample(t, filepath.Join(dir, "entities.json"), &entities)
	byID := map[string]map[string]any{}
	for _, e := range entities {
		byID[e["entityId"].(string)] = e
	}
	level := func(e map[string]any) int {
		n := 0
		for p := e["parentEntityId"].(string); p != "$ROOT"; p = byID[p]["parentEntityId"].(string) {
			n++
		}
		return n
	}
	sort.SliceStable(entities, func(i, j int) bool { return level(entities[i]) < level(entities[j]) })
	for _, e := range entities {
		in := &model.CreateEntityInput{}
		remarshalSample(t, e, in)
		in.WorkspaceId = ws
		if _, err := cat.CreateEntity(ctx, in); err != nil {
			t.Fatalf("entity %s: %v", e["entityId"], err)
		}
	}
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}

func readSample(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	// The sample's deploy step fills in its connector ARNs.
	for {
		i := strings.Index(s, "__TO_FILL_IN_")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+len("__TO_FILL_IN_"):], "__")
		if j < 0 {
			break
		}
		s = s[:i] + "arn:aws:lambda:us-east-1:123456789012:function:cookiefactory-connector" + s[i+len("__TO_FILL_IN_")+j+2:]
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// remarshalSample decodes a sample document into a request, ignoring the
// read-only members a Get response carries.
func remarshalSample(t testing.TB, from, to any) {
	t.Helper()
	data, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, to); err != nil {
		t.Fatal(err)
	}
}
