package tsdb

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// Usage is what a workspace's time series take in the store, counted as
// the store holds them: keys and sealed values, nonces and tags included.
type Usage struct {
	// Series is how many series hold points.
	Series int
	// Blocks, BlockPoints and BlockBytes are the compacted blocks, the
	// points they hold and what they take.
	Blocks      int
	BlockPoints int64
	BlockBytes  int64
	// PendingPoints are points written and not yet compacted (a point
	// rewritten since its compaction counts again until the next one);
	// PendingBytes, the records or deltas that hold them.
	PendingPoints int64
	PendingBytes  int64
	// OtherBytes are the series' bookkeeping: floors, deletion markers,
	// the sequence mark, and records whose points are all compacted and
	// that wait to be removed.
	OtherBytes int64
}

// Points is every point stored, compacted or not.
func (u Usage) Points() int64 { return u.BlockPoints + u.PendingPoints }

// Bytes is everything the view's time series take.
func (u Usage) Bytes() int64 { return u.BlockBytes + u.PendingBytes + u.OtherBytes }

// Usage counts what the time series of v take in tx's snapshot. It reads
// every key of them and opens only what it must to count points: a
// block's header, and the records or deltas not yet compacted. Its cost
// grows with the number of blocks, as a backup's does.
func (db *DB) Usage(tx *barrier.Tx, v *barrier.View) (Usage, error) {
	var u Usage
	series := map[Series]bool{}
	floors := floorMemo{}
	err := tx.ScanSealed(v, kv.Prefix([]byte(seriesPrefix)), func(k []byte, val barrier.Sealed) error {
		s, rest, ok := splitSeriesKey(k)
		if !ok {
			return fmt.Errorf("tsdb: malformed series key")
		}
		switch {
		case rest[0] == 'b' || rest[0] == 'a':
			plain, err := val.Open()
			if err != nil {
				return err
			}
			h, err := chunkenc.ReadHeader(plain)
			if err != nil {
				return fmt.Errorf("tsdb: chunk: %w", err)
			}
			if rest[0] == 'b' {
				u.Blocks++
				u.BlockPoints += int64(h.Len)
				u.BlockBytes += int64(val.Size())
			} else {
				u.PendingPoints += int64(h.Len)
				u.PendingBytes += int64(val.Size())
			}
			series[s] = true
		case bytes.Equal(rest, []byte{'f'}):
			u.OtherBytes += int64(val.Size())
		default:
			return fmt.Errorf("tsdb: malformed series key")
		}
		return nil
	})
	if err != nil {
		return Usage{}, err
	}
	err = tx.ScanSealed(v, kv.Prefix(recordPrefix), func(k []byte, val barrier.Sealed) error {
		if len(k) != len(recordPrefix)+8 {
			return fmt.Errorf("tsdb: malformed record key")
		}
		seq := binary.BigEndian.Uint64(k[len(recordPrefix):])
		rec, err := val.Open()
		if err != nil {
			return err
		}
		live := int64(0)
		err = parseRecord(rec, func(s Series, c *chunkenc.Chunk) error {
			f, err := floors.of(tx, v, s)
			if err != nil {
				return err
			}
			if seq > f {
				live += int64(c.Len())
				series[s] = true
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("tsdb: record %d: %w", seq, err)
		}
		if live > 0 {
			u.PendingPoints += live
			u.PendingBytes += int64(val.Size())
		} else {
			u.OtherBytes += int64(val.Size())
		}
		return nil
	})
	if err != nil {
		return Usage{}, err
	}
	for _, p := range [][]byte{deadPrefix, highKey} {
		err := tx.ScanSealed(v, kv.Prefix(p), func(k []byte, val barrier.Sealed) error {
			if bytes.Equal(p, deadPrefix) || bytes.Equal(k, highKey) {
				u.OtherBytes += int64(val.Size())
			}
			return nil
		})
		if err != nil {
			return Usage{}, err
		}
	}
	u.Series = len(series)
	return u, nil
}
