package query

import (
	"context"
	"encoding/json"
	"errors"
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
	now := time.Unix(1_700_000_000, 0)
	s := newResultStore(100, time.Minute, func() time.Time { return now })
	r := &storedResult{rows: make([][]json.RawMessage, 10), size: 60}
	tok, err := s.put(r, 3, "ws\x00q")
	if err != nil {
		t.Fatal(err)
	}
	if got, off, err := s.get(tok, "ws\x00q"); err != nil || got != r || off != 3 {
		t.Fatalf("get: %v %d %v", got, off, err)
	}
	if _, _, err := s.get(tok, "ws\x00other"); err == nil {
		t.Error("a token was accepted for another query")
	}
	bad := []byte(tok)
	bad[2] ^= 1
	if _, _, err := s.get(string(bad), "ws\x00q"); err == nil {
		t.Error("an altered token was accepted")
	}
	// A second result that does not fit evicts the first.
	r2 := &storedResult{rows: make([][]json.RawMessage, 10), size: 60}
	if _, err := s.put(r2, 1, "ws\x00q2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.get(tok, "ws\x00q"); err == nil {
		t.Error("an evicted result is still served")
	}
	if s.size != 60 {
		t.Errorf("size %d after eviction, want 60", s.size)
	}
	// One too large for the store is refused.
	if _, err := s.put(&storedResult{size: 101}, 1, "ws\x00q3"); err == nil {
		t.Error("a result larger than the store was kept")
	}
	// Expiry.
	tok2, _ := s.put(r2, 2, "ws\x00q2")
	now = now.Add(2 * time.Minute)
	if _, _, err := s.get(tok2, "ws\x00q2"); err == nil {
		t.Error("an expired result is still served")
	}
}
