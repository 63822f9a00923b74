package api

import (
	"errors"
	"net/url"
	"testing"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/model"
)

func TestRouter(t *testing.T) {
	rt := &router{}
	for _, op := range model.Operations {
		rt.add(op, nil)
	}
	tests := []struct {
		method, path, op string
		labels           map[string]string
	}{
		{"GET", "/workspaces/ws1", "GetWorkspace", map[string]string{"workspaceId": "ws1"}},
		{"GET", "/workspaces/arn%3Aaws%3Aiottwinmaker%3Aus-east-1%3A000000000000%3Aworkspace%2Fws1", "GetWorkspace", map[string]string{"workspaceId": "arn:aws:iottwinmaker:us-east-1:000000000000:workspace/ws1"}},
		{"POST", "/workspaces-list", "ListWorkspaces", map[string]string{}},
		{"GET", "/workspaces/ws1/component-types/com.example%3Atype%2Fx", "GetComponentType", map[string]string{"workspaceId": "ws1", "componentTypeId": "com.example:type/x"}},
		{"POST", "/workspaces/ws1/entity-properties/history", "GetPropertyValueHistory", map[string]string{"workspaceId": "ws1"}},
		{"POST", "/workspaces/ws1/entities/e1/components-list", "ListComponents", map[string]string{"workspaceId": "ws1", "entityId": "e1"}},
		{"DELETE", "/tags", "UntagResource", map[string]string{}},
		{"POST", "/queries/execution", "ExecuteQuery", map[string]string{}},
	}
	for _, tt := range tests {
		r, labels, _, err := rt.match(tt.method, tt.path)
		if err != nil || r == nil || r.op.Name != tt.op {
			t.Errorf("%s %s: %v %v, want %s", tt.method, tt.path, r, err, tt.op)
			continue
		}
		for k, v := range tt.labels {
			if labels[k] != v {
				t.Errorf("%s %s: label %s = %q, want %q", tt.method, tt.path, k, labels[k], v)
			}
		}
	}
	if r, _, found, _ := rt.match("PATCH", "/workspaces/ws1"); r != nil || !found {
		t.Errorf("PATCH /workspaces/ws1: route %v found %v", r, found)
	}
	if r, _, found, _ := rt.match("GET", "/nothing/here"); r != nil || found {
		t.Errorf("unknown path: route %v found %v", r, found)
	}
	if _, _, _, err := rt.match("GET", "/workspaces/%zz"); err == nil {
		t.Error("malformed escape accepted")
	}
}

// FuzzDecode drives the decoding path of every operation — body, labels,
// query, validation — with hostile input. Whatever it gets, it must answer
// with a client error the server can send, never panic and never an
// internal error.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(0), []byte(`{}`), "ws1", "x=1")
	f.Add(uint8(7), []byte(`{"entityName":"a","components":{"c":{"componentTypeId":"t","properties":{"p":{"value":{"listValue":[{"mapValue":{"k":{"doubleValue":"NaN"}}}]}}}}}}`), "ws1", "")
	f.Add(uint8(20), []byte(`{"maxResults":201,"nextToken":"zz"}`), "bad id", "isRecursive=maybe")
	f.Add(uint8(33), []byte(`{"entries":[{"entityPropertyReference":{"propertyName":"p"},"propertyValues":[{"time":"2023-01-01T00:00:00Z","value":{"doubleValue":1e308}}]}]}`), "w", "tagKeys=a&tagKeys=b")
	f.Add(uint8(5), []byte(`[1,2,3]`), "", "")
	f.Add(uint8(9), []byte(`{"creationDateTime":"yesterday"}`), "\x00", "resourceARN=%zz")
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte, label, query string) {
		op := model.Operations[int(opIndex)%len(model.Operations)]
		in := op.Input()
		_, err := decodeBody(body, in)
		if err == nil {
			for _, seg := range splitPath(op.Path) {
				if isLabel(seg) {
					if err = in.SetLabel(seg[1:len(seg)-1], label); err != nil {
						break
					}
				}
			}
		}
		if err == nil {
			q, _ := url.ParseQuery(query)
			err = in.BindQuery(q)
		}
		if err == nil {
			err = in.Validate()
		}
		if err == nil {
			return
		}
		var te *twinvault.Error
		var ve *model.ValidationError
		switch {
		case errors.As(err, &te):
			if te.Status() >= 500 {
				t.Fatalf("%s: server error %v", op.Name, err)
			}
		case errors.As(err, &ve):
		default:
			t.Fatalf("%s: error of type %T would be an internal error: %v", op.Name, err, err)
		}
	})
}
