package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
	"github.com/aws/smithy-go"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// queryAll runs a query through the SDK and reads every page, decoding
// each cell of rowData as a document.
func queryAll(t *testing.T, tm *iottwinmaker.Client, ws, q string, pageSize int32) ([]types.ColumnDescription, [][]any, int) {
	t.Helper()
	in := &iottwinmaker.ExecuteQueryInput{WorkspaceId: aws.String(ws), QueryStatement: aws.String(q), MaxResults: aws.Int32(pageSize)}
	var cols []types.ColumnDescription
	var rows [][]any
	pages := 0
	for {
		out, err := tm.ExecuteQuery(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		pages++
		if cols == nil {
			cols = out.ColumnDescriptions
		}
		if len(out.Rows) > int(pageSize) {
			t.Fatalf("a page of %d rows, asked for %d", len(out.Rows), pageSize)
		}
		for _, r := range out.Rows {
			row := make([]any, len(r.RowData))
			for i, d := range r.RowData {
				if err := d.UnmarshalSmithyDocument(&row[i]); err != nil {
					t.Fatal(err)
				}
			}
			rows = append(rows, row)
		}
		if out.NextToken == nil {
			return cols, rows, pages
		}
		in.NextToken = out.NextToken
	}
}

func TestExecuteQuery(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	loadCookieFactory(t, srv, tm, "cf")

	// Nodes come back as documents, shaped as TwinMaker shapes them.
	cols, rows, _ := queryAll(t, tm, "cf", "SELECT m FROM EntityGraph MATCH (m) WHERE m.entityName = 'Mixer_0'", 10)
	if len(cols) != 1 || aws.ToString(cols[0].Name) != "m" || cols[0].Type != types.ColumnTypeNode || len(rows) != 1 {
		t.Fatalf("columns %+v, %d rows", cols, len(rows))
	}
	node := rows[0][0].(map[string]any)
	if node["entityName"] != "Mixer_0" || node["workspaceId"] != "cf" || !strings.HasSuffix(node["arn"].(string), ":workspace/cf/entity/"+node["entityId"].(string)) {
		t.Fatalf("node %v", node)
	}
	// Dates in milliseconds since the epoch.
	for _, f := range []string{"creationDate", "lastUpdateDate"} {
		ms, err := strconv.ParseInt(fmt.Sprint(node[f]), 10, 64)
		if err != nil || ms < time.Now().Add(-time.Hour).UnixMilli() || ms > time.Now().UnixMilli() {
			t.Errorf("%s = %v, want milliseconds of the last hour", f, node[f])
		}
	}
	comps, ok := node["components"].([]any)
	if !ok || len(comps) != 3 {
		t.Fatalf("components of Mixer_0: %v", node["components"])
	}
	if _, ok := comps[0].(map[string]any)["properties"].([]any); !ok {
		t.Fatalf("properties are not a list: %v", comps[0])
	}

	// 132 entities in pages of 50: three pages, every entity once.
	_, rows, pages := queryAll(t, tm, "cf", "SELECT e.entityId FROM EntityGraph MATCH (e)", 50)
	seen := map[any]bool{}
	for _, r := range rows {
		seen[r[0]] = true
	}
	if pages != 3 || len(rows) != 132 || len(seen) != 132 {
		t.Fatalf("%d pages, %d rows, %d distinct", pages, len(rows), len(seen))
	}

	// LIMIT caps the result; maxResults only sets the page size.
	_, rows, pages = queryAll(t, tm, "cf", "SELECT e.entityName FROM EntityGraph MATCH (e) LIMIT 25", 10)
	if pages != 3 || len(rows) != 25 {
		t.Fatalf("LIMIT 25 in pages of 10: %d pages, %d rows", pages, len(rows))
	}

	// Pages come from one snapshot: entities created between pages do not
	// show, and a new query sees them at once.
	q := "SELECT COUNT(e) FROM EntityGraph MATCH (e)"
	first, err := tm.ExecuteQuery(ctx, &iottwinmaker.ExecuteQueryInput{WorkspaceId: aws.String("cf"),
		QueryStatement: aws.String("SELECT e.entityId FROM EntityGraph MATCH (e)"), MaxResults: aws.Int32(100)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	for i := range 5 {
		if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("cf"), EntityId: aws.String(fmt.Sprintf("new_%d", i)), EntityName: aws.String("new")}); err != nil {
			t.Fatal(err)
		}
	}
	second, err := tm.ExecuteQuery(ctx, &iottwinmaker.ExecuteQueryInput{WorkspaceId: aws.String("cf"),
		QueryStatement: aws.String("SELECT e.entityId FROM EntityGraph MATCH (e)"), MaxResults: aws.Int32(100), NextToken: first.NextToken})
	if err != nil || len(second.Rows) != 32 || second.NextToken != nil {
		t.Fatalf("second page: %v (%d rows)", err, len(second.Rows))
	}
	_, rows, _ = queryAll(t, tm, "cf", q, 50)
	if fmt.Sprint(rows[0][0]) != "137" {
		t.Fatalf("count after the writes: %v", rows[0][0])
	}

	// A relationship written is an edge the moment the write returns.
	if _, err := tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: aws.String("cf"), EntityId: aws.String("new_0"),
		ComponentUpdates: map[string]types.ComponentUpdateRequest{"eq": {UpdateType: types.ComponentUpdateTypeCreate,
			ComponentTypeId: aws.String("com.example.cookiefactory.equipment"),
			PropertyUpdates: map[string]types.PropertyRequest{"feed": {Value: &types.DataValue{ListValue: []types.DataValue{
				{RelationshipValue: &types.RelationshipValue{TargetEntityId: aws.String("new_1")}}}}}}}}}); err != nil {
		t.Fatal(err)
	}
	_, rows, _ = queryAll(t, tm, "cf", "SELECT b.entityId FROM EntityGraph MATCH (a)-[:feed]->(b) WHERE a.entityId = 'new_0'", 10)
	if len(rows) != 1 || rows[0][0] != "new_1" {
		t.Fatalf("the new edge: %v", rows)
	}
}

func TestExecuteQueryErrors(t *testing.T) {
	srv := twinvaulttest.Start(t)
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	mustWorkspace(t, tm, "qe")
	for i := range 3 {
		if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("qe"), EntityId: aws.String(fmt.Sprintf("e%d", i)), EntityName: aws.String("e")}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		ws, query, token string
		max              int32
		code, text       string
	}{
		{"qe", "SELECT e FROM EntityGraph MATCH (e) WHERE", "", 10, "ValidationException", "line 1, column 42: expected an expression"},
		{"qe", "SELECT e FROM EntityGraph MATCH (e)-[]->{1,12}(f)", "", 10, "ValidationException", "10"},
		{"qe", "SELECT e FROM EntityGraph MATCH (e)", "", 101, "ValidationException", "maxResults"},
		{"qe", strings.Repeat("x", 1001), "", 10, "ValidationException", "queryStatement"},
		{"qe", "SELECT e FROM EntityGraph MATCH (e)", "bm90IGEgdG9rZW4", 10, "ValidationException", "nextToken"},
		{"missing", "SELECT e FROM EntityGraph MATCH (e)", "", 10, "ResourceNotFoundException", "missing"},
	}
	for _, c := range cases {
		in := &iottwinmaker.ExecuteQueryInput{WorkspaceId: aws.String(c.ws), QueryStatement: aws.String(c.query), MaxResults: aws.Int32(c.max)}
		if c.token != "" {
			in.NextToken = aws.String(c.token)
		}
		_, err := tm.ExecuteQuery(ctx, in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code || !strings.Contains(ae.ErrorMessage(), c.text) {
			t.Errorf("%.40s: got %v, want %s containing %q", c.query, err, c.code, c.text)
		}
	}
	// A token belongs to its query and workspace.
	out, err := tm.ExecuteQuery(ctx, &iottwinmaker.ExecuteQueryInput{WorkspaceId: aws.String("qe"), QueryStatement: aws.String("SELECT e FROM EntityGraph MATCH (e)"), MaxResults: aws.Int32(1)})
	if err != nil || out.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	_, err = tm.ExecuteQuery(ctx, &iottwinmaker.ExecuteQueryInput{WorkspaceId: aws.String("qe"), QueryStatement: aws.String("SELECT f FROM EntityGraph MATCH (f)"), MaxResults: aws.Int32(1), NextToken: out.NextToken})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Fatalf("a token replayed on another query: %v", err)
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines may log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestQueryNotLogged: neither a query's text nor its results reach the log,
// even at debug level and when the query fails.
func TestQueryNotLogged(t *testing.T) {
	var logs syncBuffer
	srv := twinvaulttest.Start(t, func(c *node.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ctx := context.Background()
	mustWorkspace(t, tm, "quiet")
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("quiet"), EntityId: aws.String("e1"), EntityName: aws.String("QZXresultMARK")}); err != nil {
		t.Fatal(err)
	}
	_, rows, _ := queryAll(t, tm, "quiet", "SELECT e.entityName FROM EntityGraph MATCH (e) WHERE e.entityId <> 'QZXqueryMARK'", 10)
	if len(rows) != 1 || rows[0][0] != "QZXresultMARK" {
		t.Fatalf("rows %v", rows)
	}
	for _, q := range []string{"SELECT QZXbadMARK FROM", "SELECT e FROM EntityGraph MATCH (e) WHERE e.entityName = 'QZXfailMARK' AND"} {
		if _, err := tm.ExecuteQuery(ctx, &iottwinmaker.ExecuteQueryInput{WorkspaceId: aws.String("quiet"), QueryStatement: aws.String(q)}); err == nil {
			t.Fatalf("%s succeeded", q)
		}
	}
	out := logs.String()
	if !strings.Contains(out, "ExecuteQuery") {
		t.Fatalf("the requests were not logged at all:\n%s", out)
	}
	for _, marker := range []string{"QZXresultMARK", "QZXqueryMARK", "QZXbadMARK", "QZXfailMARK"} {
		if strings.Contains(out, marker) {
			t.Errorf("the log holds %s", marker)
		}
	}
}
