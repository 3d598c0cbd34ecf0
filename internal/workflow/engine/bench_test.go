package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// loops50k is a workflow whose two nested While Loops run 50,000
// iterations in all, the most one run may: 100 outer iterations, each
// resetting j and running an inner loop of 499 Set Variables (j+1, n+1).
// Its output n is 49,900.
func loops50k(t testing.TB) *export.File {
	vars := []wvar{{"i", "local", "datatype.integer", 0}, {"j", "local", "datatype.integer", 0}, {"n", "output", "datatype.integer", 0}}
	i, j, n := mref("local", "i"), mref("local", "j"), mref("output", "n")
	return build(t, vars, []act{
		while("outer", cond(i, "lt", 100),
			set("reset", j, "0"),
			while("inner", cond(j, "lt", 499),
				set("step", j, j+"+1", n, n+" + 1")),
			set("next", i, i+"+1")),
	})
}

// BenchmarkEngine50k runs the 50,000-iteration workflow with an
// in-memory recorder and reports the time per activity executed.
func BenchmarkEngine50k(b *testing.B) {
	f := loops50k(b)
	e, _ := newRun(f, nil)
	b.ReportAllocs()
	var acts int
	var took time.Duration
	for b.Loop() {
		rec := &memRecorder{started: make([]*engine.Record, 0, 51000), ended: make([]*engine.Record, 0, 51000)}
		r := &engine.Run{ID: "r1", Workflow: f.Workflow, Recorder: rec}
		start := time.Now()
		res := e.Execute(context.Background(), r)
		took += time.Since(start)
		if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_n"] != int64(49_900) {
			b.Fatalf("%s %s %v", res.Status, res.Error, res.Outputs)
		}
		acts += len(rec.ended)
	}
	b.ReportMetric(float64(took.Nanoseconds())/float64(acts), "ns/activity")
	b.ReportMetric(float64(acts)/float64(b.N), "activities/op")
}
