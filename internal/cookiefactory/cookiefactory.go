// Package cookiefactory reads AWS's CookieFactory sample twin (the
// tmdt_project folder of ../shared/samples/cookiefactory) and turns it into
// the requests the sample's deploy step sends: component types with
// read-only members dropped and inherited definitions left to their
// parents, then entities, each list parents first.
package cookiefactory

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ConnectorARN stands in for the sample's __TO_FILL_IN_…_ARN__
// placeholders, as the deploy step fills them.
const ConnectorARN = "arn:aws:lambda:us-east-1:123456789012:function:cookiefactory-connector"

// ComponentType is one of the sample's component types.
type ComponentType struct {
	ID      string
	Raw     map[string]any // as in the sample: a GetComponentType response
	Request map[string]any // the CreateComponentType request body
}

// ComponentTypes returns the sample's component types in dir, every type
// after the types it extends.
func ComponentTypes(dir string) ([]ComponentType, error) {
	var manifest struct {
		ComponentTypes []string `json:"component_types"`
	}
	if err := read(filepath.Join(dir, "tmdt.json"), &manifest); err != nil {
		return nil, err
	}
	var out []ComponentType
	for _, f := range manifest.ComponentTypes {
		var raw map[string]any
		if err := read(filepath.Join(dir, f), &raw); err != nil {
			return nil, err
		}
		req := map[string]any{}
		for k, v := range raw {
			req[k] = v
		}
		props := map[string]any{}
		defs, _ := raw["propertyDefinitions"].(map[string]any)
		for name, p := range defs {
			if pm := p.(map[string]any); pm["isInherited"] != true || pm["defaultValue"] != nil {
				props[name] = pm
			}
		}
		req["propertyDefinitions"] = props
		if fns, ok := raw["functions"].(map[string]any); ok {
			own := map[string]any{}
			for name, fn := range fns {
				if fn.(map[string]any)["isInherited"] != true {
					own[name] = fn
				}
			}
			req["functions"] = own
		}
		id, _ := raw["componentTypeId"].(string)
		out = append(out, ComponentType{ID: id, Raw: raw, Request: req})
	}
	depth := map[string]int{}
	var depthOf func(id string, seen int) int
	depthOf = func(id string, seen int) int {
		if d, ok := depth[id]; ok || seen > len(out) {
			return d
		}
		d := 0
		for _, ct := range out {
			if ct.ID != id {
				continue
			}
			parents, _ := ct.Raw["extendsFrom"].([]any)
			for _, p := range parents {
				d = max(d, 1+depthOf(p.(string), seen+1))
			}
		}
		depth[id] = d
		return d
	}
	sort.SliceStable(out, func(i, j int) bool { return depthOf(out[i].ID, 0) < depthOf(out[j].ID, 0) })
	return out, nil
}

// Entities returns the sample's entities in dir, as CreateEntity request
// bodies, every entity after its parent.
func Entities(dir string) ([]map[string]any, error) {
	var raws []map[string]any
	if err := read(filepath.Join(dir, "entities.json"), &raws); err != nil {
		return nil, err
	}
	byID := map[string]map[string]any{}
	for _, r := range raws {
		id, _ := r["entityId"].(string)
		byID[id] = r
	}
	level := func(r map[string]any) int {
		n := 0
		for p, _ := r["parentEntityId"].(string); p != "$ROOT" && n <= len(raws); n++ {
			p, _ = byID[p]["parentEntityId"].(string)
		}
		return n
	}
	sort.SliceStable(raws, func(i, j int) bool { return level(raws[i]) < level(raws[j]) })
	return raws, nil
}

// read decodes a sample file with its placeholders filled in.
func read(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(fill(string(data))), v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func fill(s string) string {
	const mark = "__TO_FILL_IN_"
	for {
		i := strings.Index(s, mark)
		if i < 0 {
			return s
		}
		j := strings.Index(s[i+len(mark):], "__")
		if j < 0 {
			return s
		}
		s = s[:i] + ConnectorARN + s[i+len(mark)+j+2:]
	}
}
