package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow/activities"
	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// Helpers of the tests of the I/O activities (requests, scripts, sleeps,
// prompts). Their names start with io, apart from those of the data
// activity tests.

// ioWF is the id of the workflow [ioExport] builds.
const ioWF = "definition_workflow_io"

// ioVar is one variable of an [ioExport] workflow; id is the part after
// variable_workflow_.
type ioVar struct {
	id, scope, typ string
	value          any
}

// ioAct is one activity; id is the part after definition_activity_.
type ioAct struct {
	id, typ string
	props   map[string]any
}

// ioExport is a parsed one-workflow export with vars and acts in order.
func ioExport(t testing.TB, vars []ioVar, acts ...ioAct) *export.Workflow {
	t.Helper()
	vl := make([]any, len(vars))
	for i, v := range vars {
		vl[i] = map[string]any{"unique_name": "variable_workflow_" + v.id, "schema_id": v.typ, "object_type": "variable_workflow",
			"properties": map[string]any{"name": v.id, "scope": v.scope, "type": v.typ, "value": v.value}}
	}
	al := make([]any, len(acts))
	for i, a := range acts {
		al[i] = map[string]any{"unique_name": "definition_activity_" + a.id, "name": a.typ, "title": a.id, "type": a.typ,
			"base_type": "activity", "object_type": "definition_activity", "properties": a.props}
	}
	b, err := json.Marshal(map[string]any{"workflow": map[string]any{"unique_name": ioWF, "name": "IO", "title": "IO",
		"base_type": "workflow", "object_type": "definition_workflow", "properties": map[string]any{},
		"variables": vl, "actions": al}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := export.Parse(b)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f.Workflow
}

// ioRef references a variable of the [ioExport] workflow.
func ioRef(scope, id string) string {
	return fmt.Sprintf("$workflow.%s.%s.variable_workflow_%s$", ioWF, scope, id)
}

// ioRun runs wf on an engine with every activity type and target t; the
// functions may change the configuration and the run first.
func ioRun(t testing.TB, wf *export.Workflow, target *engine.Target, opts ...func(*engine.Config, *engine.Run)) (engine.Result, *records) {
	t.Helper()
	return ioRunCtx(context.Background(), t, wf, target, opts...)
}

func ioRunCtx(ctx context.Context, t testing.TB, wf *export.Workflow, target *engine.Target, opts ...func(*engine.Config, *engine.Run)) (engine.Result, *records) {
	t.Helper()
	rec := &records{}
	cfg := engine.Config{Types: activities.All()}
	r := &engine.Run{ID: "r1", Workflow: wf, Target: target, Recorder: rec, StartedBy: "ada@example.com"}
	for _, o := range opts {
		o(&cfg, r)
	}
	return engine.New(cfg).Execute(ctx, r), rec
}

// ioOne runs a workflow of the one activity typ with props (and vars) and
// returns its record.
func ioOne(t testing.TB, target *engine.Target, typ string, props map[string]any, vars ...ioVar) *engine.Record {
	t.Helper()
	_, rec := ioRun(t, ioExport(t, vars, ioAct{"a", typ, props}), target)
	return rec.of(t, "a")
}
