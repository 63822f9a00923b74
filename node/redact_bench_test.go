package node

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/model"
)

// BenchmarkRedactBatchPut redacts the parameters of a full
// BatchPutPropertyValues request: 10 entries of 10 values.
func BenchmarkRedactBatchPut(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"entries":[`)
	for e := range 10 {
		if e > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"entityPropertyReference":{"componentName":"c","entityId":"e%d","propertyName":"p%d"},"propertyValues":[`, e, e)
		for v := range 10 {
			if v > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"time":"2026-11-27T10:00:%02dZ","value":{"doubleValue":%d.25}}`, v, 20+v)
		}
		sb.WriteString(`]}`)
	}
	sb.WriteString(`]}`)
	p := &api.RequestParams{Body: []byte(sb.String()), Extra: map[string]string{"workspaceId": "bench"}, Valid: true}
	b.Run("body", func(b *testing.B) {
		b.SetBytes(int64(len(p.Body)))
		for b.Loop() {
			redacted(p, true)
		}
	})
	// As the server does: from the input DecodeUsual read.
	var in model.BatchPutPropertyValuesInput
	if !in.DecodeUsual(p.Body) {
		b.Fatal("DecodeUsual declined the body")
	}
	d := *p
	d.Usual = &in
	b.Run("decoded", func(b *testing.B) {
		b.SetBytes(int64(len(d.Body)))
		for b.Loop() {
			redacted(&d, true)
		}
	})
}
