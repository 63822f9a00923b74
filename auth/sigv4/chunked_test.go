package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// The chunked-upload example of the S3 documentation ("Signature
// Calculations for the Authorization Header: Transferring Payload in
// Multiple Chunks"): 66,560 bytes of 'a' in chunks of 64 KiB and 1 KiB.
const (
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	exampleSeed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	exampleSig1   = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
	exampleSig2   = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
	exampleSig3   = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
)

func exampleBody(sig1, sig2, sig3 string, data1, data2 []byte) []byte {
	var b bytes.Buffer
	b.WriteString("10000;chunk-signature=" + sig1 + "\r\n")
	b.Write(data1)
	b.WriteString("\r\n400;chunk-signature=" + sig2 + "\r\n")
	b.Write(data2)
	b.WriteString("\r\n0;chunk-signature=" + sig3 + "\r\n\r\n")
	return b.Bytes()
}

func exampleRequest(t *testing.T, body []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest("PUT", "https://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("X-Amz-Content-Sha256", StreamingSigned)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
		"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"+
		"Signature="+exampleSeed)
	return r
}

func exampleVerifier() *Verifier {
	return &Verifier{Region: "us-east-1", Services: []string{"s3"},
		Lookup: func(context.Context, string) (Key, error) { return Key{Secret: []byte(exampleSecret)}, nil },
		Now:    func() time.Time { return time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC) }}
}

// TestChunkedExample verifies the documentation's example byte for byte,
// and refuses it with any chunk or signature changed.
func TestChunkedExample(t *testing.T) {
	data1, data2 := bytes.Repeat([]byte("a"), 65536), bytes.Repeat([]byte("a"), 1024)
	body := exampleBody(exampleSig1, exampleSig2, exampleSig3, data1, data2)
	if len(body) != 66824 {
		t.Fatalf("the example body is %d bytes, the documentation's 66824", len(body))
	}
	// The request is signed for the example's headers (its Content-Length
	// among them); the body read through it is what a client sent.
	read := func(sent []byte) ([]byte, error) {
		r := exampleRequest(t, body)
		res, err := exampleVerifier().Verify(r, nil)
		if err != nil {
			return nil, err
		}
		if res.Payload != StreamingSigned {
			t.Fatalf("payload mode %q", res.Payload)
		}
		cr, err := res.Chunks(r, bytes.NewReader(sent))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(cr)
	}
	got, err := read(body)
	if err != nil || !bytes.Equal(got, append(data1, data2...)) {
		t.Fatalf("the example: %d bytes, %v", len(got), err)
	}
	changed := bytes.Clone(data2)
	changed[10] = 'b'
	for name, bad := range map[string][]byte{
		"a changed byte":       exampleBody(exampleSig1, exampleSig2, exampleSig3, data1, changed),
		"a changed signature":  exampleBody(exampleSig1, exampleSig1, exampleSig3, data1, data2),
		"no final chunk":       exampleBody(exampleSig1, exampleSig2, exampleSig3, data1, data2)[:66824-88],
		"the chunks reordered": exampleBody(exampleSig2, exampleSig1, exampleSig3, data1, data2),
		"a wrong final chunk":  exampleBody(exampleSig1, exampleSig2, exampleSig2, data1, data2),
	} {
		if _, err := read(bad); !errors.Is(err, ErrChunk) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestUnsignedTrailer decodes the body the current SDKs send over TLS:
// unsigned chunks and a CRC32 in a trailer, which must match.
func TestUnsignedTrailer(t *testing.T) {
	data := []byte(strings.Repeat("scene-", 5000))
	sum := crc32.ChecksumIEEE(data)
	crc := base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	mk := func(crc string) []byte {
		var b bytes.Buffer
		b.WriteString("4000\r\n")
		b.Write(data[:0x4000])
		b.WriteString("\r\n")
		b.WriteString(strings.ToLower(strconvHex(len(data)-0x4000)) + "\r\n")
		b.Write(data[0x4000:])
		b.WriteString("\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n")
		return b.Bytes()
	}
	res := &Result{Payload: StreamingUnsignedTrailer, stream: &streamState{}}
	r, _ := http.NewRequest("PUT", "https://localhost/b/k", nil)
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	cr, err := res.Chunks(r, bytes.NewReader(mk(crc)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(cr)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	cr, _ = res.Chunks(r, bytes.NewReader(mk("AAAAAA==")))
	if _, err := io.ReadAll(cr); !errors.Is(err, ErrChunk) {
		t.Fatalf("a wrong checksum: %v", err)
	}
}

// A transport that fails (a read deadline, a client gone) at any point of
// a chunked body, in a chunk header, in its data or at its CRLF, fails the
// read with that error, not as a malformed body; a body that just ends is
// malformed.
func TestChunksPassTransportErrors(t *testing.T) {
	body := []byte("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n")
	r, _ := http.NewRequest("PUT", "https://localhost/b/k", nil)
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	for cut := range len(body) {
		for _, fail := range []error{os.ErrDeadlineExceeded, nil} {
			res := &Result{Payload: StreamingUnsignedTrailer, stream: &streamState{}}
			var rd io.Reader = bytes.NewReader(body[:cut])
			if fail != nil {
				rd = io.MultiReader(rd, iotest.ErrReader(fail))
			}
			cr, err := res.Chunks(r, iotest.OneByteReader(rd))
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(cr)
			if fail != nil && (!errors.Is(err, fail) || errors.Is(err, ErrChunk)) {
				t.Fatalf("cut at %d by %v: %v", cut, fail, err)
			}
			if fail == nil && !errors.Is(err, ErrChunk) {
				t.Fatalf("ended at %d: %v", cut, err)
			}
		}
	}
}

func strconvHex(n int) string { return strings.ToUpper(hexInt(n)) }

func hexInt(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%16]}, b...)
		n /= 16
	}
	return string(b)
}

// FuzzChunks: any body ends in data that verified or in ErrChunk, never a
// panic or a hang.
func FuzzChunks(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"))
	f.Add([]byte("ffffffff\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		res := &Result{Payload: StreamingUnsignedTrailer, stream: &streamState{}}
		r, _ := http.NewRequest("PUT", "https://localhost/b/k", nil)
		r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		cr, err := res.Chunks(r, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(cr); err != nil && !errors.Is(err, ErrChunk) {
			t.Fatalf("error %v is not ErrChunk", err)
		}
	})
}

// TestSignedTrailer: signed chunks followed by a signed CRC32C trailer, the
// signatures computed here as the S3 documentation describes them.
func TestSignedTrailer(t *testing.T) {
	key := []byte("a-signing-key-of-32-bytes-length")
	st := &streamState{key: key, amzDate: "20260101T000000Z", scope: "20260101/us-east-1/s3/aws4_request", seed: strings.Repeat("a", 64)}
	data := []byte(strings.Repeat("model-", 3000))
	sign := func(prev string, chunk []byte) string {
		h := sha256Hex(chunk)
		return hexOf(hmacSHA256(key, "AWS4-HMAC-SHA256-PAYLOAD\n"+st.amzDate+"\n"+st.scope+"\n"+prev+"\n"+emptySHA256+"\n"+h))
	}
	s1 := sign(st.seed, data)
	s2 := sign(s1, nil)
	crc := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	value := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	trailer := "x-amz-checksum-crc32c:" + value
	tsig := hexOf(hmacSHA256(key, "AWS4-HMAC-SHA256-TRAILER\n"+st.amzDate+"\n"+st.scope+"\n"+s2+"\n"+sha256Hex([]byte(trailer+"\n"))))
	body := func(tsig string) []byte {
		return []byte(hexInt(len(data)) + ";chunk-signature=" + s1 + "\r\n" + string(data) + "\r\n0;chunk-signature=" + s2 + "\r\n" +
			trailer + "\r\nx-amz-trailer-signature:" + tsig + "\r\n\r\n")
	}
	res := &Result{Payload: StreamingSignedTrailer, stream: st}
	r, _ := http.NewRequest("PUT", "https://localhost/b/k", nil)
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
	cr, _ := res.Chunks(r, bytes.NewReader(body(tsig)))
	if got, err := io.ReadAll(cr); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	cr, _ = res.Chunks(r, bytes.NewReader(body(s1)))
	if _, err := io.ReadAll(cr); !errors.Is(err, ErrChunk) {
		t.Fatalf("a wrong trailer signature: %v", err)
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hexOf(h[:])
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }
