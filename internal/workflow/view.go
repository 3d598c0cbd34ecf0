package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// RunView is a run as PRODUCT.md shows it: display names, secure values
// masked.
type RunView struct {
	ID            string           `json:"id"`
	WorkflowID    string           `json:"workflow_id"`
	WorkflowName  string           `json:"workflow_name"`
	Version       int              `json:"version"`
	Status        string           `json:"status"`
	StartedBy     *string          `json:"started_by"`
	ScheduleID    *string          `json:"schedule_id"`
	Token         *TokenView       `json:"token"`
	Inputs        map[string]any   `json:"inputs"`
	Outputs       map[string]any   `json:"outputs"`
	ResultMessage string           `json:"result_message"`
	Error         string           `json:"error"`
	StartedAt     *time.Time       `json:"started_at"`
	EndedAt       *time.Time       `json:"ended_at"`
	Activities    []ActivityView   `json:"activities"`
	Prompt        *PromptView      `json:"prompt"`
	TenantID      string           `json:"tenant_id"`
	Attempt       int              `json:"attempt"`
	Details       []ActivityFull   `json:"-"`
	Def           *export.Workflow `json:"-"`
}

// TokenView names the token a run used, never its value.
type TokenView struct {
	Kind  string  `json:"kind"`
	Owner *string `json:"owner"`
}

// ActivityView is one activity execution in a run.
type ActivityView struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Title     string     `json:"title"`
	Status    string     `json:"status"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	Error     string     `json:"error"`
}

// ActivityFull adds an execution's inputs and outputs (the run page).
type ActivityFull struct {
	ActivityView
	Seq    int             `json:"seq"`
	Input  json.RawMessage `json:"input,omitempty"`
	Output json.RawMessage `json:"output,omitempty"`
}

// PromptView is what a waiting run asks.
type PromptView struct {
	Title  string      `json:"title"`
	Body   string      `json:"body,omitempty"`
	Fields []FieldView `json:"fields"`
}

// FieldView is one prompt field.
type FieldView struct {
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Options []string `json:"options"`
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Run returns a run as the person may see it (viewers and up).
func (s *Service) Run(ctx context.Context, runID string, a Actor) (RunView, error) {
	v, _, _, err := s.runAs(ctx, runID, a)
	return v, err
}

// runAs is [Service.Run] that also gives the run's tenant and the actor's
// role in it, for the page that shows what the person may do.
func (s *Service) runAs(ctx context.Context, runID string, a Actor) (RunView, store.Tenant, store.Role, error) {
	r, t, err := s.runFor(ctx, runID)
	if err != nil {
		return RunView{}, t, "", err
	}
	role, err := s.authorize(ctx, t, a, permRead, "see runs")
	if err != nil {
		return RunView{}, t, "", err
	}
	v, err := s.view(ctx, r, true)
	return v, t, role, err
}

// Runs lists runs (newest first).
func (s *Service) Runs(ctx context.Context, f store.RunFilter, a Actor) ([]RunView, error) {
	t, err := s.tenant(ctx, f.TenantID)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(ctx, t, a, permRead, "see runs"); err != nil {
		return nil, err
	}
	rs, err := s.runs.ListRuns(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]RunView, 0, len(rs))
	for _, r := range rs {
		v, err := s.view(ctx, r, false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Service) email(ctx context.Context, id string) *string {
	if id == "" {
		return nil
	}
	a, err := s.st.Accounts().GetAccount(ctx, id)
	if err != nil {
		return &id
	}
	return &a.Email
}

func (s *Service) view(ctx context.Context, r store.Run, activities bool) (RunView, error) {
	v := RunView{ID: r.ID, WorkflowID: r.WorkflowID, WorkflowName: r.WorkflowName, Version: r.Version, Status: r.Status,
		StartedBy: s.email(ctx, r.StartedBy), ResultMessage: r.ResultMessage, Error: r.Error,
		StartedAt: tp(r.StartedAt), EndedAt: tp(r.EndedAt), TenantID: r.TenantID, Attempt: r.Attempt,
		Inputs: map[string]any{}, Outputs: map[string]any{}, Activities: []ActivityView{}}
	if r.ScheduleID != "" {
		id := r.ScheduleID
		v.ScheduleID = &id
	}
	if r.TokenKind != "" {
		v.Token = &TokenView{Kind: r.TokenKind, Owner: s.email(ctx, r.TokenOwner)}
	}
	var wf *export.Workflow
	if w, err := s.wfs.GetWorkflow(ctx, r.WorkflowID); err == nil {
		if p, err := s.parse(w); err == nil {
			wf = p.file.Workflow
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	v.Def = wf
	named := func(raw []byte, into map[string]any) {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		for id, val := range m {
			name, secure := id, false
			if wf != nil {
				if vr := wf.Variable(id); vr != nil {
					name, secure = vr.Name, vr.Secure()
				}
			}
			var x any
			_ = json.Unmarshal(val, &x)
			sealed := false
			if m, ok := x.(map[string]any); ok {
				_, sealed = m["sealed"]
			}
			if sealed || secure {
				x = export.Mask
			} else {
				x = export.Normalize(x)
			}
			into[name] = x
		}
	}
	named(r.Inputs, v.Inputs)
	named(r.Outputs, v.Outputs)
	if len(r.Prompt) > 0 && r.Status == store.RunWaiting {
		var p engine.Prompt
		if err := json.Unmarshal(r.Prompt, &p); err == nil {
			pv := &PromptView{Title: p.Title, Body: p.Body, Fields: []FieldView{}}
			for _, f := range p.Fields {
				opts := f.Options
				if opts == nil {
					opts = []string{}
				}
				pv.Fields = append(pv.Fields, FieldView{Label: f.Label, Type: f.Type, Options: opts})
			}
			v.Prompt = pv
		}
	}
	if activities {
		acts, err := s.runs.ListActivities(ctx, r.ID)
		if err != nil {
			return v, err
		}
		for _, a := range acts {
			av := ActivityView{ID: a.ActivityID, Type: a.Type, Title: a.Title, Status: a.Status, StartedAt: tp(a.StartedAt), EndedAt: tp(a.EndedAt), Error: a.Error}
			v.Activities = append(v.Activities, av)
			v.Details = append(v.Details, ActivityFull{ActivityView: av, Seq: a.Seq, Input: a.Input, Output: a.Output})
		}
	}
	return v, nil
}

// Output returns a run's output by display name or id (tests, the CLI).
func (v RunView) Output(name string) (any, error) {
	if x, ok := v.Outputs[name]; ok {
		return x, nil
	}
	return nil, fmt.Errorf("run %s has no output %q", v.ID, name)
}
