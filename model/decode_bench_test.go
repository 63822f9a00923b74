package model

import (
	jsonv2 "encoding/json/v2"
	"fmt"
	"strings"
	"testing"
)

// batchPutBody is a full BatchPutPropertyValues body: 10 entries of 10
// values, as the SDK writes it.
func batchPutBody() []byte {
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
	return []byte(sb.String())
}

// BenchmarkDecodeBatchPut decodes a full BatchPutPropertyValues body the
// way the API does.
func BenchmarkDecodeBatchPut(b *testing.B) {
	body := batchPutBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var in BatchPutPropertyValuesInput
		if err := jsonv2.Unmarshal(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}
