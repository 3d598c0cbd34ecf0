package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow/activities"
	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// wfID is the id of the main workflow [build] makes.
const wfID = "definition_workflow_main"

// act is one activity of a test workflow; id is the part after
// definition_activity_.
type act struct {
	id, typ         string
	props           map[string]any
	blocks, actions []act
}

func (a act) object() map[string]any {
	props := a.props
	if props == nil {
		props = map[string]any{}
	}
	m := map[string]any{"unique_name": "definition_activity_" + a.id, "name": a.typ, "title": a.id, "type": a.typ,
		"base_type": "activity", "object_type": "definition_activity", "properties": props}
	if len(a.blocks) > 0 {
		m["blocks"] = objects(a.blocks)
	}
	if len(a.actions) > 0 {
		m["actions"] = objects(a.actions)
	}
	return m
}

func objects(acts []act) []any {
	out := make([]any, len(acts))
	for i, a := range acts {
		out[i] = a.object()
	}
	return out
}

// wvar is one variable; id is the part after variable_workflow_.
type wvar struct {
	id, scope, typ string
	value          any
}

// flow is one workflow definition of a test file.
type flow struct {
	id   string // definition_workflow_…
	vars []wvar
	acts []act
}

func (f flow) object() map[string]any {
	vl := make([]any, len(f.vars))
	for i, v := range f.vars {
		vl[i] = map[string]any{"unique_name": "variable_workflow_" + v.id, "schema_id": v.typ, "object_type": "variable_workflow",
			"properties": map[string]any{"name": v.id, "scope": v.scope, "type": v.typ, "value": v.value}}
	}
	return map[string]any{"unique_name": f.id, "name": f.id, "title": f.id, "base_type": "workflow",
		"object_type": "definition_workflow", "properties": map[string]any{}, "variables": vl, "actions": objects(f.acts)}
}

// build parses a file whose main workflow (wfID) has vars and acts, and
// whose embedded sub-workflows are subs.
func build(t testing.TB, vars []wvar, acts []act, subs ...flow) *export.File {
	t.Helper()
	top := map[string]any{"workflow": flow{wfID, vars, acts}.object()}
	if len(subs) > 0 {
		l := make([]any, len(subs))
		for i, s := range subs {
			l[i] = map[string]any{"workflow": s.object()}
		}
		top["subworkflows"] = l
	}
	b, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	f, err := export.Parse(b)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

// vref references a variable of workflow wf.
func vref(wf, scope, id string) string {
	return fmt.Sprintf("$workflow.%s.%s.variable_workflow_%s$", wf, scope, id)
}

// mref references a variable of the main workflow.
func mref(scope, id string) string { return vref(wfID, scope, id) }

// out references an output field of an activity.
func out(id, path string) string {
	return fmt.Sprintf("$activity.definition_activity_%s.output.%s$", id, path)
}

// set is a Set Variables activity assigning pairs of target, value.
func set(id string, pairs ...any) act {
	var l []any
	for i := 0; i+1 < len(pairs); i += 2 {
		l = append(l, map[string]any{"variable_to_update": pairs[i], "variable_value_new": pairs[i+1]})
	}
	return act{id: id, typ: "core.set_multiple_variables", props: map[string]any{"variables_to_update": l}}
}

// cond is a condition leaf.
func cond(left any, op string, right any) map[string]any {
	return map[string]any{"left_operand": left, "operator": op, "right_operand": right}
}

// while is a While Loop whose body runs while c holds.
func while(id string, c map[string]any, body ...act) act {
	return act{id: id, typ: "logic.while", blocks: []act{{id: id + "_body", typ: "logic.condition_block",
		props: map[string]any{"condition": c}, actions: body}}}
}

// memRecorder keeps every record in memory, as the service's recorder
// queues them.
type memRecorder struct {
	mu      sync.Mutex
	started []*engine.Record
	ended   []*engine.Record
}

func (r *memRecorder) Started(rec *engine.Record) {
	r.mu.Lock()
	r.started = append(r.started, rec)
	r.mu.Unlock()
}

func (r *memRecorder) Ended(rec *engine.Record) error {
	r.mu.Lock()
	r.ended = append(r.ended, rec)
	r.mu.Unlock()
	return nil
}

// of is the last ended record of activity id.
func (r *memRecorder) of(t testing.TB, id string) *engine.Record {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.ended) - 1; i >= 0; i-- {
		if r.ended[i].ActivityID == "definition_activity_"+id {
			return r.ended[i]
		}
	}
	t.Fatalf("activity %s has no record", id)
	return nil
}

// count is how many records of activity id ended.
func (r *memRecorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.ended {
		if rec.ActivityID == "definition_activity_"+id {
			n++
		}
	}
	return n
}

// journal is every ended record by key, as the service loads them for a
// resumed run.
func (r *memRecorder) journal() map[string]*engine.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	j := map[string]*engine.Record{}
	for _, rec := range r.ended {
		j[rec.Key] = rec
	}
	return j
}

// setup changes an engine's configuration and a run before it starts.
type setup func(*engine.Config, *engine.Run)

// newRun is a run of f's main workflow on an engine with every activity
// type (and extra ones), recording into rec.
func newRun(f *export.File, rec engine.Recorder, opts ...setup) (*engine.Engine, *engine.Run) {
	defs := f.Definitions()
	cfg := engine.Config{Types: activities.All()}
	r := &engine.Run{ID: "r1", Workflow: f.Workflow, Recorder: rec, StartedBy: "ada@example.com",
		Library: func(id string) *export.Workflow { return defs[id] }}
	for _, o := range opts {
		o(&cfg, r)
	}
	return engine.New(cfg), r
}

// run executes f's main workflow and returns its result and records.
func run(t testing.TB, f *export.File, opts ...setup) (engine.Result, *memRecorder) {
	t.Helper()
	return runCtx(context.Background(), t, f, opts...)
}

func runCtx(ctx context.Context, t testing.TB, f *export.File, opts ...setup) (engine.Result, *memRecorder) {
	t.Helper()
	rec := &memRecorder{}
	e, r := newRun(f, rec, opts...)
	return e.Execute(ctx, r), rec
}

// limits sets the engine's limits.
func limits(l engine.Limits) setup {
	return func(c *engine.Config, _ *engine.Run) { c.Limits = l }
}
