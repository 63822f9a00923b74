package kv

import (
	"context"
	"errors"
	"testing"
)

func TestDeferred(t *testing.T) {
	if DeferredOf(context.Background()) != nil {
		t.Fatal("a plain context carries a Deferred")
	}
	d := &Deferred{}
	ctx := WithDeferred(context.Background(), d)
	if DeferredOf(ctx) != d {
		t.Fatal("DeferredOf lost d")
	}
	ran := 0
	bad := errors.New("sync failed")
	for _, w := range []func() error{
		func() error { ran++; return nil },
		func() error { ran++; return bad },
		func() error { ran++; return errors.New("later") },
	} {
		if !d.Add(w) {
			t.Fatal("Add refused a wait before Wait")
		}
	}
	if err := d.Wait(); err != bad || ran != 3 {
		t.Fatalf("Wait = %v after %d waits; want the first error after 3", err, ran)
	}
	if err := d.Wait(); err != nil || ran != 3 {
		t.Fatalf("a second Wait = %v, ran %d: each wait runs once", err, ran)
	}
	if d.Add(func() error { return nil }) {
		t.Fatal("a Deferred took a wait after Wait had run")
	}
}
