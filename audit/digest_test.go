package audit

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv/kvtest"
)

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time         { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)    { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock(t time.Time) *clock       { return &clock{t: t} }
func (c *clock) set(t time.Time)        { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func digestKeys(s *kvtest.Mem) []string { return rawKeys(s, string(digestPrefix)) }

func rawKeys(s *kvtest.Mem, part string) []string {
	var keys []string
	for k := range s.Raw() {
		if strings.Contains(k, part) {
			keys = append(keys, k)
		}
	}
	slicesSort(keys)
	return keys
}

// hourlyLog writes events over four hours (none in the third) and seals
// the digests of the hours that ended.
func hourlyLog(t *testing.T) (*Log, *kvtest.Mem, *clock) {
	t.Helper()
	ctx := context.Background()
	store := kvtest.NewMem()
	b := barriertest.Open(t, store)
	clk := newClock(time.Date(2026, 11, 27, 10, 5, 0, 0, time.UTC))
	l := Open(b, clk.now)
	t.Cleanup(l.Close)
	for hour := range 4 {
		clk.set(time.Date(2026, 11, 27, 10+hour, 5, 0, 0, time.UTC))
		if hour == 2 {
			continue // an hour without events still gets its digest
		}
		for i := range 3 {
			e := event(hour*10 + i)
			e.EventTime = Time(clk.now()) // the log's time, not today's
			if err := l.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
			clk.add(time.Minute)
		}
	}
	if err := l.SealDigests(ctx, clk.now()); err != nil {
		t.Fatal(err)
	}
	return l, store, clk
}

func TestDigests(t *testing.T) {
	l, _, _ := hourlyLog(t)
	n, problems, err := l.VerifyDigests(context.Background())
	if err != nil || n != 3 || len(problems) != 0 {
		t.Fatalf("%d digests, problems %v, %v", n, problems, err)
	}
	value, fp, err := l.DigestPublicKey(context.Background())
	if err != nil || value == "" || len(fp) != 32 {
		t.Fatalf("public key %q %q %v", value, fp, err)
	}
}

func TestDigestTamper(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(s *kvtest.Mem)
		want   string
	}{
		{"edit a digest", func(s *kvtest.Mem) {
			k := digestKeys(s)[1]
			v := s.Raw()[k]
			v[len(v)/2] ^= 1
			s.Put(k, v)
		}, "does not decrypt"},
		{"drop a digest", func(s *kvtest.Mem) { s.Put(digestKeys(s)[1], nil) }, "are missing"},
		{"drop the last digest", func(s *kvtest.Mem) { keys := digestKeys(s); s.Put(keys[len(keys)-1], nil) }, "are missing"},
		{"drop every digest", func(s *kvtest.Mem) {
			for _, k := range digestKeys(s) {
				s.Put(k, nil)
			}
		}, "every digest is missing"},
		{"swap two digests", func(s *kvtest.Mem) {
			keys, raw := digestKeys(s), s.Raw()
			s.Put(keys[0], raw[keys[1]])
			s.Put(keys[1], raw[keys[0]])
		}, "does not decrypt"},
		{"delete an entry a digest covers", func(s *kvtest.Mem) { s.Put(rawKeys(s, string(entryPrefix))[1], nil) }, "hash value doesn't match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, store, _ := hourlyLog(t)
			c.tamper(store)
			_, problems, err := l.VerifyDigests(context.Background())
			wantProblem(t, problems, err, c.want)
		})
	}
}

// TestRetention: only exported entries older than the retention period
// go; the pruned log and its digests still verify; an entry put back
// behind the base is found.
func TestRetention(t *testing.T) {
	l, store, clk := hourlyLog(t)
	ctx := context.Background()
	n0, _, _ := l.Verify(ctx)
	l.SetRetention(90 * time.Minute)
	// Nothing exported: nothing goes.
	clk.add(2 * time.Hour)
	if err := l.SealDigests(ctx, clk.now()); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := l.Verify(ctx); n != n0 {
		t.Fatalf("%d entries left of %d before any export", n, n0)
	}
	before := rawKeys(store, string(entryPrefix))
	snapshot := store.Raw()
	var exported int
	if err := l.Export(ctx, time.Time{}, clk.now(), func([]byte) error { exported++; return nil }); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Hour)
	if err := l.SealDigests(ctx, clk.now()); err != nil {
		t.Fatal(err)
	}
	n, problems, err := l.Verify(ctx)
	if err != nil || len(problems) != 0 || n >= n0 || exported != 9 {
		t.Fatalf("after pruning: %d of %d entries, %d exported, problems %v, %v", n, n0, exported, problems, err)
	}
	if _, problems, err := l.VerifyDigests(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("digests after pruning: %v %v", problems, err)
	}
	// An old entry put back is out of place.
	store.Put(before[0], snapshot[before[0]])
	if _, problems, _ := l.Verify(ctx); len(problems) == 0 || !strings.Contains(problems[0].Reason, "before the log's base") {
		t.Errorf("an entry put back: %v", problems)
	}
}

// TestInRange: a verification limited to a time range reports the problems
// of entries and digests in it and counts the others.
func TestInRange(t *testing.T) {
	ctx := context.Background()
	l, store, _ := hourlyLog(t)
	// Hour 10 holds entries 0–2, hour 11 entries 3–5, hour 13 entries 6–8;
	// digests of hours 10–12.
	store.Put(rawKeys(store, string(entryPrefix))[4], nil) // entry 4 (hour 11) deleted
	_, problems, err := l.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, more, err := l.VerifyDigests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	problems = append(problems, more...)
	if len(problems) < 2 {
		t.Fatalf("the deletion was not found whole: %v", problems)
	}
	at := func(h int) time.Time { return time.Date(2026, 11, 27, h, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		from, to time.Time
		want     int // problems kept
	}{
		{time.Time{}, time.Time{}, len(problems)},
		{at(11), at(12), len(problems)}, // the gap after entry 4 and hour 11's digest
		{at(12), time.Time{}, 0},
		// Before hour 11: only the digest's problem, kept since a digest
		// problem may stand for digests missing before it.
		{time.Time{}, at(11), 1},
		// Between entries 3 and 5 (11:05, 11:07): the gap, and the digest.
		{at(11).Add(6 * time.Minute), at(11).Add(7 * time.Minute), 3},
	} {
		kept, outside, err := l.InRange(ctx, problems, c.from, c.to)
		if err != nil || len(kept) != c.want || len(kept)+outside != len(problems) {
			t.Errorf("%v–%v: kept %v, %d outside, %v (all: %v)", c.from, c.to, kept, outside, err, problems)
		}
	}
}
