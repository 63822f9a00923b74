package barrier

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the valid-* seeds in testdata/fuzz/FuzzOpen")

const seedDir = "testdata/fuzz/FuzzOpen"

// fuzzAAD is the storage key the fuzz seeds were sealed for.
var fuzzAAD = []byte("v\x02ws\x00\x01\x02\x03\x04\x05\x06\x07entity/e1")

// fuzzKeys are fixed so that the committed seeds keep opening: versions 1
// and 2, version 2 active.
func fuzzKeys(tb testing.TB) *keys {
	tb.Helper()
	r := &record{active: 2, deks: []dek{
		{version: 1, key: bytes.Repeat([]byte{0x11}, keySize)},
		{version: 2, key: bytes.Repeat([]byte{0x22}, keySize)},
	}}
	k, err := newKeys(nil, r)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// validSeeds reads the seeds whose names start with "valid-": values sealed
// under fuzzKeys for fuzzAAD. Only these may open; the fuzzer's own
// findings are written under other names.
func validSeeds(tb testing.TB) map[string]bool {
	tb.Helper()
	ents, err := os.ReadDir(seedDir)
	if err != nil {
		tb.Fatal(err)
	}
	valid := map[string]bool{}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "valid-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(seedDir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		v, err := parseSeed(b)
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		valid[string(v)] = true
	}
	if len(valid) == 0 {
		tb.Fatal("no valid-* seeds")
	}
	return valid
}

// parseSeed reads a one-[]byte corpus file ("go test fuzz v1").
func parseSeed(b []byte) ([]byte, error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		return nil, errors.New("not a one-value corpus file")
	}
	q, ok := strings.CutPrefix(lines[1], "[]byte(")
	if ok {
		q, ok = strings.CutSuffix(q, ")")
	}
	if !ok {
		return nil, errors.New("not a []byte value")
	}
	s, err := strconv.Unquote(q)
	return []byte(s), err
}

func FuzzOpen(f *testing.F) {
	k := fuzzKeys(f)
	valid := validSeeds(f)
	for v := range valid {
		if _, err := k.open(fuzzAAD, []byte(v)); err != nil {
			f.Fatalf("a valid-* seed does not open: %v", err)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 1})
	f.Add(make([]byte, Overhead))
	f.Add(append([]byte{0, 0, 0, 2, 1}, make([]byte, 40)...))
	f.Add(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff}, make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		pt, err := k.open(fuzzAAD, data)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("error %v does not wrap ErrIntegrity", err)
			}
			return
		}
		if !valid[string(data)] {
			t.Fatalf("a value that was never sealed opened: %x", data)
		}
		if _, err := k.open(append(slices.Clone(fuzzAAD), 'x'), data); err == nil {
			t.Fatal("a valid value opened under another storage key")
		}
	})
}

// FuzzDecodeRecord checks the key record decoder, which only ever sees
// authenticated plaintext but must not panic on any input either.
func FuzzDecodeRecord(f *testing.F) {
	r := newRecord()
	f.Add(r.encode())
	r.deks = append(r.deks, dek{version: 7, key: make([]byte, keySize)})
	f.Add(r.encode())
	f.Add([]byte{recordFormat})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRecord(data)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encode(), data) {
			t.Fatal("decoded record does not encode back to its input")
		}
	})
}

// TestSeedMutations: every single-bit flip, truncation and extension of a
// valid seed fails to open.
func TestSeedMutations(t *testing.T) {
	k := fuzzKeys(t)
	for v := range validSeeds(t) {
		orig := []byte(v)
		for i := range len(orig) * 8 {
			m := slices.Clone(orig)
			m[i/8] ^= 1 << (i % 8)
			if _, err := k.open(fuzzAAD, m); !errors.Is(err, ErrIntegrity) {
				t.Fatalf("bit %d flipped: %v", i, err)
			}
		}
		for n := range len(orig) {
			if _, err := k.open(fuzzAAD, orig[:n]); !errors.Is(err, ErrIntegrity) {
				t.Fatalf("truncated to %d: %v", n, err)
			}
		}
		if _, err := k.open(fuzzAAD, append(slices.Clone(orig), 0)); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("extended: %v", err)
		}
	}
}

// TestWriteFuzzSeeds regenerates the valid-* seeds when run with
// -update-seeds (after a change to the value format or to fuzzKeys).
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the seeds")
	}
	k := fuzzKeys(t)
	seeds := []struct {
		name    string
		version uint32
		pt      []byte
	}{
		{"valid-v1-empty", 1, []byte{}},
		{"valid-v1-short", 1, []byte("temperature=21.5")},
		{"valid-v2-json", 2, []byte(`{"entityId":"e1","description":"pump"}`)},
		{"valid-v2-100B", 2, bytes.Repeat([]byte{0xa5}, 100)},
	}
	if err := os.MkdirAll(seedDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, v []byte) {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", v)
		if err := os.WriteFile(filepath.Join(seedDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range seeds {
		write(s.name, seal(k.aeads[s.version], s.version, fuzzAAD, s.pt))
	}
	// Near misses, to start the fuzzer close to the interesting edges.
	// Each is one change away from v, which is therefore a valid seed too.
	v := seal(k.aeads[2], 2, fuzzAAD, []byte("near miss"))
	write("valid-v2-near-miss", v)
	write("invalid-format", append([]byte{0, 0, 0, 2, 2}, v[headerSize:]...))
	write("invalid-version", append([]byte{0, 0, 0, 9, 1}, v[headerSize:]...))
	write("invalid-other-version", append([]byte{0, 0, 0, 1, 1}, v[headerSize:]...))
	write("invalid-other-key", seal(k.aeads[2], 2, []byte("v\x02ws\x00\x01\x02\x03\x04\x05\x06\x07entity/e2"), []byte("near miss")))
	write("invalid-header-only", v[:headerSize+nonceSize])
}
