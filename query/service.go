package query

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/query/parser"
)

// Timeout is how long a query may run: TwinMaker's documented limit.
const Timeout = 10 * time.Second

// DefaultPageSize is the page size when maxResults is not given.
const DefaultPageSize = 50

// Service answers ExecuteQuery over the catalog's graphs.
type Service struct {
	cat     *catalog.Service
	timeout time.Duration
	results *resultStore
}

// NewService returns a Service reading cat.
func NewService(cat *catalog.Service) *Service {
	return &Service{cat: cat, timeout: Timeout, results: newResultStore(resultBytes, resultTTL, time.Now)}
}

// Pages keeps the results clients page through where every node of a
// deployment finds them, so a next page may be asked of any node.
type Pages interface {
	// Key is the key of page tokens' MACs: the same on every node.
	Key(ctx context.Context) ([]byte, error)
	// Put keeps the encoded form of a result of workspace's under id
	// until expires.
	Put(ctx context.Context, workspace string, id [16]byte, data []byte, expires time.Time) error
	// Get returns what Put kept and until when, or ErrExpired once it is
	// gone.
	Get(ctx context.Context, workspace string, id [16]byte) (data []byte, expires time.Time, err error)
}

// ErrExpired is what Pages.Get returns for a result no longer kept.
var ErrExpired = errors.New("query: the result has expired")

// SharePages keeps results in p as well as in memory: a node that did not
// run the query reads the result from there.
func (s *Service) SharePages(p Pages) { s.results.shared = p }

// ExecuteQuery runs a query, or returns the next page of one. A result is
// computed once, on one snapshot of the twin, and later pages are cut from
// it, so paging is stable while the twin changes.
func (s *Service) ExecuteQuery(ctx context.Context, in *model.ExecuteQueryInput) (*model.ExecuteQueryOutput, error) {
	size := DefaultPageSize
	if in.MaxResults != nil {
		size = int(*in.MaxResults)
	}
	scope := *in.WorkspaceId + "\x00" + *in.QueryStatement
	if in.NextToken != nil {
		r, offset, err := s.results.get(ctx, *in.NextToken, scope)
		if err != nil {
			return nil, err
		}
		return s.page(ctx, r, offset, size, scope)
	}
	q, err := parser.Parse(*in.QueryStatement)
	if err != nil {
		var pe *parser.Error
		if errors.As(err, &pe) {
			return nil, twinvault.Errorf(twinvault.ValidationException, "queryStatement: %s", pe.Error())
		}
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var res *Result
	err = s.cat.ReadGraph(ctx, *in.WorkspaceId, func(g *catalog.Graph) error {
		var err error
		res, err = Execute(ctx, g, q)
		return err
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, twinvault.Errorf(twinvault.QueryTimeoutException, "the query ran past its time limit of %v", s.timeout)
		}
		return nil, err
	}
	r, err := encodeResult(res)
	if err != nil {
		return nil, err
	}
	return s.page(ctx, r, 0, size, scope)
}

func (s *Service) page(ctx context.Context, r *storedResult, offset, size int, scope string) (*model.ExecuteQueryOutput, error) {
	out := &model.ExecuteQueryOutput{ColumnDescriptions: r.columns, Rows: []model.Row{}}
	end := min(offset+size, len(r.rows))
	for _, row := range r.rows[offset:end] {
		cells := make([]any, len(row))
		for i, c := range row {
			cells[i] = c
		}
		out.Rows = append(out.Rows, model.Row{RowData: cells})
	}
	if end < len(r.rows) {
		tok, err := s.results.put(ctx, r, end, scope)
		if err != nil {
			return nil, err
		}
		out.NextToken = &tok
	}
	return out, nil
}

// storedResult is a result with its cells already encoded.
type storedResult struct {
	id      [16]byte
	columns []model.ColumnDescription
	rows    [][]json.RawMessage
	size    int
}

// wireResult is a storedResult as Pages keep it.
type wireResult struct {
	Columns []model.ColumnDescription `json:"columns"`
	Rows    [][]json.RawMessage       `json:"rows"`
}

func encodeResult(res *Result) (*storedResult, error) {
	r := &storedResult{}
	for _, c := range res.Columns {
		r.columns = append(r.columns, model.ColumnDescription{Name: model.String(c.Name), Type: model.ColumnType(c.Type)})
	}
	for _, row := range res.Rows {
		cells := make([]json.RawMessage, len(row))
		for i, v := range row {
			b, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			cells[i] = b
			r.size += len(b)
		}
		r.rows = append(r.rows, cells)
	}
	return r, nil
}

// Results being paged live in memory for resultTTL, within resultBytes in
// all; the oldest go first when room is needed.
const (
	resultBytes = 256 << 20
	resultTTL   = 15 * time.Minute
)

// resultStore keeps the results clients are paging through. A token names
// a result and an offset in it, under a MAC bound to the workspace and the
// query text, so a token cannot be altered or used for another query.
type resultStore struct {
	shared Pages // nil: results stay in this process

	mu      sync.Mutex
	key     []byte
	max     int
	ttl     time.Duration
	now     func() time.Time
	size    int
	entries map[[16]byte]*storeEntry

	sharedKey []byte
}

type storeEntry struct {
	r       *storedResult
	expires time.Time
}

func newResultStore(max int, ttl time.Duration, now func() time.Time) *resultStore {
	key := make([]byte, 32)
	rand.Read(key)
	return &resultStore{key: key, max: max, ttl: ttl, now: now, entries: map[[16]byte]*storeEntry{}}
}

// macKey is the key of token MACs: this process's own, or the one shared
// by the nodes of a deployment.
func (s *resultStore) macKey(ctx context.Context) ([]byte, error) {
	if s.shared == nil {
		return s.key, nil
	}
	s.mu.Lock()
	k := s.sharedKey
	s.mu.Unlock()
	if k != nil {
		return k, nil
	}
	k, err := s.shared.Key(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.sharedKey = k
	s.mu.Unlock()
	return k, nil
}

func (s *resultStore) mac(key, body []byte, scope string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	m.Write([]byte{0})
	m.Write([]byte(scope))
	return m.Sum(nil)[:16]
}

// put keeps r (if it is not kept yet) and returns a token for offset.
func (s *resultStore) put(ctx context.Context, r *storedResult, offset int, scope string) (string, error) {
	key, err := s.macKey(ctx)
	if err != nil {
		return "", err
	}
	if r.id == ([16]byte{}) {
		if r.size > s.max {
			return "", twinvault.Errorf(twinvault.ServiceQuotaExceededException, "the result is too large to page through; narrow the query or add LIMIT")
		}
		rand.Read(r.id[:])
		expires := s.now().Add(s.ttl)
		if s.shared != nil {
			data, err := json.Marshal(wireResult{Columns: r.columns, Rows: r.rows})
			if err != nil {
				return "", err
			}
			ws, _, _ := strings.Cut(scope, "\x00")
			if err := s.shared.Put(ctx, ws, r.id, data, expires); err != nil {
				return "", err
			}
		}
		s.keep(r, expires)
	}
	body := append(r.id[:], binary.AppendUvarint(nil, uint64(offset))...)
	return base64.RawURLEncoding.EncodeToString(append(body, s.mac(key, body, scope)...)), nil
}

// keep holds r in memory until expires, making room if need be.
func (s *resultStore) keep(r *storedResult, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(s.now())
	if _, ok := s.entries[r.id]; ok {
		return
	}
	for s.size+r.size > s.max && len(s.entries) > 0 {
		s.evictOldest()
	}
	s.entries[r.id] = &storeEntry{r: r, expires: expires}
	s.size += r.size
}

// get returns the result and offset a token names.
func (s *resultStore) get(ctx context.Context, token, scope string) (*storedResult, int, error) {
	bad := twinvault.Errorf(twinvault.ValidationException, "nextToken is not valid for this query")
	expired := twinvault.Errorf(twinvault.ValidationException, "nextToken has expired; run the query again")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 16+1+16 {
		return nil, 0, bad
	}
	key, err := s.macKey(ctx)
	if err != nil {
		return nil, 0, err
	}
	body, sum := raw[:len(raw)-16], raw[len(raw)-16:]
	if !hmac.Equal(sum, s.mac(key, body, scope)) {
		return nil, 0, bad
	}
	var id [16]byte
	copy(id[:], body)
	offset, n := binary.Uvarint(body[16:])
	if n <= 0 || 16+n != len(body) {
		return nil, 0, bad
	}
	s.mu.Lock()
	s.expire(s.now())
	e, ok := s.entries[id]
	s.mu.Unlock()
	var r *storedResult
	switch {
	case ok:
		r = e.r
	case s.shared != nil:
		// Another node ran the query: its result is in the store.
		ws, _, _ := strings.Cut(scope, "\x00")
		data, expires, err := s.shared.Get(ctx, ws, id)
		if errors.Is(err, ErrExpired) {
			return nil, 0, expired
		}
		if err != nil {
			return nil, 0, err
		}
		var w wireResult
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, 0, fmt.Errorf("query: stored result: %w", err)
		}
		r = &storedResult{id: id, columns: w.Columns, rows: w.Rows, size: len(data)}
		s.keep(r, expires) // no longer than the stored result lives
	default:
		return nil, 0, expired
	}
	if offset >= uint64(len(r.rows)) {
		return nil, 0, bad
	}
	return r, int(offset), nil
}

func (s *resultStore) expire(now time.Time) {
	for id, e := range s.entries {
		if now.After(e.expires) {
			s.size -= e.r.size
			delete(s.entries, id)
		}
	}
}

func (s *resultStore) evictOldest() {
	var oldest [16]byte
	var at time.Time
	for id, e := range s.entries {
		if at.IsZero() || e.expires.Before(at) {
			oldest, at = id, e.expires
		}
	}
	if e, ok := s.entries[oldest]; ok {
		s.size -= e.r.size
		delete(s.entries, oldest)
	}
}
