package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/postgres"
)

// newSchema returns a unique schema name, dropped when the test ends. The
// schema itself is left for Open to create.
func newSchema(t *testing.T) string {
	t.Helper()
	dsn := needDB(t)
	schema := "kvtest_" + strings.ToLower(rand.Text()[:16])
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

func open(t *testing.T, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), postgres.Config{DSN: needDB(t), Schema: schema})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	dsn := needDB(t)
	kvtest.Run(t, func(t *testing.T) kvtest.OpenFunc {
		schema := newSchema(t)
		return func() (kv.Store, error) {
			return postgres.Open(context.Background(), postgres.Config{DSN: dsn, Schema: schema})
		}
	})
}

// TestByteaOrder checks the premise of the engine: PostgreSQL orders bytea
// exactly as bytes.Compare does, bytes unsigned and a prefix first, so
// ORDER BY k is kv's order.
func TestByteaOrder(t *testing.T) {
	s := open(t, newSchema(t))
	keys := [][]byte{
		{}, {0x00}, {0x00, 0x00}, {0x00, 0xff}, {0x01}, {0x7f}, {0x80}, {0xfe},
		{0xff}, {0xff, 0x00}, {0xff, 0xff}, {0xff, 0xff, 0xff},
		[]byte("a"), []byte("a\x00"), []byte("a\x00b"), []byte("a\xff"), []byte("ab"), []byte("b"),
	}
	var ws []kv.Write
	for i, k := range keys {
		ws = append(ws, kv.Write{Key: k, Value: []byte{byte(i)}})
	}
	if err := s.Batch(t.Context(), ws); err != nil {
		t.Fatalf("Batch: %v", err)
	}
	want := slices.Clone(keys)
	slices.SortFunc(want, bytes.Compare)
	var got [][]byte
	err := s.Scan(t.Context(), kv.Range{}, func(k, _ []byte) error {
		got = append(got, bytes.Clone(k))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("Scan order %x, want %x", got, want)
	}
	// The comparison operators themselves, pair by pair.
	ctx := t.Context()
	c, err := pgx.Connect(ctx, needDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, a := range keys {
		for _, b := range keys {
			var cmp int
			err := c.QueryRow(ctx, "SELECT CASE WHEN $1::bytea < $2::bytea THEN -1 WHEN $1::bytea > $2::bytea THEN 1 ELSE 0 END", a, b).Scan(&cmp)
			if err != nil {
				t.Fatal(err)
			}
			if want := bytes.Compare(a, b); cmp != want {
				t.Errorf("PostgreSQL compares %x with %x as %d, bytes.Compare as %d", a, b, cmp, want)
			}
		}
	}
}

// TestMigrations checks that reopening applies nothing twice and that
// concurrent Opens of a new schema all succeed, with one migration row per
// version.
func TestMigrations(t *testing.T) {
	schema := newSchema(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), postgres.Config{DSN: needDB(t), Schema: schema})
			if err == nil {
				err = s.Batch(t.Context(), []kv.Write{{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")}})
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Open %d: %v", i, err)
		}
	}
	open(t, schema).Close()
	open(t, schema).Close()

	ctx := t.Context()
	c, err := pgx.Connect(ctx, needDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, _ := c.Query(ctx, "SELECT version, count(*) FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" GROUP BY version ORDER BY version")
	type row struct {
		Version int
		Count   int
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Version != 1 {
		t.Fatalf("migrations recorded: %v; want version 1 first", got)
	}
	for _, r := range got {
		if r.Count != 1 {
			t.Errorf("version %d recorded %d times", r.Version, r.Count)
		}
	}
	var keys int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "kv"}.Sanitize()).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys != n {
		t.Errorf("%d keys after %d concurrent Opens each wrote one", keys, n)
	}
}

// TestNewerSchema checks that a binary refuses a schema migrated past what
// it knows rather than guessing at the layout.
func TestNewerSchema(t *testing.T) {
	schema := newSchema(t)
	open(t, schema).Close()
	admin(t, "INSERT INTO "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" (version, applied_at) VALUES (1000000, now())")
	_, err := postgres.Open(t.Context(), postgres.Config{DSN: needDB(t), Schema: schema})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a schema at a newer version = %v; want an error", err)
	}
}

// TestScanCallbackUsesTx reads and writes through the transaction from a
// Scan callback, across several pages, which pgx allows only because each
// page is read and closed before its callbacks run.
func TestScanCallbackUsesTx(t *testing.T) {
	s := open(t, newSchema(t))
	ctx := t.Context()
	const n = 1000 // several pages
	var ws []kv.Write
	for i := range n {
		ws = append(ws, kv.Write{Key: fmt.Appendf(nil, "src/%04d", i), Value: fmt.Appendf(nil, "%d", i)})
	}
	if err := s.Batch(ctx, ws); err != nil {
		t.Fatalf("Batch: %v", err)
	}
	for _, reverse := range []bool{false, true} {
		err := s.Update(ctx, func(tx kv.Tx) error {
			seen := 0
			err := tx.Scan(ctx, kv.Range{Start: []byte("src/"), End: []byte("src0"), Reverse: reverse}, func(k, v []byte) error {
				seen++
				got, err := tx.Get(ctx, k)
				if err != nil || !bytes.Equal(got, v) {
					return fmt.Errorf("tx.Get(%q) in callback = %q, %v; want %q", k, got, err, v)
				}
				dst := append([]byte("dst/"), k[len("src/"):]...)
				if err := tx.Set(dst, v); err != nil {
					return err
				}
				if got, err := tx.Get(ctx, dst); err != nil || !bytes.Equal(got, v) {
					return fmt.Errorf("tx.Get of own write %q = %q, %v", dst, got, err)
				}
				return nil
			})
			if err == nil && seen != n {
				err = fmt.Errorf("scan visited %d keys, want %d", seen, n)
			}
			return err
		})
		if err != nil {
			t.Fatalf("Update reverse=%v: %v", reverse, err)
		}
	}
	count := 0
	err := s.Scan(ctx, kv.Prefix([]byte("dst/")), func(k, v []byte) error { count++; return nil })
	if err != nil || count != n {
		t.Fatalf("after Update: %d dst keys, %v; want %d", count, err, n)
	}
}

// TestWriteSkewConflict runs two Updates that each read both keys and
// write one, forced to overlap. PostgreSQL's serializable isolation must
// abort one of them, and Update must report that as kv.ErrConflict.
func TestWriteSkewConflict(t *testing.T) {
	s := open(t, newSchema(t))
	ctx := t.Context()
	if err := s.Batch(ctx, []kv.Write{{Key: []byte("a"), Value: []byte("0")}, {Key: []byte("b"), Value: []byte("0")}}); err != nil {
		t.Fatal(err)
	}
	var read, wrote sync.WaitGroup
	read.Add(2)
	wrote.Add(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, mine := range []string{"a", "b"} {
		wg.Go(func() {
			var readOnce, wroteOnce sync.Once
			defer readOnce.Do(read.Done)
			defer wroteOnce.Do(wrote.Done)
			errs[i] = s.Update(ctx, func(tx kv.Tx) error {
				for _, k := range []string{"a", "b"} {
					if _, err := tx.Get(ctx, []byte(k)); err != nil {
						return err
					}
				}
				readOnce.Do(read.Done)
				read.Wait()
				err := tx.Set([]byte(mine), []byte("1"))
				wroteOnce.Do(wrote.Done)
				wrote.Wait()
				return err
			})
		})
	}
	wg.Wait()
	conflicts := 0
	for i, err := range errs {
		switch {
		case errors.Is(err, kv.ErrConflict):
			conflicts++
		case err != nil:
			t.Errorf("Update %d = %v; want nil or ErrConflict", i, err)
		}
	}
	if conflicts == 0 {
		t.Fatalf("both skewed transactions committed")
	}
	// Nothing of the failed transaction was applied.
	ones := 0
	s.Scan(ctx, kv.Range{}, func(k, v []byte) error {
		if string(v) == "1" {
			ones++
		}
		return nil
	})
	if ones != 2-conflicts {
		t.Fatalf("%d keys written by %d committed transactions", ones, 2-conflicts)
	}
}

// TestErrorsHidePassword checks that connection failures do not echo the
// password: neither a refused connection nor a failed login, nor a DSN
// that does not parse.
func TestErrorsHidePassword(t *testing.T) {
	const pw = "S3cret-Pa55word-never-shown"
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dsns := map[string]string{
		"Refused":    fmt.Sprintf("host=127.0.0.1 port=%d user=u dbname=d password=%s sslmode=disable connect_timeout=5", port, pw),
		"RefusedURL": fmt.Sprintf("postgres://u:%s@127.0.0.1:%d/d?sslmode=disable&connect_timeout=5", pw, port),
		"BadParse":   fmt.Sprintf("postgres://u:%s@127.0.0.1:notaport/d", pw),
		"BadParseKV": fmt.Sprintf("host=127.0.0.1 port=x password='%s", pw),
	}
	// The throwaway server, and the one scripts/test starts, make pwRole
	// log in with a SCRAM password; a server that trusts it cannot show
	// a failed login, so that case is skipped there.
	admin(t, "DROP ROLE IF EXISTS "+pwRole)
	admin(t, "CREATE ROLE "+pwRole+" LOGIN PASSWORD 'the-right-password-0123456789'")
	t.Cleanup(func() { admin(t, "DROP ROLE IF EXISTS "+pwRole) })
	cfg, err := pgx.ParseConfig(needDB(t))
	if err != nil {
		t.Fatal(err)
	}
	dsns["BadPassword"] = fmt.Sprintf("host=%s port=%d user=%s dbname=%s password=%s sslmode=disable", cfg.Host, cfg.Port, pwRole, cfg.Database, pw)
	schema := newSchema(t) // in case a login unexpectedly succeeds
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			s, err := postgres.Open(t.Context(), postgres.Config{DSN: dsn, Schema: schema})
			if err == nil {
				s.Close()
				if name == "BadPassword" {
					t.Skipf("the server lets %s in without a password", pwRole)
				}
				t.Fatal("Open succeeded")
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), pw) || strings.Contains(fmt.Sprintf("%+v", err), pw) {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

// TestConflictSwallowed checks that a transaction poisoned by a
// conflict reports kv.ErrConflict even when fn swallows the error.
func TestConflictSwallowed(t *testing.T) {
	s := open(t, newSchema(t))
	ctx := t.Context()
	if err := s.Batch(ctx, []kv.Write{{Key: []byte("a"), Value: []byte("0")}}); err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var first error
	wg.Go(func() {
		first = s.Update(ctx, func(tx kv.Tx) error {
			if _, err := tx.Get(ctx, []byte("a")); err != nil {
				return err
			}
			close(inside)
			<-release
			tx.Set([]byte("a"), []byte("first")) // fails: a changed since the snapshot
			return nil                           // and fn ignores that
		})
	})
	<-inside
	if err := s.Update(ctx, func(tx kv.Tx) error { return tx.Set([]byte("a"), []byte("second")) }); err != nil {
		t.Fatalf("second Update: %v", err)
	}
	close(release)
	wg.Wait()
	if !errors.Is(first, kv.ErrConflict) {
		t.Fatalf("Update whose write conflicted = %v; want ErrConflict", first)
	}
	got, err := s.Get(ctx, []byte("a"))
	if err != nil || string(got) != "second" {
		t.Fatalf("Get = %q, %v; want second", got, err)
	}
}

// TestScanPages checks limits and directions across page boundaries, on
// the store (where a long scan moves into a snapshot) and in a View.
func TestScanPages(t *testing.T) {
	s := open(t, newSchema(t))
	ctx := t.Context()
	const n = 600
	var ws []kv.Write
	for i := range n {
		ws = append(ws, kv.Write{Key: fmt.Appendf(nil, "p%04d", i), Value: fmt.Appendf(nil, "%d", i)})
	}
	if err := s.Batch(ctx, ws); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, r kv.Reader) {
		for _, limit := range []int{0, 1, 255, 256, 257, 300, 512, 513, 599, 600, 601} {
			for _, reverse := range []bool{false, true} {
				var got []string
				err := r.Scan(ctx, kv.Range{Start: []byte("p"), End: []byte("q"), Limit: limit, Reverse: reverse}, func(k, _ []byte) error {
					got = append(got, string(k))
					return nil
				})
				if err != nil {
					t.Fatalf("Scan limit %d reverse %v: %v", limit, reverse, err)
				}
				want := n
				if limit > 0 && limit < n {
					want = limit
				}
				if len(got) != want {
					t.Fatalf("Scan limit %d reverse %v: %d keys, want %d", limit, reverse, len(got), want)
				}
				for i, k := range got {
					j := i
					if reverse {
						j = n - 1 - i
					}
					if k != fmt.Sprintf("p%04d", j) {
						t.Fatalf("Scan limit %d reverse %v: key %d is %q", limit, reverse, i, k)
					}
				}
			}
		}
	}
	t.Run("Store", func(t *testing.T) { check(t, s) })
	t.Run("View", func(t *testing.T) {
		if err := s.View(ctx, func(r kv.Reader) error { check(t, r); return nil }); err != nil {
			t.Fatal(err)
		}
	})
}
