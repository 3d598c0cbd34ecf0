package store

import (
	"context"
	"time"
)

// Workflow is one imported version of one workflow in a tenant. Every
// import of a unique_name adds a version; runs point at the version they
// run, so a later import never changes a run in flight.
type Workflow struct {
	ID         string // "wf_" + hex, one per version
	TenantID   string
	UniqueName string // definition_workflow_…
	Name       string
	Version    int // 1, 2, … per (TenantID, UniqueName); assigned by CreateWorkflowVersion
	Atomic     bool
	Definition []byte // JSON (the engine's stored export), opaque to the store
	Runnable   bool
	Report     []byte // JSON, opaque: why it is not runnable
	ImportedBy string // account id, "" for the CLI without --as
	CreatedAt  time.Time
}

// WorkflowSecret is the value of one secure-string variable of a workflow,
// given at or after import and sealed by the caller: the store never sees
// it in plain text. There is one per (tenant, unique_name, variable id), so
// it carries over to later versions.
type WorkflowSecret struct {
	TenantID   string
	UniqueName string
	VariableID string
	Sealed     []byte
	UpdatedAt  time.Time
}

// Workflows stores imported workflows and their secure values.
type Workflows interface {
	// CreateWorkflowVersion stores w with Version set to one more than the
	// highest version of (w.TenantID, w.UniqueName), atomically: concurrent
	// imports of one unique_name get distinct versions. It returns w as
	// stored; ErrConflict on a taken ID, ErrNotFound for a missing tenant.
	CreateWorkflowVersion(ctx context.Context, w Workflow) (Workflow, error)
	GetWorkflow(ctx context.Context, id string) (Workflow, error)
	// LatestWorkflow returns the highest version of uniqueName.
	LatestWorkflow(ctx context.Context, tenantID, uniqueName string) (Workflow, error)
	// ListWorkflows returns the latest version of each unique_name of the
	// tenant, ordered by Name (then UniqueName).
	ListWorkflows(ctx context.Context, tenantID string) ([]Workflow, error)
	// UpdateWorkflowReport replaces a version's runnable verdict, for the
	// re-check after a later import brought what it was missing.
	UpdateWorkflowReport(ctx context.Context, id string, runnable bool, report []byte) error
	// PutWorkflowSecret inserts or replaces s.
	PutWorkflowSecret(ctx context.Context, s WorkflowSecret) error
	// WorkflowSecrets returns the secure values of uniqueName, by VariableID.
	WorkflowSecrets(ctx context.Context, tenantID, uniqueName string) ([]WorkflowSecret, error)
}

// Run statuses.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunWaiting   = "waiting" // for an answer to Prompt
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
	RunTimeout   = "workflow_timeout"
)

// RunEnded reports whether status is final.
func RunEnded(status string) bool {
	switch status {
	case RunSucceeded, RunFailed, RunCancelled, RunTimeout:
		return true
	}
	return false
}

// Run is one execution of one workflow version.
type Run struct {
	ID           string // "run_" + hex
	TenantID     string
	WorkflowID   string // the version it runs
	WorkflowName string
	Version      int
	Status       string
	StartedBy    string // account id, "" for a schedule
	ScheduleID   string // "" for on-demand
	TokenKind    string // "user", "org" or "" (a run that calls no target)
	TokenOwner   string // account id of the token's owner, "" for org
	TargetID     string

	Inputs        []byte // JSON object, secure values masked by the caller
	Outputs       []byte // JSON object
	ResultMessage string
	Error         string

	Prompt     []byte // JSON or nil: what the run waits for
	Answer     []byte // JSON or nil: the answer, until the engine consumes it
	AnsweredBy string

	CancelRequested bool
	Owner           string    // the process working it, "" for none
	HeartbeatAt     time.Time // zero when none
	Attempt         int

	CreatedAt time.Time
	StartedAt time.Time // zero when not yet
	EndedAt   time.Time // zero when not yet
}

// RunFilter selects runs; zero fields match everything.
type RunFilter struct {
	TenantID           string
	WorkflowUniqueName string // every version of it
	WorkflowID         string // one version
	ScheduleID         string
	Statuses           []string
	Limit              int    // ListRuns: 100 when 0
	Before             string // ListRuns: a run id; only runs older than it (the next page)
}

// RunActivity is one execution of one activity in a run: what the run page
// shows and the journal the engine replays after a restart.
type RunActivity struct {
	RunID      string
	Seq        int    // 1, 2, … in start order, assigned by the engine
	Key        string // the engine's replay key (instance path + activity id + occurrence), unique per run
	ActivityID string
	Type       string
	Title      string
	Status     string // running, succeeded, failed, skipped, cancelled, waiting
	StartedAt  time.Time
	EndedAt    time.Time // zero while running
	Error      string
	Input      []byte // JSON, masked by the caller
	Output     []byte // JSON, masked by the caller
}

// Runs stores runs and their activities.
type Runs interface {
	// CreateRun inserts r; ErrConflict on a taken ID, ErrNotFound for a
	// missing tenant or workflow version.
	CreateRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, id string) (Run, error)
	// ListRuns returns the runs f selects, newest first (CreatedAt, then ID,
	// descending), at most f.Limit.
	ListRuns(ctx context.Context, f RunFilter) ([]Run, error)
	// CountRuns counts what ListRuns would return without a limit.
	CountRuns(ctx context.Context, f RunFilter) (int, error)
	// UpdateRun reads run id, calls fn on it and writes the result, in one
	// transaction with the row locked; an error from fn aborts the update and
	// is returned. ID, TenantID, WorkflowID, WorkflowName, Version, StartedBy,
	// ScheduleID and CreatedAt cannot change. fn must not call the store (on
	// SQLite the transaction holds the only writer).
	UpdateRun(ctx context.Context, id string, fn func(r *Run) error) (Run, error)
	// Heartbeat sets HeartbeatAt to at if the run's Owner is owner and its
	// status running or waiting, and reports whether it did: false means
	// another process took the run over or it ended.
	Heartbeat(ctx context.Context, id, owner string, at time.Time) (bool, error)
	// HeartbeatOwner sets HeartbeatAt of every running run owner works, in
	// one statement: one write per interval per process, whatever the
	// number of its runs.
	HeartbeatOwner(ctx context.Context, owner string, at time.Time) error
	// OwnedRuns returns the running runs owner works, each with whether a
	// cancel was requested. A run it works that is missing was taken over.
	OwnedRuns(ctx context.Context, owner string) (map[string]bool, error)
	// StaleRuns returns up to limit runs in status running whose HeartbeatAt
	// is before before (or zero): their process died. Oldest heartbeat first.
	StaleRuns(ctx context.Context, before time.Time, limit int) ([]Run, error)
	// PutActivities inserts or replaces acts by (RunID, Seq), all in one
	// transaction; ErrConflict when a Key is taken by another Seq of the run.
	PutActivities(ctx context.Context, acts []RunActivity) error
	// ListActivities returns the activities of a run by Seq.
	ListActivities(ctx context.Context, runID string) ([]RunActivity, error)
}
