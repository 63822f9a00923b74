package barrier

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twinvault/twinvault/kv"
)

// TestAutoRotation: a DEK that reaches its seal budget is rotated, and
// the caller told; everything written stays readable; the counts survive
// a fresh start.
func TestAutoRotation(t *testing.T) {
	s, b := newTestBarrier(t)
	b.SetSealBudget(100)
	var mu sync.Mutex
	var rotated []string
	b.OnAutoRotate(func(id []byte) { mu.Lock(); rotated = append(rotated, string(id)); mu.Unlock() })
	v := create(t, b, "busy")
	want := map[string]string{}
	for i := range 450 {
		k, val := fmt.Sprint("k", i), fmt.Sprint("v", i)
		if i%2 == 0 {
			set(t, b, v, k, val)
		} else if err := v.Batch(ctx, []kv.Write{{Key: []byte(k), Value: []byte(val)}}); err != nil {
			t.Fatal(err)
		}
		want[k] = val
	}
	// What is still pending when the writes stop is recorded by the
	// next writes; here, at once.
	for v.flushing.Load() {
		time.Sleep(time.Millisecond)
	}
	b.flushOnce(v)
	b.flushOnce(v) // a rotation the first one found due
	// Every seal is counted once, under the DEK that made it; the active
	// one is under the budget; rotations were reported.
	raw, _ := s.Get(ctx, recordKey([]byte("busy")))
	rec, err := b.unwrap(ctx, s, recordKey([]byte("busy")), raw)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, d := range rec.deks {
		total += d.sealed
	}
	if total+v.pending.Load() != 450 || len(rec.deks) < 2 {
		t.Fatalf("%d seals counted of 450, over %d versions", total+v.pending.Load(), len(rec.deks))
	}
	if n, _ := b.Seals(ctx, []byte("busy")); n >= 100 {
		t.Fatalf("the active DEK has %d seals, over the budget", n)
	}
	mu.Lock()
	if len(rotated) == 0 || rotated[0] != "busy" {
		t.Fatalf("rotations reported: %v", rotated)
	}
	mu.Unlock()
	readAll(t, b, "busy", want)
	readAll(t, node(t, s), "busy", want)
}

// TestRecordFormat1: key records written before seal counts still open.
func TestRecordFormat1(t *testing.T) {
	r := newRecord()
	old := []byte{1}
	old = append(old, r.gen[:]...)
	old = append(old, r.index...)
	old = binary.BigEndian.AppendUint32(old, r.active)
	old = binary.BigEndian.AppendUint16(old, 1)
	old = binary.BigEndian.AppendUint32(old, 1)
	old = append(old, r.deks[0].key...)
	got, err := decodeRecord(old)
	if err != nil || got.active != 1 || len(got.deks) != 1 || got.deks[0].sealed != 0 || string(got.deks[0].key) != string(r.deks[0].key) {
		t.Fatalf("format 1: %+v %v", got, err)
	}
	r.deks[0].sealed = 12345
	again, err := decodeRecord(r.encode())
	if err != nil || again.deks[0].sealed != 12345 {
		t.Fatalf("format 2: %+v %v", again, err)
	}
}
