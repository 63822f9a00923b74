// Package catalog implements the TwinMaker control plane: workspaces,
// component types with extendsFrom inheritance, entities in a hierarchy with
// components and properties, scenes, tags and the pricing plan.
//
// Everything is stored through the barrier. Workspace records live in the
// system view; each workspace's contents live in a view of its own, so that
// deleting the workspace destroys its key. Storage keys never hold a
// user-supplied string: records are found by blind indexes (view.Index).
//
// Key layout (each key is relative to its view):
//
//	system view:     ws/<idx(workspaceId)>                      → workspace record
//	                 pricing                                    → pricing plan
//	workspace view:  ct/<idx(componentTypeId)>                  → component type record
//	                 ctx/<idx(parent)>/<idx(child)>             → child type id   (extendsFrom)
//	                 ctu/<idx(componentTypeId)>/<idx(entityId)> → entity id       (type in use)
//	                 en/<idx(entityId)>                         → entity record
//	                 ch/<idx(parentId)>/<idx(childId)>          → child entity id (hierarchy)
//	                 ex/<idx(externalId)>/<idx(entityId)>       → entity id       (isExternalId values)
//	                 sc/<idx(sceneId)>                          → scene record
//	                 n/entities                                 → entity count
//	                 ts/...                                     → time series (package tsdb)
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/tsdb"
)

// Config holds the service's settings.
type Config struct {
	Region string
	Now    func() time.Time // nil: time.Now
	TS     *tsdb.DB         // the time-series store of property values

	// Buckets hold workspaces' scene documents and models: a workspace
	// made without an s3Location gets one, an s3Location must name one,
	// and scenes must point into it. Nil leaves s3Location and
	// contentLocation unchecked.
	Buckets Buckets

	// Connectors answer history reads for components whose type's
	// dataReader names a registered external connector; nil: none.
	Connectors Connectors
}

// Connectors call external data connectors, named by the Lambda function
// a component type's dataReader names.
type Connectors interface {
	// Registered reports whether any connector is registered at all.
	Registered() bool
	// History returns ok false when no connector has that name.
	History(ctx context.Context, workspace, name string, in *model.GetPropertyValueHistoryInput) (*model.GetPropertyValueHistoryOutput, bool, error)
}

// Service serves the control-plane and data-plane operations.
type Service struct {
	b      *barrier.Barrier
	ts     *tsdb.DB
	region string
	// buckets: see Config.Buckets
	buckets Buckets
	// connectors: see Config.Connectors
	connectors Connectors
	now        func() time.Time

	// gen counts the catalog writes that have ended, committed or not
	// (a commit is visible before its write ends). A reader that finds it
	// the same before and after taking its snapshot has a snapshot that
	// holds every write ended at that generation and none ended after; a
	// record cached by such a reader serves any other at the same
	// generation without being read again: it differs from what the
	// other's snapshot holds only by writes still running, as concurrent
	// with the other as with the first (viewAt). Writes of other nodes do
	// not count here, so over a shared store every record is read
	// (Tx.Shared).
	gen atomic.Uint64

	// decoded records, for the data plane
	workspaces recordCache[workspace]
	entities   recordCache[entity]
	types      typeCache
	refs       refCache   // Max set by New
	graphs     graphMemos // what queries learned of each workspace's graph
}

// New returns a Service over b.
func New(b *barrier.Barrier, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return &Service{b: b, ts: cfg.TS, region: cfg.Region, now: cfg.Now, buckets: cfg.Buckets, connectors: cfg.Connectors,
		refs: refCache{Max: recordCacheSize}}
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// arn builds an ARN for a TwinMaker resource path such as
// "workspace/ws1/entity/e1".
func (s *Service) arn(resource string) string {
	return twinvault.ARN{Partition: "aws", Service: "iottwinmaker", Region: s.region, Account: twinvault.Account, Resource: resource}.String()
}

// key joins a prefix and blind indexes into a storage key.
func key(prefix string, parts ...[]byte) []byte {
	k := []byte(prefix)
	for _, p := range parts {
		k = append(k, '/')
		k = append(k, p...)
	}
	return k
}

// getJSON reads and decodes a record; ok is false when there is none.
func getJSON(tx *barrier.Tx, v *barrier.View, k []byte, dst any) (ok bool, err error) {
	data, err := tx.Get(v, k)
	if errors.Is(err, kv.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return false, fmt.Errorf("decode record: %w", err)
	}
	return true, nil
}

// load reads and decodes a record; nil when there is none.
func load[T any](tx *barrier.Tx, v *barrier.View, k []byte) (*T, error) {
	var x T
	ok, err := getJSON(tx, v, k, &x)
	if err != nil || !ok {
		return nil, err
	}
	return &x, nil
}

func putJSON(tx *barrier.Tx, v *barrier.View, k []byte, src any) error {
	data, err := json.Marshal(src)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	return tx.Set(v, k, data)
}

// update runs fn in one transaction; a storage conflict becomes the
// ConflictException TwinMaker returns for concurrent updates.
func (s *Service) update(ctx context.Context, fn func(tx *barrier.Tx) error) error {
	defer s.gen.Add(1)
	if s.ts != nil {
		// It may delete series (tsdb.DB.DeleteEntity, DeleteSeries).
		defer s.ts.Changing()()
	}
	err := s.b.Update(ctx, fn)
	if errors.Is(err, kv.ErrConflict) {
		return twinvault.Errorf(twinvault.ConflictException, "a concurrent request changed the same resource; retry")
	}
	return err
}

// view runs fn over a consistent snapshot; readers never wait for writers.
func (s *Service) view(ctx context.Context, fn func(tx *barrier.Tx) error) error {
	if s.ts != nil {
		defer s.ts.Pin()() // see tsdb.DB.Pin
	}
	return s.b.Read(ctx, fn)
}

// viewAt is view for the data plane: fn also gets the catalog generation
// (see Service.gen), read before the snapshot was taken and found the same
// after; or 0, for no cached record served or stamped, when a catalog write
// ended in between (the snapshot may hold writes later than the
// generation) or when the store is shared (other nodes' writes do not
// count). ts is the time-series store's stamp of the snapshot, taken and
// checked the same way (tsdb.DB.Stamp), for its reads.
func (s *Service) viewAt(ctx context.Context, fn func(tx *barrier.Tx, gen uint64, ts tsdb.Stamp) error) error {
	gen := s.gen.Load() + 1
	var ts tsdb.Stamp
	if s.ts != nil {
		defer s.ts.Pin()() // see tsdb.DB.Pin
		ts = s.ts.Stamp()
	}
	return s.b.Read(ctx, func(tx *barrier.Tx) error {
		if tx.Shared() || s.gen.Load()+1 != gen {
			gen = 0
		}
		if s.ts != nil {
			ts = s.ts.Check(ts)
		}
		return fn(tx, gen, ts)
	})
}

func notFound(format string, args ...any) error {
	return twinvault.Errorf(twinvault.ResourceNotFoundException, format, args...)
}

func invalid(format string, args ...any) error {
	return twinvault.Errorf(twinvault.ValidationException, format, args...)
}

func conflict(format string, args ...any) error {
	return twinvault.Errorf(twinvault.ConflictException, format, args...)
}
