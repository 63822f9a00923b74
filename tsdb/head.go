package tsdb

// The head: the points a node alone on its store (not shared) wrote since
// their series' last compaction.
//
// Such a node stores a write's points, whatever series they belong to, as
// one record, and keeps them in memory per series until the compactor
// merges them into blocks. Reads merge a series' blocks with what memory
// holds of it above its floor. A record is deleted once every series it
// holds points of has been compacted past it; after a restart, the records
// left are read back into memory (but for points under their series'
// floor) the first time their workspace is used. One key per write, not
// one per series, and no deltas to delete one by one: a write of ten
// series costs the store a tenth of the keys.
//
// Over a shared store the other nodes must read what this one wrote, so a
// write keeps one delta per series there (see the package comment).
//
// Keys, inside a workspace's view:
//
//	tl/<seq 8>                        record: n × ([entity 16][prop 16][uvarint len][chunk])
//	td/<seq 8><entity 16><prop 16>    a series deleted at seq, whose floor
//	                                  (raised to seq) must outlive every
//	                                  record that may hold its points

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

var (
	recordPrefix = []byte("tl/")
	deadPrefix   = []byte("td/")
	// highKey holds the highest sequence number a floor or a marker of the
	// view has held: with the records', where a restarted node's numbers
	// start.
	highKey = []byte("tn")
)

// highOf reads the view's highKey (0: none).
func highOf(tx *barrier.Tx, v *barrier.View) (uint64, error) {
	return markAt(tx, v, highKey, "sequence mark")
}

// markAt reads a sequence number stored at key, 0 when there is none;
// what names it in the error for a malformed one.
func markAt(tx *barrier.Tx, v *barrier.View, key []byte, what string) (uint64, error) {
	b, err := tx.Get(v, key)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("tsdb: malformed %s", what)
	}
	return binary.BigEndian.Uint64(b), nil
}

// raiseHigh raises the view's highKey to seq, within tx.
func raiseHigh(tx *barrier.Tx, v *barrier.View, seq uint64) error {
	high, err := highOf(tx, v)
	if err != nil || high >= seq {
		return err
	}
	return tx.Set(v, highKey, binary.BigEndian.AppendUint64(nil, seq))
}

func recordKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(bytes.Clone(recordPrefix), seq)
}

func deadKey(seq uint64, s Series) []byte {
	k := binary.BigEndian.AppendUint64(bytes.Clone(deadPrefix), seq)
	k = append(k, s.Entity[:]...)
	return append(k, s.Prop[:]...)
}

// appendRecord appends one series' points to a record.
func appendRecord(rec []byte, s Series, c *chunkenc.Chunk) ([]byte, error) {
	rec = append(rec, s.Entity[:]...)
	rec = append(rec, s.Prop[:]...)
	data, err := chunkenc.EncodeQuick(nil, c)
	if err != nil {
		return rec, err
	}
	rec = binary.AppendUvarint(rec, uint64(len(data)))
	return append(rec, data...), nil
}

// errRecord wraps the errors of parseRecord.
var errRecord = errors.New("tsdb: corrupt record")

// parseRecord calls fn for each series' points in a record, in order. It
// fails, without panicking, on anything appendRecord cannot have made.
func parseRecord(rec []byte, fn func(s Series, c *chunkenc.Chunk) error) error {
	for len(rec) > 0 {
		var s Series
		if len(rec) < len(s.Entity)+len(s.Prop) {
			return fmt.Errorf("%w: %d bytes left, short of a series", errRecord, len(rec))
		}
		rec = rec[copy(s.Entity[:], rec):]
		rec = rec[copy(s.Prop[:], rec):]
		n, w := binary.Uvarint(rec)
		if w <= 0 || n > uint64(len(rec)-w) {
			return fmt.Errorf("%w: bad chunk length", errRecord)
		}
		c, err := chunkenc.Decode(rec[w : w+int(n)])
		if err != nil {
			return fmt.Errorf("%w: %w", errRecord, err)
		}
		if c.Len() == 0 {
			return fmt.Errorf("%w: a series without points", errRecord)
		}
		if err := fn(s, c); err != nil {
			return err
		}
		rec = rec[w+int(n):]
	}
	return nil
}

// deltaBytes is about the memory a delta in the head takes.
func deltaBytes(c *chunkenc.Chunk) int { return 96 + chunkBytes(c) }

// maxHeadBytes bounds the memory the head's deltas take: past it, the
// compactor compacts every series with deltas at once (see due).
const maxHeadBytes = 64 << 20

// DroppedView forgets the head of a view just dropped.
func (db *DB) DroppedView(id []byte) {
	h := &db.head
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, vh := range h.views {
		if vh.name == string(id) {
			h.forget(vh)
		}
	}
}

// headDelta is one write's points of one series.
type headDelta struct {
	seq    uint64
	points *chunkenc.Chunk
}

// headSeries holds a series' deltas in memory, by sequence number.
type headSeries struct {
	deltas []headDelta
	// done: every delta numbered up to done has been compacted, or dropped
	// with a deletion; the compaction that did it raised the floor to done.
	// They stay in memory, for the reads that pinned an epoch before it,
	// until cut: a read whose snapshot holds a floor below cut cannot be
	// answered from memory (Pin prevents that).
	done, cut uint64
}

// viewHead is the head of one incarnation of a view.
type viewHead struct {
	name  string        // the view's id
	inc   string        // its Incarnation
	ready chan struct{} // closed once loaded (err set first)
	err   error

	series map[Series]*headSeries
	// records counts, per stored record, the series whose points in it
	// have been neither compacted nor dropped; a record leaves the store
	// with its last one.
	records map[uint64]int
	// seen has, for each series, the newest record holding its points:
	// deleting the series while a record may hold them leaves a marker.
	seen map[Series]uint64
	// dead are the markers of deleted series (td/ keys), and empty the
	// records loaded with nothing left in them: both for the compactor to
	// remove.
	dead  map[uint64]Series
	empty []uint64
	// bytes is what the deltas take; counted, whether the head's bytes
	// include them (from its load until it is forgotten).
	bytes   int
	counted bool
}

// head is the DB's memory of every loaded view, with the pins that keep
// compacted deltas in memory while a read may still need them.
type head struct {
	mu    sync.Mutex
	views map[string]*viewHead // by view Incarnation
	// bytes is about the memory the deltas take, in all views: written
	// under mu, read by the compactor's scheduling without it.
	bytes atomic.Int64

	// epoch counts compactions; a reader pins the epoch it started in.
	// Deltas a compaction removed stay in memory until no reader pinned
	// an epoch before it.
	epoch   uint64
	pins    map[uint64]int
	retired []retired
}

type retired struct {
	vh    *viewHead
	s     Series
	upTo  uint64
	epoch uint64
}

// Pin keeps the deltas that compactions remove from now on in memory
// until release is called: a read calls it before taking its snapshot,
// whose blocks may predate a compaction that ends meanwhile.
func (db *DB) Pin() (release func()) {
	h := &db.head
	h.mu.Lock()
	e := h.epoch
	h.pins[e]++
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.pins[e]--; h.pins[e] == 0 {
			delete(h.pins, e)
			h.reclaim()
		}
	}
}

// reclaim drops from memory the deltas no pinned reader may need. The
// caller holds h.mu.
func (h *head) reclaim() {
	oldest := h.epoch + 1
	for e := range h.pins {
		oldest = min(oldest, e)
	}
	keep := h.retired[:0]
	for _, r := range h.retired {
		if r.epoch > oldest {
			keep = append(keep, r)
			continue
		}
		hs := r.vh.series[r.s]
		if hs == nil {
			continue
		}
		i := 0
		for i < len(hs.deltas) && hs.deltas[i].seq <= r.upTo {
			h.count(r.vh, -deltaBytes(hs.deltas[i].points))
			i++
		}
		// An emptied series stays, for its cut: a read that did not pin
		// then fails rather than miss points.
		hs.deltas = slices.Delete(hs.deltas, 0, i)
		hs.cut = max(hs.cut, r.upTo)
	}
	clear(h.retired[len(keep):])
	h.retired = keep
}

// loadHead returns the head of v, reading its records first if this is
// the view's first use since the DB opened.
func (db *DB) loadHead(ctx context.Context, v *barrier.View) (*viewHead, error) {
	h := &db.head
	inc := v.Incarnation()
	h.mu.Lock()
	vh := h.views[inc]
	if vh == nil {
		vh = &viewHead{name: v.Name(), inc: inc, ready: make(chan struct{}), series: map[Series]*headSeries{}, records: map[uint64]int{},
			seen: map[Series]uint64{}, dead: map[uint64]Series{}}
		h.views[inc] = vh
		h.mu.Unlock()
		err := db.replay(ctx, v, vh)
		h.mu.Lock()
		vh.err = err
		if err != nil {
			if h.views[inc] == vh {
				delete(h.views, inc)
			}
		} else if h.views[inc] == vh {
			h.bytes.Add(int64(vh.bytes))
			vh.counted = true
		}
		close(vh.ready)
		h.mu.Unlock()
		if err == nil {
			db.afterReplay(v, vh)
		}
		return vh, err
	}
	h.mu.Unlock()
	select {
	case <-vh.ready:
		return vh, vh.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// forget drops a view's head. The caller holds h.mu.
func (h *head) forget(vh *viewHead) {
	if h.views[vh.inc] == vh {
		delete(h.views, vh.inc)
	}
	if vh.counted {
		h.bytes.Add(-int64(vh.bytes))
		vh.counted = false
	}
}

// count adds n bytes to vh's size, and to the head's while vh is kept.
// The caller holds h.mu.
func (h *head) count(vh *viewHead, n int) {
	vh.bytes += n
	if vh.counted {
		h.bytes.Add(int64(n))
	}
}

// viewIn returns vh's view as tx sees it; nil, with no error, once that
// incarnation is gone.
func (vh *viewHead) viewIn(tx *barrier.Tx) (*barrier.View, error) {
	v, err := tx.View([]byte(vh.name))
	if errors.Is(err, barrier.ErrNoView) || err == nil && v.Incarnation() != vh.inc {
		return nil, nil
	}
	return v, err
}

// loaded reports whether vh is loaded; until it is, only its loader
// touches it.
func (vh *viewHead) loaded() bool {
	select {
	case <-vh.ready:
		return vh.err == nil
	default:
		return false
	}
}

// replay reads v's records into vh: the points above their series' floors,
// which the compactor is then asked to merge.
func (db *DB) replay(ctx context.Context, v *barrier.View, vh *viewHead) error {
	var high uint64 // the highest sequence number the view's keys hold
	err := db.b.Read(ctx, func(tx *barrier.Tx) error {
		var err error
		if high, err = highOf(tx, v); err != nil {
			return err
		}
		err = tx.Scan(v, kv.Prefix(deadPrefix), func(k, _ []byte) error {
			if len(k) != len(deadPrefix)+8+32 {
				return errors.New("tsdb: malformed deletion marker")
			}
			var s Series
			copy(s.Entity[:], k[len(deadPrefix)+8:])
			copy(s.Prop[:], k[len(deadPrefix)+8+16:])
			vh.dead[binary.BigEndian.Uint64(k[len(deadPrefix):])] = s
			return nil
		})
		if err != nil {
			return err
		}
		floors := floorMemo{}
		return tx.ScanSealed(v, kv.Prefix(recordPrefix), func(k []byte, val barrier.Sealed) error {
			if len(k) != len(recordPrefix)+8 {
				return errors.New("tsdb: malformed record key")
			}
			seq := binary.BigEndian.Uint64(k[len(recordPrefix):])
			high = max(high, seq)
			rec, err := val.Open()
			if err != nil {
				return err
			}
			live := 0
			err = parseRecord(rec, func(s Series, c *chunkenc.Chunk) error {
				f, err := floors.of(tx, v, s)
				if err != nil {
					return err
				}
				vh.seen[s] = max(vh.seen[s], seq)
				if seq <= f {
					return nil
				}
				hs := vh.series[s]
				if hs == nil {
					hs = &headSeries{}
					vh.series[s] = hs
				}
				hs.deltas = append(hs.deltas, headDelta{seq, c}) // records scan in order
				vh.bytes += deltaBytes(c)
				live++
				return nil
			})
			if err != nil {
				return fmt.Errorf("record %d: %w", seq, err)
			}
			if live > 0 {
				vh.records[seq] = live
			} else {
				vh.empty = append(vh.empty, seq)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("tsdb: load records: %w", err)
	}
	// Sequence numbers come from the clock; one set back must still draw
	// numbers above every one the view holds, or a floor would hide the
	// new points.
	for {
		cur := db.seq.Load()
		if cur >= high || db.seq.CompareAndSwap(cur, high) {
			break
		}
	}
	return nil
}

// afterReplay asks the compactor to merge what a view's head loaded, and
// to tidy what it found empty or deleted.
func (db *DB) afterReplay(v *barrier.View, vh *viewHead) {
	db.head.mu.Lock()
	var loaded []Series
	for s, hs := range vh.series {
		if len(hs.deltas) > 0 {
			loaded = append(loaded, s)
		}
	}
	tidy := len(vh.empty) > 0 || len(vh.dead) > 0
	db.head.mu.Unlock()
	for _, s := range loaded {
		db.schedule(v, s)
	}
	if tidy {
		db.tidy(v)
	}
}

// floorOf reads a series' floor: every delta numbered up to it has been
// compacted into its blocks, or belongs to a deletion.
func floorOf(tx *barrier.Tx, v *barrier.View, s Series) (uint64, error) {
	return markAt(tx, v, floorKey(s), "floor")
}

// floorMemo remembers the floors a scan of records has read.
type floorMemo map[Series]uint64

func (m floorMemo) of(tx *barrier.Tx, v *barrier.View, s Series) (uint64, error) {
	if f, ok := m[s]; ok {
		return f, nil
	}
	f, err := floorOf(tx, v, s)
	if err == nil {
		m[s] = f
	}
	return f, err
}

// putHead stores items as one record and adds them to the head.
func (db *DB) putHead(ctx context.Context, v *barrier.View, items []Item) ([]Series, error) {
	vh, err := db.loadHead(ctx, v)
	if err != nil {
		return nil, err
	}
	// One chunk per series: a later item's point wins on equal times, as
	// a later delta's would.
	var series []Series
	var chunks []*chunkenc.Chunk
	size := 0
	for _, it := range items {
		if it.Points.Len() == 0 {
			continue
		}
		if i := slices.Index(series, it.Series); i >= 0 {
			chunks[i] = chunkenc.Merge(chunks[i], it.Points)
			continue
		}
		series = append(series, it.Series)
		chunks = append(chunks, it.Points)
		size += 48 + 16*it.Points.Len()
	}
	if len(series) == 0 {
		return nil, nil
	}
	rec := make([]byte, 0, size)
	for i, s := range series {
		if rec, err = appendRecord(rec, s, chunks[i]); err != nil {
			return nil, fmt.Errorf("tsdb: encode: %w", err)
		}
		if chunks[i].Kind == chunkenc.KindString || chunks[i].Kind == chunkenc.KindBytes {
			chunks[i] = clone(chunks[i])
		}
	}
	seqs := db.begin(1)
	defer db.end(seqs)
	db.started.Add(1)
	defer db.ended.Add(1)
	if err := v.Batch(ctx, []kv.Write{{Key: recordKey(seqs[0]), Value: rec}}); err != nil {
		return nil, err
	}
	db.head.add(vh, seqs[0], series, chunks)
	return series, nil
}

// add puts a committed record's points in the head.
func (h *head) add(vh *viewHead, seq uint64, series []Series, chunks []*chunkenc.Chunk) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for i, s := range series {
		hs := vh.series[s]
		if hs == nil {
			hs = &headSeries{}
			vh.series[s] = hs
		}
		// Writers that drew numbers in one order may commit in another.
		j := len(hs.deltas)
		for j > 0 && hs.deltas[j-1].seq > seq {
			j--
		}
		hs.deltas = slices.Insert(hs.deltas, j, headDelta{seq, chunks[i]})
		vh.seen[s] = max(vh.seen[s], seq)
		n += deltaBytes(chunks[i])
	}
	vh.records[seq] = len(series)
	h.count(vh, n)
}

// headDeltas merges the deltas of s above floor, sliced to [from, to).
func (db *DB) headDeltas(vh *viewHead, s Series, floor uint64, from, to int64) (*chunkenc.Chunk, error) {
	var parts []*chunkenc.Chunk
	db.head.mu.Lock()
	hs := vh.series[s]
	if hs != nil {
		if hs.cut > floor {
			db.head.mu.Unlock()
			return nil, errStale
		}
		for _, d := range hs.deltas {
			if d.seq > floor {
				parts = append(parts, d.points)
			}
		}
	}
	db.head.mu.Unlock()
	for _, c := range parts {
		if c.Kind != parts[0].Kind {
			return nil, fmt.Errorf("tsdb: deltas of kinds %v and %v in one series", parts[0].Kind, c.Kind)
		}
	}
	// Slice after merging: a later delta may replace a point of an earlier
	// one only inside the range, which slicing first would keep.
	return chunkenc.MergeAll(parts).Slice(from, to), nil
}

// errStale is what a read gets whose snapshot is older than a compaction
// whose deltas have left memory: one that did not Pin.
var errStale = errors.New("tsdb: the read's snapshot is older than the points in memory; retry")

// markDeleted leaves, in tx, the marker and floor that keep the points of
// a deleted series in the records from coming back, if any record may
// hold some.
func (db *DB) markDeleted(tx *barrier.Tx, v *barrier.View, match func(Series) bool) error {
	vh, err := db.loadHead(context.Background(), v)
	if err != nil {
		return err
	}
	settled := db.settled()
	db.head.mu.Lock()
	oldest := vh.oldest(settled)
	var hit []Series
	for s, seq := range vh.seen {
		if seq < oldest {
			delete(vh.seen, s) // no record holds its points any more
		}
	}
	for s, hs := range vh.series {
		if !match(s) {
			continue
		}
		if _, ok := vh.seen[s]; ok || len(hs.deltas) > 0 {
			hit = append(hit, s)
		} else {
			// Nothing left of it: its floor is gone with it, and reads
			// start from none.
			hs.cut = 0
		}
	}
	for s := range vh.seen {
		if match(s) && vh.series[s] == nil {
			hit = append(hit, s)
		}
	}
	db.head.mu.Unlock()
	for _, s := range hit {
		seq := db.nextSeq()
		if err := tx.Set(v, floorKey(s), binary.BigEndian.AppendUint64(nil, seq)); err != nil {
			return err
		}
		if err := tx.Set(v, deadKey(seq, s), []byte{}); err != nil {
			return err
		}
		if err := raiseHigh(tx, v, seq); err != nil {
			return err
		}
		db.head.mu.Lock()
		vh.dead[seq] = s
		db.head.mu.Unlock()
		db.schedule(v, s) // its points leave memory at the next compaction
	}
	if len(hit) > 0 {
		db.tidy(v)
	}
	return nil
}

// oldest is the lowest sequence number a stored record may have, now or
// once the writes in flight commit. The caller holds the head's lock.
func (vh *viewHead) oldest(settled uint64) uint64 {
	low := settled
	for seq := range vh.records {
		low = min(low, seq)
	}
	for _, seq := range vh.empty {
		low = min(low, seq)
	}
	return low
}

// tidy asks the compactor to remove what the view's head no longer needs:
// empty records, and markers of deleted series no record can hold points
// of any more.
func (db *DB) tidy(v *barrier.View) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.tidying == nil {
		db.tidying = map[string]bool{}
	}
	db.tidying[v.Incarnation()] = true
}

// compactHead merges the deltas of a series that the head holds into its
// blocks, and drops those under its floor (a deletion's). Compactions take
// turns; writes go on meanwhile.
func (db *DB) compactHead(ctx context.Context, d dirty) (found bool, err error) {
	db.compacting.Lock()
	defer db.compacting.Unlock()
	h := &db.head
	// Every delta numbered below settled that was written is in memory.
	settled := db.settled()
	cacheGen := db.blocks.generation()
	var (
		vh      *viewHead // of the view's incarnation in the snapshot
		p       = &plan{}
		floor   uint64
		take    []headDelta // in sequence order: those above floor are merged, the rest dropped
		gone    bool
		loading bool
	)
	err = db.b.Read(ctx, func(tx *barrier.Tx) error {
		v, err := tx.View([]byte(d.view))
		if errors.Is(err, barrier.ErrNoView) {
			gone = true
			return nil
		}
		if err != nil {
			return err
		}
		h.mu.Lock()
		vh = h.views[v.Incarnation()]
		h.mu.Unlock()
		if vh == nil {
			return nil // nothing of this incarnation in memory
		}
		if !vh.loaded() {
			loading = true
			return nil
		}
		if floor, err = floorOf(tx, v, d.series); err != nil {
			return err
		}
		h.mu.Lock()
		if hs := vh.series[d.series]; hs != nil {
			for _, x := range hs.deltas {
				if x.seq > hs.done && x.seq < settled {
					take = append(take, x)
				}
			}
		}
		h.mu.Unlock()
		var parts []*chunkenc.Chunk
		for _, x := range take {
			if x.seq > floor {
				if len(parts) > 0 && x.points.Kind != parts[0].Kind {
					return fmt.Errorf("tsdb: deltas of kinds %v and %v in one series", parts[0].Kind, x.points.Kind)
				}
				parts = append(parts, x.points)
			}
		}
		return db.planMerge(tx, v, d.series, p, chunkenc.MergeAll(parts))
	})
	switch {
	case err != nil:
		return false, err
	case gone:
		db.DroppedView([]byte(d.view))
		return false, nil
	case loading:
		db.reschedule(d) // once its load is done (or failed: the next use loads again)
		return false, nil
	case vh == nil || len(take) == 0:
		return false, nil
	}
	upTo := take[len(take)-1].seq
	// The records that hold points of no other series still to compact.
	var drop []uint64
	h.mu.Lock()
	for _, x := range take {
		if vh.records[x.seq] == 1 {
			drop = append(drop, x.seq)
		}
	}
	h.mu.Unlock()
	db.started.Add(1)
	defer db.ended.Add(1)
	wrote := false
	err = db.b.Update(ctx, func(tx *barrier.Tx) error {
		wrote = false
		v, err := vh.viewIn(tx)
		if v == nil {
			return err
		}
		// Only compactions, which take turns, and deletions move a floor:
		// one that moved since the plan is a deletion's, which the next
		// compaction of the series honours.
		if f, err := floorOf(tx, v, d.series); err != nil || f != floor {
			return err
		}
		if err := p.apply(tx, v); err != nil {
			return err
		}
		for _, seq := range drop {
			if err := tx.Delete(v, recordKey(seq)); err != nil {
				return err
			}
		}
		wrote = true
		if upTo <= floor {
			return nil
		}
		if err := raiseHigh(tx, v, upTo); err != nil {
			return err
		}
		return tx.Set(v, floorKey(d.series), binary.BigEndian.AppendUint64(nil, upTo))
	})
	if err != nil || !wrote {
		if err == nil {
			db.reschedule(d)
		}
		return false, err
	}
	h.mu.Lock()
	if hs := vh.series[d.series]; hs != nil {
		hs.done = max(hs.done, upTo)
	}
	for _, x := range take {
		if vh.records[x.seq]--; vh.records[x.seq] <= 0 {
			delete(vh.records, x.seq)
		}
	}
	h.epoch++
	h.retired = append(h.retired, retired{vh, d.series, upTo, h.epoch})
	h.reclaim()
	h.mu.Unlock()
	// As compactOnce does for the block cache.
	for _, k := range p.oldKeys {
		db.blocks.drop(d.view + string(k))
	}
	if len(p.blocks) == 1 {
		w := p.blocks[0]
		db.blocks.put(d.view+string(w.Key), w.Value, p.last, cacheGen)
	}
	return true, nil
}

// reschedule puts a series back in the pending set, to be compacted soon.
func (db *DB) reschedule(d dirty) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return
	}
	p := db.pending[d]
	p.n = max(p.n, db.after)
	db.pending[d] = p
}

// tidyViews removes, in the views that tidy named, the records loaded
// empty and the markers of deleted series that no record left can hold
// points of, with the floors they raised.
func (db *DB) tidyViews(ctx context.Context) {
	db.mu.Lock()
	incs := make([]string, 0, len(db.tidying))
	for inc := range db.tidying {
		incs = append(incs, inc)
	}
	db.mu.Unlock()
	h := &db.head
	done := func(inc string) {
		db.mu.Lock()
		defer db.mu.Unlock()
		delete(db.tidying, inc)
	}
	for _, inc := range incs {
		h.mu.Lock()
		vh := h.views[inc]
		h.mu.Unlock()
		if vh == nil {
			done(inc)
			continue
		}
		if !vh.loaded() {
			continue
		}
		gone := false
		settled := db.settled()
		h.mu.Lock()
		oldest := vh.oldest(settled)
		empty := slices.Clone(vh.empty)
		dead := map[uint64]Series{}
		for seq, s := range vh.dead {
			// A marker goes once no record can hold the series' points
			// from before it, and memory holds none of them.
			hs := vh.series[s]
			if seq < oldest && (hs == nil || len(hs.deltas) == 0 || hs.deltas[0].seq > seq) {
				dead[seq] = s
			}
		}
		h.mu.Unlock()
		var unfloored []Series // the series whose floor went with their marker
		if len(empty)+len(dead) > 0 {
			err := db.b.Update(ctx, func(tx *barrier.Tx) error {
				unfloored = unfloored[:0]
				v, err := vh.viewIn(tx)
				if v == nil {
					gone = err == nil
					return err
				}
				for _, seq := range empty {
					if err := tx.Delete(v, recordKey(seq)); err != nil {
						return err
					}
				}
				for seq, s := range dead {
					if err := tx.Delete(v, deadKey(seq, s)); err != nil {
						return err
					}
					f, err := floorOf(tx, v, s)
					if err != nil {
						return err
					}
					if f == seq {
						if err := tx.Delete(v, floorKey(s)); err != nil {
							return err
						}
						unfloored = append(unfloored, s)
					}
				}
				return nil
			})
			if err != nil {
				db.log.Warn("tsdb: tidying the records failed; retrying later", "err", err)
				continue
			}
			if gone {
				h.mu.Lock()
				h.forget(vh)
				h.mu.Unlock()
				done(inc)
				continue
			}
			h.mu.Lock()
			vh.empty = vh.empty[len(empty):]
			for seq := range dead {
				delete(vh.dead, seq)
			}
			// Reads start from no floor again: nothing is left in memory
			// below the marker, so none is cut off.
			for _, s := range unfloored {
				if hs := vh.series[s]; hs != nil {
					hs.cut = 0
				}
			}
			h.mu.Unlock()
		}
		// Done once nothing is left, checked under both locks: a deletion
		// that adds a marker meanwhile asks again (tidy) after it.
		db.mu.Lock()
		h.mu.Lock()
		if len(vh.dead) == 0 && len(vh.empty) == 0 {
			delete(db.tidying, inc)
		}
		h.mu.Unlock()
		db.mu.Unlock()
	}
}
