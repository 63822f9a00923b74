package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	twinvault "github.com/twinvault/twinvault"
	"github.com/twinvault/twinvault/catalog"
	"github.com/twinvault/twinvault/internal/barriertest"
	"github.com/twinvault/twinvault/kv/kvtest"
	"github.com/twinvault/twinvault/model"
	"github.com/twinvault/twinvault/tsdb"
)

// The script tests, in the manner of Prometheus' promqltest, read
// testdata/*.test. A script loads twins and runs queries against them:
//
//	# a comment
//	load <workspace>
//	type <typeId> [extends=<typeId>] <prop>:<TYPE>[:<NESTED>][{key=value,...}] ...
//	entity <id> <name> [parent=<id>] [description=<text>]
//	  <component> <typeId> [<prop>=<value> ...]
//
//	load cookiefactory <workspace>
//	source <file in testdata>      (its lines stand in for this one)
//
//	eval <workspace> <query on one line>
//	  columns <name>:<TYPE> ...
//	  <row as a JSON array>
//	  ...
//
//	eval_fail <workspace> <query on one line>
//	  error <code> <text the message contains>
//
// Values follow the property's data type: 'text' or a bare word for a
// STRING, numbers, true and false, an entity ID for a RELATIONSHIP,
// [a,b] for a LIST and {k:v,...} for a MAP. Quotes may hold spaces.
//
// Rows match in any order. An object in an expected row matches an actual
// object that has at least its members, with equal values, so a node can
// be written {"entityId":"room_0"}; everything else must be equal.

func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.test"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no script tests: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".test"), func(t *testing.T) {
			runScript(t, f)
		})
	}
}

func newCatalog(t testing.TB) *catalog.Service {
	t.Helper()
	store := kvtest.NewMem()
	b := barriertest.Open(t, store)
	ts := tsdb.Open(b, nil)
	t.Cleanup(ts.Close)
	return catalog.New(b, catalog.Config{TS: ts})
}

type script struct {
	t     *testing.T
	cat   *catalog.Service
	svc   *Service
	file  string
	line  int
	types map[string]map[string]*model.DataType // workspace/type → property types
}

func (s *script) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s:%d: %s", s.file, s.line, fmt.Sprintf(format, args...))
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := &script{t: t, cat: newCatalog(t), file: file, types: map[string]map[string]*model.DataType{}}
	s.svc = NewService(s.cat)
	lines := strings.Split(string(data), "\n")
	ws := ""
	var entity *model.CreateEntityInput
	flush := func() {
		if entity != nil {
			if _, err := s.cat.CreateEntity(context.Background(), entity); err != nil {
				s.fatalf("create entity %s: %v", *entity.EntityId, err)
			}
			entity = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		s.line = i + 1
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		if indented && entity != nil {
			s.component(ws, entity, tokens(trimmed))
			continue
		}
		flush()
		cmd, rest, _ := strings.Cut(trimmed, " ")
		switch cmd {
		case "load":
			f := strings.Fields(rest)
			if len(f) == 2 && f[0] == "cookiefactory" {
				loadCookieFactory(t, s.cat, f[1])
				ws = f[1]
				continue
			}
			if len(f) != 1 {
				s.fatalf("load takes a workspace")
			}
			ws = f[0]
			if _, err := s.cat.CreateWorkspace(context.Background(), &model.CreateWorkspaceInput{WorkspaceId: ws}); err != nil {
				s.fatalf("create workspace: %v", err)
			}
		case "source":
			more, err := os.ReadFile(filepath.Join(filepath.Dir(file), strings.TrimSpace(rest)))
			if err != nil {
				s.fatalf("source: %v", err)
			}
			// The sourced lines take this line's place.
			lines = append(lines[:i+1:i+1], append(strings.Split(string(more), "\n"), lines[i+1:]...)...)
		case "type":
			s.componentType(ws, tokens(rest))
		case "entity":
			entity = s.entity(ws, tokens(rest))
		case "eval", "eval_fail":
			w, q, _ := strings.Cut(rest, " ")
			var block []string
			for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
				i++
				block = append(block, strings.TrimSpace(lines[i]))
			}
			if cmd == "eval" {
				s.eval(w, q, block)
			} else {
				s.evalFail(w, q, block)
			}
		default:
			s.fatalf("unknown command %q", cmd)
		}
	}
	flush()
}

// tokens splits at spaces outside single quotes; quotes stay in the token.
func tokens(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func (s *script) componentType(ws string, f []string) {
	in := &model.CreateComponentTypeInput{WorkspaceId: ws, ComponentTypeId: f[0], PropertyDefinitions: map[string]model.PropertyDefinitionRequest{}}
	for _, tok := range f[1:] {
		if p, ok := strings.CutPrefix(tok, "extends="); ok {
			in.ExtendsFrom = strings.Split(p, ",")
			continue
		}
		def := model.PropertyDefinitionRequest{}
		if i := strings.IndexByte(tok, '{'); i >= 0 {
			def.Configuration = map[string]string{}
			for _, kv := range strings.Split(strings.TrimSuffix(tok[i+1:], "}"), ",") {
				k, v, _ := strings.Cut(kv, "=")
				def.Configuration[k] = v
			}
			tok = tok[:i]
		}
		parts := strings.Split(tok, ":")
		if len(parts) < 2 {
			s.fatalf("property %q needs name:TYPE", tok)
		}
		def.DataType = &model.DataType{Type: model.Type(parts[1])}
		if len(parts) == 3 {
			def.DataType.NestedType = &model.DataType{Type: model.Type(parts[2])}
		}
		in.PropertyDefinitions[parts[0]] = def
	}
	if _, err := s.cat.CreateComponentType(context.Background(), in); err != nil {
		s.fatalf("create component type: %v", err)
	}
	props := map[string]*model.DataType{}
	for _, parent := range in.ExtendsFrom {
		for k, v := range s.types[ws+"/"+parent] {
			props[k] = v
		}
	}
	for k, v := range in.PropertyDefinitions {
		props[k] = v.DataType
	}
	s.types[ws+"/"+f[0]] = props
}

func (s *script) entity(ws string, f []string) *model.CreateEntityInput {
	if len(f) < 2 {
		s.fatalf("entity needs an id and a name")
	}
	in := &model.CreateEntityInput{WorkspaceId: ws, EntityId: model.String(f[0]), EntityName: model.String(unquote(f[1]))}
	for _, tok := range f[2:] {
		k, v, _ := strings.Cut(tok, "=")
		switch k {
		case "parent":
			in.ParentEntityId = model.String(v)
		case "description":
			in.Description = model.String(unquote(v))
		default:
			s.fatalf("unknown entity attribute %q", k)
		}
	}
	return in
}

func (s *script) component(ws string, in *model.CreateEntityInput, f []string) {
	if len(f) < 2 {
		s.fatalf("a component needs a name and a type")
	}
	types := s.types[ws+"/"+f[1]]
	c := model.ComponentRequest{ComponentTypeId: model.String(f[1]), Properties: map[string]model.PropertyRequest{}}
	for _, tok := range f[2:] {
		k, v, _ := strings.Cut(tok, "=")
		dt := types[k]
		if dt == nil {
			s.fatalf("type %s has no property %s", f[1], k)
		}
		val, err := parseValue(v, dt)
		if err != nil {
			s.fatalf("value of %s: %v", k, err)
		}
		c.Properties[k] = model.PropertyRequest{Value: val}
	}
	if in.Components == nil {
		in.Components = map[string]model.ComponentRequest{}
	}
	in.Components[f[0]] = c
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}

// splitTop splits at commas outside brackets and quotes.
func splitTop(s string) []string {
	var out []string
	depth, start, quoted := 0, 0, false
	for i, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
		case quoted:
		case r == '[' || r == '{':
			depth++
		case r == ']' || r == '}':
			depth--
		case r == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		out = append(out, s[start:])
	}
	return out
}

func parseValue(v string, dt *model.DataType) (*model.DataValue, error) {
	switch dt.Type {
	case model.TypeString:
		return &model.DataValue{StringValue: model.String(unquote(v))}, nil
	case model.TypeDouble:
		f, err := strconv.ParseFloat(v, 64)
		return &model.DataValue{DoubleValue: model.NewDouble(f)}, err
	case model.TypeInteger:
		n, err := strconv.ParseInt(v, 10, 32)
		i := int32(n)
		return &model.DataValue{IntegerValue: &i}, err
	case model.TypeLong:
		n, err := strconv.ParseInt(v, 10, 64)
		return &model.DataValue{LongValue: &n}, err
	case model.TypeBoolean:
		b, err := strconv.ParseBool(v)
		return &model.DataValue{BooleanValue: &b}, err
	case model.TypeRelationship:
		return &model.DataValue{RelationshipValue: &model.RelationshipValue{TargetEntityId: model.String(v)}}, nil
	case model.TypeList:
		out := &model.DataValue{ListValue: []model.DataValue{}}
		for _, item := range splitTop(strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")) {
			iv, err := parseValue(item, dt.NestedType)
			if err != nil {
				return nil, err
			}
			out.ListValue = append(out.ListValue, *iv)
		}
		return out, nil
	case model.TypeMap:
		out := &model.DataValue{MapValue: map[string]model.DataValue{}}
		for _, item := range splitTop(strings.TrimSuffix(strings.TrimPrefix(v, "{"), "}")) {
			k, iv, _ := strings.Cut(item, ":")
			val, err := parseValue(iv, dt.NestedType)
			if err != nil {
				return nil, err
			}
			out.MapValue[k] = *val
		}
		return out, nil
	}
	return nil, fmt.Errorf("type %s is not supported in scripts", dt.Type)
}

func (s *script) run(ws, q string) (*model.ExecuteQueryOutput, [][]any, error) {
	in := &model.ExecuteQueryInput{WorkspaceId: &ws, QueryStatement: &q, MaxResults: model.Int32(100)}
	var rows [][]any
	var first *model.ExecuteQueryOutput
	for {
		out, err := s.svc.ExecuteQuery(context.Background(), in)
		if err != nil {
			return nil, nil, err
		}
		if first == nil {
			first = out
		}
		for _, r := range out.Rows {
			// Through JSON, as the client sees it.
			raw, err := json.Marshal(r.RowData)
			if err != nil {
				return nil, nil, err
			}
			var row []any
			if err := json.Unmarshal(raw, &row); err != nil {
				return nil, nil, err
			}
			rows = append(rows, row)
		}
		if out.NextToken == nil {
			return first, rows, nil
		}
		in.NextToken = out.NextToken
	}
}

func (s *script) eval(ws, q string, block []string) {
	s.t.Helper()
	out, rows, err := s.run(ws, q)
	if err != nil {
		s.fatalf("%s\n  failed: %v", q, err)
	}
	var want [][]any
	for _, b := range block {
		if cols, ok := strings.CutPrefix(b, "columns "); ok {
			var got []string
			for _, c := range out.ColumnDescriptions {
				got = append(got, *c.Name+":"+string(c.Type))
			}
			if strings.Join(got, " ") != strings.TrimSpace(cols) {
				s.fatalf("%s\n  columns %s, want %s", q, strings.Join(got, " "), cols)
			}
			continue
		}
		var row []any
		if err := json.Unmarshal([]byte(b), &row); err != nil {
			s.fatalf("expected row %s: %v", b, err)
		}
		want = append(want, row)
	}
	if problem := matchRows(want, rows); problem != "" {
		got, _ := json.Marshal(rows)
		if len(got) > 4000 {
			got = append(got[:4000], "..."...)
		}
		s.fatalf("%s\n  %s\n  got %d rows: %s", q, problem, len(rows), got)
	}
}

func (s *script) evalFail(ws, q string, block []string) {
	s.t.Helper()
	_, _, err := s.run(ws, q)
	if len(block) != 1 || !strings.HasPrefix(block[0], "error ") {
		s.fatalf("eval_fail needs one line: error <code> <text>")
	}
	code, text, _ := strings.Cut(strings.TrimPrefix(block[0], "error "), " ")
	var te *twinvault.Error
	if !errors.As(err, &te) {
		s.fatalf("%s\n  got %v, want a %s", q, err, code)
	}
	if te.Code != code || !strings.Contains(te.Message, text) {
		s.fatalf("%s\n  got %s: %s\n  want %s containing %q", q, te.Code, te.Message, code, text)
	}
}

// matchRows pairs every expected row with a distinct actual one.
func matchRows(want, got [][]any) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d rows, want %d", len(got), len(want))
	}
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if !used[i] && matches(w, g) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			b, _ := json.Marshal(w)
			return "no row matches " + string(b)
		}
	}
	return ""
}

// matches: objects match when got has want's members; the rest is equal.
func matches(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !matches(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !matches(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return want == got
}
