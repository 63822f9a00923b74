package parser

import "testing"

func BenchmarkParse(b *testing.B) {
	n := 0
	for _, ex := range examples {
		n += len(ex.query)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, ex := range examples {
			if _, err := Parse(ex.query); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkString(b *testing.B) {
	var qs []*Query
	for _, ex := range examples {
		q, err := Parse(ex.query)
		if err != nil {
			b.Fatal(err)
		}
		qs = append(qs, q)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, q := range qs {
			_ = q.String()
		}
	}
}
