package workflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow/activities"
	"github.com/grantflow/grantflow/internal/workflow/engine"
)

// TaskKind is the River task of a run.
const TaskKind = "workflow_run"

// Errors a front end maps to answers.
var (
	// ErrForbidden: the person's role does not allow it (403, CLI exit 3).
	ErrForbidden = errors.New("workflow: not allowed")
	// ErrInvalid wraps a refusal whose message can be shown as it is (400).
	ErrInvalid = errors.New("workflow")
	// ErrNotFound: no such workflow, run or target (404).
	ErrNotFound = store.ErrNotFound
)

// Enqueuer puts a run on the job queue (a *jobs.Runner).
type Enqueuer interface {
	Enqueue(ctx context.Context, kind, key string) error
}

// Config configures the service.
type Config struct {
	Now    func() time.Time
	Limits engine.Limits
	Python string // "" finds python3 on PATH
	// Heartbeat is how often a working process proves it lives; a run
	// whose heartbeat is older than 6 of them is taken over.
	Heartbeat time.Duration
	// Workers is how many queued runs one process works at once.
	Workers int
	// LocalRuns is how many on-demand runs a process that works runs
	// starts itself at once; beyond that they go through the queue.
	LocalRuns int
	// Region is the $env region variable (prod-nam, prod-eu, prod-apjc).
	Region string
}

// Service imports and runs workflows.
type Service struct {
	cfg   Config
	st    store.Store
	wfs   store.Workflows
	runs  store.Runs
	auto  *automation.Service
	audit *audit.Recorder
	lg    *slog.Logger
	eng   *engine.Engine
	owner string // this process, as a run's owner

	mu    sync.Mutex
	queue Enqueuer
	defs  sync.Map // workflow version id -> *parsed
	lib   *library

	// A process that works runs (Task was called) runs the on-demand runs
	// it accepts itself, up to LocalRuns at once, without a round trip
	// through the job queue; the queue takes the overflow.
	worker bool
	slots  chan struct{}
	local  sync.WaitGroup
	mon    monitor
}

// New builds the service.
func New(cfg Config, st store.Store, auto *automation.Service, rec *audit.Recorder, lg *slog.Logger) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 5 * time.Second
	}
	if cfg.Workers == 0 {
		cfg.Workers = 100
	}
	if cfg.LocalRuns == 0 {
		cfg.LocalRuns = 1000
	}
	if cfg.Region == "" {
		cfg.Region = "prod-nam"
	}
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	s := &Service{cfg: cfg, st: st, wfs: st.Workflows(), runs: st.Runs(), auto: auto, audit: rec, lg: lg,
		owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), newID("")[:8])}
	s.slots = make(chan struct{}, cfg.LocalRuns)
	s.eng = engine.New(engine.Config{Types: activities.All(), Limits: cfg.Limits, Python: cfg.Python, Now: cfg.Now, Log: lg})
	lib, err := newLibrary(s.eng)
	if err != nil {
		return nil, err
	}
	s.lib = lib
	auto.AddResealer(s.reseal)
	return s, nil
}

// Engine is the service's engine.
func (s *Service) Engine() *engine.Engine { return s.eng }

// SetQueue sets where runs are enqueued (the process's job runner);
// works says whether that runner works runs here (it was started with
// [Service.Task]), so that this process also starts the on-demand runs it
// accepts itself.
func (s *Service) SetQueue(q Enqueuer, works bool) {
	s.mu.Lock()
	s.queue, s.worker = q, works
	s.mu.Unlock()
}

func (s *Service) enqueue(ctx context.Context, runID string) error {
	s.mu.Lock()
	q := s.queue
	s.mu.Unlock()
	if q == nil {
		return errors.New("workflow: no job queue")
	}
	return q.Enqueue(ctx, TaskKind, runID)
}

// Task is the River task that works runs, for jobs.Start.
func (s *Service) Task() jobs.Task {
	return jobs.Task{Kind: TaskKind, Workers: s.cfg.Workers, Work: s.work}
}

// Drain waits for the runs this process started directly, until ctx ends;
// what is still running then is taken over by another process (or this
// one after a restart) when its heartbeat stops.
func (s *Service) Drain(ctx context.Context) {
	done := make(chan struct{})
	go func() { s.local.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// localSlot takes a slot for a run this process starts itself, if it works
// runs and one is free.
func (s *Service) localSlot() bool {
	s.mu.Lock()
	worker := s.worker
	s.mu.Unlock()
	if !worker {
		return false
	}
	select {
	case s.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Periodic is the sweeper that takes over runs whose process died.
func (s *Service) Periodic() []jobs.Periodic {
	return []jobs.Periodic{{Name: "workflow_sweeper", Interval: s.cfg.Heartbeat * 3, Run: func(ctx context.Context) error {
		_, err := s.Sweep(ctx)
		return err
	}}}
}

func (s *Service) now() time.Time { return store.Micro(s.cfg.Now()) }

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Service) record(ctx context.Context, e store.AuditEvent) {
	if s.audit != nil {
		_ = s.audit.Record(ctx, e)
	}
}

// Actor is who acts: an account, or "" for an operator at the command
// line without --as (who may do everything but run: a run needs a
// person's token).
type Actor struct {
	Account store.Account
}

func (a Actor) id() string { return a.Account.ID }

// Permissions by role.
type permission int

const (
	permRead permission = iota
	permRun
	permAuthor
	permAdmin
)

func (p permission) String() string {
	return [...]string{"read", "run workflows", "import and edit workflows", "administer"}[p]
}

func allows(r store.Role, p permission) bool {
	switch r {
	case store.RoleTenantAdmin:
		return true
	case store.RoleAuthor:
		return p <= permAuthor
	case store.RoleOperator:
		return p <= permRun
	case store.RoleViewer:
		return p == permRead
	}
	return false
}

// authorize checks that actor may do p in the tenant; a denial is
// audited.
func (s *Service) authorize(ctx context.Context, t store.Tenant, a Actor, p permission, what string) (store.Role, error) {
	if a.id() == "" {
		return store.RoleTenantAdmin, nil
	}
	_, role, err := s.auto.RoleOf(ctx, t, a.id())
	if err != nil && !errors.Is(err, automation.ErrForbidden) {
		return "", err
	}
	if err == nil && allows(role, p) {
		return role, nil
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.denied", ActorAccountID: a.id(), OrgID: t.OrgID, Target: t.ID,
		Details: map[string]string{"tenant": t.ID, "what": what, "role": string(role), "needs": p.String()}})
	if role == "" {
		return "", fmt.Errorf("%w: %s is not an administrator of this organization", ErrForbidden, a.Account.Email)
	}
	return "", fmt.Errorf("%w: %s is %s in this tenant, which may not %s", ErrForbidden, a.Account.Email, role, what)
}

func (s *Service) tenant(ctx context.Context, id string) (store.Tenant, error) {
	t, err := s.auto.Tenant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("%w: tenant %s", ErrNotFound, id)
	}
	return t, err
}
