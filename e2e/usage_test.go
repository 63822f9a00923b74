package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker/types"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// GetStorageUsage counts a workspace's points and series as they are
// written and deleted, answers bad requests with the matching error, and
// is an IAM action on the workspace.
func TestStorageUsage(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	sensorWorkspace(t, tm, "plant")
	mustWorkspace(t, tm, "other")
	usage := func(ws string) node.StorageUsage {
		t.Helper()
		var u node.StorageUsage
		if code := keyCallWith(t, srv, "GetStorageUsage", []byte(`{"workspaceId":"`+ws+`"}`), &u); code != http.StatusOK {
			t.Fatalf("GetStorageUsage %s: %d", ws, code)
		}
		return u
	}
	if u := usage("plant"); u.Points != 0 || u.Series != 0 || u.StoredBytes != 0 || u.WorkspaceID != "plant" {
		t.Fatalf("before any write: %+v", u)
	}
	var entries []types.PropertyValueEntry
	for e := range 3 {
		var vals []types.PropertyValue
		for i := range 10 {
			vals = append(vals, types.PropertyValue{Time: at(e*10 + i), Value: &types.DataValue{DoubleValue: aws.Float64(float64(i))}})
		}
		entries = append(entries, types.PropertyValueEntry{EntityPropertyReference: ref("d"), PropertyValues: vals})
	}
	entries = append(entries, types.PropertyValueEntry{EntityPropertyReference: ref("s"), PropertyValues: []types.PropertyValue{
		{Time: at(0), Value: &types.DataValue{StringValue: aws.String("on")}}, {Time: at(1), Value: &types.DataValue{StringValue: aws.String("off")}}}})
	if out, err := tm.BatchPutPropertyValues(ctx, &iottwinmaker.BatchPutPropertyValuesInput{WorkspaceId: aws.String("plant"), Entries: entries}); err != nil || len(out.ErrorEntries) > 0 {
		t.Fatalf("BatchPutPropertyValues: %v", err)
	}
	u := usage("plant")
	if u.Points != 32 || u.Series != 2 || u.StoredBytes == 0 || u.StoredBytes != u.BlockBytes+u.PendingBytes+u.OtherBytes {
		t.Fatalf("after 32 points in 2 series: %+v", u)
	}
	if u := usage("other"); u.Points != 0 {
		t.Fatalf("another workspace: %+v", u)
	}
	if _, err := tm.DeleteEntity(ctx, &iottwinmaker.DeleteEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("dev1")}); err != nil {
		t.Fatal(err)
	}
	if u := usage("plant"); u.Points != 0 || u.Series != 0 {
		t.Fatalf("after the entity's deletion: %+v", u)
	}

	for _, c := range []struct {
		body string
		code int
	}{
		{`{"workspaceId":"nowhere"}`, http.StatusNotFound},
		{`{}`, http.StatusBadRequest},
		{`not json`, http.StatusBadRequest},
		{`{"workspaceId":"` + strings.Repeat("w", 129) + `"}`, http.StatusBadRequest},
		{`{"workspaceId":"bad id"}`, http.StatusBadRequest},
	} {
		if code := keyCallWith(t, srv, "GetStorageUsage", []byte(c.body), nil); code != c.code {
			t.Errorf("GetStorageUsage %s: %d, want %d", c.body, code, c.code)
		}
	}

	// A user allowed it on one workspace only.
	admin := srv.IAM(srv.AWSConfig())
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"twinvault:GetStorageUsage",
		"Resource":"arn:aws:iottwinmaker:us-east-1:000000000000:workspace/plant"}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("usage"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ops")})
	if err != nil {
		t.Fatal(err)
	}
	ops := aws.Credentials{AccessKeyID: *key.AccessKey.AccessKeyId, SecretAccessKey: *key.AccessKey.SecretAccessKey}
	for ws, want := range map[string]int{"plant": http.StatusOK, "other": http.StatusForbidden} {
		resp := keyRequestAs(t, srv, ops, "GetStorageUsage", []byte(`{"workspaceId":"`+ws+`"}`))
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("the user's GetStorageUsage of %s: %d, want %d", ws, resp.StatusCode, want)
		}
	}
}
