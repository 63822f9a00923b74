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
// They move at most every Stall/8, so a busy transfer hardly pays for it.

// moveDeadlines returns the function that moves rc's deadlines, when due:
// the one of the direction the body goes a stall ahead, the other twice
// that, so that a stalled body ends with its own timeout's error.
func moveDeadlines(rc *http.ResponseController, stall time.Duration, in bool) func() {
	next := time.Time{}
	return func() {
		if now := time.Now(); now.After(next) {
			read, write := now.Add(stall), now.Add(2*stall)
			if !in {
				read, write = write, read
			}
			// Unsupported by the connection: the timeouts stay.
			rc.SetReadDeadline(read)
			rc.SetWriteDeadline(write)
			next = now.Add(stall / 8)
		}
	}
}

// streamIn is r, the request's body, with the deadlines moved on as it is
// read.
func (req *Request) streamIn(r io.Reader) io.Reader {
	if req.rc == nil || req.stall <= 0 {
		return r
	}
	m := &movingReader{r: r, move: moveDeadlines(req.rc, req.stall, true)}
	m.move()
	return m
}

type movingReader struct {
	r    io.Reader
	move func()
}

func (m *movingReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if n > 0 {
		m.move()
	}
	return n, err
}

// streamOut is w with the deadlines moved on as it is written to.
func (req *Request) streamOut(w http.ResponseWriter) io.Writer {
	if req.rc == nil || req.stall <= 0 {
		return w
	}
	m := &movingWriter{w: w, move: moveDeadlines(req.rc, req.stall, false)}
	m.move()
	return m
}

type movingWriter struct {
	w    io.Writer
	move func()
}

// Write writes p a piece at a time, as one write waits until the client
// has taken it: a slow client moves each piece along, not the whole.
func (m *movingWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		m.move()
		k, err := m.w.Write(p[:min(len(p), movePiece)])
		n += k
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// movePiece is how much a moving write sends between moves.
const movePiece = 1 << 20
