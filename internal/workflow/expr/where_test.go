package expr

import (
	"errors"
	"testing"
)

func TestWhere(t *testing.T) {
	t.Parallel()
	rows := []map[string]any{
		{"id": int64(1), "portId": "1", "interface": "wan1", "serial": "Q2XX-AAAA", "name": "HQ", "totalAlerts": int64(0),
			"start_time": "2024-05-01T08:00:00Z", "firstName": "Ada", "lastName": "Lovelace", "enabled": true},
		{"id": int64(3), "portId": "3", "interface": "wan2", "serial": "Q2XX-BBBB", "name": "Branch 1", "totalAlerts": int64(4),
			"start_time": "2024-05-02T08:00:00+02:00", "firstName": "Alan", "lastName": "Turing", "enabled": false},
		{"id": 7.0, "portId": "12", "interface": "wan1", "name": "Lab", "totalAlerts": "2",
			"start_time": "2024-05-03T00:00:00Z", "firstName": "Ada", "lastName": "Byron"},
	}
	tests := []struct {
		clause string
		want   []int // indexes of matching rows
	}{
		// From the exports (after substitution).
		{"interface == 'wan1'", []int{0, 2}},
		{"interface == 'wan2'", []int{1}},
		{"portId = '3'", []int{1}},
		{`name = "Branch 1"`, []int{1}},
		{"serial == 'Q2XX-AAAA'", []int{0}},
		{"serial = ''", []int{2}}, // a missing column is ""
		// From FORMAT.md §6.4 and the SXO where-clause docs.
		{"id == 3", []int{1}},
		{"id == [3]", []int{1}},
		{"id == 7", []int{2}},
		{"id == '3'", []int{1}},
		{"portId == 12", []int{2}},
		{"totalAlerts > 1", []int{1, 2}},
		{`firstName == "Ada" AND lastName == "Lovelace"`, []int{0}},
		{`firstName == "[Ada]" AND lastName == "[Byron]"`, []int{}},
		{`firstName == ["Ada"] and lastName == ["Byron"]`, []int{2}},
		{"start_time >= '2024-05-02T06:00:00Z'", []int{1, 2}}, // row 1 is 06:00Z
		{"start_time < 2024-05-02T06:00:00Z", []int{0}},
		{"start_time > [2024-05-01T08:00:00Z]", []int{1, 2}},
		{"start_time <= '2024-05-01T10:00:00+02:00'", []int{0}},
		{"interface == 'wan1' OR id == 3", []int{0, 1, 2}},
		{"interface == 'wan1' AND (name == 'Lab' OR id == 1)", []int{0, 2}},
		{"interface == 'wan1' or name == 'HQ' and id == 3", []int{0, 2}}, // AND binds tighter
		{"interface != 'wan1'", []int{1}},
		{"interface <> 'wan1'", []int{1}},
		{"enabled == true", []int{0}},
		{"enabled == 'false'", []int{1}},
		{"name == Lab", []int{2}},
		{"name == Branch 1", []int{1}},         // a bare value may hold spaces
		{"NAME == 'HQ'", []int{0}},             // column names fall back to any case
		{"name == 'Lab' && id == 7", []int{2}}, // C-style too
		{"totalAlerts >= 2 || id == 1", []int{0, 1, 2}},
		{"", []int{0, 1, 2}},
		{"   ", []int{0, 1, 2}},
	}
	for _, tt := range tests {
		w, err := ParseWhere(tt.clause)
		if err != nil {
			t.Errorf("ParseWhere(%q): %v", tt.clause, err)
			continue
		}
		got := []int{}
		for i, r := range rows {
			if w.Match(r) {
				got = append(got, i)
			}
		}
		if !equalInts(got, tt.want) {
			t.Errorf("ParseWhere(%q) matches rows %v, want %v", tt.clause, got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWhereRendered(t *testing.T) {
	t.Parallel()
	// The real clause of CopyMerakiSwitchPortConfigurations, rendered and
	// parsed the way the engine does it on each execution.
	const clause = "portId = '$workflow.definition_workflow_02O0GNRVNOVC14gA0EOpUPq7WKOSqwNRTAA.input.variable_workflow_02O0GNRW5S2222JBUJ4y3lvzYdytXz8knnw$'"
	tmpl := Parse(clause)
	got := tmpl.Render(values{"$workflow.definition_workflow_02O0GNRVNOVC14gA0EOpUPq7WKOSqwNRTAA.input.variable_workflow_02O0GNRW5S2222JBUJ4y3lvzYdytXz8knnw$": int64(5)})
	w, err := ParseWhere(got)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Match(map[string]any{"portId": "5"}) || w.Match(map[string]any{"portId": "6"}) {
		t.Errorf("%q does not select port 5 only", got)
	}
	if w.String() != got {
		t.Errorf("String() = %q", w.String())
	}
}

func TestWhereErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		clause string
		offset int
		msg    string
	}{
		{"portId", 6, "expected a comparison operator (== = != <> < <= > >=)"},
		{"portId ~ 'x'", 7, "expected a comparison operator (== = != <> < <= > >=)"},
		{"portId == ", 10, "expected a value"},
		{"portId == 'x", 10, "unterminated string"},
		{"== 'x'", 0, "expected a column name"},
		{"(a == 1", 7, "missing )"},
		{"a == 1 AND", 10, "expected a comparison"},
		{"a == 'x' b == 'y'", 9, `unexpected "b == 'y'"`},
		{"a == [1", 5, "missing ]"},
	}
	for _, tt := range tests {
		_, err := ParseWhere(tt.clause)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseWhere(%q) error = %v, want a *SyntaxError", tt.clause, err)
			continue
		}
		if se.Offset != tt.offset || se.Msg != tt.msg {
			t.Errorf("ParseWhere(%q) = offset %d %q, want offset %d %q", tt.clause, se.Offset, se.Msg, tt.offset, tt.msg)
		}
	}
}

func TestZeroWhereMatchesAll(t *testing.T) {
	t.Parallel()
	if !(Where{}).Match(map[string]any{"a": 1}) {
		t.Error("zero Where does not match")
	}
}
