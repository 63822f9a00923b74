package audit

import (
	"bytes"
	"crypto/sha256"
	"errors"
)

// The log's entries are also the leaves of an RFC 6962 Merkle tree (leaf i
// is entry i's stored hash), so one entry can be shown to be in a log of a
// given size and root with a logarithmic inclusion proof, and a later root
// shown to extend an earlier one with a consistency proof.
//
//	leaf hash  = SHA-256(0x00 || data)
//	node hash  = SHA-256(0x01 || left || right)
//	empty tree = SHA-256("")
//
// The split of n leaves is at the largest power of two below n (k < n <= 2k).

// LeafHash is the RFC 6962 hash of a leaf.
func LeafHash(data []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

func nodeHash(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// split is the largest power of two strictly below n, for n >= 2.
func split(n int) int {
	k := 1
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// Root is the Merkle tree hash of the leaves' hashes.
func Root(leaves [][]byte) []byte {
	if len(leaves) == 0 {
		h := sha256.Sum256(nil)
		return h[:]
	}
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := split(len(leaves))
	return nodeHash(Root(leaves[:k]), Root(leaves[k:]))
}

// InclusionProof is the audit path of leaf i among leaves (RFC 6962 §2.1.1).
func InclusionProof(leaves [][]byte, i int) [][]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if i < k {
		return append(InclusionProof(leaves[:k], i), Root(leaves[k:]))
	}
	return append(InclusionProof(leaves[k:], i-k), Root(leaves[:k]))
}

// VerifyInclusion checks that leaf (a leaf hash) is leaf i of a tree of
// size n with the given root.
func VerifyInclusion(leaf []byte, i, n int, proof [][]byte, root []byte) error {
	if i < 0 || i >= n {
		return errors.New("audit: the index is outside the tree")
	}
	got, rest, err := climb(leaf, i, n, proof)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("audit: the proof is too long")
	}
	if !bytes.Equal(got, root) {
		return errors.New("audit: the proof does not lead to the root")
	}
	return nil
}

// climb recomputes the root of a tree of n leaves from leaf i and its
// path, consuming the path from its end (the top of the tree).
func climb(leaf []byte, i, n int, proof [][]byte) ([]byte, [][]byte, error) {
	if n == 1 {
		return leaf, proof, nil
	}
	if len(proof) == 0 {
		return nil, nil, errors.New("audit: the proof is too short")
	}
	sib, rest := proof[len(proof)-1], proof[:len(proof)-1]
	k := split(n)
	if i < k {
		h, rest, err := climb(leaf, i, k, rest)
		if err != nil {
			return nil, nil, err
		}
		return nodeHash(h, sib), rest, nil
	}
	h, rest, err := climb(leaf, i-k, n-k, rest)
	if err != nil {
		return nil, nil, err
	}
	return nodeHash(sib, h), rest, nil
}

// ConsistencyProof shows that the first m leaves are a prefix of leaves
// (RFC 6962 §2.1.2).
func ConsistencyProof(leaves [][]byte, m int) [][]byte {
	if m <= 0 || m >= len(leaves) {
		return nil
	}
	return subproof(leaves, m, true)
}

func subproof(leaves [][]byte, m int, complete bool) [][]byte {
	n := len(leaves)
	if m == n {
		if complete {
			return nil
		}
		return [][]byte{Root(leaves)}
	}
	k := split(n)
	if m <= k {
		return append(subproof(leaves[:k], m, complete), Root(leaves[k:]))
	}
	return append(subproof(leaves[k:], m-k, false), Root(leaves[:k]))
}

// VerifyConsistency checks that a tree of size m and root oldRoot is a
// prefix of the tree of size n and root newRoot. It recomputes both roots
// from the proof, following the proof's construction.
func VerifyConsistency(m, n int, oldRoot, newRoot []byte, proof [][]byte) error {
	switch {
	case m < 0 || m > n:
		return errors.New("audit: the sizes are not in order")
	case m == n:
		if len(proof) != 0 || !bytes.Equal(oldRoot, newRoot) {
			return errors.New("audit: equal sizes need equal roots and no proof")
		}
		return nil
	case m == 0:
		return nil // the empty tree is a prefix of every tree
	}
	o, nw, rest, err := consistent(m, n, true, oldRoot, proof)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("audit: the proof is too long")
	}
	if !bytes.Equal(o, oldRoot) || !bytes.Equal(nw, newRoot) {
		return errors.New("audit: the proof does not lead to both roots")
	}
	return nil
}

// consistent mirrors subproof: it returns the old and the new root of the
// subtree, consuming the proof from its end.
func consistent(m, n int, complete bool, oldRoot []byte, proof [][]byte) (o, nw []byte, rest [][]byte, err error) {
	if m == n {
		if complete {
			return oldRoot, oldRoot, proof, nil
		}
		if len(proof) == 0 {
			return nil, nil, nil, errors.New("audit: the proof is too short")
		}
		h := proof[len(proof)-1]
		return h, h, proof[:len(proof)-1], nil
	}
	if len(proof) == 0 {
		return nil, nil, nil, errors.New("audit: the proof is too short")
	}
	sib, rest := proof[len(proof)-1], proof[:len(proof)-1]
	k := split(n)
	if m <= k {
		o, nw, rest, err := consistent(m, k, complete, oldRoot, rest)
		if err != nil {
			return nil, nil, nil, err
		}
		return o, nodeHash(nw, sib), rest, nil
	}
	o, nw, rest, err = consistent(m-k, n-k, false, oldRoot, rest)
	if err != nil {
		return nil, nil, nil, err
	}
	return nodeHash(sib, o), nodeHash(sib, nw), rest, nil
}
