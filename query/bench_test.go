package query

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/keyring"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/pebble"
	"github.com/twinvault/twinvault/query/parser"
	"github.com/twinvault/twinvault/tsdb"
)

// The benchmarks run queries on a generated plant of -twin-entities
// entities in Pebble, through the barrier: sites hold lines, lines hold
// machines, machines hold sensors (nine each), and each machine feeds the
// next one on its line.

var twinEntities = flag.Int("twin-entities", 100_000, "entities in the generated twin of the query benchmarks")

type plant struct {
	cat                     *catalog.Service
	bar                     *barrier.Barrier
	ts                      *tsdb.DB
	close                   func() // closes the store and removes its directory
	sites, lines, machines  int
	sensorsPerMachine       int
	someMachine, someSite   string
	someSensor, machineLine string
}

var (
	plantOnce sync.Once
	thePlant  *plant
	plantErr  error
)

// plantShape divides n entities into sites, lines, machines and sensors.
func plantShape(n int) (sites, lines, machines, sensors int) {
	sensors = 9
	machinesPerLine := 100
	linesPerSite := 10
	perSite := linesPerSite * (1 + machinesPerLine*(1+sensors))
	sites = max(1, n/(perSite+1))
	return sites, linesPerSite, machinesPerLine, sensors
}

func TestMain(m *testing.M) {
	code := m.Run()
	if thePlant != nil {
		thePlant.close()
	}
	os.Exit(code)
}

func buildPlant(b *testing.B) *plant {
	plantOnce.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "twin")
		if err != nil {
			plantErr = err
			return
		}
		store, err := pebble.Open(dir, pebble.Options{})
		if err != nil {
			plantErr = err
			return
		}
		kr, err := keyring.Open(ctx, store, bytes.Repeat([]byte{9}, keyring.MasterKeySize))
		if err != nil {
			plantErr = err
			return
		}
		bar, err := barrier.New(ctx, store, kr)
		if err != nil {
			plantErr = err
			return
		}
		ts := tsdb.Open(bar, nil)
		cat := catalog.New(bar, catalog.Config{TS: ts})
		p := &plant{cat: cat, bar: bar, ts: ts, close: func() {
			ts.Close()
			store.Close()
			os.RemoveAll(dir)
		}}
		p.sites, p.lines, p.machines, p.sensorsPerMachine = plantShape(*twinEntities)
		plantErr = p.fill(ctx)
		thePlant = p
	})
	if plantErr != nil {
		b.Fatal(plantErr)
	}
	return thePlant
}

func (p *plant) fill(ctx context.Context) error {
	cat := p.cat
	if _, err := cat.CreateWorkspace(ctx, &model.CreateWorkspaceInput{WorkspaceId: "plant"}); err != nil {
		return err
	}
	rel := &model.DataType{Type: model.TypeRelationship}
	for _, ct := range []*model.CreateComponentTypeInput{
		{ComponentTypeId: "com.example.machine", PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"feed": {DataType: &model.DataType{Type: model.TypeList, NestedType: rel}}, "model": {DataType: &model.DataType{Type: model.TypeString}}}},
		{ComponentTypeId: "com.example.sensor", PropertyDefinitions: map[string]model.PropertyDefinitionRequest{
			"unit": {DataType: &model.DataType{Type: model.TypeString}}, "temperature": {DataType: &model.DataType{Type: model.TypeDouble}, IsTimeSeries: model.Bool(true)}}},
	} {
		ct.WorkspaceId = "plant"
		if _, err := cat.CreateComponentType(ctx, ct); err != nil {
			return err
		}
	}
	create := func(id, name, parent, typeID string, props map[string]model.PropertyRequest) error {
		in := &model.CreateEntityInput{WorkspaceId: "plant", EntityId: model.String(id), EntityName: model.String(name)}
		if parent != "" {
			in.ParentEntityId = model.String(parent)
		}
		if typeID != "" {
			in.Components = map[string]model.ComponentRequest{"main": {ComponentTypeId: model.String(typeID), Properties: props}}
		}
		_, err := cat.CreateEntity(ctx, in)
		return err
	}
	// Machines are created last on each line, so their feed targets exist.
	var jobs []func() error
	for s := range p.sites {
		site := fmt.Sprintf("site-%d", s)
		if err := create(site, site, "", "", nil); err != nil {
			return err
		}
		for l := range p.lines {
			line := fmt.Sprintf("%s-line-%d", site, l)
			if err := create(line, line, site, "", nil); err != nil {
				return err
			}
			for m := p.machines - 1; m >= 0; m-- {
				machine := fmt.Sprintf("%s-m-%d", line, m)
				props := map[string]model.PropertyRequest{"model": {Value: &model.DataValue{StringValue: model.String("mixer")}}}
				if m < p.machines-1 {
					props["feed"] = model.PropertyRequest{Value: &model.DataValue{ListValue: []model.DataValue{
						{RelationshipValue: &model.RelationshipValue{TargetEntityId: model.String(fmt.Sprintf("%s-m-%d", line, m+1))}}}}}
				}
				if err := create(machine, machine, line, "com.example.machine", props); err != nil {
					return err
				}
				for k := range p.sensorsPerMachine {
					sensor := fmt.Sprintf("%s-s-%d", machine, k)
					jobs = append(jobs, func() error {
						return create(sensor, sensor, machine, "com.example.sensor",
							map[string]model.PropertyRequest{"unit": {Value: &model.DataValue{StringValue: model.String("Celsius")}}})
					})
				}
			}
		}
	}
	// Sensors in parallel: writers queue for the store, and their commits
	// share fsyncs.
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	next := make(chan func() error)
	for range 8 {
		wg.Go(func() {
			for job := range next {
				if err := job(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	p.someSite = "site-0"
	p.machineLine = "site-0-line-3"
	p.someMachine = "site-0-line-3-m-40"
	p.someSensor = "site-0-line-3-m-40-s-4"
	return nil
}

// benchQuery runs q over and over and reports its p50 and p99, calling
// before (if not nil) ahead of each run, outside the measured time.
func benchQuery(b *testing.B, p *plant, q string, want int, before func()) {
	parsed, err := parser.Parse(q)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		if before != nil {
			b.StopTimer()
			before()
			b.StartTimer()
		}
		start := time.Now()
		var res *Result
		err := p.cat.ReadGraph(ctx, "plant", func(g *catalog.Graph) error {
			var err error
			res, err = Execute(ctx, g, parsed)
			return err
		})
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if want >= 0 && len(res.Rows) != want {
			b.Fatalf("%d rows, want %d", len(res.Rows), want)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func BenchmarkQuery(b *testing.B) {
	p := buildPlant(b)
	b.Run("LookupByName", func(b *testing.B) {
		benchQuery(b, p, "SELECT e FROM EntityGraph MATCH (e) WHERE e.entityName = '"+p.someSensor+"'", 1, nil)
	})
	b.Run("OneHop", func(b *testing.B) {
		benchQuery(b, p, "SELECT b.entityName FROM EntityGraph MATCH (a)-[:feed]->(b) WHERE a.entityName = '"+p.someMachine+"'", 1, nil)
	})
	b.Run("ThreeHopChain", func(b *testing.B) {
		benchQuery(b, p, "SELECT d.entityName FROM EntityGraph MATCH (a)-[:feed]->(b)-[:feed]->(c)-[:feed]->(d) WHERE a.entityName = '"+p.someMachine+"'", 1, nil)
	})
	descendants := "SELECT COUNT(e) FROM EntityGraph MATCH (e)-[:isChildOf]->{1,10}(s) WHERE s.entityId = '" + p.someSite + "'"
	b.Run("DescendantCount", func(b *testing.B) {
		benchQuery(b, p, descendants, 1, nil)
	})
	// After a write: an entity is renamed before each run; the lists the
	// rename did not touch are still remembered.
	b.Run("DescendantCountAfterWrite", func(b *testing.B) {
		n := 0
		benchQuery(b, p, descendants, 1, func() {
			n++
			_, err := p.cat.UpdateEntity(context.Background(), &model.UpdateEntityInput{WorkspaceId: "plant", EntityId: p.someSensor,
				EntityName: model.String(fmt.Sprintf("%s-r%d", p.someSensor, n))})
			if err != nil {
				b.Fatal(err)
			}
		})
	})
	// Cold: each run on a service that has read nothing yet, as after a
	// restart or a write by another node.
	b.Run("DescendantCountCold", func(b *testing.B) {
		live := p.cat
		defer func() { p.cat = live }()
		benchQuery(b, p, descendants, 1, func() {
			p.cat = catalog.New(p.bar, catalog.Config{TS: p.ts})
		})
	})
}
