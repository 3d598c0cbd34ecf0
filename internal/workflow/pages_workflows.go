package workflow

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// workflowRow is one line of the workflows page.
type workflowRow struct {
	ImportResult
	LastRun *RunView
}

type workflowsPage struct {
	web.Chrome
	Orgs      []store.OrgMembership
	Org       store.OrgMembership
	Role      store.Role
	CanImport bool
	Workflows []workflowRow
}

// pageWorkflows is GET /automation/workflows: the tenant's workflows and,
// for authors, the import form.
func (h *Handler) pageWorkflows(w http.ResponseWriter, r *http.Request) {
	q, ok := h.pageTenant(w, r, maxFormBody)
	if !ok {
		return
	}
	ctx := r.Context()
	a := Actor{Account: q.acct}
	list, err := h.svc.Workflows(ctx, q.t.ID, a)
	if err != nil {
		h.pageFail(w, r, q.acct, err, "/automation")
		return
	}
	p := workflowsPage{Chrome: h.chrome(w, r, q.acct, "Workflows"), Orgs: q.ms, Org: q.m, Role: q.role, CanImport: allows(q.role, permAuthor)}
	for _, wf := range list {
		row := workflowRow{ImportResult: wf}
		runs, err := h.svc.Runs(ctx, store.RunFilter{TenantID: q.t.ID, WorkflowUniqueName: wf.UniqueName, Limit: 1}, a)
		if err != nil {
			h.pageFail(w, r, q.acct, err, "/automation")
			return
		}
		if len(runs) > 0 {
			row.LastRun = &runs[0]
		}
		p.Workflows = append(p.Workflows, row)
	}
	h.pages.Render(w, r, http.StatusOK, "workflows.html", p)
}

// importOutcome is one uploaded file on the import result page.
type importOutcome struct {
	File   string
	Result *ImportResult
	Error  string
	// Problems say why the file is not an export at all.
	Problems []export.Problem
	// Unset are the secure-string variables still without a value.
	Unset []SecretState
}

type importedPage struct {
	web.Chrome
	Org      store.OrgMembership
	Outcomes []importOutcome
}

// pageImport is POST /automation/workflows: the import form's files, each
// imported whole or not at all, then a page with each file's result and a
// form for the secure values still missing.
func (h *Handler) pageImport(w http.ResponseWriter, r *http.Request) {
	q, ok := h.pageTenant(w, r, maxImportBody)
	if !ok {
		return
	}
	back := orgLink("/automation/workflows", q.m.OrgID)
	var files []*multipart.FileHeader
	if r.MultipartForm != nil {
		files = r.MultipartForm.File["files"]
	}
	if len(files) == 0 {
		h.message(w, r, q.acct, http.StatusBadRequest, "Nothing imported", "Choose one or more export files (the JSON files Cisco Workflows' Export button makes).", back)
		return
	}
	p := importedPage{Chrome: h.chrome(w, r, q.acct, "Import"), Org: q.m}
	imported := 0
	for _, fh := range files {
		o := importOutcome{File: fh.Filename}
		data, err := readUpload(fh)
		if err != nil {
			o.Error = err.Error()
			p.Outcomes = append(p.Outcomes, o)
			continue
		}
		res, err := h.svc.Import(r.Context(), ImportParams{TenantID: q.t.ID, Actor: Actor{Account: q.acct}, File: fh.Filename, Data: data})
		switch {
		case errors.Is(err, ErrForbidden):
			h.pageFail(w, r, q.acct, err, back)
			return
		case err != nil && len(res.Problems) > 0:
			o.Error, o.Problems = "This file is not a Cisco Workflows export; nothing of it was stored.", res.Problems
		case errors.Is(err, ErrInvalid):
			o.Error = capital(Plain(err)) + "."
		case err != nil:
			h.pageFail(w, r, q.acct, err, back)
			return
		default:
			imported++
			o.Result = &res
			for _, s := range res.Secrets {
				if !s.Set {
					o.Unset = append(o.Unset, s)
				}
			}
		}
		p.Outcomes = append(p.Outcomes, o)
	}
	status := http.StatusOK
	if imported == 0 {
		status = http.StatusBadRequest
	}
	h.pages.Render(w, r, status, "imported.html", p)
}

func readUpload(fh *multipart.FileHeader) ([]byte, error) {
	if fh.Size > export.MaxFileSize {
		return nil, fmt.Errorf("the file is larger than %d MB", export.MaxFileSize>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, errors.New("the file could not be read")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, export.MaxFileSize+1))
	if err != nil {
		return nil, errors.New("the file could not be read")
	}
	return data, nil
}

// pageSecrets is POST /automation/workflows/{id}/secrets: values for
// secure-string variables, in fields named secret.<variable id>; an empty
// field leaves the variable as it is.
func (h *Handler) pageSecrets(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.account(w, r, maxFormBody)
	if !ok {
		return
	}
	id := r.PathValue("id")
	back := "/automation/workflows/" + url.PathEscape(id)
	n := 0
	for k, vs := range r.PostForm {
		name, ok := strings.CutPrefix(k, "secret.")
		if !ok || len(vs) == 0 || vs[0] == "" {
			continue
		}
		if err := h.svc.SetSecret(r.Context(), id, Actor{Account: acct}, name, vs[0]); err != nil {
			h.pageFail(w, r, acct, err, back)
			return
		}
		n++
	}
	if n == 0 {
		h.message(w, r, acct, http.StatusBadRequest, "Nothing saved", "Type a value for at least one secure variable.", back)
		return
	}
	http.Redirect(w, r, back+"?done=secrets", http.StatusSeeOther)
}

// inputField is one field of the Run form.
type inputField struct {
	VariableView
	// Kind is how the field is shown: checkbox, integer, number, password,
	// textarea or text.
	Kind    string
	Value   string
	Checked bool
	// Stored: a secure input with a value kept at import, used when the
	// field is left empty.
	Stored bool
}

type workflowPage struct {
	web.Chrome
	OrgID       string
	Workflow    store.Workflow
	Description string
	Desc        ImportResult
	Inputs      []VariableView
	Outputs     []VariableView
	Others      []VariableView
	Tree        []TreeNode
	Target      string
	// NoTarget: the workflow runs without one, so the Run form offers no
	// choice.
	NoTarget bool
	// Meraki: the workflow's target is a Meraki one (the run uses the
	// person's User token).
	Meraki      bool
	FileTargets []TargetView
	Targets     []TargetView
	Fields      []inputField
	Role        store.Role
	CanRun      bool
	CanEdit     bool
	Unset       []SecretState
	RunProblem  string
	TargetID    string
	Runs        []RunView
}

// pageWorkflow is GET /automation/workflows/{id}.
func (h *Handler) pageWorkflow(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.account(w, r, maxFormBody)
	if !ok {
		return
	}
	h.renderWorkflow(w, r, acct, http.StatusOK, "")
}

// renderWorkflow renders the workflow page; a Run refused with problem
// shows it again with the values the person typed.
func (h *Handler) renderWorkflow(w http.ResponseWriter, r *http.Request, acct store.Account, status int, problem string) {
	ctx := r.Context()
	a := Actor{Account: acct}
	sw, f, t, role, err := h.svc.workflowAs(ctx, r.PathValue("id"), a)
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation/workflows")
		return
	}
	desc, err := h.svc.describe(ctx, sw)
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation/workflows")
		return
	}
	targets, err := h.svc.Targets(ctx, t.ID, a)
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation/workflows")
		return
	}
	runs, err := h.svc.Runs(ctx, store.RunFilter{TenantID: t.ID, WorkflowUniqueName: sw.UniqueName, Limit: 5}, a)
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation/workflows")
		return
	}
	p := workflowPage{Chrome: h.chrome(w, r, acct, sw.Name), OrgID: t.OrgID, Workflow: sw, Description: f.Workflow.Description,
		Desc: desc, Tree: Tree(f.Workflow), Role: role, CanRun: allows(role, permRun) && sw.Runnable, CanEdit: allows(role, permAuthor),
		RunProblem: problem, Runs: runs}
	if problem != "" {
		p.TargetID = r.PostFormValue("target_id")
	}
	for _, v := range variablesOf(f.Workflow) {
		switch v.Scope {
		case export.ScopeInput:
			p.Inputs = append(p.Inputs, v)
		case export.ScopeOutput:
			p.Outputs = append(p.Outputs, v)
		default:
			p.Others = append(p.Others, v)
		}
	}
	stored := map[string]bool{}
	for _, s := range desc.Secrets {
		stored[s.VariableID] = s.Set
		if !s.Set {
			p.Unset = append(p.Unset, s)
		}
	}
	for _, v := range p.Inputs {
		fd := inputField{VariableView: v, Kind: fieldKind(v.Type), Value: pageValue(v.Default), Stored: stored[v.ID]}
		if fd.Kind == "password" {
			fd.Value = ""
		}
		if problem != "" && fd.Kind != "password" {
			fd.Value = r.PostFormValue("in." + v.ID)
		}
		if fd.Kind == "checkbox" {
			fd.Checked = fd.Value == "true"
		}
		p.Fields = append(p.Fields, fd)
	}
	p.Target, p.NoTarget = describeTarget(f.Workflow.Target, targets)
	want, _ := f.Workflow.Target["target_type"].(string)
	p.Meraki = want == automation.TargetType
	for _, tg := range targets {
		if _, ok := f.Targets[tg.ExternalID]; ok && tg.ExternalID != "" {
			p.FileTargets = append(p.FileTargets, tg)
		}
		if want == "" || tg.Type == want {
			p.Targets = append(p.Targets, tg)
		}
	}
	h.pages.Render(w, r, status, "workflow.html", p)
}

func fieldKind(typ string) string {
	switch typ {
	case "datatype.boolean":
		return "checkbox"
	case "datatype.integer":
		return "integer"
	case "datatype.number":
		return "number"
	case "datatype.secure_string":
		return "password"
	case "datatype.table", "datatype.array":
		return "textarea"
	}
	return "text"
}

// describeTarget says in words where the workflow's requests go
// (properties.target); noTarget when it needs none.
func describeTarget(t map[string]any, targets []TargetView) (string, bool) {
	if len(t) == 0 {
		return "None: the workflow runs without a target.", true
	}
	if b, _ := t["no_target"].(bool); b {
		return "None: the workflow runs without a target.", true
	}
	typ, _ := t["target_type"].(string)
	if b, _ := t["execute_on_target_group"].(bool); b {
		g, _ := t["target_group"].(map[string]any)
		id, _ := g["target_group_id"].(string)
		return fmt.Sprintf("The target group %s (targets of %s).", id, strings.Join(stringList(g["selected_target_types"]), ", ")), false
	}
	if id, _ := t["target_id"].(string); id != "" {
		for _, tg := range targets {
			if tg.ExternalID == id {
				return fmt.Sprintf("%s (%s, %s://%s:%d%s), brought by the import.", tg.Name, tg.Type, tg.Protocol, tg.Host, tg.Port, tg.Path), false
			}
		}
		return fmt.Sprintf("The %s target %s.", typ, id), false
	}
	if typ == "" {
		return "Chosen when the run starts.", false
	}
	return fmt.Sprintf("A %s target chosen when the run starts (by default the tenant's Meraki - Current Org for Meraki requests).", typ), false
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// pageStart is POST /automation/workflows/{id}/runs: the Run form. Fields
// are in.<variable id>; an unchecked checkbox is false, an empty number,
// table or secure field keeps the variable's default (or stored value).
func (h *Handler) pageStart(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.account(w, r, maxFormBody)
	if !ok {
		return
	}
	ctx := r.Context()
	a := Actor{Account: acct}
	id := r.PathValue("id")
	_, f, err := h.svc.Workflow(ctx, id, a)
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation/workflows")
		return
	}
	inputs := map[string]any{}
	for _, v := range f.Workflow.Variables {
		if v.Scope != export.ScopeInput {
			continue
		}
		val := r.PostFormValue("in." + v.ID)
		switch fieldKind(v.Type) {
		case "checkbox":
			inputs[v.ID] = val == "true"
		case "text":
			if _, sent := r.PostForm["in."+v.ID]; sent {
				inputs[v.ID] = val
			}
		default:
			if strings.TrimSpace(val) != "" {
				inputs[v.ID] = val
			}
		}
	}
	run, err := h.svc.StartRun(ctx, RunParams{WorkflowID: id, Actor: a, Inputs: inputs, TargetID: r.PostFormValue("target_id")})
	switch {
	case errors.Is(err, ErrInvalid):
		h.renderWorkflow(w, r, acct, http.StatusBadRequest, capital(Plain(err))+".")
		return
	case err != nil:
		h.pageFail(w, r, acct, err, "/automation/workflows/"+url.PathEscape(id))
		return
	}
	http.Redirect(w, r, "/automation/runs/"+url.PathEscape(run.ID), http.StatusSeeOther)
}
