package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// Task is one kind of one-off work, identified by a key (a workflow run
// id): enqueued by any process, worked by one of the processes that
// started a runner with it.
type Task struct {
	Kind string
	// Workers is how many of this kind one process works at once.
	Workers int
	// Work does it. attempt counts from 1; River retries an error with
	// backoff, up to MaxAttempts.
	Work func(ctx context.Context, key string, attempt int) error
}

// MaxAttempts is how often a task is tried.
const MaxAttempts = 5

const taskQueue = "grantflow_tasks"

type taskArgs struct {
	Task string `json:"task"`
	Key  string `json:"key"`
}

func (taskArgs) Kind() string { return "grantflow_task" }

type taskWorker struct {
	river.WorkerDefaults[taskArgs]
	byKind map[string]Task
	lg     *slog.Logger
}

func newTaskWorker(tasks []Task, lg *slog.Logger) (*taskWorker, error) {
	w := &taskWorker{byKind: map[string]Task{}, lg: lg}
	for _, t := range tasks {
		if t.Kind == "" || t.Work == nil {
			return nil, fmt.Errorf("jobs: bad task %q", t.Kind)
		}
		if _, dup := w.byKind[t.Kind]; dup {
			return nil, fmt.Errorf("jobs: task %q twice", t.Kind)
		}
		w.byKind[t.Kind] = t
	}
	return w, nil
}

func (w *taskWorker) workers() int {
	n := 0
	for _, t := range w.byKind {
		n += max(t.Workers, 1)
	}
	return max(n, 1)
}

func (w *taskWorker) Work(ctx context.Context, job *river.Job[taskArgs]) error {
	t, ok := w.byKind[job.Args.Task]
	if !ok {
		// This process does not work that kind; snooze so one that does
		// takes it.
		return river.JobSnooze(time.Second)
	}
	return t.Work(ctx, job.Args.Key, job.Attempt)
}

// Timeout: tasks bound themselves (a workflow run has its own limit).
func (w *taskWorker) Timeout(*river.Job[taskArgs]) time.Duration { return -1 }

func inserter[TTx any](c *river.Client[TTx]) func(ctx context.Context, a taskArgs) error {
	return func(ctx context.Context, a taskArgs) error {
		_, err := c.Insert(ctx, a, &river.InsertOpts{
			Queue:       taskQueue,
			MaxAttempts: MaxAttempts,
			// No uniqueness: a key may be enqueued again while River still
			// counts an earlier job of it as running (its process died);
			// the work itself must tolerate duplicates (a run is claimed
			// in the store).
		})
		return err
	}
}

// Enqueue adds a task; any process working its kind takes it. The same
// key may be worked more than once.
func (r *Runner) Enqueue(ctx context.Context, kind, key string) error {
	if r == nil || r.insert == nil {
		return errors.New("jobs: no runner")
	}
	return r.insert(ctx, taskArgs{Task: kind, Key: key})
}
