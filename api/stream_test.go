package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// deadlines is a ResponseWriter that keeps the deadlines set on it.
type deadlines struct {
	*httptest.ResponseRecorder
	read, write []time.Time
}

func (d *deadlines) SetReadDeadline(t time.Time) error  { d.read = append(d.read, t); return nil }
func (d *deadlines) SetWriteDeadline(t time.Time) error { d.write = append(d.write, t); return nil }

// Deadlines move a stall ahead only with real progress, and only as often
// as a stall/8: a trickle does not keep a request alive.
func TestMoverNeedsProgress(t *testing.T) {
	const stall = time.Minute
	d := &deadlines{ResponseRecorder: httptest.NewRecorder()}
	start := time.Now()
	m := newMover(http.NewResponseController(d), stall, true)
	if len(d.read) != 1 || len(d.write) != 1 || d.read[0].Sub(start) < stall || d.write[0].Sub(d.read[0]) < stall-time.Second {
		t.Fatalf("an upload's first deadlines: read %v, write %v", d.read, d.write)
	}
	m.next = time.Time{} // due from here on
	for range 100 {
		m.progress(100) // a trickle
	}
	if len(d.read) != 1 {
		t.Fatalf("a trickle moved the read deadline %d times", len(d.read)-1)
	}
	m.progress(minProgress)
	if len(d.read) != 2 || len(d.write) != 2 || d.read[1].Sub(start) < stall {
		t.Fatalf("%d bytes did not move the deadlines: read %v", minProgress, d.read)
	}
	m.progress(minProgress) // a stall/8 is not over
	if len(d.read) != 2 {
		t.Fatal("the deadlines moved again before stall/8")
	}

	// The answer's direction: the read deadline is cleared, the write one
	// moves.
	d = &deadlines{ResponseRecorder: httptest.NewRecorder()}
	m = newMover(http.NewResponseController(d), stall, false)
	if len(d.read) != 1 || !d.read[0].IsZero() || len(d.write) != 1 {
		t.Fatalf("a download's first deadlines: read %v, write %v", d.read, d.write)
	}
	m.next = time.Time{}
	m.progress(minProgress)
	if len(d.read) != 1 || len(d.write) != 2 {
		t.Fatalf("a download's moves: read %v, write %v", d.read, d.write)
	}
}
