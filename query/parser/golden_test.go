package parser

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden and the example seeds in testdata/fuzz/FuzzParse")

// goldenQueries are the documented examples plus one query for each feature
// of the grammar; testdata/NAME.golden holds each one's printed form and AST.
var goldenQueries = append(append([]struct{ name, query string }{}, examples...), []struct{ name, query string }{
	{"abbreviated_edges", `SELECT a, b, c, d FROM EntityGraph MATCH (a)->(b)<-(c)-(d)<->(a)`},
	{"either_direction_full", `SELECT r FROM EntityGraph MATCH (a)<-[r:feeds]->(b)`},
	{"arrows_with_spaces", `SELECT a FROM EntityGraph MATCH (a) - [ r : feeds ] - > (b) < - (c)`},
	{"quantifiers", `SELECT a FROM EntityGraph MATCH (a)-[]->{3}(b)-[:isChildOf]->{2,}(c)<-[]-{,4}(d)-[]-*(e)-[]->+(f)-[]->{0,1}(g)`},
	{"quantified_edge_var", `SELECT rs FROM EntityGraph MATCH (a)-[rs:isChildOf]->{1,3}(b)`},
	{"several_patterns", `SELECT a, c FROM EntityGraph MATCH (a)-[:feed]->(b), (b)-[:feed]->(c), q = ()-[]->()`},
	{"unnest_after_patterns", `SELECT x FROM EntityGraph MATCH (e), e.components AS c, (x)-[]->(e), c.properties AS p WHERE p.propertyName = 'a'`},
	{"quoted_names", `SELECT "select"."from" AS "my col", "a b" FROM EntityGraph MATCH ("select")-[:"has-part"]->("a b"), "select".components AS "AND"`},
	{"keywords_as_fields", `SELECT e.from, e.match FROM EntityGraph MATCH (e)-[:in]->(f)`},
	{"case_insensitive_keywords", `select Distinct e.entityName as Name from entitygraph match (e) where e IS not missing and e.x Is Null or not e.y like 'a%' limit 5 offset 2;`},
	{"literals", `SELECT e FROM EntityGraph MATCH (e) WHERE e.a = TRUE OR e.b = FALSE OR e.c = NULL OR e.d = MISSING OR e.f = -3 OR e.g = 1.5e3 OR e.h = -0.25 OR e.i = 'it''s' OR e.j = 1E-7`},
	{"in_lists", `SELECT e FROM EntityGraph MATCH (e) WHERE e.entityId IN ('a', 'b', 'c') AND e.n NOT IN (1, -2, 3.5) AND 'x' IN e.tags AND e.k IN (e.entityName)`},
	{"like_forms", `SELECT e FROM EntityGraph MATCH (e) WHERE e.a LIKE '%' AND e.b NOT LIKE 'x!%y' ESCAPE '!' AND e.c LIKE '_''_'`},
	{"precedence", `SELECT e FROM EntityGraph MATCH (e) WHERE (e.a = 1 OR e.b = 2) AND NOT (e.c = 3 AND e.d = 4) OR e.f = (NOT e.g)`},
	{"right_nested_and", `SELECT e FROM EntityGraph MATCH (e) WHERE e.a = 1 AND (e.b = 2 AND e.c = 3)`},
	{"double_not", `SELECT e FROM EntityGraph MATCH (e) WHERE NOT NOT e.a IS NULL`},
	{"comparisons", `SELECT e FROM EntityGraph MATCH (e) WHERE e.a != 1 AND e.b <> 2 AND e.c < 3 AND e.d <= 4 AND e.f > 5 AND e.g >= 6 AND e.h => 7`},
	{"calls_and_count_star", `SELECT COUNT(*), count(lower(e.entityName)) FROM EntityGraph MATCH (e) WHERE Upper(e.a) = lower('X') AND f() = g(e.a, 1, 'b')`},
	{"select_expressions", `SELECT e.a = 1 AS isOne, 'const', 42, lower(e.entityName) FROM EntityGraph MATCH (e)`},
	{"offset_then_limit", "SELECT e\n  FROM EntityGraph\n  MATCH (e)\n  OFFSET 10\n  LIMIT 20"},
	{"anonymous_everything", `SELECT COUNT(*) FROM EntityGraph MATCH ()-[]-()`},
	{"repeated_node_var", `SELECT a FROM EntityGraph MATCH (a)-[:feed]->(b)-[:feed]->(a)`},
	{"unicode_spaces", "SELECT\u00a0e FROM\u2003EntityGraph MATCH (e) WHERE e.entityName = 'Küche'"},
}...)

func TestGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range goldenQueries {
		t.Run(tc.name, func(t *testing.T) {
			if seen[tc.name] {
				t.Fatalf("duplicate name %s", tc.name)
			}
			seen[tc.name] = true
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := "-- query --\n" + tc.query + "\n-- printed --\n" + q.String() + "\n-- ast --\n" + dump(q, true)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("AST differs from %s (run go test -update after checking the change):\n%s", path, diff(string(want), got))
			}
		})
	}
}

// diff shows the first differing line of two texts, with its neighbours.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(no difference)"
}
