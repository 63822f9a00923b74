package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv"
	"github.com/twinvault/twinvault/kv/kvtest"
)

func newLog(t testing.TB) (*Log, *kvtest.Mem) {
	t.Helper()
	store := kvtest.NewMem()
	l := Open(barriertest.Open(t, store), nil)
	t.Cleanup(l.Close)
	return l, store
}

func event(i int) *Event {
	return &Event{EventVersion: EventVersion, EventName: fmt.Sprintf("Op%d", i), EventID: fmt.Sprintf("id-%d", i), RequestID: fmt.Sprintf("req-%d", i),
		EventTime: Time(time.Now()), EventSource: "iottwinmaker.amazonaws.com", ManagementEvent: true, EventCategory: "Management",
		RequestParameters: []byte("null"), ResponseElements: []byte("null")}
}

// fill appends n events, each but the first after a reservation.
func fill(t *testing.T, l *Log, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if i > 0 {
			if err := l.Reserve(ctx, &Reservation{RequestID: fmt.Sprintf("req-%d", i), EventName: fmt.Sprintf("Op%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Append(ctx, event(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// entryKeys are the raw storage keys of the log's entries, in order.
func entryKeys(store *kvtest.Mem) []string {
	var keys []string
	for k := range store.Raw() {
		if strings.Contains(k, string(entryPrefix)) {
			keys = append(keys, k)
		}
	}
	// Raw keys sort as the entries do: the sequence is big-endian.
	slicesSort(keys)
	return keys
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestVerifyUntouched(t *testing.T) {
	l, _ := newLog(t)
	fill(t, l, 10)
	n, problems, err := l.Verify(context.Background())
	if err != nil || n != 19 || len(problems) != 0 {
		t.Fatalf("%d entries, problems %v, %v", n, problems, err)
	}
}

// TestTamper: every change to the stored log is found, with its reason.
func TestTamper(t *testing.T) {
	headRaw := func(store *kvtest.Mem) string {
		for k := range store.Raw() {
			if strings.HasSuffix(k, string(headKey)) {
				return k
			}
		}
		return ""
	}
	cases := []struct {
		name   string
		tamper func(store *kvtest.Mem)
		want   string
	}{
		{"flip a byte", func(s *kvtest.Mem) {
			k := entryKeys(s)[5]
			v := s.Raw()[k]
			v[len(v)/2] ^= 1
			s.Put(k, v)
		}, "does not decrypt"},
		{"delete an entry", func(s *kvtest.Mem) { s.Put(entryKeys(s)[4], nil) }, "entry 4 is missing"},
		{"swap two entries", func(s *kvtest.Mem) {
			keys, raw := entryKeys(s), s.Raw()
			s.Put(keys[3], raw[keys[7]])
			s.Put(keys[7], raw[keys[3]])
		}, "does not decrypt"},
		{"copy an entry elsewhere", func(s *kvtest.Mem) {
			keys, raw := entryKeys(s), s.Raw()
			s.Put(keys[len(keys)-1][:len(keys[0])-1]+"\xff", raw[keys[2]])
		}, "does not decrypt"},
		{"truncate the tail", func(s *kvtest.Mem) {
			keys := entryKeys(s)
			for _, k := range keys[len(keys)-3:] {
				s.Put(k, nil)
			}
		}, "the tail was cut"},
		{"truncate the tail and the head", func(s *kvtest.Mem) {
			keys := entryKeys(s)
			for _, k := range keys[len(keys)-3:] {
				s.Put(k, nil)
			}
			s.Put(headRaw(s), nil)
		}, "head is missing"},
		{"drop an event, keeping its reservation", func(s *kvtest.Mem) {
			s.Put(entryKeys(s)[2], nil) // the event of request 1
		}, "req-1 was reserved but has no event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, store := newLog(t)
			fill(t, l, 10)
			c.tamper(store)
			_, problems, err := l.Verify(context.Background())
			wantProblem(t, problems, err, c.want)
		})
	}
}

func TestUnfinishedReservation(t *testing.T) {
	l, _ := newLog(t)
	fill(t, l, 3)
	if err := l.Reserve(context.Background(), &Reservation{RequestID: "req-lost", EventName: "DeleteEntity"}); err != nil {
		t.Fatal(err)
	}
	_, problems, _ := l.Verify(context.Background())
	if len(problems) != 1 || !strings.Contains(problems[0].Reason, "req-lost was reserved but has no event") {
		t.Fatalf("problems %v", problems)
	}
}

// TestFailClosed: while writes fail, appends fail with ErrUnavailable and
// nothing is stored; afterwards the log goes on, unbroken.
func TestFailClosed(t *testing.T) {
	l, _ := newLog(t)
	fill(t, l, 2)
	l.SetFailHook(func() error { return errors.New("disk full") })
	if err := l.Append(context.Background(), event(99)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append while failing: %v", err)
	}
	l.SetFailHook(nil)
	fill(t, l, 2)
	n, problems, err := l.Verify(context.Background())
	if err != nil || n != 6 || len(problems) != 0 {
		t.Fatalf("%d entries, problems %v, %v", n, problems, err)
	}
}

// TestConcurrentAppends: appends from many goroutines all land, once
// each, in one unbroken chain.
func TestConcurrentAppends(t *testing.T) {
	l, _ := newLog(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if err := l.Append(context.Background(), event(w*1000+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	n, problems, err := l.Verify(context.Background())
	if err != nil || n != 400 || len(problems) != 0 {
		t.Fatalf("%d entries, problems %v, %v", n, problems, err)
	}
	seen := map[string]bool{}
	l.Scan(context.Background(), 0, false, func(e *Entry) error {
		seen[string(e.Body)] = true
		return nil
	})
	if len(seen) != 400 {
		t.Fatalf("%d distinct events", len(seen))
	}
}

// TestStats: the log counts the entries it made durable, the writes that
// carried them and the time they waited, and the appends it refused (a
// failed write, a wait given up, a closed log), each before the append
// returns.
func TestStats(t *testing.T) {
	l := Open(barriertest.Open(t, kvtest.NewMem()), nil) // closed below
	ctx := context.Background()
	if s := l.Stats(); s != (Stats{}) {
		t.Fatalf("a new log: %+v", s)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				if err := l.Append(ctx, event(w*1000+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	s := l.Stats()
	if s.Entries != 100 || s.Batches < 1 || s.Batches > 100 || s.Refused != 0 || s.Wait <= 0 {
		t.Fatalf("after 100 appends: %+v", s)
	}
	l.SetFailHook(func() error { return errors.New("disk full") })
	if err := l.Append(ctx, event(99)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append while failing: %v", err)
	}
	// An append that gives up waiting is refused; its entry lands later.
	release := make(chan struct{})
	l.SetFailHook(func() error { <-release; return nil })
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := l.Append(short, event(98)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append that timed out: %v", err)
	}
	l.SetFailHook(nil)
	close(release)
	if err := l.Reserve(ctx, &Reservation{RequestID: "req-100"}); err != nil { // after the late one, in order
		t.Fatal(err)
	}
	l.Close()
	if err := l.Append(ctx, event(100)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append after close: %v", err)
	}
	after := l.Stats()
	if after.Entries != 102 || after.Batches != s.Batches+2 || after.Refused != 3 || after.Wait <= s.Wait {
		t.Fatalf("before %+v, after a refusal, a timeout, a reservation, a close and a refusal %+v", s, after)
	}
}

func BenchmarkAppend(b *testing.B) {
	l, _ := newLog(b)
	e := event(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Append(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// wantProblem fails t unless one of problems gives the reason want.
func wantProblem(t *testing.T, problems []Problem, err error, want string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.Contains(p.Reason, want) {
			return
		}
	}
	t.Errorf("problems %v; want one saying %q", problems, want)
}

// sharedMem is the in-memory store claiming to be shared, as a database is.
type sharedMem struct{ *kvtest.Mem }

func (sharedMem) Shared() bool { return true }

// TestSharedChain: nodes appending to one store at once (each with its own
// barrier and log over the shared store) make one chain with every entry,
// whose times never go back, and whose hours are each sealed once.
func TestSharedChain(t *testing.T) {
	ctx := context.Background()
	store := sharedMem{kvtest.NewMem()} // one writer at a time, as serializable as a database
	clk := newClock(time.Date(2026, 11, 27, 10, 5, 0, 0, time.UTC))
	var logs []*Log
	for i := range 3 {
		b := barriertest.Open(t, store)
		if !b.Shared() {
			t.Fatal("the barrier does not know its store is shared")
		}
		skew := time.Duration(i) * -20 * time.Second // clocks a little apart
		l := Open(b, func() time.Time { return clk.now().Add(skew) })
		t.Cleanup(l.Close)
		logs = append(logs, l)
	}
	var wg sync.WaitGroup
	for i, l := range logs {
		wg.Go(func() {
			for j := range 40 {
				if j == 20 && i == 0 {
					clk.add(time.Hour) // an hour ends mid-load
				}
				if err := l.Append(ctx, event(i*100+j)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	clk.add(time.Hour)
	if err := logs[2].SealDigests(ctx, clk.now()); err != nil {
		t.Fatal(err)
	}
	n, problems, err := logs[1].Verify(ctx)
	if err != nil || len(problems) != 0 || n != 120 {
		t.Fatalf("%d entries of 120, problems %v, %v", n, problems, err)
	}
	if _, problems, err := logs[0].VerifyDigests(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("digests: %v %v", problems, err)
	}
	var last time.Time
	logs[0].Scan(ctx, 0, false, func(e *Entry) error {
		if e.Time.Before(last) {
			t.Errorf("entry %d at %s, before the one ahead of it (%s)", e.Seq, e.Time, last)
		}
		last = e.Time
		return nil
	})
}

// pipeMem is the in-memory store with pipelined batches whose syncs end a
// little later, or fail when told to.
type pipeMem struct {
	*kvtest.Mem
	fail atomic.Bool
}

func (p *pipeMem) BatchApply(ctx context.Context, ws []kv.Write) (func() error, error) {
	if err := p.Mem.Batch(ctx, ws); err != nil {
		return nil, err
	}
	fail := p.fail.Load()
	return func() error {
		time.Sleep(100 * time.Microsecond)
		if fail {
			return errors.New("disk gone")
		}
		return nil
	}, nil
}

// TestPipelinedWrites: batches whose syncs overlap still make one chain in
// order; once a sync fails, that batch's appends and every later one fail.
func TestPipelinedWrites(t *testing.T) {
	ctx := context.Background()
	store := &pipeMem{Mem: kvtest.NewMem()}
	l := Open(barriertest.Open(t, store), nil)
	defer l.Close()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := l.Append(ctx, event(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, problems, err := l.Verify(ctx); err != nil || len(problems) != 0 || n != 200 {
		t.Fatalf("%d entries, problems %v, %v", n, problems, err)
	}
	store.fail.Store(true)
	if err := l.Append(ctx, event(1000)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("an append whose sync failed: %v", err)
	}
	store.fail.Store(false)
	if err := l.Append(ctx, event(1001)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("an append after a lost sync: %v", err)
	}
}

// TestEntryJSON: the writer's own encoding of an entry is what json.Marshal
// writes, so readers decode either.
func TestEntryJSON(t *testing.T) {
	body, _ := json.Marshal(event(7))
	for _, e := range []Entry{
		{Seq: 0, Kind: kindEvent, Body: body, Prev: make([]byte, 32), Hash: bytes.Repeat([]byte{0xfe}, 32), Time: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)},
		{Seq: 1<<64 - 1, Kind: kindReservation, Body: []byte(`{"requestID":"r"}`), Prev: []byte{1}, Hash: []byte{2, 3}, Time: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)},
	} {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// TestFloor: once the log is closed, Floor is this process's oldest
// reservation still without its event, or the end of the log.
func TestFloor(t *testing.T) {
	ctx := context.Background()
	store := kvtest.NewMem()
	l := Open(barriertest.Open(t, store), nil)
	for _, r := range []string{"r1", "r2", "r3"} {
		if err := l.Reserve(ctx, &Reservation{RequestID: r, EventName: "Op"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []string{"r1", "r3"} { // entries 3 and 4; r2 (entry 1) stays open
		e := event(0)
		e.RequestID = r
		if err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if seq, ok := l.Floor(); !ok || seq != 1 {
		t.Fatalf("floor %d %v, want 1 (r2's reservation)", seq, ok)
	}
	l2 := Open(barriertest.Open(t, store), nil)
	e := event(0)
	e.RequestID = "r2"
	if err := l2.Append(ctx, e); err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if seq, ok := l2.Floor(); !ok || seq != 6 {
		t.Fatalf("floor %d %v, want 6 (the end)", seq, ok)
	}
}

// TestEventJSON: the writer's own encoding of an event is what json.Marshal
// writes, escapes and omissions included.
func TestEventJSON(t *testing.T) {
	odd := "a<b>&c\"\\\x00\x01\b\f\n\r\t\x1f\x7f é\u2028\u2029\xff\xfe end"
	full := event(3)
	full.UserIdentity = UserIdentity{Type: "AssumedRole", PrincipalID: odd, ARN: "arn:aws:sts::1:assumed-role/r/s", AccountID: "1",
		AccessKeyID: "ASIA", SessionContext: &SessionContext{}}
	full.UserIdentity.SessionContext.Attributes.CreationDate = "2026-11-27T10:00:00Z"
	full.UserIdentity.SessionContext.Attributes.MFAAuthenticated = "true"
	full.ErrorCode, full.ErrorMessage = "ValidationException", odd
	full.RequestParameters = json.RawMessage(`{"a":"<x>&","b":[1,2.5,true,null],"c":{"\u00e9":"\u2028"}}`)
	full.ResponseElements = json.RawMessage(`{"k":"v"}`)
	full.Resources = []Resource{{ARN: "arn:1", AccountID: "1", Type: "T"}, {ARN: odd}}
	full.TLSDetails = &TLSDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: odd}
	extra := json.RawMessage(`{"dataProtectionFindings":[{"field":"f"}]}`)
	full.AdditionalEventData = &extra
	full.ServiceEventDetails = json.RawMessage(`{"detail":"<>"}`)
	for _, e := range []*Event{event(1), {}, {UserIdentity: UserIdentity{UserName: "u"}}, full} {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// FuzzEventJSON: any text in an event's fields is written as json.Marshal
// writes it.
func FuzzEventJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xc3", "é\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := &Event{UserIdentity: UserIdentity{UserName: s}, ErrorMessage: s, Resources: []Resource{{ARN: s, Type: s}}}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

// heldSyncs pipelines batches (kv.Pipeliner): each is applied at once,
// and durable only once the test releases the syncs.
type heldSyncs struct {
	*kvtest.Mem
	release chan struct{}
}

func (h heldSyncs) BatchApply(ctx context.Context, ws []kv.Write) (func() error, error) {
	if err := h.Mem.Batch(ctx, ws); err != nil {
		return nil, err
	}
	return func() error { <-h.release; return nil }, nil
}

// TestReserveOrdered: an ordered reservation returns once it is in the
// store, before its sync; Reserve waits for the sync.
func TestReserveOrdered(t *testing.T) {
	ctx := context.Background()
	store := heldSyncs{kvtest.NewMem(), make(chan struct{})}
	l := Open(barriertest.Open(t, store), nil)
	defer l.Close()
	released := false
	release := func() {
		if !released {
			close(store.release)
			released = true
		}
	}
	defer release()

	if err := l.ReserveOrdered(ctx, &Reservation{RequestID: "req-1", EventName: "CreateEntity"}); err != nil {
		t.Fatal(err)
	}
	open, _, err := l.OpenReservations(ctx, 0)
	if err != nil || len(open) != 1 || open[0].RequestID != "req-1" {
		t.Fatalf("open reservations %v, %v; want req-1", open, err)
	}
	durable := make(chan error, 1)
	go func() { durable <- l.Reserve(ctx, &Reservation{RequestID: "req-2", EventName: "DeleteWorkspace"}) }()
	select {
	case err := <-durable:
		t.Fatalf("Reserve returned before its sync: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-durable; err != nil {
		t.Fatal(err)
	}

	l.SetFailHook(func() error { return errors.New("disk full") })
	if err := l.ReserveOrdered(ctx, &Reservation{RequestID: "req-3"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ordered reservation while writes fail: %v", err)
	}
}

// TestReserveOrderedConcurrent: ordered reservations and events from many
// callers make one unbroken chain, each reservation before its event,
// none left open.
func TestReserveOrderedConcurrent(t *testing.T) {
	l := Open(barriertest.Open(t, kvtest.NewMem()), nil) // closed below
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				n := w*1000 + i
				if err := l.ReserveOrdered(ctx, &Reservation{RequestID: fmt.Sprintf("req-%d", n), EventName: fmt.Sprintf("Op%d", n)}); err != nil {
					t.Error(err)
					return
				}
				if err := l.Append(ctx, event(n)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n, problems, err := l.Verify(ctx)
	if err != nil || len(problems) != 0 || n != 800 {
		t.Fatalf("verify: %d entries, %v, %v; want 800 and no problems", n, problems, err)
	}
	open, _, err := l.OpenReservations(ctx, 0)
	if err != nil || len(open) != 0 {
		t.Fatalf("open reservations: %v, %v", open, err)
	}
	l.Close()
	if err := l.ReserveOrdered(ctx, &Reservation{RequestID: "late"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("an ordered reservation after Close: %v", err)
	}
}
