package catalog

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"

	"github.com/twinvault/twinvault/barrier"
)

// Page tokens are opaque and tamper-proof: a token carries the storage key
// to resume after (itself built from blind indexes, so it reveals no name)
// and a MAC over it, the operation and its scope (workspace, filters). A
// token altered, or replayed on another operation or scope, is refused.
//
//	token = base64url( version(1) | len(after) uvarint | after | mac(16) )
//	mac   = sys.Index("page\x00" + scope + "\x00" + after)

const tokenVersion = 1

type pager struct {
	sys   *barrier.View
	scope string // operation, workspace and filters the token is bound to
	// legacy, if set, gives the scope an earlier release bound the same
	// request's tokens to, which decode also takes.
	legacy func() string
}

func (p pager) mac(after []byte) []byte {
	return p.sys.Index("page\x00" + p.scope + "\x00" + string(after))
}

func (p pager) encode(after []byte) string {
	if after == nil {
		return ""
	}
	b := []byte{tokenVersion}
	b = binary.AppendUvarint(b, uint64(len(after)))
	b = append(b, after...)
	b = append(b, p.mac(after)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decode returns the key to resume after; nil for the first page.
func (p pager) decode(token *string) ([]byte, error) {
	if token == nil || *token == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil || len(b) < 2 || b[0] != tokenVersion {
		return nil, invalid("nextToken is not valid for this request")
	}
	n, w := binary.Uvarint(b[1:])
	if w <= 0 || n > uint64(len(b)) || 1+w+int(n) > len(b) {
		return nil, invalid("nextToken is not valid for this request")
	}
	after := b[1+w : 1+w+int(n)]
	mac := b[1+w+int(n):]
	if !hmac.Equal(mac, p.mac(after)) && (p.legacy == nil || !hmac.Equal(mac, pager{sys: p.sys, scope: p.legacy()}.mac(after))) {
		return nil, invalid("nextToken is not valid for this request")
	}
	return bytes.Clone(after), nil
}

// pageSize applies TwinMaker's default page size when maxResults is absent
// or zero.
func pageSize(maxResults *int32, def int) int {
	if maxResults == nil || *maxResults <= 0 {
		return def
	}
	return int(*maxResults)
}
