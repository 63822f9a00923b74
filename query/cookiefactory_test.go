package query

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/internal/cookiefactory"
	"github.com/twinvault/twinvault/model"
)

// loadCookieFactory creates the CookieFactory sample's component types and
// entities in workspace ws, as the sample's deploy step does.
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
	types, err := cookiefactory.ComponentTypes(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range types {
		in := &model.CreateComponentTypeInput{}
		remarshal(t, ct.Request, in)
		in.WorkspaceId, in.ComponentTypeId = ws, ct.ID // labels, not body members
		if _, err := cat.CreateComponentType(ctx, in); err != nil {
			t.Fatalf("component type %s: %v", ct.ID, err)
		}
	}
	entities, err := cookiefactory.Entities(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entities {
		in := &model.CreateEntityInput{}
		remarshal(t, e, in)
		in.WorkspaceId = ws
		if _, err := cat.CreateEntity(ctx, in); err != nil {
			t.Fatalf("entity %s: %v", e["entityId"], err)
		}
	}
}

// remarshal decodes a sample document into a request. encoding/json
// matches member names without regard to case, as the sample needs: some
// of its relationship values say TargetEntityId.
func remarshal(t testing.TB, from, to any) {
	t.Helper()
	data, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, to); err != nil {
		t.Fatal(err)
	}
}
