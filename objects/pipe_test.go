package objects

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestPipe(t *testing.T) {
	// Everything written arrives in order, then EOF.
	p := newPipe(2)
	var want bytes.Buffer
	go func() {
		for i := range 100 {
			b := bytes.Repeat([]byte{byte(i)}, 1000+i)
			p.Write(b)
		}
		p.CloseWrite(nil)
	}()
	for i := range 100 {
		want.Write(bytes.Repeat([]byte{byte(i)}, 1000+i))
	}
	got, err := io.ReadAll(p)
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("read %d bytes of %d: %v", len(got), want.Len(), err)
	}

	// The writer's error reaches the reader after the data.
	p = newPipe(2)
	bad := errors.New("body cut")
	p.Write([]byte("abc"))
	p.CloseWrite(bad)
	got, err = io.ReadAll(p)
	if string(got) != "abc" || !errors.Is(err, bad) {
		t.Fatalf("after a failed write: %q %v", got, err)
	}

	// A reader that stops unblocks a writer waiting on a full pipe.
	p = newPipe(1)
	stop := errors.New("disk full")
	done := make(chan error)
	go func() {
		for {
			if _, err := p.Write([]byte("x")); err != nil {
				done <- err
				return
			}
		}
	}()
	p.CloseRead(stop)
	if err := <-done; !errors.Is(err, stop) {
		t.Fatalf("the writer saw %v", err)
	}
}

// WriteTo passes on what a Read left and every buffer after it, then the
// writer's error.
func TestPipeWriteTo(t *testing.T) {
	p := newPipe(2)
	bad := errors.New("body cut")
	var want bytes.Buffer
	go func() {
		for i := range 50 {
			p.Write(bytes.Repeat([]byte{byte(i)}, 700+i))
		}
		p.CloseWrite(bad)
	}()
	for i := range 50 {
		want.Write(bytes.Repeat([]byte{byte(i)}, 700+i))
	}
	head := make([]byte, 100)
	if _, err := io.ReadFull(p, head); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.Write(head)
	n, err := p.WriteTo(&got)
	if !bytes.Equal(got.Bytes(), want.Bytes()) || n != int64(want.Len()-100) || !errors.Is(err, bad) {
		t.Fatalf("wrote %d bytes (%d in all of %d): %v", n, got.Len(), want.Len(), err)
	}
}

// The ETag stage hashes exactly what it copies, whatever the reads' sizes,
// and reports the writer's failure.
func TestHashStage(t *testing.T) {
	for _, size := range []int{0, 1, hashBufferSize - 1, hashBufferSize, hashBufferSize + 1, 5*hashBufferSize + 12345} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		h := newHashStage()
		var out bytes.Buffer
		n, err := h.copy(&out, iotest.HalfReader(bytes.NewReader(data)))
		sum := newMD5() // outside FIPS enforcement, as the service's
		sum.Write(data)
		if err != nil || n != int64(size) || !bytes.Equal(out.Bytes(), data) || h.etag() != sum.sum() {
			t.Fatalf("%d bytes: copied %d, %v, etag %s", size, n, err, h.etag())
		}
	}
	// A body cut short by its transport fails: only io.EOF ends it.
	cut := io.MultiReader(bytes.NewReader(make([]byte, 1000)), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := newHashStage().copy(io.Discard, cut); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a body cut short: %v", err)
	}
	full := errors.New("disk full")
	h := newHashStage()
	if _, err := h.copy(failWriter{full}, bytes.NewReader(make([]byte, 3*hashBufferSize))); !errors.Is(err, full) {
		t.Fatalf("a failing writer: %v", err)
	}
	h.finish() // again: no effect
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
