package objects

import (
	"bytes"
	"errors"
	"io"
	"testing"
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
