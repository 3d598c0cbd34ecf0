package engine_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
)

// Variables: inputs, coercion to the declared type, the built-in outputs
// and references left as text (FORMAT.md §3.1, §4).

func TestInputs(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"wait", "input", "datatype.integer", 5}, {"name", "input", "datatype.string", ""},
		{"flag", "input", "datatype.boolean", "true"}, {"got", "output", "datatype.string", ""}}
	f := build(t, vars, []act{set("read", mref("output", "got"), mref("input", "wait")+"/"+mref("input", "name")+"/"+mref("input", "flag"))})
	// name is required: the run does not start without it.
	for i := range f.Workflow.Variables {
		if f.Workflow.Variables[i].ID == "variable_workflow_name" {
			f.Workflow.Variables[i].Required = true
		}
	}
	tests := []struct {
		name   string
		inputs map[string]any
		status string
		got    string
	}{
		{"defaults", map[string]any{"variable_workflow_name": "ada"}, engine.RunSucceeded, "5/ada/true"},
		{"given", map[string]any{"variable_workflow_name": "bo", "variable_workflow_wait": "12", "variable_workflow_flag": false}, engine.RunSucceeded, "12/bo/false"},
		{"a Go int", map[string]any{"variable_workflow_name": "cy", "variable_workflow_wait": 7}, engine.RunSucceeded, "7/cy/true"},
		{"by id suffix", map[string]any{"name": "di"}, engine.RunSucceeded, "5/di/true"},
		{"required missing", nil, engine.RunFailed, ""},
		// A blank value given counts as given, as the Run form sends text fields.
		{"required blank", map[string]any{"variable_workflow_name": ""}, engine.RunSucceeded, "5//true"},
		{"not an integer", map[string]any{"variable_workflow_name": "ed", "variable_workflow_wait": "soon"}, engine.RunFailed, ""},
	}
	for _, tc := range tests {
		res, rec := run(t, f, func(_ *engine.Config, r *engine.Run) { r.Inputs = tc.inputs })
		if res.Status != tc.status || res.Status == engine.RunSucceeded && res.Outputs["variable_workflow_got"] != tc.got {
			t.Errorf("%s: %s %q %v, want %s %q", tc.name, res.Status, res.Error, res.Outputs, tc.status, tc.got)
		}
		if tc.status == engine.RunFailed && len(rec.ended) != 0 {
			t.Errorf("%s: %d activities ran", tc.name, len(rec.ended))
		}
	}
	res, _ := run(t, f)
	if res.Error != "definition_workflow_main needs a value for name" {
		t.Errorf("missing input: %q", res.Error)
	}
}

func TestAtomicInputDefaults(t *testing.T) {
	t.Parallel()
	sub := "definition_workflow_sub"
	child := flow{id: sub, vars: []wvar{{"a", "input", "datatype.integer", 40}, {"b", "input", "datatype.integer", 0}, {"sum", "output", "datatype.integer", 0}},
		acts: []act{set("add", vref(sub, "output", "sum"), "("+vref(sub, "input", "a")+"+"+vref(sub, "input", "b")+")")}}
	vars := []wvar{{"two", "local", "datatype.integer", 2}, {"sum", "output", "datatype.integer", 0}}
	f := build(t, vars, []act{
		{id: "call", typ: "workflow.atomic_workflow", props: map[string]any{"workflow_id": sub, "input": map[string]any{"variable_workflow_b": mref("local", "two")}}},
		set("read", mref("output", "sum"), out("call", "variable_workflow_sum")),
	}, child)
	res, _ := run(t, f)
	if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_sum"] != int64(42) {
		t.Errorf("%s %q %v", res.Status, res.Error, res.Outputs)
	}
}

func TestSetVariablesCoercion(t *testing.T) {
	t.Parallel()
	x, a, b := mref("local", "x"), mref("local", "a"), mref("local", "b")
	tests := []struct {
		typ   string
		value any
		want  any
	}{
		{"datatype.integer", x + "+1", int64(11)},
		{"datatype.integer", x + " - 1", int64(9)},
		{"datatype.integer", "(" + a + "+" + b + ")", int64(7)},
		{"datatype.integer", x + "*86400", int64(864000)},
		{"datatype.integer", "-(3600 * " + x + ")", int64(-36000)},
		{"datatype.integer", x, int64(10)},
		{"datatype.integer", "42", int64(42)},
		{"datatype.integer", int64(3), int64(3)},
		{"datatype.integer", nil, int64(0)},
		{"datatype.integer", "", int64(0)},
		{"datatype.boolean", "true", true},
		{"datatype.boolean", "False", false},
		{"datatype.boolean", true, true},
		{"datatype.boolean", nil, false},
		{"datatype.number", "6.5", 6.5},
		{"datatype.table", `[{"id": 1, "name": "` + a + `"}]`, []any{map[string]any{"id": int64(1), "name": "3"}}},
		{"datatype.table", "", []any{}},
		{"datatype.array", `["classroom", 2]`, []any{"classroom", int64(2)}},
		{"datatype.string", x + "/" + a, "10/3"},
		{"datatype.string", x + " - 1", "10 - 1"},
		{"datatype.string", true, "true"},
		{"datatype.string", int64(5), "5"},
	}
	for _, tc := range tests {
		vars := []wvar{{"x", "local", "datatype.integer", 10}, {"a", "local", "datatype.integer", 3}, {"b", "local", "datatype.integer", 4},
			{"v", "output", tc.typ, nil}}
		res, _ := run(t, build(t, vars, []act{set("s", mref("output", "v"), tc.value)}))
		if got := res.Outputs["variable_workflow_v"]; res.Status != engine.RunSucceeded || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s = %#v: %s %q, got %#v, want %#v", tc.typ, tc.value, res.Status, res.Error, got, tc.want)
		}
	}
	for _, tc := range []struct {
		typ   string
		value any
		fails string
	}{
		{"datatype.integer", x + "+one", "is not an integer expression"},
		{"datatype.boolean", "maybe", `"maybe" is not true or false`},
		{"datatype.table", "{not json", "not a JSON array"},
	} {
		vars := []wvar{{"x", "local", "datatype.integer", 10}, {"v", "output", tc.typ, nil}}
		res, _ := run(t, build(t, vars, []act{set("s", mref("output", "v"), tc.value)}))
		if res.Status != engine.RunFailed || !strings.Contains(res.Error, tc.fails) {
			t.Errorf("%s = %#v: %s %q, want failure %q", tc.typ, tc.value, res.Status, res.Error, tc.fails)
		}
	}
	// A static variable cannot be changed.
	vars := []wvar{{"k", "static", "datatype.string", "fixed"}}
	if res, _ := run(t, build(t, vars, []act{set("s", mref("static", "k"), "new")})); res.Status != engine.RunFailed || !strings.Contains(res.Error, "static") {
		t.Errorf("static: %s %q", res.Status, res.Error)
	}
}

func TestBuiltins(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	bi := func(wf, name string) string { return "$workflow." + wf + ".output." + name + "$" }
	sub := "definition_workflow_sub"
	child := flow{id: sub, vars: []wvar{{"id", "output", "datatype.string", ""}},
		acts: []act{set("own", vref(sub, "output", "id"), bi(sub, "instance_id"))}}
	vars := []wvar{{"id", "output", "datatype.string", ""}, {"start", "output", "datatype.string", ""}, {"by", "output", "datatype.string", ""},
		{"sub", "output", "datatype.string", ""}, {"code", "output", "datatype.string", ""}}
	f := build(t, vars, []act{
		set("read", mref("output", "id"), bi(wfID, "instance_id"), mref("output", "start"), bi(wfID, "start_time"), mref("output", "by"), bi(wfID, "started_by")),
		{id: "call", typ: "workflow.sub_workflow", props: map[string]any{"workflow_id": sub}},
		set("results", bi(wfID, "workflow_results"), "all done by "+bi(wfID, "started_by"), bi(wfID, "workflow_results_code"), "completed-successfully"),
		set("back", mref("output", "sub"), out("call", "variable_workflow_id"), mref("output", "code"), bi(wfID, "workflow_results_code")),
	}, child)
	res, _ := run(t, f, func(_ *engine.Config, r *engine.Run) { r.ID, r.StartTime = "run-7", start })
	o := res.Outputs
	if res.Status != engine.RunSucceeded || o["variable_workflow_id"] != "run-7" || o["variable_workflow_start"] != "2025-03-01T08:30:00Z" ||
		o["variable_workflow_by"] != "ada@example.com" || o["variable_workflow_sub"] != "run-7//definition_activity_call#1" || o["variable_workflow_code"] != "completed-successfully" {
		t.Errorf("%s %q %v", res.Status, res.Error, o)
	}
	if res.Message != "all done by ada@example.com" {
		t.Errorf("message %q, want workflow_results", res.Message)
	}
}

func TestMalformedReferencesStayText(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"$activity.For Each Security EVENT.input.Source Array[@].canonicalName$",
		"status $activity.01ZHJDJCCOKHE56k4VqOomqL5OG1LxOkoBi.output.status_code$!",
		"$.data[0] and ?$select=id and ${param}",
		"$workflow.definition_workflow_main.local.nothing_here$",
	} {
		vars := []wvar{{"v", "output", "datatype.string", ""}}
		res, _ := run(t, build(t, vars, []act{set("s", mref("output", "v"), s)}))
		if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_v"] != s {
			t.Errorf("%q: %s %q, got %q", s, res.Status, res.Error, res.Outputs["variable_workflow_v"])
		}
	}
	// A reference to an activity that has not run is empty.
	vars := []wvar{{"v", "output", "datatype.string", "x"}}
	res, _ := run(t, build(t, vars, []act{set("s", mref("output", "v"), "["+out("never", "response_body")+"]")}))
	if res.Outputs["variable_workflow_v"] != "[]" {
		t.Errorf("not run: %q", res.Outputs["variable_workflow_v"])
	}
}
