// Package server is grantflow's composition root: it builds every part (the
// identity pages, the integration registry, the OAuth 2.0 authorization
// server, the Dashboard API sandbox, automation) over one store, mounts their
// routes behind one middleware chain, runs the background work, and serves
// until told to stop, letting in-flight requests finish.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz"
	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/changes"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/dashboard"
	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/web"
	"github.com/grantflow/grantflow/internal/workflow"
)

// Server is one grantflow process serving HTTP.
type Server struct {
	cfg     config.Config
	store   *sqlstore.Store
	lg      *slog.Logger
	now     func() time.Time
	feed    *changes.Feed
	handler http.Handler
	metrics *prometheus.Registry

	Identity  *identity.Service
	Sessions  *identity.Sessions
	Registry  *registry.Service
	Audit     *audit.Recorder
	Authz     *authz.Handler
	Dashboard *dashboard.Handler
	// Automation is the tenants, targets and token keeper (mountAutomation).
	Automation *automation.Service
	Workflows  *workflow.Service

	background []func(ctx context.Context)
	periodic   []jobs.Periodic
	tasks      []jobs.Task

	workflowHeartbeat time.Duration
}

// Options are the parts of a Server tests replace.
type Options struct {
	Now func() time.Time
	// WorkflowHeartbeat overrides how often a process proves it still
	// works its runs (tests of dead replicas make it short).
	WorkflowHeartbeat time.Duration
}

// New builds a Server over st. It does not start anything.
func New(ctx context.Context, cfg config.Config, st *sqlstore.Store, lg *slog.Logger, opts Options) (*Server, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	feed, err := changes.New(ctx, st.Changes(), cfg.ChangePoll, lg)
	if err != nil {
		return nil, fmt.Errorf("server: change feed: %w", err)
	}
	if st.Dialect() == "postgres" {
		feed.SetListener(st.ListenChanges)
	}
	s := &Server{cfg: cfg, store: st, lg: lg, now: now, feed: feed, metrics: prometheus.NewRegistry(), workflowHeartbeat: opts.WorkflowHeartbeat}
	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.Audit = audit.New(st.Audit(), now, lg)

	issuer := cfg.IssuerURL()
	s.Identity = identity.NewService(st, s.Audit, lg, now)
	s.Sessions, err = identity.NewSessions(st.Sessions(), st.Accounts(), identity.SessionConfig{
		Issuer: issuer, IdleTimeout: cfg.SessionIdle, AbsoluteTimeout: cfg.SessionAbsolute,
	}, lg, now)
	if err != nil {
		return nil, err
	}
	idh, err := identity.NewHandler(s.Identity, s.Sessions, st.Audit(), lg, now)
	if err != nil {
		return nil, err
	}
	idh.SetClients(st.Clients())
	s.Registry = registry.NewService(st.Clients(), s.Audit, now, lg)
	s.Registry.OnChange(func(ctx context.Context) {
		if err := feed.Sync(ctx); err != nil {
			lg.WarnContext(ctx, "change feed sync after an integration change", "err", err)
		}
	})
	regh, err := registry.NewHandler(s.Registry, s.Sessions, lg)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /static/", web.Static())
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", web.RequireBearer(cfg.MetricsToken, promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})))
	idh.Routes(mux)
	regh.Routes(mux)
	if err := s.mountParts(ctx, mux); err != nil {
		return nil, err
	}

	// RequestID first (it replaces the request); Metrics outside Recover so
	// a panicking request is still counted.
	pages, err := web.WithNotFoundPage(mux, s.Sessions, lg)
	if err != nil {
		return nil, err
	}
	s.handler = web.Chain(pages,
		web.RequestID,
		web.Logging(lg),
		web.Metrics(s.metrics),
		web.Recover(lg),
		web.SecurityHeaders,
	)
	s.background = append(s.background, feed.Run)
	return s, nil
}

// Handler is the whole HTTP surface, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.now() }

// Store is the store the server runs on.
func (s *Server) Store() *sqlstore.Store { return s.store }

// Feed is the process's change feed.
func (s *Server) Feed() *changes.Feed { return s.feed }

// Start runs the background work (the change feed, and the periodic jobs
// on River) until ctx ends or the returned stop is called.
func (s *Server) Start(ctx context.Context) (stop func(), err error) {
	// River gets a context that is never cancelled: Stop, not a cancelled
	// context, is how it finishes its running jobs and leaves cleanly.
	runner, err := jobs.Start(context.WithoutCancel(ctx), s.store, s.lg, s.periodic, s.tasks...)
	if err != nil {
		return nil, fmt.Errorf("server: start jobs: %w", err)
	}
	if s.Workflows != nil {
		s.Workflows.SetQueue(runner, true)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, run := range s.background {
		wg.Go(func() { run(ctx) })
	}
	return func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := runner.Stop(sctx); err != nil {
			s.lg.Warn("stopping jobs", "err", err)
		}
		if s.Workflows != nil {
			s.Workflows.Drain(sctx) // runs this process started itself
		}
		cancel()
		wg.Wait() // background work (e.g. the last usage flush) ends before the store closes
	}, nil
}

// Serve serves on ln until ctx ends, then stops accepting connections and
// waits up to the shutdown timeout for in-flight requests to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop, err := s.Start(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	defer stop()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.lg.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.lg.Info("grantflow serving", "addr", ln.Addr().String(), "issuer", s.cfg.IssuerURL(), "store", s.store.Dialect())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.lg.Info("shutting down: finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout)
	sctx, scancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer scancel()
	err = hs.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.lg.WarnContext(ctx, "readiness check failed", "err", err)
		web.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unreachable"})
		return
	}
	web.JSON(w, http.StatusOK, map[string]string{"status": "ready", "store": s.store.Dialect()})
}
