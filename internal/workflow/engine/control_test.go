package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
)

// Control flow: loops with break and continue, Completed, if/else,
// parallel branches and workflow calls (FORMAT.md §3, §10.6).

// ifThen is an if/else of one branch that runs acts when c holds.
func ifThen(id string, c map[string]any, acts ...act) act {
	return act{id: id, typ: "logic.if_else", blocks: []act{{id: id + "_then", typ: "logic.condition_block", props: map[string]any{"condition": c}, actions: acts}}}
}

func forEach(id string, src any, acts ...act) act {
	return act{id: id, typ: "logic.for_each", props: map[string]any{"source_array": src}, actions: acts}
}

func item(loop string) string {
	return "$activity.definition_activity_" + loop + ".input.source_array[@]$"
}

func TestBreakAndContinue(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"n", "output", "datatype.integer", 0}, {"outer", "output", "datatype.integer", 0}, {"j", "local", "datatype.integer", 0}}
	n, outer, j := mref("output", "n"), mref("output", "outer"), mref("local", "j")
	ctl := func(typ string) act { return act{id: "ctl", typ: typ} }
	// Each inner loop counts n for its items other than "b" and those
	// after it (break), or other than "b" (continue); the outer loop
	// always runs its three iterations.
	eachLoops := func(typ string) []act {
		return []act{forEach("o", []any{1, 2, 3},
			forEach("in", []any{"a", "b", "c"},
				ifThen("isB", cond(item("in"), "eq", "b"), ctl(typ)),
				set("count", n, n+"+1")),
			set("after", outer, outer+"+1"))}
	}
	whileLoops := func(typ string) []act {
		return []act{forEach("o", []any{1, 2, 3},
			set("reset", j, 0),
			while("in", cond(j, "lt", 5),
				set("step", j, j+"+1"),
				ifThen("is3", cond(j, "eq", 3), ctl(typ)),
				set("count", n, n+"+1")),
			set("after", outer, outer+"+1"))}
	}
	tests := []struct {
		name string
		acts []act
		n    int64
	}{
		{"for each break", eachLoops("logic.break"), 3},
		{"for each continue", eachLoops("logic.continue"), 6},
		{"while break", whileLoops("logic.break"), 6},
		{"while continue", whileLoops("logic.continue"), 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, rec := run(t, build(t, vars, tc.acts))
			if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_n"] != tc.n || res.Outputs["variable_workflow_outer"] != int64(3) {
				t.Errorf("%s %q %v, want n %d and 3 outer iterations", res.Status, res.Error, res.Outputs, tc.n)
			}
			if r := rec.of(t, "ctl"); r.Status != engine.StatusSucceeded || r.Output["succeeded"] != true {
				t.Errorf("%s record %s %v", tc.name, r.Status, r.Output)
			}
		})
	}
}

func TestCompletedInLoopEndsTheInstance(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"n", "output", "datatype.integer", 0}, {"after", "output", "datatype.boolean", false}}
	n := mref("output", "n")
	done := act{id: "done", typ: "logic.completed", props: map[string]any{"completion_type": "succeeded", "result_message": "stopped at $activity.definition_activity_loop.input.source_array[@]$"}}
	f := build(t, vars, []act{
		forEach("loop", []any{"a", "b", "c", "d"}, set("count", n, n+"+1"), ifThen("two", cond(n, "eq", 2), done)),
		set("after", mref("output", "after"), true),
	})
	res, _ := run(t, f)
	if res.Status != engine.RunSucceeded || res.Message != "stopped at b" || res.Outputs["variable_workflow_n"] != int64(2) || res.Outputs["variable_workflow_after"] != false {
		t.Errorf("%s %q %q %v", res.Status, res.Error, res.Message, res.Outputs)
	}
	done.props["completion_type"] = "failed-completed"
	res, _ = run(t, build(t, vars, []act{forEach("loop", []any{"a", "b", "c"}, done)}))
	if res.Status != engine.RunFailed || res.Error != "stopped at a" {
		t.Errorf("failed-completed: %s %q", res.Status, res.Error)
	}
}

const atomicID = "definition_workflow_atomic"

// atomicFlow sets its output r to 1, completes as typ, and would then set
// it to 2.
func atomicFlow(typ string) flow {
	r := vref(atomicID, "output", "r")
	return flow{id: atomicID, vars: []wvar{{"r", "output", "datatype.integer", 0}}, acts: []act{
		set("one", r, 1),
		{id: "end", typ: "logic.completed", props: map[string]any{"completion_type": typ, "result_message": "atomic says " + typ}},
		set("two", r, 2),
	}}
}

func TestCompletedInAtomic(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"got", "output", "datatype.integer", 0}, {"ok", "output", "datatype.string", ""}, {"after", "output", "datatype.boolean", false}}
	call := func(cof bool) act {
		return act{id: "call", typ: "workflow.atomic_workflow", props: map[string]any{"workflow_id": atomicID, "continue_on_failure": cof}}
	}
	read := set("read", mref("output", "got"), out("call", "variable_workflow_r"), mref("output", "ok"), out("call", "succeeded"), mref("output", "after"), true)

	res, _ := run(t, build(t, vars, []act{call(false), read}, atomicFlow("succeeded")))
	if res.Status != engine.RunSucceeded || res.Message != "" || res.Outputs["variable_workflow_got"] != int64(1) || res.Outputs["variable_workflow_after"] != true {
		t.Errorf("succeeded: %s %q %q %v", res.Status, res.Error, res.Message, res.Outputs)
	}

	res, rec := run(t, build(t, vars, []act{call(false), read}, atomicFlow("failed-completed")))
	if res.Status != engine.RunFailed || !strings.Contains(res.Error, "atomic says failed-completed") || rec.count("read") != 0 {
		t.Errorf("failed-completed: %s %q", res.Status, res.Error)
	}
	if r := rec.of(t, "call"); r.Status != engine.StatusFailed || r.Output["variable_workflow_r"] != int64(1) {
		t.Errorf("call record %s %v", r.Status, r.Output)
	}

	res, rec = run(t, build(t, vars, []act{call(true), read}, atomicFlow("failed-completed")))
	if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_ok"] != "false" || res.Outputs["variable_workflow_after"] != true {
		t.Errorf("continue_on_failure: %s %q %v", res.Status, res.Error, res.Outputs)
	}
	if e, _ := rec.of(t, "call").Output["error"].(map[string]any); e["code"] != "failed-completed" || e["message"] != "atomic says failed-completed" {
		t.Errorf("call error %v", e)
	}
}

func TestIfElse(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"x", "input", "datatype.integer", 0}, {"took", "output", "datatype.string", "none"}}
	x, took := mref("input", "x"), mref("output", "took")
	branch := func(id string, c map[string]any) act {
		return act{id: id, typ: "logic.condition_block", props: map[string]any{"condition": c}, actions: []act{set(id+"_set", took, id)}}
	}
	f := build(t, vars, []act{{id: "if", typ: "logic.if_else", props: map[string]any{"conditions": []any{}}, blocks: []act{
		branch("small", cond(x, "lt", 10)),
		branch("medium", cond(x, "lt", 100)),
		branch("also", cond(x, "gt", 5)),
	}}})
	for x, want := range map[int]string{3: "small", 7: "small", 50: "medium", 500: "also", -1: "small"} {
		res, rec := run(t, f, func(_ *engine.Config, r *engine.Run) { r.Inputs = map[string]any{"variable_workflow_x": x} })
		if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_took"] != want {
			t.Errorf("x %d: %s %q %v, want %s", x, res.Status, res.Error, res.Outputs, want)
		}
		if n := rec.count("small") + rec.count("medium") + rec.count("also"); n != 1 {
			t.Errorf("x %d: %d branches ran", x, n)
		}
	}
	// No branch holds: nothing runs, there is no else.
	g := build(t, vars, []act{{id: "if", typ: "logic.if_else", blocks: []act{branch("big", cond(x, "gt", 1000))}}})
	res, rec := run(t, g, func(_ *engine.Config, r *engine.Run) { r.Inputs = map[string]any{"variable_workflow_x": 1} })
	if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_took"] != "none" || rec.count("big") != 0 || rec.of(t, "if").Status != engine.StatusSucceeded {
		t.Errorf("no branch: %s %q %v", res.Status, res.Error, res.Outputs)
	}
	// A condition that cannot be evaluated fails the if/else.
	h := build(t, vars, []act{{id: "if", typ: "logic.if_else", blocks: []act{branch("bad", cond(x, "sounds like", 1))}}})
	if res, _ := run(t, h); res.Status != engine.RunFailed || !strings.Contains(res.Error, `branch "bad"`) {
		t.Errorf("bad condition: %s %q", res.Status, res.Error)
	}
}

func TestParallel(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"v", "output", "datatype.string", ""}, {"a", "output", "datatype.string", ""}, {"b", "output", "datatype.string", ""}}
	v := mref("output", "v")
	nap := func(id string) act {
		return act{id: id, typ: "core.sleep", props: map[string]any{"sleep_interval": 0.3}}
	}
	branch := func(id string) act {
		return act{id: id, typ: "logic.parallel_block", actions: []act{nap(id + "_nap"), set(id+"_set", v, id, mref("output", id), "done")}}
	}
	f := build(t, vars, []act{{id: "par", typ: "logic.parallel", blocks: []act{branch("a"), branch("b")}}})
	for range 3 {
		start := time.Now()
		res, _ := run(t, f)
		took := time.Since(start)
		o := res.Outputs
		if res.Status != engine.RunSucceeded || o["variable_workflow_a"] != "done" || o["variable_workflow_b"] != "done" ||
			(o["variable_workflow_v"] != "a" && o["variable_workflow_v"] != "b") {
			t.Errorf("%s %q %v", res.Status, res.Error, o)
		}
		if took < 300*time.Millisecond || took > 550*time.Millisecond {
			t.Errorf("two branches of 300ms took %s together", took)
		}
	}
	// A failing branch fails the parallel, after both ended.
	g := build(t, append(vars, wvar{"i", "local", "datatype.integer", 0}), []act{{id: "par", typ: "logic.parallel", blocks: []act{
		branch("a"), {id: "b", typ: "logic.parallel_block", actions: []act{failing("bad")}}}}})
	res, _ := run(t, g)
	if res.Status != engine.RunFailed || !strings.HasPrefix(res.Error, "bad: ") || res.Outputs["variable_workflow_a"] != "done" {
		t.Errorf("failing branch: %s %q %v", res.Status, res.Error, res.Outputs)
	}
}

func TestCallCycle(t *testing.T) {
	t.Parallel()
	call := func(id, to string) act {
		return act{id: id, typ: "workflow.sub_workflow", props: map[string]any{"workflow_id": to}}
	}
	a := flow{id: "definition_workflow_a", acts: []act{call("toB", "definition_workflow_b")}}
	b := flow{id: "definition_workflow_b", acts: []act{call("toA", "definition_workflow_a")}}
	res, rec := run(t, build(t, nil, []act{call("start", "definition_workflow_a")}, a, b))
	if res.Status != engine.RunFailed || !strings.Contains(res.Error, "nested more than 32 deep") {
		t.Errorf("%s %q", res.Status, res.Error)
	}
	if n := rec.count("toA") + rec.count("toB"); n < 30 || n > 40 {
		t.Errorf("%d calls before the guard", n)
	}
	// A call of a workflow found nowhere fails naming it.
	res, _ = run(t, build(t, nil, []act{call("start", "definition_workflow_nowhere")}))
	if res.Status != engine.RunFailed || !strings.Contains(res.Error, "definition_workflow_nowhere") {
		t.Errorf("missing: %s %q", res.Status, res.Error)
	}
}
