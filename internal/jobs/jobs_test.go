package jobs_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

func TestPeriodicRunsOnSQLite(t *testing.T) {
	t.Parallel()
	testPeriodic(t, storetest.SQLite(t))
}

func TestPeriodicRunsOnPostgres(t *testing.T) {
	t.Parallel()
	testPeriodic(t, storetest.Postgres(t))
}

func testPeriodic(t *testing.T, st *sqlstore.Store) {
	ctx := context.Background()
	lg := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var runs atomic.Int32
	done := make(chan struct{}, 10)
	r, err := jobs.Start(ctx, st, lg, []jobs.Periodic{{Name: "count", Interval: time.Hour, Run: func(context.Context) error {
		runs.Add(1)
		done <- struct{}{}
		return nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Stop(context.Background()) }()
	select {
	case <-done: // RunOnStart: the leader enqueues it at once
	case <-time.After(20 * time.Second):
		t.Fatal("periodic job did not run on start")
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("runs = %d, want 1", n)
	}
}

func TestRejectsBadJobs(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	lg := slog.New(slog.NewTextHandler(t.Output(), nil))
	run := func(context.Context) error { return nil }
	for _, bad := range [][]jobs.Periodic{
		{{Name: "", Interval: time.Second, Run: run}},
		{{Name: "x", Interval: 0, Run: run}},
		{{Name: "x", Interval: time.Second, Run: run}, {Name: "x", Interval: time.Second, Run: run}},
	} {
		if r, err := jobs.Start(context.Background(), st, lg, bad); err == nil {
			_ = r.Stop(context.Background())
			t.Errorf("Start(%+v) succeeded", bad)
		}
	}
}
