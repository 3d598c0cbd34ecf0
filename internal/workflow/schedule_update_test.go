package workflow_test

import (
	"context"
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

// TestScheduleUpdate: a tenant_admin changes a schedule's interval and its
// next due times move from now on, its history and enabled state stay; an
// operator, an author and a viewer are refused with an audit event; a bad
// spec or input is refused with a clear message and changes nothing.
func TestScheduleUpdate(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	e := startSchedEnv(t, storetest.New(t), t0)
	ctx := context.Background()
	svc := e.srv.Workflows
	v := e.create(workflow.Spec{Kind: workflow.SpecEvery, Every: time.Hour}, nil)
	e.clk.Set(t0.Add(time.Hour + time.Second))
	if n := e.fire(); n != 1 {
		t.Fatalf("first due time: %d runs", n)
	}
	e.clk.Set(t0.Add(90 * time.Minute))

	// Other roles are refused, each with a workflow.denied event.
	actors := map[string]workflow.Actor{"viewer": e.vic}
	for email, role := range map[string]store.Role{"olga@example.com": store.RoleOperator, "abe@example.com": store.RoleAuthor} {
		if _, err := e.srv.Identity.CreateAdmin(ctx, e.orgID, email, pagePassword, store.AccessFull); err != nil {
			t.Fatal(err)
		}
		acct, err := e.st.Accounts().GetAccountByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Automation.SetRole(ctx, mustTenant(t, e), "", acct.ID, role); err != nil {
			t.Fatal(err)
		}
		a := workflow.Actor{Account: acct}
		actors[string(role)] = a
	}
	every := &workflow.Spec{Kind: workflow.SpecEvery, Every: 15 * time.Minute}
	for role, a := range actors {
		if _, err := svc.UpdateSchedule(ctx, v.ID, a, workflow.ScheduleUpdate{Spec: every}); !errors.Is(err, workflow.ErrForbidden) {
			t.Errorf("%s updates: %v", role, err)
		}
	}
	evs, err := e.st.Audit().ListAudit(ctx, store.AuditFilter{Limit: 1000})
	denied := 0
	for _, ev := range evs {
		if ev.Action == "workflow.denied" && ev.Details["what"] == "change schedules" {
			denied++
		}
	}
	if err != nil || denied != 3 {
		t.Fatalf("denials audited: %d, %v", denied, err)
	}

	// Bad changes are refused with a clear message and change nothing.
	before, _ := e.schedules().GetSchedule(ctx, v.ID)
	for _, c := range []struct {
		p    workflow.ScheduleUpdate
		want string
	}{
		{workflow.ScheduleUpdate{Spec: &workflow.Spec{Kind: workflow.SpecCron, Cron: "61 * * * *"}}, "61"},
		{workflow.ScheduleUpdate{Spec: &workflow.Spec{Kind: workflow.SpecEvery, Every: time.Hour, Zone: "Mars/Olympus"}}, "unknown time zone"},
		{workflow.ScheduleUpdate{Spec: every, Misfire: "sometimes"}, "run-once or skip"},
		{workflow.ScheduleUpdate{Spec: every, Inputs: map[string]any{"nobody": "x"}}, "nobody"},
	} {
		_, err := svc.UpdateSchedule(ctx, v.ID, e.ann, c.p)
		if !errors.Is(err, workflow.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an ErrInvalid about %q", c.p, err, c.want)
		}
	}
	if _, err := (workflow.ScheduleRequest{Timezone: "Europe/Berlin"}).UpdateSpec(); !errors.Is(err, workflow.ErrInvalid) {
		t.Errorf("a time zone without a spec: %v", err)
	}
	after, _ := e.schedules().GetSchedule(ctx, v.ID)
	if string(after.Spec) != string(before.Spec) || !after.NextDueAt.Equal(before.NextDueAt) || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("a refused change changed the schedule:\n%+v\n%+v", before, after)
	}
	if !before.NextDueAt.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("next due before the change: %s", before.NextDueAt)
	}

	// The admin's change: every 15 minutes from now (01:30).
	three := 3
	u, err := svc.UpdateSchedule(ctx, v.ID, e.ann, workflow.ScheduleUpdate{Name: "Quarter-hourly", Spec: every, MaxRuns: &three,
		Misfire: store.MisfireSkip, Inputs: map[string]any{"who": "update"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2025-01-01T01:45:00Z", "2025-01-01T02:00:00Z"} // 3 runs, 1 done
	if u.Name != "Quarter-hourly" || !u.Enabled || u.Runs != 1 || len(u.History) != 1 || u.Misfire != store.MisfireSkip ||
		u.Times == nil || *u.Times != 3 || strings.Join(u.NextRuns, " ") != strings.Join(want, " ") || u.Spec.Every != 15*time.Minute {
		t.Fatalf("updated: %+v", u)
	}
	found := false
	for _, ev := range mustAudit(t, e) {
		found = found || ev.Action == "workflow.schedule_updated" && ev.Target == v.ID && ev.ActorAccountID == e.ann.Account.ID
	}
	if !found {
		t.Error("no workflow.schedule_updated event")
	}
	e.clk.Set(t0.Add(105*time.Minute + time.Second))
	if n := e.fire(); n != 1 {
		t.Fatalf("at the new due time: %d runs", n)
	}
	rs := e.runs(v.ID)
	if len(rs) != 2 {
		t.Fatalf("runs: %d", len(rs))
	}
	sc, _ := e.schedules().GetSchedule(ctx, v.ID)
	if !sc.NextDueAt.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("next due after the new due time: %s", sc.NextDueAt)
	}

	// A disabled schedule stays disabled; nil fields keep what it has.
	if _, err := svc.EnableSchedule(ctx, v.ID, e.ann, false); err != nil {
		t.Fatal(err)
	}
	u, err = svc.UpdateSchedule(ctx, v.ID, e.ann, workflow.ScheduleUpdate{Spec: &workflow.Spec{Kind: workflow.SpecCron, Cron: "0 3 * * *", Zone: "Europe/Berlin"}})
	if err != nil || u.Enabled || u.Name != "Quarter-hourly" || u.Times == nil || *u.Times != 3 || u.Misfire != store.MisfireSkip ||
		len(u.Inputs) != 1 || u.Spec.Cron != "0 3 * * *" {
		t.Fatalf("disabled, updated: %+v %v", u, err)
	}
}

func mustAudit(t *testing.T, e *schedEnv) []store.AuditEvent {
	t.Helper()
	evs, err := e.st.Audit().ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestScheduleUpdateAPI: PATCH /api/automation/schedules/{id} answers 403
// to a viewer and 200 with the changed schedule to a tenant_admin.
func TestScheduleUpdateAPI(t *testing.T) {
	t.Parallel()
	e := startSchedEnv(t, storetest.New(t), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	ann, vic := e.pe.login("ann@example.com"), e.pe.login("vic@example.com")
	v := e.create(workflow.Spec{Kind: workflow.SpecEvery, Every: time.Hour}, nil)
	path := "/api/automation/schedules/" + v.ID
	body := `{"calendar": "daily", "at": "02:30", "timezone": "Europe/Berlin", "times": 2}`
	if code, b := apiCall(t, vic, "PATCH", path, body); code != http.StatusForbidden {
		t.Fatalf("viewer updates: %d %s", code, b)
	}
	if code, b := apiCall(t, ann, "PATCH", path, `{"every": "1h", "cron": "* * * * *"}`); code != http.StatusBadRequest {
		t.Fatalf("two kinds at once: %d %s", code, b)
	}
	code, b := apiCall(t, ann, "PATCH", path, body)
	var u workflow.ScheduleView
	if code != http.StatusOK || json.Unmarshal([]byte(b), &u) != nil || len(u.NextRuns) != 2 || u.NextRuns[0] != "2025-01-01T02:30:00+01:00" || u.ID != v.ID {
		t.Fatalf("admin updates: %d %s", code, b)
	}
	if code, b := apiCall(t, ann, "PATCH", path, `{"name": "Renamed"}`); code != http.StatusOK || !strings.Contains(b, "Renamed") || !strings.Contains(b, "02:30") {
		t.Fatalf("admin renames: %d %s", code, b)
	}
}
