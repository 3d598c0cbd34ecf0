// Package jobs runs grantflow's periodic background work (the OAuth janitor,
// session and change-feed pruning, the automation sync and token keep-alive)
// on River, on SQLite and PostgreSQL alike. River elects one leader among all
// processes sharing the store, and only the leader enqueues periodic jobs, so
// each runs once per interval however many replicas there are.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

// Periodic is one piece of periodic work.
type Periodic struct {
	Name     string // unique, stable: it is the job's identity across restarts
	Interval time.Duration
	Timeout  time.Duration // 0: one minute
	Run      func(ctx context.Context) error
}

// periodicArgs is the one job kind; Name picks the work.
type periodicArgs struct {
	Name string `json:"name"`
}

func (periodicArgs) Kind() string { return "grantflow_periodic" }

type worker struct {
	river.WorkerDefaults[periodicArgs]
	byName map[string]Periodic
	lg     *slog.Logger
}

func (w *worker) Work(ctx context.Context, job *river.Job[periodicArgs]) error {
	p, ok := w.byName[job.Args.Name]
	if !ok {
		// Enqueued by a newer version; another replica knows it.
		return river.JobCancel(fmt.Errorf("unknown periodic job %q", job.Args.Name))
	}
	start := time.Now()
	err := p.Run(ctx)
	w.lg.Debug("periodic job ran", "job", p.Name, "duration", time.Since(start), "err", err)
	return err
}

func (w *worker) Timeout(job *river.Job[periodicArgs]) time.Duration {
	if p, ok := w.byName[job.Args.Name]; ok && p.Timeout > 0 {
		return p.Timeout
	}
	return time.Minute
}

// Runner is a started River client.
type Runner struct {
	stop   func(ctx context.Context) error
	db     *sql.DB // the SQLite handle River owns, closed on Stop
	insert func(ctx context.Context, a taskArgs) error
}

// Start migrates River's tables and starts a client that works the given
// periodic jobs until Stop.
// Tasks are the one-off jobs it works (workflow runs); with neither
// periodic jobs nor tasks the runner only enqueues.
func Start(ctx context.Context, st *sqlstore.Store, lg *slog.Logger, periodic []Periodic, tasks ...Task) (*Runner, error) {
	if st.Dialect() == "postgres" {
		return start(ctx, st, riverpgxv5.New(st.Pool()), nil, lg, periodic, tasks)
	}
	db, err := st.OpenJobDB()
	if err != nil {
		return nil, err
	}
	r, err := start(ctx, st, riversqlite.New(db), db, lg, periodic, tasks)
	if err != nil {
		_ = db.Close()
	}
	return r, err
}

func start[TTx any](ctx context.Context, st *sqlstore.Store, driver riverdriver.Driver[TTx], db *sql.DB, lg *slog.Logger, periodic []Periodic, tasks []Task) (*Runner, error) {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(lg)})
	if err != nil {
		return nil, err
	}
	// Under the store's migration lock: replicas starting together on an
	// empty database would otherwise create River's tables at the same time.
	if err := st.WithMigrationLock(ctx, func(ctx context.Context) error {
		_, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}); err != nil {
		return nil, fmt.Errorf("jobs: migrate river: %w", err)
	}
	w := &worker{byName: map[string]Periodic{}, lg: lg}
	var pjobs []*river.PeriodicJob
	for _, p := range periodic {
		if _, dup := w.byName[p.Name]; dup || p.Name == "" || p.Interval <= 0 || p.Run == nil {
			return nil, fmt.Errorf("jobs: bad periodic job %q", p.Name)
		}
		w.byName[p.Name] = p
		name := p.Name
		pjobs = append(pjobs, river.NewPeriodicJob(river.PeriodicInterval(p.Interval),
			func() (river.JobArgs, *river.InsertOpts) {
				return periodicArgs{Name: name}, &river.InsertOpts{
					MaxAttempts: 3,
					// One pending run per job at a time, even if a former
					// leader enqueued it just before losing leadership.
					UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}},
				}
			}, &river.PeriodicJobOpts{ID: name, RunOnStart: true}))
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, err
	}
	tw, err := newTaskWorker(tasks, lg)
	if err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, tw); err != nil {
		return nil, err
	}
	cfg := &river.Config{
		Logger:            quiet(lg),
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}, taskQueue: {MaxWorkers: tw.workers()}},
		Workers:           workers,
		PeriodicJobs:      pjobs,
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
		// A periodic job whose process died stays "running" until rescued,
		// and its unique key keeps the leader from inserting the next one:
		// River's default (an hour) would stop the schedules that long.
		// Jobs past both this and their own timeout are rescued; tasks have
		// none (Timeout -1) and are never rescued. (River wants JobTimeout,
		// the fallback no worker here uses, no longer than this.)
		RescueStuckJobsAfter: 30 * time.Second,
		JobTimeout:           30 * time.Second,
	}
	if len(periodic) == 0 && len(tasks) == 0 {
		cfg = &river.Config{Logger: quiet(lg)} // insert only
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, err
	}
	r := &Runner{stop: func(context.Context) error { return nil }, db: db, insert: inserter(client)}
	if cfg.Workers != nil {
		if err := client.Start(ctx); err != nil {
			return nil, err
		}
		r.stop = client.Stop
	}
	return r, nil
}

// Stop waits for running jobs to finish (until ctx ends) and stops.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.stop(ctx)
	if r.db != nil {
		err = errors.Join(err, r.db.Close())
	}
	return err
}

// quiet keeps River's own info chatter out of the server log.
func quiet(lg *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{lg.Handler(), slog.LevelWarn})
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}
func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(n), h.min}
}
