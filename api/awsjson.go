package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/twinvault/twinvault"
)

// The JSON 1.1 protocol (awsJson1_1) of CloudTrail: a POST to "/" whose
// X-Amz-Target header names the operation, with a JSON body both ways.

type jsonService struct {
	name     string   // signing name
	prefixes []string // target prefixes: clients name the operation after one of them
	actions  map[string]*jsonAction
}

type jsonAction struct {
	resources func(body []byte, req *Request) []string
	call      func(ctx context.Context, body []byte) (any, error)
}

// HandleJSON binds an operation of a JSON 1.1 service: service is its
// signing name, targets the X-Amz-Target values clients send less the
// operation name (the SDKs and the CLI do not all send the same).
// resources gives the ARNs to authorise (nil: the action needs no
// permission); fn decodes the body and returns the output.
func HandleJSON(s *Server, service string, targets []string, op string, resources func(body []byte, req *Request) []string,
	fn func(ctx context.Context, body []byte) (any, error)) {
	js := s.json[service]
	if js == nil {
		js = &jsonService{name: service, prefixes: targets, actions: map[string]*jsonAction{}}
		s.json[service] = js
	}
	if fmt.Sprint(js.prefixes) != fmt.Sprint(targets) {
		panic(fmt.Sprintf("api: service %s has target prefixes %v, not %v", service, js.prefixes, targets))
	}
	js.actions[op] = &jsonAction{resources: resources, call: fn}
}

func (s *Server) serveJSON(r *http.Request, req *Request, js *jsonService, body []byte, region string) (any, error) {
	if r.Method != http.MethodPost {
		return nil, twinvault.Errorf(twinvault.UnknownOperationException, "method %s is not allowed", r.Method)
	}
	var a *jsonAction
	op := ""
	for _, p := range js.prefixes {
		if name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), p); ok {
			op, a = name, js.actions[name]
		}
	}
	if a == nil {
		return nil, twinvault.Errorf(twinvault.UnknownOperationException, "the X-Amz-Target header names no operation of %s", js.name)
	}
	req.Operation, req.ReadOnly = op, readOnly(js.name, op)
	var params map[string]any
	if json.Unmarshal(body, &params) == nil && len(params) > 0 {
		req.params = params // for the audit record, which hides secrets
	}
	call := &Call{Region: region, UserAgent: r.UserAgent(), Secure: r.TLS != nil}
	if a.resources != nil {
		call.Action, call.Resources = js.name+":"+op, a.resources(body, req)
		req.Resources = call.Resources
	}
	if err := s.authorize(r.Context(), req, call, twinvault.AccessDeniedException); err != nil {
		return nil, err
	}
	if err := s.reserve(r.Context(), req); err != nil {
		return nil, err
	}
	return a.call(WithRequest(r.Context(), req), body)
}
