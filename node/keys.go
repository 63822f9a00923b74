package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/backup"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/objects"
)

// TwinVault's own key service (signing name "twinvault", JSON 1.1):
// RotateKeys and GetKeyStatus, which `twinvault keys rotate` and `keys
// status` call. They are IAM actions (twinvault:RotateKeys,
// twinvault:GetKeyStatus) and audited like every call.

// KeyService is the signing name of the key service.
const KeyService = "twinvault"

// keyTargets prefix the X-Amz-Target of the key service's operations.
var keyTargets = []string{"TwinVault_20261101."}

// bucketViews are the views of S3 buckets. Bodies sealed before their keys
// were kept in their records hold them in their headers, sealed by a DEK
// version of the bucket, which is kept until those keys are moved to the
// records (objects.AdoptKeys).
var bucketViews = []byte("bucket/")

// adoptRounds bounds the AdoptKeys calls of one pass over a bucket.
const adoptRounds = 5

// keys rotates the keyring and the views' data keys, and re-seals what
// older keys sealed in the background.
type keys struct {
	b    *barrier.Barrier
	kr   *keyring.Keyring
	objs *objects.Service
	log  *slog.Logger

	// The master key's source, which a master key rotation changes.
	master *masterKey
	cfg    *Config

	masterMu sync.Mutex // one master key rotation at a time

	// Over a shared store one node re-seals at a time, under this lease;
	// the status of its last pass is stored for every node to report.
	leases  *leases
	store   kv.Store
	renewed time.Time // when the running pass last took or renewed its lease

	mu     sync.Mutex
	status RewrapStatus
	wake   chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
}

// RewrapStatus is the progress of re-sealing.
type RewrapStatus struct {
	Running   bool      `json:"running"`
	Views     int       `json:"views"`     // to go through in this pass
	ViewsDone int       `json:"viewsDone"` // gone through
	Values    int       `json:"values"`    // re-sealed in this pass
	Records   int       `json:"records"`   // key records re-sealed
	Retired   int       `json:"retired"`   // DEK versions and keyring terms removed
	Started   time.Time `json:"started,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	Error     string    `json:"error,omitempty"`
	// Node names the node of a deployment that ran the pass.
	Node string `json:"node,omitempty"`
}

const rewrapLease = "keys/rewrap"

var (
	rewrapStatusKey = []byte("keys/rewrap-status")
	errLeaseHeld    = errors.New("another node is re-sealing")
)

// startKeys starts the key service.
func startKeys(b *barrier.Barrier, kr *keyring.Keyring, objs *objects.Service, master *masterKey, cfg *Config, log *slog.Logger, l *leases, store kv.Store) *keys {
	ctx, cancel := context.WithCancel(context.Background())
	k := &keys{b: b, kr: kr, objs: objs, log: log, master: master, cfg: cfg, leases: l, store: store,
		wake: make(chan struct{}, 1), stop: cancel, done: make(chan struct{})}
	go k.run(ctx)
	k.wakeUp() // resume a rewrap a stop interrupted; a pass with nothing to do is quick
	// A DEK that reached its seal budget was rotated: re-seal after it.
	b.OnAutoRotate(func([]byte) { k.wakeUp() })
	return k
}

func (k *keys) close() {
	k.stop()
	<-k.done
}

func (k *keys) wakeUp() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

func (k *keys) run(ctx context.Context) {
	defer close(k.done)
	// Over a shared store another node may rotate, or stop halfway
	// through a pass: every node looks again now and then, and the one
	// that gets the lease finishes the work (a pass with nothing to do
	// only reads).
	var tick <-chan time.Time
	if k.b.Shared() {
		t := time.NewTicker(k.cfg.leaseTTL() / 2)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.wake:
		case <-tick:
		}
		// A pass that fails (a lost race with writers that outlasted the
		// retries, a store gone for a moment) runs again, later each time.
		for delay := time.Second; ; delay = min(2*delay, time.Minute) {
			err := k.leasedPass(ctx)
			if err == nil || ctx.Err() != nil {
				break
			}
			wait := delay
			if errors.Is(err, errLeaseHeld) {
				// The holder may have begun before this node's rotation: try
				// again once its pass is over (or its lease ran out).
				wait = k.cfg.leaseTTL() / 4
			} else {
				k.log.Error("key rewrap", "err", err, "retryIn", delay)
			}
			delay = wait
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			case <-k.wake:
			}
		}
	}
}

func (k *keys) set(f func(s *RewrapStatus)) {
	k.mu.Lock()
	f(&k.status)
	k.mu.Unlock()
}

// leasedPass runs a pass while this node holds the re-sealing lease.
func (k *keys) leasedPass(ctx context.Context) error {
	held, err := k.leases.acquire(ctx, rewrapLease, k.cfg.leaseTTL())
	if err != nil {
		return err
	}
	if !held {
		return errLeaseHeld
	}
	k.renewed = time.Now()
	defer k.leases.release(context.WithoutCancel(ctx), rewrapLease)
	return k.pass(ctx)
}

// renew keeps the lease through a long pass: once a quarter of its term
// has gone, not at every view.
func (k *keys) renew(ctx context.Context) error {
	if time.Since(k.renewed) < k.cfg.leaseTTL()/4 {
		return nil
	}
	k.renewed = time.Now()
	held, err := k.leases.acquire(ctx, rewrapLease, k.cfg.leaseTTL())
	if err == nil && !held {
		err = errors.New("the re-sealing lease went to another node")
	}
	return err
}

// saveStatus stores the status of a pass for the other nodes.
func (k *keys) saveStatus(ctx context.Context) {
	if !k.b.Shared() {
		return
	}
	k.mu.Lock()
	data, err := json.Marshal(k.status)
	k.mu.Unlock()
	if err == nil {
		err = k.b.System().Batch(ctx, []kv.Write{{Key: rewrapStatusKey, Value: data}})
	}
	if err != nil {
		k.log.Warn("key rewrap: status not stored", "err", err)
	}
}

// pass re-seals every view's values under its active DEK version, retires
// the versions left unused, re-seals the key records under the active
// keyring term and retires the terms left unused.
func (k *keys) pass(ctx context.Context) (err error) {
	ids, err := k.b.ViewIDs(ctx)
	if err != nil {
		return err
	}
	ids = append([][]byte{nil}, ids...)
	k.set(func(s *RewrapStatus) {
		*s = RewrapStatus{Running: true, Views: len(ids), Started: time.Now().UTC(), Node: k.leases.holder}
	})
	k.saveStatus(ctx)
	defer func() {
		k.set(func(s *RewrapStatus) {
			s.Running, s.Finished = false, time.Now().UTC()
			if err != nil {
				s.Error = err.Error()
			}
		})
		k.saveStatus(context.WithoutCancel(ctx))
	}()
	for _, id := range ids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := k.renew(ctx); err != nil {
			return err
		}
		if err := k.passView(ctx, id); err != nil && !errors.Is(err, barrier.ErrNoView) {
			return err // a view dropped meanwhile needs nothing more
		}
		k.set(func(s *RewrapStatus) { s.ViewsDone++ })
	}
	n, err := k.b.RewrapRecords(ctx)
	if err != nil {
		return err
	}
	r, err := k.b.RetireTerms(ctx)
	if err != nil {
		return err
	}
	k.set(func(s *RewrapStatus) { s.Records, s.Retired = n, s.Retired+len(r) })
	return nil
}

// passView re-seals one view's values under its active DEK version and
// retires the versions left unused.
func (k *keys) passView(ctx context.Context, id []byte) error {
	versions, _, err := k.b.Versions(ctx, id)
	if err != nil || len(versions) < 2 {
		return err
	}
	k.mu.Lock()
	base := k.status.Values
	k.mu.Unlock()
	retire := true
	if bytes.HasPrefix(id, bucketViews) {
		if retire, err = k.adopt(ctx, id); err != nil {
			return err
		}
	}
	// A write that read the view's keys just before a rotation can land
	// behind the scan under the old version, so a view that keeps one after
	// Retire is re-sealed again, a few rounds at most.
	for round := 0; round < 3; round++ {
		n, err := k.b.Rewrap(ctx, id, func(n int) { k.set(func(s *RewrapStatus) { s.Values = base + n }) })
		if err != nil {
			return err
		}
		base += n
		if !retire {
			return nil // a body's header still needs an older version
		}
		r, err := k.b.Retire(ctx, id)
		if err != nil {
			return err
		}
		k.set(func(s *RewrapStatus) { s.Retired += len(r) })
		if vs, _, err := k.b.Versions(ctx, id); err != nil || len(vs) == 1 {
			return err
		}
	}
	return nil
}

// adopt moves into a bucket's records the keys its bodies' headers hold,
// and says whether none is left there, so older versions may retire.
func (k *keys) adopt(ctx context.Context, id []byte) (bool, error) {
	for range adoptRounds {
		moved, left, err := k.objs.AdoptKeys(ctx, id)
		if errors.Is(err, barrier.ErrNoView) {
			return false, nil // dropped meanwhile
		}
		if err != nil {
			return false, err
		}
		if moved > 0 {
			k.log.Info("object keys moved to their records", "count", moved)
		}
		if moved == 0 && left == 0 {
			return true, nil
		}
	}
	return false, nil
}

// rotate adds a keyring term and a DEK version to every view, then starts
// re-sealing.
func (k *keys) rotate(ctx context.Context) (map[string]any, error) {
	term, err := k.kr.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := k.b.ViewIDs(ctx)
	if err != nil {
		return nil, err
	}
	rotated := 0
	for _, id := range append([][]byte{nil}, ids...) {
		if _, err := k.b.RotateView(ctx, id); err == nil {
			rotated++
		}
	}
	k.log.Info("keys rotated", "term", term, "views", rotated)
	k.wakeUp()
	return map[string]any{"term": term, "views": rotated}, nil
}

// rotateMaster re-seals the keyring under a new master key (see
// masterKey.rotate); one rotation runs at a time.
func (k *keys) rotateMaster(ctx context.Context, newKey []byte, newPassphrase string) (map[string]any, error) {
	k.masterMu.Lock()
	defer k.masterMu.Unlock()
	if k.b.Shared() {
		// The other nodes hold the old master key: they could no longer
		// read the keyring once it is re-sealed.
		others, err := k.leases.others(ctx)
		if err != nil {
			return nil, err
		}
		if len(others) > 0 {
			return nil, twinvault.Errorf(twinvault.ConflictException, "%d other node(s) of this deployment are running with the current master key; "+
				"stop them (scale to one node), rotate, give every node the new key, then start them again", len(others))
		}
	}
	if err := k.master.rotate(ctx, k.cfg, k.kr, newKey, newPassphrase); err != nil {
		return nil, err
	}
	k.log.Info("master key rotated", "source", k.cfg.KeySource)
	return map[string]any{"master": true, "source": k.cfg.KeySource}, nil
}

// KeyStatus is what GetKeyStatus reports.
type KeyStatus struct {
	Terms []TermStatus `json:"terms"`
	Views struct {
		Count   int `json:"count"`
		Pending int `json:"pending"` // with more than one DEK version
		// The most seals an active DEK has made, and how many it may make
		// before it is rotated on its own.
		MostSeals  uint64 `json:"mostSeals"`
		SealBudget uint64 `json:"sealBudget"`
	} `json:"views"`
	Rewrap RewrapStatus `json:"rewrap"`
}

// TermStatus is one keyring term.
type TermStatus struct {
	Term    uint32    `json:"term"`
	Created time.Time `json:"created"`
	Active  bool      `json:"active"`
	Records int       `json:"records"` // key records sealed under it
}

func (k *keys) keyStatus(ctx context.Context) (*KeyStatus, error) {
	out := &KeyStatus{}
	out.Views.SealBudget = barrier.DefaultSealBudget
	if k.b.Shared() {
		// Another node may have added or retired terms.
		if err := k.kr.Refresh(ctx, k.store); err != nil {
			return nil, err
		}
	}
	records, err := k.b.RecordTerms(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range k.kr.Terms() {
		out.Terms = append(out.Terms, TermStatus{Term: t.Term, Created: t.Created.UTC(), Active: t.Active, Records: records[t.Term]})
	}
	ids, err := k.b.ViewIDs(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range append([][]byte{nil}, ids...) {
		vs, _, err := k.b.Versions(ctx, id)
		if err != nil {
			continue
		}
		out.Views.Count++
		if n, err := k.b.Seals(ctx, id); err == nil {
			out.Views.MostSeals = max(out.Views.MostSeals, n)
		}
		if len(vs) > 1 {
			out.Views.Pending++
		}
	}
	k.mu.Lock()
	out.Rewrap = k.status
	k.mu.Unlock()
	if k.b.Shared() && !out.Rewrap.Running {
		// The last pass may have been another node's.
		var stored RewrapStatus
		raw, err := k.b.System().Get(ctx, rewrapStatusKey)
		if err == nil && json.Unmarshal(raw, &stored) == nil && stored.Started.After(out.Rewrap.Started) {
			out.Rewrap = stored
		}
	}
	return out, nil
}

// bindKeys serves the key service, and GetBackup, which streams a
// consistent backup of the store and the object bodies (ciphertext only).
func bindKeys(s *api.Server, k *keys, store kv.Store, objs *objects.Service) {
	api.HandleJSON(s, KeyService, keyTargets, "GetBackup", func([]byte, *api.Request) []string { return []string{"*"} },
		func(ctx context.Context, _ []byte) (any, error) {
			return &api.Stream{ContentType: "application/octet-stream", Write: func(w io.Writer) error {
				release, err := objs.Hold(ctx) // before the snapshot: the bodies it names stay
				if err != nil {
					return err
				}
				defer release()
				_, err = backup.Write(ctx, w, store, objs.Store())
				return err
			}}, nil
		})
	all := func([]byte, *api.Request) []string { return []string{"*"} }
	api.HandleJSON(s, KeyService, keyTargets, "RotateKeys", all, func(ctx context.Context, body []byte) (any, error) {
		var in struct {
			Master bool `json:"master"`
			// For a master key from the environment or a passphrase, the
			// new one (hidden from the audit trail).
			NewMasterKey  []byte `json:"newMasterKey"`
			NewPassphrase string `json:"newPassphrase"`
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, twinvault.Errorf(twinvault.SerializationException, "the request body is not a RotateKeys request")
			}
		}
		defer clear(in.NewMasterKey)
		if in.Master {
			return k.rotateMaster(ctx, in.NewMasterKey, in.NewPassphrase)
		}
		if in.NewMasterKey != nil || in.NewPassphrase != "" {
			return nil, twinvault.Errorf(twinvault.ValidationException, "A new master key or passphrase goes with master: true.")
		}
		return k.rotate(ctx)
	})
	api.HandleJSON(s, KeyService, keyTargets, "GetKeyStatus", all, func(ctx context.Context, _ []byte) (any, error) {
		return k.keyStatus(ctx)
	})
}
