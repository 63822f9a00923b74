package pebble_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/pebble"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kvtest.OpenFunc {
		dir := t.TempDir()
		return func() (kv.Store, error) { return pebble.Open(dir, pebble.Options{}) }
	})
}

// TestSyncs: every durable write waits for a sync of the write-ahead log,
// which Syncs counts and times.
func TestSyncs(t *testing.T) {
	s, err := pebble.Open(t.TempDir(), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close() // a second Close is refused, harmlessly
	ctx := context.Background()
	n0, _, err := s.Syncs()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Batch(ctx, []kv.Write{{Key: []byte{byte(i)}, Value: []byte("v")}, {Key: []byte{byte(i), 1}, Value: []byte("w")}}); err != nil {
			t.Fatal(err)
		}
	}
	// Pebble counts a sync just after it releases the writes that waited
	// for it: the last may show a moment later.
	var n uint64
	var took time.Duration
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		n, took, err = s.Syncs()
		if err != nil || n >= n0+3 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || n < n0+3 || took <= 0 {
		t.Fatalf("after three batches: %d syncs (%d before) in %v, %v", n, n0, took, err)
	}
	s.Close()
	if _, _, err := s.Syncs(); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("syncs of a closed store: %v", err)
	}
}
