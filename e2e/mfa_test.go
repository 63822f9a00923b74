package e2e

import (
	"context"
	"encoding/base32"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iottwinmaker"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/twinvault/twinvault/auth/totp"
	"github.com/twinvault/twinvault/node"
	"github.com/twinvault/twinvault/twinvaulttest"
)

// clock is the IAM clock of a test server, moved forward by hand.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestMFAAndSessions: a policy that requires MFA refuses a user's
// long-term key and admits the session GetSessionToken makes with a valid
// code; a wrong or reused code is refused; an AssumeRole session works
// within its role's policies and stops when it expires.
func TestMFAAndSessions(t *testing.T) {
	var clk clock
	srv := twinvaulttest.Start(t, func(c *node.Config) { c.IAMNow = clk.Now })
	ctx := context.Background()
	admin := srv.IAM(srv.AWSConfig())
	mustWorkspace(t, srv.TwinMaker(twinvaulttest.NoHostPrefix), "plant")

	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("operator")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("operator")})
	if err != nil {
		t.Fatal(err)
	}
	longTerm := srv.Credentials(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")

	// The device: its seed comes back once, as Base32 text and a QR code.
	dev, err := admin.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("operator-phone")})
	if err != nil {
		t.Fatal(err)
	}
	serial := aws.ToString(dev.VirtualMFADevice.SerialNumber)
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(dev.VirtualMFADevice.Base32StringSeed))
	if err != nil || len(seed) != 20 || serial != "arn:aws:iam::000000000000:mfa/operator-phone" {
		t.Fatalf("CreateVirtualMFADevice: seed %d bytes, serial %s, %v", len(seed), serial, err)
	}
	if !strings.HasPrefix(string(dev.VirtualMFADevice.QRCodePNG), "\x89PNG") {
		t.Fatal("QRCodePNG is not a PNG")
	}
	code := func(at time.Time) string { return totp.TOTP(seed, at, 6, totp.SHA1) }
	now := clk.Now()
	if _, err := admin.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("operator"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(code(now)), AuthenticationCode2: aws.String(code(now))}); apiCode(err) != "InvalidAuthenticationCode" {
		t.Fatalf("enabling with the same code twice: %v", err)
	}
	if _, err := admin.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("operator"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(code(now.Add(-30 * time.Second))), AuthenticationCode2: aws.String(code(now))}); err != nil {
		t.Fatalf("EnableMFADevice: %v", err)
	}
	devs, err := admin.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("operator")})
	if err != nil || len(devs.MFADevices) != 1 || aws.ToString(devs.MFADevices[0].SerialNumber) != serial {
		t.Fatalf("ListMFADevices: %v", err)
	}

	// AWS's own "force MFA" policy, plus the right to use the workspace.
	doc := `{"Version":"2012-10-17","Statement":[
		{"Sid":"UsePlant","Effect":"Allow","Action":"iottwinmaker:*","Resource":["arn:aws:iottwinmaker:*:*:workspace/plant","arn:aws:iottwinmaker:*:*:workspace/plant/*"]},
		{"Sid":"AssumeOps","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::000000000000:role/ops"},
		{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["sts:GetSessionToken","iam:ListMFADevices"],"Resource":"*",
		 "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("operator"), PolicyName: aws.String("force-mfa"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	get := func(cfg aws.Config) error {
		_, err := srv.TwinMakerAs(cfg).GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")})
		return err
	}
	if err := get(longTerm); apiCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "explicit deny") {
		t.Fatalf("the long-term key under the MFA policy: %v", err)
	}
	stsc := srv.STS(longTerm)
	if _, err := stsc.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String("000000")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("a wrong code: %v", err)
	}
	// The enrollment's second code was the current step: it is spent. The
	// next step's code (accepted one step ahead) opens a session.
	if _, err := stsc.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(code(now))}); apiCode(err) != "AccessDenied" {
		t.Fatalf("the enrollment code used again: %v", err)
	}
	next := code(now.Add(30 * time.Second))
	sess, err := stsc.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(next), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("GetSessionToken with MFA: %v", err)
	}
	c := sess.Credentials
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SessionToken) == "" || time.Until(*c.Expiration) > 16*time.Minute {
		t.Fatalf("credentials: %s expiring %v", aws.ToString(c.AccessKeyId), c.Expiration)
	}
	mfaSession := srv.Credentials(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	if err := get(mfaSession); err != nil {
		t.Fatalf("the MFA session: %v", err)
	}
	if _, err := stsc.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(next)}); apiCode(err) != "AccessDenied" {
		t.Fatalf("a code used twice: %v", err)
	}
	// A session without MFA is still refused by the policy.
	plain, err := stsc.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if err := get(srv.Credentials(*plain.Credentials.AccessKeyId, *plain.Credentials.SecretAccessKey, *plain.Credentials.SessionToken)); apiCode(err) != "AccessDeniedException" {
		t.Fatalf("a session without MFA: %v", err)
	}
	// A session's token must come with it.
	if err := get(srv.Credentials(*c.AccessKeyId, *c.SecretAccessKey, *plain.Credentials.SessionToken)); apiCode(err) == "" {
		t.Fatal("a session accepted another session's token")
	}
	who, err := srv.STS(mfaSession).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::000000000000:user/operator" {
		t.Fatalf("GetCallerIdentity of the session: %v", err)
	}

	// A role the operator may assume, which may only list entities.
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/operator"},"Action":"sts:AssumeRole",
		"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iottwinmaker:ListEntities","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	roleArn := aws.String("arn:aws:iam::000000000000:role/ops")
	// Without MFA the trust policy says no.
	if _, err := srv.STS(srv.Credentials(*plain.Credentials.AccessKeyId, *plain.Credentials.SecretAccessKey, *plain.Credentials.SessionToken)).AssumeRole(ctx,
		&sts.AssumeRoleInput{RoleArn: roleArn, RoleSessionName: aws.String("night")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("AssumeRole without MFA: %v", err)
	}
	ar, err := srv.STS(mfaSession).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: roleArn, RoleSessionName: aws.String("night"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if aws.ToString(ar.AssumedRoleUser.Arn) != "arn:aws:sts::000000000000:assumed-role/ops/night" {
		t.Fatalf("AssumedRoleUser %s", aws.ToString(ar.AssumedRoleUser.Arn))
	}
	role := srv.Credentials(*ar.Credentials.AccessKeyId, *ar.Credentials.SecretAccessKey, *ar.Credentials.SessionToken)
	rtm := srv.TwinMakerAs(role)
	if _, err := rtm.ListEntities(ctx, &iottwinmaker.ListEntitiesInput{WorkspaceId: aws.String("plant")}); err != nil {
		t.Fatalf("the role's ListEntities: %v", err)
	}
	_, err = rtm.GetWorkspace(ctx, &iottwinmaker.GetWorkspaceInput{WorkspaceId: aws.String("plant")})
	if apiCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "arn:aws:sts::000000000000:assumed-role/ops/night") {
		t.Fatalf("the role's GetWorkspace: %v", err)
	}
	// Fifteen minutes on, the sessions are over.
	clk.Advance(901 * time.Second)
	if _, err := rtm.ListEntities(ctx, &iottwinmaker.ListEntitiesInput{WorkspaceId: aws.String("plant")}); apiCode(err) != "ExpiredTokenException" {
		t.Fatalf("an expired role session: %v", err)
	}
	if err := get(mfaSession); apiCode(err) != "ExpiredTokenException" {
		t.Fatalf("an expired MFA session: %v", err)
	}
}
