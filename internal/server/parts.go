package server

import (
	"context"
	"net/http"
	"time"

	"github.com/grantflow/grantflow/internal/authz"
	"github.com/grantflow/grantflow/internal/dashboard"
	"github.com/grantflow/grantflow/internal/jobs"
)

// changeRetention is how long change-feed rows are kept: far longer than
// any poll interval, so a replica that paused briefly still sees them.
const changeRetention = time.Hour

// mountParts mounts the OAuth server, the Dashboard API and Automation and
// registers their periodic work.
func (s *Server) mountParts(ctx context.Context, mux *http.ServeMux) error {
	authzCfg := authz.Config{Issuer: s.cfg.IssuerURL(), Now: s.now}
	az, err := authz.New(authzCfg, s.store, s.Sessions, s.Audit, s.feed, s.lg)
	if err != nil {
		return err
	}
	az.Routes(mux)
	s.Authz = az
	janitor := authz.NewJanitor(s.store.Grants(), authzCfg, s.lg)

	dcfg := dashboard.Config{BaseURL: s.cfg.IssuerURL(), TrustedProxies: s.cfg.TrustedProxyPrefixes()}
	// 0 turns a limit off (the dashboard package reads 0 as "default").
	dcfg.RateLimit.OrgPerSecond, dcfg.RateLimit.IPPerSecond = s.cfg.RateLimitOrg, s.cfg.RateLimitIP
	dcfg.RateLimit.OrgDisabled, dcfg.RateLimit.IPDisabled = s.cfg.RateLimitOrg == 0, s.cfg.RateLimitIP == 0
	dash, err := dashboard.New(dashboard.Params{
		Store: s.store, Validator: az.Validator(), Feed: s.feed, Audit: s.Audit, Sessions: s.Sessions,
		Logger: s.lg, Now: s.now, Config: dcfg,
	})
	if err != nil {
		return err
	}
	dash.Routes(mux)
	s.Dashboard = dash
	s.background = append(s.background, dash.Run)

	s.periodic = append(s.periodic,
		jobs.Periodic{Name: "oauth_janitor", Interval: s.cfg.JanitorEvery, Run: func(ctx context.Context) error {
			_, err := janitor.RunOnce(ctx)
			return err
		}},
		jobs.Periodic{Name: "session_cleanup", Interval: s.cfg.JanitorEvery, Run: func(ctx context.Context) error {
			_, err := s.Sessions.Cleanup(ctx)
			return err
		}},
		jobs.Periodic{Name: "change_feed_prune", Interval: s.cfg.JanitorEvery, Run: func(ctx context.Context) error {
			_, err := s.store.Changes().PruneChanges(ctx, s.now().Add(-changeRetention))
			return err
		}},
	)
	if err := s.mountAutomation(ctx, mux); err != nil {
		return err
	}
	s.mountWebhooks()
	return nil
}

// SeedEstate gives an organization the demo estate: several networks of
// different product types and a few dozen devices.
func (s *Server) SeedEstate(ctx context.Context, orgID string) error {
	_, err := dashboard.Seed(ctx, s.store, dashboard.SeedParams{OrgID: orgID, Now: s.now()})
	return err
}
