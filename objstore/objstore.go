// Package objstore is the interface of the stores that hold object bodies
// (scene documents, 3D models), which the barrier has sealed before they
// arrive: a store sees only opaque names and ciphertext. Dir keeps them in
// a local directory; the S3-compatible store of a scale-out deployment is
// another implementation, and objtest holds the suite every one passes.
package objstore

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound reports a name with no object.
var ErrNotFound = errors.New("objstore: no such object")

// Store holds immutable objects by name. A name is written once, in full,
// and only then visible: a Put that fails or is abandoned leaves nothing.
type Store interface {
	// Put stores what r yields under name, replacing any object there, and
	// returns its size once it is durable.
	Put(ctx context.Context, name string, r io.Reader) (int64, error)
	// Open returns the object for reading at any offset, and its size.
	Open(ctx context.Context, name string) (Reader, error)
	// Delete removes the object; a missing name is not an error.
	Delete(ctx context.Context, name string) error
	// List calls fn with every name that begins with prefix, in order.
	List(ctx context.Context, prefix string, fn func(name string) error) error
}

// Reader reads one object.
type Reader interface {
	io.ReaderAt
	io.Closer
	Size() int64
}
