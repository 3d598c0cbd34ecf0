package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
	"github.com/grantflow/grantflow/internal/workflow"
)

// clock is the injected time of a schedule test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

// queue records what is enqueued (nothing works the runs: the test is
// about when they start).
type queue struct {
	mu  sync.Mutex
	ids []string
}

func (q *queue) Enqueue(_ context.Context, _, key string) error {
	q.mu.Lock()
	q.ids = append(q.ids, key)
	q.mu.Unlock()
	return nil
}

type schedEnv struct {
	t      *testing.T
	clk    *clock
	srv    *server.Server
	st     *sqlstore.Store
	q      *queue
	tenant string
	orgID  string
	pe     *pageEnv
	ann    workflow.Actor // tenant_admin
	vic    workflow.Actor // viewer
	wfID   string
}

// orgWorkflow declares the Meraki target, so its runs need the
// Org-scoped token.
const orgWorkflow = `{"workflow": {"unique_name": "definition_workflow_sched", "name": "Nightly check", "title": "Nightly check",
	"type": "generic.workflow", "base_type": "workflow", "object_type": "definition_workflow",
	"properties": {"description": "scheduled", "target": {"target_type": "meraki.endpoint", "specify_on_workflow_start": true}},
	"variables": [{"unique_name": "variable_workflow_who", "schema_id": "datatype.string", "object_type": "variable_workflow",
		"properties": {"name": "who", "scope": "input", "type": "datatype.string", "value": "world", "is_required": false}}],
	"actions": []}}`

func startSchedEnv(t *testing.T, st *sqlstore.Store, start time.Time) *schedEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Addr = ln.Addr().String()
	cfg.RateLimitOrg, cfg.RateLimitIP = 0, 0
	cfg.AutomationKey = "Z3JhbnRmbG93LXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc="
	lg := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	clk := &clock{t: start}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, st, lg, server.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	e := &schedEnv{t: t, clk: clk, srv: srv, st: st, q: &queue{}}
	srv.Workflows.SetQueue(e.q, false)
	org, err := srv.Identity.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	for email, access := range map[string]store.Access{"ann@example.com": store.AccessFull, "vic@example.com": store.AccessReadOnly} {
		if _, err := srv.Identity.CreateAdmin(ctx, org.ID, email, pagePassword, access); err != nil {
			t.Fatal(err)
		}
	}
	pe := &pageEnv{t: t, srv: srv, url: ts.URL, orgID: org.ID}
	e.pe = pe
	pe.login("ann@example.com").page("/automation") // the tenant and both tokens, silently
	pe.login("vic@example.com").page("/automation")
	tenants, err := srv.Automation.List(ctx, org.ID)
	if err != nil || len(tenants) != 1 {
		t.Fatalf("tenants: %v %v", tenants, err)
	}
	e.tenant, e.orgID = tenants[0].ID, org.ID
	for _, tv := range tenants[0].Tokens {
		if tv.Kind == "org" && tv.State != "valid" {
			t.Fatalf("org token: %+v", tv)
		}
	}
	for email, a := range map[string]*workflow.Actor{"ann@example.com": &e.ann, "vic@example.com": &e.vic} {
		acct, err := st.Accounts().GetAccountByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		a.Account = acct
	}
	res, err := srv.Workflows.Import(ctx, workflow.ImportParams{TenantID: e.tenant, Actor: e.ann, File: "sched.json", Data: []byte(orgWorkflow)})
	if err != nil || !res.Runnable {
		t.Fatalf("import: %+v %v", res, err)
	}
	e.wfID = res.ID
	return e
}

func (e *schedEnv) create(sp workflow.Spec, mod func(*workflow.ScheduleParams)) workflow.ScheduleView {
	e.t.Helper()
	p := workflow.ScheduleParams{WorkflowID: e.wfID, Actor: e.ann, Spec: sp, Inputs: map[string]any{"who": "cron"}}
	if mod != nil {
		mod(&p)
	}
	v, err := e.srv.Workflows.CreateSchedule(context.Background(), p)
	if err != nil {
		e.t.Fatalf("create %+v: %v", sp, err)
	}
	return v
}

func (e *schedEnv) fire() int {
	e.t.Helper()
	n, err := e.srv.Workflows.FireSchedules(context.Background())
	if err != nil {
		e.t.Fatalf("FireSchedules at %s: %v", e.clk.Now(), err)
	}
	return n
}

func (e *schedEnv) schedules() store.Schedules { return e.st.Schedules() }

// runs returns a schedule's runs, oldest first.
func (e *schedEnv) runs(id string) []store.Run {
	e.t.Helper()
	rs, err := e.st.Runs().ListRuns(context.Background(), store.RunFilter{ScheduleID: id, Limit: 100000})
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].CreatedAt.Before(rs[j].CreatedAt) })
	return rs
}

// TestSchedulesHundredDays runs three schedules (calendar, cron and
// interval, in New York and Berlin) over 100 simulated days across both
// daylight-saving changes, waking up 300 ms after each due time as the
// periodic job would: every due time has exactly one run, on the
// Org-scoped token, started at that due time.
func TestSchedulesHundredDays(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 2, 20, 0, 0, 0, 0, time.UTC)
	e := startSchedEnv(t, storetest.New(t), start)
	cal := e.create(workflow.Spec{Kind: workflow.SpecCalendar, Calendar: "daily", At: "02:30", Interval: 12 * time.Hour, Times: 2, Zone: "America/New_York"}, nil)
	cron := e.create(workflow.Spec{Kind: workflow.SpecCron, Cron: "0 8 * * 1-5", Zone: "Europe/Berlin"}, nil)
	every := e.create(workflow.Spec{Kind: workflow.SpecEvery, Every: 7 * time.Hour, Zone: "UTC"}, nil)
	if len(cal.NextRuns) != 5 || cal.NextRuns[0] != "2025-02-20T02:30:00-05:00" || cal.CreatedBy == nil || *cal.CreatedBy != "ann@example.com" {
		t.Fatalf("calendar schedule: %+v", cal)
	}
	end := start.AddDate(0, 0, 100)
	const lag = 300 * time.Millisecond
	expected := map[string][]time.Time{}
	ctx := context.Background()
	for {
		list, err := e.schedules().ListSchedules(ctx, store.ScheduleFilter{TenantID: e.tenant})
		if err != nil {
			t.Fatal(err)
		}
		var next time.Time
		for _, sc := range list {
			if !sc.NextDueAt.IsZero() && (next.IsZero() || sc.NextDueAt.Before(next)) {
				next = sc.NextDueAt
			}
		}
		if next.After(end) {
			break
		}
		for _, sc := range list {
			if sc.NextDueAt.Equal(next) {
				expected[sc.ID] = append(expected[sc.ID], next)
			}
		}
		e.clk.Set(next.Add(lag))
		e.fire()
		if n := e.fire(); n != 0 { // a second tick at the same time fires nothing
			t.Fatalf("a second tick started %d runs", n)
		}
	}
	ny, _ := time.LoadLocation("America/New_York")
	want := map[string]int{cal.ID: 200, cron.ID: 0, every.ID: 100 * 24 / 7}
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			want[cron.ID]++
		}
	}
	for id, dues := range expected {
		rs := e.runs(id)
		if len(rs) != len(dues) || len(rs) < want[id]-1 || len(rs) > want[id]+1 {
			t.Fatalf("schedule %s: %d runs for %d due times (about %d expected)", id, len(rs), len(dues), want[id])
		}
		for i, r := range rs {
			if !r.CreatedAt.Equal(store.Micro(dues[i].Add(lag))) || r.TokenKind != "org" || r.StartedBy != "" || r.Status != store.RunQueued {
				t.Fatalf("schedule %s run %d: %+v, due %s", id, i, r, dues[i])
			}
		}
	}
	// The spring-forward day's 02:30 in New York ran at 03:00 EDT.
	springs := 0
	for _, d := range expected[cal.ID] {
		if d.In(ny).Format("2006-01-02 15:04") == "2025-03-09 03:00" {
			springs++
		}
	}
	if springs != 1 {
		t.Fatalf("the 02:30 of 9 March ran %d times at 03:00", springs)
	}
	e.q.mu.Lock()
	queued := len(e.q.ids)
	e.q.mu.Unlock()
	total := len(e.runs(cal.ID)) + len(e.runs(cron.ID)) + len(e.runs(every.ID))
	if queued != total {
		t.Fatalf("%d runs queued, %d started", queued, total)
	}
	t.Logf("100 days: %d runs (calendar %d, cron %d, every 7h %d), each at its due time", total, len(e.runs(cal.ID)), len(e.runs(cron.ID)), len(e.runs(every.ID)))
}

// TestScheduleRoles: only a tenant_admin creates, enables, disables or
// deletes; a denial is audited; everyone with a role sees schedules.
func TestScheduleRoles(t *testing.T) {
	t.Parallel()
	e := startSchedEnv(t, storetest.New(t), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	svc := e.srv.Workflows
	sp := workflow.Spec{Kind: workflow.SpecEvery, Every: time.Hour}
	if _, err := svc.CreateSchedule(ctx, workflow.ScheduleParams{WorkflowID: e.wfID, Actor: e.vic, Spec: sp}); !errors.Is(err, workflow.ErrForbidden) {
		t.Fatalf("viewer creates: %v", err)
	}
	v := e.create(sp, nil)
	for name, op := range map[string]func(a workflow.Actor) error{
		"disable": func(a workflow.Actor) error { _, err := svc.EnableSchedule(ctx, v.ID, a, false); return err },
		"enable":  func(a workflow.Actor) error { _, err := svc.EnableSchedule(ctx, v.ID, a, true); return err },
		"delete":  func(a workflow.Actor) error { return svc.DeleteSchedule(ctx, v.ID, a) },
	} {
		if err := op(e.vic); !errors.Is(err, workflow.ErrForbidden) {
			t.Errorf("viewer may %s: %v", name, err)
		}
	}
	if list, err := svc.Schedules(ctx, e.tenant, e.vic); err != nil || len(list) != 1 {
		t.Fatalf("viewer lists: %v %v", list, err)
	}
	evs, err := e.st.Audit().ListAudit(ctx, store.AuditFilter{Limit: 1000})
	denied := 0
	for _, ev := range evs {
		if ev.Action == "workflow.denied" {
			denied++
		}
	}
	if err != nil || denied != 4 {
		t.Fatalf("denials audited: %d, %v", denied, err)
	}
	if d, err := svc.EnableSchedule(ctx, v.ID, e.ann, false); err != nil || d.Enabled || len(d.NextRuns) != 0 {
		t.Fatalf("admin disables: %+v %v", d, err)
	}
	if err := svc.DeleteSchedule(ctx, v.ID, e.ann); err != nil {
		t.Fatalf("admin deletes: %v", err)
	}
	if _, err := svc.Schedule(ctx, v.ID, e.ann); !errors.Is(err, workflow.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	// The creator loses the role: the schedule runs on (it is the tenant's).
	v = e.create(sp, nil)
	if _, err := e.srv.Identity.CreateAdmin(ctx, e.orgID, "bob@example.com", pagePassword, store.AccessFull); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Automation.SetRole(ctx, mustTenant(t, e), "", e.ann.Account.ID, store.RoleViewer); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(e.clk.Now().Add(time.Hour + time.Second))
	if n := e.fire(); n != 1 {
		t.Fatalf("after the creator's demotion: %d runs", n)
	}
}

func mustTenant(t *testing.T, e *schedEnv) store.Tenant {
	t.Helper()
	tn, err := e.srv.Automation.Tenant(context.Background(), e.tenant)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// TestScheduleTokenPause: with the Org-scoped token needing reconnecting
// the schedule pauses with the reason, records each skipped due time, and
// resumes by itself once the token is valid.
func TestScheduleTokenPause(t *testing.T) {
	t.Parallel()
	e := startSchedEnv(t, storetest.New(t), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	v := e.create(workflow.Spec{Kind: workflow.SpecEvery, Every: time.Hour}, nil)
	tok, err := e.st.Automation().GetToken(ctx, e.tenant, store.TokenOrg, "")
	if err != nil {
		t.Fatal(err)
	}
	setState := func(state, reason string) {
		if _, err := e.st.Automation().UpdateToken(ctx, tok.ID, func(x *store.AutomationToken) error {
			x.State, x.Reason = state, reason
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setState(store.TokenReconnectNeeded, "the grant was removed")
	for h := 1; h <= 2; h++ {
		e.clk.Set(time.Date(2025, 1, 1, h, 0, 1, 0, time.UTC))
		if n := e.fire(); n != 0 {
			t.Fatalf("a run started on a token that needs reconnecting")
		}
	}
	list, _ := e.srv.Workflows.Schedules(ctx, e.tenant, e.ann)
	if list[0].State != store.SchedulePaused || list[0].Reason == "" {
		t.Fatalf("paused schedule: %+v", list[0])
	}
	got, _ := e.srv.Workflows.Schedule(ctx, v.ID, e.ann)
	if len(got.History) != 2 || got.History[0].Outcome != store.FiringTokenSkipped || got.History[1].Outcome != store.FiringTokenSkipped {
		t.Fatalf("history: %+v", got.History)
	}
	setState(store.TokenValid, "")
	e.clk.Set(time.Date(2025, 1, 1, 2, 30, 0, 0, time.UTC))
	e.fire()
	if got, _ := e.srv.Workflows.Schedule(ctx, v.ID, e.ann); got.State != store.ScheduleActive || got.Reason != "" {
		t.Fatalf("after reconnecting: %+v", got)
	}
	e.clk.Set(time.Date(2025, 1, 1, 3, 0, 1, 0, time.UTC))
	if n := e.fire(); n != 1 {
		t.Fatalf("after resuming: %d runs", n)
	}
}

// TestScheduleMisfireAndTimes: due times missed while nothing ran follow
// the policy (one run, or a skipped record), and --times ends a schedule.
func TestScheduleMisfireAndTimes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	e := startSchedEnv(t, storetest.New(t), t0)
	ctx := context.Background()
	sp := workflow.Spec{Kind: workflow.SpecEvery, Every: time.Hour}
	once := e.create(sp, nil)
	skip := e.create(sp, func(p *workflow.ScheduleParams) { p.Misfire = store.MisfireSkip })
	twice := e.create(sp, func(p *workflow.ScheduleParams) { p.MaxRuns = 2 })
	if twice.Times == nil || *twice.Times != 2 || len(twice.NextRuns) != 2 {
		t.Fatalf("a 2-run schedule: %+v", twice)
	}
	e.clk.Set(t0.Add(5*time.Hour + 30*time.Minute)) // down from before 01:00 to 05:30
	e.fire()
	check := func(id string, runs int, outcome string, missed int) {
		t.Helper()
		v, err := e.srv.Workflows.Schedule(ctx, id, e.ann)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.runs(id)) != runs || len(v.History) == 0 || v.History[len(v.History)-1].Outcome != outcome || v.History[len(v.History)-1].Missed != missed {
			t.Fatalf("schedule %s: %d runs, history %+v", id, len(e.runs(id)), v.History)
		}
	}
	check(once.ID, 1, store.FiringCatchUp, 5)
	check(skip.ID, 0, store.FiringSkipped, 5)
	check(twice.ID, 1, store.FiringCatchUp, 5)
	e.clk.Set(t0.Add(6*time.Hour + time.Second))
	e.fire()
	e.clk.Set(t0.Add(7*time.Hour + time.Second))
	e.fire()
	v, _ := e.srv.Workflows.Schedule(ctx, twice.ID, e.ann)
	if v.State != store.ScheduleFinished || len(e.runs(twice.ID)) != 2 || len(v.NextRuns) != 0 {
		t.Fatalf("after 2 runs: %+v (%d runs)", v, len(e.runs(twice.ID)))
	}
	if n := len(e.runs(once.ID)); n != 3 {
		t.Fatalf("run-once schedule: %d runs, want 3", n)
	}
	if _, err := e.srv.Workflows.CreateSchedule(ctx, workflow.ScheduleParams{WorkflowID: e.wfID, Actor: e.ann, Spec: sp,
		Inputs: map[string]any{"nobody": "x"}}); !errors.Is(err, workflow.ErrInvalid) {
		t.Fatalf("an unknown input: %v", err)
	}
}

// apiCall sends a JSON request as p, with the CSRF token of a page.
func apiCall(t *testing.T, p *person, method, path, body string) (int, string) {
	t.Helper()
	csrf := csrfOf(t, p.page("/automation/workflows"))
	req, _ := http.NewRequest(method, p.e.url+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err := p.c.Do(req)
	r, b := read(t, resp, err)
	return r.StatusCode, b
}

// TestScheduleAPIRoles: the JSON API answers 403 to a viewer for every
// change and lets a tenant_admin make them.
func TestScheduleAPIRoles(t *testing.T) {
	t.Parallel()
	e := startSchedEnv(t, storetest.New(t), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	ann, vic := e.pe.login("ann@example.com"), e.pe.login("vic@example.com")
	body := `{"calendar": "daily", "at": "02:30", "timezone": "Europe/Berlin", "times": 4}`
	if code, b := apiCall(t, vic, "POST", "/api/automation/workflows/"+e.wfID+"/schedules", body); code != http.StatusForbidden {
		t.Fatalf("viewer creates: %d %s", code, b)
	}
	code, b := apiCall(t, ann, "POST", "/api/automation/workflows/"+e.wfID+"/schedules", body)
	var v workflow.ScheduleView
	if code != http.StatusCreated || json.Unmarshal([]byte(b), &v) != nil || len(v.NextRuns) != 4 || v.NextRuns[0] != "2025-01-01T02:30:00+01:00" {
		t.Fatalf("admin creates: %d %s", code, b)
	}
	if code, b := apiCall(t, ann, "POST", "/api/automation/workflows/"+e.wfID+"/schedules", `{"every": "1h", "cron": "* * * * *"}`); code != http.StatusBadRequest {
		t.Fatalf("two kinds at once: %d %s", code, b)
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/automation/schedules/" + v.ID + "/disable"},
		{"POST", "/api/automation/schedules/" + v.ID + "/enable"},
		{"DELETE", "/api/automation/schedules/" + v.ID},
	} {
		if code, b := apiCall(t, vic, c.method, c.path, ""); code != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d %s", c.method, c.path, code, b)
		}
	}
	if code, b := apiCall(t, vic, "GET", "/api/automation/tenants/"+e.tenant+"/schedules", ""); code != http.StatusOK || !bytes.Contains([]byte(b), []byte(v.ID)) {
		t.Fatalf("viewer lists: %d %s", code, b)
	}
	if code, b := apiCall(t, ann, "POST", "/api/automation/schedules/"+v.ID+"/disable", ""); code != http.StatusOK || !bytes.Contains([]byte(b), []byte(`"enabled": false`)) && !bytes.Contains([]byte(b), []byte(`"enabled":false`)) {
		t.Fatalf("admin disables: %d %s", code, b)
	}
	if code, b := apiCall(t, ann, "DELETE", "/api/automation/schedules/"+v.ID, ""); code != http.StatusNoContent {
		t.Fatalf("admin deletes: %d %s", code, b)
	}
}
