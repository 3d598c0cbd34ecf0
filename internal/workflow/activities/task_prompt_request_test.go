package activities_test

import (
	"slices"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
)

// The prompt of Cisco's "JSON Placeholder Web Service User Prompt": the
// run waits with the prompt; the answer, recorded as the activity's
// output by the service, is what a resumed run reads.
// ioStartedBy is the built-in who-started-the-run output of the workflow.
const ioStartedBy = "$workflow." + ioWF + ".output.started_by$"

func TestPromptRequest(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	vars := []ioVar{
		{"users", "local", "datatype.array", []any{"Bret", "Antonette", "Samantha"}},
		{"rows", "local", "datatype.table", []any{map[string]any{"id": 1, "name": "MX 18.1"}, map[string]any{"id": 2, "name": "MX 18.2"}}},
		{"choice", "output", "datatype.string", ""},
	}
	wf := ioExport(t, vars,
		ioAct{"ask", "task.prompt_request", map[string]any{
			"prompt_title": "Please Select a User From the list", "prompt_body": "Found users for " + ioStartedBy,
			"assignees": []any{ioStartedBy}, "assignee_roles": []any{"admin"},
			"expiration_date":          map[string]any{"is_relative_time": true, "relative_time": map[string]any{"duration": 72, "time_units": "hours"}},
			"wait_for_prompt_response": true,
			"form_elements": []any{
				map[string]any{"allow_multiselect": false, "form_element": "select", "form_label": "Usernames", "form_option_label_key": "", "form_source_array": ioRef("local", "users")},
				map[string]any{"allow_multiselect": true, "form_element": "select", "form_label": "Version", "form_option_label_key": "name", "form_source_array": ioRef("local", "rows")},
				map[string]any{"form_element": "select", "form_label": "Size", "form_source_array": `["S", "M"]`},
			}}},
		ioAct{"copy", "core.set_multiple_variables", map[string]any{"variables_to_update": []any{
			map[string]any{"variable_to_update": ioRef("output", "choice"), "variable_value_new": actRef("ask", "prompt_response.Usernames")}}}})
	clock := func(c *engine.Config, _ *engine.Run) { c.Now = func() time.Time { return now } }

	res, rec := ioRun(t, wf, nil, clock)
	if res.Status != engine.RunWaiting || res.Prompt == nil {
		t.Fatalf("run %s %s, want waiting", res.Status, res.Error)
	}
	p := res.Prompt
	if p.Title != "Please Select a User From the list" || p.Body != "Found users for ada@example.com" || !slices.Equal(p.Assignees, []string{"ada@example.com"}) ||
		!p.Expires.Equal(now.Add(72*time.Hour)) || p.Key != "/definition_activity_ask#1" || p.ActivityID != "definition_activity_ask" {
		t.Errorf("prompt %+v", p)
	}
	want := []engine.PromptField{
		{Label: "Usernames", Type: "select", Options: []string{"Bret", "Antonette", "Samantha"}},
		{Label: "Version", Type: "select", Options: []string{"MX 18.1", "MX 18.2"}, Multiple: true},
		{Label: "Size", Type: "select", Options: []string{"S", "M"}},
	}
	if len(p.Fields) != len(want) {
		t.Fatalf("fields %+v", p.Fields)
	}
	for i, f := range p.Fields {
		w := want[i]
		if f.Label != w.Label || f.Type != w.Type || f.Multiple != w.Multiple || !slices.Equal(f.Options, w.Options) {
			t.Errorf("field %d: %+v, want %+v", i, f, w)
		}
	}
	if rec.of(t, "ask").Status != engine.StatusWaiting {
		t.Errorf("record %s", rec.of(t, "ask").Status)
	}

	// The service records the answer and resumes: the prompt is not
	// asked again and its answer is the activity's output.
	answer := &engine.Record{Key: p.Key, ActivityID: p.ActivityID, Status: engine.StatusSucceeded,
		Output: engine.Output{"succeeded": true, "prompt_response": map[string]any{"Usernames": "Antonette"}}}
	res, _ = ioRun(t, wf, nil, clock, func(_ *engine.Config, r *engine.Run) { r.Journal = map[string]*engine.Record{p.Key: answer} })
	if res.Status != engine.RunSucceeded || res.Outputs["variable_workflow_choice"] != "Antonette" {
		t.Errorf("resumed: %s %s %v", res.Status, res.Error, res.Outputs)
	}
}
