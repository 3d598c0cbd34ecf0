package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/export"
)

// Output is what an activity publishes under $activity.<id>.output.…$.
type Output = map[string]any

// Activity is one compiled activity of one definition.
type Activity interface {
	Run(ctx context.Context, x *X) (Output, error)
}

// ActivityFunc adapts a function to [Activity].
type ActivityFunc func(ctx context.Context, x *X) (Output, error)

// Run calls f.
func (f ActivityFunc) Run(ctx context.Context, x *X) (Output, error) { return f(ctx, x) }

// Type is one activity type.
type Type struct {
	Name string
	// Compile prepares an activity once per definition: it parses the
	// templates and checks the shapes it needs. An error makes the
	// activity fail with it whenever it runs.
	Compile func(a *export.Activity) (Activity, error)
	// Effect: the activity acts outside the run (an API call, a script)
	// or waits for a person. Its result is recorded before the run goes
	// on, and a resumed run uses the record instead of running it again.
	// An effect gets the default action_timeout (Limits.ActionTimeout)
	// unless it sets its own; other activities only their own.
	Effect bool
	// Repeatable reports whether an effect interrupted by a crash (started,
	// never recorded as ended) may simply run again (a GET). Nil: it may
	// not, and the resumed run fails saying so.
	Repeatable func(a *export.Activity) bool
	// Container: runs child activities; no action_timeout.
	Container bool
}

// Failure is an activity's own failure: what output.error.message and
// output.error.code show.
type Failure struct {
	Message string
	Code    string
}

func (f *Failure) Error() string { return f.Message }

// Failf makes a [Failure].
func Failf(format string, args ...any) error { return &Failure{Message: fmt.Sprintf(format, args...)} }

// Control flow, as errors that unwind to the activity that handles them.
var (
	// ErrBreak leaves the innermost loop (logic.break).
	ErrBreak = errors.New("break outside a loop")
	// ErrContinue goes on with the innermost loop's next iteration.
	ErrContinue = errors.New("continue outside a loop")
)

// Completed ends the current workflow instance (logic.completed).
type Completed struct {
	Failed  bool
	Message string
}

func (c *Completed) Error() string {
	if c.Failed {
		return "completed as failed: " + c.Message
	}
	return "completed: " + c.Message
}

// LimitError: a platform limit was reached; the run ends workflow_timeout.
type LimitError struct{ Message string }

func (e *LimitError) Error() string { return e.Message }

// WaitError: the run waits for a person to answer a prompt.
type WaitError struct {
	Key    string
	Prompt Prompt
}

func (e *WaitError) Error() string { return "waiting for an answer to " + e.Prompt.Title }

// Prompt is what a waiting run asks.
type Prompt struct {
	Key        string        `json:"key"`
	ActivityID string        `json:"activity_id"`
	Title      string        `json:"title"`
	Body       string        `json:"body,omitempty"`
	Fields     []PromptField `json:"fields"`
	Assignees  []string      `json:"assignees,omitempty"`
	Expires    time.Time     `json:"expires,omitzero"`
}

// PromptField is one form element of a prompt.
type PromptField struct {
	Label    string   `json:"label"`
	Type     string   `json:"type"` // text, select, …
	Options  []string `json:"options"`
	Multiple bool     `json:"multiple,omitempty"`
	Required bool     `json:"required,omitempty"`
}

// Target is where an activity's requests go: the run's Meraki target or
// an imported one.
type Target struct {
	ID   string
	Name string
	Type string // meraki.endpoint, web-service.endpoint, …
	// BaseURL is protocol://host[:port][path], without a trailing slash.
	BaseURL string
	// Authorize adds credentials to a request (a bearer token fetched, and
	// refreshed, for each call). Nil: no credentials.
	Authorize func(ctx context.Context, req *http.Request) error
	// Client sends the requests; nil is the engine's.
	Client *http.Client
}

// Record is one execution of one activity.
type Record struct {
	Seq        int
	Key        string
	ActivityID string
	Type       string
	Title      string
	Status     string // running, succeeded, failed, skipped, waiting, cancelled
	StartedAt  time.Time
	EndedAt    time.Time
	Error      string
	Input      map[string]any
	Output     Output
	Effect     bool
	// Repeatable: an effect that may run again after a crash (a GET), so
	// its start need not be durable before it acts.
	Repeatable bool
}

// Record statuses.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusWaiting   = "waiting"
	StatusCancelled = "cancelled"
)

// Recorder receives every record as it starts and ends. An effect's end
// must be durable when Ended returns (the run goes on only then); other
// records may be written in batches. Calls may come from several
// goroutines (parallel branches).
type Recorder interface {
	Started(r *Record)
	Ended(r *Record) error
}

// Limits are the platform's.
type Limits struct {
	LoopIterations int           // per loop run; 500
	RunIterations  int64         // per run, all loops; 50,000
	RunTime        time.Duration // 30 minutes
	VariableSize   int           // bytes; 1 MB
	ActionTimeout  time.Duration // default action_timeout of effects; 180 s
}

// DefaultLimits are Cisco Workflows' documented limits.
var DefaultLimits = Limits{LoopIterations: 500, RunIterations: 50_000, RunTime: 30 * time.Minute, VariableSize: 1 << 20, ActionTimeout: 180 * time.Second}
