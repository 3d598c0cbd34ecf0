package workflow_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
	"github.com/grantflow/grantflow/internal/workflow"
)

// withSideMaps adds top-level keys (triggers, schedules, rules, webhooks)
// to an export.
func withSideMaps(export, side string) string {
	return strings.TrimSuffix(strings.TrimSpace(export), "}") + ", " + side + "}"
}

const sxoTriggers = `"triggers": {
	"triggerschedule_every5": {"workflow_id": "definition_workflow_sched", "name": "Every five", "type": "schedule", "base_type": "trigger",
		"ref_id": "schedule_every5", "disabled": false, "object_type": "triggerschedule"},
	"triggerschedule_unknown": {"workflow_id": "definition_workflow_sched", "name": "Holidays", "type": "schedule",
		"ref_id": "schedule_unknown", "disabled": true, "object_type": "triggerschedule"},
	"triggerschedule_nightly": {"workflow_id": "definition_workflow_sched", "name": "Nightly", "type": "schedule",
		"ref_id": "schedule_nightly", "object_type": "triggerschedule"},
	"triggerevent_mail": {"workflow_id": "definition_workflow_sched", "type": "event", "ref_id": "event_mail"}},
"schedules": {
	"schedule_every5": {"name": "Every five minutes", "type": "basic.schedule", "object_type": "schedule", "properties": {
		"calendar": "calendar_recurring_1BMfMWvgiDhSjBQ7hTSyvz3NyVZ", "timezone": "Etc/GMT+0", "starttime": "00:00",
		"interval_hours": 0, "interval_minutes": 5, "number_of_times": 288, "display_name": "Every five minutes"}},
	"schedule_unknown": {"name": "Holidays", "type": "basic.schedule", "object_type": "schedule", "properties": {
		"calendar": "calendar_group_1BMfN3vifXosz1cwBFXN6N7yQge", "timezone": "Etc/GMT+0", "starttime": "02:00",
		"interval_hours": 0, "interval_minutes": 0, "number_of_times": 1}},
	"schedule_nightly": {"name": "Nightly", "type": "basic.schedule", "object_type": "schedule", "properties": {
		"calendar": "calendar_recurring_1BMfMWvgiDhSjBQ7hTSyvz3NyVZ", "timezone": "America/New_York", "starttime": "02:00",
		"interval_hours": 12, "interval_minutes": 0, "number_of_times": 2, "display_name": "Twice a day"}}}`

// TestImportedSchedulesDisabled: an import's schedule triggers become the
// tenant's, disabled, with the calendar mapped; one on an unknown calendar
// stays disabled with the reason; a tenant_admin (nobody else) enables
// them; a re-import leaves them as they are.
func TestImportedSchedulesDisabled(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 3, 1, 10, 1, 0, 0, time.UTC)
	e := startSchedEnv(t, storetest.New(t), start)
	ctx := context.Background()
	svc := e.srv.Workflows
	file := withSideMaps(orgWorkflow, sxoTriggers)
	if _, err := svc.Import(ctx, workflow.ImportParams{TenantID: e.tenant, Actor: e.ann, File: "sxo.json", Data: []byte(file)}); err != nil {
		t.Fatal(err)
	}
	list, err := svc.Schedules(ctx, e.tenant, e.vic)
	if err != nil || len(list) != 3 {
		t.Fatalf("schedules: %+v %v", list, err)
	}
	by := map[string]workflow.ScheduleView{}
	for _, v := range list {
		if v.Enabled || v.Source != "import" || v.Reason == "" || len(v.NextRuns) != 0 {
			t.Errorf("imported %+v: want disabled, from the import, with a reason", v)
		}
		by[v.Name] = v
	}
	five, unknown, nightly := by["Every five minutes"], by["Holidays"], by["Twice a day"]
	if five.Spec.Calendar != "daily" || five.Spec.Times != 288 || five.Spec.Interval != 5*time.Minute || five.Spec.Zone != "Etc/GMT+0" {
		t.Errorf("every five: %+v", five.Spec)
	}
	if !strings.Contains(unknown.Reason, "calendar_group_1BMfN3vifXosz1cwBFXN6N7yQge") || !strings.Contains(unknown.Reason, "stays disabled") {
		t.Errorf("unknown calendar: %q", unknown.Reason)
	}
	e.clk.Set(start.Add(10 * time.Minute))
	if n := e.fire(); n != 0 {
		t.Fatalf("a disabled imported schedule ran %d times", n)
	}
	if _, err := svc.EnableSchedule(ctx, five.ID, e.vic, true); !errors.Is(err, workflow.ErrForbidden) {
		t.Fatalf("viewer enables: %v", err)
	}
	v, err := svc.EnableSchedule(ctx, five.ID, e.ann, true)
	if err != nil || !v.Enabled || v.Reason != "" || len(v.NextRuns) != 5 || v.NextRuns[0] != "2025-03-01T10:15:00Z" {
		t.Fatalf("admin enables: %+v %v", v, err)
	}
	if _, err := svc.EnableSchedule(ctx, unknown.ID, e.ann, true); !errors.Is(err, workflow.ErrInvalid) {
		t.Fatalf("enabling an unknown calendar: %v", err)
	}
	v, err = svc.EnableSchedule(ctx, nightly.ID, e.ann, true)
	if err != nil || v.NextRuns[0] != "2025-03-01T14:00:00-05:00" || v.NextRuns[1] != "2025-03-02T02:00:00-05:00" {
		t.Fatalf("nightly: %+v %v", v, err)
	}
	e.clk.Set(time.Date(2025, 3, 1, 10, 15, 0, 300e6, time.UTC))
	if n := e.fire(); n != 1 {
		t.Fatalf("due at 10:15: %d runs", n)
	}
	if rs := e.runs(five.ID); len(rs) != 1 || rs[0].TokenKind != string(store.TokenOrg) || rs[0].StartedBy != "" {
		t.Fatalf("runs: %+v", rs)
	}
	if _, err := svc.Import(ctx, workflow.ImportParams{TenantID: e.tenant, Actor: e.ann, File: "sxo.json", Data: []byte(file)}); err != nil {
		t.Fatal(err)
	}
	list, _ = svc.Schedules(ctx, e.tenant, e.ann)
	if len(list) != 3 {
		t.Fatalf("a re-import made %d schedules", len(list))
	}
	for _, v := range list {
		if v.ID == five.ID && !v.Enabled {
			t.Fatalf("a re-import disabled an enabled schedule")
		}
	}
}

// hookWorkflow has the body input and an input the rule fixes.
const hookWorkflow = `{"workflow": {"unique_name": "definition_workflow_hook", "name": "On webhook", "title": "On webhook",
	"type": "generic.workflow", "base_type": "workflow", "object_type": "definition_workflow",
	"properties": {"description": "hook", "target": {"target_type": "meraki.endpoint", "specify_on_workflow_start": true}},
	"variables": [
		{"unique_name": "variable_workflow_who", "schema_id": "datatype.string", "object_type": "variable_workflow",
			"properties": {"name": "who", "scope": "input", "type": "datatype.string", "value": "world", "is_required": false}},
		{"unique_name": "variable_workflow_body", "schema_id": "datatype.string", "object_type": "variable_workflow",
			"properties": {"name": "request_body", "scope": "input", "type": "datatype.string", "value": "", "is_required": false}}],
	"actions": []},
"rules": {"ruleevent_launch": {"name": "Launch", "type": "webhook.rule_event", "rule_type": "rule_event", "base_type": "rule",
	"object_type": "ruleevent", "disabled": false, "properties": {"display_name": "Launch", "disabled": false,
	"webhook_id": "webhook_inbound", "workflows_config": [
		{"disabled": false, "ref_id": "definition_workflow_hook", "wf_input_variables": {"variable_workflow_who": "Leanne Graham"}},
		{"disabled": true, "ref_id": "definition_workflow_sched"}]}}},
"webhooks": {"webhook_inbound": {"name": "Inbound", "type": "generic.webhook", "object_type": "webhook",
	"properties": {"display_name": "Inbound webhook", "request_content_type": "application/json"}}}}`

func post(t *testing.T, url, ct string, hdr map[string]string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	r, b := read(t, resp, err)
	return r.StatusCode, b
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// TestWebhook: an imported webhook is disabled and has no secret; a
// tenant_admin rotates its secret (shown once) and enables it; then a call
// with the bearer secret or an HMAC signature starts the rule's enabled
// workflow on the Org-scoped token with the rule's fixed inputs and the
// body, and everything else is refused.
func TestWebhook(t *testing.T) {
	t.Parallel()
	e := startSchedEnv(t, storetest.New(t), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	svc := e.srv.Workflows
	if _, err := svc.Import(ctx, workflow.ImportParams{TenantID: e.tenant, Actor: e.ann, File: "hook.json", Data: []byte(hookWorkflow)}); err != nil {
		t.Fatal(err)
	}
	hooks, err := svc.Webhooks(ctx, e.tenant, e.vic)
	if err != nil || len(hooks) != 1 || hooks[0].Enabled || hooks[0].HasSecret || len(hooks[0].Rules) != 1 || len(hooks[0].Rules[0].Workflows) != 2 {
		t.Fatalf("imported webhooks: %+v %v", hooks, err)
	}
	h := hooks[0]
	url := e.pe.url + h.URL
	body := []byte(`{"user": "Leanne"}`)
	if code, b := post(t, url, "application/json", nil, body); code != http.StatusUnauthorized {
		t.Fatalf("no secret: %d %s", code, b)
	}
	if code, b := post(t, url, "application/json", map[string]string{"Authorization": "Bearer whsec_guess"}, body); code != http.StatusUnauthorized {
		t.Fatalf("no secret set yet: %d %s", code, b)
	}
	if _, _, err := svc.RotateWebhookSecret(ctx, h.ID, e.vic); !errors.Is(err, workflow.ErrForbidden) {
		t.Fatalf("viewer rotates: %v", err)
	}
	if _, err := svc.EnableWebhook(ctx, h.ID, e.vic, true); !errors.Is(err, workflow.ErrForbidden) {
		t.Fatalf("viewer enables: %v", err)
	}
	if err := svc.DeleteWebhook(ctx, h.ID, e.vic); !errors.Is(err, workflow.ErrForbidden) {
		t.Fatalf("viewer deletes: %v", err)
	}
	_, secret, err := svc.RotateWebhookSecret(ctx, h.ID, e.ann)
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("rotate: %q %v", secret, err)
	}
	if again, _ := svc.Webhook(ctx, h.ID, e.ann); !again.HasSecret {
		t.Fatal("no secret after rotating")
	}
	raw, _ := e.st.Webhooks().GetWebhook(ctx, h.ID)
	if bytes.Contains(raw.SecretHash, []byte(secret)) || strings.Contains(raw.SecretBox, secret) || strings.Contains(string(raw.Rules), secret) {
		t.Fatal("the secret is stored in the clear")
	}
	bearer := map[string]string{"Authorization": "Bearer " + secret}
	if code, b := post(t, url, "application/json", bearer, body); code != http.StatusForbidden {
		t.Fatalf("disabled: %d %s", code, b)
	}
	if _, err := svc.EnableWebhook(ctx, h.ID, e.ann, true); err != nil {
		t.Fatal(err)
	}
	code, b := post(t, url, "application/json; charset=utf-8", bearer, body)
	var d workflow.WebhookDelivery
	if code != http.StatusAccepted || json.Unmarshal([]byte(b), &d) != nil || len(d.Runs) != 1 {
		t.Fatalf("bearer call: %d %s", code, b)
	}
	run, err := e.st.Runs().GetRun(ctx, d.Runs[0])
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]any
	_ = json.Unmarshal(run.Inputs, &in)
	if run.TokenKind != string(store.TokenOrg) || run.StartedBy != "" || in["variable_workflow_body"] != string(body) || in["variable_workflow_who"] != "Leanne Graham" {
		t.Fatalf("the run: token %q by %q inputs %s", run.TokenKind, run.StartedBy, run.Inputs)
	}
	if code, b := post(t, url, "application/xml", map[string]string{workflow.SignatureHeader: sign(secret, body)}, body); code != http.StatusAccepted {
		t.Fatalf("signed call: %d %s", code, b)
	}
	for name, c := range map[string]struct {
		ct   string
		hdr  map[string]string
		body []byte
		want int
	}{
		"wrong bearer":    {"application/json", map[string]string{"Authorization": "Bearer " + secret + "x"}, body, http.StatusUnauthorized},
		"wrong signature": {"application/json", map[string]string{workflow.SignatureHeader: sign("other", body)}, body, http.StatusUnauthorized},
		"signed other":    {"application/json", map[string]string{workflow.SignatureHeader: sign(secret, []byte("{}"))}, body, http.StatusUnauthorized},
		"text/plain":      {"text/plain", bearer, body, http.StatusUnsupportedMediaType},
		"no type":         {"", bearer, body, http.StatusUnsupportedMediaType},
		"over 1 MB":       {"application/json", bearer, bytes.Repeat([]byte("a"), workflow.WebhookMaxBody+1), http.StatusRequestEntityTooLarge},
		"form":            {"application/x-www-form-urlencoded", bearer, []byte("a=1"), http.StatusAccepted},
	} {
		if code, b := post(t, url, c.ct, c.hdr, c.body); code != c.want {
			t.Errorf("%s: %d, want %d: %s", name, code, c.want, b)
		}
	}
	if _, newSecret, err := svc.RotateWebhookSecret(ctx, h.ID, e.ann); err != nil || newSecret == secret {
		t.Fatalf("rotate again: %v", err)
	}
	if code, _ := post(t, url, "application/json", bearer, body); code != http.StatusUnauthorized {
		t.Fatalf("the old secret after rotating: %d", code)
	}
	// The JSON API: a viewer gets 403 for every change.
	vic, ann := e.pe.login("vic@example.com"), e.pe.login("ann@example.com")
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/automation/webhooks/" + h.ID + "/disable"},
		{"POST", "/api/automation/webhooks/" + h.ID + "/enable"},
		{"POST", "/api/automation/webhooks/" + h.ID + "/secret"},
		{"DELETE", "/api/automation/webhooks/" + h.ID},
	} {
		if code, b := apiCall(t, vic, c.method, c.path, ""); code != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d %s", c.method, c.path, code, b)
		}
	}
	if code, b := apiCall(t, vic, "GET", "/api/automation/tenants/"+e.tenant+"/webhooks", ""); code != http.StatusOK || !strings.Contains(b, h.ID) {
		t.Fatalf("viewer lists: %d %s", code, b)
	}
	code, b = apiCall(t, ann, "POST", "/api/automation/webhooks/"+h.ID+"/secret", "")
	var rot struct {
		Secret string `json:"secret"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(b), &rot) != nil || rot.Secret == "" {
		t.Fatalf("admin rotates: %d %s", code, b)
	}
	if code, b := post(t, url, "application/json", map[string]string{"Authorization": "Bearer " + rot.Secret}, body); code != http.StatusAccepted {
		t.Fatalf("the API's secret: %d %s", code, b)
	}
	if code, b := apiCall(t, ann, "DELETE", "/api/automation/webhooks/"+h.ID, ""); code != http.StatusNoContent {
		t.Fatalf("admin deletes: %d %s", code, b)
	}
	if code, _ := post(t, url, "application/json", map[string]string{"Authorization": "Bearer " + rot.Secret}, body); code != http.StatusNotFound {
		t.Fatalf("a deleted webhook: %d", code)
	}
	evs, _ := e.st.Audit().ListAudit(ctx, store.AuditFilter{Limit: 1000})
	denied := 0
	for _, ev := range evs {
		if ev.Action == "workflow.denied" && strings.Contains(ev.Details["what"], "webhook") {
			denied++
		}
	}
	if denied != 7 {
		t.Fatalf("denials audited: %d, want 7", denied)
	}
}
