package node

import (
	"context"
	"strings"

	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/iam"
)

// authorizer decides API calls with the IAM store: who holds the access
// key, and what their policies allow.
type authorizer struct {
	iam     *iam.Store
	catalog *catalog.Service
}

func (a authorizer) Authorize(ctx context.Context, req *api.Request, call *api.Call, code string) error {
	var p *iam.Principal
	var err error
	if req.CertUser != "" {
		p, err = a.iam.PrincipalOfUser(ctx, req.CertUser)
	} else {
		p, err = a.iam.PrincipalOf(ctx, req.AccessKeyID, req.SecurityToken)
	}
	if err != nil {
		return err
	}
	req.PrincipalARN, req.UserID, req.UserName = p.ARN, p.UserID, p.UserName
	req.Session, req.MFA, req.SessionCreated = p.Session, p.MFA, p.Created
	if call.Action == "" {
		return nil // an action that needs no permission
	}
	if err := p.Authorize(&iam.Call{Action: call.Action, Resources: call.Resources, SourceIP: req.SourceIP, Region: call.Region,
		UserAgent: call.UserAgent, Secure: call.Secure, Context: call.Context, Now: a.iam.Now(), ResourceTags: a.resourceTags(ctx, call)}, code); err != nil {
		return err
	}
	if iam.IsSession(req.AccessKeyID) || req.CertUser != "" {
		return nil
	}
	service, _, _ := strings.Cut(call.Action, ":")
	return a.iam.Touch(ctx, req.AccessKeyID, service, call.Region)
}

// resourceTags reads the tags of TwinMaker resources; IAM's are not
// tagged for conditions here.
func (a authorizer) resourceTags(ctx context.Context, call *api.Call) func(string) (map[string]string, error) {
	if !strings.HasPrefix(call.Action, "iottwinmaker:") {
		return nil
	}
	return func(arn string) (map[string]string, error) { return a.catalog.ResourceTags(ctx, arn) }
}
