package sigv4

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// S3's chunked payloads (Content-Encoding: aws-chunked). The body is a
// series of chunks, the last one empty, each
//
//	hex-size [";chunk-signature=" sig] CRLF data CRLF
//
// and, in the trailer modes, trailing headers after the last chunk
// ("x-amz-checksum-crc32:…" lines, then "x-amz-trailer-signature:…" when
// signed), then an empty line. In the signed modes each chunk's signature
// chains from the previous one, starting at the request's (seed) signature:
//
//	AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n previous \n SHA-256("") \n SHA-256(data)
//
// and the trailer's from the last chunk's:
//
//	AWS4-HMAC-SHA256-TRAILER \n date \n scope \n previous \n SHA-256(trailer lines)

// The streaming modes.
const (
	StreamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

var streamingModes = map[string]bool{StreamingSigned: true, StreamingSignedTrailer: true, StreamingUnsignedTrailer: true}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// maxChunk bounds one chunk's size: S3's largest single upload. Chunk data
// streams through, never buffered, and unsigned-payload clients send a
// whole part as one chunk.
const maxChunk = 5 << 30

type streamState struct {
	key            []byte
	amzDate, scope string
	seed           string
}

// ErrChunk reports a chunked body that is malformed or whose signatures or
// checksum do not verify; what was read before it must be discarded.
var ErrChunk = errors.New("sigv4: chunked payload invalid")

// ChunkError is an ErrChunk with what was wrong, fit for the client.
type ChunkError struct{ Reason string }

func (e *ChunkError) Error() string        { return ErrChunk.Error() + ": " + e.Reason }
func (e *ChunkError) Is(target error) bool { return target == ErrChunk }

func chunkErr(format string, args ...any) error {
	return &ChunkError{Reason: fmt.Sprintf(format, args...)}
}

// Chunks returns the decoded body of a streaming request, checking every
// chunk signature (signed modes) and the trailing checksum the request
// announced in x-amz-trailer, as the data is read. The reader ends with
// io.EOF only once everything verified.
func (res *Result) Chunks(r *http.Request, body io.Reader) (io.Reader, error) {
	if res.stream == nil {
		return nil, errors.New("sigv4: not a streaming request")
	}
	c := &chunkReader{r: bufio.NewReaderSize(body, 64<<10), st: res.stream, prev: res.stream.seed,
		signed: res.Payload != StreamingUnsignedTrailer, trailer: res.Payload != StreamingSigned}
	if c.trailer {
		name := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Amz-Trailer")))
		switch name {
		case "x-amz-checksum-crc32":
			c.sum = crc32.NewIEEE()
		case "x-amz-checksum-crc32c":
			c.sum = crc32.New(crc32.MakeTable(crc32.Castagnoli))
		case "x-amz-checksum-sha256":
			c.sum = sha256.New()
		case "":
			return nil, chunkErr("x-amz-trailer names no checksum")
		default:
			return nil, chunkErr("the trailing checksum %q is not supported", clean(name))
		}
		c.sumName = name
	}
	return c, nil
}

type chunkReader struct {
	r        *bufio.Reader
	st       *streamState
	prev     string
	signed   bool
	trailer  bool
	sum      hash.Hash
	sumName  string
	left     int // of the current chunk's data
	chunkSig string
	data     hash.Hash // SHA-256 of the current chunk, signed modes
	done     bool
	err      error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			c.err = err
			return 0, err
		}
	}
	n, err := c.r.Read(p[:min(len(p), c.left)])
	c.left -= n
	if c.data != nil {
		c.data.Write(p[:n])
	}
	if c.sum != nil {
		c.sum.Write(p[:n])
	}
	if c.left == 0 && err == nil {
		err = c.endChunk()
	}
	if ended(err) {
		err = chunkErr("the body ended inside a chunk")
	}
	if err != nil {
		c.err = err
		return n, err
	}
	return n, nil
}

// line reads one CRLF-terminated line.
func (c *chunkReader) line() (string, error) {
	s, err := c.r.ReadString('\n')
	if ended(err) {
		return "", chunkErr("the body ended early")
	}
	if err != nil {
		return "", err // the transport's: a timeout, a client gone
	}
	if !strings.HasSuffix(s, "\r\n") || len(s) > 4096 {
		return "", chunkErr("a line is not CRLF-terminated")
	}
	return s[:len(s)-2], nil
}

// next reads a chunk header; the last (empty) chunk also ends the body.
func (c *chunkReader) next() error {
	hdr, err := c.line()
	if err != nil {
		return err
	}
	size, ext, _ := strings.Cut(hdr, ";")
	n, err := strconv.ParseUint(size, 16, 64)
	if err != nil || n > maxChunk {
		return chunkErr("a chunk size is not valid")
	}
	c.chunkSig = ""
	if c.signed {
		sig, ok := strings.CutPrefix(ext, "chunk-signature=")
		if !ok || !isHex64(sig) {
			return chunkErr("a chunk has no signature")
		}
		c.chunkSig = sig
		c.data = sha256.New()
	}
	c.left = int(n)
	if n == 0 {
		if err := c.checkChunk(); err != nil {
			return err
		}
		c.done = true
		if c.trailer {
			return c.readTrailer()
		}
		if _, err := c.line(); err != nil { // the final CRLF
			return err
		}
		return nil
	}
	return nil
}

// endChunk checks the CRLF after a chunk's data and its signature.
func (c *chunkReader) endChunk() error {
	crlf := make([]byte, 2)
	_, err := io.ReadFull(c.r, crlf)
	switch {
	case err != nil && !ended(err):
		return err // the transport's
	case err != nil || string(crlf) != "\r\n":
		return chunkErr("a chunk is not followed by CRLF")
	}
	return c.checkChunk()
}

// ended reports whether err is the body's end, as opposed to a failure of
// the transport (a timeout, a client gone), which is passed on as it is.
func ended(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

func (c *chunkReader) checkChunk() error {
	if !c.signed {
		return nil
	}
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.st.amzDate + "\n" + c.st.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(c.data.Sum(nil))
	want := hex.EncodeToString(hmacSHA256(c.st.key, sts))
	if !hmac.Equal([]byte(want), []byte(c.chunkSig)) {
		return chunkErr("a chunk signature does not match")
	}
	c.prev = c.chunkSig
	return nil
}

// readTrailer reads the trailing headers, checks the checksum and, when
// signed, the trailer's signature.
func (c *chunkReader) readTrailer() error {
	var lines []string
	var sig, value string
	for {
		l, err := c.line()
		if err != nil {
			return err
		}
		if l == "" {
			break
		}
		name, v, ok := strings.Cut(l, ":")
		if !ok {
			return chunkErr("a trailing header is malformed")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "x-amz-trailer-signature":
			sig = strings.TrimSpace(v)
		case c.sumName:
			value = strings.TrimSpace(v)
			lines = append(lines, name+":"+value)
		default:
			return chunkErr("an unexpected trailing header")
		}
	}
	if value == "" {
		return chunkErr("the trailing checksum is missing")
	}
	if got := base64.StdEncoding.EncodeToString(c.sum.Sum(nil)); got != value {
		return chunkErr("the content does not match its %s", c.sumName)
	}
	if c.signed {
		h := sha256.Sum256([]byte(strings.Join(lines, "\n") + "\n"))
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.st.amzDate + "\n" + c.st.scope + "\n" + c.prev + "\n" + hex.EncodeToString(h[:])
		want := hex.EncodeToString(hmacSHA256(c.st.key, sts))
		if !hmac.Equal([]byte(want), []byte(sig)) {
			return chunkErr("the trailer signature does not match")
		}
	}
	return nil
}
