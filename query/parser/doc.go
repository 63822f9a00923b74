// Package parser reads the query language of ExecuteQuery, AWS IoT
// TwinMaker's knowledge-graph queries: a PartiQL SELECT over the graph
// EntityGraph, with GPML-style MATCH patterns. It has a lexer, a
// recursive-descent parser that builds a typed AST (every node carries its
// position), a canonical printer (Query.String) and the checks that need the
// whole query (unbound and conflicting variables, misplaced aggregates). The
// planner and executor work on the AST; nothing in it needs re-parsing.
//
// # Grammar
//
// Keywords are case-insensitive; names are case-sensitive. Tokens may be
// separated by any white space (Unicode spaces included), also inside arrows:
// "- >" is "->".
//
//	query       = "SELECT" ["DISTINCT"] item {"," item}
//	              "FROM" "EntityGraph" "MATCH" pattern {"," (pattern | unnest)}
//	              ["WHERE" expr] [limits] [";"] .
//	item        = expr ["AS" name] .
//	limits      = "LIMIT" int ["OFFSET" int] | "OFFSET" int ["LIMIT" int] .
//
//	pattern     = [name "="] node {edge node} .
//	node        = "(" [name] ")" .
//	edge        = ( "-" "[" filler "]" ("->" | "-")
//	              | "<-" "[" filler "]" ("-" | "->")
//	              | "->" | "<-" | "-" | "<->" ) [quantifier] .
//	filler      = [name] [":" label] .
//	quantifier  = "{" int "}" | "{" [int] "," [int] "}" | "*" | "+" .
//	unnest      = name "." label {"." label} "AS" name .
//
//	expr        = conj {"OR" conj} .
//	conj        = negation {"AND" negation} .
//	negation    = "NOT" negation | predicate .
//	predicate   = primary [ compare primary
//	                      | ["NOT"] "IN" ("(" primary {"," primary} ")" | primary)
//	                      | ["NOT"] "LIKE" string ["ESCAPE" string]
//	                      | "IS" ["NOT"] ("NULL" | "MISSING") ] .
//	compare     = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "=>" .
//	primary     = string | ["-"] number | "TRUE" | "FALSE" | "NULL" | "MISSING"
//	            | name {"." label} | "COUNT" "(" ("*" | expr) ")"
//	            | ident "(" [expr {"," expr}] ")" | "(" expr ")" .
//
//	name        = ident | quoted .          (an ident that is not a keyword)
//	label       = ident | keyword | quoted .
//	ident       = (letter | "_") {letter | digit | "_"} .   (ASCII)
//	quoted      = `"` {char | `""`} `"` .   (a name; "" is one ")
//	string      = "'" {char | "''"} "'" .   (backslash is an ordinary character)
//	number      = digit {digit} ["." digit {digit}] [("e" | "E") ["+" | "-"] digit {digit}] .
//	keyword     = SELECT DISTINCT AS FROM MATCH WHERE LIMIT OFFSET AND OR NOT IN LIKE
//	              ESCAPE IS NULL MISSING TRUE FALSE .
//
// # Decisions
//
// Where the TwinMaker documentation is loose the parser is generous; where a
// reading could hide a mistake it is strict and says what to write instead.
//
//   - Edges: the GPML abbreviations ->, <-, - (either direction) and <-> are
//     accepted, as is <-[...]-> (either direction, like -[...]-). The printer
//     always writes the full form, -[]->. Undirected edges (~) do not exist in
//     EntityGraph and are refused, as are node labels (a:T), label expressions,
//     WHERE inside a pattern, parenthesized sub-paths and path-search prefixes.
//     A pattern must begin and end with a node.
//   - Quantifiers: {m,n}, {n}, {m,} (= {m,MaxHops}), {,n} (= {0,n}), * (=
//     {0,MaxHops}) and + (= {1,MaxHops}). The upper bound may not exceed
//     MaxHops, the lower not exceed the upper, and the upper must be at least
//     1; {0,n} is allowed (zero hops match the node itself). The hop limit
//     applies to each quantifier, not to the sum over a chain.
//   - A variable on a quantified edge is bound to the list of relationships
//     walked (VarEdgeList). A node variable may appear several times (a join);
//     an edge, path or unnest variable is bound once, and no name has two
//     kinds.
//   - MATCH: the first item must be a graph pattern; patterns and unnests may
//     then come in any order. Every unnest may use every pattern variable and
//     the aliases of earlier unnests. AS is required for unnests and aliases
//     (a missing comma would otherwise become an alias).
//   - "=>" is accepted as ">=" (a typo in the TwinMaker docs); "<>" and "!="
//     are the same. The docs' stray comma before AND is refused with a message
//     that says to remove it: commas never join conditions in PartiQL.
//   - Comparisons and other predicates do not chain: "a = b = c" and
//     "x IS MISSING = TRUE" are errors (use parentheses).
//   - IN: "x IN (v, ...)" is a list (a parenthesized right-hand side is
//     always a list, as in SQL); "v IN x" without parentheses tests
//     membership in a list value. NOT IN and NOT LIKE are accepted.
//   - LIKE takes a string literal, so its length limit can be checked here.
//     ESCAPE takes one character other than % and _, and inside the pattern
//     the escape character must precede %, _ or itself.
//   - Numbers without "." or exponent are integers (LitInt, int64), others
//     floats (LitFloat); 20 and 20.0 stay distinct in the AST. A "-" is
//     allowed only right before a number: there is no arithmetic.
//   - Function names are case-insensitive and stored in lower case; any name
//     is accepted and the executor decides. COUNT(x) and COUNT(*) are
//     aggregates; COUNT(DISTINCT x) is refused (TwinMaker does not support
//     it). Aggregates may not appear in WHERE, be nested, or stand beside
//     plain fields in SELECT (there is no GROUP BY). SELECT * is refused.
//   - Conditional expressions: each AND, OR and NOT counts once toward
//     MaxConditions (NOT IN, NOT LIKE and IS NOT are parts of predicates and
//     do not count).
//   - Self joins: each edge pattern, and each graph pattern after the first,
//     counts once toward MaxSelfJoins.
//   - LIMIT 0 and OFFSET 0 are allowed; LIMIT or OFFSET given twice is an
//     error. The query length limit (1000 characters) is the API model's and
//     is checked before parsing; parsing itself is linear in the input, and
//     MaxDepth bounds the nesting of parentheses, NOT and calls.
//   - FROM takes EntityGraph in any case. Comments are not supported.
//   - Errors are *Error values with a byte offset, line and column, and a
//     message that quotes at most a short, escaped snippet of the input.
package parser
