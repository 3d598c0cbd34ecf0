package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
	"github.com/grantflow/grantflow/internal/workflow"
)

// stampQueue records when each run was handed to the job queue.
type stampQueue struct {
	mu   sync.Mutex
	at   map[string]time.Time
	done chan struct{}
	want int
}

func (q *stampQueue) Enqueue(_ context.Context, _, key string) error {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, dup := q.at[key]; !dup {
		q.at[key] = now
		if len(q.at) == q.want {
			close(q.done)
		}
	}
	return nil
}

// TestScheduleDelayLoad measures the delay between a due time and the
// start of its run (the run stored with its firing and handed to the job
// queue) with N schedules (1,000 unless GRANTFLOW_SCHEDULE_LOAD_N says
// otherwise) due at the same instant, fired by the real periodic job on
// River with the real clock, on SQLite and (with TEST_DATABASE_URL) on
// PostgreSQL. It is a measurement, not a check of every CI run:
//
//	GRANTFLOW_SCHEDULE_LOAD=1 TEST_DATABASE_URL=postgres://… go test ./internal/workflow/ -run TestScheduleDelayLoad -v
func TestScheduleDelayLoad(t *testing.T) {
	if os.Getenv("GRANTFLOW_SCHEDULE_LOAD") == "" {
		t.Skip("a measurement: set GRANTFLOW_SCHEDULE_LOAD=1 to run it")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("GRANTFLOW_SCHEDULE_LOAD_N")); err == nil && v > 0 {
		n = v
	}
	for _, b := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		t.Run(b.name, func(t *testing.T) { scheduleDelay(t, b.open(t), n) })
	}
}

func scheduleDelay(t *testing.T, st *sqlstore.Store, n int) {
	e := startSchedEnv(t, st, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the injected clock follows the real one
		for ctx.Err() == nil {
			e.clk.Set(time.Now())
			time.Sleep(time.Millisecond)
		}
	}()
	stop, err := e.srv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	q := &stampQueue{at: map[string]time.Time{}, done: make(chan struct{}), want: n}
	e.srv.Workflows.SetQueue(q, false) // after Start, which sets River's

	due := time.Now().Add(15 * time.Second).Truncate(time.Second)
	spec, _ := json.Marshal(workflow.Spec{Kind: workflow.SpecEvery, Every: time.Hour, Start: due, Zone: "UTC"})
	now := store.Micro(time.Now())
	for i := range n {
		sc := store.Schedule{ID: fmt.Sprintf("sch_load%05d", i), TenantID: e.tenant, WorkflowID: e.wfID, UniqueName: "definition_workflow_sched",
			Name: "load", Spec: spec, Misfire: store.MisfireRunOnce, Enabled: true, State: store.ScheduleActive, NextDueAt: due,
			CreatedBy: e.ann.Account.ID, CreatedAt: now, UpdatedAt: now}
		if err := st.Schedules().CreateSchedule(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	if time.Until(due) < 2*time.Second {
		t.Fatalf("creating %d schedules took too long to measure from their due time", n)
	}
	select {
	case <-q.done:
	case <-time.After(time.Until(due) + 2*time.Minute):
		t.Fatalf("only %d of %d runs started within 2 minutes of their due time", len(q.at), n)
	}
	q.mu.Lock()
	delays := make([]time.Duration, 0, len(q.at))
	for _, at := range q.at {
		delays = append(delays, at.Sub(due))
	}
	q.mu.Unlock()
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	pct := func(p float64) time.Duration { return delays[int(p*float64(len(delays)-1))] }
	t.Logf("%d schedules due at one instant: delay from due time to run start p50 %s, p99 %s, max %s (min %s)",
		n, pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond),
		delays[0].Round(time.Millisecond))
	// Exactly one firing per schedule: the store's history agrees.
	for i := range n {
		fs, err := st.Schedules().ListFirings(ctx, fmt.Sprintf("sch_load%05d", i), 10)
		if err != nil || len(fs) != 1 || fs[0].RunID == "" || !fs[0].DueAt.Equal(due) {
			t.Fatalf("schedule %d: firings %+v %v", i, fs, err)
		}
	}
}
