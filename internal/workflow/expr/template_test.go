package expr

import (
	"reflect"
	"strings"
	"testing"
)

// Strings below come from the exports in /work/shared/workflows/cisco-samples
// and from FORMAT.md §4.2, §4.5, §4.6 and Appendix C.
const (
	wf      = "definition_workflow_02NRCRVTFFKPX5zCCqfa3XYE7xCJXVN0odv"
	localX  = "$workflow.definition_workflow_02NRCRVTFFKPX5zCCqfa3XYE7xCJXVN0odv.local.variable_workflow_02NRCSEAJMWQA1LYV0jVkTUvYqlISwfJXeJ$"
	siteID  = "$activity.definition_activity_02NHUM8YV6LVP1ax4UqsIAHDucI7ShDe2pv.output.jsonpath_queries.Site Id$"
	inputY  = "$workflow.definition_workflow_02NGXCSAT5Q6T33Z4pykwejT9wziPP6KTwe.input.variable_workflow_02NGXCSC7QV260WGZTfosct88eyMFjcOD8u$"
	itemMac = "$activity.definition_activity_02OSH0FRX1GV62OnJk3kd4kGZtqjWZZ0RrH.input.source_array[@].mac$"
)

func field(s string) Step { return Step{Kind: StepField, Field: s} }
func idx(i int) Step      { return Step{Kind: StepIndex, Index: i} }

var current = Step{Kind: StepCurrent}

func TestParseRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts Options
		want Ref
		ok   bool // WellFormed
	}{
		{"R1 local", localX, Options{}, Ref{Root: "workflow", ID: wf, Scope: "local",
			Path: []Step{field("variable_workflow_02NRCSEAJMWQA1LYV0jVkTUvYqlISwfJXeJ")}}, true},
		{"R1 indexed table variable",
			"$workflow.definition_workflow_02NZIZHMOVRTN5J2ZX0Lm4ZXS0guLZW85hh.local.variable_workflow_02NZIZHN4VKD11UlB1JKiIiBux8voXR7zBZ[0].id$", Options{},
			Ref{Root: "workflow", ID: "definition_workflow_02NZIZHMOVRTN5J2ZX0Lm4ZXS0guLZW85hh", Scope: "local",
				Path: []Step{field("variable_workflow_02NZIZHN4VKD11UlB1JKiIiBux8voXR7zBZ"), idx(0), field("id")}}, true},
		{"R1 static",
			"$workflow.definition_workflow_02OSQ4SYHH4EH1ByWxq7yyQ9W92BYX4iG1k.static.variable_workflow_02OSWDY78T23H0HB190wDvT85gVbUzW3xGy$", Options{},
			Ref{Root: "workflow", ID: "definition_workflow_02OSQ4SYHH4EH1ByWxq7yyQ9W92BYX4iG1k", Scope: "static",
				Path: []Step{field("variable_workflow_02OSWDY78T23H0HB190wDvT85gVbUzW3xGy")}}, true},
		{"R2 built-in", "$workflow.definition_workflow_02NZIZHMOVRTN5J2ZX0Lm4ZXS0guLZW85hh.output.started_by$", Options{},
			Ref{Root: "workflow", ID: "definition_workflow_02NZIZHMOVRTN5J2ZX0Lm4ZXS0guLZW85hh", Scope: "output", Path: []Step{field("started_by")}}, true},
		{"R3 field with a space", siteID, Options{},
			Ref{Root: "activity", ID: "definition_activity_02NHUM8YV6LVP1ax4UqsIAHDucI7ShDe2pv", Scope: "output",
				Path: []Step{field("jsonpath_queries"), field("Site Id")}}, true},
		{"R3 trailing space kept", "$activity.definition_activity_02NMY9NDTHICX3MNSjrySdXiF2gFuGwyvTy.output.script_queries.rule_total $", Options{},
			Ref{Root: "activity", ID: "definition_activity_02NMY9NDTHICX3MNSjrySdXiF2gFuGwyvTy", Scope: "output",
				Path: []Step{field("script_queries"), field("rule_total ")}}, true},
		{"R3 table row column", "$activity.definition_activity_02O0GNSDVUKTD3Rusq6BQyZ6MXlaGp6TU1q.output.output_table[0].portId$", Options{},
			Ref{Root: "activity", ID: "definition_activity_02O0GNSDVUKTD3Rusq6BQyZ6MXlaGp6TU1q", Scope: "output",
				Path: []Step{field("output_table"), idx(0), field("portId")}}, true},
		{"R3 last element", "$activity.definition_activity_01RTY23DC86B71CfM62MoSt920iSC4tNm4s.output.parts[-1]$", Options{},
			Ref{Root: "activity", ID: "definition_activity_01RTY23DC86B71CfM62MoSt920iSC4tNm4s", Scope: "output",
				Path: []Step{field("parts"), idx(-1)}}, true},
		{"R3 dot navigation", "$activity.definition_activity_02NNQPTVQGHI12dRtgc3E8pEanQNj3hd2P0.output.body.response.endTime$", Options{},
			Ref{Root: "activity", ID: "definition_activity_02NNQPTVQGHI12dRtgc3E8pEanQNj3hd2P0", Scope: "output",
				Path: []Step{field("body"), field("response"), field("endTime")}}, true},
		{"R3 error message", "$activity.definition_activity_02NHXLNF3UH1G2HVqxQaEQUzPQh31p7uvgS.output.error.message$", Options{},
			Ref{Root: "activity", ID: "definition_activity_02NHXLNF3UH1G2HVqxQaEQUzPQh31p7uvgS", Scope: "output",
				Path: []Step{field("error"), field("message")}}, true},
		{"R4 current item column", itemMac, Options{},
			Ref{Root: "activity", ID: "definition_activity_02OSH0FRX1GV62OnJk3kd4kGZtqjWZZ0RrH", Scope: "input",
				Path: []Step{field("source_array"), current, field("mac")}}, true},
		{"R4 whole current item", "$activity.definition_activity_01N8HFNHHLVDH5Gq7ar6YhWBVCWLMA1sUmb.input.source_array[@]$", Options{},
			Ref{Root: "activity", ID: "definition_activity_01N8HFNHHLVDH5Gq7ar6YhWBVCWLMA1sUmb", Scope: "input",
				Path: []Step{field("source_array"), current}}, true},
		{"R5 global repeats the id", "$global.variable_01JNI7VSR47ZV0QY21qMyGvZLxB8DLApExq.global.variable_01JNI7VSR47ZV0QY21qMyGvZLxB8DLApExq$", Options{},
			Ref{Root: "global", ID: "variable_01JNI7VSR47ZV0QY21qMyGvZLxB8DLApExq", Scope: "global",
				Path: []Step{field("variable_01JNI7VSR47ZV0QY21qMyGvZLxB8DLApExq")}}, true},
		{"R6 env repeats the id", "$env.variable_01A6C871LSO9A26D0zcBjJoAKgRglrC10aG.env.variable_01A6C871LSO9A26D0zcBjJoAKgRglrC10aG$", Options{},
			Ref{Root: "env", ID: "variable_01A6C871LSO9A26D0zcBjJoAKgRglrC10aG", Scope: "env",
				Path: []Step{field("variable_01A6C871LSO9A26D0zcBjJoAKgRglrC10aG")}}, true},
		{"R7 trigger", "$trigger.triggerevent_01LDICT231ZS43miaxKIy0SEERAAMo7ddn6.output.sender$", Options{},
			Ref{Root: "trigger", ID: "triggerevent_01LDICT231ZS43miaxKIy0SEERAAMo7ddn6", Scope: "output", Path: []Step{field("sender")}}, true},
		{"R8 target type with a space", "$targetgroup.web-service endpoint.input.display_name$", Options{},
			Ref{Root: "targetgroup", ID: "web-service endpoint", Scope: "input", Path: []Step{field("display_name")}}, true},
		{"R8 target group id", "$targetgroup.target_group_01EJ0TQWPQWBD0qiWqClJKj9FOzwiZRfOFH.common.display_name$", Options{},
			Ref{Root: "targetgroup", ID: "target_group_01EJ0TQWPQWBD0qiWqClJKj9FOzwiZRfOFH", Scope: "common", Path: []Step{field("display_name")}}, true},
		{"R9 event output", "$output.task_id$", Options{EventOutput: true},
			Ref{Root: "output", Path: []Step{field("task_id")}}, true},
		{"§4.6 display name instead of id", "$activity.For Each Security EVENT.input.Source Array[@].canonicalName$", Options{},
			Ref{Root: "activity", ID: "For Each Security EVENT", Scope: "input",
				Path: []Step{field("Source Array"), current, field("canonicalName")}}, false},
		{"§4.6 id without prefix", "$activity.01ZHJDJCCOKHE56k4VqOomqL5OG1LxOkoBi.output.status_code$", Options{},
			Ref{Root: "activity", ID: "01ZHJDJCCOKHE56k4VqOomqL5OG1LxOkoBi", Scope: "output", Path: []Step{field("status_code")}}, false},
		{"unknown scope", "$workflow.definition_workflow_02NRCRVTFFKPX5zCCqfa3XYE7xCJXVN0odv.secret.x$", Options{},
			Ref{Root: "workflow", ID: wf, Scope: "secret", Path: []Step{field("x")}}, false},
		{"no path", "$workflow.definition_workflow_02NRCRVTFFKPX5zCCqfa3XYE7xCJXVN0odv.local$", Options{},
			Ref{Root: "workflow", ID: wf, Scope: "local"}, false},
		{"bracket that is no index stays in the name", "$activity.definition_activity_X.output.body.a[b]$", Options{},
			Ref{Root: "activity", ID: "definition_activity_X", Scope: "output", Path: []Step{field("body"), field("a[b]")}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := ParseWith(tt.in, tt.opts)
			r, ok := tmpl.Single()
			if !ok {
				t.Fatalf("Parse(%q) is not a single reference: %d refs", tt.in, len(tmpl.Refs()))
			}
			tt.want.Raw = tt.in
			if !reflect.DeepEqual(r, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, r, tt.want)
			}
			if r.WellFormed() != tt.ok {
				t.Errorf("WellFormed() = %v, want %v", r.WellFormed(), tt.ok)
			}
			if s := r.String(); s != tt.in {
				t.Errorf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestParseLiteralDollars(t *testing.T) {
	t.Parallel()
	// §4.5: $ that does not start a known root is text, and a reference
	// found after such a $ still parses.
	tests := []struct {
		name string
		in   string
		refs []string
	}{
		{"JSONPath root", "$", nil},
		{"JSONPath child", "$.response.taskId", nil},
		{"JSONPath top-level array", "$.*", nil},
		{"regex anchors", ".{2,}$", nil},
		{"regex anchors both ends", "^[^:]+\\:\\*$", nil},
		{"Catalyst ${param}", "/dna/intent/api/v2/site?groupNameHierarchy=${groupNameHierarchy}&id=${id}&type=${type}&offset=${offset}&limit=${limit}", nil},
		{"JSON schema", `{"$schema": "http://json-schema.org/draft-07/schema#"}`, nil},
		{"$output without EventOutput", "$output.task_id$", nil},
		{"unterminated reference", "cost: $workflow.definition_workflow_X.local.variable_workflow_Y", nil},
		{"root without dot", "$workflow$activity$", nil},
		{"line break inside is not a reference", "$activity.x\n$", nil},
		{"OData $select before a reference", "/users?$select=" + inputY + ",id", []string{inputY}},
		{"JSONPath filter with a reference",
			"$..[?(@.groupNameHierarchy==\"$activity.definition_activity_02NH2923BJZWC4Y3btuQiPj02mtIhAYNFbX.output.variable_workflow_02NG8EAUG43RO12AGG4mp8S7psYcdOzPC6x$\")].id",
			[]string{"$activity.definition_activity_02NH2923BJZWC4Y3btuQiPj02mtIhAYNFbX.output.variable_workflow_02NG8EAUG43RO12AGG4mp8S7psYcdOzPC6x$"}},
		{"JSONPath bracket filter with two references",
			"$[?(@.fixedIpAssignments['" + itemMac + "'])].fixedIpAssignments['" + itemMac + "'].ip",
			[]string{itemMac, itemMac}},
		{"JSONPath comparison with a reference", "$.data[0].counts[?(@.requests >= " + localX + ")]", []string{localX}},
		{"text right after a reference",
			"$workflow.definition_workflow_01MXNG0KEEZFY4tZ9xFzej731gBSpkNrzwO.local.variable_workflow_01MYIG10EU75K4wC3MR1vfPClUSCTeu9un6$response.taskId",
			[]string{"$workflow.definition_workflow_01MXNG0KEEZFY4tZ9xFzej731gBSpkNrzwO.local.variable_workflow_01MYIG10EU75K4wC3MR1vfPClUSCTeu9un6$"}},
		{"path built from two references", localX + "/" + inputY, []string{localX, inputY}},
		{"wildcard around a reference", "*" + siteID + "*", []string{siteID}},
		{"literal $ after a reference", localX + "$", []string{localX}},
		{"price", "costs $5 and " + localX, []string{localX}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := Parse(tt.in)
			var got []string
			for _, r := range tmpl.Refs() {
				got = append(got, r.Raw)
			}
			if !reflect.DeepEqual(got, tt.refs) {
				t.Errorf("Parse(%q) refs = %q, want %q", tt.in, got, tt.refs)
			}
			if tmpl.Literal() != (len(tt.refs) == 0) {
				t.Errorf("Literal() = %v", tmpl.Literal())
			}
			if s := tmpl.Render(ResolverFunc(func(Ref) (any, bool) { return nil, false })); s != tt.in {
				t.Errorf("Render with nothing known = %q, want the input back", s)
			}
		})
	}
}

// values is a resolver over a fixed set of references keyed by their text.
// Like the engine, it resolves a well-formed reference it has no value for
// to nil, and leaves a malformed one as text.
type values map[string]any

func (v values) Resolve(r Ref) (any, bool) {
	if x, ok := v[r.Raw]; ok {
		return x, true
	}
	return nil, r.WellFormed()
}

func TestRender(t *testing.T) {
	t.Parallel()
	res := values{
		localX:  int64(7),
		inputY:  "Global/San Jose",
		siteID:  "a1b2",
		itemMac: "00:11:22:33:44:55",
		"$activity.definition_activity_02NXTSATP1NXX3sJziA9MInu5AYQyZAqHjU.output.succeeded$": false,
		"$workflow.definition_workflow_X.local.variable_workflow_T$":                          []any{map[string]any{"b": "<x>", "a": 6.5}},
	}
	tests := []struct {
		name, in, want string
	}{
		{"arithmetic source", localX + "+1", "7+1"},
		{"URL", "/dna/intent/api/v1/sites/" + siteID + "/aaaSettings", "/dna/intent/api/v1/sites/a1b2/aaaSettings"},
		{"site path", inputY + "/" + siteID, "Global/San Jose/a1b2"},
		{"bool", "ok=$activity.definition_activity_02NXTSATP1NXX3sJziA9MInu5AYQyZAqHjU.output.succeeded$", "ok=false"},
		{"JSON body, no escaping", `{"site": "` + inputY + `"}`, `{"site": "Global/San Jose"}`},
		{"table as compact JSON, keys sorted, no HTML escaping", "rows: $workflow.definition_workflow_X.local.variable_workflow_T$", `rows: [{"a":6.5,"b":"<x>"}]`},
		{"no value yet is empty", "[$workflow.definition_workflow_X.local.variable_workflow_none$]", "[]"},
		{"malformed reference left as is", "id=$activity.For Each Security EVENT.input.Source Array[@].canonicalName$", "id=$activity.For Each Security EVENT.input.Source Array[@].canonicalName$"},
		{"JSONPath filter", "$[?(@.fixedIpAssignments['" + itemMac + "'])].id", "$[?(@.fixedIpAssignments['00:11:22:33:44:55'])].id"},
		{"literal", "$.response", "$.response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Parse(tt.in).Render(res); got != tt.want {
				t.Errorf("Render(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValue(t *testing.T) {
	t.Parallel()
	table := []any{map[string]any{"id": "1"}}
	res := values{localX: int64(7), siteID: table}
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"single reference keeps its type", localX, int64(7)},
		{"single table reference", siteID, table},
		{"single reference without value", inputY, nil},
		{"malformed single reference is its text", "$activity.01ZHJDJCCOKHE56k4VqOomqL5OG1LxOkoBi.output.status_code$", "$activity.01ZHJDJCCOKHE56k4VqOomqL5OG1LxOkoBi.output.status_code$"},
		{"mixed is text", localX + " - 1", "7 - 1"},
		{"space around is text", " " + localX, " 7"},
		{"literal", "completed-successfully", "completed-successfully"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Parse(tt.in).Value(res); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Value(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"a b ", "a b "},
		{true, "true"},
		{false, "false"},
		{int64(-42), "-42"},
		{42, "42"},
		{6.5, "6.5"},
		{20.0, "20"},
		{1e6, "1000000"},
		{0.1, "0.1"},
		{1e-7, "1e-07"},
		{[]any{}, "[]"},
		{[]any{"a&b", int64(1), nil, true}, `["a&b",1,null,true]`},
		{map[string]any{"z": 1.0, "a": []any{"<b>"}}, `{"a":["<b>"],"z":1}`},
		{map[string]any{}, "{}"},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWalk(t *testing.T) {
	t.Parallel()
	out := map[string]any{
		"output_table": []any{map[string]any{"portId": "1", "allowedVlans": "all"}, map[string]any{"portId": "2"}},
		"parts":        []any{"a", "b", "c"},
		"body":         map[string]any{"response": map[string]any{"endTime": int64(1700000000)}},
		"raw_body":     `{"response": {"x": 1}}`,
		"jsonpath_queries": map[string]any{
			"Site Id": "s1",
			"a.b":     "dotted",
		},
	}
	tests := []struct {
		name string
		path []Step
		want any
		ok   bool
	}{
		{"row column", []Step{field("output_table"), idx(0), field("portId")}, "1", true},
		{"last row", []Step{field("output_table"), idx(-1), field("portId")}, "2", true},
		{"last element", []Step{field("parts"), idx(-1)}, "c", true},
		{"index out of range", []Step{field("parts"), idx(3)}, nil, false},
		{"negative out of range", []Step{field("parts"), idx(-4)}, nil, false},
		{"nested", []Step{field("body"), field("response"), field("endTime")}, int64(1700000000), true},
		{"missing field", []Step{field("body"), field("nope")}, nil, false},
		{"JSON string is not navigated", []Step{field("raw_body"), field("response")}, nil, false},
		{"name with a space", []Step{field("jsonpath_queries"), field("Site Id")}, "s1", true},
		{"name with a dot", []Step{field("jsonpath_queries"), field("a"), field("b")}, "dotted", true},
		{"[@] is the resolver's", []Step{field("parts"), current}, nil, false},
		{"field of an array", []Step{field("parts"), field("x")}, nil, false},
		{"empty path", nil, out, true},
	}
	for _, tt := range tests {
		got, ok := Walk(out, tt.path)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Walk = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRefCurrent(t *testing.T) {
	t.Parallel()
	r, _ := Parse(itemMac).Single()
	if i := r.Current(); i != 1 {
		t.Fatalf("Current() = %d, want 1", i)
	}
	item := map[string]any{"mac": "aa"}
	if v, ok := Walk(item, r.Path[r.Current()+1:]); !ok || v != "aa" {
		t.Errorf("Walk(item, after [@]) = %v, %v", v, ok)
	}
	r, _ = Parse(localX).Single()
	if i := r.Current(); i != -1 {
		t.Errorf("Current() = %d, want -1", i)
	}
}

func TestRefsIsACopy(t *testing.T) {
	t.Parallel()
	tmpl := Parse(localX)
	tmpl.Refs()[0].Raw = "changed"
	if r, _ := tmpl.Single(); r.Raw != localX {
		t.Errorf("Refs() shares its slice with the template")
	}
	if !strings.HasPrefix(tmpl.String(), "$workflow.") {
		t.Errorf("String() = %q", tmpl.String())
	}
}
