package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// ScheduleParams creates a schedule.
type ScheduleParams struct {
	WorkflowID string // any version; runs take the latest version of its workflow
	Actor      Actor
	Name       string
	Spec       Spec
	// MaxRuns ends the schedule after that many runs (0: never).
	MaxRuns int
	// Misfire is store.MisfireRunOnce (the default) or store.MisfireSkip.
	Misfire string
	// Inputs by display name or variable id, as for a run on demand. They
	// are kept sealed: they may hold secure values.
	Inputs map[string]any
	// Disabled creates it disabled (as an import does).
	Disabled bool
}

// ScheduleView is a schedule as the CLI, the JSON API and the pages show
// it (docs/api.md).
type ScheduleView struct {
	ID           string `json:"id"`
	TenantID     string `json:"tenant_id"`
	WorkflowID   string `json:"workflow_id"`
	WorkflowName string `json:"workflow_name"`
	// WorkflowUniqueName is the workflow's unique_name: runs take its
	// latest version.
	WorkflowUniqueName string       `json:"workflow_unique_name"`
	Name               string       `json:"name"`
	Enabled            bool         `json:"enabled"`
	CreatedBy          *string      `json:"created_by"`
	Spec               Spec         `json:"spec"`
	NextRuns           []string     `json:"next_runs"`
	State              string       `json:"state"`
	Reason             string       `json:"reason"`
	Runs               int          `json:"runs"`
	Times              *int         `json:"times"`
	Misfire            string       `json:"misfire"`
	Inputs             []string     `json:"inputs"` // names only: values may be secure
	Source             string       `json:"source"` // "api" or "import"
	CreatedAt          time.Time    `json:"created_at"`
	History            []FiringView `json:"history,omitempty"`
}

// FiringView is what happened at one due time.
type FiringView struct {
	DueAt   time.Time `json:"due_at"`
	FiredAt time.Time `json:"fired_at"`
	// Outcome: run, run_once (one run for Missed due times missed while
	// no process was up), skipped (the same, skipped by the misfire
	// policy), skipped_token (the Org-scoped token needed reconnecting),
	// failed (Detail says why).
	Outcome string  `json:"outcome"`
	Missed  int     `json:"missed"`
	RunID   *string `json:"run_id"`
	Detail  string  `json:"detail,omitempty"`
}

// nextShown is how many next due times a view lists.
const nextShown = 5

func (s *Service) scheduleStore() (store.Schedules, error) {
	ss, ok := s.st.(store.ScheduleStore)
	if !ok {
		return nil, errors.New("workflow: this store keeps no schedules")
	}
	return ss.Schedules(), nil
}

func scheduleInputsAD(id string) string { return "workflow schedule inputs\x00" + id }

// CreateSchedule checks and stores a schedule. Only a tenant_admin may.
func (s *Service) CreateSchedule(ctx context.Context, p ScheduleParams) (ScheduleView, error) {
	ss, err := s.scheduleStore()
	if err != nil {
		return ScheduleView{}, err
	}
	w, err := s.wfs.GetWorkflow(ctx, p.WorkflowID)
	if errors.Is(err, store.ErrNotFound) {
		return ScheduleView{}, fmt.Errorf("%w: workflow %s", ErrNotFound, p.WorkflowID)
	}
	if err != nil {
		return ScheduleView{}, err
	}
	t, err := s.tenant(ctx, w.TenantID)
	if err != nil {
		return ScheduleView{}, err
	}
	if _, err := s.authorize(ctx, t, p.Actor, permAdmin, "create schedules"); err != nil {
		return ScheduleView{}, err
	}
	now := s.now()
	sp := p.Spec
	if sp.Kind == SpecEvery && sp.Start.IsZero() {
		sp.Start = now
	}
	sp.Start = store.Micro(sp.Start)
	c, err := compile(sp)
	if err != nil {
		return ScheduleView{}, err
	}
	sp = c.spec
	if p.Misfire == "" {
		p.Misfire = store.MisfireRunOnce
	}
	if p.Misfire != store.MisfireRunOnce && p.Misfire != store.MisfireSkip {
		return ScheduleView{}, fmt.Errorf("%w: the misfire policy is run-once or skip, not %q", ErrInvalid, p.Misfire)
	}
	if p.MaxRuns < 0 {
		return ScheduleView{}, fmt.Errorf("%w: the number of runs cannot be negative", ErrInvalid)
	}
	// The inputs are checked now, as a run would check them, so that a
	// mistake shows here and not at the first due time.
	pw, err := s.parse(w)
	if err != nil {
		return ScheduleView{}, err
	}
	if _, err := s.inputs(ctx, t, w, pw.file.Workflow, newID("run_"), p.Inputs); err != nil {
		return ScheduleView{}, err
	}
	sc := store.Schedule{ID: newID("sch_"), TenantID: t.ID, WorkflowID: w.ID, UniqueName: w.UniqueName, Name: p.Name,
		Misfire: p.Misfire, MaxRuns: p.MaxRuns, Enabled: !p.Disabled, State: store.ScheduleActive, CreatedBy: p.Actor.id(),
		CreatedAt: now, UpdatedAt: now}
	if sc.Name == "" {
		sc.Name = w.Name
	}
	sc.Spec, _ = json.Marshal(sp)
	if len(p.Inputs) > 0 {
		raw, _ := json.Marshal(p.Inputs)
		box, err := s.auto.Vault().Seal(ctx, raw, scheduleInputsAD(sc.ID))
		if err != nil {
			return ScheduleView{}, err
		}
		sc.Inputs, _ = json.Marshal(scheduleInputs{Names: sortedKeys(p.Inputs), Sealed: box})
	}
	if next, ok := c.Next(now); ok {
		sc.NextDueAt = store.Micro(next)
	} else {
		sc.State, sc.Reason = store.ScheduleFinished, "no due time is left"
	}
	if err := ss.CreateSchedule(ctx, sc); err != nil {
		return ScheduleView{}, err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.schedule_created", ActorAccountID: p.Actor.id(), OrgID: t.OrgID, Target: sc.ID,
		Details: map[string]string{"tenant": t.ID, "workflow": w.UniqueName, "spec": string(sc.Spec)}})
	return s.scheduleView(ctx, sc, w.Name, false)
}

// scheduleInputs is how a schedule keeps its inputs: the names in the
// clear (to show them), the values sealed.
type scheduleInputs struct {
	Names  []string `json:"names"`
	Sealed string   `json:"sealed"`
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scheduleInputValues opens a schedule's inputs.
func (s *Service) scheduleInputValues(ctx context.Context, sc store.Schedule) (map[string]any, error) {
	if len(sc.Inputs) == 0 {
		return nil, nil
	}
	var si scheduleInputs
	if err := json.Unmarshal(sc.Inputs, &si); err != nil {
		return nil, err
	}
	raw, err := s.auto.Vault().Open(ctx, si.Sealed, scheduleInputsAD(sc.ID))
	if err != nil {
		return nil, fmt.Errorf("the schedule's inputs cannot be opened: %w", err)
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

// Schedules lists a tenant's schedules. Anyone with a role may see them.
func (s *Service) Schedules(ctx context.Context, tenantID string, a Actor) ([]ScheduleView, error) {
	ss, err := s.scheduleStore()
	if err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(ctx, t, a, permRead, "see schedules"); err != nil {
		return nil, err
	}
	list, err := ss.ListSchedules(ctx, store.ScheduleFilter{TenantID: t.ID})
	if err != nil {
		return nil, err
	}
	out := make([]ScheduleView, 0, len(list))
	names := map[string]string{}
	for _, sc := range list {
		name, ok := names[sc.UniqueName]
		if !ok {
			if w, err := s.wfs.LatestWorkflow(ctx, t.ID, sc.UniqueName); err == nil {
				name = w.Name
			}
			names[sc.UniqueName] = name
		}
		v, err := s.scheduleView(ctx, sc, name, false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Schedule shows one schedule with the history of its due times.
func (s *Service) Schedule(ctx context.Context, id string, a Actor) (ScheduleView, error) {
	v, _, _, err := s.scheduleAs(ctx, id, a)
	return v, err
}

// scheduleAs is [Service.Schedule] that also gives the schedule's tenant
// and the actor's role in it, for the page that shows what the person may
// do.
func (s *Service) scheduleAs(ctx context.Context, id string, a Actor) (ScheduleView, store.Tenant, store.Role, error) {
	sc, t, err := s.scheduleFor(ctx, id)
	if err != nil {
		return ScheduleView{}, t, "", err
	}
	role, err := s.authorize(ctx, t, a, permRead, "see schedules")
	if err != nil {
		return ScheduleView{}, t, "", err
	}
	name := ""
	if w, err := s.wfs.LatestWorkflow(ctx, t.ID, sc.UniqueName); err == nil {
		name = w.Name
	}
	v, err := s.scheduleView(ctx, sc, name, true)
	return v, t, role, err
}

func (s *Service) scheduleFor(ctx context.Context, id string) (store.Schedule, store.Tenant, error) {
	ss, err := s.scheduleStore()
	if err != nil {
		return store.Schedule{}, store.Tenant{}, err
	}
	sc, err := ss.GetSchedule(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return sc, store.Tenant{}, fmt.Errorf("%w: schedule %s", ErrNotFound, id)
	}
	if err != nil {
		return sc, store.Tenant{}, err
	}
	t, err := s.tenant(ctx, sc.TenantID)
	return sc, t, err
}

// EnableSchedule enables or disables a schedule. Only a tenant_admin may.
// Enabling takes up the due times from now on: those that passed while it
// was disabled are not made up for.
func (s *Service) EnableSchedule(ctx context.Context, id string, a Actor, enable bool) (ScheduleView, error) {
	sc, t, err := s.scheduleFor(ctx, id)
	if err != nil {
		return ScheduleView{}, err
	}
	what := "disable schedules"
	if enable {
		what = "enable schedules"
	}
	if _, err := s.authorize(ctx, t, a, permAdmin, what); err != nil {
		return ScheduleView{}, err
	}
	ss, _ := s.scheduleStore()
	now := s.now()
	sc, err = ss.UpdateSchedule(ctx, id, func(sc *store.Schedule) error {
		if sc.Enabled == enable {
			return nil
		}
		sc.Enabled, sc.UpdatedAt = enable, now
		if enable && sc.State == store.ScheduleActive {
			sc.Reason = "" // the import's "enable it" note
		}
		if enable && sc.State != store.ScheduleFinished {
			c, err := compileStored(sc)
			if err != nil {
				return err
			}
			if next, ok := c.Next(now); ok {
				sc.NextDueAt = store.Micro(next)
			} else {
				sc.NextDueAt, sc.State, sc.Reason = time.Time{}, store.ScheduleFinished, "no due time is left"
			}
		}
		return nil
	})
	if err != nil {
		return ScheduleView{}, err
	}
	action := "workflow.schedule_disabled"
	if enable {
		action = "workflow.schedule_enabled"
	}
	s.record(ctx, store.AuditEvent{Action: action, ActorAccountID: a.id(), OrgID: t.OrgID, Target: sc.ID,
		Details: map[string]string{"tenant": t.ID}})
	return s.Schedule(ctx, id, a)
}

// DeleteSchedule deletes a schedule; its runs stay. Only a tenant_admin
// may.
func (s *Service) DeleteSchedule(ctx context.Context, id string, a Actor) error {
	sc, t, err := s.scheduleFor(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.authorize(ctx, t, a, permAdmin, "delete schedules"); err != nil {
		return err
	}
	ss, _ := s.scheduleStore()
	if err := ss.DeleteSchedule(ctx, sc.ID); err != nil {
		return err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.schedule_deleted", ActorAccountID: a.id(), OrgID: t.OrgID, Target: sc.ID,
		Details: map[string]string{"tenant": t.ID, "workflow": sc.UniqueName}})
	return nil
}

func compileStored(sc *store.Schedule) (*compiled, error) {
	var sp Spec
	if err := json.Unmarshal(sc.Spec, &sp); err != nil {
		return nil, fmt.Errorf("schedule %s: stored spec: %w", sc.ID, err)
	}
	return compile(sp)
}

func (s *Service) scheduleView(ctx context.Context, sc store.Schedule, workflowName string, history bool) (ScheduleView, error) {
	v := ScheduleView{ID: sc.ID, TenantID: sc.TenantID, WorkflowID: sc.WorkflowID, WorkflowName: workflowName, WorkflowUniqueName: sc.UniqueName, Name: sc.Name,
		Enabled: sc.Enabled, CreatedBy: s.email(ctx, sc.CreatedBy), State: sc.State, Reason: sc.Reason, Runs: sc.Runs,
		Misfire: sc.Misfire, Inputs: []string{}, Source: "api", CreatedAt: sc.CreatedAt, NextRuns: []string{}}
	if sc.Source != "" {
		v.Source = sc.Source
	}
	if sc.MaxRuns > 0 {
		n := sc.MaxRuns
		v.Times = &n
	}
	if len(sc.Inputs) > 0 {
		var si scheduleInputs
		if json.Unmarshal(sc.Inputs, &si) == nil && si.Names != nil {
			v.Inputs = si.Names
		}
	}
	c, err := compileStored(&sc)
	if err != nil {
		// An imported schedule that cannot run as exported (an unknown
		// calendar) is kept disabled and shown with its reason.
		if json.Unmarshal(sc.Spec, &v.Spec) != nil || sc.Enabled {
			return v, err
		}
		c = nil
	} else {
		v.Spec = c.spec
	}
	if c != nil && sc.Enabled && !sc.NextDueAt.IsZero() {
		left := nextShown
		if sc.MaxRuns > 0 {
			left = min(left, sc.MaxRuns-sc.Runs)
		}
		for at, ok := sc.NextDueAt, true; ok && len(v.NextRuns) < left; at, ok = c.Next(at) {
			v.NextRuns = append(v.NextRuns, at.In(c.loc).Format(time.RFC3339))
		}
	}
	if history {
		ss, _ := s.scheduleStore()
		fs, err := ss.ListFirings(ctx, sc.ID, 100)
		if err != nil {
			return v, err
		}
		v.History = []FiringView{}
		for _, f := range fs {
			fv := FiringView{DueAt: f.DueAt, FiredAt: f.FiredAt, Outcome: f.Outcome, Missed: f.Missed, Detail: f.Detail}
			if f.RunID != "" {
				id := f.RunID
				fv.RunID = &id
			}
			v.History = append(v.History, fv)
		}
	}
	return v, nil
}
