package api

import (
	"io"
	"net/http"
	"time"
)

// An object's body streams for as long as it keeps moving: reading or
// writing it moves the request's deadlines on, a Stall ahead, instead of
// holding them to the server's Read and Write timeouts, which count from
// the request's start. Both move, as the answer to an upload is written
// after its body and a download's request stays open while it is sent.
// They move at most every Stall/8, and only once minProgress bytes went
// by since the last move: a client that sends or takes a byte now and
// then does not hold a request, its buffers and its goroutines for ever.

// minProgress is the least a body must move in a Stall to keep going
// (about 4 KiB/s at the default minute).
const minProgress = 256 << 10

// mover moves rc's deadlines as a body makes progress.
type mover struct {
	rc    *http.ResponseController
	stall time.Duration
	in    bool  // the request's body, not the answer
	moved int64 // bytes since the last move
	next  time.Time
}

func newMover(rc *http.ResponseController, stall time.Duration, in bool) *mover {
	m := &mover{rc: rc, stall: stall, in: in}
	if !in {
		// Nothing more is read from the client while the server works
		// or answers; over HTTP/1.1 a read deadline would only end the
		// server's watch for the client closing, and cancel the request.
		rc.SetReadDeadline(time.Time{})
	}
	m.set(time.Now())
	return m
}

// set moves the deadlines on from now: the read deadline of a request's
// body a stall ahead, with the write deadline twice that (the answer
// follows the body, and a stalled body ends with its own timeout's
// error); else the write deadline a stall ahead.
func (m *mover) set(now time.Time) {
	// Unsupported by the connection: the timeouts stay.
	if m.in {
		m.rc.SetReadDeadline(now.Add(m.stall))
		m.rc.SetWriteDeadline(now.Add(2 * m.stall))
	} else {
		m.rc.SetWriteDeadline(now.Add(m.stall))
	}
	m.moved, m.next = 0, now.Add(m.stall/8)
}

// progress notes n bytes moved and moves the deadlines when due.
func (m *mover) progress(n int) {
	m.moved += int64(n)
	if m.moved < minProgress {
		return
	}
	if now := time.Now(); now.After(m.next) {
		m.set(now)
	}
}

// streamIn is r, the request's body, with the deadlines moved on as it is
// read. Its first failure (a stall, a client gone) is kept for bodyError.
func (req *Request) streamIn(r io.Reader) io.Reader {
	m := req.mover(true)
	if m == nil {
		return r
	}
	req.body = &movingBody{r: r, m: m}
	return req.body
}

// mover returns a mover of req's deadlines, or nil where they cannot move.
func (req *Request) mover(in bool) *mover {
	if req.rc == nil || req.stall <= 0 {
		return nil
	}
	return newMover(req.rc, req.stall, in)
}

type movingBody struct {
	r   io.Reader
	m   *mover
	err error
}

func (b *movingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	switch {
	case err == io.EOF:
		// All in: no read deadline is left to fire on the idle
		// connection while the answer is being made.
		b.m.rc.SetReadDeadline(time.Time{})
	case err != nil:
		if b.err == nil {
			b.err = err
		}
	default:
		b.m.progress(n)
	}
	return n, err
}

// bodyError is the failure of the request body's transport, if it had one.
func (req *Request) bodyError() error {
	if req.body == nil {
		return nil
	}
	return req.body.err
}

// keepMoving is r, read by a long server-side step (a copy of an object),
// with the deadlines moved on as the step progresses.
func (req *Request) keepMoving(r io.Reader) io.Reader {
	m := req.mover(false)
	if m == nil {
		return r
	}
	return &progressReader{r: r, m: m}
}

type progressReader struct {
	r io.Reader
	m *mover
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.m.progress(n)
	return n, err
}

// streamOut is w with the deadlines moved on as it is written to.
func (req *Request) streamOut(w io.Writer) io.Writer {
	m := req.mover(false)
	if m == nil {
		return w
	}
	return &movingWriter{w: w, m: m}
}

type movingWriter struct {
	w io.Writer
	m *mover
}

// Write writes p a piece at a time, as one write waits until the client
// has taken it: a slow client moves each piece along, not the whole.
func (w *movingWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k, err := w.w.Write(p[:min(len(p), minProgress)])
		n += k
		w.m.progress(k)
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}
