package objects

import (
	"io"
	"sync"
)

// hashStage computes a body's ETag beside its sealing without copying it:
// the sealer lends each buffer it reads to the hashing goroutine and takes
// buffers only from those already hashed. MD5 runs at about one core's
// worth of a fast upload, so it gets a core of its own.
type hashStage struct {
	sum   *md5Hash
	todo  chan []byte // read, waiting to be hashed
	free  chan []byte // hashed: the sealer may read into them again
	done  chan struct{}
	once  sync.Once
	taken []*[]byte // every buffer taken from the pool, back to it at the end
}

const (
	hashBuffers    = 4
	hashBufferSize = 256 << 10
)

// hashPool shares the stages' buffers between uploads, so a small body
// costs no more than one and an idle server keeps few.
var hashPool = sync.Pool{New: func() any { b := make([]byte, hashBufferSize); return &b }}

func newHashStage() *hashStage {
	h := &hashStage{sum: newMD5(), todo: make(chan []byte, hashBuffers), free: make(chan []byte, hashBuffers), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for b := range h.todo {
			h.sum.Write(b)
			h.free <- b[:cap(b)]
		}
	}()
	return h
}

// buffer returns a buffer to read into: a new one while fewer than
// hashBuffers were taken, else one the hasher is done with.
func (h *hashStage) buffer() []byte {
	select {
	case b := <-h.free:
		return b
	default:
	}
	if len(h.taken) < hashBuffers {
		p := hashPool.Get().(*[]byte)
		h.taken = append(h.taken, p)
		return *p
	}
	return <-h.free
}

// copy writes r into w to its end, hashing what it reads. Only io.EOF ends
// the body: any other error, io.ErrUnexpectedEOF included, fails it.
func (h *hashStage) copy(w io.Writer, r io.Reader) (int64, error) {
	defer h.finish()
	var n int64
	for {
		buf := h.buffer()
		k, err := fill(r, buf)
		if k > 0 {
			h.todo <- buf[:k]
			// w is done with buf when Write returns, before this loop
			// takes another buffer; so is the hasher when it frees it.
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		} else {
			h.free <- buf
		}
		switch {
		case err == io.EOF:
			return n, nil
		case err != nil:
			return n, err
		}
	}
}

// fill reads into buf until it is full or r ends or fails.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// finish waits for the hashing to end; the sum is then complete, and the
// buffers go back to the pool.
func (h *hashStage) finish() {
	h.once.Do(func() {
		close(h.todo)
		<-h.done
		for _, p := range h.taken {
			hashPool.Put(p)
		}
		h.taken = nil
	})
}

// etag is the MD5 of what copy read, in hex; call it after finish.
func (h *hashStage) etag() string { return h.sum.sum() }
