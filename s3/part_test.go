package s3

import (
	"bytes"
	"context"
	"io"
	"testing"
	"testing/iotest"
)

// TestReadPart: a part is read whole whatever the reader's pace, the
// buffer grows only as bytes come, and the end of the body is seen.
func TestReadPart(t *testing.T) {
	const size = 200 << 10
	for _, n := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, size - 1, size, size + 1, 3 * size} {
		body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		for _, r := range []io.Reader{bytes.NewReader(body), iotest.OneByteReader(bytes.NewReader(body)), iotest.HalfReader(bytes.NewReader(body))} {
			got, last, err := readPart(context.Background(), r, size)
			if err != nil {
				t.Fatal(err)
			}
			want := body[:min(n, size)]
			if !bytes.Equal(got, want) || last != (n < size) {
				t.Errorf("%d bytes: read %d, last %v", n, len(got), last)
			}
			if cap(got) > max(2*len(got), 64<<10) && cap(got) > size {
				t.Errorf("%d bytes: a buffer of %d", n, cap(got))
			}
		}
	}
	if _, _, err := readPart(context.Background(), iotest.ErrReader(io.ErrUnexpectedEOF), size); err != io.ErrUnexpectedEOF {
		t.Errorf("a failing reader: %v", err)
	}
}
