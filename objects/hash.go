package objects

import (
	"errors"
	"io"
	"sync"
)

// hashStage computes a body's ETag beside its sealing without copying it:
// the sealer lends each buffer it reads to the hashing goroutine and takes
// buffers only from those already hashed. MD5 runs at about one core's
// worth of a fast upload, so it gets a core of its own.
type hashStage struct {
	sum  *md5Hash
	todo chan []byte // read, waiting to be hashed
	free chan []byte // hashed: the sealer may read into them again
	done chan struct{}
	once sync.Once
}

const (
	hashBuffers    = 4
	hashBufferSize = 256 << 10
)

func newHashStage() *hashStage {
	h := &hashStage{sum: newMD5(), todo: make(chan []byte, hashBuffers), free: make(chan []byte, hashBuffers), done: make(chan struct{})}
	for range hashBuffers {
		h.free <- make([]byte, hashBufferSize)
	}
	go func() {
		defer close(h.done)
		for b := range h.todo {
			h.sum.Write(b)
			h.free <- b[:cap(b)]
		}
	}()
	return h
}

// copy writes r into w to its end, hashing what it reads.
func (h *hashStage) copy(w io.Writer, r io.Reader) (int64, error) {
	defer h.finish()
	var n int64
	for {
		buf := <-h.free
		k, err := io.ReadFull(r, buf)
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
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return n, nil
		case err != nil:
			return n, err
		}
	}
}

// finish waits for the hashing to end; the sum is then complete.
func (h *hashStage) finish() {
	h.once.Do(func() {
		close(h.todo)
		<-h.done
	})
}

// etag is the MD5 of what copy read, in hex; call it after finish.
func (h *hashStage) etag() string { return h.sum.sum() }
