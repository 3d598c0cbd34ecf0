package expr

import (
	"math"
	"strconv"
)

// SyntaxError is an arithmetic expression or where clause that does not
// parse or cannot be evaluated. Offset is the byte offset in Input.
type SyntaxError struct {
	What   string // "arithmetic" or "where clause"
	Input  string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return e.What + " " + strconv.Quote(e.Input) + ": at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Arith evaluates integer arithmetic, after substitution, as Set Variables
// does for integer targets and calculate_date for its adjustment
// (FORMAT.md §3.1, §3.19): + - * / % with the usual precedence, parentheses,
// unary minus and plus, and whitespace anywhere between tokens. Numbers are
// decimal int64. Division truncates toward zero. Division by zero,
// overflow, a decimal point or any other text is an error; the caller
// decides what to do with, say, "6.5".
func Arith(s string) (int64, error) {
	p := arithParser{s: s}
	p.skip()
	if p.i == len(s) {
		return 0, p.fail("empty expression")
	}
	v, err := p.expr(0)
	if err != nil {
		return 0, err
	}
	if p.i < len(s) {
		return 0, p.fail("unexpected " + strconv.QuoteRune(rune(s[p.i])))
	}
	return v, nil
}

type arithParser struct {
	s string
	i int
}

// maxArithDepth bounds nesting so that hostile input cannot exhaust the
// stack.
const maxArithDepth = 200

func (p *arithParser) fail(msg string) error {
	return &SyntaxError{What: "arithmetic", Input: p.s, Offset: p.i, Msg: msg}
}

func (p *arithParser) skip() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// expr = term { (+|-) term }
func (p *arithParser) expr(depth int) (int64, error) {
	v, err := p.term(depth)
	if err != nil {
		return 0, err
	}
	for p.i < len(p.s) {
		op := p.s[p.i]
		if op != '+' && op != '-' {
			break
		}
		at := p.i
		p.i++
		p.skip()
		w, err := p.term(depth)
		if err != nil {
			return 0, err
		}
		r, ok := addSub(v, w, op)
		if !ok {
			p.i = at
			return 0, p.fail("integer overflow")
		}
		v = r
	}
	return v, nil
}

// term = unary { (*|/|%) unary }
func (p *arithParser) term(depth int) (int64, error) {
	v, err := p.unary(depth)
	if err != nil {
		return 0, err
	}
	for p.i < len(p.s) {
		op := p.s[p.i]
		if op != '*' && op != '/' && op != '%' {
			break
		}
		at := p.i
		p.i++
		p.skip()
		w, err := p.unary(depth)
		if err != nil {
			return 0, err
		}
		switch {
		case op == '*':
			r, ok := mul(v, w)
			if !ok {
				p.i = at
				return 0, p.fail("integer overflow")
			}
			v = r
		case w == 0:
			p.i = at
			return 0, p.fail("division by zero")
		case v == math.MinInt64 && w == -1:
			p.i = at
			return 0, p.fail("integer overflow")
		case op == '/':
			v /= w
		default:
			v %= w
		}
	}
	return v, nil
}

// unary = (-|+) unary | number | ( expr )
func (p *arithParser) unary(depth int) (int64, error) {
	if depth > maxArithDepth {
		return 0, p.fail("expression nested too deeply")
	}
	if p.i == len(p.s) {
		return 0, p.fail("unexpected end of expression")
	}
	switch c := p.s[p.i]; {
	case c == '-' || c == '+':
		at := p.i
		p.i++
		p.skip()
		// -9223372036854775808 is a valid literal only with its minus sign.
		if c == '-' && p.i < len(p.s) && isDigit(p.s[p.i]) {
			return p.number(at)
		}
		v, err := p.unary(depth + 1)
		if err != nil || c == '+' {
			return v, err
		}
		if v == math.MinInt64 {
			p.i = at
			return 0, p.fail("integer overflow")
		}
		return -v, nil
	case c == '(':
		p.i++
		p.skip()
		v, err := p.expr(depth + 1)
		if err != nil {
			return 0, err
		}
		if p.i == len(p.s) || p.s[p.i] != ')' {
			return 0, p.fail("missing )")
		}
		p.i++
		p.skip()
		return v, nil
	case isDigit(c):
		return p.number(p.i)
	default:
		return 0, p.fail("unexpected " + strconv.QuoteRune(rune(c)))
	}
}

// number parses the digits at p.i; from is where the literal starts (at a
// minus sign, for a negative literal).
func (p *arithParser) number(from int) (int64, error) {
	start := p.i
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
	if p.i < len(p.s) && (p.s[p.i] == '.' || p.s[p.i] == 'e' || p.s[p.i] == 'E' || isLetter(p.s[p.i])) {
		return 0, p.fail("not an integer")
	}
	lit := p.s[start:p.i]
	if from < start {
		lit = "-" + lit
	}
	v, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		p.i = from
		return 0, p.fail("integer overflow")
	}
	p.skip()
	return v, nil
}

func addSub(a, b int64, op byte) (int64, bool) {
	if op == '-' {
		r := a - b
		return r, (b >= 0 || r >= a) && (b <= 0 || r <= a)
	}
	r := a + b
	return r, (b <= 0 || r >= a) && (b >= 0 || r <= a)
}

func mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	r := a * b
	if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return r, true
}

func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
