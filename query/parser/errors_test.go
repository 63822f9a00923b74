package parser

import (
	"errors"
	"strings"
	"testing"
)

// m is a valid query start for the error cases about WHERE and LIMIT.
const m = "SELECT e FROM EntityGraph MATCH (e) "

// errorCases are malformed queries with the position and message of the
// error each must give.
var errorCases = []struct {
	name      string
	query     string
	line, col int
	msg       string
}{
	{"missing FROM", `SELECT e MATCH (e)`,
		1, 10, "expected \",\" or FROM after a select item, found reserved word \"MATCH\""},
	{"empty query", ``,
		1, 1, "expected SELECT at the start of the query, found end of query"},
	{"no SELECT", `MATCH (e) RETURN e`,
		1, 1, "expected SELECT at the start of the query, found reserved word \"MATCH\""},
	{"unknown graph", `SELECT e FROM Graph MATCH (e)`,
		1, 15, "expected EntityGraph after FROM (the only graph there is), found \"Graph\""},
	{"FROM without MATCH", `SELECT e FROM EntityGraph WHERE e.x = 1`,
		1, 27, "expected MATCH after FROM EntityGraph, found reserved word \"WHERE\""},
	{"MATCH without pattern", `SELECT e FROM EntityGraph MATCH WHERE e.x = 1`,
		1, 33, "expected a graph pattern such as (e) after MATCH, found reserved word \"WHERE\""},
	{"MATCH at end", `SELECT e FROM EntityGraph MATCH`,
		1, 32, "expected a graph pattern such as (e) after MATCH, found end of query"},
	{"unclosed node", `SELECT e FROM EntityGraph MATCH (e`,
		1, 35, "expected \")\" after node pattern, found end of query"},
	{"unclosed paren in WHERE", m + `WHERE (e.x = 1`,
		1, 51, "expected \")\" to close the parenthesis opened at line 1, column 43, found end of query"},
	{"node not closed before edge", `SELECT e1 FROM EntityGraph MATCH (e1 -[r]->(e2)`,
		1, 38, "expected \")\" after node pattern, found \"-\""},
	{"quantifier bounds reversed", `SELECT a FROM EntityGraph MATCH (a)-[]->{3,1}(b)`,
		1, 41, "quantifier lower bound 3 is greater than its upper bound 1"},
	{"quantifier over hop limit", `SELECT a FROM EntityGraph MATCH (a)-[]->{0,11}(b)`,
		1, 44, "quantifier upper bound 11 exceeds the hop limit of 10"},
	{"exact hops over limit", `SELECT a FROM EntityGraph MATCH (a)-[:isChildOf]->{11}(b)`,
		1, 52, "quantifier upper bound 11 exceeds the hop limit of 10"},
	{"open quantifier over limit", `SELECT a FROM EntityGraph MATCH (a)-[]->{12,}(b)`,
		1, 42, "quantifier lower bound 12 exceeds the hop limit of 10"},
	{"huge quantifier", `SELECT a FROM EntityGraph MATCH (a)-[]->{1,99999999999999999999999999999}(b)`,
		1, 44, "quantifier upper bound 999999999999999999999999... exceeds the hop limit of 10"},
	{"empty quantifier", `SELECT a FROM EntityGraph MATCH (a)-[]->{}(b)`,
		1, 41, "empty quantifier: write {m,n}, {m,} or {n}"},
	{"fractional quantifier", `SELECT a FROM EntityGraph MATCH (a)-[]->{1.5}(b)`,
		1, 42, "quantifier bounds are whole numbers, found \"1.5\""},
	{"zero quantifier", `SELECT a FROM EntityGraph MATCH (a)-[]->{0}(b)`,
		1, 41, "quantifier upper bound must be at least 1"},
	{"unclosed quantifier", `SELECT a FROM EntityGraph MATCH (a)-[]->{1,3(b)`,
		1, 45, "expected \"}\" to close the quantifier, found \"(\""},
	{"LIMIT over 3000", m + `LIMIT 3001`,
		1, 43, "LIMIT 3001 exceeds the limit of 3000"},
	{"LIMIT plus OFFSET over 3000", m + `LIMIT 2000 OFFSET 1001`,
		1, 55, "LIMIT 2000 plus OFFSET 1001 is 3001: together they may be at most 3000"},
	{"OFFSET plus LIMIT over 3000", m + `OFFSET 2999 LIMIT 2`,
		1, 55, "LIMIT 2 plus OFFSET 2999 is 3001: together they may be at most 3000"},
	{"OFFSET over 3000", m + `OFFSET 3001`,
		1, 44, "OFFSET 3001 exceeds the limit of 3000"},
	{"negative LIMIT", m + `LIMIT -1`,
		1, 43, "expected a whole number from 0 to 3000 after LIMIT, found \"-\""},
	{"fractional LIMIT", m + `LIMIT 1.5`,
		1, 43, "expected a whole number from 0 to 3000 after LIMIT, found \"1.5\""},
	{"LIMIT twice", m + `LIMIT 1 LIMIT 2`,
		1, 45, "LIMIT is given twice"},
	{"too many IN items", m + `WHERE e.x IN (1,2,3,4,5,6,7,8,9,10,11)`,
		1, 72, "too many items in the IN list: the limit is 10"},
	{"empty IN list", m + `WHERE e.x IN ()`,
		1, 51, "empty IN list"},
	{"unclosed IN list", m + `WHERE e.x IN (1, 2`,
		1, 55, "expected \",\" or \")\" in the IN list, found end of query"},
	{"LIKE pattern too long", m + `WHERE e.entityName LIKE 'abcdefghijklmnopqrstu'`,
		1, 61, "the LIKE pattern is 21 characters long: the limit is 20"},
	{"LIKE without string", m + `WHERE e.entityName LIKE e.x`,
		1, 61, "expected a pattern in single quotes after LIKE, found \"e\""},
	{"ESCAPE of two characters", m + `WHERE e.entityName LIKE 'a%' ESCAPE '\\'`,
		1, 73, "ESCAPE takes exactly one character, not 2"},
	{"ESCAPE percent", m + `WHERE e.entityName LIKE 'a%' ESCAPE '%'`,
		1, 73, "the ESCAPE character cannot be % or _"},
	{"bad escape sequence", m + `WHERE e.entityName LIKE 'a\b' ESCAPE '\'`,
		1, 61, "in the LIKE pattern, the escape character '\\' must be followed by %, _ or itself"},
	{"pattern ends with escape", m + `WHERE e.entityName LIKE 'a\' ESCAPE '\'`,
		1, 61, "the LIKE pattern ends with the escape character '\\'"},
	{"COUNT DISTINCT", `SELECT COUNT(DISTINCT e.entityName) FROM EntityGraph MATCH (e)`,
		1, 14, "COUNT(DISTINCT ...) is not supported"},
	{"COUNT without argument", `SELECT COUNT() FROM EntityGraph MATCH (e)`,
		1, 14, "COUNT needs an argument: COUNT(x) or COUNT(*)"},
	{"COUNT of two", `SELECT COUNT(e, e) FROM EntityGraph MATCH (e)`,
		1, 15, "COUNT takes one argument"},
	{"unknown character", m + `WHERE e.x = #1`,
		1, 49, "unexpected character \"#\""},
	{"unterminated string", m + `WHERE e.entityName = 'room_0`,
		1, 58, "unterminated string literal (it starts here)"},
	{"unterminated quoted name", `SELECT "e FROM EntityGraph MATCH (e)`,
		1, 8, "unterminated quoted identifier (it starts here)"},
	{"empty quoted name", `SELECT "" FROM EntityGraph MATCH (e)`,
		1, 8, "empty quoted identifier"},
	{"unbound variable", m + `WHERE x.entityName = 'a'`,
		1, 43, "unbound variable \"x\": bind it in MATCH, e.g. (e) or -[r]->, or with an unnest such as e.components AS c"},
	{"unbound in SELECT", `SELECT e2 FROM EntityGraph MATCH (e)`,
		1, 8, "unbound variable \"e2\": bind it in MATCH, e.g. (e) or -[r]->, or with an unnest such as e.components AS c"},
	{"double-quoted string", m + `WHERE e.entityName = "room_0"`,
		1, 58, "unbound variable \"room_0\": double quotes make a name; write strings in single quotes, e.g. 'text'"},
	{"node and edge with one name", `SELECT a FROM EntityGraph MATCH (a)-[a]->(b)`,
		1, 38, "variable \"a\" is already bound as a node at line 1, column 34, so it cannot also be an edge"},
	{"edge bound twice", `SELECT r FROM EntityGraph MATCH (a)-[r]->(b)-[r]->(c)`,
		1, 47, "edge variable \"r\" is bound twice (first at line 1, column 38)"},
	{"path bound twice", `SELECT p FROM EntityGraph MATCH p = (a), p = (b)`,
		1, 42, "path variable \"p\" is bound twice (first at line 1, column 33)"},
	{"path and node", `SELECT p FROM EntityGraph MATCH p = (p)`,
		1, 38, "variable \"p\" is already bound as a path at line 1, column 33, so it cannot also be a node"},
	{"alias clashes with node", `SELECT e FROM EntityGraph MATCH (e), e.components AS e`,
		1, 54, "variable \"e\" is already bound as a node at line 1, column 34, so it cannot also be an unnest alias"},
	{"unnest before its source", `SELECT p FROM EntityGraph MATCH (e), c.properties AS p, e.components AS c`,
		1, 38, "unbound variable \"c\": bind it in MATCH, e.g. (e) or -[r]->, or with an unnest such as e.components AS c"},
	{"unnest without AS", `SELECT c FROM EntityGraph MATCH (e), e.components c`,
		1, 51, "expected AS and an alias after the unnested path, found \"c\""},
	{"unnest of a variable", `SELECT x FROM EntityGraph MATCH (e), e AS x`,
		1, 40, "expected \".\" and a field name (only lists such as e.components or c.properties can be unnested), found reserved word \"AS\""},
	{"chained comparison", m + `WHERE e.a = e.b = e.c`,
		1, 53, "comparisons cannot be chained: join them with AND or OR, or use parentheses"},
	{"IS after comparison", m + `WHERE e.a = 1 IS MISSING`,
		1, 51, "comparisons cannot be chained: join them with AND or OR, or use parentheses"},
	{"SELECT star", `SELECT * FROM EntityGraph MATCH (e)`,
		1, 8, "SELECT * is not supported: list the variables or fields to return"},
	{"too many select items", `SELECT e,e,e,e,e,e,e,e,e,e,e,e,e,e,e,e,e,e,e,e,e FROM EntityGraph MATCH (e)`,
		1, 48, "too many projected fields: the limit is 20"},
	{"too many conditions", m + `WHERE e.a=1 AND e.a=1 AND e.a=1 AND e.a=1 AND e.a=1 AND e.a=1 OR e.a=1 OR e.a=1 OR e.a=1 OR e.a=1 OR e.a=1 OR e.a=1`,
		1, 144, "too many conditional expressions (AND, OR, NOT): the limit is 10"},
	{"nesting too deep", m + `WHERE ` + strings.Repeat("(", 65) + "e.x" + strings.Repeat(")", 65),
		1, 107, "the query is nested too deeply: the limit is 64 levels"},
	{"aggregate in WHERE", m + `WHERE COUNT(e) > 1`,
		1, 43, "COUNT is not allowed in WHERE"},
	{"nested aggregate", `SELECT COUNT(COUNT(e)) FROM EntityGraph MATCH (e)`,
		1, 14, "aggregates cannot be nested"},
	{"aggregate beside a field", `SELECT e.entityName, COUNT(e) FROM EntityGraph MATCH (e)`,
		1, 8, "\"e\" is used outside an aggregate in a query with COUNT (GROUP BY is not supported)"},
	{"undirected tilde edge", `SELECT a FROM EntityGraph MATCH (a)~[r]~(b)`,
		1, 36, "undirected edges (~) are not supported: use -[...]- to match relationships in either direction"},
	{"node label", `SELECT a FROM EntityGraph MATCH (a:Room)`,
		1, 35, "node labels are not supported: every node is an entity; filter entities with WHERE"},
	{"pattern ends with edge", `SELECT a FROM EntityGraph MATCH (a)-[]->`,
		1, 41, "expected \"(\" after an edge pattern (a pattern alternates nodes and edges), found end of query"},
	{"edges without node between", `SELECT a FROM EntityGraph MATCH (a)-[]->-[]->(b)`,
		1, 41, "expected \"(\" after an edge pattern (a pattern alternates nodes and edges), found \"-\""},
	{"double equals", m + `WHERE e.x == 1`,
		1, 47, "\"==\" is not an operator: use \"=\" to compare"},
	{"ORDER BY", m + `WHERE e.x = 1 ORDER BY e.x`,
		1, 51, "ORDER BY is not supported"},
	{"text after semicolon", m + `; SELECT e`,
		1, 39, "expected end of query after \";\", found reserved word \"SELECT\""},
	{"typographic quotes", m + `WHERE e.entityName = ’room_0’`,
		1, 58, "unexpected typographic quote \"\\u2019\": use ' for strings and \" for names"},
	{"invalid UTF-8", m + "WHERE e.entityName = \xff",
		1, 58, "the query is not valid UTF-8"},
	{"malformed number", m + `WHERE e.x = 10abc`,
		1, 49, "malformed number \"10abc\""},
	{"integer out of range", m + `WHERE e.x = 9223372036854775808`,
		1, 49, "integer \"9223372036854775808\" is out of range"},
	{"float out of range", m + `WHERE e.x = 1e999`,
		1, 49, "number \"1e999\" is out of range"},
	{"edge not closed", `SELECT a FROM EntityGraph MATCH (a)-[r->(b)`,
		1, 39, "expected \":relationshipName\" or \"]\" in an edge pattern, found \"-\""},
	{"left arrow without dash", `SELECT a FROM EntityGraph MATCH (a)<[r]-(b)`,
		1, 37, "expected \"-\" after \"<\" in an edge pattern, found \"[\""},
	{"edge closed without dash", `SELECT a FROM EntityGraph MATCH (a)-[r]>(b)`,
		1, 40, "expected \"->\" or \"-\" after \"]\" in an edge pattern, found \">\""},
	{"comma after WHERE", m + `WHERE e.x = 1, e.y = 2`,
		1, 50, "unexpected \",\" after the WHERE condition: join conditions with AND or OR"},
	{"NOT without IN or LIKE", m + `WHERE e.x NOT = 1`,
		1, 51, "expected IN or LIKE after NOT, found \"=\""},
	{"IS TRUE", m + `WHERE e.x IS TRUE`,
		1, 50, "expected NULL, MISSING or NOT after IS, found reserved word \"TRUE\""},
	{"minus before a path", m + `WHERE e.x = -e.y`,
		1, 50, "expected a number after \"-\" (arithmetic is not supported), found \"e\""},
	{"field of a call", m + `WHERE lower(e).x = 1`,
		1, 51, "field access is only allowed on variables, e.g. e.entityName"},
	{"keyword as variable", `SELECT e FROM EntityGraph MATCH (match)`,
		1, 34, "\"match\" is a reserved word; to use it as a name, quote it: \"match\""},
	{"DISTINCT inside", `SELECT e FROM EntityGraph MATCH (e) WHERE DISTINCT e.x`,
		1, 43, "DISTINCT is only allowed right after SELECT"},
	{"trailing comma in SELECT", `SELECT e, FROM EntityGraph MATCH (e)`,
		1, 11, "expected an expression, found reserved word \"FROM\""},
	{"field name missing", m + `WHERE e. = 1`,
		1, 46, "expected a field name after \".\", found \"=\""},
	{"comments", m + `/* all */`,
		1, 37, "comments are not supported"},
	{"error on line 3", "SELECT e\nFROM EntityGraph\nMATCH (e)-[r]->(f) WHERE r.x IN 'a', 'b'",
		3, 33, "expected a list in parentheses, e.g. IN ('a', 'b'), or a list value such as p.propertyValue after IN, found string \"'a'\""},
	{"relationship name missing", `SELECT a FROM EntityGraph MATCH (a)-[:]->(b)`,
		1, 39, "expected a relationship name after \":\", found \"]\""},
	{"parenthesized path", `SELECT a FROM EntityGraph MATCH ((a)-[]->(b)){1,3}`,
		1, 34, "parenthesized path patterns are not supported: quantify a single edge instead, e.g. -[]->{1,3}"},
	{"path variable without pattern", `SELECT p FROM EntityGraph MATCH p = e`,
		1, 37, "expected \"(\" to start the pattern after \"p =\", found \"e\""},
	{"WHERE in node", `SELECT a FROM EntityGraph MATCH (a WHERE a.x = 1)`,
		1, 36, "WHERE inside a node pattern is not supported: put the condition in the query's WHERE clause"},
}

func TestErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.query)
			if err == nil {
				t.Fatalf("accepted: %s", q)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.Line != tc.line || e.Col != tc.col || e.Msg != tc.msg {
				t.Fatalf("got  %d:%d %s\nwant %d:%d %s", e.Line, e.Col, e.Msg, tc.line, tc.col, tc.msg)
			}
			checkErrorPosition(t, tc.query, e)
		})
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", `"abc"`},
		{strings.Repeat("a", 24), `"` + strings.Repeat("a", 24) + `"`},
		{strings.Repeat("a", 25), `"` + strings.Repeat("a", 24) + `"...`},
		{"é\x00", `"\u00e9\x00"`},
		// Escapes of four and ten bytes: as many whole ones as fit in 48.
		{strings.Repeat("\x03", 20), `"` + strings.Repeat(`\x03`, 12) + `"...`},
		{strings.Repeat("\U0001F600", 6), `"` + strings.Repeat(`\U0001f600`, 4) + `"...`},
		{string([]byte{0xff, 'a'}), `"\xffa"`},
	} {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// checkErrorPosition checks that Pos, Line and Col agree and that the
// message is short, printable ASCII.
func checkErrorPosition(t *testing.T, query string, e *Error) {
	t.Helper()
	if e.Pos < 0 || e.Pos > len(query) {
		t.Fatalf("Pos %d outside the query (%d bytes)", e.Pos, len(query))
	}
	before := query[:e.Pos]
	line := strings.Count(before, "\n") + 1
	col := len([]rune(before[strings.LastIndexByte(before, '\n')+1:])) + 1
	if e.Line != line || e.Col != col {
		t.Fatalf("Pos %d is line %d, column %d, but the error says %d:%d", e.Pos, line, col, e.Line, e.Col)
	}
	if len(e.Msg) > 200 {
		t.Fatalf("message is %d bytes long: %s", len(e.Msg), e.Msg)
	}
	for i := 0; i < len(e.Msg); i++ {
		if c := e.Msg[i]; c < 0x20 || c >= 0x7f {
			t.Fatalf("message %q holds byte %#x", e.Msg, c)
		}
	}
}
