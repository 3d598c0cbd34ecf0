package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow"
)

const webhookExport = `{"workflow": {"unique_name": "definition_workflow_hook", "name": "On webhook", "title": "On webhook",
	"type": "generic.workflow", "base_type": "workflow", "object_type": "definition_workflow",
	"properties": {"description": "hook"}, "variables": [], "actions": []},
"rules": {"ruleevent_a": {"name": "Launch", "type": "webhook.rule_event", "properties": {"webhook_id": "webhook_a",
	"workflows_config": [{"disabled": false, "ref_id": "definition_workflow_hook"}]}}},
"webhooks": {"webhook_a": {"name": "Inbound", "type": "generic.webhook", "properties": {"display_name": "Inbound",
	"request_content_type": "application/json"}}},
"triggers": {"triggerschedule_a": {"workflow_id": "definition_workflow_hook", "name": "Daily", "type": "schedule", "ref_id": "schedule_a"}},
"schedules": {"schedule_a": {"name": "Daily", "properties": {"calendar": "calendar_recurring_1BMfMWvgiDhSjBQ7hTSyvz3NyVZ",
	"timezone": "Etc/GMT+0", "starttime": "02:00", "interval_hours": 0, "interval_minutes": 0, "number_of_times": 1}}}}`

// An import's webhook and schedule show disabled in `webhook list` and
// `schedule list`; rotate-secret shows the secret once; a viewer gets exit
// status 3 for every change.
func TestWebhookCommand(t *testing.T) {
	t.Parallel()
	e := newWorkflowEnv(t)
	file := filepath.Join(t.TempDir(), "hook.json")
	if err := os.WriteFile(file, []byte(webhookExport), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("workflow", "import", "--tenant", e.tenant, "--as", e.email, file)
	var scheds []workflow.ScheduleView
	e.json(&scheds, "schedule", "list", "--tenant", e.tenant, "--json")
	if len(scheds) != 1 || scheds[0].Enabled || scheds[0].Source != "import" || scheds[0].Spec.Calendar != "daily" {
		t.Fatalf("schedule list: %+v", scheds)
	}
	var list []workflow.WebhookView
	e.json(&list, "webhook", "list", "--tenant", e.tenant, "--json")
	if len(list) != 1 || list[0].Enabled || list[0].HasSecret || list[0].ExternalID != "webhook_a" {
		t.Fatalf("webhook list: %+v", list)
	}
	id := list[0].ID
	e.ok("admin", "create", "--org", e.org, "--email", "v@example.com", "--password", testPassword, "--access", "read-only")
	for _, sub := range []string{"enable", "disable", "rotate-secret", "delete"} {
		if code, out, errs := e.cli("webhook", sub, "--id", id, "--as", "v@example.com"); code != 3 {
			t.Errorf("viewer webhook %s: exit %d, want 3\n%s%s", sub, code, out, errs)
		}
	}
	code, out, errs := e.cli("webhook", "rotate-secret", "--id", id, "--as", e.email)
	if code != 0 || !strings.Contains(out, "secret: whsec_") {
		t.Fatalf("rotate-secret: %d\n%s%s", code, out, errs)
	}
	secret := out[strings.Index(out, "whsec_"):]
	secret = secret[:strings.IndexByte(secret, '\n')]
	var v workflow.WebhookView
	e.json(&v, "webhook", "enable", "--id", id, "--as", e.email, "--json")
	if !v.Enabled || !v.HasSecret || v.Reason != "" {
		t.Fatalf("enabled: %+v", v)
	}
	if _, show, _ := e.cli("webhook", "show", "--id", id); strings.Contains(show, secret) || !strings.Contains(show, "rule ruleevent_a") {
		t.Fatalf("show:\n%s", show)
	}
	e.ok("webhook", "delete", "--id", id, "--as", e.email)
	e.json(&list, "webhook", "list", "--tenant", e.tenant, "--json")
	if len(list) != 0 {
		t.Fatalf("after delete: %+v", list)
	}
}
