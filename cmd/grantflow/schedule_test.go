package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow"
)

const scheduledExport = `{"workflow": {"unique_name": "definition_workflow_sched", "name": "Nightly check", "title": "Nightly check",
	"type": "generic.workflow", "base_type": "workflow", "object_type": "definition_workflow",
	"properties": {"description": "scheduled", "target": {"target_type": "meraki.endpoint", "specify_on_workflow_start": true}},
	"variables": [], "actions": []}}`

// The schedule command as PRODUCT.md gives it, and its role checks: a
// read-only administrator (viewer) gets exit status 3 for every change.
func TestScheduleCommand(t *testing.T) {
	t.Parallel()
	e := newWorkflowEnv(t)
	file := filepath.Join(t.TempDir(), "sched.json")
	if err := os.WriteFile(file, []byte(scheduledExport), 0o600); err != nil {
		t.Fatal(err)
	}
	var imported []workflow.ImportResult
	e.json(&imported, "workflow", "import", "--tenant", e.tenant, "--as", e.email, "--json", file)
	var v workflow.ScheduleView
	e.json(&v, "schedule", "create", "--workflow", imported[0].ID, "--as", e.email, "--calendar", "weekdays", "--at", "02:30",
		"--tz", "America/New_York", "--times", "3", "--misfire", "skip", "--json")
	if !v.Enabled || v.State != "active" || v.CreatedBy == nil || *v.CreatedBy != e.email || len(v.NextRuns) != 3 || v.WorkflowID != imported[0].ID {
		t.Fatalf("schedule create: %+v", v)
	}
	e.ok("admin", "create", "--org", e.org, "--email", "v@example.com", "--password", testPassword, "--access", "read-only")
	for _, args := range [][]string{
		{"schedule", "create", "--workflow", imported[0].ID, "--as", "v@example.com", "--every", "1h"},
		{"schedule", "disable", "--id", v.ID, "--as", "v@example.com"},
		{"schedule", "enable", "--id", v.ID, "--as", "v@example.com"},
		{"schedule", "delete", "--id", v.ID, "--as", "v@example.com"},
	} {
		if code, out, errs := e.cli(args...); code != 3 {
			t.Errorf("%v: exit %d, want 3\n%s%s", args, code, out, errs)
		}
	}
	if code, _, _ := e.cli("schedule", "create", "--workflow", imported[0].ID, "--as", e.email, "--cron", "61 * * * *"); code == 0 {
		t.Error("a bad cron expression was accepted")
	}
	var list []workflow.ScheduleView
	e.json(&list, "schedule", "list", "--tenant", e.tenant, "--as", "v@example.com", "--json")
	if len(list) != 1 || list[0].ID != v.ID {
		t.Fatalf("schedule list: %+v", list)
	}
	e.json(&v, "schedule", "disable", "--id", v.ID, "--as", e.email, "--json")
	if v.Enabled || len(v.NextRuns) != 0 {
		t.Fatalf("disabled: %+v", v)
	}
	e.ok("schedule", "delete", "--id", v.ID, "--as", e.email)
	e.json(&list, "schedule", "list", "--tenant", e.tenant, "--json")
	if len(list) != 0 {
		t.Fatalf("after delete: %+v", list)
	}
}
