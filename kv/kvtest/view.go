package kvtest

import (
	"errors"
	"testing"

	"github.com/twinvault/twinvault/kv"
)

// testView checks that View reads one consistent snapshot: writes made
// after it began, by Update or Batch, stay invisible to every read inside
// it, and writers do not wait for it.
func testView(t *testing.T, open Opener) {
	s := fresh(t, open)
	ctx := t.Context()
	put(t, s, pairs("a", "1", "b", "2")...)
	err := s.View(ctx, func(r kv.Reader) error {
		wantGet(t, r, "a", "1")
		set(t, s, "a", "10")
		put(t, s, kv.Write{Key: k("b")}, kv.Write{Key: k("c"), Value: k("3")})
		wantGet(t, r, "a", "1")
		wantGet(t, r, "b", "2")
		wantMissing(t, r, "c")
		wantScan(t, r, kv.Range{}, []pair{{"a", "1"}, {"b", "2"}})
		wantScan(t, r, kv.Range{Reverse: true, Limit: 1}, []pair{{"b", "2"}})
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	wantScan(t, s, kv.Range{}, []pair{{"a", "10"}, {"c", "3"}})

	boom := errors.New("boom")
	if err := s.View(ctx, func(kv.Reader) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("View returned %v, want fn's error", err)
	}
	var kept kv.Reader
	s.View(ctx, func(r kv.Reader) error { kept = r; return nil })
	if _, err := kept.Get(ctx, k("a")); err == nil {
		t.Error("a Reader kept after View returned still reads")
	}
}
