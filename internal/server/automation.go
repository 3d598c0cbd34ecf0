package server

import (
	"context"
	"net/http"

	"github.com/grantflow/grantflow/internal/automation"
)

// mountAutomation builds Automation (tenants, the Current Org target, the
// token keeper), mounts its pages and API, and schedules its sync and
// token keep-alive. Automation reaches the authorization server and the
// Dashboard API over HTTP through their URLs, like any client.
func (s *Server) mountAutomation(ctx context.Context, mux *http.ServeMux) error {
	if s.cfg.AutomationKey == "" && s.store.SQLiteDir() == "" {
		s.lg.Warn("no GRANTFLOW_AUTOMATION_KEY: Automation keeps its key in the data directory; replicas must share one key, set it")
	}
	masters, err := automation.MasterKeys(s.cfg.AutomationKey, automation.KeyDir(s.cfg, s.store.SQLiteDir()))
	if err != nil {
		return err
	}
	svc, err := automation.New(ctx, automation.ConfigFrom(s.cfg, s.now), automation.Deps{
		Store: s.store, Registry: s.Registry, Audit: s.Audit, Feed: s.feed, Log: s.lg, Masters: masters,
	})
	if err != nil {
		return err
	}
	h, err := automation.NewHandler(svc, s.Sessions, s.lg)
	if err != nil {
		return err
	}
	h.Routes(mux)
	s.Automation = svc
	s.periodic = append(s.periodic, svc.Periodic(s.cfg.AutomationSync)...)
	return s.mountWorkflows(mux, svc)
}
