package catalog

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twinvault/twinvault/model"
)

// TestPlainPoint checks the short path of BatchPut's point checks against
// the full checks: whatever it accepts, they accept with the same time, and
// it accepts the usual point of every scalar type.
func TestPlainPoint(t *testing.T) {
	types := []model.Type{model.TypeDouble, model.TypeString, model.TypeInteger, model.TypeLong, model.TypeBoolean,
		model.TypeList, model.TypeMap, model.TypeRelationship, ""}
	times := []string{"2026-11-27T10:00:00Z", "2026-11-27T10:00:00.123456789+02:00", "1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z",
		"2026-11-27 10:00:00Z", "2026-11-27T10:00:00", "", "1678-01-01T00:00:00Z"}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(p float64) bool { return r.Float64() < p }
	accepted := map[model.Type]int{}
	for range 20000 {
		dt := &model.DataType{Type: types[r.IntN(len(types))]}
		if pick(.1) {
			dt.AllowedValues = []model.DataValue{{DoubleValue: new(model.Double(1))}, {StringValue: model.String("a")}}
		}
		if pick(.03) {
			dt = nil
		}
		pv := &model.PropertyValue{}
		if pick(.9) {
			pv.Time = model.String(times[r.IntN(len(times))])
		}
		if pick(.1) {
			pv.Timestamp = model.NewTimestamp(time.Unix(r.Int64N(4e9), 0))
		}
		if pick(.95) {
			v := &model.DataValue{}
			for range 1 + r.IntN(2) {
				switch r.IntN(9) {
				case 0:
					v.DoubleValue = new(model.Double(1))
				case 1:
					v.StringValue = model.String("a")
				case 2:
					v.IntegerValue = model.Int32(1)
				case 3:
					v.LongValue = model.Int64(1)
				case 4:
					v.BooleanValue = model.Bool(true)
				case 5:
					v.ListValue = []model.DataValue{}
				case 6:
					v.MapValue = map[string]model.DataValue{}
				case 7:
					v.RelationshipValue = &model.RelationshipValue{}
				case 8:
					v.Expression = model.String("x")
				}
			}
			pv.Value = v
		}
		got, ok := plainPoint(pv, dt)
		if !ok {
			continue
		}
		accepted[dt.Type]++
		want, err := checkPoint("f", pv, dt)
		if err != nil {
			t.Fatalf("plainPoint accepted %+v (type %+v), which the full checks refuse: %v", pv, dt, err)
		}
		if got != want {
			t.Fatalf("plainPoint read %d, the full checks %d, for %+v", got, want, pv)
		}
	}
	for _, typ := range types[:5] {
		if accepted[typ] == 0 {
			t.Errorf("plainPoint accepted no %s point", typ)
		}
	}
	for _, typ := range types[5:] {
		if accepted[typ] != 0 {
			t.Errorf("plainPoint accepted %d %q points; they need the full checks", accepted[typ], typ)
		}
	}
}
