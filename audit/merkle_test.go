package audit

import (
	"encoding/hex"
	"strings"
	"testing"
)

// The RFC 6962 test leaves and the roots of their first n, as published
// with the reference implementations.
var (
	vectorLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	vectorRoots  = []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
)

func vectorHashes(t *testing.T) [][]byte {
	var out [][]byte
	for _, l := range vectorLeaves {
		b, err := hex.DecodeString(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, LeafHash(b))
	}
	return out
}

func TestRootVectors(t *testing.T) {
	leaves := vectorHashes(t)
	for n, want := range vectorRoots {
		if got := hex.EncodeToString(Root(leaves[:n])); got != want {
			t.Errorf("root of %d leaves: %s, want %s", n, got, want)
		}
	}
}

func TestInclusionProofs(t *testing.T) {
	leaves := vectorHashes(t)
	for n := 1; n <= len(leaves); n++ {
		root := Root(leaves[:n])
		for i := range n {
			proof := InclusionProof(leaves[:n], i)
			if err := VerifyInclusion(leaves[i], i, n, proof, root); err != nil {
				t.Fatalf("leaf %d of %d: %v", i, n, err)
			}
			// Another leaf, another index, a changed step or a cut proof fail.
			if VerifyInclusion(leaves[(i+1)%len(leaves)], i, n, proof, root) == nil && n > 1 {
				t.Errorf("leaf %d of %d: a wrong leaf verified", i, n)
			}
			if n > 1 && VerifyInclusion(leaves[i], (i+1)%n, n, proof, root) == nil && leaves[i] != nil {
				t.Errorf("leaf %d of %d: a wrong index verified", i, n)
			}
			if len(proof) > 0 {
				bad := append([][]byte(nil), proof...)
				bad[0] = LeafHash([]byte("x"))
				if VerifyInclusion(leaves[i], i, n, bad, root) == nil {
					t.Errorf("leaf %d of %d: a changed proof verified", i, n)
				}
				if VerifyInclusion(leaves[i], i, n, proof[1:], root) == nil {
					t.Errorf("leaf %d of %d: a cut proof verified", i, n)
				}
			}
		}
	}
}

func TestConsistencyProofs(t *testing.T) {
	leaves := vectorHashes(t)
	for n := 1; n <= len(leaves); n++ {
		for m := 1; m <= n; m++ {
			proof := ConsistencyProof(leaves[:n], m)
			if err := VerifyConsistency(m, n, Root(leaves[:m]), Root(leaves[:n]), proof); err != nil {
				t.Fatalf("%d of %d: %v", m, n, err)
			}
			if m < n {
				if VerifyConsistency(m, n, Root(leaves[1:m+1]), Root(leaves[:n]), proof) == nil {
					t.Errorf("%d of %d: a wrong old root verified", m, n)
				}
				if VerifyConsistency(m, n, Root(leaves[:m]), LeafHash([]byte("x")), proof) == nil {
					t.Errorf("%d of %d: a wrong new root verified", m, n)
				}
			}
		}
	}
	// The published proof sizes: from 1 to 8 leaves takes 3 hashes, from 6
	// to 8 takes 3, from 2 to 5 takes 2.
	for _, c := range []struct{ m, n, size int }{{1, 8, 3}, {6, 8, 3}, {2, 5, 2}} {
		if got := len(ConsistencyProof(leaves[:c.n], c.m)); got != c.size {
			t.Errorf("consistency %d→%d: %d hashes, want %d", c.m, c.n, got, c.size)
		}
	}
}

// TestCheckpoints: a signed checkpoint opens with the public key; an
// entry is proven in it; a later checkpoint is proven to extend it; a
// checkpoint with a changed body, or checked with another key, fails.
func TestCheckpoints(t *testing.T) {
	l, _ := newLog(t)
	ctx := t.Context()
	fill(t, l, 5)
	vkey, err := l.PublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp1, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size1, root1, err := OpenCheckpoint(cp1, vkey)
	if err != nil || size1 != 9 {
		t.Fatalf("checkpoint: %d, %v", size1, err)
	}
	leaves, _ := l.Leaves(ctx, size1)
	for i := range size1 {
		if err := VerifyInclusion(leaves[i], i, size1, InclusionProof(leaves, i), root1); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	fill(t, l, 3)
	cp2, _ := l.Checkpoint(ctx)
	size2, root2, err := OpenCheckpoint(cp2, vkey)
	if err != nil || size2 != 14 {
		t.Fatalf("second checkpoint: %d, %v", size2, err)
	}
	all, _ := l.Leaves(ctx, -1)
	if err := VerifyConsistency(size1, size2, root1, root2, ConsistencyProof(all, size1)); err != nil {
		t.Fatalf("consistency: %v", err)
	}
	forged := []byte(strings.Replace(string(cp1), "\n9\n", "\n8\n", 1))
	if _, _, err := OpenCheckpoint(forged, vkey); err == nil {
		t.Error("a changed checkpoint opened")
	}
	other, _ := newLog(t)
	okey, _ := other.PublicKey(ctx)
	if _, _, err := OpenCheckpoint(cp1, okey); err == nil {
		t.Error("a checkpoint opened with another log's key")
	}
}
