package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/audit"
	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/kv"
)

// auditor turns the API's calls into CloudTrail events in the audit log.
type auditor struct {
	log    *audit.Log
	region string
	now    func() time.Time
	node   string // names this node in reservations
	// deferSyncs: the store keeps one order of writes (kv.Pipeliner) and
	// this node alone writes it, so a store-only change can leave the syncs
	// of its writes to its event's.
	deferSyncs bool
}

func source(service string) string {
	if service == "" {
		service = "iottwinmaker"
	}
	return service + ".amazonaws.com"
}

// storeOnly are the TwinMaker operations whose every effect is a write to
// the store the audit log is kept in: no bucket (CreateWorkspace makes
// one), no key destroyed (DeleteWorkspace), nothing sent out. Their
// reservations need not be synced before they run (audit.ReserveOrdered):
// the change's own synced commit, or the event, carries the reservation
// with it. A change that reaches outside the store must not be listed.
var storeOnly = map[string]bool{
	"BatchPutPropertyValues": true, "UpdatePricingPlan": true,
	"CreateEntity": true, "UpdateEntity": true, "DeleteEntity": true,
	"CreateComponentType": true, "UpdateComponentType": true, "DeleteComponentType": true,
	"CreateScene": true, "UpdateScene": true, "DeleteScene": true,
	"TagResource": true, "UntagResource": true,
}

func (a auditor) Reserve(ctx context.Context, req *api.Request) error {
	r := &audit.Reservation{RequestID: req.ID, EventName: req.Operation, EventSource: source(req.Service),
		AccessKeyID: req.AccessKeyID, EventTime: audit.Time(a.now()), Node: a.node}
	if req.Service == "iottwinmaker" && storeOnly[req.Operation] {
		if err := a.log.ReserveOrdered(ctx, r); err != nil {
			return err
		}
		if a.deferSyncs {
			// The change's writes follow the reservation in the store's
			// order, and the event follows them: its sync, which the
			// response waits for, makes all three durable at once.
			req.Syncs = deferredSyncs{&kv.Deferred{}}
		}
		return nil
	}
	return a.log.Reserve(ctx, r)
}

// deferredSyncs is api.Syncs over a kv.Deferred.
type deferredSyncs struct{ d *kv.Deferred }

func (s deferredSyncs) Bind(ctx context.Context) context.Context { return kv.WithDeferred(ctx, s.d) }
func (s deferredSyncs) Wait() error                              { return s.d.Wait() }

func (a auditor) Record(ctx context.Context, rec *api.Record) error {
	req := rec.Req
	e := &audit.Event{
		EventVersion: audit.EventVersion, EventTime: audit.Time(a.now()), EventSource: source(req.Service),
		EventName: req.Operation, AWSRegion: a.region, SourceIPAddress: req.SourceIP, UserAgent: rec.UserAgent,
		RequestID: req.ID, EventID: twinvault.NewUUID(), ReadOnly: req.ReadOnly, EventType: "AwsApiCall",
		ManagementEvent: !req.Data, RecipientAccountID: twinvault.Account, EventCategory: "Management",
		RequestParameters: json.RawMessage("null"), ResponseElements: json.RawMessage("null"),
	}
	if req.Region != "" {
		e.AWSRegion = req.Region
	}
	if req.Data {
		e.EventCategory = "Data"
	}
	e.UserIdentity = identity(req)
	if rec.Err != nil {
		e.ErrorCode, e.ErrorMessage = rec.Err.Code, rec.Err.Message
	}
	if rec.Params != nil {
		e.RequestParameters = hideMembers(redacted(rec.Params, req.Data), topMembers(req.Findings))
	}
	if len(req.Findings) > 0 {
		raw, _ := json.Marshal(map[string]any{"dataProtectionFindings": req.Findings})
		extra := json.RawMessage(raw)
		e.AdditionalEventData = &extra
	}
	if rec.Response != nil && rec.Err == nil {
		e.ResponseElements = hideMembers(redacted(rec.Response, false), topMembers(req.Findings))
	}
	for _, arn := range req.Resources {
		if arn != "" && arn != "*" {
			e.Resources = append(e.Resources, audit.Resource{ARN: arn, AccountID: twinvault.Account, Type: resourceType(arn)})
		}
	}
	if rec.TLS != nil {
		e.TLSDetails = &audit.TLSDetails{TLSVersion: tlsVersionName(rec.TLS.Version),
			CipherSuite: cipherSuiteName(rec.TLS.CipherSuite), ClientProvidedHostHeader: rec.Host}
	}
	if len(req.Sensitive) > 0 {
		e = scrub(e, req.Sensitive)
	}
	if err := a.log.Append(ctx, e); err != nil {
		return err
	}
	for _, se := range a.serviceEvents(rec, e) {
		if err := a.log.Append(ctx, se); err != nil {
			return err
		}
	}
	return nil
}

// suiteNames holds the names of the cipher suites crypto/tls knows:
// tls.CipherSuiteName builds its lists anew on every call, and every
// call's event names its suite.
var suiteNames = sync.OnceValue(func() map[uint16]string {
	m := map[uint16]string{}
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			m[cs.ID] = cs.Name
		}
	}
	return m
})

func cipherSuiteName(id uint16) string {
	if name, ok := suiteNames()[id]; ok {
		return name
	}
	return tls.CipherSuiteName(id)
}

// tlsVersionName is CloudTrail's name of a TLS version: TLSv1.2, TLSv1.3.
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return strings.Replace(tls.VersionName(v), "TLS ", "TLSv", 1)
}

// serviceEvent is an AwsServiceEvent: something the service did of its
// own, tied to the request that caused it, if any.
func serviceEvent(name, requestID, region string, at time.Time, resources []audit.Resource, details json.RawMessage) *audit.Event {
	return &audit.Event{
		EventVersion: audit.EventVersion, EventTime: audit.Time(at), EventSource: source(KeyService),
		EventName: name, AWSRegion: region, SourceIPAddress: source(KeyService), UserAgent: source(KeyService),
		RequestID: requestID, EventID: twinvault.NewUUID(), EventType: "AwsServiceEvent",
		ManagementEvent: true, RecipientAccountID: twinvault.Account, EventCategory: "Management",
		UserIdentity:      audit.UserIdentity{Type: "AWSService", AccountID: twinvault.Account},
		RequestParameters: json.RawMessage("null"), ResponseElements: json.RawMessage("null"),
		Resources: resources, ServiceEventDetails: details,
	}
}

// keyDestroyers are the calls that, when they succeed, destroy data keys:
// a workspace's or a bucket's.
var keyDestroyers = map[string]string{"iottwinmaker.DeleteWorkspace": "workspace", "s3.DeleteBucket": "bucket"}

// serviceEvents are the events the service records of its own beside a
// call's: KeyDestroyed when the call destroyed data keys, and
// IntegrityCheckFailed when stored data failed its integrity check (a
// ciphertext changed, moved or replaced), never shown as data.
func (a auditor) serviceEvents(rec *api.Record, call *audit.Event) []*audit.Event {
	req := rec.Req
	event := func(name string, details map[string]any) *audit.Event {
		raw, _ := json.Marshal(details)
		e := serviceEvent(name, req.ID, call.AWSRegion, time.Time{}, call.Resources, raw)
		e.EventTime = call.EventTime
		return e
	}
	service := req.Service
	if service == "" {
		service = "iottwinmaker"
	}
	var out []*audit.Event
	if scope, ok := keyDestroyers[service+"."+req.Operation]; ok && rec.Err == nil {
		out = append(out, event("KeyDestroyed", map[string]any{"keyScope": scope, "reason": req.Operation,
			"detail": "every data key version of the " + scope + " was destroyed; its ciphertext no longer decrypts"}))
	}
	if rec.Cause != nil && errors.Is(rec.Cause, barrier.ErrIntegrity) {
		out = append(out, event("IntegrityCheckFailed", map[string]any{"operation": req.Operation, "eventSource": call.EventSource,
			"detail": "stored data failed its integrity check and was not returned"}))
	}
	return out
}

func identity(req *api.Request) audit.UserIdentity {
	id := audit.UserIdentity{AccessKeyID: req.AccessKeyID}
	if req.PrincipalARN == "" {
		if req.AccessKeyID != "" {
			id.Type = "Unknown"
		}
		return id
	}
	id.Type, id.PrincipalID, id.ARN, id.AccountID = "IAMUser", req.UserID, req.PrincipalARN, twinvault.Account
	if strings.Contains(req.PrincipalARN, ":assumed-role/") {
		id.Type = "AssumedRole"
	} else {
		id.UserName = req.UserName
	}
	if req.Session {
		id.SessionContext = &audit.SessionContext{}
		id.SessionContext.Attributes.CreationDate = audit.Time(req.SessionCreated)
		id.SessionContext.Attributes.MFAAuthenticated = map[bool]string{true: "true", false: "false"}[req.MFA]
	}
	return id
}

// sensitive are the members whose values an event never holds.
var sensitive = map[string]bool{
	"secretaccesskey": true, "sessiontoken": true, "base32stringseed": true, "qrcodepng": true,
	"tokencode": true, "authenticationcode1": true, "authenticationcode2": true, "password": true,
	"newmasterkey": true, "newpassphrase": true, "secretstring": true,
}

// hideMembers replaces the named top-level members of a JSON object with
// Hidden: the fields where the guard found personal data or credentials
// and let them through.
func hideMembers(raw json.RawMessage, members []string) json.RawMessage {
	if len(members) == 0 {
		return raw
	}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return raw
	}
	for _, m := range members {
		if _, ok := doc[m]; ok {
			doc[m] = audit.Hidden
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

// urlMember are the members holding URLs, which an event records as
// scheme, host and path only: user information and queries may carry
// credentials.
var urlMember = map[string]bool{"endpoint": true, "contentlocation": true, "url": true}

// bareURL is raw without user information, query and fragment; hidden
// when it does not parse.
func bareURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return audit.Hidden
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// scrub masks every occurrence of the guard's findings in an event:
// resources' ARNs, messages, parameters and responses. It never returns
// an event that still holds one.
func scrub(e *audit.Event, values []string) *audit.Event {
	raw, err := json.Marshal(e)
	if err != nil {
		raw = nil // hidden below
	}
	for _, v := range values {
		if len(v) < 3 {
			continue
		}
		quoted, _ := json.Marshal(v)
		raw = bytes.ReplaceAll(raw, quoted[1:len(quoted)-1], []byte("HIDDEN"))
	}
	var out audit.Event
	if json.Unmarshal(raw, &out) != nil {
		// The replacement broke the document (a value inside a number, say):
		// hide every field a finding can be in, rather than keep them.
		out = *e
		hidden := json.RawMessage(strconv.Quote(audit.Hidden))
		out.RequestParameters, out.ResponseElements = hidden, hidden
		if out.ErrorMessage != "" {
			out.ErrorMessage = audit.Hidden
		}
		out.Resources = slices.Clone(out.Resources)
		for i := range out.Resources {
			out.Resources[i].ARN = audit.Hidden
		}
	}
	return &out
}

// resourceType names a resource's CloudTrail type from its ARN.
func resourceType(arn string) string {
	switch {
	case strings.Contains(arn, ":iottwinmaker:"):
		for _, t := range []struct{ part, name string }{{"/entity/", "Entity"}, {"/component-type/", "ComponentType"}, {"/scene/", "Scene"}, {"/sync-job/", "SyncJob"}} {
			if strings.Contains(arn, t.part) {
				return "AWS::IoTTwinMaker::" + t.name
			}
		}
		return "AWS::IoTTwinMaker::Workspace"
	case strings.Contains(arn, ":iam::"):
		for _, t := range []struct{ part, name string }{{":user/", "User"}, {":role/", "Role"}, {":group/", "Group"}, {":policy/", "ManagedPolicy"}, {":mfa/", "VirtualMFADevice"}} {
			if strings.Contains(arn, t.part) {
				return "AWS::IAM::" + t.name
			}
		}
	}
	return ""
}
