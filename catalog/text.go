package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/twinvault/twinvault/barrier"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/tsdb"
	"github.com/twinvault/twinvault/tsdb/chunkenc"
)

// A discovery scan reads every piece of text a workspace holds: its own
// and its resources' descriptions, names, tags and metadata, the values of
// entities' properties and the history of their time-series properties.
// Scene documents and other objects live in the workspace's bucket, which
// the caller reads itself (Text.Bucket).

// Text is one piece of a workspace's text and where it is: a location
// made of resource IDs and member names ("entity/<id>/<component>/<property>").
type Text struct {
	Location string
	Text     string
}

// TextCounts say how much a walk will visit, for progress.
type TextCounts struct {
	ComponentTypes, Entities, Scenes int
}

// WorkspaceText walks the text of workspace ws, resource by resource;
// progress is told the entities walked after each one. It returns the name of
// the workspace's bucket ("" if none), whose objects the caller scans.
func (s *Service) WorkspaceText(ctx context.Context, ws string, fn func(Text) error, progress func(entities int)) (bucket string, err error) {
	err = s.view(ctx, func(tx *barrier.Tx) error {
		w, v, err := s.loadWorkspace(ctx, tx, ws)
		if err != nil {
			return err
		}
		if w.S3Location != nil {
			if b, err := bucketOf(*w.S3Location); err == nil {
				bucket = b
			}
		}
		emit := func(loc string, text *string) error {
			if text == nil || *text == "" {
				return nil
			}
			return fn(Text{loc, *text})
		}
		tags := func(loc string, m map[string]string) error {
			for _, k := range sortedKeys(m) {
				if err := fn(Text{loc + "/tags", k + "=" + m[k]}); err != nil {
					return err
				}
			}
			return nil
		}
		base := "workspace/" + w.ID
		if err := emit(base+"/description", w.Description); err != nil {
			return err
		}
		if err := tags(base, w.Tags); err != nil {
			return err
		}
		// Component types.
		err = tx.Scan(v, prefixRange("ct/"), func(_, val []byte) error {
			var ct componentType
			if err := json.Unmarshal(val, &ct); err != nil {
				return fmt.Errorf("catalog: decode component type: %w", err)
			}
			loc := "component-type/" + ct.ID
			if err := fn(Text{loc + "/id", ct.ID}); err != nil {
				return err
			}
			if err := emit(loc+"/name", ct.Name); err != nil {
				return err
			}
			if err := emit(loc+"/description", ct.Description); err != nil {
				return err
			}
			for _, name := range sortedKeys(ct.PropertyDefinitions) {
				d := ct.PropertyDefinitions[name]
				if err := valueText(loc+"/"+name+"/defaultValue", d.DefaultValue, fn); err != nil {
					return err
				}
			}
			return tags(loc, ct.Tags)
		})
		if err != nil {
			return err
		}
		// Entities, their property values and histories.
		n := 0
		err = tx.Scan(v, prefixRange("en/"), func(_, val []byte) error {
			var e entity
			if err := json.Unmarshal(val, &e); err != nil {
				return fmt.Errorf("catalog: decode entity: %w", err)
			}
			if err := s.entityText(ctx, tx, v, &e, fn); err != nil {
				return err
			}
			n++
			if progress != nil {
				progress(n)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Scenes.
		return tx.Scan(v, prefixRange("sc/"), func(_, val []byte) error {
			var sc scene
			if err := json.Unmarshal(val, &sc); err != nil {
				return fmt.Errorf("catalog: decode scene: %w", err)
			}
			loc := "scene/" + sc.ID
			if err := fn(Text{loc + "/id", sc.ID}); err != nil {
				return err
			}
			if err := emit(loc+"/description", sc.Description); err != nil {
				return err
			}
			if err := tags(loc+"/metadata", sc.Metadata); err != nil {
				return err
			}
			return tags(loc, sc.Tags)
		})
	})
	return bucket, err
}

// WorkspaceTextCounts counts what WorkspaceText visits.
func (s *Service) WorkspaceTextCounts(ctx context.Context, ws string) (TextCounts, error) {
	var c TextCounts
	err := s.view(ctx, func(tx *barrier.Tx) error {
		_, v, err := s.loadWorkspace(ctx, tx, ws)
		if err != nil {
			return err
		}
		for _, p := range []struct {
			prefix string
			n      *int
		}{{"ct/", &c.ComponentTypes}, {"en/", &c.Entities}, {"sc/", &c.Scenes}} {
			err := tx.Scan(v, prefixRange(p.prefix), func(_, _ []byte) error {
				*p.n++
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return c, err
}

// entityText walks an entity's names, description, tags, property values
// and the history of its time-series properties.
func (s *Service) entityText(ctx context.Context, tx *barrier.Tx, v *barrier.View, e *entity, fn func(Text) error) error {
	loc := "entity/" + e.ID
	for _, t := range []Text{{loc + "/id", e.ID}, {loc + "/name", e.Name}} {
		if err := fn(t); err != nil {
			return err
		}
	}
	if e.Description != nil {
		if err := fn(Text{loc + "/description", *e.Description}); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(e.Tags) {
		if err := fn(Text{loc + "/tags", k + "=" + e.Tags[k]}); err != nil {
			return err
		}
	}
	visit := func(path string, c *component) error {
		if c.Description != nil {
			if err := fn(Text{loc + "/" + path + "/description", *c.Description}); err != nil {
				return err
			}
		}
		for _, name := range sortedKeys(c.Properties) {
			if p := c.Properties[name]; p != nil {
				if err := valueText(loc+"/"+path+"/"+name, p.Value, fn); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, path := range sortedKeys(e.Components) {
		if err := visit(path, e.Components[path]); err != nil {
			return err
		}
	}
	for _, path := range sortedKeys(e.Composite) {
		if err := visit(path, e.Composite[path]); err != nil {
			return err
		}
	}
	series, err := timeSeries(newResolver(tx, v), e)
	if err != nil {
		return err
	}
	keys := make([][2]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1] })
	for _, k := range keys {
		dt := series[k]
		if kind := kindOf(dt); kind != chunkenc.KindString && kind != chunkenc.KindBytes {
			continue // numbers and booleans hold no text
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		q := tsdb.Query{From: tsdb.MinTime, To: tsdb.MaxTime, Limit: 4096}
		for {
			c, more, err := s.ts.Read(tx, v, seriesOf(v, e, k[0], k[1], dt), q)
			if err != nil {
				return err
			}
			if c == nil {
				break // no history
			}
			for _, str := range c.Strings {
				if err := fn(Text{loc + "/" + k[0] + "/" + k[1] + "/history", str}); err != nil {
					return err
				}
			}
			if !more || c.Len() == 0 {
				break
			}
			q.From = c.Times[c.Len()-1] + 1
		}
	}
	return nil
}

// valueText walks the strings of a value, into lists, maps and
// relationships.
func valueText(loc string, dv *model.DataValue, fn func(Text) error) error {
	if dv == nil {
		return nil
	}
	if dv.StringValue != nil {
		if err := fn(Text{loc, *dv.StringValue}); err != nil {
			return err
		}
	}
	for i := range dv.ListValue {
		if err := valueText(loc, &dv.ListValue[i], fn); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(dv.MapValue) {
		m := dv.MapValue[k]
		if err := fn(Text{loc, k}); err != nil {
			return err
		}
		if err := valueText(loc, &m, fn); err != nil {
			return err
		}
	}
	return nil
}

// WorkspaceIDs lists every workspace's ID, sorted.
func (s *Service) WorkspaceIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.view(ctx, func(tx *barrier.Tx) error {
		return tx.Scan(s.b.System(), prefixRange("ws/"), func(_, val []byte) error {
			var ws workspace
			if err := decode(val, &ws); err != nil {
				return err
			}
			ids = append(ids, ws.ID)
			return nil
		})
	})
	sort.Strings(ids)
	return ids, err
}
