package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// TestFrontier: for every tree of up to 40 leaves and every pruned prefix,
// the root, every inclusion proof of a leaf still kept, and the frontier of
// any later prefix, computed with the prefix known only by its frontier,
// are those of the whole tree.
func TestFrontier(t *testing.T) {
	var all [][]byte
	for i := range 40 {
		h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
		all = append(all, LeafHash(h[:]))
	}
	for n := 0; n <= len(all); n++ {
		whole := all[:n]
		for s := 0; s <= n; s++ {
			full := &tree{frontier: map[[2]uint64][]byte{}, leaves: whole}
			fr, err := full.frontierAt(uint64(s))
			if err != nil {
				t.Fatal(err)
			}
			pruned, err := newTree(uint64(s), fr, whole[s:])
			if err != nil {
				t.Fatal(err)
			}
			for size := s; size <= n; size++ {
				if r, err := pruned.root(uint64(size)); err != nil || !bytes.Equal(r, Root(whole[:size])) {
					t.Fatalf("n %d, pruned %d: root of %d: %v", n, s, size, err)
				}
			}
			for m := s; m < n; m++ {
				p, err := pruned.proof(uint64(m), uint64(n))
				if err != nil {
					t.Fatalf("n %d, pruned %d: proof of %d: %v", n, s, m, err)
				}
				want := InclusionProof(whole, m)
				if len(p) != len(want) {
					t.Fatalf("n %d, pruned %d: proof of %d has %d hashes, not %d", n, s, m, len(p), len(want))
				}
				for i := range p {
					if !bytes.Equal(p[i], want[i]) {
						t.Fatalf("n %d, pruned %d: proof of %d differs", n, s, m)
					}
				}
			}
			for later := s; later <= n; later++ {
				got, err := pruned.frontierAt(uint64(later))
				if err != nil {
					t.Fatalf("n %d, pruned %d: frontier at %d: %v", n, s, later, err)
				}
				want, _ := full.frontierAt(uint64(later))
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("n %d, pruned %d: frontier at %d differs", n, s, later)
					}
				}
			}
		}
	}
}
