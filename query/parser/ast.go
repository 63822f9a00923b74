package parser

import "strconv"

// Pos is a place in the query text: Offset is a byte offset from 0, Line and
// Col count from 1 (Col in characters, not bytes). Every AST node carries the
// Pos of its first token (for operators: of the operator), so later stages can
// report errors where the user wrote the construct, with Errorf.
type Pos struct {
	Offset, Line, Col int
}

// String gives "line L, column C".
func (p Pos) String() string {
	return "line " + strconv.Itoa(p.Line) + ", column " + strconv.Itoa(p.Col)
}

// Query is one parsed ExecuteQuery statement:
//
//	SELECT [DISTINCT] items FROM EntityGraph MATCH patterns, unnests [WHERE cond] [LIMIT n] [OFFSET n]
//
// Match holds the graph patterns and Unnest the "path AS alias" items, each
// in the order written; patterns are matched first, then the unnests are
// applied left to right (an unnest may use any pattern variable and the
// aliases of earlier unnests).
type Query struct {
	Pos      Pos // of SELECT
	Distinct bool
	Select   []SelectItem
	Match    []Pattern
	Unnest   []Unnest
	Where    Expr // nil when there is no WHERE clause

	// Limit and Offset are nil when the clause is absent.
	Limit     *int
	LimitPos  Pos // of the LIMIT keyword
	Offset    *int
	OffsetPos Pos // of the OFFSET keyword
}

// SelectItem is one projected expression. Alias is "" when there is no AS.
type SelectItem struct {
	Expr     Expr
	Alias    string
	AliasPos Pos
	Pos      Pos // of the expression
}

// ColumnName is the name of the result column for the item at index i of the
// select list: the alias, else the last field of a path (e.entityName gives
// "entityName"), else the variable's name, else "_<i+1>" (PartiQL's name for
// an unnamed column, e.g. for COUNT(e) or lower(x)).
func (s SelectItem) ColumnName(i int) string {
	if s.Alias != "" {
		return s.Alias
	}
	switch e := s.Expr.(type) {
	case *Ident:
		return e.Name
	case *Path:
		return e.Fields[len(e.Fields)-1].Name
	}
	return "_" + strconv.Itoa(i+1)
}

// Pattern is one comma-separated graph pattern of MATCH: a chain of node
// patterns joined by edge patterns. len(Nodes) == len(Edges)+1 and Edges[i]
// connects Nodes[i] (on its left in the text) with Nodes[i+1].
type Pattern struct {
	Var    string // path variable of "p = (a)-[]->(b)"; "" when unbound
	VarPos Pos
	Nodes  []NodePattern
	Edges  []EdgePattern
	Pos    Pos // of the path variable if any, else of the first node
}

// NodePattern is "(var)" or "()". Every node of EntityGraph is an entity.
type NodePattern struct {
	Var    string // "" for an anonymous node
	VarPos Pos
	Pos    Pos // of "("
}

// Direction of an edge pattern relative to the text: DirOut is left to right.
type Direction uint8

const (
	// DirOut is "-[...]->" or "->": from the left node to the right node.
	DirOut Direction = iota + 1
	// DirIn is "<-[...]-" or "<-": from the right node to the left node.
	DirIn
	// DirBoth is "-[...]-", "-", "<-[...]->" or "<->": either direction, so a
	// pair of entities linked by one relationship matches twice.
	DirBoth
)

func (d Direction) String() string {
	switch d {
	case DirOut:
		return "Out"
	case DirIn:
		return "In"
	case DirBoth:
		return "Both"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// EdgePattern is one edge of a pattern. Label is the relationship name to
// match ("" matches any). Without a quantifier Min == Max == 1 and
// Quantified is false. With one ({m,n}, {m,}, {n}, {,n}, + or *) the edge
// matches a walk of Min..Max relationships (each in Direction), and Var, if
// set, is bound to the list of relationships walked.
type EdgePattern struct {
	Var        string
	VarPos     Pos
	Label      string
	LabelPos   Pos
	Direction  Direction
	Quantified bool
	Min, Max   int
	Pos        Pos // of the first character of the edge ("-" or "<")
}

// Unnest is "source AS alias" after the patterns, e.g. e.components AS c:
// one row for each element of the list at Source, bound to Alias.
type Unnest struct {
	Source   *Path
	Alias    string
	AliasPos Pos
	Pos      Pos // of Source
}

// Expr is an expression node: *Ident, *Path, *Literal, *Call, *Aggregate,
// *Binary, *Not, *In, *Like, *IsNull or *IsMissing.
type Expr interface {
	// Position is where the expression is in the text (see each type).
	Position() Pos
	exprNode()
}

// Ident is a variable reference, e.g. e.
type Ident struct {
	Name string
	Pos  Pos
}

// Path is a variable followed by one or more field names, e.g.
// p.definition.configuration.unit.
type Path struct {
	Var    Ident
	Fields []Field // at least one
}

// Field is one ".name" step of a Path.
type Field struct {
	Name string
	Pos  Pos // of the name
}

// LiteralKind says which value a Literal holds.
type LiteralKind uint8

const (
	LitNull LiteralKind = iota + 1
	LitMissing
	LitBool   // Bool
	LitInt    // Int: an integer literal without "." or exponent, e.g. 20 or -3
	LitFloat  // Float: a literal with "." or an exponent, e.g. 20.0 or 1e3
	LitString // Str, with '' already turned into '
)

func (k LiteralKind) String() string {
	switch k {
	case LitNull:
		return "NULL"
	case LitMissing:
		return "MISSING"
	case LitBool:
		return "Bool"
	case LitInt:
		return "Int"
	case LitFloat:
		return "Float"
	case LitString:
		return "String"
	}
	return "LiteralKind(" + strconv.Itoa(int(k)) + ")"
}

// Literal is a constant. Only the field named by Kind is meaningful.
type Literal struct {
	Kind  LiteralKind
	Bool  bool
	Int   int64
	Float float64
	Str   string
	Pos   Pos // of the literal, or of the "-" of a negative number
}

// Call is a function call such as lower(x). Name is lower-cased (function
// names are case-insensitive); which functions exist is for the executor.
type Call struct {
	Name string
	Args []Expr
	Pos  Pos // of the name
}

// Aggregate is an aggregate function; today only COUNT. Star is COUNT(*),
// which has no Arg.
type Aggregate struct {
	Func string // "COUNT"
	Star bool
	Arg  Expr
	Pos  Pos // of the function name
}

// BinaryOp is the operator of a Binary expression.
type BinaryOp uint8

const (
	OpEq BinaryOp = iota + 1 // =
	OpNe                     // != or <>
	OpLt                     // <
	OpLe                     // <=
	OpGt                     // >
	OpGe                     // >= (also written "=>", a typo in the TwinMaker docs)
	OpAnd
	OpOr
)

func (op BinaryOp) String() string {
	switch op {
	case OpEq:
		return "="
	case OpNe:
		return "!="
	case OpLt:
		return "<"
	case OpLe:
		return "<="
	case OpGt:
		return ">"
	case OpGe:
		return ">="
	case OpAnd:
		return "AND"
	case OpOr:
		return "OR"
	}
	return "BinaryOp(" + strconv.Itoa(int(op)) + ")"
}

// IsComparison reports whether op is one of = != < <= > >=.
func (op BinaryOp) IsComparison() bool { return op >= OpEq && op <= OpGe }

// Binary is a comparison or AND/OR.
type Binary struct {
	Op   BinaryOp
	L, R Expr
	Pos  Pos // of the operator
}

// Not is NOT X.
type Not struct {
	X   Expr
	Pos Pos // of NOT
}

// In is "X [NOT] IN (v1, v2, ...)" (List set, Right nil) or "X [NOT] IN Right"
// (membership in a list value such as p.propertyValue; List nil). A
// parenthesised right-hand side is always a list, as in SQL.
type In struct {
	X     Expr
	Not   bool
	List  []Expr
	Right Expr
	Pos   Pos // of IN
}

// Like is "X [NOT] LIKE 'pattern' [ESCAPE 'c']". The pattern has been checked:
// Escape ("" when absent) is one character and, inside Pattern, is followed
// only by %, _ or itself. Use Match to apply it.
type Like struct {
	X          Expr
	Not        bool
	Pattern    string
	PatternPos Pos
	Escape     string
	Pos        Pos // of LIKE
}

// IsNull is "X IS [NOT] NULL".
type IsNull struct {
	X   Expr
	Not bool
	Pos Pos // of IS
}

// IsMissing is "X IS [NOT] MISSING": whether a field is absent.
type IsMissing struct {
	X   Expr
	Not bool
	Pos Pos // of IS
}

func (e *Ident) Position() Pos     { return e.Pos }
func (e *Path) Position() Pos      { return e.Var.Pos }
func (e *Literal) Position() Pos   { return e.Pos }
func (e *Call) Position() Pos      { return e.Pos }
func (e *Aggregate) Position() Pos { return e.Pos }
func (e *Binary) Position() Pos    { return e.Pos }
func (e *Not) Position() Pos       { return e.Pos }
func (e *In) Position() Pos        { return e.Pos }
func (e *Like) Position() Pos      { return e.Pos }
func (e *IsNull) Position() Pos    { return e.Pos }
func (e *IsMissing) Position() Pos { return e.Pos }

func (*Ident) exprNode()     {}
func (*Path) exprNode()      {}
func (*Literal) exprNode()   {}
func (*Call) exprNode()      {}
func (*Aggregate) exprNode() {}
func (*Binary) exprNode()    {}
func (*Not) exprNode()       {}
func (*In) exprNode()        {}
func (*Like) exprNode()      {}
func (*IsNull) exprNode()    {}
func (*IsMissing) exprNode() {}

// Walk calls fn for e and, depth first, for every expression inside it. If fn
// returns false, Walk does not descend into that expression's children.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch e := e.(type) {
	case *Call:
		for _, a := range e.Args {
			Walk(a, fn)
		}
	case *Aggregate:
		Walk(e.Arg, fn)
	case *Binary:
		Walk(e.L, fn)
		Walk(e.R, fn)
	case *Not:
		Walk(e.X, fn)
	case *In:
		Walk(e.X, fn)
		for _, v := range e.List {
			Walk(v, fn)
		}
		Walk(e.Right, fn)
	case *Like:
		Walk(e.X, fn)
	case *IsNull:
		Walk(e.X, fn)
	case *IsMissing:
		Walk(e.X, fn)
	}
}
