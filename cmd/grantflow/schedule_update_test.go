package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow"
)

// schedule update: a viewer gets exit status 3; a tenant_admin changes the
// spec, and the flags left out keep what the schedule has.
func TestScheduleUpdateCommand(t *testing.T) {
	t.Parallel()
	e := newWorkflowEnv(t)
	file := filepath.Join(t.TempDir(), "sched.json")
	if err := os.WriteFile(file, []byte(scheduledExport), 0o600); err != nil {
		t.Fatal(err)
	}
	var imported []workflow.ImportResult
	e.json(&imported, "workflow", "import", "--tenant", e.tenant, "--as", e.email, "--json", file)
	var v workflow.ScheduleView
	e.json(&v, "schedule", "create", "--workflow", imported[0].ID, "--as", e.email, "--every", "1h", "--times", "3", "--misfire", "skip", "--json")
	e.ok("admin", "create", "--org", e.org, "--email", "v@example.com", "--password", testPassword, "--access", "read-only")
	if code, out, errs := e.cli("schedule", "update", "--id", v.ID, "--as", "v@example.com", "--every", "15m"); code != 3 {
		t.Errorf("viewer updates: exit %d, want 3\n%s%s", code, out, errs)
	}
	if code, _, _ := e.cli("schedule", "update", "--id", v.ID, "--as", e.email, "--cron", "61 * * * *"); code == 0 {
		t.Error("a bad cron expression was accepted")
	}
	var u workflow.ScheduleView
	e.json(&u, "schedule", "update", "--id", v.ID, "--as", e.email, "--cron", "30 2 * * *", "--tz", "Europe/Berlin", "--name", "Nightly", "--json")
	if u.ID != v.ID || u.Spec.Cron != "30 2 * * *" || u.Spec.Zone != "Europe/Berlin" || u.Name != "Nightly" || u.Times == nil || *u.Times != 3 ||
		u.Misfire != "skip" || !u.Enabled || len(u.NextRuns) != 3 {
		t.Fatalf("schedule update: %+v", u)
	}
}
