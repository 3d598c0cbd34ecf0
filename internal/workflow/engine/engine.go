package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/export"
)

// Config configures an [Engine].
type Config struct {
	Types  []Type
	Limits Limits // zero fields take DefaultLimits'
	HTTP   *http.Client
	// Python is the python3 executable; "" finds python3 on PATH.
	Python string
	Now    func() time.Time
	Log    *slog.Logger
}

// Engine runs workflows. It is safe for concurrent use; compiled
// definitions are cached and shared by all runs.
type Engine struct {
	cfg   Config
	types map[string]*Type
	progs sync.Map // *export.Workflow -> *program
}

// New builds an engine with the given activity types.
func New(cfg Config) *Engine {
	d := DefaultLimits
	l := &cfg.Limits
	if l.LoopIterations == 0 {
		l.LoopIterations = d.LoopIterations
	}
	if l.RunIterations == 0 {
		l.RunIterations = d.RunIterations
	}
	if l.RunTime == 0 {
		l.RunTime = d.RunTime
	}
	if l.VariableSize == 0 {
		l.VariableSize = d.VariableSize
	}
	if l.ActionTimeout == 0 {
		l.ActionTimeout = d.ActionTimeout
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, types: map[string]*Type{}}
	for i := range cfg.Types {
		t := cfg.Types[i]
		e.types[t.Name] = &t
	}
	return e
}

// Supports reports whether the engine can run an activity type.
func (e *Engine) Supports(typ string) bool { _, ok := e.types[typ]; return ok }

// Python is the python3 executable the engine uses ("" for PATH).
func (e *Engine) Python() string { return e.cfg.Python }

// Run is one execution request.
type Run struct {
	ID       string
	Workflow *export.Workflow
	// Library finds a called workflow by id: the file's embedded ones,
	// the tenant's imported ones, the built-in ones.
	Library func(id string) *export.Workflow
	// Inputs by variable id (display names are the caller's business).
	Inputs map[string]any
	// Globals are the file's global variables by id (writable).
	Globals map[string]any
	// Env are the $env.…$ variables.
	Env map[string]any
	// Trigger is what started the run ($trigger.<id>.output.…$), by trigger id.
	Trigger   map[string]any
	StartedBy string
	StartTime time.Time
	// Target is the main workflow's target (nil: none).
	Target *Target
	// Targets finds an imported target by its export id.
	Targets func(id string) (*Target, error)
	// Journal holds the records of an earlier attempt by key; the effects
	// among them are not run again.
	Journal  map[string]*Record
	Recorder Recorder
	// Budget is the run time left (30 minutes for a new run); 0 is the
	// limit's.
	Budget time.Duration
	// Seq continues the numbering of records of an earlier attempt.
	Seq int
}

// Result is how a run ended (or that it waits).
type Result struct {
	Status  string         // succeeded, failed, cancelled, workflow_timeout, waiting
	Outputs map[string]any // output variables by id
	Message string         // result_message of a Completed
	Error   string
	Prompt  *Prompt
	Seq     int // the last record number
}

// Run statuses a Result can have.
const (
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
	RunTimeout   = "workflow_timeout"
	RunWaiting   = "waiting"
)

var (
	errTimeout = errors.New("the run took longer than the workflow time limit")
	// ErrCancelled is the cause a caller cancels a run's context with.
	ErrCancelled = errors.New("the run was cancelled")
)

// runState is shared by all instances of one run.
type runState struct {
	e          *Engine
	r          *Run
	seq        atomic.Int64
	iterations atomic.Int64
	mu         sync.RWMutex // globals
}

// Execute runs r to its end, or until it waits for a person. Cancel ctx
// with cause [ErrCancelled] to cancel the run.
func (e *Engine) Execute(ctx context.Context, r *Run) Result {
	budget := r.Budget
	if budget <= 0 {
		budget = e.cfg.Limits.RunTime
	}
	ctx, cancel := context.WithTimeoutCause(ctx, budget, errTimeout)
	defer cancel()
	if r.StartTime.IsZero() {
		r.StartTime = e.cfg.Now()
	}
	if r.Globals == nil {
		r.Globals = map[string]any{}
	}
	rs := &runState{e: e, r: r}
	rs.seq.Store(int64(r.Seq))
	in, err := rs.newInstance(r.Workflow, "", r.ID, r.Target, r.Inputs)
	res := Result{}
	if err == nil {
		err = in.run(ctx)
	}
	res.Seq = int(rs.seq.Load())
	if in != nil {
		res.Outputs = in.outputVars()
	}
	var c *Completed
	var w *WaitError
	var l *LimitError
	switch {
	case err == nil:
		res.Status = RunSucceeded
	case errors.As(err, &w):
		res.Status = RunWaiting
		p := w.Prompt
		res.Prompt = &p
	case errors.As(err, &c):
		res.Message = c.Message
		res.Status = RunSucceeded
		if c.Failed {
			res.Status = RunFailed
			res.Error = c.Message
		}
	case errors.Is(context.Cause(ctx), errTimeout):
		res.Status, res.Error = RunTimeout, errTimeout.Error()
	case errors.As(err, &l):
		res.Status, res.Error = RunTimeout, l.Message
	case errors.Is(context.Cause(ctx), ErrCancelled):
		res.Status, res.Error = RunCancelled, ErrCancelled.Error()
	default:
		res.Status, res.Error = RunFailed, err.Error()
	}
	if in != nil && res.Message == "" {
		res.Message = in.resultsMessage()
	}
	return res
}

// program is a compiled definition.
type program struct {
	wf    *export.Workflow
	nodes []*Node
	vars  map[string]*export.Variable
}

// Node is one compiled activity of a definition.
type Node struct {
	Def     *export.Activity
	Blocks  []*Node
	Actions []*Node
	typ     *Type
	impl    Activity
}

// Type is the node's activity type (nil when the engine has none).
func (n *Node) Type() *Type { return n.typ }

func (e *Engine) program(wf *export.Workflow) *program {
	if p, ok := e.progs.Load(wf); ok {
		return p.(*program)
	}
	p := &program{wf: wf, vars: make(map[string]*export.Variable, len(wf.Variables))}
	for _, v := range wf.Variables {
		p.vars[v.ID] = v
	}
	p.nodes = e.compile(wf.Actions)
	actual, _ := e.progs.LoadOrStore(wf, p)
	return actual.(*program)
}

func (e *Engine) compile(acts []*export.Activity) []*Node {
	if len(acts) == 0 {
		return nil
	}
	out := make([]*Node, len(acts))
	for i, a := range acts {
		n := &Node{Def: a, Blocks: e.compile(a.Blocks), Actions: e.compile(a.Actions)}
		t, ok := e.types[a.Type]
		switch {
		case !ok:
			msg := fmt.Sprintf("grantflow cannot run activities of type %s", a.Type)
			n.impl = ActivityFunc(func(context.Context, *X) (Output, error) { return nil, &Failure{Message: msg} })
		default:
			n.typ = t
			impl, err := t.Compile(a)
			if err != nil {
				msg := fmt.Sprintf("%s (%s): %v", a.Label(), a.Path, err)
				impl = ActivityFunc(func(context.Context, *X) (Output, error) { return nil, &Failure{Message: msg} })
			}
			n.impl = impl
		}
		out[i] = n
	}
	return out
}

// exec runs one node in an instance: the steps every activity shares.
func (in *instance) exec(ctx context.Context, n *Node) error {
	d := n.Def
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return err
	}
	key := in.key(d.ID)
	if d.SkipExecution {
		in.setOutput(d.ID, Output{"succeeded": true, "skipped": true})
		return nil
	}
	effect := n.typ != nil && n.typ.Effect
	repeatable := effect && n.typ.Repeatable != nil && n.typ.Repeatable(d)
	if effect {
		if rec, ok := in.rs.r.Journal[key]; ok {
			switch rec.Status {
			case StatusSucceeded, StatusFailed:
				in.setOutput(d.ID, rec.Output)
				if rec.Status == StatusFailed && !d.ContinueOnFailure {
					return &Failure{Message: rec.Error}
				}
				return nil
			case StatusRunning:
				if !repeatable {
					return &Failure{Message: fmt.Sprintf("%s was interrupted while it ran (its process stopped); it may or may not have taken effect, so it is not repeated", d.Label())}
				}
			}
		}
	}
	// The execution and its record are one allocation.
	ex := &execution{rec: Record{Key: key, ActivityID: d.ID, Type: d.Type, Title: d.Label(),
		Status: StatusRunning, StartedAt: in.rs.e.cfg.Now(), Effect: effect}}
	rec := &ex.rec
	rec.Repeatable = repeatable
	ex.x = X{in: in, node: n, rec: rec}
	if old, ok := in.rs.r.Journal[key]; ok {
		rec.Seq = old.Seq // a replay re-records in the same place
	} else {
		rec.Seq = int(in.rs.seq.Add(1))
	}
	rcd := in.rs.r.Recorder
	if rcd != nil {
		rcd.Started(rec)
	}
	// action_timeout bounds what an activity waits for; a pure activity
	// (no effect) never waits, so it gets a context with a deadline only
	// when it sets its own action_timeout.
	actx := ctx
	var timeout time.Duration
	if n.typ != nil && !n.typ.Container {
		timeout = d.Timeout
		if timeout == 0 && effect {
			timeout = in.rs.e.cfg.Limits.ActionTimeout
		}
	}
	var cancel context.CancelFunc
	if timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, timeout)
	}
	out, err := n.impl.Run(actx, &ex.x)
	if cancel != nil {
		if err != nil && actx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			err = &Failure{Message: fmt.Sprintf("%s timed out after %s (action_timeout)", d.Label(), timeout), Code: "timeout"}
		}
		cancel()
	}
	rec.EndedAt = in.rs.e.cfg.Now()
	if out == nil {
		out = make(Output, 4)
	}
	out["start_time"] = formatTime(rec.StartedAt)
	out["end_time"] = formatTime(rec.EndedAt)
	var f *Failure
	if err == nil {
		out["succeeded"] = true
		rec.Status = StatusSucceeded
	} else {
		f = in.ended(ctx, rec, out, err)
	}
	rec.Output = out
	in.setOutput(d.ID, out)
	if rcd != nil {
		if rerr := rcd.Ended(rec); rerr != nil && effect {
			return fmt.Errorf("recording %s: %w", d.Label(), rerr)
		}
	}
	if rec.Status == StatusFailed {
		var l *LimitError
		if errors.As(err, &l) {
			return err
		}
		if d.ContinueOnFailure {
			return nil
		}
		if f != nil && n.typ != nil && !n.typ.Container {
			return &Failure{Message: fmt.Sprintf("%s: %s", d.Label(), f.Message), Code: f.Code}
		}
	}
	return err
}

// execution is one run of one activity: what its implementation sees
// and its record.
type execution struct {
	x   X
	rec Record
}

// ended records how an activity that returned err ended; the failure,
// if it is an activity's own, is returned.
func (in *instance) ended(ctx context.Context, rec *Record, out Output, err error) *Failure {
	var f *Failure
	var w *WaitError
	var c *Completed
	switch {
	case errors.Is(err, ErrBreak), errors.Is(err, ErrContinue), errors.As(err, &c):
		out["succeeded"] = true
		rec.Status = StatusSucceeded
	case errors.As(err, &w):
		rec.Status = StatusWaiting
		if w.Prompt.Key == "" { // the prompt itself, not a container it waits in
			w.Prompt.Key, w.Prompt.ActivityID = rec.Key, rec.ActivityID
		}
	case ctx.Err() != nil:
		rec.Status, rec.Error = StatusCancelled, context.Cause(ctx).Error()
	case errors.As(err, &f):
		out["succeeded"] = false
		out["error"] = map[string]any{"message": f.Message, "code": f.Code}
		rec.Status, rec.Error = StatusFailed, f.Message
		return f
	default:
		// A failure inside a container already carries its activity.
		out["succeeded"] = false
		out["error"] = map[string]any{"message": err.Error(), "code": ""}
		rec.Status, rec.Error = StatusFailed, err.Error()
	}
	return nil
}

// formatTime is t in UTC as RFC 3339 with nanoseconds (the fraction's
// trailing zeros dropped), what output.start_time and .end_time hold.
func formatTime(t time.Time) string {
	var buf [len(time.RFC3339Nano)]byte
	return string(t.UTC().AppendFormat(buf[:0], time.RFC3339Nano))
}

// X is the execution of one activity: what its implementation may use.
type X struct {
	in   *instance
	node *Node
	rec  *Record
}

// Node is the activity being run, with its compiled children.
func (x *X) Node() *Node { return x.node }

// Def is the activity's definition.
func (x *X) Def() *export.Activity { return x.node.Def }

// Now is the engine's clock.
func (x *X) Now() time.Time { return x.in.rs.e.cfg.Now() }

// Log is the engine's logger.
func (x *X) Log() *slog.Logger { return x.in.rs.e.cfg.Log }

// HTTPClient is the client for a target without one of its own.
func (x *X) HTTPClient(t *Target) *http.Client {
	if t != nil && t.Client != nil {
		return t.Client
	}
	return x.in.rs.e.cfg.HTTP
}

// Python is the python3 executable ("" for PATH).
func (x *X) Python() string { return x.in.rs.e.cfg.Python }

// Limits are the engine's limits.
func (x *X) Limits() Limits { return x.in.rs.e.cfg.Limits }

// RunID is the run's id.
func (x *X) RunID() string { return x.in.rs.r.ID }

// Key is this execution's replay key.
func (x *X) Key() string { return x.rec.Key }

// Input records an input of this execution for the run page.
func (x *X) Input(name string, v any) {
	if x.rec.Input == nil {
		x.rec.Input = map[string]any{}
	}
	x.rec.Input[name] = v
}

// Run runs nodes in order, as a container does.
func (x *X) Run(ctx context.Context, nodes []*Node) error {
	for _, n := range nodes {
		if err := x.in.exec(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// RunNode runs one node (a branch or block) with the shared steps.
func (x *X) RunNode(ctx context.Context, n *Node) error { return x.in.exec(ctx, n) }

// Iterate counts one loop iteration against the run's limit; n is the
// loop's own count so far (from 1).
func (x *X) Iterate(n int) error {
	l := x.in.rs.e.cfg.Limits
	if n > l.LoopIterations {
		return &LimitError{Message: fmt.Sprintf("%s ran more than %d iterations, the limit for one loop", x.node.Def.Label(), l.LoopIterations)}
	}
	if total := x.in.rs.iterations.Add(1); total > l.RunIterations {
		return &LimitError{Message: fmt.Sprintf("the run's loops ran more than %d iterations in all, the limit for one run", l.RunIterations)}
	}
	return nil
}

// SetItem sets the loop's current item ($activity.<loop>.input.source_array[@]$).
func (x *X) SetItem(v any) {
	x.in.mu.Lock()
	x.in.items[x.node.Def.ID] = v
	x.in.mu.Unlock()
}

// Target is the instance's target (nil when it has none).
func (x *X) Target() *Target { return x.in.target }

// TargetFor resolves an activity-level properties.target against the
// instance (FORMAT.md §9.2).
func (x *X) TargetFor(spec map[string]any) (*Target, error) {
	return x.in.targetFor(spec)
}

// StartedBy is who started the run.
func (x *X) StartedBy() string { return x.in.rs.r.StartedBy }

func (in *instance) key(activityID string) string {
	in.mu.Lock()
	in.occ[activityID]++
	n := in.occ[activityID]
	in.mu.Unlock()
	var b strings.Builder
	b.Grow(len(in.path) + len(activityID) + 8)
	b.WriteString(in.path)
	b.WriteByte('/')
	b.WriteString(activityID)
	b.WriteByte('#')
	writeInt(&b, n)
	return b.String()
}

func writeInt(b *strings.Builder, n int) {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	b.Write(buf[i:])
}
