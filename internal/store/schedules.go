package store

import (
	"context"
	"time"
)

// Schedule states.
const (
	ScheduleActive   = "active"
	SchedulePaused   = "paused"   // the Org-scoped token needs reconnecting; Reason says why
	ScheduleFinished = "finished" // MaxRuns reached, or no due time is left
)

// Misfire policies: what a schedule does about due times missed while no
// process was up.
const (
	MisfireRunOnce = "run-once" // one run for the whole missed span
	MisfireSkip    = "skip"     // none; the span is recorded as skipped
)

// Schedule starts runs of a workflow at due times, on the tenant's
// Org-scoped token. The store keeps the next due time; the workflow
// package computes it from Spec.
type Schedule struct {
	ID         string // "sch_" + hex
	TenantID   string
	WorkflowID string // the version it was created on
	UniqueName string // runs take the latest version of it
	Name       string
	Spec       []byte // JSON, opaque to the store
	Inputs     []byte // JSON object of inputs, opaque
	Misfire    string
	MaxRuns    int // 0: no limit
	Runs       int // due times that started a run
	Enabled    bool
	State      string
	Reason     string
	NextDueAt  time.Time // zero when none is left
	CreatedBy  string    // account id, "" for an operator or an import
	Source     string    // "" or "import"
	ExternalID string    // the export's schedule or trigger id for an import
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Firing outcomes.
const (
	FiringRun          = "run"           // a run for this due time
	FiringCatchUp      = "run_once"      // one run for a missed span starting at DueAt
	FiringSkipped      = "skipped"       // a missed span the misfire policy skips
	FiringTokenSkipped = "skipped_token" // the Org-scoped token needs reconnecting
	FiringFailed       = "failed"        // the run could not be started; Detail says why
)

// ScheduleFiring is what happened at one due time of a schedule (or, for a
// missed span, at its first due time). At most one exists per (ScheduleID,
// DueAt): the rule that makes a double fire impossible.
type ScheduleFiring struct {
	ScheduleID string
	DueAt      time.Time
	FiredAt    time.Time
	Outcome    string
	Missed     int    // due times a span covers (1 for a single one)
	RunID      string // "" when no run started
	Detail     string
	Queued     bool // the run was handed to the job queue
}

// FireParams is one step of a schedule: what happened at its due time
// DueAt (and any later ones already past), and where it goes next.
type FireParams struct {
	ScheduleID string
	DueAt      time.Time // the schedule's NextDueAt the caller read
	At         time.Time // now, for UpdatedAt
	Firings    []ScheduleFiring
	Runs       []Run     // created in the same transaction
	Next       time.Time // the new NextDueAt; zero for none
	State      string
	Reason     string
}

// ScheduleFilter selects schedules; zero fields match all.
type ScheduleFilter struct {
	TenantID   string
	UniqueName string
	State      string
	Enabled    *bool
}

// Schedules stores schedules and their firings.
type Schedules interface {
	// CreateSchedule inserts s; ErrConflict on a taken id, ErrNotFound for
	// a missing tenant or workflow.
	CreateSchedule(ctx context.Context, s Schedule) error
	GetSchedule(ctx context.Context, id string) (Schedule, error)
	// ListSchedules returns the schedules f selects, by CreatedAt then ID.
	ListSchedules(ctx context.Context, f ScheduleFilter) ([]Schedule, error)
	// UpdateSchedule reads schedule id, calls fn and writes the result in
	// one transaction; ID, TenantID, WorkflowID, UniqueName, Runs,
	// CreatedBy, Source and CreatedAt cannot change. fn must not call the
	// store.
	UpdateSchedule(ctx context.Context, id string, fn func(s *Schedule) error) (Schedule, error)
	// DeleteSchedule removes a schedule and its firings (runs stay).
	DeleteSchedule(ctx context.Context, id string) error
	// DueSchedules returns up to limit enabled schedules whose NextDueAt
	// is at or before now, earliest first.
	DueSchedules(ctx context.Context, now time.Time, limit int) ([]Schedule, error)
	// Fire applies p in one transaction, only if the schedule is still
	// enabled and its NextDueAt is still p.DueAt: it inserts p.Firings and
	// p.Runs, adds the firings' runs to Runs and sets NextDueAt, State and
	// Reason. It reports false (and changes nothing) when another process
	// fired that due time first, or the schedule changed meanwhile.
	Fire(ctx context.Context, p FireParams) (bool, error)
	// ListFirings returns a schedule's firings, newest due time first, at
	// most limit (100 when 0).
	ListFirings(ctx context.Context, scheduleID string, limit int) ([]ScheduleFiring, error)
	// UnqueuedFirings returns up to limit firings with a run that was not
	// marked queued and were fired before before: their process died
	// between the commit and the queue.
	UnqueuedFirings(ctx context.Context, before time.Time, limit int) ([]ScheduleFiring, error)
	// MarkFiringQueued records that a firing's run is on the job queue.
	MarkFiringQueued(ctx context.Context, scheduleID string, dueAt time.Time) error
}

// ScheduleStore is a Store that keeps schedules (both sqlstore backends).
type ScheduleStore interface {
	Schedules() Schedules
}
