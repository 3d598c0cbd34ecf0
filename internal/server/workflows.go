package server

import (
	"net/http"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/workflow"
)

// mountWorkflows builds the workflow engine on Automation (its tenants,
// roles, targets and token keeper), mounts its pages and API, and works
// runs on River.
func (s *Server) mountWorkflows(mux *http.ServeMux, auto *automation.Service) error {
	wf, err := workflow.New(workflow.Config{Now: s.now, Heartbeat: s.workflowHeartbeat}, s.store, auto, s.Audit, s.lg)
	if err != nil {
		return err
	}
	h, err := workflow.NewHandler(wf, s.Sessions, s.lg)
	if err != nil {
		return err
	}
	h.Routes(mux)
	s.Workflows = wf
	s.periodic = append(s.periodic, wf.Periodic()...)
	s.periodic = append(s.periodic, wf.SchedulePeriodic()...)
	s.tasks = append(s.tasks, wf.Task())
	return nil
}
