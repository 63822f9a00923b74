package api

// A request's goroutine starts with a small stack, and serving the request
// (signature, policy, the store's iterators, the audit record) takes it
// through several doublings, each copying the stack so far: in profiles, a
// few percent of the server's time went to copying stacks. growStack takes
// the stack to its working size in one step, while it is still shallow and
// the copy is short. (CockroachDB grows its RPC goroutines' stacks the same
// way.)

// stackReserve is the stack a request is given at once.
const stackReserve = 32 << 10

//go:noinline
func growStack() {
	var frame [stackReserve]byte
	keep(frame[:])
}

// keep takes b's address, so that the frame holding it stays whole.
//
//go:noinline
func keep(b []byte) {}
