// Package postgres is the kv.Store engine on PostgreSQL, for deployments
// that already run a database and want its backups, replication and
// operations instead of a local directory.
//
// The store is one table, kv(k bytea primary key, v bytea), in a schema of
// its own. bytea compares bytewise, which is kv's key order, so every Scan
// is an index range scan; it reads in keyset pages so that a scan of any
// size holds no cursor open and a callback may use the same transaction.
//
// Update is a SERIALIZABLE transaction: PostgreSQL's serializable snapshot
// isolation aborts one of two transactions that would otherwise skew, and
// that abort (SQLSTATE 40001, or 40P01 for a deadlock) surfaces as
// kv.ErrConflict. Batch is serializable too, since a blind write at a lower
// level could complete a cycle among serializable transactions that SSI
// cannot see; it retries its own conflicts, as blind writes can. View is a
// REPEATABLE READ READ ONLY transaction: one snapshot, no locks, no waits.
//
// Writes are durable when acknowledged because the engine leaves
// synchronous_commit at its default, on.
//
// Keys are limited by the B-tree: an index entry must fit in a third of a
// page, about 2.7 KB, which kv keys built from identifiers never approach.
//
// Under GODEBUG=fips140=only, log in with SCRAM-SHA-256 (PostgreSQL's
// default since version 14), client certificates or trust: MD5 password
// authentication needs crypto/md5, which that mode refuses, so a server
// that asks for it cannot be logged in to.
package postgres

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/twinvault/twinvault/kv"
)

// Config says where the store lives.
type Config struct {
	// DSN is a libpq-style connection string, keyword=value or URL, e.g.
	// "host=db.example port=5432 user=twinvault dbname=twinvault
	// sslmode=verify-full". It never appears in errors or logs, since it
	// may hold a password.
	DSN string
	// Schema is the schema holding the store's tables; "" means
	// "twinvault". Open creates it when missing, which needs the CREATE
	// privilege on the database.
	Schema string
	// MaxConns caps the connection pool; 0 means pgx's default, the
	// larger of 4 and the number of CPUs. A View or Update holds one
	// connection for its whole run.
	MaxConns int32
}

// DefaultSchema is the schema used when Config.Schema is empty.
const DefaultSchema = "twinvault"

// pageSize is how many rows one Scan query reads. Each page is read
// completely before its callbacks run, so it bounds the memory of a scan.
const pageSize = 256

// Store is a kv.Store in a PostgreSQL schema.
type Store struct {
	pool *pgxpool.Pool

	// SQL with the schema-qualified table name filled in.
	sqlGet, sqlSet, sqlDelete, sqlBatch string
	sqlScan                             map[scanShape]string

	gate kv.Gate // Close waits for calls in flight before closing the pool
}

var _ kv.Store = (*Store)(nil)

// Open connects to the database, applies any schema migrations the schema
// lacks and returns the store. Several processes may Open one schema at
// once: migrations run one at a time under an advisory lock.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	schema := cfg.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	// PostgreSQL silently truncates longer names, which would make two
	// configured schemas one.
	if len(schema) > 63 || strings.ContainsRune(schema, 0) {
		return nil, fmt.Errorf("postgres: schema name %q is not a valid PostgreSQL identifier", schema)
	}
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		// pgx masks passwords in parse errors only on a best-effort basis,
		// so none of its text is passed on.
		return nil, errors.New("postgres: the DSN does not parse as a connection string (details withheld: it may hold a password)")
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if _, ok := pc.ConnConfig.RuntimeParams["application_name"]; !ok {
		pc.ConnConfig.RuntimeParams["application_name"] = "twinvault"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool, schema); err != nil {
		pool.Close()
		return nil, err
	}
	return newStore(pool, schema), nil
}

func newStore(pool *pgxpool.Pool, schema string) *Store {
	t := pgx.Identifier{schema, "kv"}.Sanitize()
	s := &Store{
		pool:      pool,
		sqlGet:    "SELECT v FROM " + t + " WHERE k = $1",
		sqlSet:    "INSERT INTO " + t + " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
		sqlDelete: "DELETE FROM " + t + " WHERE k = $1",
		// One statement for the whole batch; the writes are deduplicated
		// first, so the two parts touch disjoint keys and no key twice.
		sqlBatch: "WITH d AS (DELETE FROM " + t + " WHERE k = ANY($3::bytea[])) " +
			"INSERT INTO " + t + " (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) " +
			"ON CONFLICT (k) DO UPDATE SET v = excluded.v",
		sqlScan: map[scanShape]string{},
	}
	for _, sh := range []scanShape{{false, false, false}, {false, false, true}, {false, true, false}, {false, true, true}, {true, false, false}, {true, false, true}} {
		s.sqlScan[sh] = sh.sql(t)
	}
	return s
}

// Shared reports true: every node of a deployment uses the same database.
func (s *Store) Shared() bool { return true }

func (s *Store) enter(ctx context.Context) error { return s.gate.Enter(ctx) }

func (s *Store) leave() { s.gate.Leave() }

// Close waits for calls in flight, then closes the connection pool. Calls
// made after Close has begun return kv.ErrClosed, and so does a second
// Close. Close must not be called from inside a Scan callback, a View or an
// Update: it would wait for that call forever.
func (s *Store) Close() error {
	if err := s.gate.Close(); err != nil {
		return err
	}
	s.pool.Close()
	return nil
}

// querier is what the pool and a transaction share for reads.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Get returns the committed value of key; a single statement sees one
// committed state, so no transaction is needed.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.leave()
	return s.get(ctx, s.pool, key)
}

func (s *Store) get(ctx context.Context, q querier, key []byte) ([]byte, error) {
	var v []byte
	err := q.QueryRow(ctx, s.sqlGet, nonNil(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, wrap(ctx, "get", err)
	}
	// pgx copies bytea into a new slice, which is the caller's to keep.
	return nonNil(v), nil
}

// Scan calls fn for each committed pair in r, from one consistent view.
// One statement sees one snapshot, so a scan that fits in one page needs
// no transaction, and most do; only when the first page comes back full
// does the scan start again in a read-only snapshot that its pages share.
func (s *Store) Scan(ctx context.Context, r kv.Range, fn func(key, value []byte) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	if r.Limit > 0 && r.Limit <= pageSize {
		return s.scan(ctx, s.pool, r, fn, false)
	}
	if err := s.scan(ctx, s.pool, r, fn, true); !errors.Is(err, errMorePages) {
		return err
	}
	return s.view(ctx, func(rd *reader) error { return rd.Scan(ctx, r, fn) })
}

// errMorePages is what a probing scan returns, before calling fn at all,
// when its first page is full: the rest would come from other snapshots.
var errMorePages = errors.New("postgres: more than one page")

// View runs fn in a REPEATABLE READ READ ONLY transaction: its snapshot is
// taken at the first read, and such a transaction takes no locks that
// writers could wait for, nor waits for theirs.
func (s *Store) View(ctx context.Context, fn func(kv.Reader) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	return s.view(ctx, func(rd *reader) error { return fn(rd) })
}

func (s *Store) view(ctx context.Context, fn func(*reader) error) error {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return wrap(ctx, "begin view", err)
	}
	rd := &reader{s: s, tx: ptx}
	defer func() {
		rd.done = true
		rollback(ctx, ptx) // nothing to commit; also when fn panics
	}()
	// Take the snapshot now, as View promises, not at fn's first read.
	if _, err := ptx.Exec(ctx, "SELECT 1"); err != nil {
		return wrap(ctx, "begin view", err)
	}
	return fn(rd)
}

// errTxDone is returned by a Tx or View reader used after its call returned.
var errTxDone = errors.New("postgres: transaction already finished")

// reader reads through a transaction until its View or Update returns.
type reader struct {
	s    *Store
	tx   pgx.Tx
	done bool
}

func (r *reader) Get(ctx context.Context, key []byte) ([]byte, error) {
	if r.done {
		return nil, errTxDone
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r.s.get(ctx, r.tx, key)
}

func (r *reader) Scan(ctx context.Context, rg kv.Range, fn func(key, value []byte) error) error {
	if r.done {
		return errTxDone
	}
	return r.s.scan(ctx, r.tx, rg, fn, false)
}

// Batch applies ws in one serializable transaction, retrying when it loses
// a race: blind writes do not depend on what they would have read, so a
// retry is always correct. After many lost races in a row it gives up with
// an error that matches kv.ErrConflict.
func (s *Store) Batch(ctx context.Context, ws []kv.Write) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	if len(ws) == 0 {
		return nil
	}
	// The last write to a key wins, so only that one is sent. Sorting
	// makes concurrent batches take row locks in one order, so they do
	// not deadlock each other.
	last := make(map[string]int, len(ws))
	for i, w := range ws {
		last[string(w.Key)] = i
	}
	keep := make([]kv.Write, 0, len(last))
	for i, w := range ws {
		if last[string(w.Key)] == i {
			keep = append(keep, w)
		}
	}
	slices.SortFunc(keep, func(a, b kv.Write) int { return bytes.Compare(a.Key, b.Key) })
	var setK, setV, delK [][]byte
	for _, w := range keep {
		if w.Value == nil {
			delK = append(delK, nonNil(w.Key))
		} else {
			setK, setV = append(setK, nonNil(w.Key)), append(setV, w.Value)
		}
	}
	// pgx sends nil slices as NULL arrays, which unnest and ANY treat as
	// empty, as wanted.
	const maxAttempts = 50
	for attempt := 1; ; attempt++ {
		err := s.batchOnce(ctx, setK, setV, delK)
		if err == nil || !errors.Is(err, kv.ErrConflict) || attempt == maxAttempts {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func (s *Store) batchOnce(ctx context.Context, setK, setV, delK [][]byte) error {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return wrap(ctx, "batch", err)
	}
	defer rollback(ctx, ptx) // a no-op after Commit
	if _, err := ptx.Exec(ctx, s.sqlBatch, setK, setV, delK); err != nil {
		return wrap(ctx, "batch", err)
	}
	return commit(ctx, ptx, "batch")
}

// backoff sleeps a little longer on each attempt, with jitter so that
// batches that collided once do not collide again in step.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1+rand.IntN(min(attempt, 20))) * time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Update runs fn in a SERIALIZABLE transaction and commits it when fn
// returns nil and ctx is not done. Its writes go to the database as they
// are made, so its reads see them. A serialization failure or deadlock at
// any point, commit included, rolls everything back and returns
// kv.ErrConflict. A panic in fn rolls back and carries on up the stack.
//
// fn must not call Update or Batch on the same Store, and must not use tx
// from another goroutine.
func (s *Store) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return wrap(ctx, "begin", err)
	}
	t := &tx{reader: reader{s: s, tx: ptx}, ctx: ctx}
	defer func() {
		t.done = true
		rollback(ctx, ptx) // a no-op after Commit; also when fn panics
	}()
	if err := ctx.Err(); err != nil { // done while waiting for a connection
		return err
	}
	err = fn(t)
	t.done = true
	if t.conflict != nil {
		// fn may have passed the failure on, wrapped or replaced it, or
		// ignored it; the transaction is aborted whatever it did.
		return t.conflict
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return commit(ctx, ptx, "commit")
}

// tx is a read-write transaction on one connection.
type tx struct {
	reader
	// ctx is Update's: Set and Delete run statements but take no context.
	ctx context.Context
	// conflict is the kv.ErrConflict of the first statement that failed
	// with a serialization failure or deadlock, which aborts the whole
	// transaction.
	conflict error
}

func (t *tx) Get(ctx context.Context, key []byte) ([]byte, error) {
	v, err := t.reader.Get(ctx, key)
	t.note(err)
	return v, err
}

// Scan sees the transaction's writes made before each page is read; fn may
// read and write through the transaction.
func (t *tx) Scan(ctx context.Context, rg kv.Range, fn func(key, value []byte) error) error {
	err := t.reader.Scan(ctx, rg, fn)
	t.note(err)
	return err
}

// Set writes at once; pgx encodes the arguments before Exec returns, so
// the caller may reuse them.
func (t *tx) Set(key, value []byte) error {
	if t.done {
		return errTxDone
	}
	_, err := t.tx.Exec(t.ctx, t.s.sqlSet, nonNil(key), nonNil(value))
	if err != nil {
		err = wrap(t.ctx, "set", err)
		t.note(err)
	}
	return err
}

func (t *tx) Delete(key []byte) error {
	if t.done {
		return errTxDone
	}
	_, err := t.tx.Exec(t.ctx, t.s.sqlDelete, nonNil(key))
	if err != nil {
		err = wrap(t.ctx, "delete", err)
		t.note(err)
	}
	return err
}

func (t *tx) note(err error) {
	if t.conflict == nil && errors.Is(err, kv.ErrConflict) {
		t.conflict = err
	}
}

// scanShape picks one of the few query texts a scan page needs: the
// direction, whether the lower bound excludes the key (the last one of the
// previous forward page) and whether there is an upper bound at all.
type scanShape struct {
	reverse, after, bounded bool
}

func (sh scanShape) sql(table string) string {
	var b strings.Builder
	b.WriteString("SELECT k, v FROM " + table + " WHERE k ")
	if sh.after {
		b.WriteString(">")
	} else {
		b.WriteString(">=")
	}
	b.WriteString(" $1")
	if sh.bounded {
		b.WriteString(" AND k < $2 ORDER BY k")
		if sh.reverse {
			b.WriteString(" DESC")
		}
		b.WriteString(" LIMIT $3")
	} else {
		b.WriteString(" ORDER BY k")
		if sh.reverse {
			b.WriteString(" DESC")
		}
		b.WriteString(" LIMIT $2")
	}
	return b.String()
}

// scan pages through rg with keyset pagination. Each page is read in full
// and its rows closed before fn sees any of it, because pgx cannot run
// another statement on a connection while rows are open, and fn may. With
// probe set, a first page that may not be the last returns errMorePages
// instead.
func (s *Store) scan(ctx context.Context, q querier, rg kv.Range, fn func(key, value []byte) error, probe bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rg.End != nil && bytes.Compare(rg.Start, rg.End) >= 0 {
		return nil
	}
	lo, hi := nonNil(rg.Start), rg.End
	after := false // forward pages after the first exclude their lower bound
	n := 0
	var keys, vals [][]byte
	for {
		want := pageSize
		if rg.Limit > 0 {
			want = min(want, rg.Limit-n)
		}
		sh := scanShape{reverse: rg.Reverse, after: after, bounded: hi != nil}
		args := []any{lo}
		if hi != nil {
			args = append(args, hi)
		}
		args = append(args, want)
		rows, err := q.Query(ctx, s.sqlScan[sh], args...)
		if err != nil {
			return wrap(ctx, "scan", err)
		}
		keys, vals = keys[:0], vals[:0]
		var k, v []byte
		_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
			keys, vals = append(keys, k), append(vals, nonNil(v))
			return nil
		})
		if err != nil {
			return wrap(ctx, "scan", err)
		}
		if probe && len(keys) == want && (rg.Limit <= 0 || len(keys) < rg.Limit) {
			return errMorePages
		}
		for i := range keys {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(keys[i], vals[i]); err != nil {
				if errors.Is(err, kv.Stop) {
					return nil
				}
				return err
			}
			n++
		}
		if len(keys) < want || rg.Limit > 0 && n >= rg.Limit {
			return nil
		}
		// The next page starts past the last key seen. pgx gave each key
		// its own slice, so keeping it is safe whatever fn did.
		if rg.Reverse {
			hi = keys[len(keys)-1]
		} else {
			lo, after = keys[len(keys)-1], true
		}
	}
}

// nonNil turns a nil slice into an empty one: pgx sends nil as NULL, and
// kv has no NULL, only empty keys and values.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// commit commits ptx. It does not use ctx's cancellation: a commit cut off
// half way has an unknown outcome, and the caller has already decided to
// commit.
func commit(ctx context.Context, ptx pgx.Tx, what string) error {
	if err := ptx.Commit(context.WithoutCancel(ctx)); err != nil {
		return wrap(ctx, what, err)
	}
	return nil
}

// rollback ends ptx if it is still open. It runs even when ctx is done,
// with a bound of its own; if it fails, pgx closes the connection, which
// ends the transaction on the server too.
func rollback(ctx context.Context, ptx pgx.Tx) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ptx.Rollback(rctx)
}

// wrap adds context to a database error. A serialization failure or
// deadlock becomes kv.ErrConflict; an error caused by ctx becomes ctx's
// own error, as kv promises. pgx errors name the server and user but
// never the password.
func wrap(ctx context.Context, what string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
		return fmt.Errorf("postgres: %s: %w: %w", what, kv.ErrConflict, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("postgres: %s: %w", what, cerr)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// migrations are the schema's versions, applied in order. A file's name
// starts with its version; a released file never changes.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockClass is the first half of the advisory lock key that
// serialises migrations; the second is a hash of the schema name, so
// stores in different schemas migrate independently.
const migrationLockClass = 0x74766b76 // "tvkv"

// migrate brings schema up to the newest version, creating it if missing.
// Everything runs in one transaction holding a transaction-scoped advisory
// lock, so concurrent Opens wait for each other, a failed migration leaves
// nothing behind, and the lock cannot outlive a dropped connection.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	files, err := migrations.ReadDir("migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	type migration struct {
		version int
		name    string
	}
	var all []migration
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(f.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("postgres: migration %s: no version number", f.Name())
		}
		all = append(all, migration{v, f.Name()})
	}
	slices.SortFunc(all, func(a, b migration) int { return a.version - b.version })

	// The pool connects lazily: this is the first connection.
	ptx, err := pool.Begin(ctx)
	if err != nil {
		return wrap(ctx, "connect", err)
	}
	defer rollback(ctx, ptx)
	if _, err := ptx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", int32(migrationLockClass), schema); err != nil {
		return wrap(ctx, "migrate: lock", err)
	}
	// Checked first, so that an existing schema needs no CREATE privilege.
	var exists bool
	if err := ptx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return wrap(ctx, "migrate", err)
	}
	id := pgx.Identifier{schema}.Sanitize()
	if !exists {
		if _, err := ptx.Exec(ctx, "CREATE SCHEMA "+id); err != nil {
			return wrap(ctx, "migrate: create schema "+id, err)
		}
	}
	// Unqualified names in migrations mean the store's schema.
	if _, err := ptx.Exec(ctx, "SET LOCAL search_path TO "+id); err != nil {
		return wrap(ctx, "migrate", err)
	}
	if _, err := ptx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
		return wrap(ctx, "migrate", err)
	}
	rows, _ := ptx.Query(ctx, "SELECT version FROM schema_migrations")
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return wrap(ctx, "migrate", err)
	}
	if len(applied) > 0 && slices.Max(applied) > all[len(all)-1].version {
		// A newer binary has been here; this one cannot know the layout.
		return fmt.Errorf("postgres: schema %s is at version %d, newer than this binary's %d", id, slices.Max(applied), all[len(all)-1].version)
	}
	for _, m := range all {
		if slices.Contains(applied, m.version) {
			continue
		}
		sql, err := migrations.ReadFile(path.Join("migrations", m.name))
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
		if _, err := ptx.Exec(ctx, string(sql)); err != nil {
			return wrap(ctx, "migration "+m.name, err)
		}
		if _, err := ptx.Exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())", m.version); err != nil {
			return wrap(ctx, "migration "+m.name, err)
		}
	}
	return commit(ctx, ptx, "migrate")
}
