package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"

	"github.com/twinvault/twinvault/twinvaulttest"
)

// TestDataHygieneOnWrite: personal data in names and tags is refused by
// default without being echoed; in descriptions, and in tags once the
// workspace's policy says warn, it is accepted and audited as a finding
// with the field hidden; URLs carrying credentials are refused and kept
// out of the error and the audit trail.
func TestDataHygieneOnWrite(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	ct := srv.CloudTrail(srv.AWSConfig())
	const email = "jane.doe@example.com"

	_, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("plant"), Tags: map[string]string{"owner": email}})
	if apiCode(err) != "ValidationException" || !strings.Contains(err.Error(), "tags (a value)") || !strings.Contains(err.Error(), "EMAIL_ADDRESS") || strings.Contains(err.Error(), "jane") {
		t.Fatalf("a tag with an e-mail address: %v", err)
	}
	if _, err := tm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("the refused workspace exists: %v", err)
	}
	mustWorkspace(t, tm, "plant")
	ws := aws.String("plant")
	_, err = tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityName: aws.String("mixer of " + email)})
	if apiCode(err) != "ValidationException" || !strings.Contains(err.Error(), "entityName") || strings.Contains(err.Error(), "jane") {
		t.Fatalf("an entity name with an e-mail address: %v", err)
	}
	// Descriptions warn by default: accepted, audited, hidden.
	out, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityName: aws.String("mixer"), Description: aws.String("ask " + email)})
	if err != nil {
		t.Fatal(err)
	}
	// Clean writes pass and record no finding.
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityName: aws.String("Cookie Line 1 Mixer"), Description: aws.String("PLC-7 temperature sensor")}); err != nil {
		t.Fatalf("a clean entity: %v", err)
	}
	findingsOf := func(name string) (found [][]map[string]any, params []map[string]any) {
		for _, e := range lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, name) {
			extra, _ := e["additionalEventData"].(map[string]any)
			var fs []map[string]any
			if list, ok := extra["dataProtectionFindings"].([]any); ok {
				for _, f := range list {
					fs = append(fs, f.(map[string]any))
				}
			}
			found = append(found, fs)
			p, _ := e["requestParameters"].(map[string]any)
			params = append(params, p)
			raw, _ := json.Marshal(e)
			if strings.Contains(string(raw), email) {
				t.Fatalf("a %s event holds the e-mail address: %s", name, raw)
			}
		}
		return found, params
	}
	found, params := findingsOf("CreateEntity")
	if len(found) != 3 || len(found[0]) != 0 || len(found[1]) != 1 || len(found[2]) != 1 {
		t.Fatalf("CreateEntity findings (newest first): %v", found)
	}
	if found[1][0]["field"] != "description" || found[1][0]["type"] != "EMAIL_ADDRESS" || params[1]["description"] != "HIDDEN_DUE_TO_SECURITY_REASONS" || params[1]["entityName"] != "mixer" {
		t.Fatalf("the accepted description's event: %v %v", found[1], params[1])
	}
	if found[2][0]["field"] != "entityName" || params[2]["entityName"] != "HIDDEN_DUE_TO_SECURITY_REASONS" {
		t.Fatalf("the refused name's event: %v %v", found[2], params[2])
	}

	// The policy: tags to warn, names off.
	var pol map[string]any
	if code := keyCallWith(t, srv, "GetDataProtectionPolicy", []byte(`{"workspaceId":"plant"}`), &pol); code != http.StatusOK || pol["names"] != "reject" || pol["tags"] != "reject" || pol["descriptions"] != "warn" {
		t.Fatalf("the default policy: %d %v", code, pol)
	}
	if code := keyCallWith(t, srv, "PutDataProtectionPolicy", []byte(`{"workspaceId":"plant","tags":"warn","names":"off"}`), &pol); code != http.StatusOK || pol["tags"] != "warn" || pol["names"] != "off" || pol["descriptions"] != "warn" {
		t.Fatalf("PutDataProtectionPolicy: %d %v", code, pol)
	}
	if code := keyCallWith(t, srv, "PutDataProtectionPolicy", []byte(`{"workspaceId":"plant","tags":"maybe"}`), nil); code != http.StatusBadRequest {
		t.Fatalf("a bad mode: %d", code)
	}
	if code := keyCallWith(t, srv, "PutDataProtectionPolicy", []byte(`{"workspaceId":"nowhere","tags":"off"}`), nil); code != http.StatusNotFound {
		t.Fatalf("a missing workspace: %d", code)
	}
	if n := len(lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, "PutDataProtectionPolicy")); n != 3 {
		t.Fatalf("%d PutDataProtectionPolicy events", n)
	}
	arn := aws.String("arn:aws:iottwinmaker:us-east-1:000000000000:workspace/plant/entity/" + aws.ToString(out.EntityId))
	if _, err := tm.TagResource(ctx, &iottwinmaker.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"contact": email}}); err != nil {
		t.Fatalf("a tag under warn: %v", err)
	}
	found, params = findingsOf("TagResource")
	if len(found) != 1 || len(found[0]) != 1 || params[0]["tags"] != "HIDDEN_DUE_TO_SECURITY_REASONS" {
		t.Fatalf("TagResource's event: %v %v", found, params)
	}
	desk, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityName: aws.String("desk of " + email)})
	if err != nil {
		t.Fatalf("a name with the names policy off: %v", err)
	}
	// Back to reject: what was named before can still be changed and removed.
	keyCallWith(t, srv, "PutDataProtectionPolicy", []byte(`{"workspaceId":"plant","names":"reject"}`), nil)
	if _, err := tm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: ws, EntityId: desk.EntityId, EntityName: aws.String("desk 4")}); err != nil {
		t.Fatalf("renaming an entity named before the policy: %v", err)
	}
	if _, err := tm.DeleteEntity(ctx, &iottwinmaker.DeleteEntityInput{WorkspaceId: ws, EntityId: desk.EntityId}); err != nil {
		t.Fatalf("deleting it: %v", err)
	}
	// An ID that is itself personal data: refused, and masked in the
	// event's resources and message too.
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String(email), EntityName: aws.String("x")}); apiCode(err) != "ValidationException" {
		t.Fatalf("an e-mail address as entity ID: %v", err)
	}
	// Under warn, a finding in an ID is masked wherever the event shows the
	// ID: its resources, its response (the ARN), not only the parameter.
	keyCallWith(t, srv, "PutDataProtectionPolicy", []byte(`{"workspaceId":"plant","names":"warn"}`), nil)
	if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: ws, EntityId: aws.String("DE89370400440532013000"), EntityName: aws.String("x")}); err != nil {
		t.Fatalf("an IBAN as entity ID under warn: %v", err)
	}
	if raw, _ := json.Marshal(lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, "CreateEntity")[0]); strings.Contains(string(raw), "DE89370400440532013000") || !strings.Contains(string(raw), "IBAN") {
		t.Fatalf("the IBAN is in the event: %s", raw)
	}
	keyCallWith(t, srv, "PutDataProtectionPolicy", []byte(`{"workspaceId":"plant","names":"reject"}`), nil)
	// Every field is looked at, not only those before the first refusal.
	_, err = tm.CreateScene(ctx, &iottwinmaker.CreateSceneInput{WorkspaceId: ws, SceneId: aws.String("hall"), ContentLocation: aws.String("http://scenes.example.com/x.json"),
		Description: aws.String("owner " + email)})
	if apiCode(err) != "ValidationException" {
		t.Fatalf("a scene with two problems: %v", err)
	}
	for name, newest := range map[string]int{"CreateEntity": 1, "CreateScene": 1} {
		events := lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, name)
		raw, _ := json.Marshal(events[:newest])
		if strings.Contains(string(raw), email) || strings.Contains(string(raw), "jane.doe") {
			t.Fatalf("the refused %s event holds the e-mail address: %s", name, raw)
		}
	}

	// URLs with credentials: refused whatever the policy, never echoed.
	for _, loc := range []string{
		"https://scenes.example.com/plant.json?X-Amz-Signature=0123456789abcdef&X-Amz-Credential=AKIAQZXQZXQZXQZXQZXQ",
		"https://admin:hunter2QZX@scenes.example.com/plant.json",
		"http://scenes.example.com/plant.json",
	} {
		_, err := tm.CreateScene(ctx, &iottwinmaker.CreateSceneInput{WorkspaceId: ws, SceneId: aws.String("floor"), ContentLocation: aws.String(loc)})
		if apiCode(err) != "ValidationException" || !strings.Contains(err.Error(), "contentLocation") || strings.Contains(err.Error(), "scenes.example.com") || strings.Contains(err.Error(), "QZX") {
			t.Fatalf("contentLocation %s: %v", loc, err)
		}
	}
	for _, e := range lookupAll(t, ct, cttypes.LookupAttributeKeyEventName, "CreateScene") {
		raw, _ := json.Marshal(e)
		if strings.Contains(string(raw), "scenes.example.com") || strings.Contains(string(raw), "QZX") {
			t.Fatalf("the URL is in the audit trail: %s", raw)
		}
	}
}
