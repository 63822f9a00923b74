package api

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/twinvault/twinvault"
)

// Auditor records every call the server answers: allowed, denied, invalid,
// unsigned or failed. It fails closed: an error from Reserve stops a change
// before it runs, and an error from Record withholds the response.
type Auditor interface {
	// Reserve notes a change that is about to run, so that no effect of
	// it can outlive a crash without the note: durably, or, for a change
	// that only writes the store the note is kept in, ahead of its writes.
	Reserve(ctx context.Context, req *Request) error
	// Record durably stores the call's event.
	Record(ctx context.Context, rec *Record) error
}

// Record is what the server knows of a call once it has been answered.
type Record struct {
	Req       *Request
	Params    any // the request's parameters (*RequestParams for TwinMaker calls); nil when the request did not decode
	Response  any // the output of a change; nil for reads and failures
	Err       *twinvault.Error
	Cause     error // the error as the handler returned it, for the auditor only
	UserAgent string
	Host      string
	TLS       *tls.ConnectionState
}

// Guard inspects the parameters of a change before it runs (names,
// descriptions, tags, URLs): it refuses the call with an error, or lets it
// through, adding to req.Findings what it found but allows.
// labels are the path's labels, which name the resources a call is for.
type Guard interface {
	Check(ctx context.Context, req *Request, params map[string]any, labels map[string]string) error
}

// Finding is personal data or a credential found in a field of a request:
// the field's path in the request (member names only, never a value or a
// map key) and what was found.
type Finding struct {
	Field      string `json:"field"`
	Type       string `json:"type"`
	Confidence string `json:"confidence"`
}

// Audit fields of a request, set as the request is served.
type auditInfo struct {
	Service   string   // signing name: iottwinmaker, iam, sts, cloudtrail
	ReadOnly  bool     // the operation changes nothing
	Data      bool     // a data-plane (data.) operation: a data event
	Resources []string // the ARNs the call named
	params    any
}

func unavailable() error {
	return twinvault.Errorf(twinvault.ServiceUnavailable, "the audit log cannot record the request, so it was not carried out; retry later")
}

// RequestParams are a TwinMaker request's parameters as CloudTrail shows
// them: the body's members, and the path labels and query parameters
// beside them (standing for a body member of the same name). They are kept
// as received, for the auditor to redact in one pass.
type RequestParams struct {
	Body  []byte // a JSON object, or empty
	Extra map[string]string
	// Valid reports that Body was decoded before these were made, and so
	// is valid JSON: what the auditor hides it may pass over unread.
	Valid bool
	// Usual is the input decoded from Body when Body had the input's usual
	// form (its DecodeUsual took it), and so holds every member of Body:
	// the auditor may write the record from it instead of reading Body
	// again. Nil otherwise.
	Usual any
}

func auditParams(body []byte, labels map[string]string, query url.Values) *RequestParams {
	p := &RequestParams{Body: body, Extra: make(map[string]string, len(labels)+len(query)), Valid: true}
	for k, v := range labels {
		p.Extra[k] = v
	}
	for k, v := range query {
		if len(v) > 0 {
			p.Extra[k] = v[0]
		}
	}
	return p
}

// Map decodes the parameters, for the guard.
func (p *RequestParams) Map() map[string]any {
	m := map[string]any{}
	json.Unmarshal(p.Body, &m)
	for k, v := range p.Extra {
		m[k] = v
	}
	return m
}

// reserve asks the Auditor to note a change before it runs.
func (s *Server) reserve(ctx context.Context, req *Request) error {
	if s.audit == nil || req.ReadOnly {
		return nil
	}
	if err := s.audit.Reserve(ctx, req); err != nil {
		s.log.Error("audit reservation failed", "requestId", req.ID, "err", err)
		return unavailable()
	}
	return nil
}

// readOnly reports whether an operation only reads, by its name.
func readOnly(service, op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "Simulate", "Generate"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return op == "ExecuteQuery"
}

// dataOperations are TwinMaker's data-plane operations (the "data." host
// prefix): their events are data events.
var dataOperations = map[string]bool{"BatchPutPropertyValues": true, "GetPropertyValue": true, "GetPropertyValueHistory": true}
