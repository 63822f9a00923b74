package kvtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twinvault/twinvault/kv"
)

// defaultWait bounds waits that only a stuck store would exceed.
const defaultWait = 10 * time.Second

// testCounter runs concurrent read-increment-write transactions on one key.
// Any lost update (two transactions reading the same count) leaves the
// counter short of workers*rounds.
func testCounter(t *testing.T, open Opener) {
	const workers, rounds = 8, 25
	s := fresh(t, open)
	ctx := t.Context()
	set(t, s, "counter", "0")
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range rounds {
				err := update(ctx, s, func(tx kv.Tx) error {
					v, err := tx.Get(ctx, k("counter"))
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(string(v))
					if err != nil {
						return err
					}
					return tx.Set(k("counter"), k(strconv.Itoa(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	within(t, defaultWait*3, "counter transactions", wg.Wait)
	close(errs)
	for err := range errs {
		t.Fatalf("Update: %v", err)
	}
	wantGet(t, s, "counter", strconv.Itoa(workers*rounds))
}

// testWriteSkew runs pairs of transactions that each read what both write.
// Snapshot isolation lets both commit; serializability must not. Each
// transaction waits briefly after its reads for the other to read too, so an
// engine that runs transactions concurrently really does overlap them, while
// one that runs them one at a time only loses the short wait.
func testWriteSkew(t *testing.T, open Opener) {
	cases := []struct {
		name  string
		setup []kv.Write
		// tx runs transaction i (0 or 1); it calls sync between its reads
		// and its writes.
		tx    func(ctx context.Context, tx kv.Tx, i int, sync func()) error
		check func(t *testing.T, s kv.Store)
	}{
		{
			// Both "on call" until one takes itself off; at least one must stay.
			name:  "ReadBothWriteOne",
			setup: pairs("on/0", "1", "on/1", "1"),
			tx: func(ctx context.Context, tx kv.Tx, i int, sync func()) error {
				on := 0
				for j := range 2 {
					v, err := tx.Get(ctx, k(fmt.Sprint("on/", j)))
					if err != nil {
						return err
					}
					if string(v) == "1" {
						on++
					}
				}
				sync()
				if on < 2 {
					return nil
				}
				return tx.Set(k(fmt.Sprint("on/", i)), k("0"))
			},
			check: func(t *testing.T, s kv.Store) {
				ps := scan(t, s, kv.Prefix(k("on/")))
				if len(ps) != 2 || ps[0].value == "0" && ps[1].value == "0" {
					t.Fatalf("both transactions committed a write based on a stale read: %v", ps)
				}
			},
		},
		{
			// Insert into an empty prefix only if it is empty: a phantom.
			name:  "Phantom",
			setup: pairs("other", "x"),
			tx: func(ctx context.Context, tx kv.Tx, i int, sync func()) error {
				n := 0
				err := tx.Scan(ctx, kv.Prefix(k("slot/")), func(key, value []byte) error {
					n++
					return nil
				})
				if err != nil {
					return err
				}
				sync()
				if n > 0 {
					return nil
				}
				return tx.Set(k(fmt.Sprint("slot/", i)), k("taken"))
			},
			check: func(t *testing.T, s kv.Store) {
				if ps := scan(t, s, kv.Prefix(k("slot/"))); len(ps) != 1 {
					t.Fatalf("a prefix both transactions saw empty got %d keys: %v", len(ps), ps)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := fresh(t, open)
			ctx := t.Context()
			put(t, s, c.setup...)
			var arrived sync.WaitGroup
			arrived.Add(2)
			both := make(chan struct{})
			go func() {
				arrived.Wait()
				close(both)
			}()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range 2 {
				wg.Go(func() {
					var once sync.Once
					defer once.Do(arrived.Done) // if fn never got to sync
					errs[i] = update(ctx, s, func(tx kv.Tx) error {
						return c.tx(ctx, tx, i, func() {
							once.Do(func() {
								arrived.Done()
								select {
								case <-both:
								case <-time.After(100 * time.Millisecond):
								}
							})
						})
					})
				})
			}
			within(t, defaultWait, "the two transactions", wg.Wait)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("transaction %d: %v", i, err)
				}
			}
			c.check(t, s)
		})
	}
}

// testBatchAtomicToReaders checks that readers never see part of a Batch:
// every batch sets all keys under "x/" to one number, and x/d is there
// exactly when that number is even, while scans and transactions read them.
func testBatchAtomicToReaders(t *testing.T, open Opener) {
	const batches = 100
	s := fresh(t, open)
	ctx := t.Context()
	put(t, s, pairs("x/a", "0", "x/b", "0", "x/c", "0", "x/d", "0")...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= batches; i++ {
			n := k(strconv.Itoa(i))
			ws := []kv.Write{{Key: k("x/a"), Value: n}, {Key: k("x/b"), Value: n}, {Key: k("x/c"), Value: n}, {Key: k("x/d")}}
			if i%2 == 0 {
				ws[3].Value = n
			}
			if err := s.Batch(ctx, ws); err != nil {
				t.Errorf("Batch %d: %v", i, err)
				return
			}
		}
	})
	consistent := func(ps []pair) error {
		if len(ps) < 3 {
			return fmt.Errorf("missing keys: %v", ps)
		}
		n, _ := strconv.Atoi(ps[0].value)
		if len(ps) != 4-n%2 {
			return fmt.Errorf("x/d present in the wrong batch: %v", ps)
		}
		for _, p := range ps {
			if p.value != ps[0].value {
				return fmt.Errorf("values from different batches: %v", ps)
			}
		}
		return nil
	}
	readers := []struct {
		name string
		read func() ([]pair, error)
	}{
		{"Scan", func() ([]pair, error) { return scanErr(ctx, s, kv.Prefix(k("x/"))) }},
		{"TxGets", func() ([]pair, error) {
			var ps []pair
			err := update(ctx, s, func(tx kv.Tx) error {
				ps = ps[:0]
				for _, key := range []string{"x/a", "x/b", "x/c", "x/d"} {
					v, err := tx.Get(ctx, k(key))
					if err == nil {
						ps = append(ps, pair{key, string(v)})
					} else if !errors.Is(err, kv.ErrNotFound) {
						return err
					}
				}
				return nil
			})
			return ps, err
		}},
	}
	for _, r := range readers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					if i > 0 {
						return
					}
				default:
				}
				ps, err := r.read()
				if err == nil {
					err = consistent(ps)
				}
				if err != nil {
					t.Errorf("%s read %d: %v", r.name, i, err)
					return
				}
			}
		})
	}
	within(t, defaultWait*3, "batches and readers", wg.Wait)
}
