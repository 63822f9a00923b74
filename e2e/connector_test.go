package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// TestDataConnector: a component type whose dataReader names a Lambda
// function reads its history from the HTTPS connector registered under
// that name, authenticated by a stored secret that no API returns; the
// server's outbound calls cannot reach addresses outside the allow-list,
// nor be redirected to the metadata address.
func TestDataConnector(t *testing.T) {
	var mu sync.Mutex
	var calls []map[string]any
	var auth []string
	historian := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "https://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		var in map[string]any
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &in)
		mu.Lock()
		calls, auth = append(calls, in), append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"propertyValues":[{"entityPropertyReference":{"entityId":"press-1","componentName":"sensor","propertyName":"temperature"},
			"values":[{"time":"2026-11-27T08:00:00Z","value":{"doubleValue":21.5}},{"time":"2026-11-27T08:01:00Z","value":{"doubleValue":21.75}}]}]}`)
	}))
	defer historian.Close()
	port := historian.URL[strings.LastIndexByte(historian.URL, ':')+1:]
	srv := twinvaulttest.Start(t, func(c *node.Config) {
		c.Egress.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.Egress.RootCAs = historian.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	})
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ws := aws.String("plant")
	mustWorkspace(t, tm, "plant")
	_, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.historian"),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{"temperature": {
			DataType: &types.DataType{Type: types.TypeDouble}, IsTimeSeries: aws.Bool(true), IsStoredExternally: aws.Bool(true)}},
		Functions: map[string]types.FunctionRequest{"dataReader": {ImplementedBy: &types.DataConnector{
			Lambda: &types.LambdaFunction{Arn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:historian")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String("press-1"), EntityName: aws.String("press 1"),
		Components: map[string]types.ComponentRequest{"sensor": {ComponentTypeId: aws.String("com.example.historian")}}}); err != nil {
		t.Fatal(err)
	}
	history := func() (*iottwinmaker.GetPropertyValueHistoryOutput, error) {
		return tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: ws, EntityId: aws.String("press-1"),
			ComponentName: aws.String("sensor"), SelectedProperties: []string{"temperature"}, StartTime: aws.String("2026-11-27T00:00:00Z"), EndTime: aws.String("2026-11-28T00:00:00Z")})
	}

	// The secret: stored, listed without its value, hidden in the trail.
	const token = "QZX-historian-bearer-token"
	var secret map[string]any
	if code := keyCallWith(t, srv, "PutSecret", []byte(`{"name":"historian-token","secretString":"`+token+`"}`), &secret); code != http.StatusOK || secret["arn"] != "arn:aws:secretsmanager:us-east-1:000000000000:secret:historian-token" {
		t.Fatalf("PutSecret: %d %v", code, secret)
	}
	// A member name folded as JSON decoders fold it is hidden all the same.
	if code := keyCallWith(t, srv, "PutSecret", []byte(`{"name":"folded","ſecretString":"QZX-folded-secret"}`), nil); code != http.StatusOK {
		t.Fatalf("PutSecret with a folded member name: %d", code)
	}
	resp := keyRequest(t, srv, "ListSecrets", []byte(`{}`))
	listed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(listed), "historian-token") || strings.Contains(string(listed), "QZX") {
		t.Fatalf("ListSecrets: %s", listed)
	}
	// Endpoints carry no credentials, and a connector's secret must exist.
	for _, body := range []string{
		`{"workspaceId":"plant","name":"historian","endpoint":"https://user:QZXpass@127.0.0.1:` + port + `/"}`,
		`{"workspaceId":"plant","name":"historian","endpoint":"https://127.0.0.1:` + port + `/?token=QZXtoken"}`,
		`{"workspaceId":"plant","name":"historian","endpoint":"http://127.0.0.1:` + port + `/"}`,
		`{"workspaceId":"plant","name":"historian","endpoint":"https://127.0.0.1:` + port + `/","secret":"secret://nothing"}`,
	} {
		resp := keyRequest(t, srv, "PutConnector", []byte(body))
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(msg), "QZX") || strings.Contains(string(msg), "127.0.0.1") {
			t.Fatalf("PutConnector %s: %d %s", body, resp.StatusCode, msg)
		}
	}
	// Outside the allow-list: refused at dial time, nothing reaches it.
	if code := keyCallWith(t, srv, "PutConnector", []byte(`{"workspaceId":"plant","name":"historian","endpoint":"https://127.0.0.2:`+port+`/history","secret":"secret://historian-token"}`), nil); code != http.StatusOK {
		t.Fatalf("PutConnector: %d", code)
	}
	if _, err := history(); apiCode(err) != "ConnectorFailureException" || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("a connector outside the allow-list: %v", err)
	}
	// Redirected to the metadata address: refused at the hop.
	keyCallWith(t, srv, "PutConnector", []byte(`{"workspaceId":"plant","name":"historian","endpoint":"https://127.0.0.1:`+port+`/redirect","secret":"secret://historian-token"}`), nil)
	if _, err := history(); apiCode(err) != "ConnectorFailureException" || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("a redirect to the metadata address: %v", err)
	}
	if len(calls) != 0 {
		t.Fatalf("the connector was called %d times", len(calls))
	}
	// Allowed: the history comes from the connector, with the secret.
	keyCallWith(t, srv, "PutConnector", []byte(`{"workspaceId":"plant","name":"historian","endpoint":"https://127.0.0.1:`+port+`/history","secret":"arn:aws:secretsmanager:us-east-1:000000000000:secret:historian-token"}`), nil)
	out, err := history()
	if err != nil {
		t.Fatal(err)
	}
	if len(out.PropertyValues) != 1 || len(out.PropertyValues[0].Values) != 2 || aws.ToFloat64(out.PropertyValues[0].Values[1].Value.DoubleValue) != 21.75 {
		t.Fatalf("the connector's history: %+v", out.PropertyValues)
	}
	// Another workspace's component types do not reach the connector.
	mustWorkspace(t, tm, "other")
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: aws.String("other"), ComponentTypeId: aws.String("com.example.borrowed"),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{"temperature": {
			DataType: &types.DataType{Type: types.TypeDouble}, IsTimeSeries: aws.Bool(true), IsStoredExternally: aws.Bool(true)}},
		Functions: map[string]types.FunctionRequest{"dataReader": {ImplementedBy: &types.DataConnector{
			Lambda: &types.LambdaFunction{Arn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:historian")}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("other"), EntityId: aws.String("press-1"), EntityName: aws.String("press 1"),
		Components: map[string]types.ComponentRequest{"sensor": {ComponentTypeId: aws.String("com.example.borrowed")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String("other"), EntityId: aws.String("press-1"),
		ComponentName: aws.String("sensor"), SelectedProperties: []string{"temperature"}, StartTime: aws.String("2026-11-27T00:00:00Z"), EndTime: aws.String("2026-11-28T00:00:00Z")}); err != nil {
		t.Fatalf("another workspace's history: %v", err)
	}
	if code := keyCallWith(t, srv, "PutConnector", []byte(`{"name":"historian","endpoint":"https://127.0.0.1:`+port+`/history"}`), nil); code != http.StatusBadRequest {
		t.Fatalf("a connector without a workspace: %d", code)
	}
	mu.Lock()
	if len(calls) != 1 || auth[0] != "Bearer "+token || calls[0]["workspaceId"] != "plant" || calls[0]["entityId"] != "press-1" || calls[0]["componentName"] != "sensor" {
		t.Fatalf("the connector was called with %v, %v", calls, auth)
	}
	mu.Unlock()
	// The secret cannot go while a connector uses it; the connector can.
	if code := keyCallWith(t, srv, "DeleteSecret", []byte(`{"name":"historian-token"}`), nil); code != http.StatusConflict {
		t.Fatalf("DeleteSecret in use: %d", code)
	}
	if code := keyCallWith(t, srv, "DeleteConnector", []byte(`{"workspaceId":"plant","name":"historian"}`), nil); code != http.StatusOK {
		t.Fatalf("DeleteConnector: %d", code)
	}
	if out, err := history(); err != nil || len(out.PropertyValues) != 0 && len(out.PropertyValues[0].Values) != 0 {
		t.Fatalf("after the connector is gone, the built-in store (empty): %+v %v", out, err)
	}
	if code := keyCallWith(t, srv, "DeleteSecret", []byte(`{"name":"historian-token"}`), nil); code != http.StatusOK {
		t.Fatalf("DeleteSecret: %d", code)
	}
	// No record of the trail holds the secret.
	for _, e := range lookupAll(t, srv.CloudTrail(srv.AWSConfig()), "", "") {
		raw, _ := json.Marshal(e)
		if strings.Contains(string(raw), "QZX") {
			t.Fatalf("the audit trail holds the secret: %s", raw)
		}
	}
	put := lookupAll(t, srv.CloudTrail(srv.AWSConfig()), cttypes.LookupAttributeKeyEventName, "PutSecret")
	if p, _ := put[len(put)-1]["requestParameters"].(map[string]any); len(put) != 2 || p["secretString"] != "HIDDEN_DUE_TO_SECURITY_REASONS" {
		t.Fatalf("the PutSecret events: %v", put)
	}
}
