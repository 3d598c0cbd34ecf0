package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow"

	_ "github.com/jackc/pgx/v5/stdlib"
)

const tickWF = `{"workflow": {"unique_name": "definition_workflow_tick", "name": "Tick", "variables": [], "actions": []}}`

// Two and three replicas (the workerChild of workflow_replicas_test.go:
// server.New and Start, River and its periodic jobs) share one PostgreSQL;
// the first started, River's leader, is killed (SIGKILL) right at a due
// time. Every due time of every schedule, before and after the kill, has
// exactly one firing with one run, none is missed: the survivors take over
// within the misfire grace.
func TestScheduleReplicasKilledAtDueTime(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) {
			t.Parallel()
			scheduleReplicas(t, n)
		})
	}
}

func scheduleReplicas(t *testing.T, replicas int) {
	dbURL, st, _, srv, org := newReplicaServer(t)
	ctx := context.Background()
	tenant, err := srv.Automation.EnsureTenant(ctx, org.ID, false, automation.TriggerTenantCreated, "")
	if err != nil {
		t.Fatal(err)
	}
	operator := workflow.Actor{} // at the command line: may do everything
	wfID := importJSON(t, srv, tenant, operator, tickWF)

	// The replicas, each started once the one before is up, so the first
	// is River's leader.
	var procs []*exec.Cmd
	for i := range replicas {
		procs = append(procs, startWorkerReplica(t, dbURL, fmt.Sprintf("replica %d", i)))
		time.Sleep(time.Second)
	}
	leaderBefore := riverLeader(t, dbURL)

	// 15 schedules, every minute, the first due times 2 s apart: a due
	// time every 2 s for 30 s, and again a minute later.
	const n, step = 15, 2 * time.Second
	t0 := time.Now().Add(5 * time.Second).Truncate(time.Second)
	ids := make([]string, n)
	for i := range n {
		v, err := srv.Workflows.CreateSchedule(ctx, workflow.ScheduleParams{WorkflowID: wfID, Actor: operator, Name: fmt.Sprintf("tick %d", i),
			Spec: workflow.Spec{Kind: workflow.SpecEvery, Every: time.Minute, Start: t0.Add(time.Duration(i) * step)}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = v.ID
	}
	kill := t0.Add(5 * step) // a due time
	time.Sleep(time.Until(kill))
	if err := procs[0].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = procs[0].Wait()
	t.Logf("killed replica 0 (pid %d) at the due time %s; River's leader was %s", procs[0].Process.Pid, kill.Format(time.RFC3339Nano), leaderBefore)

	// Every due time up to the last one of the second round.
	last := t0.Add(time.Minute + (n-1)*step)
	want := map[string][]time.Time{}
	total := 0
	for i, id := range ids {
		for due := t0.Add(time.Duration(i) * step); !due.After(last); due = due.Add(time.Minute) {
			want[id] = append(want[id], due)
			total++
		}
	}
	deadline := last.Add(workflow.MisfireGrace)
	for {
		got := 0
		for _, id := range ids {
			fs, err := st.Schedules().ListFirings(ctx, id, 100)
			if err != nil {
				t.Fatal(err)
			}
			got += len(fs)
		}
		if got >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	var worst time.Duration
	for _, id := range ids {
		fs, err := st.Schedules().ListFirings(ctx, id, 100)
		if err != nil {
			t.Fatal(err)
		}
		byDue := map[int64]store.ScheduleFiring{}
		for _, f := range fs {
			if _, dup := byDue[f.DueAt.UnixMicro()]; dup {
				t.Errorf("schedule %s: two firings for %s", id, f.DueAt)
			}
			byDue[f.DueAt.UnixMicro()] = f
		}
		for _, due := range want[id] {
			f, ok := byDue[due.UnixMicro()]
			switch {
			case !ok:
				t.Errorf("schedule %s: the due time %s was lost", id, due.Format(time.RFC3339))
			case f.Outcome != store.FiringRun || f.RunID == "":
				t.Errorf("schedule %s at %s: %s %q (want one run, on time)", id, due.Format(time.RFC3339), f.Outcome, f.Detail)
			default:
				worst = max(worst, f.FiredAt.Sub(due))
			}
		}
		if len(fs) > len(want[id])+1 { // +1: a due time after last may have come meanwhile
			t.Errorf("schedule %s: %d firings for %d due times", id, len(fs), len(want[id]))
		}
		runs, err := st.Runs().ListRuns(ctx, store.RunFilter{ScheduleID: id, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != len(fs) {
			t.Errorf("schedule %s: %d runs for %d firings", id, len(runs), len(fs))
		}
	}
	t.Logf("%d due times over %d schedules on %d replicas, one killed at a due time: each fired once; the latest fired %s after its due time; River's leader now %s",
		total, n, replicas, worst.Round(time.Millisecond), riverLeader(t, dbURL))
}

func riverLeader(t *testing.T, dbURL string) string {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id string
	if err := db.QueryRow(`SELECT leader_id FROM river_leader LIMIT 1`).Scan(&id); err != nil {
		return "(none: " + err.Error() + ")"
	}
	return id
}

// The replica working the firing job is killed (SIGKILL) in the middle of
// it, with 1,000 schedules due at one instant: River's job stays "running"
// on the dead process, and yet every schedule fires once, on time (within
// the misfire grace), because the stuck job is rescued well before that.
func TestScheduleReplicaKilledMidTick(t *testing.T) {
	t.Parallel()
	dbURL, st, _, srv, org := newReplicaServer(t)
	ctx := context.Background()
	tenant, err := srv.Automation.EnsureTenant(ctx, org.ID, false, automation.TriggerTenantCreated, "")
	if err != nil {
		t.Fatal(err)
	}
	wfID := importJSON(t, srv, tenant, workflow.Actor{}, tickWF)
	type replica struct {
		cmd     *exec.Cmd
		started time.Time
	}
	var procs []replica
	for i := range 2 {
		started := time.Now()
		procs = append(procs, replica{startWorkerReplica(t, dbURL, fmt.Sprintf("replica %d", i)), started})
		time.Sleep(1500 * time.Millisecond)
	}
	const n = 1000
	due := time.Now().Add(10 * time.Second).Truncate(time.Second)
	spec := fmt.Sprintf(`{"kind":"every","every":%d,"timezone":"UTC","start":%q}`, int64(time.Hour), due.UTC().Format(time.RFC3339Nano))
	now := store.Micro(time.Now())
	for i := range n {
		if err := st.Schedules().CreateSchedule(ctx, store.Schedule{ID: fmt.Sprintf("sch_tick%05d", i), TenantID: tenant.ID, WorkflowID: wfID,
			UniqueName: "definition_workflow_tick", Name: "tick", Spec: []byte(spec), Misfire: store.MisfireRunOnce, Enabled: true,
			State: store.ScheduleActive, NextDueAt: due, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Wait until some due times have fired, then kill whoever works the job.
	time.Sleep(time.Until(due))
	var client string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var fired int
		_ = db.QueryRow(`SELECT count(*) FROM workflow_schedule_firings`).Scan(&fired)
		err := db.QueryRow(`SELECT attempted_by[array_length(attempted_by, 1)] FROM river_job
			WHERE state = 'running' AND kind = 'grantflow_periodic' AND args->>'name' = $1`, workflow.ScheduleJob).Scan(&client)
		if err == nil && fired > 0 && fired < n/2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never saw the firing job running with some due times fired (%d fired, %v)", fired, err)
		}
	}
	// River names a client after its host and start time: the replica
	// started last before that time is the one.
	at, err := time.ParseInLocation("2006_01_02T15_04_05.000000", riverClientTime(client), time.UTC)
	if err != nil {
		t.Fatalf("client id %q: %v", client, err)
	}
	victim := -1
	for i, p := range procs {
		if !p.started.After(at) {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("no replica started before client %s", client)
	}
	if err := procs[victim].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = procs[victim].cmd.Wait()
	var fired int
	_ = db.QueryRow(`SELECT count(*) FROM workflow_schedule_firings`).Scan(&fired)
	t.Logf("killed replica %d (River client %s) while it fired: %d of %d due times fired by then", victim, client, fired, n)

	deadline := due.Add(workflow.MisfireGrace + 30*time.Second)
	for ; time.Now().Before(deadline); time.Sleep(time.Second) {
		if _ = db.QueryRow(`SELECT count(*) FROM workflow_schedule_firings`).Scan(&fired); fired >= n {
			break
		}
	}
	var runs, onTime, distinct int
	var late float64
	_ = db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE outcome = 'run' AND run_id <> ''), count(DISTINCT schedule_id),
		COALESCE(max(fired_at - due_at), 0) / 1e6 FROM workflow_schedule_firings`).Scan(&fired, &onTime, &distinct, &late)
	_ = db.QueryRow(`SELECT count(*) FROM workflow_runs WHERE schedule_id LIKE 'sch_tick%'`).Scan(&runs)
	if fired != n || onTime != n || distinct != n || runs != n {
		t.Fatalf("after the kill: %d firings (%d on time, %d schedules), %d runs; want %d of each", fired, onTime, distinct, runs, n)
	}
	t.Logf("every one of %d due times fired once, on time; the last %.1f s after its due time", n, late)
}

// riverClientTime is the start time in a River client id such as
// "vm_2026_12_01T21_38_11_811012", as "2006_01_02T15_04_05.000000".
func riverClientTime(id string) string {
	parts := strings.Split(id, "_")
	if len(parts) < 6 {
		return id
	}
	p := parts[len(parts)-6:]
	return strings.Join(p[:5], "_") + "." + p[5]
}
