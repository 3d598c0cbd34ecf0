package scope

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"b a", []string{"a", "b"}, false},
		{"a  a   b", []string{"a", "b"}, false},
		{"dashboard:general:config:read", []string{"dashboard:general:config:read"}, false},
		{"a\"b", nil, true},
		{"a\\b", nil, true},
		{"a\tb", nil, true},
		{"é", nil, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKnown(t *testing.T) {
	t.Parallel()
	if got := len(All()); got != 36 {
		t.Fatalf("len(All()) = %d, want 36", got)
	}
	for _, s := range []string{"dashboard:general:config:read", "sm:telemetry:write"} {
		if !Known(s) {
			t.Errorf("Known(%q) = false", s)
		}
	}
	for _, s := range []string{"dashboard:general:config", "openid", "sm:telemetry:delete"} {
		if Known(s) {
			t.Errorf("Known(%q) = true", s)
		}
	}
	if got := Unknown([]string{"switch:config:read", "bogus"}); !slices.Equal(got, []string{"bogus"}) {
		t.Errorf("Unknown = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a b", "dashboard:general:config:read  switch:config:write", "\x00", "a\"b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			return
		}
		if !slices.IsSorted(got) {
			t.Fatalf("not sorted: %q", got)
		}
		// Round trip: formatting and parsing again gives the same list.
		again, err := Parse(Format(got))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("round trip %q -> %q, %v", got, again, err)
		}
		for _, tok := range got {
			if tok == "" || strings.ContainsAny(tok, " \"\\") {
				t.Fatalf("bad token %q", tok)
			}
		}
	})
}
