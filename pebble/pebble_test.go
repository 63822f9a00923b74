package pebble_test

import (
	"testing"

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
