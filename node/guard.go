package node

import (
	"context"
	"errors"
	"maps"
	"sort"
	"strings"

	"github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/api"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/detect"
)

// guard checks what a TwinMaker change writes: names, descriptions and
// tags for personal data and credentials, under the workspace's data
// policy, and URLs for credentials and disallowed schemes, always.
type guard struct{ c *catalog.Service }

// Kinds of field, each with its own mode in a data policy.
const (
	kindNames        = "names"
	kindDescriptions = "descriptions"
	kindTags         = "tags"
)

// nameMaps are the members whose map keys are names (of components,
// properties, functions, groups).
var nameMaps = map[string]bool{
	"components": true, "componentUpdates": true, "compositeComponentUpdates": true, "propertyDefinitions": true,
	"propertyUpdates": true, "properties": true, "functions": true, "propertyGroups": true,
	"propertyGroupUpdates": true, "compositeComponentTypes": true, "compositeComponents": true,
}

// freeMaps are the members whose keys and values are free text.
var freeMaps = map[string]string{"tags": kindTags, "sceneMetadata": kindDescriptions, "configuration": kindDescriptions}

// valueMembers hold property values, checked by the discovery scan rather
// than on write, and paging or enum members that are never free text.
var valueMembers = map[string]bool{
	"defaultValue": true, "value": true, "values": true, "propertyValues": true, "entries": true,
	"allowedValues": true, "nextToken": true, "maxResults": true, "tagKeys": true,
	"resourceARN": true, // names a resource that exists already
}

// urlMembers are URLs given to the service, with the schemes they may use.
var urlMembers = map[string][]string{"contentLocation": {"s3"}}

// field is one piece of free text a request writes.
type field struct {
	path, kind, text string
}

// fields lists the free text in params, by member name: never a value or
// a map key in a path, since those may be what is found.
func fields(path string, params map[string]any, out *[]field) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, p := params[k], k
		if path != "" {
			p = path + "." + k
		}
		switch {
		case valueMembers[k]:
		case freeMaps[k] != "":
			kind := freeMaps[k]
			if m, ok := v.(map[string]any); ok {
				for tk, tv := range m {
					*out = append(*out, field{p + " (a key)", kind, tk})
					if s, ok := tv.(string); ok {
						*out = append(*out, field{p + " (a value)", kind, s})
					}
				}
			}
		case nameMaps[k]:
			if m, ok := v.(map[string]any); ok {
				for name, sub := range m {
					*out = append(*out, field{p + " (a name)", kindNames, name})
					if sm, ok := sub.(map[string]any); ok {
						fields(p+".*", sm, out)
					}
				}
			}
		default:
			switch v := v.(type) {
			case string:
				// IDs, names, ARNs, types, units: identifiers all; enum
				// members (type, updateType, …) never match a detector.
				switch {
				case urlMembers[k] != nil:
					*out = append(*out, field{p, "url", v})
				case k == "description" || strings.HasSuffix(k, "Description"):
					*out = append(*out, field{p, kindDescriptions, v})
				default:
					*out = append(*out, field{p, kindNames, v})
				}
			case map[string]any:
				fields(p, v, out) // an object of the model: its keys are member names
			case []any:
				for _, e := range v {
					switch e := e.(type) {
					case map[string]any:
						fields(p+".*", e, out)
					case string: // extendsFrom, propertyNames, capabilities, …
						*out = append(*out, field{p + " (an item)", kindNames, e})
					}
				}
			}
		}
	}
}

// Check refuses a change that writes a credential-bearing URL, or a
// finding where the workspace's policy rejects it. Every finding, refused
// or let through, is added to req, so the audit record lists it and hides
// the field.
//
// Deletions write nothing new and are not checked, nor are the labels that
// name existing resources in other calls: a resource named before its
// workspace's policy changed can still be updated and removed.
func (g guard) Check(ctx context.Context, req *api.Request, params map[string]any, labels map[string]string) error {
	if strings.HasPrefix(req.Operation, "Delete") || strings.HasPrefix(req.Operation, "Untag") {
		return nil
	}
	checked := params
	if !strings.HasPrefix(req.Operation, "Create") && len(labels) > 0 {
		checked = maps.Clone(params)
		for k := range labels {
			delete(checked, k)
		}
	}
	var fs []field
	fields("", checked, &fs)
	if len(fs) == 0 {
		return nil
	}
	ws := workspaceOf(params)
	policy := catalog.DefaultDataPolicy()
	if ws != "" && req.Operation != "CreateWorkspace" {
		p, err := g.c.DataPolicy(ctx, ws)
		var te *twinvault.Error
		switch {
		case err == nil:
			policy = p
		case errors.As(err, &te) && te.Code == twinvault.ResourceNotFoundException:
			// The call fails on its own; the default applies meanwhile.
		default:
			return err
		}
	}
	// Every field is looked at before deciding, so that every finding is
	// listed and hidden, not only those before the first refusal.
	var refusal error
	for _, f := range fs {
		if f.kind == "url" {
			if err := detect.CheckURL(f.text, urlMembers[lastMember(f.path)]...); err != nil {
				req.Findings = append(req.Findings, api.Finding{Field: f.path, Type: "REFUSED_URL", Confidence: detect.High.String()})
				req.Sensitive = append(req.Sensitive, f.text)
				if refusal == nil {
					refusal = twinvault.Errorf(twinvault.ValidationException, "%s: %v", f.path, strings.TrimPrefix(err.Error(), "detect: "))
				}
			}
			continue
		}
		mode := map[string]string{kindNames: policy.Names, kindDescriptions: policy.Descriptions, kindTags: policy.Tags}[f.kind]
		if mode == catalog.Off {
			continue
		}
		for _, found := range detect.Scan(f.text) {
			req.Findings = append(req.Findings, api.Finding{Field: f.path, Type: string(found.Type), Confidence: found.Confidence.String()})
			if found.Confidence >= detect.Medium {
				req.Sensitive = append(req.Sensitive, f.text[found.Offset:found.Offset+found.Length])
			}
			if refusal == nil && mode == catalog.Reject && found.Confidence >= detect.Medium {
				refusal = twinvault.Errorf(twinvault.ValidationException,
					"%s holds what looks like %s (%s confidence); personal data and credentials do not belong in %s (the workspace's data policy rejects them). Nothing was written.",
					f.path, found.Type, found.Confidence, f.kind)
			}
		}
	}
	return refusal
}

// workspaceOf is the workspace a request writes to: its workspaceId, or
// the one a tagged resource's ARN names.
func workspaceOf(params map[string]any) string {
	arn, _ := params["resourceARN"].(string)
	if ws, ok := params["workspaceId"].(string); ok {
		if !strings.HasPrefix(ws, "arn:") {
			return ws
		}
		arn = ws
	}
	_, rest, ok := strings.Cut(arn, ":workspace/")
	if !ok {
		return ""
	}
	ws, _, _ := strings.Cut(rest, "/")
	return ws
}

func lastMember(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// topMembers are the request members that hold the fields of findings.
func topMembers(fs []api.Finding) []string {
	var out []string
	for _, f := range fs {
		m := f.Field
		if i := strings.IndexAny(m, ". "); i >= 0 {
			m = m[:i]
		}
		out = append(out, m)
	}
	return out
}
