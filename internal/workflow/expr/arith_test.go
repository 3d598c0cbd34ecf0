package expr

import (
	"errors"
	"testing"
)

func TestArith(t *testing.T) {
	t.Parallel()
	// Inputs are the Set Variables and calculate_date expressions of
	// FORMAT.md §3.1 and §4.4 after substitution.
	tests := []struct {
		in   string
		want int64
	}{
		{"5", 5},
		{"7+1", 8},          // "$x$+1"
		{"7 - 1", 6},        // "$x$ - 1"
		{"7+500", 507},      // "$x$+500"
		{"3*86400", 259200}, // "$x$*86400"
		{"(2+3)", 5},        // "($a$+$b$)"
		{"-(3*86400)", -259200},
		{"-(3600 * 2)", -7200},
		{"-86400", -86400},
		{"-3 - 1", -4}, // a negative value spliced in
		{"5--1", 6},
		{"2+3*4", 14},
		{"(2+3)*4", 20},
		{"7/2", 3},
		{"-7/2", -3},
		{"7%3", 1},
		{" \t12 \n", 12},
		{"+4", 4},
		{"9223372036854775807", 9223372036854775807},
		{"-9223372036854775808", -9223372036854775808},
	}
	for _, tt := range tests {
		got, err := Arith(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Arith(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestArithErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "empty expression"},
		{"   ", 3, "empty expression"},
		{"1/0", 1, "division by zero"},
		{"5 % (2-2)", 2, "division by zero"},
		{"6.5", 1, "not an integer"},
		{"1+", 2, "unexpected end of expression"},
		{"(1+2", 4, "missing )"},
		{"1 2", 2, "unexpected '2'"},
		{"abc", 0, "unexpected 'a'"},
		{"2+$workflow.x$", 2, "unexpected '$'"}, // a reference left as text
		{"9223372036854775808", 0, "integer overflow"},
		{"9223372036854775807+1", 19, "integer overflow"},
		{"-9223372036854775808-1", 20, "integer overflow"},
		{"4611686018427387904*2", 19, "integer overflow"},
		{"-9223372036854775808/-1", 20, "integer overflow"},
	}
	for _, tt := range tests {
		_, err := Arith(tt.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Arith(%q) error = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if se.Offset != tt.offset || se.Msg != tt.msg {
			t.Errorf("Arith(%q) = offset %d %q, want offset %d %q", tt.in, se.Offset, se.Msg, tt.offset, tt.msg)
		}
	}
}

func TestArithDeepNesting(t *testing.T) {
	t.Parallel()
	s := ""
	for range 10000 {
		s += "("
	}
	if _, err := Arith(s + "1"); err == nil {
		t.Fatal("deeply nested expression parsed")
	}
}
