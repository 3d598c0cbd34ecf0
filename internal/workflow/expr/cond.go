package expr

import (
	"regexp"
	"strconv"
	"strings"
)

// Operators of the condition language (FORMAT.md §5.2, Appendix D). The JSON
// codes of the date operators appear in no export; the codes accepted for
// them are guesses:
//
//	after               after            (>)
//	before              before           (<)
//	nelt, nlt           no later than    (<=)
//	nebt, neet, net     no earlier than  (>=)
//
// The date operators compare like gt/lt/lte/gte, which already compare two
// RFC 3339 strings as instants. Operator codes are matched exactly first
// and then case-insensitively.
var operators = map[string]opcode{
	"eq": opEq, "ne": opNe, "eqi": opEqi,
	"gt": opGt, "gte": opGte, "lt": opLt, "lte": opLte,
	"mw": opMw, "nmw": opNmw, "mregex": opMregex,
	"and": opAnd, "or": opOr,
	"after": opGt, "before": opLt,
	"nelt": opLte, "nlt": opLte,
	"nebt": opGte, "neet": opGte, "net": opGte,
}

type opcode int

const (
	opEq opcode = iota
	opNe
	opEqi
	opGt
	opGte
	opLt
	opLte
	opMw
	opNmw
	opMregex
	opAnd
	opOr
)

// maxConditionDepth bounds nesting; real trees are at most 5 deep.
const maxConditionDepth = 100

// Condition is a compiled condition tree: the operand templates are parsed
// and literal regular expressions compiled once. It is immutable and safe
// for concurrent use.
type Condition struct {
	op          opcode
	path        string     // where this node is inside the condition, for errors
	left, right *Condition // and, or
	lhs, rhs    operand    // leaves
	re          *regexp.Regexp
}

// operand is a literal value or a template with references.
type operand struct {
	lit    any
	tmpl   Template
	has    bool // tmpl is used
	single *Ref // tmpl is exactly this reference
}

func (o *operand) value(res Resolver) any {
	if o.single != nil && res != nil {
		v, ok := res.Resolve(*o.single)
		if !ok {
			return o.single.Raw
		}
		return v
	}
	if o.has {
		return o.tmpl.Render(res)
	}
	return o.lit
}

// Problem is something wrong with a condition found before running it.
// Path is the JSON path inside the condition, such as
// "left_operand.right_operand", or "" for the root node.
type Problem struct {
	Path    string
	Message string
}

// ConditionError is a condition that cannot be evaluated.
type ConditionError struct {
	Path string // as in [Problem]
	Msg  string
}

func (e *ConditionError) Error() string {
	if e.Path == "" {
		return "condition: " + e.Msg
	}
	return "condition at " + e.Path + ": " + e.Msg
}

// Eval evaluates a condition node, decoded JSON of the shape of FORMAT.md
// §5.1: a leaf {left_operand, operator, right_operand} or a combinator
// {left_operand: node, operator: "and"|"or", right_operand: node}. A string
// operand is a template whose [Template.Value] is compared (usually a single
// reference; the right operand may mix text and references, as in
// "*$…label$*"); other operands are JSON literals. The operators are listed
// at [CompileCondition]. An unknown operator or a malformed node is a
// *[ConditionError] whose Path says where.
//
// Comparison (FORMAT.md §5.3) coerces the right value to the left value's
// runtime type, because the same output is compared with 200 and with
// "200", and with false and with "false":
//
//   - a number on the left: a string on the right is parsed as a number;
//     int64 and float64 compare numerically;
//   - a bool on the left: "true"/"false" (any case) on the right are bools;
//   - a string on the left and a number or bool on the right: the string is
//     parsed as one, so "10" gt 9 holds;
//   - nil on the left (no value yet, an activity that did not run) is the
//     zero value of the right's type: "", 0 or false; so ne "" means "not
//     empty" and a missing endTime is lte 0;
//   - arrays and objects compare as their [Text], so an empty tags array
//     eq "[]";
//   - two strings compare as strings, except that two RFC 3339 dates compare
//     as instants, and the ordering operators compare two decimal numbers
//     as numbers;
//   - whatever cannot be coerced compares as text.
//
// eqi compares the texts case-insensitively, mw/nmw match the left text
// against the right as a whole-string wildcard pattern (* any run, ? one
// character, case-sensitive), and mregex searches the left text with the
// right as an unanchored Go regular expression.
//
// Eval compiles the condition on every call; an engine that evaluates the
// same condition often (a while loop) should keep a [CompileCondition].
func Eval(cond any, res Resolver) (bool, error) {
	c, err := CompileCondition(cond, Options{})
	if err != nil {
		return false, err
	}
	return c.Eval(res)
}

// CompileCondition checks and compiles a condition node for [Condition.Eval].
// o is used to parse the operands (EventOutput for event definitions). The
// error is the first problem [CheckCondition] would report, apart from
// malformed references, which stay as text at run time.
//
// Operators: eq, ne (equal after coercion), eqi (case-insensitive text),
// gt, gte, lt, lte (ordering after coercion), mw, nmw (whole-string
// wildcard match, * and ?), mregex (unanchored Go regexp search), and, or,
// and the guessed date operators listed at the operators table.
func CompileCondition(cond any, o Options) (*Condition, error) {
	c := compiler{opts: o}
	n := c.node(cond, "", 0)
	if len(c.problems) > 0 {
		p := c.problems[0]
		return nil, &ConditionError{Path: p.Path, Msg: p.Message}
	}
	return n, nil
}

// CheckCondition reports every problem of a condition node without running
// it: wrong shapes, unknown operators and invalid literal regular
// expressions. It does not judge the references inside the operands; they
// are checked like those of any other string (see [Ref.WellFormed]), and a
// malformed one stays text at run time.
func CheckCondition(cond any) []Problem {
	c := compiler{opts: Options{EventOutput: true}}
	c.node(cond, "", 0)
	return c.problems
}

type compiler struct {
	opts     Options
	problems []Problem
}

func (c *compiler) problem(path, msg string) {
	c.problems = append(c.problems, Problem{Path: path, Message: msg})
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func (c *compiler) node(v any, path string, depth int) *Condition {
	if depth > maxConditionDepth {
		c.problem(path, "condition nested too deeply")
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.problem(path, "want an object with left_operand, operator and right_operand, got "+jsonType(v))
		return nil
	}
	rawOp, ok := m["operator"]
	if !ok {
		c.problem(path, "missing operator")
		return nil
	}
	name, ok := rawOp.(string)
	if !ok {
		c.problem(joinPath(path, "operator"), "operator is "+jsonType(rawOp)+", want a string")
		return nil
	}
	op, ok := operators[name]
	if !ok {
		op, ok = operators[strings.ToLower(name)]
	}
	if !ok {
		c.problem(path, "unknown operator "+strconv.Quote(name))
		return nil
	}
	n := &Condition{op: op, path: path}
	lv, lok := m["left_operand"]
	rv, rok := m["right_operand"]
	if !lok {
		c.problem(path, "missing left_operand")
	}
	if !rok {
		c.problem(path, "missing right_operand")
	}
	if op == opAnd || op == opOr {
		if lok {
			n.left = c.node(lv, joinPath(path, "left_operand"), depth+1)
		}
		if rok {
			n.right = c.node(rv, joinPath(path, "right_operand"), depth+1)
		}
		return n
	}
	if lok {
		n.lhs = c.operand(lv, joinPath(path, "left_operand"))
	}
	if rok {
		n.rhs = c.operand(rv, joinPath(path, "right_operand"))
		if op == opMregex && !n.rhs.has {
			if s, ok := n.rhs.lit.(string); ok {
				re, err := compileRegexp(s)
				if err != nil {
					c.problem(joinPath(path, "right_operand"), "invalid regular expression: "+err.Error())
				}
				n.re = re
			}
		}
	}
	return n
}

func (c *compiler) operand(v any, path string) operand {
	switch x := v.(type) {
	case string:
		t := ParseWith(x, c.opts)
		if t.Literal() {
			return operand{lit: x}
		}
		o := operand{tmpl: t, has: true}
		if r, ok := t.Single(); ok {
			o.single = &r
		}
		return o
	case map[string]any:
		c.problem(path, "operand is a condition; only and/or take conditions")
	case []any:
		return operand{lit: x}
	default:
		return operand{lit: normalize(v)}
	}
	return operand{}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a number"
}

// Eval evaluates the condition. and/or stop at the first operand that
// decides the result. The only run-time error is an mregex pattern, built
// from references, that does not compile.
func (c *Condition) Eval(res Resolver) (bool, error) {
	switch c.op {
	case opAnd:
		ok, err := c.left.Eval(res)
		if err != nil || !ok {
			return false, err
		}
		return c.right.Eval(res)
	case opOr:
		ok, err := c.left.Eval(res)
		if err != nil || ok {
			return ok, err
		}
		return c.right.Eval(res)
	}
	l, r := c.lhs.value(res), c.rhs.value(res)
	switch c.op {
	case opEq:
		return equal(l, r), nil
	case opNe:
		return !equal(l, r), nil
	case opEqi:
		return strings.EqualFold(Text(l), Text(r)), nil
	case opGt:
		return order(l, r) > 0, nil
	case opGte:
		return order(l, r) >= 0, nil
	case opLt:
		return order(l, r) < 0, nil
	case opLte:
		return order(l, r) <= 0, nil
	case opMw:
		return globMatch(Text(r), Text(l)), nil
	case opNmw:
		return !globMatch(Text(r), Text(l)), nil
	case opMregex:
		re := c.re
		if re == nil {
			var err error
			if re, err = compileRegexp(Text(r)); err != nil {
				return false, &ConditionError{Path: joinPath(c.path, "right_operand"), Msg: "invalid regular expression: " + err.Error()}
			}
		}
		return re.MatchString(Text(l)), nil
	}
	return false, &ConditionError{Path: c.path, Msg: "unknown operator"}
}
