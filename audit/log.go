package audit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// The log is a sequence of entries in the barrier's system view, under
// "audit/e/" and an 8-byte big-endian sequence number. Each entry holds
// the hash of the entry before it, so removing, reordering, inserting or
// changing one breaks the chain from there on:
//
//	hash(n) = SHA-256(hash(n-1) || seq(n) || kind(n) || body(n)),  hash(-1) = 32 zero bytes
//
// kind is "event" or "reservation"; body is the event's JSON, or the
// reservation's.

// Entry is one stored entry.
type Entry struct {
	Seq  uint64          `json:"seq"`
	Kind string          `json:"kind"`
	Body json.RawMessage `json:"body"`
	Prev []byte          `json:"prev"`
	Hash []byte          `json:"hash"`
	Time time.Time       `json:"time"`
}

// Reservation is what a change leaves before it runs.
type Reservation struct {
	RequestID   string `json:"requestID"`
	EventName   string `json:"eventName"`
	EventSource string `json:"eventSource"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	EventTime   string `json:"eventTime"`
	// Node names the node that took the request, in a deployment of
	// several: if it stops before the event, another node closes the
	// reservation (see OpenReservations).
	Node string `json:"node,omitempty"`
}

// OpenReservation is a reservation with no event after it yet.
type OpenReservation struct {
	Seq uint64
	Reservation
}

// OpenReservations returns the reservations from entry seq from on that
// no event has followed yet, oldest first, and the sequence number after
// the last entry it read. A request in flight has one; so has a request
// whose node stopped before it finished, whose outcome is unknown.
func (l *Log) OpenReservations(ctx context.Context, from uint64) ([]OpenReservation, uint64, error) {
	open := map[string]OpenReservation{}
	next := from
	err := l.Scan(ctx, from, false, func(e *Entry) error {
		next = e.Seq + 1
		switch e.Kind {
		case kindReservation:
			var r Reservation
			if json.Unmarshal(e.Body, &r) == nil {
				open[r.RequestID] = OpenReservation{e.Seq, r}
			}
		case kindEvent:
			var ev struct {
				RequestID string `json:"requestID"`
			}
			if json.Unmarshal(e.Body, &ev) == nil {
				delete(open, ev.RequestID)
			}
		}
		return nil
	})
	out := make([]OpenReservation, 0, len(open))
	for _, r := range open {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b OpenReservation) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, next, err
}

const (
	kindEvent       = "event"
	kindReservation = "reservation"
)

var (
	entryPrefix = []byte("audit/e/")
	headKey     = []byte("audit/head") // seq and hash of the last entry
)

func entryKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), entryPrefix...), seq)
}

// appendJSON appends e as json.Marshal would write it, without going
// through reflection or re-validating the body: the body is an event or a
// reservation this package encoded, and the kind one of its constants.
// (The writer encodes every entry on the request path; this halves it.)
func (e *Entry) appendJSON(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"kind":"`...)
	b = append(b, e.Kind...)
	b = append(b, `","body":`...)
	b = append(b, e.Body...)
	b = append(b, `,"prev":"`...)
	b = base64.StdEncoding.AppendEncode(b, e.Prev)
	b = append(b, `","hash":"`...)
	b = base64.StdEncoding.AppendEncode(b, e.Hash)
	b = append(b, `","time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}

// chainHash is the hash of an entry after prev.
func chainHash(prev []byte, seq uint64, kind string, body []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(binary.BigEndian.AppendUint64(nil, seq))
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}

type head struct {
	Seq  uint64 `json:"seq"` // of the next entry
	Hash []byte `json:"hash"`
	// Time is the least time of the next entry: the last entry's, or the
	// end of the last sealed hour. Nodes' clocks differ a little; entry
	// times never go back, and nothing lands in an hour already sealed.
	Time time.Time `json:"time,omitzero"`
}

// ErrUnavailable reports that the log cannot take entries: the call that
// needed one must not go ahead.
var ErrUnavailable = errors.New("audit: the log is unavailable")

// Log appends entries in batches: one writer takes every entry queued
// while the previous write was syncing, so concurrent appends wait for one
// durable write together.
type Log struct {
	b   *barrier.Barrier
	now func() time.Time

	mu     sync.Mutex
	closed bool
	queue  []*pending
	hook   func() error
	wake   chan struct{}
	quit   chan struct{}
	done   chan struct{}

	// syncs carries batches applied but not yet durable, in order, to the
	// goroutine that waits for them (sync); syncErr is the first failed
	// wait, after which the log takes nothing until it is opened again.
	syncs   chan applied
	syncErr atomic.Pointer[error]

	stats struct {
		entries, batches, refused atomic.Uint64
		wait                      atomic.Int64 // nanoseconds
	}

	head *head // the writer's own: the next sequence number and the last hash
	// open are this process's reservations with no event yet, by request
	// ID (the writer's own): what Floor reports once the log is closed.
	open      map[string]uint64
	digestKey *rsa.PrivateKey // once loaded
	nextSeal  time.Time       // the writer's: no digest is due before then
	retention time.Duration   // 0: keep every entry
}

// SetRetention makes the log remove, once an hour, the exported entries
// older than d (0 keeps everything). Unexported events always stay.
func (l *Log) SetRetention(d time.Duration) {
	l.mu.Lock()
	l.retention = d
	l.mu.Unlock()
}

type pending struct {
	kind   string
	id     string // the request's ID
	body   []byte
	queued time.Time
	done   chan error
	// applied, if set, is told once the entry is in the store, before it
	// is synced (see ReserveOrdered).
	applied chan error
}

// Open returns the log kept by b.
func Open(b *barrier.Barrier, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	l := &Log{b: b, now: now, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		syncs: make(chan applied, 16)}
	go l.run()
	return l
}

// applied is a batch of entries in the store, waiting to be durable.
type applied struct {
	batch []*pending
	wait  func() error
}

// sync waits for applied batches in order and answers their appends.
// While one batch syncs, the writer applies the next, and the store syncs
// what gathered meanwhile together.
func (l *Log) sync(done chan<- struct{}) {
	defer close(done)
	for a := range l.syncs {
		err := a.wait()
		if err != nil {
			l.syncErr.CompareAndSwap(nil, &err)
		} else if p := l.syncErr.Load(); p != nil {
			err = *p // applied after a batch that was lost
		}
		if err != nil {
			err = fmt.Errorf("%w: %v", ErrUnavailable, err)
		} else {
			l.stats.entries.Add(uint64(len(a.batch)))
			l.stats.batches.Add(1)
			now := time.Now()
			var wait time.Duration
			for _, p := range a.batch {
				wait += now.Sub(p.queued)
			}
			l.stats.wait.Add(int64(wait))
		}
		for _, p := range a.batch {
			p.done <- err
		}
	}
}

// Stats counts what a log did since it was opened.
type Stats struct {
	// Entries were made durable by Batches writes, each with its own wait
	// for the store's sync (the store may serve several with one).
	Entries, Batches uint64
	// Refused counts the appends that failed: the calls that needed them
	// did not go ahead. (An append that gave up waiting may still see its
	// entry stored, and counted in Entries, later.)
	Refused uint64
	// Wait is the time the durable entries took, from their append to
	// their sync, summed.
	Wait time.Duration
}

// Stats returns the log's counts so far.
func (l *Log) Stats() Stats {
	return Stats{Entries: l.stats.entries.Load(), Batches: l.stats.batches.Load(),
		Refused: l.stats.refused.Load(), Wait: time.Duration(l.stats.wait.Load())}
}

// Close stops the writer after the entries already queued; later appends
// fail with ErrUnavailable.
func (l *Log) Close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
}

// SetFailHook makes every write fail while hook returns an error: how a
// test makes the log unwritable.
func (l *Log) SetFailHook(hook func() error) {
	l.mu.Lock()
	l.hook = hook
	l.mu.Unlock()
}

// Append stores an event durably, or fails with ErrUnavailable.
func (l *Log) Append(ctx context.Context, e *Event) error {
	// An event is about 1 KiB: one allocation in most cases.
	return l.append(ctx, kindEvent, e.RequestID, e.appendJSON(make([]byte, 0, 1536+len(e.RequestParameters)+len(e.ResponseElements))), false)
}

// Reserve stores a reservation durably, or fails with ErrUnavailable.
func (l *Log) Reserve(ctx context.Context, r *Reservation) error {
	return l.reserve(ctx, r, false)
}

// ReserveOrdered stores a reservation ahead of every write made to the
// log's store after it returns, without waiting for the sync that makes it
// durable: any write made durable after it carries it along (see
// kv.Pipeliner), the call's event too. It is for a change whose every
// effect is a write to the same store, which then cannot outlive a crash
// without its reservation. Over a store that cannot order writes so (a
// shared one), the reservation is durable when it returns, as with
// Reserve.
func (l *Log) ReserveOrdered(ctx context.Context, r *Reservation) error {
	return l.reserve(ctx, r, true)
}

func (l *Log) reserve(ctx context.Context, r *Reservation, ordered bool) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("audit: encode reservation: %w", err)
	}
	return l.append(ctx, kindReservation, r.RequestID, body, ordered)
}

// append queues an entry and waits until it is durable, or, ordered,
// until it is in the store.
func (l *Log) append(ctx context.Context, kind, id string, body []byte, ordered bool) error {
	p := &pending{kind: kind, id: id, body: body, queued: time.Now(), done: make(chan error, 1)}
	wait := p.done
	if ordered {
		p.applied = make(chan error, 1)
		wait = p.applied
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.stats.refused.Add(1)
		return ErrUnavailable // nobody would write it
	}
	l.queue = append(l.queue, p)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-wait:
		if err != nil {
			l.stats.refused.Add(1)
		}
		return err
	case <-ctx.Done():
		l.stats.refused.Add(1)
		return ErrUnavailable
	}
}

// run is the writer: each write takes every entry queued meanwhile.
func (l *Log) run() {
	synced := make(chan struct{})
	go l.sync(synced)
	defer func() {
		close(l.syncs)
		<-synced
		close(l.done)
	}()
	for {
		select {
		case <-l.wake:
		case <-l.quit:
			l.flush() // what is queued still goes
			return
		}
		l.flush()
	}
}

func (l *Log) flush() {
	for {
		l.mu.Lock()
		batch := l.queue
		l.queue = nil
		hook := l.hook
		l.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		wait, err := l.write(batch, hook)
		if err != nil {
			err = fmt.Errorf("%w: %v", ErrUnavailable, err)
			for _, p := range batch {
				p.done <- err
				if p.applied != nil {
					p.applied <- err
				}
			}
			continue
		}
		for _, p := range batch {
			if p.applied != nil {
				p.applied <- nil
			}
		}
		l.syncs <- applied{batch, wait}
	}
}

// write puts a batch's entries in the store and returns the wait for their
// durability.
func (l *Log) write(batch []*pending, hook func() error) (wait func() error, err error) {
	if hook != nil {
		if err := hook(); err != nil {
			return nil, err
		}
	}
	if p := l.syncErr.Load(); p != nil {
		return nil, *p
	}
	ctx := context.Background()
	sys := l.b.System()
	synced := func() error { return nil }
	// Hours that ended get their digests before anything of a later hour
	// is written; within an hour there is nothing to seal.
	if now := l.now(); !now.Before(l.nextSeal) {
		if err := l.SealDigests(ctx, now); err != nil {
			return nil, fmt.Errorf("seal digests: %w", err)
		}
		l.nextSeal = now.UTC().Truncate(time.Hour).Add(time.Hour)
		l.head = nil // sealing moves the head's time on
	}
	if l.b.Shared() {
		// Other nodes append to the same chain: the head is read in the
		// transaction that extends it, and of two nodes that read the same
		// head one commits and the other chains again from the new one.
		return synced, l.b.Update(ctx, func(tx *barrier.Tx) error {
			h, err := readHead(func(k []byte) ([]byte, error) { return tx.Get(sys, k) })
			if err != nil {
				return err
			}
			writes, nh := chain(batch, *h, l.now())
			for _, w := range writes {
				if err := tx.Set(sys, w.Key, w.Value); err != nil {
					return err
				}
			}
			return putHead(tx, sys, nh)
		})
	}
	if l.head == nil {
		// This node is the log's only writer, so it reads the head once
		// and keeps it. (A batch applied and not yet synced is read too:
		// the store applies batches in order.)
		h, err := readHead(func(k []byte) ([]byte, error) { return sys.Get(ctx, k) })
		if err != nil {
			return nil, err
		}
		l.head = h
	}
	start := l.head.Seq
	writes, h := chain(batch, *l.head, l.now())
	data, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	// Entries and head in one batch, applied in order after the last one;
	// its sync overlaps the next batch, and batches in flight share one.
	writes = append(writes, kv.Write{Key: headKey, Value: data})
	if carried(batch) {
		// Nothing here waits for its own sync: the events that follow
		// these reservations carry them to disk (ReserveOrdered), so the
		// batch asks for none (see kv.Deferred).
		d := &kv.Deferred{}
		if err := sys.Batch(kv.WithDeferred(ctx, d), writes); err != nil {
			return nil, err
		}
		wait = d.Wait
	} else if wait, err = sys.BatchApply(ctx, writes); err != nil {
		return nil, err
	}
	l.head = &h
	if l.open == nil {
		l.open = map[string]uint64{}
	}
	for i, p := range batch {
		switch p.kind {
		case kindReservation:
			l.open[p.id] = start + uint64(i)
		case kindEvent:
			delete(l.open, p.id)
		}
	}
	return wait, nil
}

// carried reports whether every entry of a batch is a reservation made
// with ReserveOrdered, which a later write makes durable.
func carried(batch []*pending) bool {
	for _, p := range batch {
		if p.kind != kindReservation || p.applied == nil {
			return false
		}
	}
	return true
}

// Floor is, once the log is closed, the first entry a search for
// reservations left open need look at: this process's oldest open one, or
// the end of the log. A node that owns its store alone keeps it at a clean
// stop, so its next start reads only what came after. ok is false when the
// log took nothing since it was opened, or over a shared store.
func (l *Log) Floor() (seq uint64, ok bool) {
	if l.b.Shared() || l.head == nil {
		return 0, false
	}
	seq = l.head.Seq
	for _, s := range l.open {
		seq = min(seq, s)
	}
	return seq, true
}

// readHead reads the head with get; an empty log has the zero one.
func readHead(get func([]byte) ([]byte, error)) (*head, error) {
	h := &head{Hash: make([]byte, sha256.Size)}
	raw, err := get(headKey)
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, h); err != nil {
			return nil, fmt.Errorf("audit: decode head: %w", err)
		}
	case !errors.Is(err, kv.ErrNotFound):
		return nil, err
	}
	return h, nil
}

func putHead(tx *barrier.Tx, sys *barrier.View, h head) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return tx.Set(sys, headKey, data)
}

// chain makes the entries of batch after h, and the head after them.
func chain(batch []*pending, h head, now time.Time) ([]kv.Write, head) {
	now = now.UTC()
	if now.Before(h.Time) {
		now = h.Time
	}
	writes := make([]kv.Write, 0, len(batch)+1)
	for _, p := range batch {
		e := Entry{Seq: h.Seq, Kind: p.kind, Body: p.body, Prev: h.Hash, Time: now}
		e.Hash = chainHash(e.Prev, e.Seq, e.Kind, e.Body)
		writes = append(writes, kv.Write{Key: entryKey(e.Seq), Value: e.appendJSON(make([]byte, 0, len(e.Body)+256))})
		h.Seq, h.Hash = h.Seq+1, e.Hash
	}
	h.Time = now
	return writes, h
}

// Scan calls fn with the entries from seq from on (or, reverse, from seq
// from down), until fn returns kv.Stop.
func (l *Log) Scan(ctx context.Context, from uint64, reverse bool, fn func(e *Entry) error) error {
	r := kv.Range{Start: entryKey(from), End: kv.PrefixEnd(entryPrefix)}
	if reverse {
		r = kv.Range{Start: entryPrefix, End: entryKey(from + 1), Reverse: true}
		if from == ^uint64(0) {
			r.End = kv.PrefixEnd(entryPrefix)
		}
	}
	return l.b.Read(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(l.b.System(), r, func(_, val []byte) error {
			var e Entry
			if err := json.Unmarshal(val, &e); err != nil {
				return fmt.Errorf("audit: decode entry: %w", err)
			}
			return fn(&e)
		})
	})
}

// Problem is one break in the log.
type Problem struct {
	Seq    uint64 // the entry's; for a digest's, the Unix time of its hour
	Reason string
	Digest bool // a problem of an hourly digest, not of an entry
}

// Verify walks the whole log and reports every break of the chain: an
// entry changed, removed, inserted or moved, a head that does not match
// the last entry, and reservations that never got their event.
func (l *Log) Verify(ctx context.Context) (entries int, problems []Problem, err error) {
	prev := make([]byte, sha256.Size)
	next := uint64(0)
	open := map[string]uint64{} // reservations by request ID
	err = l.b.Read(ctx, func(tx *barrier.Tx) error {
		sys := l.b.System()
		// A pruned log starts at its base.
		b, err := l.readBase(tx)
		if err != nil {
			return err
		}
		prev, next = b.Prev, b.Seq
		err = tx.ScanChecked(sys, kv.Prefix(entryPrefix), func(k, val []byte, err error) error {
			entries++
			if len(k) != len(entryPrefix)+8 {
				problems = append(problems, Problem{Seq: next, Reason: "a record that is not an entry lies among the entries"})
				return nil
			}
			seq := binary.BigEndian.Uint64(k[len(entryPrefix):])
			if err != nil {
				problems = append(problems, Problem{Seq: seq, Reason: "the entry does not decrypt: its stored bytes were changed or moved from another place"})
				next = seq + 1
				prev = nil // unknown: the next entry is checked against its own record only
				return nil
			}
			var e Entry
			if err := json.Unmarshal(val, &e); err != nil {
				problems = append(problems, Problem{Seq: seq, Reason: "the entry does not decode"})
				next, prev = seq+1, nil
				return nil
			}
			switch {
			case seq < next:
				problems = append(problems, Problem{Seq: seq, Reason: "the entry lies before the log's base: it should have been pruned, or was put back"})
			case seq != next:
				problems = append(problems, Problem{Seq: seq, Reason: fmt.Sprintf("entry %d is missing: the log skips from %d to %d", next, next, seq)})
			case e.Seq != seq:
				problems = append(problems, Problem{Seq: seq, Reason: fmt.Sprintf("the entry says it is entry %d: it was moved", e.Seq)})
			}
			if prev != nil && !bytes.Equal(e.Prev, prev) {
				problems = append(problems, Problem{Seq: seq, Reason: "the entry does not follow the one before it: an entry was removed, inserted or reordered"})
			}
			if !bytes.Equal(e.Hash, chainHash(e.Prev, e.Seq, e.Kind, e.Body)) {
				problems = append(problems, Problem{Seq: seq, Reason: "the entry's hash does not match its content: it was changed"})
			}
			switch e.Kind {
			case kindReservation:
				var r Reservation
				if json.Unmarshal(e.Body, &r) == nil {
					open[r.RequestID] = seq
				}
			case kindEvent:
				var ev struct {
					RequestID string `json:"requestID"`
				}
				if json.Unmarshal(e.Body, &ev) == nil {
					delete(open, ev.RequestID)
				}
			}
			prev, next = e.Hash, seq+1
			return nil
		})
		if err != nil {
			return err
		}
		raw, err := tx.Get(sys, headKey)
		if errors.Is(err, kv.ErrNotFound) {
			if entries > 0 {
				problems = append(problems, Problem{Seq: next, Reason: "the log's head is missing"})
			}
			return nil
		}
		if err != nil {
			return err
		}
		var h head
		if json.Unmarshal(raw, &h) != nil || h.Seq != next || !bytes.Equal(h.Hash, prev) {
			problems = append(problems, Problem{Seq: next, Reason: fmt.Sprintf("the log's head names %d entries and the chain has %d: the tail was cut or extended", h.Seq, next)})
		}
		return nil
	})
	for id, seq := range open {
		problems = append(problems, Problem{Seq: seq, Reason: fmt.Sprintf("request %s was reserved but has no event: it may have run unrecorded", id)})
	}
	return entries, problems, err
}
