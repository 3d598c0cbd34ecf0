package server_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
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
	dbURL := storetest.NewPostgresDatabase(t)
	ctx := context.Background()
	lg := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlstore.OpenPostgres(ctx, dbURL, lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config.Default()
	cfg.AutomationKey = testAutomationKey
	srv, err := server.New(ctx, cfg, st, lg, server.Options{WorkflowHeartbeat: testHeartbeat})
	if err != nil {
		t.Fatal(err)
	}
	org, err := srv.Identity.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
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
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), workerChildEnv+"="+dbURL)
		cmd.Stderr = t.Output()
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
		if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "working\n" {
			t.Fatalf("replica %d did not start: %q", i, line)
		}
		procs = append(procs, cmd)
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
