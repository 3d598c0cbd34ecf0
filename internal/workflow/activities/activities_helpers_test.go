package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow/activities"
	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// testWF is the id of the workflow [exportJSON] builds; references to its
// variables read $workflow.definition_workflow_test.<scope>.<id>$.
const testWF = "definition_workflow_test"

// exportJSON is a one-workflow export holding vars (see [variable]) and
// the activities acts (see [activity]), in order.
func exportJSON(vars []string, acts ...string) string {
	return fmt.Sprintf(`{"workflow": {"unique_name": %q, "name": "Test", "title": "Test", "type": "generic.workflow",
		"base_type": "workflow", "object_type": "definition_workflow", "properties": {},
		"variables": [%s], "actions": [%s]}}`, testWF, strings.Join(vars, ","), strings.Join(acts, ","))
}

// activity is one activity object: id is the part after
// definition_activity_, props the text of its properties object.
func activity(id, typ, props string) string {
	return fmt.Sprintf(`{"unique_name": "definition_activity_%s", "name": %q, "title": %q, "type": %q,
		"base_type": "activity", "object_type": "definition_activity", "properties": %s}`, id, typ, id, typ, props)
}

// variable is one workflow variable: id is the part after
// variable_workflow_, typ e.g. datatype.string, value any JSON value.
func variable(id, scope, typ string, value any) string {
	v, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`{"unique_name": "variable_workflow_%s", "schema_id": %q, "object_type": "variable_workflow",
		"properties": {"name": %q, "scope": %q, "type": %q, "value": %s}}`, id, typ, id, scope, typ, v)
}

// ref is the reference to a variable of [exportJSON]'s workflow.
func ref(scope, id string) string {
	return fmt.Sprintf("$workflow.%s.%s.variable_workflow_%s$", testWF, scope, id)
}

// actRef is the reference to an output field of an activity.
func actRef(id, path string) string {
	return fmt.Sprintf("$activity.definition_activity_%s.output.%s$", id, path)
}

// records collects the records of a run as they end.
type records struct {
	mu   sync.Mutex
	list []*engine.Record
}

func (r *records) Started(*engine.Record) {}

func (r *records) Ended(rec *engine.Record) error {
	r.mu.Lock()
	r.list = append(r.list, rec)
	r.mu.Unlock()
	return nil
}

// ended are the records in the order the activities ended.
func (r *records) ended() []*engine.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*engine.Record(nil), r.list...)
}

// of is the last record of an activity (the id after definition_activity_).
func (r *records) of(t testing.TB, id string) *engine.Record {
	t.Helper()
	list := r.ended()
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].ActivityID == "definition_activity_"+id {
			return list[i]
		}
	}
	t.Fatalf("activity %s has no record", id)
	return nil
}

// runExport parses the export src and runs its workflow with inputs (by
// variable id) on an engine with every activity type; cfg may change the
// run (its Workflow, Recorder and Library are set here when nil).
func runExport(t testing.TB, src string, inputs map[string]any, cfg ...func(*engine.Config, *engine.Run)) (engine.Result, *records) {
	t.Helper()
	f, err := export.Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	rec := &records{}
	c := engine.Config{Types: activities.All()}
	r := &engine.Run{ID: "r1", Workflow: f.Workflow, Inputs: inputs, Recorder: rec, Library: func(id string) *export.Workflow {
		for _, w := range f.Subworkflows {
			if w.ID == id {
				return w
			}
		}
		return nil
	}}
	for _, fn := range cfg {
		fn(&c, r)
	}
	res := engine.New(c).Execute(context.Background(), r)
	return res, rec
}

// runActivity runs one activity of type typ with props (the properties
// object's text) in a workflow with vars, and returns its record.
func runActivity(t testing.TB, typ, props string, vars ...string) *engine.Record {
	t.Helper()
	_, rec := runExport(t, exportJSON(vars, activity("a", typ, props)), nil)
	return rec.of(t, "a")
}

// failed reports the record's failure message ("" when it succeeded).
func failed(r *engine.Record) string {
	if r.Status == engine.StatusFailed {
		return r.Error
	}
	return ""
}

// jsonText is v as JSON, for property texts in tests.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
