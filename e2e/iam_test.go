package e2e

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// TestLeastPrivilege: the administrator creates a user who may only read
// one workspace. The user's reads there succeed; every write, and every
// read of another workspace, is refused with AWS's explanation; a new
// user can do nothing; a deactivated key stops working at once.
func TestLeastPrivilege(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	admin := srv.IAM(srv.AWSConfig())
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	for _, ws := range []string{"plant", "other"} {
		mustWorkspace(t, tm, ws)
		if _, err := tm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String(ws), EntityId: aws.String("e1"), EntityName: aws.String("E1")}); err != nil {
			t.Fatal(err)
		}
	}

	// Who the administrator is.
	who, err := srv.STS(srv.AWSConfig()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::000000000000:user/twinvault-admin" || aws.ToString(who.Account) != "000000000000" {
		t.Fatalf("GetCallerIdentity: %v %+v", err, who)
	}

	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); apiCode(err) != "EntityAlreadyExists" {
		t.Fatalf("a second user of the same name: %v", err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil || !strings.HasPrefix(aws.ToString(key.AccessKey.AccessKeyId), "AKIA") || len(aws.ToString(key.AccessKey.SecretAccessKey)) != 40 {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	reader := srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
	rtm := srv.TwinMakerAs(reader)

	// A new user can do nothing.
	_, err = rtm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")})
	if apiCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(),
		"User: arn:aws:iam::000000000000:user/reader is not authorized to perform: iottwinmaker:GetWorkspace on resource: arn:aws:iottwinmaker:us-east-1:000000000000:workspace/plant because no identity-based policy allows the iottwinmaker:GetWorkspace action") {
		t.Fatalf("a new user's read: %v", err)
	}

	// Reading one workspace.
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"ReadPlant","Effect":"Allow",
		"Action":["iottwinmaker:Get*","iottwinmaker:List*","iottwinmaker:ExecuteQuery"],
		"Resource":["arn:aws:iottwinmaker:us-east-1:000000000000:workspace/plant","arn:aws:iottwinmaker:us-east-1:000000000000:workspace/plant/*"]}]}`
	pol, err := admin.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read-plant"), PolicyDocument: aws.String(doc)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: pol.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := rtm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")}); err != nil {
		t.Fatalf("GetWorkspace plant: %v", err)
	}
	if _, err := rtm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("e1")}); err != nil {
		t.Fatalf("GetEntity plant: %v", err)
	}
	if _, err := rtm.ListEntities(ctx, &iottwinmaker.ListEntitiesInput{WorkspaceId: aws.String("plant")}); err != nil {
		t.Fatalf("ListEntities plant: %v", err)
	}
	if _, err := rtm.ExecuteQuery(ctx, &iottwinmaker.ExecuteQueryInput{WorkspaceId: aws.String("plant"), QueryStatement: aws.String("SELECT e FROM EntityGraph MATCH (e)")}); err != nil {
		t.Fatalf("ExecuteQuery plant: %v", err)
	}
	// A missing entity in the allowed workspace is "not found"; in another
	// workspace, existing or not, it is "denied": a refusal says nothing
	// of existence.
	if _, err := rtm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("nope")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("GetEntity of a missing entity in plant: %v", err)
	}
	for _, id := range []string{"e1", "nope"} {
		if _, err := rtm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("other"), EntityId: aws.String(id)}); apiCode(err) != "AccessDeniedException" {
			t.Fatalf("GetEntity %s in other: %v", id, err)
		}
	}
	writes := map[string]func() error{
		"CreateEntity": func() error {
			_, err := rtm.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("plant"), EntityName: aws.String("x")})
			return err
		},
		"UpdateEntity": func() error {
			_, err := rtm.UpdateEntity(ctx, &iottwinmaker.UpdateEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("e1"), EntityName: aws.String("y")})
			return err
		},
		"DeleteEntity": func() error {
			_, err := rtm.DeleteEntity(ctx, &iottwinmaker.DeleteEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("e1")})
			return err
		},
		"DeleteWorkspace": func() error {
			_, err := rtm.DeleteWorkspace(ctx, &iottwinmaker.DeleteWorkspaceInput{WorkspaceId: aws.String("plant")})
			return err
		},
		"CreateWorkspace": func() error {
			_, err := rtm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String("mine")})
			return err
		},
		"ListWorkspaces": func() error {
			_, err := rtm.ListWorkspaces(ctx, &iottwinmaker.ListWorkspacesInput{})
			return err
		},
		"GetWorkspace other": func() error {
			_, err := rtm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("other")})
			return err
		},
		"iam:CreateUser": func() error {
			_, err := srv.IAM(reader).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
			if apiCode(err) == "AccessDenied" {
				return &smithy.GenericAPIError{Code: "AccessDeniedException"}
			}
			return err
		},
	}
	for name, call := range writes {
		if err := call(); apiCode(err) != "AccessDeniedException" {
			t.Errorf("%s by the reader: %v", name, err)
		}
	}
	if e, err := tm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("e1")}); err != nil || aws.ToString(e.EntityName) != "E1" {
		t.Fatalf("the entity after refused writes: %v", err)
	}

	// An explicit deny wins over the allow, and says so.
	deny := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iottwinmaker:GetEntity","Resource":"*"}}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("no-entities"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	_, err = rtm.GetEntity(ctx, &iottwinmaker.GetEntityInput{WorkspaceId: aws.String("plant"), EntityId: aws.String("e1")})
	if apiCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "with an explicit deny in an identity-based policy") {
		t.Fatalf("an explicit deny: %v", err)
	}
	got, err := admin.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("no-entities")})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := url.QueryUnescape(aws.ToString(got.PolicyDocument)); d != deny {
		t.Fatalf("GetUserPolicy: %q", aws.ToString(got.PolicyDocument))
	}

	// A malformed policy is refused when it is stored.
	_, err = admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("bad"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Boool":{"aws:SecureTransport":"false"}}}}`)})
	if apiCode(err) != "MalformedPolicyDocument" {
		t.Fatalf("a malformed policy: %v", err)
	}

	// A deactivated key stops working at once.
	if _, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: key.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if _, err := rtm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")}); apiCode(err) != "UnrecognizedClientException" {
		t.Fatalf("a deactivated key: %v", err)
	}
	keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("reader")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeInactive {
		t.Fatalf("ListAccessKeys: %v", err)
	}
	last, err := admin.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: key.AccessKey.AccessKeyId})
	if err != nil || last.AccessKeyLastUsed.LastUsedDate == nil || aws.ToString(last.AccessKeyLastUsed.ServiceName) != "iottwinmaker" {
		t.Fatalf("GetAccessKeyLastUsed: %v %+v", err, last)
	}

	// A user with anything attached cannot be deleted; then it can.
	if _, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("reader")}); apiCode(err) != "DeleteConflict" {
		t.Fatalf("deleting a user with keys and policies: %v", err)
	}
	admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: key.AccessKey.AccessKeyId})
	admin.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("no-entities")})
	admin.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: pol.Policy.Arn})
	if _, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("reader")}); apiCode(err) != "NoSuchEntity" {
		t.Fatalf("GetUser after delete: %v", err)
	}
	if _, err := admin.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: pol.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
}

// TestGroupsAndSimulation: a user gets a group's policies while a member;
// SimulatePrincipalPolicy explains decisions statement by statement.
func TestGroupsAndSimulation(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	admin := srv.IAM(srv.AWSConfig())
	mustWorkspace(t, srv.TwinMaker(twinvaulttest.NoHostPrefix), "plant")
	admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann")})
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ann")})
	if err != nil {
		t.Fatal(err)
	}
	ann := srv.TwinMakerAs(srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	if _, err := admin.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSIoTTwinMakerReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("no-queries"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Sid":"NoQueries","Effect":"Deny","Action":"iottwinmaker:ExecuteQuery","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	get := func() error {
		_, err := ann.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")})
		return err
	}
	if err := get(); apiCode(err) != "AccessDeniedException" {
		t.Fatalf("before joining: %v", err)
	}
	if _, err := admin.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("ann")}); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("as a member: %v", err)
	}
	g, err := admin.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("readers")})
	if err != nil || len(g.Users) != 1 || aws.ToString(g.Users[0].UserName) != "ann" {
		t.Fatalf("GetGroup: %v", err)
	}
	if _, err := admin.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("readers")}); apiCode(err) != "DeleteConflict" {
		t.Fatalf("deleting a group with members: %v", err)
	}

	sim, err := admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/ann"),
		ActionNames:  []string{"iottwinmaker:GetEntity", "iottwinmaker:ExecuteQuery", "iottwinmaker:DeleteEntity"},
		ResourceArns: []string{"arn:aws:iottwinmaker:us-east-1:000000000000:workspace/plant"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]iamtypes.PolicyEvaluationDecisionType{
		"iottwinmaker:GetEntity":    iamtypes.PolicyEvaluationDecisionTypeAllowed,
		"iottwinmaker:ExecuteQuery": iamtypes.PolicyEvaluationDecisionTypeExplicitDeny,
		"iottwinmaker:DeleteEntity": iamtypes.PolicyEvaluationDecisionTypeImplicitDeny,
	}
	if len(sim.EvaluationResults) != 3 {
		t.Fatalf("%d results", len(sim.EvaluationResults))
	}
	for _, r := range sim.EvaluationResults {
		if r.EvalDecision != want[aws.ToString(r.EvalActionName)] {
			t.Errorf("%s: %s", aws.ToString(r.EvalActionName), r.EvalDecision)
		}
		if aws.ToString(r.EvalActionName) == "iottwinmaker:ExecuteQuery" && (len(r.MatchedStatements) != 1 || !strings.HasSuffix(aws.ToString(r.MatchedStatements[0].SourcePolicyId), "#NoQueries")) {
			t.Errorf("the denying statement: %+v", r.MatchedStatements)
		}
	}

	if _, err := admin.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("readers"), UserName: aws.String("ann")}); err != nil {
		t.Fatal(err)
	}
	if err := get(); apiCode(err) != "AccessDeniedException" {
		t.Fatalf("after leaving: %v", err)
	}
}

// TestTagConditions: aws:ResourceTag decides by the tags of the workspace
// asked for; aws:RequestTag and aws:TagKeys by the tags a request sets.
func TestTagConditions(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	admin := srv.IAM(srv.AWSConfig())
	tm := srv.TwinMaker(twinvaulttest.NoHostPrefix)
	for ws, team := range map[string]string{"ops-ws": "ops", "dev-ws": "dev"} {
		if _, err := tm.CreateWorkspace(ctx, &iottwinmaker.CreateWorkspaceInput{WorkspaceId: aws.String(ws), Tags: map[string]string{"team": team}}); err != nil {
			t.Fatal(err)
		}
	}
	admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("tagged")})
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iottwinmaker:GetWorkspace","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"ops"}}},
		{"Effect":"Allow","Action":"iottwinmaker:CreateEntity","Resource":"*",
		 "Condition":{"StringEquals":{"aws:RequestTag/env":"test"},"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("tagged"), PolicyName: aws.String("abac"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	u := srv.TwinMakerAs(srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	if _, err := u.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("ops-ws")}); err != nil {
		t.Fatalf("the ops workspace: %v", err)
	}
	for _, ws := range []string{"dev-ws", "missing-ws"} {
		if _, err := u.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String(ws)}); apiCode(err) != "AccessDeniedException" {
			t.Fatalf("%s: %v", ws, err)
		}
	}
	create := func(tags map[string]string) error {
		_, err := u.CreateEntity(ctx, &iottwinmaker.CreateEntityInput{WorkspaceId: aws.String("dev-ws"), EntityName: aws.String("e"), Tags: tags})
		return err
	}
	if err := create(map[string]string{"env": "test"}); err != nil {
		t.Fatalf("an entity tagged env=test: %v", err)
	}
	for _, tags := range []map[string]string{nil, {"env": "prod"}, {"env": "test", "owner": "me"}} {
		if err := create(tags); apiCode(err) != "AccessDeniedException" {
			t.Errorf("an entity tagged %v: %v", tags, err)
		}
	}
}

// TestIAMPaging: List actions page with MaxItems and Marker, as the SDK's
// paginators expect.
func TestIAMPaging(t *testing.T) {
	srv := twinvaulttest.Start(t)
	ctx := context.Background()
	admin := srv.IAM(srv.AWSConfig())
	for _, n := range []string{"u1", "u2", "u3", "u4"} {
		if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pages := 0
	p := iam.NewListUsersPaginator(admin, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if pages != 3 || strings.Join(names, ",") != "twinvault-admin,u1,u2,u3,u4" {
		t.Fatalf("%d pages: %v", pages, names)
	}
	if _, err := admin.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(0)}); apiCode(err) != "ValidationError" {
		t.Fatalf("MaxItems 0: %v", err)
	}
	// Role and group policies read back.
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"sts:AssumeRole"}}`
	admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)})
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iottwinmaker:List*","Resource":"*"}}`
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	names2, err := admin.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("r")})
	if err != nil || len(names2.PolicyNames) != 1 {
		t.Fatalf("ListRolePolicies: %v", err)
	}
	got, err := admin.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p")})
	if d, _ := url.QueryUnescape(aws.ToString(got.PolicyDocument)); err != nil || d != doc {
		t.Fatalf("GetRolePolicy: %v %q", err, d)
	}
	role, err := admin.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	if d, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument)); err != nil || d != trust || aws.ToInt32(role.Role.MaxSessionDuration) != 3600 {
		t.Fatalf("GetRole: %v", err)
	}
	if _, err := admin.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")}); apiCode(err) != "DeleteConflict" {
		t.Fatalf("deleting a role with a policy: %v", err)
	}
}

// TestSecretsNotLogged: creating keys, MFA devices and sessions, and
// failing with them, leaves no secret in the log, even at debug level.
func TestSecretsNotLogged(t *testing.T) {
	var logs syncBuffer
	srv := twinvaulttest.Start(t, func(c *node.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	admin := srv.IAM(srv.AWSConfig())
	admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("quiet")})
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("quiet")})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := admin.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("quiet")})
	if err != nil {
		t.Fatal(err)
	}
	user := srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
	sess, err := srv.STS(user).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	// Failures: a wrong secret, a wrong token, a wrong MFA code.
	srv.STS(srv.Credentials(*key.AccessKey.AccessKeyId, "wrong"+*key.AccessKey.SecretAccessKey, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	srv.STS(srv.Credentials(*sess.Credentials.AccessKeyId, *sess.Credentials.SecretAccessKey, "x"+*sess.Credentials.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	srv.STS(user).GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: dev.VirtualMFADevice.SerialNumber, TokenCode: aws.String("123456")})
	out := logs.String()
	if !strings.Contains(out, "GetSessionToken") {
		t.Fatalf("nothing was logged:\n%s", out)
	}
	for name, secret := range map[string]string{"admin secret": srv.SecretKey, "user secret": *key.AccessKey.SecretAccessKey,
		"session secret": *sess.Credentials.SecretAccessKey, "session token": *sess.Credentials.SessionToken,
		"MFA seed": string(dev.VirtualMFADevice.Base32StringSeed)} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}
