package barrier

import "github.com/twinvault/twinvault/kv/kvtest"

// memStore is the in-memory reference engine; its Raw and Put let tests
// inspect and tamper with what an attacker holding the store would see.
type memStore = kvtest.Mem

func newMemStore() *memStore { return kvtest.NewMem() }
