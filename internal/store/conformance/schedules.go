package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func init() {
	register("Schedules", testSchedules)
	register("ScheduleFire", testScheduleFire)
	register("ConcurrentScheduleFire", testConcurrentScheduleFire)
}

func schedulesOf(t *testing.T, s store.Store) store.Schedules {
	t.Helper()
	ss, ok := s.(store.ScheduleStore)
	if !ok {
		t.Fatalf("%T keeps no schedules", s)
	}
	return ss.Schedules()
}

func seedSchedule(t *testing.T, s store.Store, id string, next time.Time) store.Schedule {
	t.Helper()
	sc := store.Schedule{ID: id, TenantID: "ten_1", WorkflowID: "wf_a1", UniqueName: "definition_workflow_a", Name: "nightly",
		Spec: []byte(`{"kind":"every"}`), Inputs: []byte(`{"x":1}`), Misfire: store.MisfireRunOnce, MaxRuns: 3, Enabled: true,
		State: store.ScheduleActive, NextDueAt: next, CreatedBy: "alice", CreatedAt: t0, UpdatedAt: t0}
	must(t, schedulesOf(t, s).CreateSchedule(context.Background(), sc))
	return sc
}

func seedScheduleWorkflow(t *testing.T, s store.Store) {
	t.Helper()
	seedTenant(t, s, "100", "ten_1")
	_, err := s.Workflows().CreateWorkflowVersion(context.Background(), workflow("wf_a1", "ten_1", "definition_workflow_a"))
	must(t, err)
}

func testSchedules(t *testing.T, s store.Store) {
	ctx := context.Background()
	ss := schedulesOf(t, s)
	seedScheduleWorkflow(t, s)
	a := seedSchedule(t, s, "sch_a", t0.Add(time.Hour))
	b := seedSchedule(t, s, "sch_b", t0.Add(time.Minute))
	if err := ss.CreateSchedule(ctx, a); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken id: %v", err)
	}
	missing := a
	missing.ID, missing.WorkflowID = "sch_x", "wf_nope"
	if err := ss.CreateSchedule(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing workflow: %v", err)
	}
	if got, err := ss.GetSchedule(ctx, "sch_a"); err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("GetSchedule = %+v, %v; want %+v", got, err, a)
	}
	if _, err := ss.GetSchedule(ctx, "sch_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSchedule(missing) = %v", err)
	}
	list, err := ss.ListSchedules(ctx, store.ScheduleFilter{TenantID: "ten_1"})
	if err != nil || len(list) != 2 || list[0].ID != "sch_a" || list[1].ID != "sch_b" {
		t.Fatalf("ListSchedules = %+v, %v", list, err)
	}

	// Update: the fields that may change change, the others stay.
	got, err := ss.UpdateSchedule(ctx, "sch_b", func(sc *store.Schedule) error {
		sc.Enabled, sc.State, sc.Reason, sc.NextDueAt = false, store.SchedulePaused, "the token needs reconnecting", time.Time{}
		sc.CreatedBy, sc.Runs = "mallory", 99
		return nil
	})
	must(t, err)
	if got.Enabled || got.State != store.SchedulePaused || got.CreatedBy != "alice" || got.Runs != 0 || !got.NextDueAt.IsZero() {
		t.Fatalf("UpdateSchedule = %+v", got)
	}
	if reread, _ := ss.GetSchedule(ctx, "sch_b"); !reflect.DeepEqual(reread, got) {
		t.Fatalf("after UpdateSchedule: %+v, want %+v", reread, got)
	}
	boom := errors.New("boom")
	if _, err := ss.UpdateSchedule(ctx, "sch_a", func(*store.Schedule) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateSchedule(fn error) = %v", err)
	}
	enabled := false
	if l, _ := ss.ListSchedules(ctx, store.ScheduleFilter{Enabled: &enabled}); len(l) != 1 || l[0].ID != "sch_b" {
		t.Fatalf("disabled schedules = %+v", l)
	}
	if l, _ := ss.ListSchedules(ctx, store.ScheduleFilter{State: store.SchedulePaused}); len(l) != 1 || l[0].ID != "sch_b" {
		t.Fatalf("paused schedules = %+v", l)
	}

	// Due: enabled and due by now, earliest first.
	_ = seedSchedule(t, s, "sch_c", t0.Add(30*time.Minute))
	due, err := ss.DueSchedules(ctx, t0.Add(time.Hour), 10)
	if err != nil || len(due) != 2 || due[0].ID != "sch_c" || due[1].ID != "sch_a" {
		t.Fatalf("DueSchedules = %+v, %v", due, err)
	}
	if due, _ := ss.DueSchedules(ctx, t0.Add(time.Hour), 1); len(due) != 1 {
		t.Fatalf("DueSchedules limit 1 = %d", len(due))
	}

	must(t, ss.DeleteSchedule(ctx, "sch_a"))
	if err := ss.DeleteSchedule(ctx, "sch_a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	_ = b
}

func scheduledRun(id, scheduleID string) store.Run {
	return store.Run{ID: id, TenantID: "ten_1", WorkflowID: "wf_a1", WorkflowName: "Name of definition_workflow_a", Version: 1,
		Status: store.RunQueued, ScheduleID: scheduleID, TokenKind: "org", CreatedAt: t0}
}

func testScheduleFire(t *testing.T, s store.Store) {
	ctx := context.Background()
	ss := schedulesOf(t, s)
	seedScheduleWorkflow(t, s)
	due := t0.Add(time.Minute)
	seedSchedule(t, s, "sch_a", due)
	fire := func(due, next time.Time, runID string) (bool, error) {
		p := store.FireParams{ScheduleID: "sch_a", DueAt: due, At: due, Next: next, State: store.ScheduleActive,
			Firings: []store.ScheduleFiring{{ScheduleID: "sch_a", DueAt: due, FiredAt: due, Outcome: store.FiringRun, Missed: 1, RunID: runID}}}
		if runID != "" {
			p.Runs = []store.Run{scheduledRun(runID, "sch_a")}
		}
		return ss.Fire(ctx, p)
	}
	ok, err := fire(due, due.Add(time.Minute), "run_1")
	if err != nil || !ok {
		t.Fatalf("Fire = %v, %v", ok, err)
	}
	// The same due time again: not fired, nothing written.
	if ok, err := fire(due, due.Add(time.Minute), "run_2"); err != nil || ok {
		t.Fatalf("second Fire of one due time = %v, %v", ok, err)
	}
	if _, err := s.Runs().GetRun(ctx, "run_2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the losing fire's run exists: %v", err)
	}
	if r, err := s.Runs().GetRun(ctx, "run_1"); err != nil || r.ScheduleID != "sch_a" {
		t.Fatalf("the fired run = %+v, %v", r, err)
	}
	sc, _ := ss.GetSchedule(ctx, "sch_a")
	if sc.Runs != 1 || !sc.NextDueAt.Equal(due.Add(time.Minute)) {
		t.Fatalf("after Fire: runs %d, next %s", sc.Runs, sc.NextDueAt)
	}
	// A skipped span (no run) and the end of the schedule.
	p := store.FireParams{ScheduleID: "sch_a", DueAt: due.Add(time.Minute), At: due.Add(time.Hour), State: store.ScheduleFinished,
		Firings: []store.ScheduleFiring{{ScheduleID: "sch_a", DueAt: due.Add(time.Minute), FiredAt: due.Add(time.Hour), Outcome: store.FiringSkipped, Missed: 59}}}
	if ok, err := ss.Fire(ctx, p); err != nil || !ok {
		t.Fatalf("Fire(skipped) = %v, %v", ok, err)
	}
	sc, _ = ss.GetSchedule(ctx, "sch_a")
	if sc.Runs != 1 || !sc.NextDueAt.IsZero() || sc.State != store.ScheduleFinished {
		t.Fatalf("after the last Fire: %+v", sc)
	}
	if d, _ := ss.DueSchedules(ctx, t0.Add(1000*time.Hour), 10); len(d) != 0 {
		t.Fatalf("a finished schedule is due: %+v", d)
	}
	firings, err := ss.ListFirings(ctx, "sch_a", 0)
	if err != nil || len(firings) != 2 || firings[0].Outcome != store.FiringSkipped || firings[0].Missed != 59 || firings[1].RunID != "run_1" {
		t.Fatalf("ListFirings = %+v, %v", firings, err)
	}
	// The run was not marked queued: UnqueuedFirings finds it until it is.
	un, err := ss.UnqueuedFirings(ctx, due.Add(time.Second), 10)
	if err != nil || len(un) != 1 || un[0].RunID != "run_1" {
		t.Fatalf("UnqueuedFirings = %+v, %v", un, err)
	}
	must(t, ss.MarkFiringQueued(ctx, "sch_a", due))
	if un, _ := ss.UnqueuedFirings(ctx, due.Add(time.Second), 10); len(un) != 0 {
		t.Fatalf("UnqueuedFirings after MarkFiringQueued = %+v", un)
	}
	// A disabled schedule does not fire.
	seedSchedule(t, s, "sch_b", due)
	_, err = ss.UpdateSchedule(ctx, "sch_b", func(sc *store.Schedule) error { sc.Enabled = false; return nil })
	must(t, err)
	if ok, err := ss.Fire(ctx, store.FireParams{ScheduleID: "sch_b", DueAt: due, At: due, State: store.ScheduleActive}); err != nil || ok {
		t.Fatalf("Fire(disabled) = %v, %v", ok, err)
	}
	// Deleting a schedule keeps its runs.
	must(t, ss.DeleteSchedule(ctx, "sch_a"))
	if _, err := s.Runs().GetRun(ctx, "run_1"); err != nil {
		t.Fatalf("run after the schedule's deletion: %v", err)
	}
}

// testConcurrentScheduleFire has eight firers race over 50 due times of
// one schedule, each reading the schedule and firing what it read, as
// replicas do: every due time gets exactly one run.
func testConcurrentScheduleFire(t *testing.T, s store.Store) {
	ctx := context.Background()
	ss := schedulesOf(t, s)
	seedScheduleWorkflow(t, s)
	seedSchedule(t, s, "sch_a", t0)
	const dueTimes, firers = 50, 8
	var wins atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, firers)
	for f := range firers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				sc, err := ss.GetSchedule(ctx, "sch_a")
				if err != nil {
					errs <- err
					return
				}
				if sc.NextDueAt.IsZero() {
					return
				}
				due := sc.NextDueAt
				next := due.Add(time.Minute)
				state := store.ScheduleActive
				if next.After(t0.Add((dueTimes - 1) * time.Minute)) {
					next, state = time.Time{}, store.ScheduleFinished
				}
				runID := fmt.Sprintf("run_%d_%d", f, n)
				ok, err := ss.Fire(ctx, store.FireParams{ScheduleID: "sch_a", DueAt: due, At: due, Next: next, State: state,
					Firings: []store.ScheduleFiring{{ScheduleID: "sch_a", DueAt: due, FiredAt: due, Outcome: store.FiringRun, RunID: runID}},
					Runs:    []store.Run{scheduledRun(runID, "sch_a")}})
				if err != nil {
					errs <- err
					return
				}
				if ok {
					wins.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if wins.Load() != dueTimes {
		t.Fatalf("%d fires won, want %d", wins.Load(), dueTimes)
	}
	n, err := s.Runs().CountRuns(ctx, store.RunFilter{ScheduleID: "sch_a"})
	if err != nil || n != dueTimes {
		t.Fatalf("%d runs, %v; want %d", n, err, dueTimes)
	}
	firings, _ := ss.ListFirings(ctx, "sch_a", 1000)
	if len(firings) != dueTimes {
		t.Fatalf("%d firings, want %d", len(firings), dueTimes)
	}
}
