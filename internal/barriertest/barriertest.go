// Package barriertest opens a keyring and a barrier over a store, as a node
// does, for the tests of the packages built on the barrier.
package barriertest

import (
	"bytes"
	"context"
	"testing"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
)

// Master is the master key of every barrier Open makes: barriers opened
// over one store share its keyring, as the nodes of a deployment do.
var Master = bytes.Repeat([]byte{0x42}, keyring.MasterKeySize)

// Open returns a barrier over store, its keyring sealed by Master.
func Open(tb testing.TB, store kv.Store) *barrier.Barrier {
	tb.Helper()
	ctx := context.Background()
	kr, err := keyring.Open(ctx, store, Master)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := barrier.New(ctx, store, kr)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
