package objstore_test

import (
	"testing"

	"github.com/twinvault/twinvault/objstore"
	"github.com/twinvault/twinvault/objstore/objtest"
)

func TestDir(t *testing.T) {
	objtest.Run(t, func(t *testing.T) objstore.Store {
		d, err := objstore.OpenDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}
