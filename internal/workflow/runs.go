package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// RunParams starts a run on demand.
type RunParams struct {
	WorkflowID string
	Actor      Actor
	// Inputs by display name or variable id. Strings are converted to the
	// variable's type; JSON values are taken as they are.
	Inputs map[string]any
	// TargetID overrides the tenant's Meraki - Current Org target.
	TargetID string
}

// sealedInput is how a secure input given at run time is stored in the
// run (sealed, never plain).
type sealedInput struct {
	Sealed string `json:"sealed"`
}

func inputAD(runID, varID string) string { return "workflow run input\x00" + runID + "\x00" + varID }

// StartRun checks and queues an on-demand run. It uses the runner's own
// User token; a runner without a valid one gets a clear error.
func (s *Service) StartRun(ctx context.Context, p RunParams) (store.Run, error) {
	w, err := s.wfs.GetWorkflow(ctx, p.WorkflowID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Run{}, fmt.Errorf("%w: workflow %s", ErrNotFound, p.WorkflowID)
	}
	if err != nil {
		return store.Run{}, err
	}
	t, err := s.tenant(ctx, w.TenantID)
	if err != nil {
		return store.Run{}, err
	}
	if p.Actor.id() == "" {
		return store.Run{}, fmt.Errorf("%w: a run needs a person (--as EMAIL): it uses that person's User token", ErrInvalid)
	}
	if _, err := s.authorize(ctx, t, p.Actor, permRun, "run workflows"); err != nil {
		return store.Run{}, err
	}
	return s.queueRun(ctx, t, w, p, store.TokenUser, "")
}

// queueRun stores and queues a run: on-demand runs come here; scheduled
// runs store theirs in the firing transaction (see prepareRun).
func (s *Service) queueRun(ctx context.Context, t store.Tenant, w store.Workflow, p RunParams, kind store.TokenKind, scheduleID string) (store.Run, error) {
	r, err := s.prepareRun(ctx, t, w, p, kind, scheduleID, s.now())
	if err != nil {
		return store.Run{}, err
	}
	local := s.localSlot()
	if local {
		// Stored already claimed by this process, with a heartbeat: if it
		// dies, the sweeper hands the run to another.
		r.Status, r.Owner, r.HeartbeatAt, r.StartedAt, r.Attempt = store.RunRunning, s.owner, r.CreatedAt, r.CreatedAt, 1
	}
	if err := s.runs.CreateRun(ctx, r); err != nil {
		if local {
			<-s.slots
		}
		return store.Run{}, err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.run_started", ActorAccountID: p.Actor.id(), OrgID: t.OrgID, Target: r.ID,
		Details: map[string]string{"tenant": t.ID, "workflow": w.UniqueName, "version": strconv.Itoa(w.Version), "token": r.TokenKind, "schedule": scheduleID}})
	if local {
		s.local.Add(1)
		go func() {
			defer func() { <-s.slots; s.local.Done() }()
			if err := s.execute(context.WithoutCancel(ctx), r); err != nil {
				s.lg.Error("a run failed to finish", "run", r.ID, "err", err)
			}
		}()
		return r, nil
	}
	if err := s.enqueue(ctx, r.ID); err != nil {
		return r, fmt.Errorf("the run %s is stored but could not be queued: %w", r.ID, err)
	}
	return r, nil
}

// prepareRun is what on-demand and scheduled runs share before a run is
// stored: the workflow must be runnable, the inputs right (secure ones
// sealed), and a run that talks to Meraki needs a valid token of its kind
// (an error from the keeper is a *tokenProblem).
func (s *Service) prepareRun(ctx context.Context, t store.Tenant, w store.Workflow, p RunParams, kind store.TokenKind, scheduleID string, now time.Time) (store.Run, error) {
	pw, err := s.parse(w)
	if err != nil {
		return store.Run{}, err
	}
	if !w.Runnable {
		// What was missing may have come since (an import, or a newer
		// grantflow that runs more activity types): check again.
		if w, pw, err = s.refreshReport(ctx, t, w, pw); err != nil {
			return store.Run{}, err
		}
		if !w.Runnable {
			return store.Run{}, fmt.Errorf("%w: %s is not runnable: %s", ErrInvalid, w.Name, describeReport(pw.report))
		}
	}
	lookup, err := s.runLookup(ctx, t.ID, pw)
	if err != nil {
		return store.Run{}, err
	}
	r := store.Run{ID: newID("run_"), TenantID: t.ID, WorkflowID: w.ID, WorkflowName: w.Name, Version: w.Version,
		Status: store.RunQueued, StartedBy: p.Actor.id(), ScheduleID: scheduleID, CreatedAt: now}
	inputs, err := s.inputs(ctx, t, w, pw.file.Workflow, r.ID, p.Inputs)
	if err != nil {
		return store.Run{}, err
	}
	if usesMeraki(pw.file.Workflow, lookup) {
		tg, err := s.runTarget(ctx, t, p.TargetID)
		if err != nil {
			return store.Run{}, err
		}
		r.TargetID = tg.ID
		r.TokenKind = string(kind)
		ref := keeper.Ref{TenantID: t.ID, Kind: kind}
		if kind == store.TokenUser {
			r.TokenOwner = p.Actor.id()
			ref.AccountID = p.Actor.id()
		}
		if _, err := s.auto.Keeper.AccessToken(ctx, ref); err != nil {
			return store.Run{}, &tokenProblem{kind: kind, cause: err}
		}
	} else if p.TargetID != "" {
		r.TargetID = p.TargetID
	}
	r.Inputs, _ = json.Marshal(inputs)
	return r, nil
}

// tokenProblem: the run's token cannot be used. It is an ErrInvalid with a
// message for people, and unwraps to the keeper's error.
type tokenProblem struct {
	kind  store.TokenKind
	cause error
}

func (e *tokenProblem) Error() string   { return Plain(tokenError(e.kind, e.cause)) }
func (e *tokenProblem) Unwrap() []error { return []error{ErrInvalid, e.cause} }

func tokenError(kind store.TokenKind, err error) error {
	var re *keeper.ReconnectError
	who := "You have no valid User token in this tenant"
	if kind == store.TokenOrg {
		who = "The tenant's Org-scoped token is not valid"
	}
	switch {
	case errors.Is(err, keeper.ErrMissing):
		return fmt.Errorf("%w: %s: open Automation (/automation) once to get it", ErrInvalid, who)
	case errors.As(err, &re):
		return fmt.Errorf("%w: %s (it needs reconnecting: %s): open Automation (/automation) to reconnect it", ErrInvalid, who, re.Reason)
	}
	return fmt.Errorf("%w: %s: it could not be refreshed: %w", ErrInvalid, who, err)
}

func describeReport(r export.Report) string {
	var parts []string
	for _, b := range r.Broken {
		parts = append(parts, b.Path+": "+b.Message)
	}
	for _, m := range r.Missing {
		parts = append(parts, fmt.Sprintf("calls %q (%s), which is neither in the file, nor imported, nor built in", m.Name, m.WorkflowID))
	}
	for _, u := range r.Unsupported {
		parts = append(parts, fmt.Sprintf("%s: activity type %s is not supported", u.Path, u.Type))
	}
	return strings.Join(parts, "; ")
}

// runLookup finds called workflows for a run: the file's own, then the
// tenant's, then the built-in ones.
func (s *Service) runLookup(ctx context.Context, tenantID string, pw *parsed) (func(string) *export.Workflow, error) {
	tl, err := s.tenantLookup(ctx, tenantID, pw.file.Workflow.ID)
	if err != nil {
		return nil, err
	}
	return func(id string) *export.Workflow {
		if w, ok := pw.defs[id]; ok {
			return w
		}
		return tl(id)
	}, nil
}

// usesMeraki reports whether a run talks to a Meraki target: the
// workflow, or one it calls, declares one or sends Meraki requests.
func usesMeraki(wf *export.Workflow, lookup func(string) *export.Workflow) bool {
	seen := map[string]bool{}
	var visit func(w *export.Workflow) bool
	visit = func(w *export.Workflow) bool {
		if w == nil || seen[w.ID] {
			return false
		}
		seen[w.ID] = true
		if tt, _ := w.Target["target_type"].(string); tt == automation.TargetType {
			return true
		}
		found := false
		export.Walk(w.Actions, func(a *export.Activity) {
			if a.Type == "meraki.api_request" {
				found = true
			}
		})
		if found {
			return true
		}
		for _, c := range w.Calls() {
			if visit(lookup(c.WorkflowID)) {
				return true
			}
		}
		return false
	}
	return visit(wf)
}

func (s *Service) runTarget(ctx context.Context, t store.Tenant, id string) (store.Target, error) {
	if id == "" {
		tg, err := s.st.Automation().GetTargetByName(ctx, t.ID, automation.TargetName)
		if errors.Is(err, store.ErrNotFound) {
			return tg, fmt.Errorf("%w: the tenant has no %s target (create it with `grantflow tenant create --org %s --meraki`, or open Automation)", ErrInvalid, automation.TargetName, t.OrgID)
		}
		return tg, err
	}
	tg, err := s.st.Automation().GetTarget(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && tg.TenantID != t.ID) {
		return tg, fmt.Errorf("%w: target %s", ErrNotFound, id)
	}
	return tg, err
}

// inputs maps given inputs (by display name or id) onto the workflow's
// input variables, checks them, and seals secure ones.
func (s *Service) inputs(ctx context.Context, t store.Tenant, w store.Workflow, wf *export.Workflow, runID string, given map[string]any) (map[string]any, error) {
	out := map[string]any{}
	byName := map[string]*export.Variable{}
	for _, v := range wf.Variables {
		if v.Scope == export.ScopeInput {
			byName[v.ID] = v
			if _, dup := byName[v.Name]; !dup {
				byName[v.Name] = v
			}
		}
	}
	for k, val := range given {
		v, ok := byName[k]
		if !ok {
			return nil, fmt.Errorf("%w: %s has no input %q (its inputs: %s)", ErrInvalid, w.Name, k, inputNames(wf))
		}
		if str, ok := val.(string); ok {
			cv, err := convert(v, str)
			if err != nil {
				return nil, fmt.Errorf("%w: input %q: %w", ErrInvalid, v.Name, err)
			}
			val = cv
		}
		if v.Secure() {
			str, _ := val.(string)
			box, err := s.auto.Vault().Seal(ctx, []byte(str), inputAD(runID, v.ID))
			if err != nil {
				return nil, err
			}
			val = sealedInput{Sealed: box}
		}
		out[v.ID] = val
	}
	secrets, err := s.wfs.WorkflowSecrets(ctx, t.ID, w.UniqueName)
	if err != nil {
		return nil, err
	}
	hasSecret := map[string]bool{}
	for _, sc := range secrets {
		hasSecret[sc.VariableID] = true
	}
	var missing []string
	for _, v := range wf.Variables {
		if v.Scope != export.ScopeInput || !v.Required {
			continue
		}
		if _, ok := out[v.ID]; ok || hasSecret[v.ID] {
			continue
		}
		if d, ok := v.Value.(string); v.HasValue && v.Value != nil && (!ok || (d != "" && d != export.Mask)) {
			continue
		}
		missing = append(missing, v.Name)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("%w: %s needs a value for %s (--input NAME=VALUE)", ErrInvalid, w.Name, strings.Join(missing, ", "))
	}
	return out, nil
}

func inputNames(wf *export.Workflow) string {
	var names []string
	for _, v := range wf.Variables {
		if v.Scope == export.ScopeInput {
			names = append(names, strconv.Quote(v.Name))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// convert reads a command-line value for a variable of v's type.
func convert(v *export.Variable, s string) (any, error) {
	switch v.Type {
	case "datatype.integer":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		return n, nil
	case "datatype.number":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case "datatype.boolean":
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return b, nil
	case "datatype.table", "datatype.array":
		var out any
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			// A lone value makes a one-element array.
			return []any{s}, nil //nolint:nilerr // a plain word is an array of one
		}
		return export.Normalize(out), nil
	}
	return s, nil
}

// Cancel cancels a run: at once when it is queued or waiting, within a
// heartbeat when it is running. The person who started it and
// tenant_admins may.
func (s *Service) Cancel(ctx context.Context, runID string, a Actor) (store.Run, error) {
	r, t, err := s.runFor(ctx, runID)
	if err != nil {
		return r, err
	}
	if err := s.mayAct(ctx, t, r, a, "cancel this run"); err != nil {
		return r, err
	}
	r, err = s.runs.UpdateRun(ctx, runID, func(r *store.Run) error {
		switch {
		case store.RunEnded(r.Status):
			return fmt.Errorf("%w: the run has already ended (%s)", ErrInvalid, r.Status)
		case r.Status == store.RunRunning:
			r.CancelRequested = true
		default:
			r.Status, r.Error, r.EndedAt, r.Prompt = store.RunCancelled, engine.ErrCancelled.Error(), s.now(), nil
		}
		return nil
	})
	if err == nil {
		s.record(ctx, store.AuditEvent{Action: "workflow.run_cancelled", ActorAccountID: a.id(), OrgID: t.OrgID, Target: r.ID,
			Details: map[string]string{"tenant": t.ID}})
	}
	return r, err
}

// mayAct: the run's starter, or a tenant_admin.
func (s *Service) mayAct(ctx context.Context, t store.Tenant, r store.Run, a Actor, what string) error {
	if a.id() != "" && a.id() == r.StartedBy {
		_, err := s.authorize(ctx, t, a, permRun, what)
		return err
	}
	_, err := s.authorize(ctx, t, a, permAdmin, what)
	return err
}

func (s *Service) runFor(ctx context.Context, runID string) (store.Run, store.Tenant, error) {
	r, err := s.runs.GetRun(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return r, store.Tenant{}, fmt.Errorf("%w: run %s", ErrNotFound, runID)
	}
	if err != nil {
		return r, store.Tenant{}, err
	}
	t, err := s.tenant(ctx, r.TenantID)
	return r, t, err
}

// Answer answers the prompt a waiting run asks, by field label, and lets
// the run go on. The person who started it and tenant_admins may.
func (s *Service) Answer(ctx context.Context, runID string, a Actor, fields map[string]string) (store.Run, error) {
	r, t, err := s.runFor(ctx, runID)
	if err != nil {
		return r, err
	}
	if err := s.mayAct(ctx, t, r, a, "answer this run's prompt"); err != nil {
		return r, err
	}
	if r.Status != store.RunWaiting || len(r.Prompt) == 0 {
		return r, fmt.Errorf("%w: the run is %s, not waiting for an answer", ErrInvalid, r.Status)
	}
	var p engine.Prompt
	if err := json.Unmarshal(r.Prompt, &p); err != nil {
		return r, err
	}
	answer, err := checkAnswer(p, fields)
	if err != nil {
		return r, err
	}
	body, _ := json.Marshal(answer)
	r, err = s.runs.UpdateRun(ctx, runID, func(r *store.Run) error {
		if r.Status != store.RunWaiting {
			return fmt.Errorf("%w: the run is %s, not waiting for an answer", ErrInvalid, r.Status)
		}
		r.Answer, r.AnsweredBy, r.Status = body, a.id(), store.RunQueued
		return nil
	})
	if err != nil {
		return r, err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.prompt_answered", ActorAccountID: a.id(), OrgID: t.OrgID, Target: r.ID,
		Details: map[string]string{"tenant": t.ID, "prompt": p.Title}})
	return r, s.enqueue(ctx, r.ID)
}

func checkAnswer(p engine.Prompt, fields map[string]string) (map[string]any, error) {
	out := map[string]any{}
	known := map[string]engine.PromptField{}
	for _, f := range p.Fields {
		known[f.Label] = f
	}
	for k, v := range fields {
		f, ok := known[k]
		if !ok {
			var labels []string
			for _, f := range p.Fields {
				labels = append(labels, strconv.Quote(f.Label))
			}
			return nil, fmt.Errorf("%w: the prompt has no field %q (its fields: %s)", ErrInvalid, k, strings.Join(labels, ", "))
		}
		if len(f.Options) > 0 && !contains(f.Options, v) {
			return nil, fmt.Errorf("%w: %q is not one of the choices for %q: %s", ErrInvalid, v, k, strings.Join(f.Options, ", "))
		}
		out[k] = v
	}
	for _, f := range p.Fields {
		if _, ok := out[f.Label]; !ok {
			if f.Required {
				return nil, fmt.Errorf("%w: %q needs an answer", ErrInvalid, f.Label)
			}
			out[f.Label] = ""
		}
	}
	return out, nil
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// Wait polls a run until it has ended or waits for a person, or until ctx
// ends.
func (s *Service) Wait(ctx context.Context, runID string) (store.Run, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		r, err := s.runs.GetRun(ctx, runID)
		if err != nil {
			return r, err
		}
		if store.RunEnded(r.Status) || r.Status == store.RunWaiting {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-tick.C:
		}
	}
}
