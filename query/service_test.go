package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/model"
)

// TestTimeout: a query that would run for hours stops at the time limit
// with a QueryTimeoutException.
func TestTimeout(t *testing.T) {
	cat := newCatalog(t)
	loadCookieFactory(t, cat, "cf")
	svc := NewService(cat)
	svc.timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := svc.ExecuteQuery(context.Background(), &model.ExecuteQueryInput{WorkspaceId: model.String("cf"),
		QueryStatement: model.String("SELECT COUNT(*) FROM EntityGraph MATCH (a), (b), (c), (d)")})
	var te *twinvault.Error
	if !errors.As(err, &te) || te.Code != twinvault.QueryTimeoutException {
		t.Fatalf("got %v, want a QueryTimeoutException", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the query stopped %v after it began", took)
	}
	out, err := svc.ExecuteQuery(context.Background(), &model.ExecuteQueryInput{WorkspaceId: model.String("cf"),
		QueryStatement: model.String("SELECT COUNT(*) FROM EntityGraph MATCH (a)")})
	if err != nil || len(out.Rows) != 1 {
		t.Fatalf("after a timeout: %v", err)
	}
}

// TestResultStore: tokens are bound to their scope, cannot be altered,
// expire, and the store stays within its size.
func TestResultStore(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	s := newResultStore(100, time.Minute, func() time.Time { return now })
	r := &storedResult{rows: make([][]json.RawMessage, 10), size: 60}
	tok, err := s.put(ctx, r, 3, "ws\x00q")
	if err != nil {
		t.Fatal(err)
	}
	if got, off, err := s.get(ctx, tok, "ws\x00q"); err != nil || got != r || off != 3 {
		t.Fatalf("get: %v %d %v", got, off, err)
	}
	if _, _, err := s.get(ctx, tok, "ws\x00other"); err == nil {
		t.Error("a token was accepted for another query")
	}
	bad := []byte(tok)
	bad[2] ^= 1
	if _, _, err := s.get(ctx, string(bad), "ws\x00q"); err == nil {
		t.Error("an altered token was accepted")
	}
	// A second result that does not fit evicts the first.
	r2 := &storedResult{rows: make([][]json.RawMessage, 10), size: 60}
	if _, err := s.put(ctx, r2, 1, "ws\x00q2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.get(ctx, tok, "ws\x00q"); err == nil {
		t.Error("an evicted result is still served")
	}
	if s.size != 60 {
		t.Errorf("size %d after eviction, want 60", s.size)
	}
	// One too large for the store is refused.
	if _, err := s.put(ctx, &storedResult{size: 101}, 1, "ws\x00q3"); err == nil {
		t.Error("a result larger than the store was kept")
	}
	// Expiry.
	tok2, _ := s.put(ctx, r2, 2, "ws\x00q2")
	now = now.Add(2 * time.Minute)
	if _, _, err := s.get(ctx, tok2, "ws\x00q2"); err == nil {
		t.Error("an expired result is still served")
	}
}

// TestQueriesDuringWrites: while a writer moves a subtree back and forth,
// every count of descendants is one of the two true ones, whatever the
// remembered graph holds.
func TestQueriesDuringWrites(t *testing.T) {
	cat := newCatalog(t)
	ctx := context.Background()
	if _, err := cat.CreateWorkspace(ctx, &model.CreateWorkspaceInput{WorkspaceId: "w"}); err != nil {
		t.Fatal(err)
	}
	create := func(id, parent string) {
		in := &model.CreateEntityInput{WorkspaceId: "w", EntityId: model.String(id), EntityName: model.String(id)}
		if parent != "" {
			in.ParentEntityId = model.String(parent)
		}
		if _, err := cat.CreateEntity(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	create("a", "")
	create("b", "")
	create("sub", "a")
	for i := range 20 {
		create(fmt.Sprintf("leaf%d", i), "sub")
	}
	svc := NewService(cat)
	count := func(root string) string {
		out, err := svc.ExecuteQuery(ctx, &model.ExecuteQueryInput{WorkspaceId: model.String("w"),
			QueryStatement: model.String("SELECT COUNT(e) FROM EntityGraph MATCH (e)-[:isChildOf]->{1,10}(p) WHERE p.entityId = '" + root + "'")})
		if err != nil {
			t.Error(err)
			return ""
		}
		return fmt.Sprint(out.Rows[0].RowData[0])
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 40 {
			parent := []string{"b", "a"}[i%2]
			if _, err := cat.UpdateEntity(ctx, &model.UpdateEntityInput{WorkspaceId: "w", EntityId: "sub",
				ParentEntityUpdate: &model.ParentEntityUpdateRequest{UpdateType: model.ParentEntityUpdateTypeUpdate, ParentEntityId: model.String(parent)}}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		a, b := count("a"), count("b")
		if (a != "21" && a != "0") || (b != "21" && b != "0") {
			t.Fatalf("descendants of a: %s, of b: %s; each must be 21 or 0", a, b)
		}
	}
	if a, b := count("a"), count("b"); a != "21" || b != "0" {
		t.Fatalf("at rest: a has %s descendants, b %s", a, b)
	}
}
