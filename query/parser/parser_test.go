package parser

import (
	"errors"
	"strings"
	"testing"
)

// roundTrip checks the printer's promise: the printed form parses to the
// same AST and prints the same again.
func roundTrip(t *testing.T, q *Query) {
	t.Helper()
	s1 := q.String()
	q2, err := Parse(s1)
	if err != nil {
		t.Fatalf("printed form does not parse: %v\n%s", err, s1)
	}
	if s2 := q2.String(); s2 != s1 {
		t.Fatalf("printing is not stable:\n%s\n%s", s1, s2)
	}
	if d1, d2 := dump(q, false), dump(q2, false); d1 != d2 {
		t.Fatalf("printed form parses to another AST:\n%s", diff(d1, d2))
	}
}

func TestExamples(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			q, err := Parse(ex.query)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, q)
		})
	}
}

func TestRoundTripGolden(t *testing.T) {
	for _, tc := range goldenQueries {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, q)
		})
	}
}

// The notes list three typos in the TwinMaker docs.
func TestDocumentationTypos(t *testing.T) {
	// "=>" for ">=" is tolerated and printed as ">=".
	q, err := Parse(propertyQuery + `WHERE p.propertyValue => 20`)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := q.Where.(*Binary); !ok || b.Op != OpGe {
		t.Fatalf("=> parsed as %s", ExprString(q.Where))
	}
	if !strings.HasSuffix(q.String(), "WHERE p.propertyValue >= 20") {
		t.Fatalf("printed as %s", q.String())
	}

	// A stray comma before AND is refused, with a message that says so.
	_, err = Parse("SELECT e FROM EntityGraph MATCH (e), e.components AS c\n" +
		"WHERE c.componentTypeId = 'sitewise', AND c.componentName = 'x'")
	wantError(t, err, 2, 37, `unexpected "," before AND: join conditions with AND or OR alone`)

	// relationship.relationshipName with the edge bound as r: an unbound variable.
	_, err = Parse(`SELECT r FROM EntityGraph MATCH (e1)-[r]->(e2) WHERE relationship.relationshipName = 'isLocationOf'`)
	wantError(t, err, 1, 54, `unbound variable "relationship": bind it in MATCH, e.g. (e) or -[r]->, or with an unnest such as e.components AS c`)
}

func wantError(t *testing.T, err error, line, col int, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Line != line || e.Col != col || e.Msg != msg {
		t.Fatalf("got  %d:%d %s\nwant %d:%d %s", e.Line, e.Col, e.Msg, line, col, msg)
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("SELECT e1 FROM EntityGraph MATCH (e1 -[r]->(e2)")
	if got, want := err.Error(), `line 1, column 38: expected ")" after node pattern, found "-"`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var e *Error
	errors.As(err, &e)
	if e.Pos != 37 {
		t.Fatalf("Pos = %d, want byte offset 37", e.Pos)
	}
}

func TestVars(t *testing.T) {
	q, err := Parse(`SELECT x FROM EntityGraph MATCH x = (a)-[r:feed]->(b)-[rs]->{1,3}(a), a.components AS c`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range q.Vars() {
		got = append(got, b.Name+":"+b.Kind.String()+"@"+b.Pos.String())
	}
	want := []string{
		"x:path@line 1, column 33",
		"a:node@line 1, column 38",
		"r:edge@line 1, column 42",
		"b:node@line 1, column 52",
		"rs:variable-length edge@line 1, column 56",
		"c:unnest alias@line 1, column 87",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Vars:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestColumnName(t *testing.T) {
	_, err := Parse(`SELECT e, e.entityName, e.entityId AS id, COUNT(e), lower(e.x) FROM EntityGraph MATCH (e)`)
	if err == nil {
		t.Fatal("mixing COUNT with plain fields was accepted")
	}
	q, err := Parse(`SELECT e, e.entityName, e.entityId AS id, lower(e.x), 'k' FROM EntityGraph MATCH (e)`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, it := range q.Select {
		got = append(got, it.ColumnName(i))
	}
	if g, w := strings.Join(got, ","), "e,entityName,id,_4,_5"; g != w {
		t.Fatalf("column names %s, want %s", g, w)
	}
}

func TestLimits(t *testing.T) {
	l := Limits{MaxHops: 20, MaxInItems: 2}
	q, err := ParseWithLimits(`SELECT b FROM EntityGraph MATCH (a)-[]->{1,20}(b)-[]->{2,}(c) WHERE a.x IN (1, 2)`, l)
	if err != nil {
		t.Fatal(err)
	}
	if e := q.Match[0].Edges[1]; e.Min != 2 || e.Max != 20 {
		t.Fatalf("{2,} with MaxHops 20 gave {%d,%d}", e.Min, e.Max)
	}
	_, err = ParseWithLimits(`SELECT a FROM EntityGraph MATCH (a) WHERE a.x IN (1, 2, 3)`, l)
	wantError(t, err, 1, 57, "too many items in the IN list: the limit is 2")
	// Zero fields take the defaults.
	_, err = ParseWithLimits(`SELECT a FROM EntityGraph MATCH (a) LIMIT 3001`, Limits{})
	wantError(t, err, 1, 43, "LIMIT 3001 exceeds the limit of 3000")
	if d := DefaultLimits(); d != (Limits{}).withDefaults() {
		t.Fatalf("withDefaults of zero limits %+v != DefaultLimits %+v", (Limits{}).withDefaults(), d)
	}
}

func TestLimitsAtTheEdge(t *testing.T) {
	ok := []string{
		`SELECT a FROM EntityGraph MATCH (a)-[]->{10}(b)`,
		`SELECT a FROM EntityGraph MATCH (a)-[]->{10,}(b)`,
		`SELECT a FROM EntityGraph MATCH (a) LIMIT 3000`,
		`SELECT a FROM EntityGraph MATCH (a) OFFSET 3000`,
		`SELECT a FROM EntityGraph MATCH (a) LIMIT 2000 OFFSET 1000`,
		`SELECT a FROM EntityGraph MATCH (a) LIMIT 0 OFFSET 0`,
		`SELECT a FROM EntityGraph MATCH (a) WHERE a.n LIKE '12345678901234567890'`,
		`SELECT a FROM EntityGraph MATCH (a) WHERE a.n LIKE 'ääääääääääääääääääää'`,
		`SELECT a FROM EntityGraph MATCH (a) WHERE a.n IN (1,2,3,4,5,6,7,8,9,10)`,
		`SELECT a FROM EntityGraph MATCH (a) WHERE a.a=1 AND a.b=1 AND a.c=1 AND a.d=1 AND a.e=1 OR a.g=1 OR a.h=1 OR NOT a.i=1 AND NOT a.j=1`,
		`SELECT a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a FROM EntityGraph MATCH (a)`,
		`SELECT a FROM EntityGraph MATCH (a)-(a)-(a)-(a)-(a)-(a)-(a)-(a)-(a)-(a)-(a), (b)-(b)-(b)-(b)-(b)-(b)-(b)-(b)-(b), (c)`,
		`SELECT a FROM EntityGraph MATCH (a) WHERE ` + strings.Repeat("(", 64) + "a.x" + strings.Repeat(")", 64),
	}
	for _, s := range ok {
		q, err := Parse(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		roundTrip(t, q)
	}
}

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		pattern, escape, s string
		want               bool
	}{
		{"room_%", "", "room_0", true},
		{"room_%", "", "room", false},
		{"room_%", "", "roomX", true},
		{"room\\_%", "\\", "roomX", false},
		{"room\\_%", "\\", "room_12", true},
		{"room\\%", "\\", "room%", true},
		{"room\\%", "\\", "room%x", false},
		{"%", "", "", true},
		{"_", "", "", false},
		{"_", "", "ä", true},
		{"lumin%", "", "luminaire_1", true},
		{"lumin%", "", "Luminaire", false},
		{"%a%b%", "", "xxaxxbxx", true},
		{"%a%b%", "", "xxbxxaxx", false},
		{"a%%b", "", "ab", true},
		{"x!!y", "!", "x!y", true},
		{"%aab", "", "aaab", true},
		{"", "", "", true},
		{"", "", "a", false},
	}
	for _, tc := range tests {
		l := &Like{Pattern: tc.pattern, Escape: tc.escape}
		if got := l.Match(tc.s); got != tc.want {
			t.Errorf("%q LIKE %q ESCAPE %q = %v, want %v", tc.s, tc.pattern, tc.escape, got, tc.want)
		}
	}
}

// Deep nesting and long inputs end in an error, quickly, without growing
// the stack.
func TestDeepAndLongInputs(t *testing.T) {
	deep := []struct {
		query string
		msg   string
	}{
		{`SELECT a FROM EntityGraph MATCH (a) WHERE ` + strings.Repeat("(", 100000) + "a.x", "the query is nested too deeply: the limit is 64 levels"},
		{`SELECT a FROM EntityGraph MATCH (a) WHERE ` + strings.Repeat("NOT ", 100000) + "a.x", "too many conditional expressions (AND, OR, NOT): the limit is 10"},
		{`SELECT ` + strings.Repeat("lower(", 100000) + "a", "the query is nested too deeply: the limit is 64 levels"},
		{`SELECT a FROM EntityGraph MATCH (a)` + strings.Repeat("-[]->(a)", 100000), "too many self joins (edge patterns and extra graph patterns): the limit is 20"},
		{`SELECT a FROM EntityGraph MATCH (a) WHERE a.x = 1` + strings.Repeat(" AND a.x = 1", 100000), "too many conditional expressions (AND, OR, NOT): the limit is 10"},
	}
	for _, tc := range deep {
		_, err := Parse(tc.query)
		var e *Error
		if !errors.As(err, &e) || e.Msg != tc.msg {
			t.Errorf("%.60s...: got %v, want %s", tc.query, err, tc.msg)
		}
	}
	// With the limits raised, a long chain parses and prints iteratively.
	big := Limits{MaxSelfJoins: 1 << 30, MaxConditions: 1 << 30}
	chain := `SELECT a FROM EntityGraph MATCH (a)` + strings.Repeat("-[]->(a)", 100000) + ` WHERE a.x = 1` + strings.Repeat(" AND a.x = 1", 10000)
	q, err := ParseWithLimits(chain, big)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseWithLimits(q.String(), big); err != nil {
		t.Fatal(err)
	}
}
