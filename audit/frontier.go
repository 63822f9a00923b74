package audit

import "errors"

// Retention removes the oldest entries, but checkpoints signed before must
// still be the history of the log after: the tree keeps all its leaves,
// the removed ones standing for themselves through the frontier — the
// hashes of the complete subtrees that make up the first Size leaves, the
// largest aligned power-of-two blocks from the left, one for each set bit
// of Size, biggest first. Every subtree an RFC 6962 root or inclusion proof
// of a leaf at or past Size needs inside the removed part is one of them
// (a sibling of the path to such a leaf covers the block for a set bit of
// Size), and subtrees that straddle Size split into one of them and leaves
// still stored.

// tree is a Merkle tree whose first size leaves are known by the frontier
// and whose later ones, from size on, are in leaves.
type tree struct {
	size     uint64
	frontier map[[2]uint64][]byte // (start, length) -> subtree hash
	leaves   [][]byte
}

var errFrontier = errors.New("audit: the tree needs a subtree the pruned log does not keep")

// frontierBlocks lists the (start, length) of the frontier of size leaves.
func frontierBlocks(size uint64) [][2]uint64 {
	var out [][2]uint64
	start := uint64(0)
	for bit := uint64(1) << 63; bit > 0; bit >>= 1 {
		if size&bit != 0 {
			out = append(out, [2]uint64{start, bit})
			start += bit
		}
	}
	return out
}

func newTree(size uint64, frontier [][]byte, leaves [][]byte) (*tree, error) {
	blocks := frontierBlocks(size)
	if len(blocks) != len(frontier) {
		return nil, errors.New("audit: the log's base does not hold the frontier of its pruned entries")
	}
	t := &tree{size: size, frontier: map[[2]uint64][]byte{}, leaves: leaves}
	for i, b := range blocks {
		t.frontier[b] = frontier[i]
	}
	return t, nil
}

// n is the number of leaves in the whole tree.
func (t *tree) n() uint64 { return t.size + uint64(len(t.leaves)) }

// hash is the Merkle tree hash of leaves [a, b).
func (t *tree) hash(a, b uint64) ([]byte, error) {
	if a >= t.size {
		return Root(t.leaves[a-t.size : b-t.size]), nil
	}
	if h, ok := t.frontier[[2]uint64{a, b - a}]; ok {
		return h, nil
	}
	if b-a == 1 {
		return nil, errFrontier // a removed leaf, not a block of its own
	}
	k := uint64(split(int(b - a)))
	l, err := t.hash(a, a+k)
	if err != nil {
		return nil, err
	}
	r, err := t.hash(a+k, b)
	if err != nil {
		return nil, err
	}
	return nodeHash(l, r), nil
}

// root is the hash of the first n leaves.
func (t *tree) root(n uint64) ([]byte, error) {
	if n == 0 {
		return Root(nil), nil
	}
	return t.hash(0, n)
}

// proof is the audit path of leaf m (at or past size) in the first n
// leaves (RFC 6962 §2.1.1).
func (t *tree) proof(m, n uint64) ([][]byte, error) {
	return t.path(m, 0, n)
}

func (t *tree) path(m, a, b uint64) ([][]byte, error) {
	if b-a <= 1 {
		return nil, nil
	}
	k := uint64(split(int(b - a)))
	if m < a+k {
		p, err := t.path(m, a, a+k)
		if err != nil {
			return nil, err
		}
		h, err := t.hash(a+k, b)
		return append(p, h), err
	}
	p, err := t.path(m, a+k, b)
	if err != nil {
		return nil, err
	}
	h, err := t.hash(a, a+k)
	return append(p, h), err
}

// frontierAt is the frontier of the first size leaves (size at least the
// tree's own), for a base that prunes up to there.
func (t *tree) frontierAt(size uint64) ([][]byte, error) {
	var out [][]byte
	for _, b := range frontierBlocks(size) {
		h, err := t.hash(b[0], b[0]+b[1])
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}
