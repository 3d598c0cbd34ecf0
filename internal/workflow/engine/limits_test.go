package engine_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// The platform's limits end a run workflow_timeout (FORMAT.md §2.6).

// counted is a workflow of one While Loop of Set Variables (n+1) that
// runs times iterations, or a For Each over as many elements when each.
func counted(t testing.TB, times int, each bool) engine.Result {
	vars := []wvar{{"n", "output", "datatype.integer", 0}}
	n := mref("output", "n")
	loop := while("loop", cond(n, "lt", times), set("step", n, n+"+1"))
	if each {
		items := make([]any, times)
		for i := range items {
			items[i] = i
		}
		loop = act{id: "loop", typ: "logic.for_each", props: map[string]any{"source_array": items}, actions: []act{set("step", n, n+"+1")}}
	}
	res, _ := run(t, build(t, vars, []act{loop}))
	return res
}

func TestLoopLimit(t *testing.T) {
	t.Parallel()
	for _, each := range []bool{false, true} {
		t.Run(fmt.Sprintf("for each %t", each), func(t *testing.T) {
			t.Parallel()
			if res := counted(t, 500, each); res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_n"] != int64(500) {
				t.Errorf("500 iterations: %s %q %v", res.Status, res.Error, res.Outputs)
			}
			res := counted(t, 501, each)
			if res.Status != engine.RunTimeout || !strings.Contains(res.Error, "more than 500 iterations") || res.Outputs["variable_workflow_n"] != int64(500) {
				t.Errorf("501 iterations: %s %q %v", res.Status, res.Error, res.Outputs)
			}
		})
	}
}

// nested is an outer While Loop of outer iterations, each running an
// inner one of inner iterations (outer + outer*inner in all).
func nested(t testing.TB, outer, inner int) *export.File {
	vars := []wvar{{"i", "local", "datatype.integer", 0}, {"j", "local", "datatype.integer", 0}, {"n", "output", "datatype.integer", 0}}
	i, j, n := mref("local", "i"), mref("local", "j"), mref("output", "n")
	return build(t, vars, []act{
		while("outer", cond(i, "lt", outer),
			set("reset", j, 0),
			while("inner", cond(j, "lt", inner), set("step", j, j+"+1", n, n+"+1")),
			set("next", i, i+"+1")),
	})
}

func TestRunIterationLimit(t *testing.T) {
	t.Parallel()
	small := limits(engine.Limits{LoopIterations: 10, RunIterations: 50})
	tests := []struct {
		name         string
		outer, inner int
		status       string
	}{
		{"at the limit", 5, 9, engine.RunSucceeded},    // 5 + 45
		{"one over", 5, 10, engine.RunTimeout},         // 5 + 50
		{"loop limit first", 2, 11, engine.RunTimeout}, // 11 > 10 per loop
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, _ := run(t, nested(t, tc.outer, tc.inner), small)
			if res.Status != tc.status {
				t.Errorf("%s %q, want %s", res.Status, res.Error, tc.status)
			}
		})
	}
	res, _ := run(t, nested(t, 5, 10), small)
	if !strings.Contains(res.Error, "more than 50 iterations in all") || res.Outputs["variable_workflow_n"] != int64(45) {
		t.Errorf("%q, n %v", res.Error, res.Outputs["variable_workflow_n"])
	}
}

// The real limits: 50,000 iterations run; one more ends the run.
func TestRunIterationLimitReal(t *testing.T) {
	t.Parallel()
	if raceEnabled || testing.Short() {
		t.Skip("100,000 activities are slow under the race detector")
	}
	start := time.Now()
	res, _ := run(t, loops50k(t))
	if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_n"] != int64(49_900) {
		t.Errorf("50,000 iterations: %s %q %v", res.Status, res.Error, res.Outputs)
	}
	res, _ = run(t, nested(t, 101, 499))
	if res.Status != engine.RunTimeout || !strings.Contains(res.Error, "more than 50000 iterations in all") {
		t.Errorf("50,001 iterations: %s %q", res.Status, res.Error)
	}
	t.Logf("two runs of 50,000 iterations took %s", time.Since(start))
}

func TestRunTimeLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	target := func(_ *engine.Config, r *engine.Run) { r.Target = &engine.Target{BaseURL: srv.URL} }
	f := build(t, nil, []act{while("forever", cond("a", "eq", "a"),
		act{id: "slow", typ: "web-service.http_request", props: map[string]any{"method": "GET", "relative_url": "/"}})})
	start := time.Now()
	res, rec := run(t, f, target, func(_ *engine.Config, r *engine.Run) { r.Budget = 400 * time.Millisecond })
	if took := time.Since(start); res.Status != engine.RunTimeout || res.Error != "the run took longer than the workflow time limit" ||
		took < 400*time.Millisecond || took > 2*time.Second {
		t.Errorf("%s %q after %s, want workflow_timeout after 400ms", res.Status, res.Error, took)
	}
	if r := rec.of(t, "slow"); r.Status != engine.StatusCancelled {
		t.Errorf("the request ended %s", r.Status)
	}
	// The limit applies when the run has no budget of its own.
	res, _ = run(t, f, target, limits(engine.Limits{RunTime: 300 * time.Millisecond}))
	if res.Status != engine.RunTimeout {
		t.Errorf("%s %q, want workflow_timeout", res.Status, res.Error)
	}
}

func TestVariableSizeLimit(t *testing.T) {
	t.Parallel()
	vars := []wvar{{"big", "input", "datatype.string", ""}, {"copy", "output", "datatype.string", ""}, {"code", "output", "datatype.string", ""}}
	copyBig := set("copy", mref("output", "copy"), mref("input", "big"))
	tests := []struct {
		size   int
		status string
	}{{1 << 20, engine.RunSucceeded}, {1<<20 + 1, engine.RunFailed}}
	for _, tc := range tests {
		res, _ := run(t, build(t, vars, []act{copyBig}), func(_ *engine.Config, r *engine.Run) {
			r.Inputs = map[string]any{"variable_workflow_big": strings.Repeat("x", tc.size)}
		})
		if res.Status != tc.status {
			t.Errorf("%d bytes: %s %q, want %s", tc.size, res.Status, res.Error, tc.status)
		}
		if tc.status == engine.RunFailed && !strings.Contains(res.Error, "a variable holds at most 1048576") {
			t.Errorf("%d bytes: %q", tc.size, res.Error)
		}
	}
	// The failure's code, and a table counted as its JSON text.
	c := copyBig
	c.props["continue_on_failure"] = true
	f := build(t, append(vars, wvar{"rows", "local", "datatype.table", nil}), []act{c,
		set("code", mref("output", "code"), out("copy", "error.code")),
		set("table", mref("local", "rows"), `[{"a": "`+mref("input", "big")+`"}]`)})
	res, _ := run(t, f, limits(engine.Limits{VariableSize: 20}), func(_ *engine.Config, r *engine.Run) {
		r.Inputs = map[string]any{"variable_workflow_big": strings.Repeat("y", 21)}
	})
	if res.Status != engine.RunFailed || !strings.HasPrefix(res.Error, "table: ") || res.Outputs["variable_workflow_code"] != "variable_size" {
		t.Errorf("%s %q %v", res.Status, res.Error, res.Outputs)
	}
}
