package expr

import (
	"strconv"
	"strings"
)

// Where is a parsed where clause of core.selectfromtable,
// core.updaterowintable and core.deleterowfromtable (FORMAT.md §6.4). The
// zero Where matches every row.
//
// The dialect, from the exports and the SXO docs: comparisons
// column op value, op one of == = != <> < <= > >=, joined with AND and OR
// (any case, also && and ||; AND binds tighter) and grouped with
// parentheses. A value is 'single' or "double" quoted text (no escapes:
// values are spliced in textually, so quoting is the author's job), a
// number, true/false, null/None, a bare word (an unquoted RFC 3339 date, as
// in timestamp > $ref$), or any of these inside [ ], the docs' placeholder
// convention id == [$variable$]. Values compare with the column's value by
// the same coercion as conditions (see [Eval]), so id == '3' matches the
// integer 3 and two RFC 3339 dates compare as instants.
type Where struct {
	root *wnode
	src  string
}

type wnode struct {
	and, or     bool // combinators
	left, right *wnode
	col         string
	op          opcode // opEq, opNe, opLt, opLte, opGt, opGte
	val         any
}

// ParseWhere parses a where clause after substitution. An empty clause
// (only spaces) matches every row. The error is a *[SyntaxError].
func ParseWhere(s string) (Where, error) {
	p := whereParser{s: s}
	p.skip()
	if p.i == len(s) {
		return Where{src: s}, nil
	}
	n, err := p.or()
	if err != nil {
		return Where{}, err
	}
	if p.i < len(s) {
		return Where{}, p.fail("unexpected " + strconv.Quote(s[p.i:]))
	}
	return Where{root: n, src: s}, nil
}

// String returns the clause as given to [ParseWhere].
func (w Where) String() string { return w.src }

// Match reports whether row satisfies the clause. A column the row does not
// have is nil, which compares like "" or 0; column names are matched
// exactly first and then case-insensitively.
func (w Where) Match(row map[string]any) bool {
	if w.root == nil {
		return true
	}
	return w.root.match(row)
}

func (n *wnode) match(row map[string]any) bool {
	switch {
	case n.and:
		return n.left.match(row) && n.right.match(row)
	case n.or:
		return n.left.match(row) || n.right.match(row)
	}
	v, ok := row[n.col]
	if !ok {
		for k, x := range row {
			if strings.EqualFold(k, n.col) {
				v = x
				break
			}
		}
	}
	switch n.op {
	case opEq:
		return equal(v, n.val)
	case opNe:
		return !equal(v, n.val)
	case opLt:
		return order(v, n.val) < 0
	case opLte:
		return order(v, n.val) <= 0
	case opGt:
		return order(v, n.val) > 0
	case opGte:
		return order(v, n.val) >= 0
	}
	return false
}

type whereParser struct {
	s     string
	i     int
	depth int
}

func (p *whereParser) fail(msg string) error {
	return &SyntaxError{What: "where clause", Input: p.s, Offset: p.i, Msg: msg}
}

func (p *whereParser) skip() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// keyword reports whether AND or OR (or && / ||) starts at i, as a word.
func (p *whereParser) keyword(i int, word, sym string) bool {
	s := p.s[i:]
	if strings.HasPrefix(s, sym) {
		return true
	}
	if len(s) < len(word) || !strings.EqualFold(s[:len(word)], word) {
		return false
	}
	if len(s) == len(word) {
		return true
	}
	c := s[len(word)]
	return isSpace(c) || c == '('
}

func (p *whereParser) or() (*wnode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.i < len(p.s) && p.keyword(p.i, "or", "||") {
		p.i += 2
		p.skip()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &wnode{or: true, left: l, right: r}
	}
	return l, nil
}

func (p *whereParser) and() (*wnode, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.i < len(p.s) && p.keyword(p.i, "and", "&&") {
		if strings.HasPrefix(p.s[p.i:], "&&") {
			p.i += 2
		} else {
			p.i += 3
		}
		p.skip()
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		l = &wnode{and: true, left: l, right: r}
	}
	return l, nil
}

func (p *whereParser) primary() (*wnode, error) {
	if p.i == len(p.s) {
		return nil, p.fail("expected a comparison")
	}
	if p.s[p.i] == '(' {
		if p.depth >= maxConditionDepth {
			return nil, p.fail("nested too deeply")
		}
		p.i++
		p.depth++
		p.skip()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.i == len(p.s) || p.s[p.i] != ')' {
			return nil, p.fail("missing )")
		}
		p.i++
		p.depth--
		p.skip()
		return n, nil
	}
	start := p.i
	for p.i < len(p.s) && !isSpace(p.s[p.i]) && !strings.ContainsRune("=!<>()'\"", rune(p.s[p.i])) {
		p.i++
	}
	col := p.s[start:p.i]
	if col == "" {
		return nil, p.fail("expected a column name")
	}
	p.skip()
	op, err := p.operator()
	if err != nil {
		return nil, err
	}
	p.skip()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skip()
	return &wnode{col: col, op: op, val: v}, nil
}

func (p *whereParser) operator() (opcode, error) {
	s := p.s[p.i:]
	for _, o := range [...]struct {
		sym string
		op  opcode
	}{{"==", opEq}, {"!=", opNe}, {"<>", opNe}, {"<=", opLte}, {">=", opGte}, {"=", opEq}, {"<", opLt}, {">", opGt}} {
		if strings.HasPrefix(s, o.sym) {
			p.i += len(o.sym)
			return o.op, nil
		}
	}
	return 0, p.fail("expected a comparison operator (== = != <> < <= > >=)")
}

func (p *whereParser) value() (any, error) {
	if p.i == len(p.s) {
		return nil, p.fail("expected a value")
	}
	switch q := p.s[p.i]; q {
	case '\'', '"':
		end := strings.IndexByte(p.s[p.i+1:], q)
		if end < 0 {
			return nil, p.fail("unterminated string")
		}
		v := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return v, nil
	case '[':
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return nil, p.fail("missing ]")
		}
		inner := strings.TrimSpace(p.s[p.i+1 : p.i+end])
		p.i += end + 1
		if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
			return inner[1 : len(inner)-1], nil
		}
		return bareValue(inner), nil
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ')' && p.depth > 0 {
			break
		}
		if isSpace(c) {
			j := p.i
			for j < len(p.s) && isSpace(p.s[j]) {
				j++
			}
			if j == len(p.s) || p.keyword(j, "and", "&&") || p.keyword(j, "or", "||") || (p.s[j] == ')' && p.depth > 0) {
				break
			}
		}
		p.i++
	}
	if p.i == start {
		return nil, p.fail("expected a value")
	}
	return bareValue(p.s[start:p.i]), nil
}

// bareValue types an unquoted value: number, bool, null or text.
func bareValue(s string) any {
	if n, ok := parseNumber(s); ok {
		return n
	}
	if b, ok := parseBool(s); ok {
		return b
	}
	if strings.EqualFold(s, "null") || s == "None" {
		return nil
	}
	return s
}
