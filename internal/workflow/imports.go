package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// ImportResult is the answer for one file (PRODUCT.md "workflow import").
type ImportResult struct {
	File        string               `json:"file,omitempty"`
	ID          string               `json:"id"`
	UniqueName  string               `json:"unique_name"`
	Name        string               `json:"name"`
	Version     int                  `json:"version"`
	Runnable    bool                 `json:"runnable"`
	Problems    []export.Problem     `json:"problems"`
	Broken      []export.Problem     `json:"broken"`
	Missing     []export.MissingCall `json:"missing"`
	Unsupported []export.Unsupported `json:"unsupported"`
	// Secrets are the secure-string variables still without a value.
	Secrets []SecretState `json:"secrets"`
	// Triggers are the schedules, rules, webhooks, triggers and events
	// the file carried: kept and shown, not fired.
	Triggers []string `json:"triggers"`
}

// SecretState is a secure-string variable and whether it has a value.
type SecretState struct {
	VariableID string `json:"variable_id"`
	Name       string `json:"name"`
	Set        bool   `json:"set"`
}

// ImportParams is one file to import.
type ImportParams struct {
	TenantID string
	Actor    Actor
	File     string // its name, for the answer
	Data     []byte
	// Secrets are values for secure-string variables, by display name or
	// variable id (the import page asks for them).
	Secrets map[string]string
}

func secretAD(tenantID, uniqueName, varID string) string {
	return vault.AD("workflow secret", tenantID, uniqueName, varID)
}

// Import stores one export file as a new version of its workflow, whole
// or not at all. A file that is not an export returns a result with
// Problems and an error wrapping ErrInvalid; nothing of it is stored.
func (s *Service) Import(ctx context.Context, p ImportParams) (ImportResult, error) {
	res := ImportResult{File: p.File}
	t, err := s.tenant(ctx, p.TenantID)
	if err != nil {
		return res, err
	}
	if _, err := s.authorize(ctx, t, p.Actor, permAuthor, "import workflows"); err != nil {
		return res, err
	}
	f, err := export.Parse(p.Data)
	var nx *export.NotExportError
	if errors.As(err, &nx) {
		res.Problems = nx.Problems
		return res.normalized(), fmt.Errorf("%w: %s", ErrInvalid, nx.Error())
	}
	if err != nil {
		return res, err
	}
	secrets := f.TakeSecrets()
	for k, v := range p.Secrets {
		if v == "" || v == export.Mask {
			continue
		}
		found := false
		for _, w := range f.Definitions() {
			for _, vr := range w.Variables {
				if vr.Secure() && (vr.ID == k || vr.Name == k) {
					secrets = append(secrets, export.Secret{WorkflowID: w.ID, VariableID: vr.ID, Value: v})
					found = true
				}
			}
		}
		if !found {
			return res, fmt.Errorf("%w: %q is not a secure variable of this workflow", ErrInvalid, k)
		}
	}
	lookup, err := s.tenantLookup(ctx, t.ID, f.Workflow.ID)
	if err != nil {
		return res, err
	}
	report := export.Check(f, s.checkEnv(lookup)).Normalized()
	def, err := f.Marshal()
	if err != nil {
		return res, err
	}
	rep, _ := json.Marshal(report)
	// Seal first: a failure leaves nothing behind.
	sealed := make([]store.WorkflowSecret, 0, len(secrets))
	for _, sc := range secrets {
		uname := sc.WorkflowID
		if uname == "" {
			uname = f.Workflow.ID // a global variable: kept with the main workflow
		}
		box, err := s.auto.Vault().Seal(ctx, []byte(sc.Value), secretAD(t.ID, uname, sc.VariableID))
		if err != nil {
			return res, err
		}
		sealed = append(sealed, store.WorkflowSecret{TenantID: t.ID, UniqueName: uname, VariableID: sc.VariableID, Sealed: []byte(box), UpdatedAt: s.now()})
	}
	w, err := s.wfs.CreateWorkflowVersion(ctx, store.Workflow{
		ID: newID("wf_"), TenantID: t.ID, UniqueName: f.Workflow.ID, Name: f.Workflow.Name, Atomic: f.Workflow.Atomic,
		Definition: def, Runnable: report.Runnable(), Report: rep, ImportedBy: p.Actor.id(), CreatedAt: s.now(),
	})
	if err != nil {
		return res, err
	}
	for _, sc := range sealed {
		if err := s.wfs.PutWorkflowSecret(ctx, sc); err != nil {
			return res, err
		}
	}
	if err := s.importTargets(ctx, t, f); err != nil {
		return res, err
	}
	if err := s.importTriggers(ctx, t, w, f); err != nil {
		return res, err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.imported", ActorAccountID: p.Actor.id(), OrgID: t.OrgID, Target: w.ID,
		Details: map[string]string{"tenant": t.ID, "workflow": w.UniqueName, "name": w.Name, "version": strconv.Itoa(w.Version), "runnable": strconv.FormatBool(w.Runnable)}})
	if err := s.recheck(ctx, t); err != nil {
		s.lg.Warn("re-checking the tenant's workflows failed", "tenant", t.ID, "err", err)
	}
	out, err := s.describe(ctx, w)
	if err != nil {
		return res, err
	}
	out.File = p.File
	return out, nil
}

func (r ImportResult) normalized() ImportResult {
	if r.Problems == nil {
		r.Problems = []export.Problem{}
	}
	if r.Broken == nil {
		r.Broken = []export.Problem{}
	}
	if r.Missing == nil {
		r.Missing = []export.MissingCall{}
	}
	if r.Unsupported == nil {
		r.Unsupported = []export.Unsupported{}
	}
	if r.Secrets == nil {
		r.Secrets = []SecretState{}
	}
	if r.Triggers == nil {
		r.Triggers = []string{}
	}
	return r
}

// importTargets makes the file's targets the tenant's (an existing one,
// maybe edited by an operator, is left as it is).
func (s *Service) importTargets(ctx context.Context, t store.Tenant, f *export.File) error {
	for id, raw := range f.Targets {
		m, _ := raw.(map[string]any)
		props, _ := m["properties"].(map[string]any)
		name, _ := props["display_name"].(string)
		if name == "" {
			name, _ = m["name"].(string)
		}
		if name == "" {
			name = id
		}
		typ, _ := m["type"].(string)
		host, _ := props["host"].(string)
		protocol, _ := props["protocol"].(string)
		path, _ := props["path"].(string)
		port := 0
		switch v := props["port"].(type) {
		case int64:
			port = int(v)
		case string:
			port, _ = strconv.Atoi(v)
		}
		if protocol == "" {
			protocol = "https"
		}
		if port == 0 {
			port = 443
			if protocol == "http" {
				port = 80
			}
		}
		body, _ := json.Marshal(m)
		tg := store.Target{ID: newID("tgt_"), TenantID: t.ID, Name: name, Type: typ, Protocol: strings.ToLower(protocol), Host: host, Port: port,
			BasePath: path, ExternalID: id, Properties: body, CreatedTrigger: "import", CreatedAt: s.now(), UpdatedAt: s.now()}
		_, err := s.st.Automation().UpsertImportedTarget(ctx, tg)
		if errors.Is(err, store.ErrConflict) {
			tg.Name = name + " (" + id + ")"
			_, err = s.st.Automation().UpsertImportedTarget(ctx, tg)
		}
		if err != nil {
			return fmt.Errorf("target %s: %w", id, err)
		}
	}
	return nil
}

// recheck re-evaluates the tenant's workflows that were not runnable: an
// import may have brought what they were missing.
func (s *Service) recheck(ctx context.Context, t store.Tenant) error {
	ws, err := s.wfs.ListWorkflows(ctx, t.ID)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if w.Runnable {
			continue
		}
		p, err := s.parse(w)
		if err != nil || len(p.report.Missing) == 0 {
			continue
		}
		if _, _, err := s.refreshReport(ctx, t, w, p); err != nil {
			return err
		}
	}
	return nil
}

// refreshReport checks a stored version again and stores the new verdict
// when it changed.
func (s *Service) refreshReport(ctx context.Context, t store.Tenant, w store.Workflow, pw *parsed) (store.Workflow, *parsed, error) {
	lookup, err := s.tenantLookup(ctx, t.ID, w.UniqueName)
	if err != nil {
		return w, pw, err
	}
	report := export.Check(pw.file, s.checkEnv(lookup)).Normalized()
	if report.Runnable() == w.Runnable && len(report.Missing) == len(pw.report.Missing) && len(report.Unsupported) == len(pw.report.Unsupported) {
		return w, pw, nil
	}
	rep, _ := json.Marshal(report)
	if err := s.wfs.UpdateWorkflowReport(ctx, w.ID, report.Runnable(), rep); err != nil {
		return w, pw, err
	}
	s.defs.Delete(w.ID)
	w.Runnable, w.Report = report.Runnable(), rep
	npw, err := s.parse(w)
	return w, npw, err
}

// describe is a stored version as `workflow list` shows it.
func (s *Service) describe(ctx context.Context, w store.Workflow) (ImportResult, error) {
	res := ImportResult{ID: w.ID, UniqueName: w.UniqueName, Name: w.Name, Version: w.Version, Runnable: w.Runnable}
	p, err := s.parse(w)
	if err != nil {
		return res, err
	}
	res.Broken, res.Missing, res.Unsupported = p.report.Broken, p.report.Missing, p.report.Unsupported
	secrets, err := s.wfs.WorkflowSecrets(ctx, w.TenantID, w.UniqueName)
	if err != nil {
		return res, err
	}
	set := map[string]bool{}
	for _, sc := range secrets {
		set[sc.VariableID] = true
	}
	for _, v := range p.file.Workflow.Variables {
		if v.Secure() {
			res.Secrets = append(res.Secrets, SecretState{VariableID: v.ID, Name: v.Name, Set: set[v.ID]})
		}
	}
	f := p.file
	for _, m := range []map[string]any{f.Schedules, f.Rules, f.Webhooks, f.Triggers, f.Events} {
		for id, v := range m {
			name := id
			if o, ok := v.(map[string]any); ok {
				if n, _ := o["name"].(string); n != "" {
					name = n + " (" + id + ")"
				}
			}
			res.Triggers = append(res.Triggers, name)
		}
	}
	return res.normalized(), nil
}

// Workflows lists the tenant's workflows (latest versions).
func (s *Service) Workflows(ctx context.Context, tenantID string, a Actor) ([]ImportResult, error) {
	t, err := s.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(ctx, t, a, permRead, "see workflows"); err != nil {
		return nil, err
	}
	ws, err := s.wfs.ListWorkflows(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := make([]ImportResult, 0, len(ws))
	for _, w := range ws {
		d, err := s.describe(ctx, w)
		if err != nil {
			return nil, err
		}
		d.File = ""
		out = append(out, d)
	}
	return out, nil
}

// Workflow returns one version with its parsed definition.
func (s *Service) Workflow(ctx context.Context, id string, a Actor) (store.Workflow, *export.File, error) {
	w, f, _, _, err := s.workflowAs(ctx, id, a)
	return w, f, err
}

// workflowAs is [Service.Workflow] that also gives the workflow's tenant
// and the actor's role in it, for the page that shows what the person may
// do.
func (s *Service) workflowAs(ctx context.Context, id string, a Actor) (store.Workflow, *export.File, store.Tenant, store.Role, error) {
	w, err := s.wfs.GetWorkflow(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return w, nil, store.Tenant{}, "", fmt.Errorf("%w: workflow %s", ErrNotFound, id)
	}
	if err != nil {
		return w, nil, store.Tenant{}, "", err
	}
	t, err := s.tenant(ctx, w.TenantID)
	if err != nil {
		return w, nil, t, "", err
	}
	role, err := s.authorize(ctx, t, a, permRead, "see workflows")
	if err != nil {
		return w, nil, t, "", err
	}
	p, err := s.parse(w)
	if err != nil {
		return w, nil, t, "", err
	}
	return w, p.file, t, role, nil
}

// Export returns a version as an export file (secure values masked) that
// imports back to the same workflow.
func (s *Service) Export(ctx context.Context, id string, a Actor) ([]byte, error) {
	w, _, err := s.Workflow(ctx, id, a)
	if err != nil {
		return nil, err
	}
	return w.Definition, nil
}

// SetSecret gives a secure-string variable its value after import.
func (s *Service) SetSecret(ctx context.Context, workflowID string, a Actor, name, value string) error {
	w, f, err := s.Workflow(ctx, workflowID, a)
	if err != nil {
		return err
	}
	t, err := s.tenant(ctx, w.TenantID)
	if err != nil {
		return err
	}
	if _, err := s.authorize(ctx, t, a, permAuthor, "edit workflows"); err != nil {
		return err
	}
	for _, v := range f.Workflow.Variables {
		if v.Secure() && (v.ID == name || v.Name == name) {
			box, err := s.auto.Vault().Seal(ctx, []byte(value), secretAD(t.ID, w.UniqueName, v.ID))
			if err != nil {
				return err
			}
			if err := s.wfs.PutWorkflowSecret(ctx, store.WorkflowSecret{TenantID: t.ID, UniqueName: w.UniqueName, VariableID: v.ID, Sealed: []byte(box), UpdatedAt: s.now()}); err != nil {
				return err
			}
			s.record(ctx, store.AuditEvent{Action: "workflow.secret_set", ActorAccountID: a.id(), OrgID: t.OrgID, Target: w.ID,
				Details: map[string]string{"tenant": t.ID, "workflow": w.UniqueName, "variable": v.ID}})
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not a secure variable of %s", ErrInvalid, name, w.Name)
}
