package e2e

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// lookupAll reads every event LookupEvents gives for one attribute.
func lookupAll(t *testing.T, ct *cloudtrail.Client, key cttypes.LookupAttributeKey, value string) []map[string]any {
	t.Helper()
	in := &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(50)}
	if key != "" {
		in.LookupAttributes = []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: aws.String(value)}}
	}
	var out []map[string]any
	p := cloudtrail.NewLookupEventsPaginator(ct, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("LookupEvents %s=%s: %v", key, value, err)
		}
		for _, e := range page.Events {
			var ev map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &ev); err != nil {
				t.Fatal(err)
			}
			if ev["eventID"] != aws.ToString(e.EventId) || ev["eventName"] != aws.ToString(e.EventName) {
				t.Fatalf("the listed event and its record differ: %+v", e)
			}
			out = append(out, ev)
		}
	}
	return out
}

// TestAuditEvents: allowed, denied, invalid, unsigned and failed calls
// each leave exactly one event with CloudTrail's fields, found by
// LookupEvents.
func TestAuditEvents(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	admin := srv.IAM(srv.AWSConfig())

	// Allowed: a change and a read.
	ids := map[string]string{} // request ID -> what
	capture := func(what string) func(*iottwinmaker.Options) {
		return func(o *iottwinmaker.Options) {
			o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
				return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("id", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, m, err := next.HandleDeserialize(ctx, in)
					if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
						ids[resp.Header.Get("x-amzn-RequestId")] = what
					}
					return out, m, err
				}), middleware.After)
			})
		}
	}
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("audited"), Tags: map[string]string{"team": "ops"}}, capture("create")); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("audited")}, capture("get")); err != nil {
		t.Fatal(err)
	}
	// Failed: a missing entity. Invalid: a bad workspace ID.
	tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("audited"), EntityId: aws.String("missing")}, capture("missing"))
	tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("bad id!")}, capture("invalid"))
	// Denied: a user with no permissions.
	admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("nobody")})
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	if err != nil {
		t.Fatal(err)
	}
	srv.TwinMakerAs(srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")).DeleteWorkspace(ctx,
		&iottwinmaker.DeleteWorkspaceInput{WorkspaceId: aws.String("audited")}, capture("denied"))
	// Unsigned.
	resp, err := srv.HTTPClient().Get(srv.Endpoint + "/workspaces/audited")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ids[resp.Header.Get("x-amzn-RequestId")] = "unsigned"
	// A data event.
	mustDataWrite := func() {
		if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: aws.String("audited"), ComponentTypeId: aws.String("com.example.m"),
			PropertyDefinitions: map[string]types.PropertyDefinitionRequest{"t": {DataType: &types.DataType{Type: types.TypeDouble}, IsTimeSeries: aws.Bool(true)}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("audited"), EntityId: aws.String("e1"), EntityName: aws.String("e"),
			Components: map[string]types.ComponentRequest{"c": {ComponentTypeId: aws.String("com.example.m")}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("audited"), Entries: []types.PropertyValueEntry{{
			EntityPropertyReference: &types.EntityPropertyReference{EntityId: aws.String("e1"), ComponentName: aws.String("c"), PropertyName: aws.String("t")},
			PropertyValues:          []types.PropertyValue{{Time: aws.String("2026-01-01T00:00:00Z"), Value: &types.DataValue{DoubleValue: aws.Float64(98.6)}}}}}}, capture("data")); err != nil {
			t.Fatal(err)
		}
	}
	mustDataWrite()

	ct := srv.CloudTrail(srv.AWSConfig())
	all := lookupAll(t, ct, "", "")
	byID := map[string][]map[string]any{}
	for _, ev := range all {
		id := ev["requestID"].(string)
		byID[id] = append(byID[id], ev)
	}
	want := map[string]struct{ name, code string }{
		"create": {"CreateWorkspace", ""}, "get": {"GetWorkspace", ""}, "missing": {"GetEntity", "ResourceNotFoundException"},
		"invalid": {"CreateWorkspace", "ValidationException"}, "denied": {"DeleteWorkspace", "AccessDeniedException"},
		"unsigned": {"GetWorkspace", "MissingAuthenticationTokenException"},
	}
	for id, what := range ids {
		if what == "data" {
			continue // data events are not in the event history
		}
		evs := byID[id]
		if len(evs) != 1 {
			t.Errorf("%s (request %s): %d events", what, id, len(evs))
			continue
		}
		ev := evs[0]
		w := want[what]
		if ev["eventName"] != w.name || ev["errorCode"] != nilIfEmpty(w.code) {
			t.Errorf("%s: eventName %v errorCode %v, want %s %q", what, ev["eventName"], ev["errorCode"], w.name, w.code)
		}
		for _, f := range []string{"eventVersion", "eventTime", "eventSource", "awsRegion", "sourceIPAddress", "userAgent", "eventID", "eventType", "recipientAccountId", "eventCategory"} {
			if s, _ := ev[f].(string); s == "" {
				t.Errorf("%s: %s is empty", what, f)
			}
		}
		if what != "unsigned" {
			if tls, _ := ev["tlsDetails"].(map[string]any); tls == nil || !strings.HasPrefix(tls["tlsVersion"].(string), "TLSv1.") {
				t.Errorf("%s: tlsDetails %v", what, ev["tlsDetails"])
			}
		}
	}
	// The create: identity, parameters, response, resources.
	create := byID[key2(ids, "create")][0]
	uid := create["userIdentity"].(map[string]any)
	if uid["type"] != "IAMUser" || uid["userName"] != "twinvault-admin" || uid["accessKeyId"] != srv.AccessKey || uid["accountId"] != "000000000000" {
		t.Errorf("userIdentity %v", uid)
	}
	params := create["requestParameters"].(map[string]any)
	if params["workspaceId"] != "audited" || params["tags"].(map[string]any)["team"] != "ops" {
		t.Errorf("requestParameters %v", params)
	}
	if create["readOnly"] != false || create["responseElements"] == nil || create["eventSource"] != "iottwinmaker.amazonaws.com" {
		t.Errorf("create: readOnly %v responseElements %v", create["readOnly"], create["responseElements"])
	}
	if get := byID[key2(ids, "get")][0]; get["readOnly"] != true || get["responseElements"] != nil {
		t.Errorf("get: readOnly %v responseElements %v", get["readOnly"], get["responseElements"])
	}
	if denied := byID[key2(ids, "denied")][0]; denied["userIdentity"].(map[string]any)["userName"] != "nobody" {
		t.Errorf("denied: %v", denied["userIdentity"])
	}
	// The access key's secret is in no event.
	raw, _ := json.Marshal(all)
	if strings.Contains(string(raw), *key.AccessKey.SecretAccessKey) || strings.Contains(string(raw), srv.SecretKey) {
		t.Error("an event holds a secret access key")
	}
	// Each attribute finds what it should.
	for _, c := range []struct {
		key   cttypes.LookupAttributeKey
		value string
		min   int
	}{
		{cttypes.LookupAttributeKeyEventName, "CreateWorkspace", 2},
		{cttypes.LookupAttributeKeyUsername, "nobody", 1},
		{cttypes.LookupAttributeKeyAccessKeyId, *key.AccessKey.AccessKeyId, 1},
		{cttypes.LookupAttributeKeyEventSource, "iam.amazonaws.com", 2},
		{cttypes.LookupAttributeKeyReadOnly, "true", 2},
		{cttypes.LookupAttributeKeyResourceType, "AWS::IoTTwinMaker::Workspace", 3},
		{cttypes.LookupAttributeKeyResourceName, "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/audited", 3},
		{cttypes.LookupAttributeKeyEventId, create["eventID"].(string), 1},
	} {
		got := lookupAll(t, ct, c.key, c.value)
		if len(got) < c.min {
			t.Errorf("%s=%s: %d events, want at least %d", c.key, c.value, len(got), c.min)
		}
		if c.key == cttypes.LookupAttributeKeyEventId && len(got) != 1 {
			t.Errorf("EventId: %d events", len(got))
		}
	}
	// Paging, newest first.
	page, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(2)})
	if err != nil || len(page.Events) != 2 || page.NextToken == nil || page.Events[0].EventTime.Before(*page.Events[1].EventTime) {
		t.Fatalf("a page of 2: %v", err)
	}
	if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}); apiCode(err) != "InvalidMaxResultsException" {
		t.Errorf("MaxResults 51: %v", err)
	}
	if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(time.Now()), EndTime: aws.Time(time.Now().Add(-time.Hour))}); apiCode(err) != "InvalidTimeRangeException" {
		t.Errorf("an inverted range: %v", err)
	}
	// The nobody user may not read the trail.
	if _, err := srv.CloudTrail(srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); apiCode(err) != "AccessDeniedException" {
		t.Errorf("LookupEvents without permission: %v", err)
	}
}

func key2(ids map[string]string, what string) string {
	for id, w := range ids {
		if w == what {
			return id
		}
	}
	return ""
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestAuditFailsClosed: while the audit log cannot be written, calls are
// refused with 503 and change nothing; reads send no data; once it can,
// calls go on and the log is unbroken.
func TestAuditFailsClosed(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	mustWorkspace(t, tm, "guarded")
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: aws.String("guarded"), ComponentTypeId: aws.String("com.example.m"),
		PropertyDefinitions: map[string]types.PropertyDefinitionRequest{"t": {DataType: &types.DataType{Type: types.TypeDouble}, IsTimeSeries: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("guarded"), EntityId: aws.String("m1"), EntityName: aws.String("m"),
		Components: map[string]types.ComponentRequest{"c": {ComponentTypeId: aws.String("com.example.m")}}}); err != nil {
		t.Fatal(err)
	}
	ref := &types.EntityPropertyReference{EntityId: aws.String("m1"), ComponentName: aws.String("c"), PropertyName: aws.String("t")}
	log := srv.Node.AuditLog()
	log.SetFailHook(func() error { return errors.New("the disk is full") })
	_, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("guarded"), EntityId: aws.String("e1"), EntityName: aws.String("e")})
	if apiCode(err) != "ServiceUnavailableException" {
		t.Fatalf("a change while the log fails: %v", err)
	}
	// Its reservation is written while a BatchPut resolves its entries;
	// the points wait for it, and are not written when it fails.
	_, err = tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("guarded"), Entries: []types.PropertyValueEntry{{
		EntityPropertyReference: ref, PropertyValues: []types.PropertyValue{{Time: aws.String("2026-01-01T00:00:00Z"), Value: &types.DataValue{DoubleValue: aws.Float64(1)}}}}}})
	if apiCode(err) != "ServiceUnavailableException" {
		t.Fatalf("a BatchPut while the log fails: %v", err)
	}
	ws, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("guarded")})
	if apiCode(err) != "ServiceUnavailableException" || ws != nil {
		t.Fatalf("a read while the log fails: %v", err)
	}
	log.SetFailHook(nil)
	if _, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("guarded"), EntityId: aws.String("e1")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("the refused change happened: %v", err)
	}
	hist, err := tm.GetPropertyValueHistory(ctx, &iottwinmaker.GetPropertyValueHistoryInput{WorkspaceId: aws.String("guarded"), EntityId: ref.EntityId,
		ComponentName: ref.ComponentName, SelectedProperties: []string{"t"}, StartTime: aws.String("2025-01-01T00:00:00Z"), EndTime: aws.String("2027-01-01T00:00:00Z")})
	if err != nil || len(hist.PropertyValues) != 0 {
		t.Fatalf("the refused BatchPut wrote points: %v %+v", err, hist)
	}
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("guarded"), EntityId: aws.String("e1"), EntityName: aws.String("e")}); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	_, problems, err := log.Verify(ctx)
	if err != nil || len(problems) != 0 {
		t.Fatalf("the log after recovery: %v %v", problems, err)
	}
}

// TestListPublicKeys: CloudTrail's ListPublicKeys gives the key that
// checks the digests.
func TestListPublicKeys(t *testing.T) {
	srv := twinvaulttest.Start(t)
	out, err := srv.CloudTrail(srv.AWSConfig()).ListPublicKeys(context.Background(), &cloudtrail.ListPublicKeysInput{})
	if err != nil || len(out.PublicKeyList) != 1 {
		t.Fatalf("ListPublicKeys: %v", err)
	}
	k := out.PublicKeyList[0]
	pub, err := x509.ParsePKCS1PublicKey(k.Value)
	if err != nil || pub.N.BitLen() != 3072 || len(aws.ToString(k.Fingerprint)) != 32 {
		t.Fatalf("the key: %v", err)
	}
}

// TestWorkspaceKeysDestroyedAudited: deleting a workspace destroys its
// keys, and the audit trail says so with the call; a workspace re-created
// under the same ID sees nothing of the old one.
func TestWorkspaceKeysDestroyedAudited(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ws := aws.String("shredded")
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: ws}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.CreateComponentType(ctx, &iottwinmaker.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.secret")}); err != nil {
		t.Fatal(err)
	}
	tm.DeleteComponentType(ctx, &iottwinmaker.DeleteComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.secret")})
	if _, err := tm.DeleteWorkspace(ctx, &iottwinmaker.DeleteWorkspaceInput{WorkspaceId: ws}); err != nil {
		t.Fatal(err)
	}
	events := lookupAll(t, srv.CloudTrail(srv.AWSConfig()), cttypes.LookupAttributeKeyEventName, "DeleteWorkspace")
	if len(events) != 1 {
		t.Fatalf("%d DeleteWorkspace events", len(events))
	}
	resp, _ := events[0]["responseElements"].(map[string]any)
	if msg, _ := resp["message"].(string); !strings.Contains(msg, "encryption keys were destroyed") {
		t.Fatalf("the event's responseElements: %v", events[0]["responseElements"])
	}
	// A KeyDestroyed service event goes with the call, naming the workspace.
	ct := srv.CloudTrail(srv.AWSConfig())
	destroyed := lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, "KeyDestroyed")
	if len(destroyed) != 1 || destroyed[0]["eventType"] != "AwsServiceEvent" || destroyed[0]["requestID"] != events[0]["requestID"] {
		t.Fatalf("KeyDestroyed events: %v", destroyed)
	}
	details, _ := destroyed[0]["serviceEventDetails"].(map[string]any)
	res, _ := destroyed[0]["resources"].([]any)
	if details["keyScope"] != "workspace" || len(res) != 1 || !strings.HasSuffix(res[0].(map[string]any)["ARN"].(string), ":workspace/shredded") {
		t.Fatalf("the KeyDestroyed event: %v", destroyed[0])
	}
	// So does the deletion of a bucket; a failed deletion destroys nothing.
	s3c := srv.S3(srv.AWSConfig())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shredded-models")}); err != nil {
		t.Fatal(err)
	}
	s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shredded-models"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if _, err := s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("shredded-models")}); err == nil {
		t.Fatal("a bucket with an object was deleted")
	}
	if n := len(lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, "KeyDestroyed")); n != 1 {
		t.Fatalf("%d KeyDestroyed events after a failed DeleteBucket", n)
	}
	s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("shredded-models"), Key: aws.String("k")})
	if _, err := s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("shredded-models")}); err != nil {
		t.Fatal(err)
	}
	destroyed = lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, "KeyDestroyed")
	if len(destroyed) != 2 {
		t.Fatalf("%d KeyDestroyed events after DeleteBucket", len(destroyed))
	}
	if d, _ := destroyed[0]["serviceEventDetails"].(map[string]any); d["keyScope"] != "bucket" {
		t.Fatalf("the bucket's KeyDestroyed event: %v", destroyed[0])
	}
	if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: ws}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.GetComponentType(ctx, &iottwinmaker.GetComponentTypeInput{WorkspaceId: ws, ComponentTypeId: aws.String("com.example.secret")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("the re-created workspace: %v", err)
	}
}
