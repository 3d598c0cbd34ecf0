package expr

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// The comparisons shared by conditions and where clauses; the rules are
// documented at [Eval].

// kind is the common type two values are compared as.
type kind int

const (
	kString kind = iota
	kInt
	kFloat
	kBool
	kTime
)

// pair is two coerced values.
type pair struct {
	k      kind
	ls, rs string
	li, ri int64
	lf, rf float64
	lb, rb bool
	lt, rt time.Time
}

// coerce brings l and r to one kind. ordered asks for the ordering rules of
// two strings (dates and numbers).
func coerce(l, r any, ordered bool) pair {
	l, r = normalize(l), normalize(r)
	if l == nil {
		l = zeroLike(r)
	}
	if r == nil {
		r = zeroLike(l)
	}
	switch lv := l.(type) {
	case int64, float64:
		switch rv := r.(type) {
		case int64, float64:
			return numPair(l, r)
		case string:
			if m, ok := parseNumber(rv); ok {
				return numPair(l, m)
			}
		}
	case bool:
		switch rv := r.(type) {
		case bool:
			return pair{k: kBool, lb: lv, rb: rv}
		case string:
			if b, ok := parseBool(rv); ok {
				return pair{k: kBool, lb: lv, rb: b}
			}
		}
	case string:
		switch rv := r.(type) {
		case string:
			if ordered {
				if p, ok := stringOrder(lv, rv); ok {
					return p
				}
			} else if looksLikeDate(lv) && looksLikeDate(rv) {
				if a, ok := parseTime(lv); ok {
					if b, ok := parseTime(rv); ok {
						return pair{k: kTime, lt: a, rt: b}
					}
				}
			}
			return pair{k: kString, ls: lv, rs: rv}
		case int64, float64:
			if n, ok := parseNumber(lv); ok {
				return numPair(n, r)
			}
		case bool:
			if b, ok := parseBool(lv); ok {
				return pair{k: kBool, lb: b, rb: rv}
			}
		}
	}
	return pair{k: kString, ls: Text(l), rs: Text(r)}
}

// numPair pairs two numbers (int64 or float64), as int64 when both are.
func numPair(a, b any) pair {
	ai, aok := a.(int64)
	bi, bok := b.(int64)
	if aok && bok {
		return pair{k: kInt, li: ai, ri: bi}
	}
	return pair{k: kFloat, lf: toFloat(a), rf: toFloat(b)}
}

// stringOrder compares two dates as instants and two numbers as numbers.
func stringOrder(l, r string) (pair, bool) {
	if looksLikeDate(l) && looksLikeDate(r) {
		if a, ok := parseTime(l); ok {
			if b, ok := parseTime(r); ok {
				return pair{k: kTime, lt: a, rt: b}, true
			}
		}
	}
	if a, ok := parseNumber(l); ok {
		if b, ok := parseNumber(r); ok {
			return numPair(a, b), true
		}
	}
	return pair{}, false
}

// cmp orders the pair: -1, 0 or +1.
func (p pair) cmp() int {
	switch p.k {
	case kInt:
		return cmp3(p.li < p.ri, p.li > p.ri)
	case kFloat:
		return cmp3(p.lf < p.rf, p.lf > p.rf)
	case kBool:
		return cmp3(!p.lb && p.rb, p.lb && !p.rb)
	case kTime:
		return p.lt.Compare(p.rt)
	}
	return strings.Compare(p.ls, p.rs)
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// equal reports whether l equals r after coercion.
func equal(l, r any) bool { return coerce(l, r, false).cmp() == 0 }

// order compares l with r after coercion.
func order(l, r any) int { return coerce(l, r, true).cmp() }

// normalize maps the other Go number types onto int64 and float64.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case json.Number:
		if n, ok := parseNumber(string(x)); ok {
			return n
		}
		return string(x)
	}
	return v
}

// zeroLike is what a missing value counts as next to v.
func zeroLike(v any) any {
	switch v.(type) {
	case int64:
		return int64(0)
	case float64:
		return float64(0)
	case bool:
		return false
	case nil:
		return nil
	}
	return ""
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// parseNumber parses a decimal integer as int64 and anything else
// strconv.ParseFloat accepts (but not Inf or NaN) as float64, ignoring
// surrounding spaces.
func parseNumber(s string) (any, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	c := s[0]
	if !isDigit(c) && c != '-' && c != '+' && c != '.' {
		return nil, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f-f != 0 {
		return nil, false
	}
	return f, true
}

func parseBool(s string) (bool, bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// looksLikeDate is a cheap test that s starts with yyyy-mm-dd, so that
// ordinary strings never reach time.Parse.
func looksLikeDate(s string) bool {
	return len(s) >= 10 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) &&
		s[4] == '-' && isDigit(s[5]) && isDigit(s[6]) && s[7] == '-' && isDigit(s[8]) && isDigit(s[9])
}

// dateLayouts are the date forms compared as instants: RFC 3339, the same
// with a space instead of T, and a bare date.
var dateLayouts = [...]string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
