package kvtest_test

import (
	"testing"

	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/kv/kvtest"
)

// TestMem runs the suite against the in-memory store, the plainest engine
// that meets the contract, to show that the suite asks for nothing beyond
// kv's contract.
func TestMem(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kvtest.OpenFunc {
		m := kvtest.NewMem()
		m.Close()
		return func() (kv.Store, error) { return m.Reopen(), nil }
	})
}
