package export_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow/export"
)

const file = `{
  "workflow": {"unique_name": "definition_workflow_main", "name": "Main", "properties": {"atomic": {"is_atomic": "true"}, "target": {"no_target": true}},
    "variables": [
      {"schema_id": "datatype.integer", "unique_name": "variable_workflow_n", "properties": {"scope": "input", "name": "N", "type": "datatype.integer", "value": 3, "is_required": true}},
      {"schema_id": "datatype.secure_string", "unique_name": "variable_workflow_pw", "properties": {"scope": "input", "name": "PW", "type": "datatype.secure_string", "value": "s3cret-value"}}],
    "actions": [
      {"unique_name": "definition_activity_g", "type": "logic.group", "properties": {"skip_execution": true, "action_timeout": "30"}, "actions": [
        {"unique_name": "definition_activity_call", "type": "workflow.sub_workflow", "properties": {"workflow_id": "definition_workflow_sub", "input": {}}}]}]},
  "subworkflows": [
    {"workflow": {"unique_name": "definition_workflow_sub", "name": "Sub", "actions": [
       {"unique_name": "definition_activity_back", "type": "workflow.sub_workflow", "properties": {"workflow_id": "definition_workflow_main"}}]},
     "subworkflows": [{"workflow": {"unique_name": "definition_workflow_sub", "name": "Sub again", "actions": []}}]}],
  "atomic_workflows": ["definition_workflow_not_trusted"],
  "categories": {"category_x": {"name": "X"}}
}`

func TestParse(t *testing.T) {
	f, err := export.Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	w := f.Workflow
	if w.ID != "definition_workflow_main" || !w.Atomic || len(w.Variables) != 2 || len(f.Subworkflows) != 1 || f.Subworkflows[0].Name != "Sub" {
		t.Fatalf("parsed %+v, %d subworkflows", w, len(f.Subworkflows))
	}
	if n := w.Variable("variable_workflow_n"); n == nil || n.Value != int64(3) || !n.Required {
		t.Errorf("integer variable: %+v", n)
	}
	g := w.Actions[0]
	if !g.SkipExecution || g.Timeout.Seconds() != 30 || len(g.Actions) != 1 || g.Actions[0].Path != "workflow.actions[0].actions[0]" {
		t.Errorf("group: %+v", g)
	}
	if calls := w.Calls(); len(calls) != 1 || calls[0].WorkflowID != "definition_workflow_sub" || !calls[0].Sub {
		t.Errorf("calls %+v", calls)
	}
}

func TestCheckFindsCyclesAndUnsupported(t *testing.T) {
	f, _ := export.Parse([]byte(file))
	r := export.Check(f, export.Env{Supported: func(typ string) bool { return typ != "logic.group" }})
	if r.Runnable() {
		t.Fatal("a cycle and an unsupported type, yet runnable")
	}
	if len(r.Unsupported) != 1 || r.Unsupported[0].Type != "logic.group" || r.Unsupported[0].Path != "workflow.actions[0]" {
		t.Errorf("unsupported %+v", r.Unsupported)
	}
	cycle := false
	for _, b := range r.Broken {
		cycle = cycle || strings.Contains(b.Message, "cycle")
	}
	if !cycle {
		t.Errorf("broken %+v: want the main -> sub -> main cycle", r.Broken)
	}
}

func TestTakeSecretsAndRoundTrip(t *testing.T) {
	f, _ := export.Parse([]byte(file))
	secrets := f.TakeSecrets()
	if len(secrets) != 1 || secrets[0].Value != "s3cret-value" || secrets[0].VariableID != "variable_workflow_pw" {
		t.Fatalf("secrets %+v", secrets)
	}
	out, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cret-value") || !strings.Contains(string(out), export.Mask) {
		t.Error("the written file holds the secret or lacks the mask")
	}
	back, err := export.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.Marshal()
	if string(again) != string(out) {
		t.Error("writing a parsed written file changes it")
	}
	// Dependencies are computed, not copied from the file's own list.
	if strings.Contains(string(out), "definition_workflow_not_trusted") {
		t.Error("the file's atomic_workflows list was trusted")
	}
}

func TestParseRefusesWithPaths(t *testing.T) {
	_, err := export.Parse([]byte(`{"workflow": {"unique_name": "definition_workflow_x", "variables": {}, "actions": [{"type": "logic.group"}]}, "targets": []}`))
	var nx *export.NotExportError
	if !errors.As(err, &nx) {
		t.Fatalf("err %v", err)
	}
	var paths []string
	for _, p := range nx.Problems {
		paths = append(paths, p.Path)
	}
	for _, want := range []string{"workflow.variables", "workflow.actions[0].unique_name", "$.targets"} {
		if !slices.Contains(paths, want) {
			t.Errorf("problems at %v, want %s", paths, want)
		}
	}
}
