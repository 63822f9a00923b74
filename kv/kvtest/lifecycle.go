package kvtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twinvault/twinvault/kv"
)

// testDurability closes and reopens a store and checks that every
// acknowledged write, deletes included, is still there.
func testDurability(t *testing.T, open Opener) {
	s, of := freshReopen(t, open)
	ctx := t.Context()
	put(t, s, pairs("batch/1", "b1", "batch/2", "b2", "gone/1", "x", "gone/2", "x")...)
	set(t, s, "update/1", "u1")
	err := s.Update(ctx, func(tx kv.Tx) error {
		if err := tx.Set(k("update/2"), k("u2")); err != nil {
			return err
		}
		return tx.Delete(k("gone/1"))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	put(t, s, kv.Write{Key: k("gone/2")}, kv.Write{Key: k("empty"), Value: []byte{}})
	want := []pair{{"batch/1", "b1"}, {"batch/2", "b2"}, {"empty", ""}, {"update/1", "u1"}, {"update/2", "u2"}}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = mustOpen(t, of)
	wantScan(t, s, kv.Range{}, want)
	wantGet(t, s, "update/2", "u2")
	wantMissing(t, s, "gone/1")
	// A second round on the reopened store.
	put(t, s, pairs("batch/3", "b3")...)
	set(t, s, "batch/1", "b1'")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = mustOpen(t, of)
	want[0].value = "b1'"
	want = append(want[:2], append([]pair{{"batch/3", "b3"}}, want[2:]...)...)
	wantScan(t, s, kv.Range{}, want)
}

// closedOps are every Store call, each returning its error.
var closedOps = []struct {
	name string
	op   func(ctx context.Context, s kv.Store, called *bool) error
}{
	{"Get", func(ctx context.Context, s kv.Store, _ *bool) error {
		_, err := s.Get(ctx, k("a"))
		return err
	}},
	{"Scan", func(ctx context.Context, s kv.Store, called *bool) error {
		return s.Scan(ctx, kv.Range{}, func(key, value []byte) error {
			*called = true
			return nil
		})
	}},
	{"Update", func(ctx context.Context, s kv.Store, called *bool) error {
		return s.Update(ctx, func(tx kv.Tx) error {
			*called = true
			return tx.Set(k("b"), k("2"))
		})
	}},
	{"Batch", func(ctx context.Context, s kv.Store, _ *bool) error {
		return s.Batch(ctx, pairs("b", "2"))
	}},
	{"BatchEmpty", func(ctx context.Context, s kv.Store, _ *bool) error {
		return s.Batch(ctx, nil)
	}},
}

func testClosed(t *testing.T, open Opener) {
	s, of := freshReopen(t, open)
	put(t, s, pairs("a", "1")...)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, c := range closedOps {
		t.Run(c.name, func(t *testing.T) {
			called := false
			if err := c.op(t.Context(), s, &called); !errors.Is(err, kv.ErrClosed) {
				t.Errorf("%s after Close = %v; want ErrClosed", c.name, err)
			}
			if called {
				t.Errorf("%s after Close called its callback", c.name)
			}
		})
	}
	// A second Close may report an error but must not panic or hang.
	within(t, defaultWait, "second Close", func() { s.Close() })
	s = mustOpen(t, of)
	wantScan(t, s, kv.Range{}, []pair{{"a", "1"}})
}

// testCloseWhileBusy closes a store while calls are running. Close may wait
// for them or make them fail with ErrClosed; either way nothing crashes,
// Close returns, and every write that was acknowledged survives.
func testCloseWhileBusy(t *testing.T, open Opener) {
	t.Run("BlockedScan", func(t *testing.T) {
		s := fresh(t, open)
		put(t, s, scanData...)
		inside, release := make(chan struct{}), make(chan struct{})
		scanErr := make(chan error, 1)
		go func() {
			first := true
			scanErr <- s.Scan(t.Context(), kv.Range{}, func(key, value []byte) error {
				if first {
					first = false
					close(inside)
					<-release
				}
				if len(key) == 0 {
					return fmt.Errorf("empty key during Close")
				}
				return nil
			})
		}()
		<-inside
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		time.Sleep(20 * time.Millisecond) // let Close start
		close(release)
		within(t, defaultWait, "Scan and Close", func() {
			if err := <-scanErr; err != nil && !errors.Is(err, kv.ErrClosed) {
				t.Errorf("Scan during Close = %v; want nil or ErrClosed", err)
			}
			if err := <-closed; err != nil {
				t.Errorf("Close during Scan = %v", err)
			}
		})
		if _, err := s.Get(t.Context(), k("k0")); !errors.Is(err, kv.ErrClosed) {
			t.Errorf("Get after Close = %v; want ErrClosed", err)
		}
	})
	t.Run("Hammer", func(t *testing.T) {
		s, of := freshReopen(t, open)
		ctx := t.Context()
		put(t, s, scanData...)
		// Each op returns the key it wrote, if any, so that acknowledged
		// writes can be checked after reopening.
		ops := []struct {
			name string
			op   func(i int) (string, error)
		}{
			{"Get", func(i int) (string, error) {
				_, err := s.Get(ctx, k("k1"))
				return "", err
			}},
			{"Scan", func(i int) (string, error) {
				_, err := scanErr(ctx, s, kv.Range{})
				return "", err
			}},
			{"Batch", func(i int) (string, error) {
				key := fmt.Sprintf("batch/%04d", i)
				return key, s.Batch(ctx, pairs(key, "x"))
			}},
			{"Update", func(i int) (string, error) {
				key := fmt.Sprintf("update/%04d", i)
				return key, s.Update(ctx, func(tx kv.Tx) error {
					if _, err := tx.Get(ctx, k("k1")); err != nil {
						return err
					}
					return tx.Set(k(key), k("x"))
				})
			}},
		}
		var mu sync.Mutex
		var acked []string
		var wg sync.WaitGroup
		for _, o := range ops {
			wg.Go(func() {
				for i := range 1000 {
					key, err := o.op(i)
					if errors.Is(err, kv.ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("%s while closing: %v", o.name, err)
						return
					}
					if key != "" {
						mu.Lock()
						acked = append(acked, key)
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(10 * time.Millisecond)
		within(t, defaultWait, "Close under load", func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close under load: %v", err)
			}
			wg.Wait()
		})
		s = mustOpen(t, of)
		for _, key := range acked {
			wantGet(t, s, key, "x")
		}
	})
}

func testCancelled(t *testing.T, open Opener) {
	s := fresh(t, open)
	put(t, s, pairs("a", "1")...)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	ctxs := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"Canceled", cancelled, context.Canceled},
		{"DeadlineExceeded", expired, context.DeadlineExceeded},
	}
	for _, c := range ctxs {
		for _, o := range closedOps {
			t.Run(c.name+"/"+o.name, func(t *testing.T) {
				called := false
				if err := o.op(c.ctx, s, &called); !errors.Is(err, c.want) {
					t.Errorf("%s with a done context = %v; want %v", o.name, err, c.want)
				}
				if called {
					t.Errorf("%s with a done context called its callback", o.name)
				}
			})
		}
		t.Run(c.name+"/TxReads", func(t *testing.T) {
			err := s.Update(t.Context(), func(tx kv.Tx) error {
				if _, err := tx.Get(c.ctx, k("a")); !errors.Is(err, c.want) {
					t.Errorf("tx.Get with a done context = %v; want %v", err, c.want)
				}
				err := tx.Scan(c.ctx, kv.Range{}, func(key, value []byte) error {
					t.Errorf("tx.Scan with a done context called its callback")
					return nil
				})
				if !errors.Is(err, c.want) {
					t.Errorf("tx.Scan with a done context = %v; want %v", err, c.want)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
		})
	}
	wantScan(t, s, kv.Range{}, []pair{{"a", "1"}})
}
