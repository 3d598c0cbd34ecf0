package workflow_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
	"github.com/grantflow/grantflow/internal/workflow"
)

// TestPageSchedules: the schedules page shows an import's schedules
// disabled with their reason and creator; a viewer sees no controls and is
// refused (403) when posting one; a tenant_admin enables one (CSRF), its
// page lists its next due times, then its runs and the due times skipped
// while the Org-scoped token needed reconnecting; and a banner on the
// workflow pages tells the tenant_admin (not the viewer) about the pause.
func TestPageSchedules(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 3, 1, 10, 1, 0, 0, time.UTC)
	e := startSchedEnv(t, storetest.New(t), start)
	ctx := context.Background()
	svc := e.srv.Workflows
	if _, err := svc.Import(ctx, workflow.ImportParams{TenantID: e.tenant, Actor: e.ann, File: "sxo.json", Data: []byte(withSideMaps(orgWorkflow, sxoTriggers))}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Import(ctx, workflow.ImportParams{TenantID: e.tenant, Actor: e.ann, File: "hook.json", Data: []byte(hookWorkflow)}); err != nil {
		t.Fatal(err)
	}
	ann, vic := e.pe.login("ann@example.com"), e.pe.login("vic@example.com")
	list := "/automation/schedules?org=" + e.orgID
	page := vic.page(list)
	for _, want := range []string{"Every five minutes", "Twice a day", "Holidays", "calendar_group_1BMfN3vifXosz1cwBFXN6N7yQge", "disabled", "the import", "Inbound webhook", "/automation/webhooks/wh_"} {
		if !strings.Contains(page, want) {
			t.Errorf("the viewer's schedules page lacks %q", want)
		}
	}
	if strings.Contains(page, `action="/automation/schedules/`) || strings.Contains(page, `action="/automation/webhooks/`) {
		t.Error("a viewer sees the controls")
	}
	all, _ := svc.Schedules(ctx, e.tenant, e.ann)
	var five workflow.ScheduleView
	for _, v := range all {
		if v.Name == "Every five minutes" {
			five = v
		}
	}
	resp, body := vic.post("/automation/schedules/"+five.ID+"/enable", url.Values{"csrf_token": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "tenant_admin") && !strings.Contains(body, "may not") {
		t.Fatalf("viewer enables: %d\n%s", resp.StatusCode, body)
	}
	page = ann.page(list)
	if !strings.Contains(page, `action="/automation/schedules/`+five.ID+`/enable"`) {
		t.Fatal("the tenant_admin sees no Enable button")
	}
	if resp, _ := ann.post("/automation/schedules/"+five.ID+"/enable", url.Values{"csrf_token": {"stale"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a stale form: %d", resp.StatusCode)
	}
	resp, body = ann.post("/automation/schedules/"+five.ID+"/enable", url.Values{"csrf_token": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Schedule enabled.") {
		t.Fatalf("admin enables: %d\n%s", resp.StatusCode, body)
	}
	detail := ann.page("/automation/schedules/" + five.ID)
	if !strings.Contains(detail, "2025-03-01T10:15:00Z") || !strings.Contains(detail, "No due time has come yet") {
		t.Fatalf("the schedule's page before its first due time:\n%s", detail)
	}
	e.clk.Set(time.Date(2025, 3, 1, 10, 5, 0, 300e6, time.UTC))
	if n := e.fire(); n != 1 {
		t.Fatalf("runs at 10:05: %d", n)
	}
	tok, err := e.st.Automation().GetToken(ctx, e.tenant, store.TokenOrg, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Automation().UpdateToken(ctx, tok.ID, func(x *store.AutomationToken) error {
		x.State, x.Reason = store.TokenReconnectNeeded, "the grant was removed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(time.Date(2025, 3, 1, 10, 10, 0, 300e6, time.UTC))
	e.fire()
	detail = ann.page("/automation/schedules/" + five.ID)
	runs := e.runs(five.ID)
	if len(runs) != 1 || !strings.Contains(detail, `href="/automation/runs/`+runs[0].ID+`"`) || !strings.Contains(detail, "skipped_token") ||
		!strings.Contains(detail, "paused") {
		t.Fatalf("the schedule's history:\n%s", detail)
	}
	banner := regexp.MustCompile(`class="flash">[^<]*paused: the tenant&#39;s Org-scoped token needs reconnecting`)
	for _, path := range []string{"/automation/workflows?org=" + e.orgID, "/automation/runs?org=" + e.orgID, "/automation/workflows/" + e.wfID} {
		if !banner.MatchString(ann.page(path)) {
			t.Errorf("no banner for the tenant_admin on %s", path)
		}
		if banner.MatchString(vic.page(path)) {
			t.Errorf("a banner for the viewer on %s", path)
		}
	}
	if page := ann.page(list); !strings.Contains(page, "1 schedule(s) paused") {
		t.Errorf("the schedules page has no pause notice")
	}
	// The webhook's secret is shown once, on the answer to Rotate.
	hooks, _ := svc.Webhooks(ctx, e.tenant, e.ann)
	resp, body = ann.post("/automation/webhooks/"+hooks[0].ID+"/rotate", url.Values{"csrf_token": {csrfOf(t, ann.page(list))}})
	if resp.StatusCode != http.StatusOK || !regexp.MustCompile(`whsec_[0-9a-f]{64}`).MatchString(body) {
		t.Fatalf("rotate: %d\n%s", resp.StatusCode, body)
	}
	if regexp.MustCompile(`whsec_[0-9a-f]{64}`).MatchString(ann.page(list)) {
		t.Fatal("the secret is shown again")
	}
	resp, body = ann.post("/automation/schedules/"+five.ID+"/delete", url.Values{"csrf_token": {csrfOf(t, ann.page(list))}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Schedule deleted.") || strings.Contains(body, "Every five minutes") {
		t.Fatalf("admin deletes: %d\n%s", resp.StatusCode, body)
	}
}
