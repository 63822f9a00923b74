package detect

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// sceneDocument returns a TwinMaker scene document of at least size
// bytes: nodes with transforms, model references, data bindings and
// descriptions, as a discovery scan meets them. Every fiftieth node's
// description plants an e-mail address and an IP address.
func sceneDocument(size int) string {
	r := rand.New(rand.NewPCG(7, 7))
	num := func() string { return strconv.FormatFloat((r.Float64()-0.5)*20, 'f', -1, 64) }
	id := func() string {
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1))
	}
	var b strings.Builder
	b.WriteString(`{"specVersion":"1.0","version":"1","unit":"meters","properties":{"environmentPreset":"neutral",` +
		`"dataBindingConfig":{"fieldMapping":{"entityId":["sel_entity"],"componentName":["sel_comp"]},"template":{"sel_entity":"room1"}}},"nodes":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		desc := fmt.Sprintf("Mixer %d on cookie line %d, PLC-7 temperature sensor, serviced 2024-01-%02dT08:30:00Z", i, i%4+1, i%28+1)
		if i%50 == 49 {
			desc += fmt.Sprintf("; contact line%d.lead@cookie-factory.example, gateway 10.%d.0.1", i, i%200)
		}
		fmt.Fprintf(&b, `{"name":"Mixer-%d","description":%q,"transform":{"position":[%s,%s,%s],"rotation":[0,%s,0],"scale":[1,1,1]},`+
			`"transformConstraint":{},"components":[{"type":"ModelRef","uri":"s3://cookie-factory-models/mixer/Mixer_v2.glb","modelType":"GLB"},`+
			`{"type":"Tag","ref":%q,"icon":"iottwinmaker.common.icon:Error","valueDataBinding":{"dataBindingContext":{"entityId":"Mixer_%d",`+
			`"componentName":"AlarmComponent","propertyName":"alarm_status","entityPath":"arn:aws:iottwinmaker:us-east-1:123456789012:workspace/CookieFactory/entity/Mixer_%d"}},`+
			`"ruleBasedMapId":"sampleAlarmIconRule"}],"properties":{"alarm_threshold":%s,"rpm":%d},"children":[]}`,
			i, desc, num(), num(), num(), num(), id(), i, i, num(), r.IntN(3000))
	}
	b.WriteString(`],"rootNodeIndexes":[0],"rules":{"sampleAlarmIconRule":{"statements":[{"expression":"alarm_status == 'ACTIVE'",` +
		`"target":"iottwinmaker.common.icon:Error"},{"expression":"alarm_status == 'NORMAL'","target":"iottwinmaker.common.icon:Info"}]}}}`)
	return b.String()
}

// TestSceneDocument checks a discovery scan of a scene finds what was
// planted and nothing else.
func TestSceneDocument(t *testing.T) {
	doc := sceneDocument(64 << 10)
	for _, f := range Scan(doc) {
		m := doc[f.Offset : f.Offset+f.Length]
		switch {
		case f.Type == Email && strings.HasSuffix(m, ".lead@cookie-factory.example"):
		case f.Type == IPAddress && f.Confidence == Low && strings.HasPrefix(m, "10."):
		default:
			t.Errorf("unexpected %s %s %q", f.Type, f.Confidence, m)
		}
	}
}

// name is a 60-byte entity name, the size of what a write checks.
const name = "Cookie Line 1 Mixer - PLC-07 temperature sensor (north wall)"

func BenchmarkScanName(b *testing.B) {
	if len(name) != 60 {
		b.Fatalf("name is %d bytes", len(name))
	}
	b.SetBytes(int64(len(name)))
	b.ReportAllocs()
	for b.Loop() {
		Scan(name)
	}
}

func BenchmarkScanDocument(b *testing.B) {
	doc := sceneDocument(64 << 10)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		Scan(doc)
	}
}
