package api

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/twinvault/twinvault"
)

// The Query protocol (awsQuery) of IAM and STS: a form-encoded POST with
// Action and Version, answered in XML. Services are told apart by the
// service in the request's SigV4 credential scope, so their actions and
// TwinMaker's paths never clash.

// queryService is one Query-protocol service.
type queryService struct {
	name      string // signing name and action prefix: iam, sts
	namespace string // xmlns of responses
	version   string // the API version clients send
	actions   map[string]*queryAction
}

type queryAction struct {
	resources func(form url.Values, req *Request) []string
	call      func(ctx context.Context, form url.Values) (any, error)
}

var queryServices = map[string]struct{ namespace, version string }{
	"iam": {"https://iam.amazonaws.com/doc/2010-05-08/", "2010-05-08"},
	"sts": {"https://sts.amazonaws.com/doc/2011-06-15/", "2011-06-15"},
}

// HandleQuery binds an action of a Query-protocol service (iam or sts).
// resources gives the ARNs the action needs for authorisation; nil means
// the action needs no permission (the signer is still identified);
// fn returns the action's result, which is written as the XML of the
// <Action>Result element (nil: no result element).
func HandleQuery(s *Server, service, action string, resources func(form url.Values, req *Request) []string,
	fn func(ctx context.Context, form url.Values) (any, error)) {
	qs := s.query[service]
	if qs == nil {
		def, ok := queryServices[service]
		if !ok {
			panic(fmt.Sprintf("api: %q is not a Query-protocol service", service))
		}
		qs = &queryService{name: service, namespace: def.namespace, version: def.version, actions: map[string]*queryAction{}}
		s.query[service] = qs
	}
	qs.actions[action] = &queryAction{resources: resources, call: fn}
}

// serveQuery runs a verified Query-protocol request.
func (s *Server) serveQuery(r *http.Request, req *Request, qs *queryService, body []byte, region string) (any, error) {
	form, err := queryForm(r, body)
	if err != nil {
		return nil, err
	}
	action := form.Get("Action")
	if action == "" {
		return nil, twinvault.Errorf(twinvault.MissingParameter, "The request must contain the parameter Action.")
	}
	a := qs.actions[action]
	if a == nil {
		return nil, twinvault.Errorf(twinvault.InvalidAction, "Could not find operation %s for version %s.", truncate(action, 64), qs.version)
	}
	req.Operation, req.ReadOnly = action, readOnly(qs.name, action) || action == "GetCallerIdentity"
	req.params = redactedForm(form)
	if v := form.Get("Version"); v != "" && v != qs.version {
		return nil, twinvault.Errorf(twinvault.InvalidAction, "Could not find operation %s for version %s.", action, truncate(v, 16))
	}
	call := &Call{Region: region, UserAgent: r.UserAgent(), Secure: r.TLS != nil}
	if a.resources != nil {
		call.Action, call.Resources = qs.name+":"+action, a.resources(form, req)
		req.Resources = call.Resources
	}
	if err := s.authorize(r.Context(), req, call, twinvault.AccessDenied); err != nil {
		return nil, err
	}
	if err := s.reserve(r.Context(), req); err != nil {
		return nil, err
	}
	return a.call(WithRequest(r.Context(), req), form)
}

// queryForm reads the parameters: the form-encoded body of a POST, or the
// URL's query.
func queryForm(r *http.Request, body []byte) (url.Values, error) {
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			return nil, twinvault.Errorf(twinvault.InvalidInput, "the body must be application/x-www-form-urlencoded")
		}
		raw = string(body)
	}
	form, err := url.ParseQuery(raw)
	if err != nil {
		return nil, twinvault.Errorf(twinvault.InvalidInput, "the request parameters are not valid form encoding")
	}
	return form, nil
}

// redactedForm is a Query request's parameters for the audit record,
// one-time codes hidden; Action and Version are the event's own fields.
func redactedForm(form url.Values) map[string]any {
	out := map[string]any{}
	for k, v := range form {
		switch {
		case k == "Action" || k == "Version":
			continue
		case k == "TokenCode" || strings.HasPrefix(k, "AuthenticationCode"):
			out[k] = "HIDDEN_DUE_TO_SECURITY_REASONS"
		case len(v) == 1:
			out[k] = v[0]
		default:
			out[k] = v
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// writeQuery writes a Query-protocol answer:
//
//	<ActionResponse xmlns="..."><ActionResult>...</ActionResult>
//	<ResponseMetadata><RequestId>...</RequestId></ResponseMetadata></ActionResponse>
func (s *Server) writeQuery(w http.ResponseWriter, req *Request, qs *queryService, out any) int {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	resp := xml.StartElement{Name: xml.Name{Local: req.Operation + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: qs.namespace}}}
	err := enc.EncodeToken(resp)
	if err == nil && out != nil {
		err = enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: req.Operation + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(struct {
			RequestID string `xml:"RequestId"`
		}{req.ID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(resp.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		return s.writeQueryError(w, req, qs, fmt.Errorf("encode %s response: %w", req.Operation, err))
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return http.StatusOK
}

// writeQueryError writes the Query protocol's error envelope.
func (s *Server) writeQueryError(w http.ResponseWriter, req *Request, qs *queryService, err error) int {
	te := s.clientError(req, err)
	kind := "Sender"
	if te.Status() >= 500 {
		kind = "Receiver"
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	xml.NewEncoder(&b).Encode(struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		NS      string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string
			Code    string
			Message string
		}
		RequestID string `xml:"RequestId"`
	}{NS: qs.namespace, Error: struct{ Type, Code, Message string }{kind, te.Code, te.Message}, RequestID: req.ID})
	status := te.Status()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write(b.Bytes())
	return status
}
