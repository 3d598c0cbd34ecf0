package expr

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Operand references used by the condition tests, from real exports.
const (
	statusCode = "$activity.definition_activity_02OQTFUOR8PYG1HoyNkgBhvY8Rf1i7833Fn.output.status_code$"
	succeeded  = "$activity.definition_activity_02NHPKU2URU856FbegIzGsO4be5piXP8IcG.output.succeeded$"
	inputName  = "$workflow.definition_workflow_02NG8EASZBL4E3bes3yy0amgTb0RQCG1v2n.input.variable_workflow_02NG8EAUES9AP2G5t6Xh7x162nxXnWeElua$"
	inputArea  = "$workflow.definition_workflow_02NG8EASZBL4E3bes3yy0amgTb0RQCG1v2n.input.variable_workflow_02NG8EAUGRWL85kvqhYoupeOvmcVyxBkDAu$"
	isRunning  = "$workflow.definition_workflow_02NHXIR9YQLLH4km689n0NCuWFwW5MuL4BD.local.variable_workflow_02NHXIRB3Z69A2O1eJ3cLpfWG5YqaLit3V9$"
	attempts   = "$workflow.definition_workflow_02NHXIR9YQLLH4km689n0NCuWFwW5MuL4BD.local.variable_workflow_02NHXIRB4TO0C45hDtHmFy44BOMKnZbbZw0$"
	provCount  = "$activity.definition_activity_02P6BJZANOYGH3A2VgqA51uorzsGnIVcPq7.output.jsonpath_queries.provisioningCount$"
	threat     = "$activity.definition_activity_01LKPGREAB1A35SE9SJPv3RllaBC0mJF4AJ.output.jsonpath_queries.threat_score$"
	timeDur    = "$activity.definition_activity_02NHXNIDGHJ9F1Z0rOPXKSWbQDQdRnVPx6N.output.jsonpath_queries.timeDuration$"
	endTime    = "$activity.definition_activity_02NNQPTVQGHI12dRtgc3E8pEanQNj3hd2P0.output.body.response.endTime$"
	loopID     = "$activity.definition_activity_02ONDCLJI5W5C1sBS8MRxXEj6Bz3b8e4wEh.input.source_array[@].id$"
	tags       = "$activity.definition_activity_02OSQ4TSCYXTP0UW6yLOvjf9ZlwithwuOcG.input.source_array[@].tags$"
	results    = "$workflow.definition_workflow_02OSH0EXXAZL07jJT5tTLmqeMQzflo7miui.local.variable_workflow_02OSH0EYH4S1S23ep1RZcl7GCvrAhlCDjcT$"
	comment    = "$workflow.definition_workflow_0216RMFDHRIX56xojicUggouugWAQhQvKww.input.variable_workflow_0216RMFDSOK750rwBxbjAdCfq33gjkJ20e2$"
	instanceID = "$workflow.definition_workflow_01QD4WCB1Z5JO6qSRCJcWqacW6XFnIdFaNC.output.instance_id$"
	label      = "$activity.definition_activity_02OSH0GHZEFGJ3tCuxnAsvy05eltLPYxKIz.output.jsonpath_queries.label$"
	region     = "$env.variable_01A6C871LSO9A26D0zcBjJoAKgRglrC10aG.env.variable_01A6C871LSO9A26D0zcBjJoAKgRglrC10aG$"
	lastMod    = "$global.variable_01JNI7VSR47ZV0QY21qMyGvZLxB8DLApExq.global.variable_01JNI7VSR47ZV0QY21qMyGvZLxB8DLApExq$"
	tgName     = "$targetgroup.web-service endpoint.input.display_name$"
	approval   = "$activity.definition_activity_01LQA48G4BZFC0UCul81QKGubOoQuYkl74c.output.task_id$"
)

// cond decodes a condition as the export decoder does (numbers become
// float64 unless the engine uses UseNumber; both must work).
func cond(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test condition %s: %v", s, err)
	}
	return v
}

func leaf(left, op string, right any) map[string]any {
	return map[string]any{"left_operand": left, "operator": op, "right_operand": right}
}

func node(left any, op string, right any) map[string]any {
	return map[string]any{"left_operand": left, "operator": op, "right_operand": right}
}

func TestEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vals values
		cond any
		want bool
	}{
		// Appendix D, one real example per operator.
		{"eq bool", values{succeeded: false}, leaf(succeeded, "eq", false), true},
		{"eqi", values{tgName: "ctr_api"}, leaf(tgName, "eqi", "CTR_API"), true},
		{"ne empty", values{inputName: "Global"}, leaf(inputName, "ne", ""), true},
		{"gt int", values{provCount: int64(2)}, leaf(provCount, "gt", int64(0)), true},
		{"mw", values{loopID: "N_1234"}, leaf(loopID, "mw", "N_*"), true},
		{"mw no match", values{loopID: "L_1234"}, leaf(loopID, "mw", "N_*"), false},
		{"lt", values{attempts: int64(1999)}, leaf(attempts, "lt", int64(2000)), true},
		{"lte", values{timeDur: int64(0)}, leaf(timeDur, "lte", int64(0)), true},
		{"gte", values{threat: int64(70)}, leaf(threat, "gte", int64(70)), true},
		{"mregex anchor", values{comment: "# note"}, leaf(comment, "mregex", "^#"), true},
		{"mregex anchor no match", values{comment: "note #"}, leaf(comment, "mregex", "^#"), false},
		{"nmw", values{results: "all fine"}, leaf(results, "nmw", "*errors*"), true},
		{"nmw match", values{results: "3 errors found"}, leaf(results, "nmw", "*errors*"), false},

		// §5.3 coercion.
		{"int status vs string 200", values{statusCode: int64(200)}, leaf(statusCode, "eq", "200"), true},
		{"int status ne string 200", values{statusCode: int64(404)}, leaf(statusCode, "ne", "200"), true},
		{"string status vs int 200", values{statusCode: "200"}, leaf(statusCode, "eq", int64(200)), true},
		{"float status from JSON vs int", values{statusCode: 200.0}, leaf(statusCode, "eq", int64(200)), true},
		{"bool vs string false", values{succeeded: false}, leaf(succeeded, "eq", "false"), true},
		{"bool vs string False", values{succeeded: false}, leaf(succeeded, "eq", "False"), true},
		{"string true vs bool", values{succeeded: "true"}, leaf(succeeded, "eq", true), true},
		{"bool vs other string is text", values{succeeded: true}, leaf(succeeded, "eq", "yes"), false},
		{"lte string 0", values{timeDur: int64(-1)}, leaf(timeDur, "lte", "0"), true},
		{"string number gt int", values{provCount: "10"}, leaf(provCount, "gt", int64(9)), true},
		{"two numeric strings order as numbers", values{provCount: "10"}, leaf(provCount, "gt", "9"), true},
		{"two numeric strings eq as text", values{provCount: "1.0"}, leaf(provCount, "eq", "1"), false},
		{"non-numeric string vs int", values{provCount: "n/a"}, leaf(provCount, "gt", int64(0)), true},
		{"float vs int", values{threat: 6.5}, leaf(threat, "gt", int64(6)), true},
		{"int vs float string", values{threat: int64(6)}, leaf(threat, "lt", "6.5"), true},
		{"int vs right reference", values{attempts: int64(3), threat: int64(5)}, leaf(attempts, "lte", threat), true},
		{"strings compare as strings", values{inputName: "ISE"}, leaf(inputName, "eq", "ISE"), true},
		{"case matters for eq", values{inputName: "ise"}, leaf(inputName, "eq", "ISE"), false},
		{"array vs []", values{tags: []any{}}, leaf(tags, "eq", "[]"), true},
		{"array ne []", values{tags: []any{"Uplink"}}, leaf(tags, "ne", "[]"), true},
		{"mw on an array's JSON", values{tags: []any{"Uplink", "Core"}}, leaf(tags, "mw", "*Uplink*"), true},
		{"mw is whole-string", values{results: "3 errors"}, leaf(results, "mw", "errors"), false},
		{"mw without wildcard equals", values{results: "errors"}, leaf(results, "mw", "errors"), true},
		{"mw ?", values{loopID: "N_1"}, leaf(loopID, "mw", "N_?"), true},
		{"mw ? is one character", values{loopID: "N_12"}, leaf(loopID, "mw", "N_?"), false},
		{"mregex is a search", values{comment: "xabcx"}, leaf(comment, "mregex", "abc"), true},
		{"mregex own end anchor", values{comment: "ab"}, leaf(comment, "mregex", ".{2,}$"), true},
		{"mregex too short", values{comment: "a"}, leaf(comment, "mregex", ".{2,}$"), false},
		{"mregex pattern from a reference", values{comment: "prod-eu", region: "^prod-"}, leaf(comment, "mregex", region), true},
		{"env region", values{region: "prod-eu"}, leaf(region, "eq", "prod-eu"), true},

		// nil and missing values.
		{"no value eq empty", values{}, leaf(inputName, "eq", ""), true},
		{"no value ne empty", values{}, leaf(inputName, "ne", ""), false},
		{"no value gt 0", values{}, leaf(endTime, "gt", int64(0)), false},
		{"no value lte 0", values{}, leaf(endTime, "lte", int64(0)), true},
		{"no value eq false", values{}, leaf(succeeded, "eq", false), true},
		{"no value on the right", values{inputName: ""}, leaf(inputName, "eq", inputArea), true},
		{"malformed reference is its text", values{}, leaf("$activity.01ZHJDJCCOKHE56k4VqOomqL5OG1LxOkoBi.output.status_code$", "eq", "200"), false},

		// Right operands that are templates (§5.1).
		{"wildcard around a reference", values{results: "see foo here", label: "foo"}, leaf(results, "mw", "*"+label+"*"), true},
		{"regex with $ anchor", values{label: "a:*"}, leaf(label, "mregex", `^[^:]+\:\*$`), true},
		{"implicit else: instance id eq itself", values{instanceID: "01abc"}, leaf(instanceID, "eq", instanceID), true},

		// Dates: guessed date operator codes; RFC 3339 compares as instants.
		{"after", values{lastMod: "2024-05-01T10:00:00-04:00"}, leaf(lastMod, "after", "2024-05-01T13:00:00Z"), true},
		{"before", values{lastMod: "2000-01-01T00:00:00-04:00"}, leaf(lastMod, "before", "2000-01-01T05:00:00Z"), true},
		{"no later than, same instant", values{lastMod: "2000-01-01T00:00:00-04:00"}, leaf(lastMod, "nelt", "2000-01-01T04:00:00Z"), true},
		{"no earlier than", values{lastMod: "2000-01-01T00:00:00-04:00"}, leaf(lastMod, "nebt", "2000-01-02"), false},
		{"eq dates as instants", values{lastMod: "2000-01-01T00:00:00-04:00"}, leaf(lastMod, "eq", "2000-01-01T04:00:00Z"), true},
		{"gt on dates compares instants, not text", values{lastMod: "2024-01-02T00:00:00Z"}, leaf(lastMod, "gt", "2024-01-01T23:00:00-05:00"), false},
		{"operator in capitals", values{inputName: "x"}, leaf(inputName, "EQ", "x"), true},

		// §5.1 trees.
		{"and", values{inputName: "a", inputArea: ""},
			node(leaf(inputName, "ne", ""), "and", leaf(inputArea, "eq", "")), true},
		{"while: isTaskRunning AND currentAttempts > 0", values{isRunning: true, attempts: int64(0)},
			node(leaf(isRunning, "eq", true), "and", leaf(attempts, "gt", int64(0))), false},
		{"left-nested or, 5 deep", values{inputName: "", inputArea: "", loopID: "x"},
			node(node(node(node(leaf(inputName, "ne", ""), "or", leaf(inputArea, "ne", "")), "or", leaf(succeeded, "eq", true)), "or", leaf(statusCode, "eq", "200")), "or", leaf(loopID, "eq", "x")), true},
		{"or all false", values{}, node(leaf(inputName, "ne", ""), "or", leaf(inputArea, "ne", "")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Eval(tt.cond, tt.vals)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if got != tt.want {
				t.Errorf("Eval(%v) = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func TestEvalDecodedJSON(t *testing.T) {
	t.Parallel()
	// Conditions as encoding/json decodes them, numbers as float64 and as
	// json.Number.
	c := `{"left_operand": {"left_operand": "` + isRunning + `", "operator": "eq", "right_operand": true},
	       "operator": "and",
	       "right_operand": {"left_operand": "` + attempts + `", "operator": "gt", "right_operand": 0}}`
	res := values{isRunning: true, attempts: int64(3)}
	if ok, err := Eval(cond(t, c), res); err != nil || !ok {
		t.Errorf("Eval(float64 operands) = %v, %v", ok, err)
	}
	dec := json.NewDecoder(strings.NewReader(c))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if ok, err := Eval(v, res); err != nil || !ok {
		t.Errorf("Eval(json.Number operands) = %v, %v", ok, err)
	}
}

func TestEvalEventOutput(t *testing.T) {
	t.Parallel()
	// task.wait_for_event.event_info.event_definition.conditions (§3.21).
	c := leaf("$output.task_id$", "eq", approval)
	res := ResolverFunc(func(r Ref) (any, bool) {
		switch {
		case r.Root == RootOutput && r.Path[0].Field == "task_id":
			return "T1", true
		case r.Raw == approval:
			return "T1", true
		}
		return nil, false
	})
	cc, err := CompileCondition(c, Options{EventOutput: true})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := cc.Eval(res); err != nil || !ok {
		t.Errorf("event condition = %v, %v; want true", ok, err)
	}
	// Outside event definitions $output. is text.
	if ok, _ := Eval(c, res); ok {
		t.Errorf("Eval without EventOutput resolved $output.task_id$")
	}
}

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cond any
		path string
		msg  string
	}{
		{"unknown operator", leaf(inputName, "contains", "x"), "", `unknown operator "contains"`},
		{"unknown nested operator", node(node(leaf(inputName, "eq", ""), "or", leaf(inputName, "startswith", "x")), "and", leaf(inputName, "eq", "")),
			"left_operand.right_operand", `unknown operator "startswith"`},
		{"not an object", "eq", "", "want an object with left_operand, operator and right_operand, got a string"},
		{"combinator over a string", node(leaf(inputName, "eq", ""), "and", "x"), "right_operand", "want an object with left_operand, operator and right_operand, got a string"},
		{"missing operator", map[string]any{"left_operand": inputName, "right_operand": ""}, "", "missing operator"},
		{"operator not a string", map[string]any{"left_operand": inputName, "operator": 1.0, "right_operand": ""}, "operator", "operator is a number, want a string"},
		{"missing right operand", map[string]any{"left_operand": inputName, "operator": "eq"}, "", "missing right_operand"},
		{"leaf with a condition operand", leaf(inputName, "eq", leaf(inputName, "eq", "")), "right_operand", "operand is a condition; only and/or take conditions"},
		{"invalid literal regexp", node(leaf(inputName, "eq", ""), "and", leaf(comment, "mregex", "(")), "right_operand.right_operand",
			"invalid regular expression: error parsing regexp: missing closing ): `(`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Eval(tt.cond, values{})
			var ce *ConditionError
			if !errors.As(err, &ce) {
				t.Fatalf("Eval error = %v, want a *ConditionError", err)
			}
			if ce.Path != tt.path || ce.Msg != tt.msg {
				t.Errorf("error = %q at %q, want %q at %q", ce.Msg, ce.Path, tt.msg, tt.path)
			}
		})
	}
}

func TestEvalRegexpFromReferenceError(t *testing.T) {
	t.Parallel()
	_, err := Eval(leaf(comment, "mregex", region), values{comment: "x", region: "[a"})
	var ce *ConditionError
	if !errors.As(err, &ce) || ce.Path != "right_operand" {
		t.Errorf("Eval with a bad pattern from a reference = %v", err)
	}
}

func TestCheckCondition(t *testing.T) {
	t.Parallel()
	c := node(
		node(leaf("$activity.For Each Security EVENT.input.Source Array[@].canonicalName$", "eq", "x"), "or", leaf(inputName, "like", "x")),
		"or",
		map[string]any{"left_operand": map[string]any{}, "operator": "eq", "right_operand": []any{}},
	)
	want := []Problem{
		{"left_operand.right_operand", `unknown operator "like"`},
		{"right_operand.left_operand", "operand is a condition; only and/or take conditions"},
	}
	if got := CheckCondition(c); !reflect.DeepEqual(got, want) {
		t.Errorf("CheckCondition =\n%q\nwant\n%q", got, want)
	}
	if got := CheckCondition(node(leaf(inputName, "ne", ""), "and", leaf("$output.subject$", "mw", "*Phish*"))); len(got) != 0 {
		t.Errorf("CheckCondition(valid) = %q", got)
	}
	// Malformed references do not stop compilation: they stay text.
	if _, err := CompileCondition(leaf("$activity.01ZHJDJCCOKHE56k4VqOomqL5OG1LxOkoBi.output.status_code$", "eq", "200"), Options{}); err != nil {
		t.Errorf("CompileCondition(malformed reference) = %v", err)
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"N_*", "N_", true},
		{"*errors*", "errors", true},
		{"*errors*", "no error", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*a*a*a*", "aaa", true},
		{"*a*a*a*", "aa", false},
		{"?", "é", true},
		{"é*", "été", true},
		{"a.b", "a.b", true},
		{"a.b", "axb", false},
		{`\*`, `\x`, true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
