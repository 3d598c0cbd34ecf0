package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func init() {
	register("Workflows", testWorkflows)
	register("ConcurrentWorkflowVersions", testConcurrentWorkflowVersions)
	register("WorkflowSecrets", testWorkflowSecrets)
	register("Runs", testRuns)
	register("RunPaging", testRunPaging)
	register("UpdateRun", testUpdateRun)
	register("ConcurrentUpdateRun", testConcurrentUpdateRun)
	register("RunHeartbeat", testRunHeartbeat)
	register("RunActivities", testRunActivities)
	register("ImportedTargets", testImportedTargets)
}

// seedTenant makes organization orgID with tenant tenantID.
func seedTenant(t *testing.T, s store.Store, orgID, tenantID string) {
	t.Helper()
	seedOrgAccount(t, s, orgID, "alice", store.AccessFull)
	must(t, s.Automation().CreateTenant(context.Background(), store.Tenant{ID: tenantID, OrgID: orgID, CreatedAt: t0}))
}

func workflow(id, tenant, unique string) store.Workflow {
	return store.Workflow{ID: id, TenantID: tenant, UniqueName: unique, Name: "Name of " + unique, Atomic: true,
		Definition: []byte(`{"unique_name":"` + unique + `","id":"` + id + `"}`), Runnable: true, ImportedBy: "alice", CreatedAt: t0}
}

func testWorkflows(t *testing.T, s store.Store) {
	ctx := context.Background()
	wf := s.Workflows()
	seedTenant(t, s, "100", "ten_1")
	seedTenant(t, s, "200", "ten_2")

	a1 := workflow("wf_a1", "ten_1", "definition_workflow_a")
	a1.Name = "Zeta"
	a1.Report = []byte(`{"missing":["definition_target_x"]}`)
	a1.Runnable = false
	got, err := wf.CreateWorkflowVersion(ctx, a1)
	must(t, err)
	a1.Version = 1
	if !reflect.DeepEqual(got, a1) {
		t.Fatalf("CreateWorkflowVersion = %+v, want %+v", got, a1)
	}
	a2 := workflow("wf_a2", "ten_1", "definition_workflow_a")
	a2.Name = "Alpha" // a rename in a later version
	a2.CreatedAt = t0.Add(time.Minute)
	a2.Version = 99 // ignored: the store assigns versions
	if a2, err = wf.CreateWorkflowVersion(ctx, a2); err != nil || a2.Version != 2 {
		t.Fatalf("second version = %d, %v; want 2", a2.Version, err)
	}
	b1, err := wf.CreateWorkflowVersion(ctx, workflow("wf_b1", "ten_1", "definition_workflow_b"))
	must(t, err)
	// Versions are per tenant.
	if other, err := wf.CreateWorkflowVersion(ctx, workflow("wf_o1", "ten_2", "definition_workflow_a")); err != nil || other.Version != 1 {
		t.Fatalf("other tenant's first version = %d, %v; want 1", other.Version, err)
	}

	if _, err := wf.CreateWorkflowVersion(ctx, workflow("wf_a1", "ten_1", "definition_workflow_c")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken id: %v", err)
	}
	if _, err := wf.CreateWorkflowVersion(ctx, workflow("wf_x", "ten_9", "definition_workflow_a")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing tenant: %v", err)
	}

	if got, err := wf.GetWorkflow(ctx, "wf_a1"); err != nil || !reflect.DeepEqual(got, a1) {
		t.Fatalf("GetWorkflow = %+v, %v; want %+v", got, err, a1)
	}
	if _, err := wf.GetWorkflow(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetWorkflow(unknown) = %v", err)
	}
	if got, err := wf.LatestWorkflow(ctx, "ten_1", "definition_workflow_a"); err != nil || !reflect.DeepEqual(got, a2) {
		t.Fatalf("LatestWorkflow = %+v, %v; want %+v", got, err, a2)
	}
	if _, err := wf.LatestWorkflow(ctx, "ten_2", "definition_workflow_b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestWorkflow of another tenant's workflow = %v", err)
	}

	list, err := wf.ListWorkflows(ctx, "ten_1")
	must(t, err)
	if len(list) != 2 || !reflect.DeepEqual(list[0], a2) || !reflect.DeepEqual(list[1], b1) {
		t.Fatalf("ListWorkflows = %+v; want the latest of a (Alpha), then b", list)
	}

	must(t, wf.UpdateWorkflowReport(ctx, "wf_a1", true, nil))
	if got, _ := wf.GetWorkflow(ctx, "wf_a1"); !got.Runnable || got.Report != nil || got.Definition == nil {
		t.Fatalf("after UpdateWorkflowReport: %+v", got)
	}
	if err := wf.UpdateWorkflowReport(ctx, "nope", true, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateWorkflowReport(unknown) = %v", err)
	}
}

// testConcurrentWorkflowVersions: racing imports of one unique_name each
// get their own version, with no gaps.
func testConcurrentWorkflowVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedTenant(t, s, "100", "ten_1")
	const n = 8
	versions := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w, err := s.Workflows().CreateWorkflowVersion(ctx, workflow(fmt.Sprintf("wf_%d", i), "ten_1", "definition_workflow_a"))
			if err != nil {
				t.Errorf("import %d: %v", i, err)
			}
			versions[i] = w.Version
		})
	}
	wg.Wait()
	slices.Sort(versions)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(versions, want) {
		t.Fatalf("versions = %v, want %v", versions, want)
	}
	if w, err := s.Workflows().LatestWorkflow(ctx, "ten_1", "definition_workflow_a"); err != nil || w.Version != n {
		t.Fatalf("LatestWorkflow = %d, %v", w.Version, err)
	}
}

func testWorkflowSecrets(t *testing.T, s store.Store) {
	ctx := context.Background()
	wf := s.Workflows()
	seedTenant(t, s, "100", "ten_1")
	put := func(unique, variable, sealed string, at time.Time) {
		t.Helper()
		must(t, wf.PutWorkflowSecret(ctx, store.WorkflowSecret{TenantID: "ten_1", UniqueName: unique, VariableID: variable, Sealed: []byte(sealed), UpdatedAt: at}))
	}
	put("definition_workflow_a", "variable_b", "sealed-b", t0)
	put("definition_workflow_a", "variable_a", "sealed-a1", t0)
	put("definition_workflow_a", "variable_a", "sealed-a2", t0.Add(time.Hour)) // replaces
	put("definition_workflow_z", "variable_a", "other", t0)
	got, err := wf.WorkflowSecrets(ctx, "ten_1", "definition_workflow_a")
	must(t, err)
	want := []store.WorkflowSecret{
		{TenantID: "ten_1", UniqueName: "definition_workflow_a", VariableID: "variable_a", Sealed: []byte("sealed-a2"), UpdatedAt: t0.Add(time.Hour)},
		{TenantID: "ten_1", UniqueName: "definition_workflow_a", VariableID: "variable_b", Sealed: []byte("sealed-b"), UpdatedAt: t0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("WorkflowSecrets = %+v, want %+v", got, want)
	}
	if err := wf.PutWorkflowSecret(ctx, store.WorkflowSecret{TenantID: "ten_9", UniqueName: "u", VariableID: "v", Sealed: []byte("x"), UpdatedAt: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("secret of a missing tenant: %v", err)
	}
}

// seedWorkflows makes tenant ten_1 with wf_a1, wf_a2 (two versions of a)
// and wf_b1.
func seedWorkflows(t *testing.T, s store.Store) {
	t.Helper()
	seedTenant(t, s, "100", "ten_1")
	for _, w := range []store.Workflow{workflow("wf_a1", "ten_1", "a"), workflow("wf_a2", "ten_1", "a"), workflow("wf_b1", "ten_1", "b")} {
		if _, err := s.Workflows().CreateWorkflowVersion(context.Background(), w); err != nil {
			t.Fatal(err)
		}
	}
}

func run(id, workflowID string, created time.Time) store.Run {
	return store.Run{ID: id, TenantID: "ten_1", WorkflowID: workflowID, WorkflowName: "Name", Version: 1, Status: store.RunQueued,
		StartedBy: "alice", Inputs: []byte(`{"x":1}`), CreatedAt: created}
}

func testRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	rs := s.Runs()
	seedWorkflows(t, s)

	full := store.Run{ID: "run_1", TenantID: "ten_1", WorkflowID: "wf_a1", WorkflowName: "Name of a", Version: 1, Status: store.RunWaiting,
		StartedBy: "alice", ScheduleID: "sch_1", TokenKind: "user", TokenOwner: "alice", TargetID: "tg_1",
		Inputs: []byte(`{"a":"*****"}`), Outputs: []byte(`{"b":2}`), ResultMessage: "done", Error: "none",
		Prompt: []byte(`{"q":"ok?"}`), Answer: []byte(`{"a":true}`), AnsweredBy: "bob", CancelRequested: true,
		Owner: "proc-1", HeartbeatAt: t0.Add(3 * time.Second), Attempt: 2,
		CreatedAt: t0, StartedAt: t0.Add(time.Second), EndedAt: t0.Add(2 * time.Second)}
	must(t, rs.CreateRun(ctx, full))
	if got, err := rs.GetRun(ctx, "run_1"); err != nil || !reflect.DeepEqual(got, full) {
		t.Fatalf("GetRun = %+v, %v\nwant %+v", got, err, full)
	}
	bare := run("run_2", "wf_b1", t0)
	bare.Inputs = nil
	must(t, rs.CreateRun(ctx, bare))
	if got, err := rs.GetRun(ctx, "run_2"); err != nil || !reflect.DeepEqual(got, bare) {
		t.Fatalf("GetRun(bare) = %+v, %v\nwant %+v (nil JSON and zero times read back as nil and zero)", got, err, bare)
	}
	if err := rs.CreateRun(ctx, run("run_1", "wf_a1", t0)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken id: %v", err)
	}
	if err := rs.CreateRun(ctx, run("run_x", "wf_nope", t0)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing workflow: %v", err)
	}
	if _, err := rs.GetRun(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRun(unknown) = %v", err)
	}

	r3 := run("run_3", "wf_a2", t0.Add(time.Minute))
	r3.Status = store.RunSucceeded
	must(t, rs.CreateRun(ctx, r3))
	r4 := run("run_4", "wf_a2", t0.Add(2*time.Minute))
	r4.ScheduleID = "sch_1"
	r4.Status = store.RunRunning
	must(t, rs.CreateRun(ctx, r4))

	ids := func(f store.RunFilter) []string {
		t.Helper()
		list, err := rs.ListRuns(ctx, f)
		must(t, err)
		n, err := rs.CountRuns(ctx, f)
		must(t, err)
		var out []string
		for _, r := range list {
			out = append(out, r.ID)
		}
		if f.Limit == 0 && n != len(out) {
			t.Errorf("CountRuns(%+v) = %d, ListRuns returned %d", f, n, len(out))
		}
		return out
	}
	for _, c := range []struct {
		f    store.RunFilter
		want []string
	}{
		{store.RunFilter{}, []string{"run_4", "run_3", "run_2", "run_1"}},
		{store.RunFilter{TenantID: "ten_1"}, []string{"run_4", "run_3", "run_2", "run_1"}},
		{store.RunFilter{TenantID: "ten_2"}, nil},
		{store.RunFilter{TenantID: "ten_1", WorkflowUniqueName: "a"}, []string{"run_4", "run_3", "run_1"}},
		{store.RunFilter{WorkflowUniqueName: "b"}, []string{"run_2"}},
		{store.RunFilter{WorkflowID: "wf_a2"}, []string{"run_4", "run_3"}},
		{store.RunFilter{ScheduleID: "sch_1"}, []string{"run_4", "run_1"}},
		{store.RunFilter{Statuses: []string{store.RunRunning, store.RunWaiting}}, []string{"run_4", "run_1"}},
		{store.RunFilter{TenantID: "ten_1", WorkflowUniqueName: "a", Statuses: []string{store.RunSucceeded}}, []string{"run_3"}},
		{store.RunFilter{Limit: 2}, []string{"run_4", "run_3"}},
		{store.RunFilter{Before: "run_3"}, []string{"run_2", "run_1"}},
		{store.RunFilter{Before: "run_nope"}, nil},
	} {
		if got := ids(c.f); !slices.Equal(got, c.want) {
			t.Errorf("ListRuns(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
}

// testRunPaging walks 25 runs, some created in the same microsecond, page
// by page with the cursor, and expects every run once, newest first.
func testRunPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	rs := s.Runs()
	seedWorkflows(t, s)
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("run_%02d", i)
		must(t, rs.CreateRun(ctx, run(id, "wf_a1", t0.Add(time.Duration(i/3)*time.Second))))
		want = append(want, id)
	}
	slices.Reverse(want)
	var got []string
	before := ""
	for page := 0; ; page++ {
		list, err := rs.ListRuns(ctx, store.RunFilter{TenantID: "ten_1", Limit: 4, Before: before})
		must(t, err)
		if len(list) == 0 {
			break
		}
		if page > 10 {
			t.Fatal("paging does not end")
		}
		for _, r := range list {
			got = append(got, r.ID)
		}
		before = list[len(list)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %v\nwant    %v", got, want)
	}
	if n, err := rs.CountRuns(ctx, store.RunFilter{TenantID: "ten_1", Limit: 4}); err != nil || n != 25 {
		t.Fatalf("CountRuns = %d, %v; want 25 (Limit ignored)", n, err)
	}
}

func testUpdateRun(t *testing.T, s store.Store) {
	ctx := context.Background()
	rs := s.Runs()
	seedWorkflows(t, s)
	must(t, rs.CreateRun(ctx, run("run_1", "wf_a1", t0)))

	up, err := rs.UpdateRun(ctx, "run_1", func(r *store.Run) error {
		r.Status, r.Owner, r.Attempt = store.RunWaiting, "proc-1", 1
		r.StartedAt, r.HeartbeatAt = t0.Add(time.Second), t0.Add(time.Second)
		r.Prompt = []byte(`{"question":"go?"}`)
		r.TokenKind, r.TokenOwner, r.TargetID = "user", "alice", "tg_1"
		// Ignored: a run never moves to another tenant or workflow.
		r.TenantID, r.WorkflowID, r.Version, r.CreatedAt, r.ScheduleID = "ten_9", "wf_b1", 7, t0.Add(time.Hour), "sch_x"
		return nil
	})
	must(t, err)
	if up.TenantID != "ten_1" || up.WorkflowID != "wf_a1" || up.Version != 1 || !up.CreatedAt.Equal(t0) || up.ScheduleID != "" {
		t.Fatalf("UpdateRun changed an immutable field: %+v", up)
	}
	if got, _ := rs.GetRun(ctx, "run_1"); !reflect.DeepEqual(got, up) || got.Status != store.RunWaiting || string(got.Prompt) != `{"question":"go?"}` {
		t.Fatalf("GetRun after update = %+v\nUpdateRun returned %+v", got, up)
	}

	boom := errors.New("boom")
	if _, err := rs.UpdateRun(ctx, "run_1", func(r *store.Run) error { r.Status = store.RunFailed; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing fn: %v", err)
	}
	if got, _ := rs.GetRun(ctx, "run_1"); got.Status != store.RunWaiting {
		t.Fatalf("a failed update changed the run: %+v", got)
	}
	// Clearing: the answer is consumed, the prompt goes, the run ends.
	ended, err := rs.UpdateRun(ctx, "run_1", func(r *store.Run) error {
		r.Prompt, r.Answer, r.Status, r.Owner, r.HeartbeatAt, r.EndedAt = nil, nil, store.RunSucceeded, "", time.Time{}, t0.Add(time.Minute)
		return nil
	})
	must(t, err)
	if got, _ := rs.GetRun(ctx, "run_1"); !reflect.DeepEqual(got, ended) || got.Prompt != nil || !got.HeartbeatAt.IsZero() || !store.RunEnded(got.Status) {
		t.Fatalf("after clearing: %+v", got)
	}
	if _, err := rs.UpdateRun(ctx, "nope", func(*store.Run) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing run: %v", err)
	}
}

// testConcurrentUpdateRun: read-modify-write under the row lock loses no
// update.
func testConcurrentUpdateRun(t *testing.T, s store.Store) {
	ctx := context.Background()
	rs := s.Runs()
	seedWorkflows(t, s)
	must(t, rs.CreateRun(ctx, run("run_1", "wf_a1", t0)))
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := rs.UpdateRun(ctx, "run_1", func(r *store.Run) error { r.Attempt++; return nil }); err != nil {
				t.Errorf("update: %v", err)
			}
		})
	}
	wg.Wait()
	if got, err := rs.GetRun(ctx, "run_1"); err != nil || got.Attempt != n {
		t.Fatalf("Attempt = %d, %v; want %d", got.Attempt, err, n)
	}
}

func testRunHeartbeat(t *testing.T, s store.Store) {
	ctx := context.Background()
	rs := s.Runs()
	seedWorkflows(t, s)
	mk := func(id, status, owner string, heartbeat time.Time) {
		t.Helper()
		r := run(id, "wf_a1", t0)
		r.Status, r.Owner, r.HeartbeatAt = status, owner, heartbeat
		must(t, rs.CreateRun(ctx, r))
	}
	mk("run_live", store.RunRunning, "p1", t0.Add(time.Minute))
	mk("run_dead", store.RunRunning, "p2", t0)
	mk("run_never", store.RunRunning, "p3", time.Time{}) // died before its first heartbeat
	mk("run_wait", store.RunWaiting, "p1", t0)
	mk("run_done", store.RunSucceeded, "p1", t0)
	mk("run_queued", store.RunQueued, "", time.Time{})

	for _, c := range []struct {
		id, owner string
		want      bool
	}{
		{"run_live", "p1", true},
		{"run_live", "p2", false}, // not the owner
		{"run_wait", "p1", true},
		{"run_done", "p1", false}, // ended
		{"run_queued", "", false},
		{"run_nope", "p1", false},
	} {
		ok, err := rs.Heartbeat(ctx, c.id, c.owner, t0.Add(2*time.Minute))
		must(t, err)
		if ok != c.want {
			t.Errorf("Heartbeat(%s, %s) = %v, want %v", c.id, c.owner, ok, c.want)
		}
	}
	if got, _ := rs.GetRun(ctx, "run_live"); !got.HeartbeatAt.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("HeartbeatAt = %v", got.HeartbeatAt)
	}
	if got, _ := rs.GetRun(ctx, "run_done"); !got.HeartbeatAt.Equal(t0) {
		t.Fatalf("a refused heartbeat changed HeartbeatAt: %v", got.HeartbeatAt)
	}

	stale, err := rs.StaleRuns(ctx, t0.Add(time.Minute), 10)
	must(t, err)
	var ids []string
	for _, r := range stale {
		ids = append(ids, r.ID)
	}
	if want := []string{"run_never", "run_dead"}; !slices.Equal(ids, want) {
		t.Fatalf("StaleRuns = %v, want %v (running only, oldest heartbeat first)", ids, want)
	}
	if stale, _ := rs.StaleRuns(ctx, t0.Add(time.Hour), 1); len(stale) != 1 {
		t.Fatalf("StaleRuns limit 1 returned %d", len(stale))
	}
}

func activity(runID string, seq int, status string) store.RunActivity {
	return store.RunActivity{RunID: runID, Seq: seq, Key: fmt.Sprintf("root/activity_%d#1", seq), ActivityID: fmt.Sprintf("activity_%d", seq),
		Type: "logic.if_else", Title: "Step", Status: status, StartedAt: t0.Add(time.Duration(seq) * time.Millisecond),
		Input: []byte(`{"in":1}`)}
}

func testRunActivities(t *testing.T, s store.Store) {
	ctx := context.Background()
	rs := s.Runs()
	seedWorkflows(t, s)
	must(t, rs.CreateRun(ctx, run("run_1", "wf_a1", t0)))
	must(t, rs.CreateRun(ctx, run("run_2", "wf_a1", t0)))

	// A batch of hundreds, out of order, across two runs.
	var batch, want []store.RunActivity
	for seq := 500; seq >= 1; seq-- {
		batch = append(batch, activity("run_1", seq, "running"))
	}
	batch = append(batch, activity("run_2", 1, "running"))
	must(t, rs.PutActivities(ctx, batch))
	for seq := 1; seq <= 500; seq++ {
		want = append(want, activity("run_1", seq, "running"))
	}
	got, err := rs.ListActivities(ctx, "run_1")
	must(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListActivities: %d rows, first %+v; want %d by seq", len(got), got[:min(1, len(got))], len(want))
	}

	// Upsert: seq 2 ends; seq 3 is written twice in one batch, the last wins.
	done := activity("run_1", 2, "succeeded")
	done.EndedAt, done.Output, done.Input = t0.Add(time.Second), []byte(`{"out":true}`), nil
	failed := activity("run_1", 3, "failed")
	failed.Error = "first"
	failed2 := failed
	failed2.Error = "second"
	must(t, rs.PutActivities(ctx, []store.RunActivity{done, failed, failed2}))
	got, err = rs.ListActivities(ctx, "run_1")
	must(t, err)
	if len(got) != 500 || !reflect.DeepEqual(got[1], done) || !reflect.DeepEqual(got[2], failed2) || !reflect.DeepEqual(got[3], want[3]) {
		t.Fatalf("after upsert: %+v / %+v / %+v", got[1], got[2], got[3])
	}
	if other, _ := rs.ListActivities(ctx, "run_2"); len(other) != 1 {
		t.Fatalf("run_2 has %d activities", len(other))
	}

	// A replay key is unique in its run; a failed batch writes nothing.
	clash := activity("run_1", 501, "running")
	clash.Key = want[0].Key
	if err := rs.PutActivities(ctx, []store.RunActivity{activity("run_1", 502, "running"), clash}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken replay key: %v", err)
	}
	if got, _ := rs.ListActivities(ctx, "run_1"); len(got) != 500 {
		t.Fatalf("a failed batch left %d rows, want 500", len(got))
	}
	if err := rs.PutActivities(ctx, []store.RunActivity{activity("run_nope", 1, "running")}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("activity of a missing run: %v", err)
	}
	must(t, rs.PutActivities(ctx, nil))
}

func importedTarget(id, external string) store.Target {
	return store.Target{ID: id, TenantID: "ten_1", Name: "Imported " + external, Type: "web-service.endpoint", Protocol: "https",
		Host: "example.com", Port: 443, BasePath: "/v1", MetadataVersion: "", CreatedTrigger: "import",
		CreatedAt: t0, UpdatedAt: t0, SyncedAt: t0, ExternalID: external, Properties: []byte(`{"host":"example.com"}`)}
}

func testImportedTargets(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Automation()
	seedTenant(t, s, "100", "ten_1")
	must(t, a.CreateTarget(ctx, target("tg_org", "ten_1")))

	first := importedTarget("tg_1", "definition_target_1")
	got, err := a.UpsertImportedTarget(ctx, first)
	must(t, err)
	if !reflect.DeepEqual(got, first) {
		t.Fatalf("UpsertImportedTarget = %+v, want %+v", got, first)
	}
	if got, err := a.GetTarget(ctx, "tg_1"); err != nil || !reflect.DeepEqual(got, first) {
		t.Fatalf("GetTarget = %+v, %v", got, err)
	}
	if _, err := a.GetTarget(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTarget(unknown) = %v", err)
	}

	// An operator edits the host; the export id and the tenant stay.
	edited, err := a.UpdateTarget(ctx, "tg_1", func(tg *store.Target) error {
		tg.Host, tg.Port, tg.Protocol, tg.BasePath, tg.UpdatedAt = "internal.example.net", 8443, "http", "/api", t0.Add(time.Hour)
		tg.ExternalID = "definition_target_other" // ignored
		return nil
	})
	must(t, err)
	if edited.ExternalID != "definition_target_1" || edited.Host != "internal.example.net" {
		t.Fatalf("UpdateTarget = %+v", edited)
	}
	// Re-importing the same export returns the edited target unchanged.
	again := importedTarget("tg_2", "definition_target_1")
	again.Host = "example.org"
	got, err = a.UpsertImportedTarget(ctx, again)
	must(t, err)
	if !reflect.DeepEqual(got, edited) {
		t.Fatalf("re-import = %+v, want the edited %+v", got, edited)
	}

	// A different export target whose name is taken conflicts.
	clash := importedTarget("tg_3", "definition_target_3")
	clash.Name = "Meraki - Current Org"
	if _, err := a.UpsertImportedTarget(ctx, clash); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken name: %v", err)
	}
	if _, err := a.UpsertImportedTarget(ctx, importedTarget("tg_4", "")); err == nil {
		t.Fatal("an imported target without an external id was accepted")
	}

	// Racing imports of one export agree on one target.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			tg, err := a.UpsertImportedTarget(ctx, importedTarget(fmt.Sprintf("tg_race_%d", i), "definition_target_race"))
			if err != nil {
				t.Errorf("upsert %d: %v", i, err)
			}
			ids[i] = tg.ID
		})
	}
	wg.Wait()
	if ids[0] == "" || slices.ContainsFunc(ids, func(id string) bool { return id != ids[0] }) {
		t.Fatalf("racing upserts returned %v", ids)
	}

	list, err := a.ListTargets(ctx, "ten_1")
	must(t, err)
	if len(list) != 3 {
		t.Fatalf("ListTargets = %+v; want the org target and two imported", list)
	}
	if org, _ := a.GetTarget(ctx, "tg_org"); org.ExternalID != "" || org.Properties != nil {
		t.Fatalf("the org target = %+v; want no external id or properties", org)
	}
}
