// Package iamapi serves the IAM and STS actions of the Query protocol over
// the iam Store: it reads each action's form parameters, calls the store,
// and returns the result shapes the AWS SDKs and CLI parse.
package iamapi

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/iam"
)

// Bind connects the IAM and STS actions to s.
func Bind(s *api.Server, st *iam.Store) {
	h := &handlers{st: st}
	user := func(f url.Values, req *api.Request) []string { return []string{userARN(userOrCaller(f, req))} }
	pol := func(f url.Values, _ *api.Request) []string { return []string{f.Get("PolicyArn")} }
	none := func(url.Values, *api.Request) []string { return []string{"*"} }
	mfa := func(f url.Values, _ *api.Request) []string {
		return []string{"arn:aws:iam::" + iam.Account + ":mfa" + orSlash(f.Get("Path")) + f.Get("VirtualMFADeviceName")}
	}
	serial := func(f url.Values, _ *api.Request) []string { return []string{f.Get("SerialNumber")} }
	policyByName := func(f url.Values, _ *api.Request) []string {
		return []string{"arn:aws:iam::" + iam.Account + ":policy" + orSlash(f.Get("Path")) + f.Get("PolicyName")}
	}
	for name, a := range map[string]struct {
		res func(url.Values, *api.Request) []string
		fn  func(context.Context, url.Values) (any, error)
	}{
		"CreateUser": {user, h.createUser},
		"GetUser":    {user, h.getUser},
		"ListUsers":  {none, h.listUsers},
		"DeleteUser": {user, h.do(func(ctx context.Context, f url.Values) error { return st.DeleteUser(ctx, f.Get("UserName")) }, "UserName")},
		"TagUser":    {user, h.do(func(ctx context.Context, f url.Values) error { return st.TagUser(ctx, f.Get("UserName"), tags(f)) }, "UserName")},
		"UntagUser": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.UntagUser(ctx, f.Get("UserName"), members(f, "TagKeys"))
		}, "UserName")},
		"ListUserTags":    {user, h.listUserTags},
		"CreateAccessKey": {user, h.createAccessKey},
		"ListAccessKeys":  {user, h.listAccessKeys},
		"UpdateAccessKey": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.UpdateAccessKey(ctx, userOrCaller(f, api.FromContext(ctx)), f.Get("AccessKeyId"), f.Get("Status"))
		}, "AccessKeyId", "Status")},
		"DeleteAccessKey": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.DeleteAccessKey(ctx, userOrCaller(f, api.FromContext(ctx)), f.Get("AccessKeyId"))
		}, "AccessKeyId")},
		"GetAccessKeyLastUsed": {none, h.accessKeyLastUsed},
		"PutUserPolicy": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.PutUserPolicy(ctx, f.Get("UserName"), f.Get("PolicyName"), f.Get("PolicyDocument"))
		}, "UserName", "PolicyName", "PolicyDocument")},
		"GetUserPolicy":    {user, h.getUserPolicy},
		"ListUserPolicies": {user, h.listUserPolicies},
		"DeleteUserPolicy": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.DeleteUserPolicy(ctx, f.Get("UserName"), f.Get("PolicyName"))
		}, "UserName", "PolicyName")},
		"AttachUserPolicy": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.AttachUserPolicy(ctx, f.Get("UserName"), f.Get("PolicyArn"))
		}, "UserName", "PolicyArn")},
		"DetachUserPolicy": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.DetachUserPolicy(ctx, f.Get("UserName"), f.Get("PolicyArn"))
		}, "UserName", "PolicyArn")},
		"ListAttachedUserPolicies": {user, h.listAttachedUserPolicies},
		"CreatePolicy":             {policyByName, h.createPolicy},
		"GetPolicy":                {pol, h.getPolicy},
		"ListPolicies":             {none, h.listPolicies},
		"DeletePolicy":             {pol, h.do(func(ctx context.Context, f url.Values) error { return st.DeletePolicy(ctx, f.Get("PolicyArn")) }, "PolicyArn")},
		"CreatePolicyVersion":      {pol, h.createPolicyVersion},
		"GetPolicyVersion":         {pol, h.getPolicyVersion},
		"ListPolicyVersions":       {pol, h.listPolicyVersions},
		"DeletePolicyVersion": {pol, h.do(func(ctx context.Context, f url.Values) error {
			return st.DeletePolicyVersion(ctx, f.Get("PolicyArn"), f.Get("VersionId"))
		}, "PolicyArn", "VersionId")},
		"SetDefaultPolicyVersion": {pol, h.do(func(ctx context.Context, f url.Values) error {
			return st.SetDefaultPolicyVersion(ctx, f.Get("PolicyArn"), f.Get("VersionId"))
		}, "PolicyArn", "VersionId")},
		"CreateVirtualMFADevice": {mfa, h.createVirtualMFADevice},
		"EnableMFADevice": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.EnableMFADevice(ctx, f.Get("UserName"), f.Get("SerialNumber"), f.Get("AuthenticationCode1"), f.Get("AuthenticationCode2"))
		}, "UserName", "SerialNumber", "AuthenticationCode1", "AuthenticationCode2")},
		"DeactivateMFADevice": {user, h.do(func(ctx context.Context, f url.Values) error {
			return st.DeactivateMFADevice(ctx, userOrCaller(f, api.FromContext(ctx)), f.Get("SerialNumber"))
		}, "SerialNumber")},
		"DeleteVirtualMFADevice": {serial, h.do(func(ctx context.Context, f url.Values) error {
			return st.DeleteVirtualMFADevice(ctx, f.Get("SerialNumber"))
		}, "SerialNumber")},
		"ListMFADevices":        {user, h.listMFADevices},
		"ListVirtualMFADevices": {none, h.listVirtualMFADevices},
		"CreateRole":            {roleARN, h.createRole},
		"GetRole":               {roleARN, h.getRole},
		"ListRoles":             {none, h.listRoles},
		"DeleteRole":            {roleARN, h.do(func(ctx context.Context, f url.Values) error { return st.DeleteRole(ctx, f.Get("RoleName")) }, "RoleName")},
		"UpdateAssumeRolePolicy": {roleARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.UpdateAssumeRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyDocument"))
		}, "RoleName", "PolicyDocument")},
		"PutRolePolicy": {roleARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.PutRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyName"), f.Get("PolicyDocument"))
		}, "RoleName", "PolicyName", "PolicyDocument")},
		"DeleteRolePolicy": {roleARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.DeleteRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyName"))
		}, "RoleName", "PolicyName")},
		"AttachRolePolicy": {roleARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.AttachRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyArn"))
		}, "RoleName", "PolicyArn")},
		"DetachRolePolicy": {roleARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.DetachRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyArn"))
		}, "RoleName", "PolicyArn")},
		"CreateGroup":       {groupARN, h.createGroup},
		"GetGroup":          {groupARN, h.getGroup},
		"ListGroups":        {none, h.listGroups},
		"ListGroupsForUser": {user, h.listGroupsForUser},
		"DeleteGroup": {groupARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.DeleteGroup(ctx, f.Get("GroupName"))
		}, "GroupName")},
		"AddUserToGroup": {groupARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.AddUserToGroup(ctx, f.Get("GroupName"), f.Get("UserName"))
		}, "GroupName", "UserName")},
		"RemoveUserFromGroup": {groupARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.RemoveUserFromGroup(ctx, f.Get("GroupName"), f.Get("UserName"))
		}, "GroupName", "UserName")},
		"PutGroupPolicy": {groupARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.PutGroupPolicy(ctx, f.Get("GroupName"), f.Get("PolicyName"), f.Get("PolicyDocument"))
		}, "GroupName", "PolicyName", "PolicyDocument")},
		"DeleteGroupPolicy": {groupARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.DeleteGroupPolicy(ctx, f.Get("GroupName"), f.Get("PolicyName"))
		}, "GroupName", "PolicyName")},
		"AttachGroupPolicy": {groupARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.AttachGroupPolicy(ctx, f.Get("GroupName"), f.Get("PolicyArn"))
		}, "GroupName", "PolicyArn")},
		"DetachGroupPolicy": {groupARN, h.do(func(ctx context.Context, f url.Values) error {
			return st.DetachGroupPolicy(ctx, f.Get("GroupName"), f.Get("PolicyArn"))
		}, "GroupName", "PolicyArn")},
		"ListAttachedGroupPolicies": {groupARN, h.listAttachedGroupPolicies},
		"ListAttachedRolePolicies":  {roleARN, h.listAttachedRolePolicies},
		"ListGroupPolicies":         {groupARN, h.listGroupPolicies},
		"ListRolePolicies":          {roleARN, h.listRolePolicies},
		"GetGroupPolicy":            {groupARN, h.getGroupPolicy},
		"GetRolePolicy":             {roleARN, h.getRolePolicy},
		"SimulatePrincipalPolicy":   {func(f url.Values, _ *api.Request) []string { return []string{f.Get("PolicySourceArn")} }, h.simulatePrincipalPolicy},
	} {
		api.HandleQuery(s, "iam", name, a.res, a.fn)
	}
	// AWS requires no permission for these two: any signer may ask who it
	// is, and turn its own key into a session.
	api.HandleQuery(s, "sts", "GetCallerIdentity", nil, h.getCallerIdentity)
	api.HandleQuery(s, "sts", "GetSessionToken", nil, h.getSessionToken)
	api.HandleQuery(s, "sts", "AssumeRole", func(f url.Values, _ *api.Request) []string { return []string{f.Get("RoleArn")} }, h.assumeRole)
}

type handlers struct{ st *iam.Store }

func userARN(name string) string { return "arn:aws:iam::" + iam.Account + ":user/" + name }

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// userOrCaller is the UserName parameter, or the caller's own name: IAM's
// rule for the actions a user may run on itself.
func userOrCaller(f url.Values, req *api.Request) string {
	if u := f.Get("UserName"); u != "" {
		return u
	}
	if req != nil {
		return req.UserName
	}
	return ""
}

func required(f url.Values, names ...string) error {
	for _, n := range names {
		if f.Get(n) == "" {
			return twinvault.Errorf(twinvault.ValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(n))
		}
	}
	return nil
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// members reads a Query-protocol list: Name.member.1, Name.member.2, …
func members(f url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := f[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// tags reads Tags.member.N.Key and .Value.
func tags(f url.Values) []iam.Tag {
	var out []iam.Tag
	for i := 1; ; i++ {
		p := "Tags.member." + strconv.Itoa(i)
		k, ok := f[p+".Key"]
		if !ok {
			return out
		}
		out = append(out, iam.Tag{Key: k[0], Value: f.Get(p + ".Value")})
	}
}

// Result shapes, in IAM's XML.

type xmlTag struct {
	Key   string
	Value string
}

type xmlUser struct {
	Path       string
	UserName   string
	UserID     string `xml:"UserId"`
	Arn        string
	CreateDate string
	Tags       *xmlTags `xml:"Tags,omitempty"`
}

type xmlTags struct {
	Member []xmlTag `xml:"member"`
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func userXML(u *iam.User, withTags bool) xmlUser {
	x := xmlUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN(), CreateDate: isoTime(u.Created)}
	if withTags && len(u.Tags) > 0 {
		x.Tags = &xmlTags{}
		for _, t := range u.Tags {
			x.Tags.Member = append(x.Tags.Member, xmlTag{t.Key, t.Value})
		}
	}
	return x
}

func (h *handlers) createUser(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "UserName"); err != nil {
		return nil, err
	}
	u, err := h.st.CreateUser(ctx, f.Get("UserName"), f.Get("Path"), tags(f))
	if err != nil {
		return nil, err
	}
	return struct{ User xmlUser }{userXML(u, true)}, nil
}

func (h *handlers) getUser(ctx context.Context, f url.Values) (any, error) {
	u, err := h.st.User(ctx, userOrCaller(f, api.FromContext(ctx)))
	if err != nil {
		return nil, err
	}
	return struct{ User xmlUser }{userXML(u, true)}, nil
}

func (h *handlers) listUsers(ctx context.Context, f url.Values) (any, error) {
	users, err := h.st.Users(ctx, f.Get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	return pagedXML(f, "Users", users, func(u *iam.User) string { return u.Name }, func(u *iam.User) xmlUser { return userXML(u, false) })
}

func (h *handlers) listUserTags(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "UserName"); err != nil {
		return nil, err
	}
	u, err := h.st.User(ctx, f.Get("UserName"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Tags        xmlTags
		IsTruncated bool
	}{}
	for _, t := range u.Tags {
		out.Tags.Member = append(out.Tags.Member, xmlTag{t.Key, t.Value})
	}
	return out, nil
}

type xmlAccessKey struct {
	UserName        string
	AccessKeyID     string `xml:"AccessKeyId"`
	Status          string
	SecretAccessKey string `xml:",omitempty"`
	CreateDate      string
}

func (h *handlers) createAccessKey(ctx context.Context, f url.Values) (any, error) {
	user := userOrCaller(f, api.FromContext(ctx))
	k, err := h.st.CreateAccessKey(ctx, user)
	if err != nil {
		return nil, err
	}
	return struct{ AccessKey xmlAccessKey }{xmlAccessKey{k.User, k.ID, k.Status, k.Secret, isoTime(k.Created)}}, nil
}

func (h *handlers) listAccessKeys(ctx context.Context, f url.Values) (any, error) {
	user := userOrCaller(f, api.FromContext(ctx))
	keys, err := h.st.AccessKeys(ctx, user)
	if err != nil {
		return nil, err
	}
	out := struct {
		AccessKeyMetadata struct {
			Member []xmlAccessKey `xml:"member"`
		}
		IsTruncated bool
	}{}
	for _, k := range keys {
		out.AccessKeyMetadata.Member = append(out.AccessKeyMetadata.Member, xmlAccessKey{UserName: k.User, AccessKeyID: k.ID, Status: k.Status, CreateDate: isoTime(k.Created)})
	}
	return out, nil
}

func (h *handlers) accessKeyLastUsed(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "AccessKeyId"); err != nil {
		return nil, err
	}
	k, err := h.st.AccessKeyLastUsed(ctx, f.Get("AccessKeyId"))
	if err != nil {
		return nil, err
	}
	type lastUsed struct {
		LastUsedDate string `xml:",omitempty"`
		ServiceName  string
		Region       string
	}
	out := struct {
		UserName          string
		AccessKeyLastUsed lastUsed
	}{UserName: k.User, AccessKeyLastUsed: lastUsed{ServiceName: "N/A", Region: "N/A"}}
	if !k.LastUsed.IsZero() {
		out.AccessKeyLastUsed = lastUsed{isoTime(k.LastUsed), k.LastService, k.LastRegion}
	}
	return out, nil
}

func (h *handlers) getUserPolicy(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "UserName", "PolicyName"); err != nil {
		return nil, err
	}
	u, err := h.st.User(ctx, f.Get("UserName"))
	if err != nil {
		return nil, err
	}
	doc, ok := u.Inline[f.Get("PolicyName")]
	if !ok {
		return nil, twinvault.Errorf(twinvault.NoSuchEntity, "The user policy with name %s cannot be found.", f.Get("PolicyName"))
	}
	// IAM returns documents URL-encoded.
	return struct{ UserName, PolicyName, PolicyDocument string }{u.Name, f.Get("PolicyName"), url.QueryEscape(doc)}, nil
}

func (h *handlers) listUserPolicies(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "UserName"); err != nil {
		return nil, err
	}
	u, err := h.st.User(ctx, f.Get("UserName"))
	if err != nil {
		return nil, err
	}
	return policyNamesXML(u.Inline), nil
}

type xmlAttached struct {
	PolicyName string
	PolicyArn  string
}

func (h *handlers) listAttachedUserPolicies(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "UserName"); err != nil {
		return nil, err
	}
	u, err := h.st.User(ctx, f.Get("UserName"))
	if err != nil {
		return nil, err
	}
	return attachedXML(u.Attached), nil
}

type xmlPolicy struct {
	PolicyName                    string
	PolicyID                      string `xml:"PolicyId"`
	Arn                           string
	Path                          string
	DefaultVersionID              string `xml:"DefaultVersionId"`
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty"`
	CreateDate                    string
	UpdateDate                    string
}

func policyXML(p *iam.ManagedPolicy) xmlPolicy {
	arn := p.ARN()
	return xmlPolicy{PolicyName: p.Name, PolicyID: p.ID, Arn: arn, Path: p.Path, DefaultVersionID: p.Default,
		AttachmentCount: p.Attachments, IsAttachable: true, Description: p.Description, CreateDate: isoTime(p.Created), UpdateDate: isoTime(p.Updated)}
}

func (h *handlers) createPolicy(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "PolicyName", "PolicyDocument"); err != nil {
		return nil, err
	}
	p, err := h.st.CreatePolicy(ctx, f.Get("PolicyName"), f.Get("Path"), f.Get("Description"), f.Get("PolicyDocument"))
	if err != nil {
		return nil, err
	}
	return struct{ Policy xmlPolicy }{policyXML(p)}, nil
}

func (h *handlers) getPolicy(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "PolicyArn"); err != nil {
		return nil, err
	}
	p, err := h.st.Policy(ctx, f.Get("PolicyArn"))
	if err != nil {
		return nil, err
	}
	return struct{ Policy xmlPolicy }{policyXML(p)}, nil
}

func (h *handlers) listPolicies(ctx context.Context, f url.Values) (any, error) {
	ps, err := h.st.Policies(ctx, f.Get("Scope"), f.Get("PathPrefix"), f.Get("OnlyAttached") == "true")
	if err != nil {
		return nil, err
	}
	return pagedXML(f, "Policies", ps, func(p *iam.ManagedPolicy) string { return p.Name }, policyXML)
}

type xmlVersion struct {
	Document         string `xml:",omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool
	CreateDate       string
}

func (h *handlers) createPolicyVersion(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "PolicyArn", "PolicyDocument"); err != nil {
		return nil, err
	}
	setDefault := f.Get("SetAsDefault") == "true"
	v, err := h.st.CreatePolicyVersion(ctx, f.Get("PolicyArn"), f.Get("PolicyDocument"), setDefault)
	if err != nil {
		return nil, err
	}
	return struct{ PolicyVersion xmlVersion }{xmlVersion{VersionID: v.ID, IsDefaultVersion: setDefault, CreateDate: isoTime(v.Created)}}, nil
}

func (h *handlers) getPolicyVersion(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "PolicyArn", "VersionId"); err != nil {
		return nil, err
	}
	p, err := h.st.Policy(ctx, f.Get("PolicyArn"))
	if err != nil {
		return nil, err
	}
	for _, v := range p.Versions {
		if v.ID == f.Get("VersionId") {
			return struct{ PolicyVersion xmlVersion }{xmlVersion{url.QueryEscape(v.Document), v.ID, v.ID == p.Default, isoTime(v.Created)}}, nil
		}
	}
	return nil, twinvault.Errorf(twinvault.NoSuchEntity, "Policy %s version %s does not exist or is not attachable.", f.Get("PolicyArn"), f.Get("VersionId"))
}

func (h *handlers) listPolicyVersions(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "PolicyArn"); err != nil {
		return nil, err
	}
	p, err := h.st.Policy(ctx, f.Get("PolicyArn"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Versions struct {
			Member []xmlVersion `xml:"member"`
		}
		IsTruncated bool
	}{}
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v := p.Versions[i]
		out.Versions.Member = append(out.Versions.Member, xmlVersion{VersionID: v.ID, IsDefaultVersion: v.ID == p.Default, CreateDate: isoTime(v.Created)})
	}
	return out, nil
}

func (h *handlers) getCallerIdentity(ctx context.Context, _ url.Values) (any, error) {
	req := api.FromContext(ctx)
	return struct {
		UserID  string `xml:"UserId"`
		Account string
		Arn     string
	}{req.UserID, iam.Account, req.PrincipalARN}, nil
}

// MFA devices.

type xmlMFADevice struct {
	SerialNumber     string
	Base32StringSeed string `xml:",omitempty"` // blobs are base64 in XML
	QRCodePNG        string `xml:",omitempty"`
	User             *xmlUser
	UserName         string `xml:",omitempty"`
	EnableDate       string `xml:",omitempty"`
}

func (h *handlers) createVirtualMFADevice(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "VirtualMFADeviceName"); err != nil {
		return nil, err
	}
	d, err := h.st.CreateVirtualMFADevice(ctx, f.Get("VirtualMFADeviceName"), f.Get("Path"))
	if err != nil {
		return nil, err
	}
	return struct{ VirtualMFADevice xmlMFADevice }{xmlMFADevice{SerialNumber: d.Serial,
		Base32StringSeed: base64.StdEncoding.EncodeToString([]byte(d.Base32Seed)), QRCodePNG: base64.StdEncoding.EncodeToString(d.QRCodePNG)}}, nil
}

func (h *handlers) listMFADevices(ctx context.Context, f url.Values) (any, error) {
	user := userOrCaller(f, api.FromContext(ctx))
	ds, err := h.st.MFADevices(ctx, user)
	if err != nil {
		return nil, err
	}
	out := struct {
		MFADevices struct {
			Member []xmlMFADevice `xml:"member"`
		}
		IsTruncated bool
	}{}
	for _, d := range ds {
		out.MFADevices.Member = append(out.MFADevices.Member, xmlMFADevice{SerialNumber: d.Serial, UserName: d.User, EnableDate: isoTime(d.Enabled)})
	}
	return out, nil
}

func (h *handlers) listVirtualMFADevices(ctx context.Context, f url.Values) (any, error) {
	ds, err := h.st.MFADevices(ctx, "")
	if err != nil {
		return nil, err
	}
	status := f.Get("AssignmentStatus")
	out := struct {
		VirtualMFADevices struct {
			Member []xmlMFADevice `xml:"member"`
		}
		IsTruncated bool
	}{}
	for _, d := range ds {
		assigned := d.User != ""
		if status == "Assigned" && !assigned || status == "Unassigned" && assigned {
			continue
		}
		x := xmlMFADevice{SerialNumber: d.Serial}
		if assigned {
			if u, err := h.st.User(ctx, d.User); err == nil {
				ux := userXML(u, false)
				x.User, x.EnableDate = &ux, isoTime(d.Enabled)
			}
		}
		out.VirtualMFADevices.Member = append(out.VirtualMFADevices.Member, x)
	}
	return out, nil
}

// Roles.

type xmlRole struct {
	Path                     string
	RoleName                 string
	RoleID                   string `xml:"RoleId"`
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	Description              string `xml:",omitempty"`
	MaxSessionDuration       int
}

func roleXML(r *iam.Role) xmlRole {
	return xmlRole{r.Path, r.Name, r.ID, r.ARN(), isoTime(r.Created), url.QueryEscape(r.Trust), r.Description, r.MaxSession}
}

func roleARN(f url.Values, _ *api.Request) []string {
	return []string{"arn:aws:iam::" + iam.Account + ":role" + orSlash(f.Get("Path")) + f.Get("RoleName")}
}

func (h *handlers) createRole(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "RoleName", "AssumeRolePolicyDocument"); err != nil {
		return nil, err
	}
	maxSession := 0
	if v := f.Get("MaxSessionDuration"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, twinvault.Errorf(twinvault.ValidationError, "maxSessionDuration must be a number of seconds")
		}
		maxSession = n
	}
	r, err := h.st.CreateRole(ctx, f.Get("RoleName"), f.Get("Path"), f.Get("Description"), f.Get("AssumeRolePolicyDocument"), maxSession, tags(f))
	if err != nil {
		return nil, err
	}
	return struct{ Role xmlRole }{roleXML(r)}, nil
}

func (h *handlers) getRole(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "RoleName"); err != nil {
		return nil, err
	}
	r, err := h.st.Role(ctx, f.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	return struct{ Role xmlRole }{roleXML(r)}, nil
}

func (h *handlers) listRoles(ctx context.Context, f url.Values) (any, error) {
	rs, err := h.st.Roles(ctx, f.Get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	return pagedXML(f, "Roles", rs, func(r *iam.Role) string { return r.Name }, roleXML)
}

// STS.

type xmlCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

func credentialsXML(c *iam.Credentials) xmlCredentials {
	return xmlCredentials{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, isoTime(c.Expiration)}
}

func (h *handlers) caller(ctx context.Context) (*iam.Principal, error) {
	req := api.FromContext(ctx)
	return h.st.PrincipalOf(ctx, req.AccessKeyID, req.SecurityToken)
}

func seconds(f url.Values) (int, error) {
	v := f.Get("DurationSeconds")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, twinvault.Errorf(twinvault.ValidationError, "durationSeconds must be a number of seconds")
	}
	return n, nil
}

func (h *handlers) getSessionToken(ctx context.Context, f url.Values) (any, error) {
	p, err := h.caller(ctx)
	if err != nil {
		return nil, err
	}
	d, err := seconds(f)
	if err != nil {
		return nil, err
	}
	c, err := h.st.GetSessionToken(ctx, p, d, f.Get("SerialNumber"), f.Get("TokenCode"))
	if err != nil {
		return nil, err
	}
	return struct{ Credentials xmlCredentials }{credentialsXML(c)}, nil
}

func (h *handlers) assumeRole(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "RoleArn", "RoleSessionName"); err != nil {
		return nil, err
	}
	p, err := h.caller(ctx)
	if err != nil {
		return nil, err
	}
	d, err := seconds(f)
	if err != nil {
		return nil, err
	}
	c, sess, err := h.st.AssumeRole(ctx, p, f.Get("RoleArn"), f.Get("RoleSessionName"), d, f.Get("Policy"), f.Get("SerialNumber"), f.Get("TokenCode"))
	if err != nil {
		return nil, err
	}
	r, err := h.st.Role(ctx, sess.Role)
	if err != nil {
		return nil, err
	}
	return struct {
		Credentials     xmlCredentials
		AssumedRoleUser struct {
			AssumedRoleID string `xml:"AssumedRoleId"`
			Arn           string
		}
	}{Credentials: credentialsXML(c), AssumedRoleUser: struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string
	}{r.ID + ":" + sess.RoleSession, iam.AssumedRoleARN(r.Name, sess.RoleSession)}}, nil
}

// Groups.

type xmlGroup struct {
	Path       string
	GroupName  string
	GroupID    string `xml:"GroupId"`
	Arn        string
	CreateDate string
}

func groupXML(g *iam.Group) xmlGroup {
	return xmlGroup{g.Path, g.Name, g.ID, g.ARN(), isoTime(g.Created)}
}

func groupARN(f url.Values, _ *api.Request) []string {
	return []string{"arn:aws:iam::" + iam.Account + ":group" + orSlash(f.Get("Path")) + f.Get("GroupName")}
}

func (h *handlers) createGroup(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "GroupName"); err != nil {
		return nil, err
	}
	g, err := h.st.CreateGroup(ctx, f.Get("GroupName"), f.Get("Path"))
	if err != nil {
		return nil, err
	}
	return struct{ Group xmlGroup }{groupXML(g)}, nil
}

func (h *handlers) getGroup(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "GroupName"); err != nil {
		return nil, err
	}
	g, err := h.st.Group(ctx, f.Get("GroupName"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Group xmlGroup
		Users struct {
			Member []xmlUser `xml:"member"`
		}
		IsTruncated bool
	}{Group: groupXML(g)}
	for _, name := range g.Members {
		if u, err := h.st.User(ctx, name); err == nil {
			out.Users.Member = append(out.Users.Member, userXML(u, false))
		}
	}
	return out, nil
}

func (h *handlers) listGroups(ctx context.Context, f url.Values) (any, error) {
	gs, err := h.st.Groups(ctx, f.Get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	return pagedXML(f, "Groups", gs, func(g *iam.Group) string { return g.Name }, groupXML)
}

func (h *handlers) listGroupsForUser(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "UserName"); err != nil {
		return nil, err
	}
	u, err := h.st.User(ctx, f.Get("UserName"))
	if err != nil {
		return nil, err
	}
	l := listXML[xmlGroup]{name: "Groups"}
	for _, name := range u.Groups {
		if g, err := h.st.Group(ctx, name); err == nil {
			l.items = append(l.items, groupXML(g))
		}
	}
	return l, nil
}

// do serves an action with no result: its required parameters, then fn.
func (h *handlers) do(fn func(ctx context.Context, f url.Values) error, params ...string) func(context.Context, url.Values) (any, error) {
	return func(ctx context.Context, f url.Values) (any, error) {
		if err := required(f, params...); err != nil {
			return nil, err
		}
		return nil, fn(ctx, f)
	}
}

// SimulatePrincipalPolicy.

func (h *handlers) simulatePrincipalPolicy(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "PolicySourceArn"); err != nil {
		return nil, err
	}
	actions := members(f, "ActionNames")
	if len(actions) == 0 {
		return nil, twinvault.Errorf(twinvault.ValidationError, "actionNames must name at least one action")
	}
	keys := map[string][]string{}
	for i := 1; ; i++ {
		p := "ContextEntries.member." + strconv.Itoa(i)
		name, ok := f[p+".ContextKeyName"]
		if !ok {
			break
		}
		keys[name[0]] = members(f, p+".ContextKeyValues")
	}
	sims, err := h.st.Simulate(ctx, f.Get("PolicySourceArn"), actions, members(f, "ResourceArns"), keys)
	if err != nil {
		return nil, err
	}
	type matched struct {
		SourcePolicyID   string `xml:"SourcePolicyId"`
		SourcePolicyType string
	}
	type result struct {
		EvalActionName    string
		EvalResourceName  string
		EvalDecision      string
		MatchedStatements struct {
			Member []matched `xml:"member"`
		}
	}
	out := struct {
		EvaluationResults struct {
			Member []result `xml:"member"`
		}
		IsTruncated bool
	}{}
	for _, s := range sims {
		r := result{EvalActionName: s.Action, EvalResourceName: s.Resource,
			EvalDecision: map[string]string{"Allow": "allowed", "ExplicitDeny": "explicitDeny", "ImplicitDeny": "implicitDeny"}[s.Result.Decision.String()]}
		for _, m := range s.Result.By {
			id := m.Policy
			if m.Sid != "" {
				id += "#" + m.Sid
			}
			r.MatchedStatements.Member = append(r.MatchedStatements.Member, matched{id, "IAM Policy"})
		}
		out.EvaluationResults.Member = append(out.EvaluationResults.Member, r)
	}
	return out, nil
}

// More views of group and role policies.

func (h *handlers) listAttachedGroupPolicies(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "GroupName"); err != nil {
		return nil, err
	}
	g, err := h.st.Group(ctx, f.Get("GroupName"))
	if err != nil {
		return nil, err
	}
	return attachedXML(g.Attached), nil
}

func (h *handlers) listAttachedRolePolicies(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "RoleName"); err != nil {
		return nil, err
	}
	r, err := h.st.Role(ctx, f.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	return attachedXML(r.Attached), nil
}

func attachedXML(arns []string) any {
	l := listXML[xmlAttached]{name: "AttachedPolicies"}
	for _, arn := range arns {
		l.items = append(l.items, xmlAttached{arn[strings.LastIndexByte(arn, '/')+1:], arn})
	}
	return l
}

func policyNamesXML(inline map[string]string) any {
	l := listXML[string]{name: "PolicyNames"}
	for name := range inline {
		l.items = append(l.items, name)
	}
	sort.Strings(l.items)
	return l
}

func (h *handlers) listGroupPolicies(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "GroupName"); err != nil {
		return nil, err
	}
	g, err := h.st.Group(ctx, f.Get("GroupName"))
	if err != nil {
		return nil, err
	}
	return policyNamesXML(g.Inline), nil
}

func (h *handlers) listRolePolicies(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "RoleName"); err != nil {
		return nil, err
	}
	r, err := h.st.Role(ctx, f.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	return policyNamesXML(r.Inline), nil
}

func (h *handlers) getGroupPolicy(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "GroupName", "PolicyName"); err != nil {
		return nil, err
	}
	g, err := h.st.Group(ctx, f.Get("GroupName"))
	if err != nil {
		return nil, err
	}
	doc, ok := g.Inline[f.Get("PolicyName")]
	if !ok {
		return nil, twinvault.Errorf(twinvault.NoSuchEntity, "The group policy with name %s cannot be found.", f.Get("PolicyName"))
	}
	return struct{ GroupName, PolicyName, PolicyDocument string }{g.Name, f.Get("PolicyName"), url.QueryEscape(doc)}, nil
}

func (h *handlers) getRolePolicy(ctx context.Context, f url.Values) (any, error) {
	if err := required(f, "RoleName", "PolicyName"); err != nil {
		return nil, err
	}
	r, err := h.st.Role(ctx, f.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	doc, ok := r.Inline[f.Get("PolicyName")]
	if !ok {
		return nil, twinvault.Errorf(twinvault.NoSuchEntity, "The role policy with name %s cannot be found.", f.Get("PolicyName"))
	}
	return struct{ RoleName, PolicyName, PolicyDocument string }{r.Name, f.Get("PolicyName"), url.QueryEscape(doc)}, nil
}

// page cuts a list sorted by name at the Marker of the page before (the
// last name it held, base64url-encoded) to MaxItems (1 to 1000, 100 by
// default), as IAM's List actions do.
func page[T any](f url.Values, items []*T, name func(*T) string) ([]*T, string, error) {
	max := 100
	if v := f.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, "", twinvault.Errorf(twinvault.ValidationError, "maxItems must be between 1 and 1000")
		}
		max = n
	}
	if m := f.Get("Marker"); m != "" {
		after, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			return nil, "", twinvault.Errorf(twinvault.ValidationError, "marker is not valid")
		}
		i := sort.Search(len(items), func(i int) bool { return name(items[i]) > string(after) })
		items = items[i:]
	}
	if len(items) <= max {
		return items, "", nil
	}
	return items[:max], base64.RawURLEncoding.EncodeToString([]byte(name(items[max-1]))), nil
}

// listXML is the result of a List action: the items under their element
// name, each a <member>, then IsTruncated and, when it is, the Marker.
type listXML[X any] struct {
	name   string
	items  []X
	marker string
}

func (l listXML[X]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	items := struct {
		Member []X `xml:"member"`
	}{l.items}
	if err := e.EncodeElement(items, xml.StartElement{Name: xml.Name{Local: l.name}}); err != nil {
		return err
	}
	if err := e.EncodeElement(l.marker != "", xml.StartElement{Name: xml.Name{Local: "IsTruncated"}}); err != nil {
		return err
	}
	if l.marker != "" {
		if err := e.EncodeElement(l.marker, xml.StartElement{Name: xml.Name{Local: "Marker"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// pagedXML pages items and renders each with toXML.
func pagedXML[T, X any](f url.Values, name string, items []*T, key func(*T) string, toXML func(*T) X) (any, error) {
	items, marker, err := page(f, items, key)
	if err != nil {
		return nil, err
	}
	l := listXML[X]{name: name, marker: marker}
	for _, it := range items {
		l.items = append(l.items, toXML(it))
	}
	return l, nil
}
