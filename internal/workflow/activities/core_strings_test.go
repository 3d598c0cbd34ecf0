package activities_test

import (
	"reflect"
	"strings"
	"testing"
)

// Each case runs one string activity on props whose shapes come from the
// exports (FORMAT.md §3.20) and checks one output.
func TestStringActivities(t *testing.T) {
	t.Parallel()
	in := variable("in", "input", "datatype.string", "Catalyst 9300 Switches, IE 3400")
	tests := []struct {
		name, typ, props, output string
		want                     any
		fail                     string
	}{
		{name: "matchregex has_match", typ: "core.matchregex", output: "has_match", want: true,
			props: `{"input_regex": "\\b(Switches|IE|Micro)\\b", "input_string": ` + jsonText(ref("input", "in")) + `, "match_case": true}`},
		{name: "matchregex matching_strings", typ: "core.matchregex", output: "matching_strings", want: []any{"Switches", "IE"},
			props: `{"input_regex": "\\b(Switches|IE|Micro)\\b", "input_string": ` + jsonText(ref("input", "in")) + `, "match_case": true}`},
		{name: "matchregex match_groups", typ: "core.matchregex", output: "match_groups", want: []any{[]any{"9300", "Switches"}},
			props: `{"input_regex": "(\\d+) (\\w+),", "input_string": ` + jsonText(ref("input", "in")) + `}`},
		{name: "matchregex case-sensitive miss", typ: "core.matchregex", output: "has_match", want: false,
			props: `{"input_regex": "switches", "input_string": ` + jsonText(ref("input", "in")) + `, "match_case": true}`},
		{name: "matchregex without match_case ignores case", typ: "core.matchregex", output: "matching_strings", want: []any{"Switches"},
			props: `{"input_regex": "switches", "input_string": ` + jsonText(ref("input", "in")) + `}`},
		{name: "matchregex bad regex", typ: "core.matchregex", fail: "not a valid regular expression",
			props: `{"input_regex": "(", "input_string": "x"}`},
		{name: "find_string", typ: "core.find_string", output: "has_match", want: true,
			props: `{"searched_string": "response", "source": "{\"response\": {\"taskId\": \"1\"}}"}`},
		{name: "find_string index", typ: "core.find_string", output: "index", want: int64(9),
			props: `{"searched_string": "9300", "source": ` + jsonText(ref("input", "in")) + `}`},
		{name: "find_string miss", typ: "core.find_string", output: "has_match", want: false,
			props: `{"searched_string": "Response", "source": "{\"response\": 1}"}`},
		{name: "string2upper", typ: "core.string2upper", output: "uppercase_text", want: "CATALYST 9300 SWITCHES, IE 3400",
			props: `{"source": ` + jsonText(ref("input", "in")) + `}`},
		{name: "string2lower", typ: "core.string2lower", output: "lowercase_text", want: "prod-nam",
			props: `{"source": "PROD-NAM"}`},
		{name: "trim whitespace", typ: "core.trim_string", output: "trimmed", want: "a b",
			props: `{"source": "  a b\n", "trim_leading": true, "trim_trailing": true}`},
		{name: "trim characters, trailing only", typ: "core.trim_string", output: "trimmed", want: `"x`,
			props: `{"source": "\"x\"\",", "trim_leading": false, "trim_trailing": true, "characters_to_trim": "\","}`},
		{name: "trim newline written escaped", typ: "core.trim_string", output: "trimmed", want: "x",
			props: `{"source": "\n\nx\n", "trim_leading": true, "trim_trailing": true, "characters_to_trim": "\\n"}`},
		{name: "replacestring in order", typ: "core.replacestring", output: "result_string", want: `{"name": "B-C"}`,
			props: `{"input_string": "{\"name\": \"A\"}", "replace_list": [{"replaced_string": "A", "replacement_string": "B_C"},
				{"replaced_string": "_", "replacement_string": "-"}, {"replaced_string": "", "replacement_string": "z"}]}`},
		{name: "replacestring newline", typ: "core.replacestring", output: "result_string", want: "a<br>b",
			props: `{"input_string": "a\nb", "replace_list": [{"replaced_string": "\\n", "replacement_string": "<br>"}]}`},
		{name: "splitstring comma", typ: "core.splitstring", output: "parts", want: []any{"a", "", "b"},
			props: `{"input_string": "a,,b", "boundaries": [{"boundary": ","}]}`},
		{name: "splitstring remove_empty", typ: "core.splitstring", output: "parts", want: []any{"a", "b"},
			props: `{"input_string": "a,,b,", "boundaries": [{"boundary": ","}], "remove_empty": true}`},
		{name: "splitstring newline boundary", typ: "core.splitstring", output: "parts", want: []any{"l1", "l2"},
			props: `{"input_string": "l1\nl2", "boundaries": [{"boundary": "\\n"}], "remove_empty": true}`},
		{name: "splitstring several boundaries", typ: "core.splitstring", output: "parts", want: []any{"2024-01-02", "10", "00", "00Z"},
			props: `{"input_string": "2024-01-02T10:00:00Z", "boundaries": [{"boundary": "T"}, {"boundary": ":"}]}`},
		{name: "splitstring pipe is literal", typ: "core.splitstring", output: "parts", want: []any{"a", "b"},
			props: `{"input_string": "a|b", "boundaries": [{"boundary": "|"}], "use_regexp": false}`},
		{name: "splitstring regexp", typ: "core.splitstring", output: "parts", want: []any{"a", "b", "c"},
			props: `{"input_string": "a1b22c", "boundaries": [{"boundary": "\\d+"}], "use_regexp": true}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runActivity(t, tc.typ, tc.props, in)
			if tc.fail != "" {
				if !strings.Contains(failed(r), tc.fail) {
					t.Fatalf("error %q, want %q", failed(r), tc.fail)
				}
				return
			}
			if msg := failed(r); msg != "" {
				t.Fatalf("failed: %s", msg)
			}
			if got := r.Output[tc.output]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s = %#v, want %#v", tc.output, got, tc.want)
			}
			if len(r.Input) == 0 {
				t.Errorf("no inputs recorded")
			}
		})
	}
}

// parts[-1] and matching_strings[0] are read by later activities.
func TestStringOutputsIndexed(t *testing.T) {
	t.Parallel()
	src := exportJSON([]string{variable("last", "output", "datatype.string", ""), variable("first", "output", "datatype.string", "")},
		activity("split", "core.splitstring", `{"input_string": "a/b/c", "boundaries": [{"boundary": "/"}]}`),
		activity("re", "core.matchregex", `{"input_string": "id=42 id=7", "input_regex": "\\d+"}`),
		activity("set", "core.set_multiple_variables", `{"variables_to_update": [
			{"variable_to_update": `+jsonText(ref("output", "last"))+`, "variable_value_new": `+jsonText(actRef("split", "parts[-1]"))+`},
			{"variable_to_update": `+jsonText(ref("output", "first"))+`, "variable_value_new": `+jsonText(actRef("re", "matching_strings[0]"))+`}]}`))
	res, _ := runExport(t, src, nil)
	if res.Status != "succeeded" {
		t.Fatalf("run %s: %s", res.Status, res.Error)
	}
	if res.Outputs["variable_workflow_last"] != "c" || res.Outputs["variable_workflow_first"] != "42" {
		t.Errorf("outputs %v", res.Outputs)
	}
}
