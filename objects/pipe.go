package objects

import (
	"errors"
	"io"
	"sync"
)

// pipe carries sealed bytes from the goroutine that seals a body to the one
// that stores it, with room for a few writes in between: io.Pipe makes
// every write wait for its read, which would run sealing and storing by
// turns instead of side by side.
type pipe struct {
	ch   chan []byte   // filled buffers, in order
	free chan []byte   // buffers to reuse
	gone chan struct{} // closed when the reader stops
	cur  []byte        // the part of a buffer not yet read
	buf  []byte        // cur's whole buffer

	mu      sync.Mutex
	werr    error // the writer's close error, seen once ch is drained
	rerr    error // why the reader stopped
	wclosed bool
	rOnce   sync.Once
}

func newPipe(depth int) *pipe {
	return &pipe{ch: make(chan []byte, depth), free: make(chan []byte, depth+1), gone: make(chan struct{})}
}

var errPipeClosed = errors.New("objects: pipe reader stopped")

// Write copies p into the pipe, waiting while it is full.
func (p *pipe) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var buf []byte
	select {
	case buf = <-p.free:
	default:
	}
	buf = append(buf[:0], b...)
	select {
	case p.ch <- buf:
		return len(b), nil
	case <-p.gone:
		p.mu.Lock()
		defer p.mu.Unlock()
		return 0, p.rerr
	}
}

// CloseWrite ends the stream: the reader sees err, or io.EOF if nil, after
// what was written.
func (p *pipe) CloseWrite(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wclosed {
		return
	}
	p.wclosed = true
	p.werr = err
	close(p.ch)
}

// Read reads what was written, in order.
func (p *pipe) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if err := p.next(); err != nil {
			return 0, err
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// WriteTo writes what was written to w, in order, passing the pipe's own
// buffers (no copy through a caller's); it ends with the writer's close
// error, or nil.
func (p *pipe) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		if len(p.cur) > 0 { // what a Read left
			k, err := w.Write(p.cur)
			n += int64(k)
			if err == nil && k < len(p.cur) {
				err = io.ErrShortWrite
			}
			p.cur = p.cur[k:]
			if err != nil {
				return n, err
			}
		}
		switch err := p.next(); {
		case err == io.EOF:
			return n, nil
		case err != nil:
			return n, err
		}
	}
}

// next frees the buffer read through and takes the next one: io.EOF, or
// the writer's close error, once there is none.
func (p *pipe) next() error {
	if p.buf != nil {
		select {
		case p.free <- p.buf:
		default:
		}
		p.buf = nil
	}
	buf, ok := <-p.ch
	if !ok {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.werr != nil {
			return p.werr
		}
		return io.EOF
	}
	p.buf, p.cur = buf, buf
	return nil
}

// CloseRead stops the reader: writes fail with err from then on.
func (p *pipe) CloseRead(err error) {
	if err == nil {
		err = errPipeClosed
	}
	p.rOnce.Do(func() {
		p.mu.Lock()
		p.rerr = err
		p.mu.Unlock()
		close(p.gone)
	})
}
