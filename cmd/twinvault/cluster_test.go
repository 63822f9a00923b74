package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
)

// cluster is a deployment of several `twinvault serve` processes over one
// PostgreSQL schema and one object store prefix, sharing the master key.
type cluster struct {
	mu      sync.Mutex // start runs side by side
	t       *testing.T
	dir     string
	dsn     string
	args    []string
	nodes   []*proc
	ends    []string // endpoints
	clients []*iottwinmaker.Client
}

// newCluster needs the PostgreSQL and the S3-protocol server scripts/test
// starts; under CI=true their absence fails the test.
func newCluster(t *testing.T) *cluster {
	dsn := needEnv(t, "TWINVAULT_TEST_POSTGRES", "TWINVAULT_TEST_S3_ENDPOINT")[0]
	dir := t.TempDir()
	id := time.Now().UnixNano()
	args := append([]string{"--storage", "postgres", "--postgres-schema", fmt.Sprintf("tv_cluster_%d", id)},
		s3Flags(fmt.Sprintf("cluster-%d/", id))...)
	args = append(args, "--key-file", filepath.Join(dir, "master.key"), "--credentials-file", filepath.Join(dir, "credentials"), "--lease-ttl", "3s")
	return &cluster{t: t, dir: dir, dsn: dsn, args: args}
}

// start runs node i (its own data directory and port) and waits for it.
func (c *cluster) start(i int) {
	c.t.Helper()
	nd := filepath.Join(c.dir, fmt.Sprintf("node%d", i))
	os.MkdirAll(nd, 0o700)
	args := append(slices.Clone(c.args), "--data-dir", filepath.Join(nd, "data"), "--listen", freePort(c.t))
	p := startEnv(c.t, nd, []string{"TWINVAULT_POSTGRES_DSN=" + c.dsn}, args...)
	end := p.ready(c.t)["endpoint"]
	cl := tmClient(c.t, filepath.Join(nd, "data", "tls", "ca.pem"), filepath.Join(c.dir, "credentials"), end)
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.nodes) <= i {
		c.nodes, c.ends, c.clients = append(c.nodes, nil), append(c.ends, ""), append(c.clients, nil)
	}
	c.nodes[i], c.ends[i], c.clients[i] = p, end, cl
}

// TestThreeNodes: three nodes over one PostgreSQL and one object store.
// Writes through any node are read at once through the others, graph
// queries included; a node killed mid-load loses no acknowledged write;
// the re-sealing it held passes to a survivor; and `twinvault audit
// verify` finds one unbroken chain afterwards.
func TestThreeNodes(t *testing.T) {
	c := newCluster(t)
	c.start(0) // the first start bootstraps: key file, credentials, CA
	var wg sync.WaitGroup
	for i := 1; i < 3; i++ {
		wg.Go(func() { c.start(i) })
	}
	wg.Wait()
	ca0, _ := os.ReadFile(filepath.Join(c.dir, "node0", "data", "tls", "ca.pem"))
	for i := 1; i < 3; i++ {
		if ca, _ := os.ReadFile(filepath.Join(c.dir, fmt.Sprintf("node%d", i), "data", "tls", "ca.pem")); string(ca) != string(ca0) {
			t.Fatalf("node %d has a CA of its own", i)
		}
	}
	ctx := context.Background()
	tm := c.clients
	ws := aws.String("plant")
	if _, err := tm[0].CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: ws}); err != nil {
		t.Fatal(err)
	}
	// Read-your-writes across nodes, one hop each.
	if _, err := tm[1].CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.sensor"),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{"temp": {DataType: &types.DataType{Type: types.TypeDouble}, IsTimeSeries: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm[2].CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String("line"), EntityName: aws.String("Line")}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		id := fmt.Sprintf("mixer%d", i)
		if _, err := tm[i].CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String(id), EntityName: aws.String(id),
			ParentEntityId: aws.String("line"), Components: map[string]types.ComponentRequest{"sensor": {ComponentTypeId: aws.String("com.example.sensor")}}}); err != nil {
			t.Fatalf("create %s on node %d: %v", id, i, err)
		}
		other := tm[(i+1)%3]
		if _, err := other.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: ws, EntityId: aws.String(id)}); err != nil {
			t.Fatalf("%s, made on node %d, read on node %d: %v", id, i, (i+1)%3, err)
		}
		q, err := tm[(i+2)%3].ExecuteQuery(ctx, &iottwinmaker.ExecuteQueryInput{WorkspaceId: ws,
			QueryStatement: aws.String("SELECT c FROM EntityGraph MATCH (p)<-[:isChildOf]-(c) WHERE p.entityId = 'line'")})
		if err != nil || len(q.Rows) != i+1 {
			t.Fatalf("graph query on node %d after %s was made on node %d: %d rows, %v", (i+2)%3, id, i, len(q.Rows), err)
		}
	}

	// A query's pages may be asked of any node.
	stmt := aws.String("SELECT c FROM EntityGraph MATCH (p)<-[:isChildOf]-(c) WHERE p.entityId = 'line'")
	var token *string
	var rows int
	for i := range 4 {
		q, err := tm[i%3].ExecuteQuery(ctx, &iottwinmaker.ExecuteQueryInput{WorkspaceId: ws, QueryStatement: stmt, MaxResults: aws.Int32(1), NextToken: token})
		if err != nil {
			t.Fatalf("page %d on node %d: %v", i, i%3, err)
		}
		rows += len(q.Rows)
		if token = q.NextToken; token == nil {
			break
		}
	}
	if rows != 3 || token != nil {
		t.Fatalf("paged across nodes: %d rows, token %v", rows, token)
	}

	// Load through all three: each writer sends to its own node, readers
	// read another's series elsewhere. Node 1 is killed halfway.
	var stop atomic.Bool
	var mu sync.Mutex
	acked := map[int][]int{} // writer -> the seconds it wrote, acknowledged
	var failures [3]atomic.Int64
	var writes atomic.Int64
	for w := range 3 {
		wg.Go(func() {
			entity := fmt.Sprintf("mixer%d", w)
			for sec := 0; !stop.Load(); sec++ {
				_, err := tm[w].BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: ws,
					Entries: []types.PropertyValueEntry{{EntityPropertyReference: &types.EntityPropertyReference{EntityId: aws.String(entity), ComponentName: aws.String("sensor"), PropertyName: aws.String("temp")},
						PropertyValues: []types.PropertyValue{{Time: aws.String(time.Unix(1700000000+int64(sec), 0).UTC().Format(time.RFC3339)), Value: &types.DataValue{DoubleValue: aws.Float64(float64(sec))}}}}}})
				if err != nil {
					failures[w].Add(1)
					if w != 1 {
						t.Errorf("writer %d: %v", w, err)
					}
					time.Sleep(20 * time.Millisecond)
					continue
				}
				writes.Add(1)
				mu.Lock()
				acked[w] = append(acked[w], sec)
				mu.Unlock()
				// Read it back at once through another node (not node 1,
				// which is killed meanwhile).
				r := 2 - w
				if w == 1 {
					r = 2 * rand.IntN(2)
				}
				at := aws.String(time.Unix(1700000000+int64(sec), 0).UTC().Format(time.RFC3339))
				out, err := tm[r].GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: ws,
					EntityId: aws.String(entity), ComponentName: aws.String("sensor"), SelectedProperties: []string{"temp"},
					StartTime: at, EndTime: aws.String(time.Unix(1700000001+int64(sec), 0).UTC().Format(time.RFC3339))})
				if err != nil || len(out.PropertyValues) != 1 || len(out.PropertyValues[0].Values) != 1 {
					t.Errorf("point %d written through node %d, read through node %d: %+v %v", sec, w, r, out, err)
				}
			}
		})
	}
	waitWrites := func(n int64) {
		for deadline := time.Now().Add(60 * time.Second); writes.Load() < n; {
			if time.Now().After(deadline) {
				t.Fatalf("only %d writes in a minute", writes.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitWrites(60)
	// Node 1 rotates the keys and is killed at once, holding the
	// re-sealing lease and its writer's requests in flight.
	keysCmd := func(i int, args ...string) string {
		t.Helper()
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(c.dir, "credentials"))
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(c.dir, "no-config"))
		flags := []string{"--endpoint-url", c.ends[i], "--ca-bundle", filepath.Join(c.dir, "node0", "data", "tls", "ca.pem"), "--profile", "twinvault"}
		var out, errOut strings.Builder
		if code := run(append(append([]string{"keys"}, args...), flags...), &out, &errOut); code != 0 {
			t.Fatalf("keys %v on node %d: exit %d: %s", args, i, code, errOut.String())
		}
		return out.String()
	}
	// The master key cannot be rotated while other nodes hold the old one.
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(c.dir, "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(c.dir, "no-config"))
	var out0, err0 strings.Builder
	if code := run([]string{"keys", "rotate", "--master", "--endpoint-url", c.ends[0], "--ca-bundle", filepath.Join(c.dir, "node0", "data", "tls", "ca.pem"),
		"--profile", "twinvault"}, &out0, &err0); code == 0 || !strings.Contains(err0.String(), "other node(s)") {
		t.Fatalf("a master key rotation with three nodes running: exit %d %s%s", code, out0.String(), err0.String())
	}
	keysCmd(1, "rotate")
	c.nodes[1].cmd.Process.Signal(syscall.SIGKILL)
	c.nodes[1].cmd.Wait()
	killedAt, killedTime := writes.Load(), time.Now()
	waitWrites(killedAt + 120)
	stop.Store(true)
	wg.Wait()

	// Every acknowledged write reads back through both survivors.
	for w := range 3 {
		for _, r := range []int{0, 2} {
			got := map[int]bool{}
			var token *string
			for {
				out, err := tm[r].GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: ws,
					EntityId: aws.String(fmt.Sprintf("mixer%d", w)), ComponentName: aws.String("sensor"), SelectedProperties: []string{"temp"},
					StartTime: aws.String("2023-01-01T00:00:00Z"), EndTime: aws.String("2030-01-01T00:00:00Z"), MaxResults: aws.Int32(200), NextToken: token})
				if err != nil {
					t.Fatalf("history of mixer%d on node %d: %v", w, r, err)
				}
				for _, pv := range out.PropertyValues {
					for _, v := range pv.Values {
						got[int(aws.ToFloat64(v.Value.DoubleValue))] = true
					}
				}
				if token = out.NextToken; token == nil {
					break
				}
			}
			for _, sec := range acked[w] {
				if !got[sec] {
					t.Fatalf("writer %d's acknowledged point %d is missing on node %d", w, sec, r)
				}
			}
		}
	}
	if failures[0].Load() != 0 || failures[2].Load() != 0 {
		t.Fatalf("writes through the survivors failed: %d, %d", failures[0].Load(), failures[2].Load())
	}

	// The re-sealing node 1 began is finished by a survivor once its
	// lease runs out: one term, no view with older keys.
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := keysCmd(2, "status")
		if strings.Contains(st, "0 with older data keys") && !strings.Contains(st, "keyring term 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("re-sealing was not taken over:\n%s", st)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// A request node 1 had reserved but not finished is closed by a
	// survivor once node 1's liveness lease has run out (3 s).
	time.Sleep(time.Until(killedTime.Add(6 * time.Second)))

	// One verifiable audit chain across the three nodes.
	for _, i := range []int{0, 2} {
		c.nodes[i].cmd.Process.Signal(syscall.SIGTERM)
		if err := c.nodes[i].cmd.Wait(); err != nil {
			t.Fatalf("stop node %d: %v %s", i, err, c.nodes[i].stderr)
		}
	}
	t.Setenv("TWINVAULT_POSTGRES_DSN", c.dsn)
	var out, errOut strings.Builder
	args := []string{"verify", "--data-dir", filepath.Join(c.dir, "node0", "data"), "--key-file", filepath.Join(c.dir, "master.key"),
		"--storage", "postgres", "--postgres-schema", c.args[3]}
	if code := auditCmd(args, &out, &errOut); code != 0 {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
