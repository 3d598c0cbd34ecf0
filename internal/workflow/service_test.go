package workflow_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
	"github.com/grantflow/grantflow/internal/workflow"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// svcEnv is the workflow service of a real server on a real store, with
// an organization, a tenant and one admin per role.
type svcEnv struct {
	t      *testing.T
	ctx    context.Context
	st     store.Store
	srv    *server.Server
	svc    *workflow.Service
	tenant store.Tenant
	org    store.Organization
	admin  workflow.Actor // tenant_admin
	as     map[store.Role]workflow.Actor
}

func newSvcEnv(t *testing.T) *svcEnv {
	t.Helper()
	st := storetest.New(t)
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg := config.Default()
	cfg.Issuer = "http://127.0.0.1:1"
	cfg.AutomationKey = base64.StdEncoding.EncodeToString(key)
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(ctx, cfg, st, lg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &svcEnv{t: t, ctx: ctx, st: st, srv: srv, svc: srv.Workflows, as: map[store.Role]workflow.Actor{}}
	e.org, err = srv.Identity.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	e.tenant, err = srv.Automation.EnsureTenant(ctx, e.org.ID, true, automation.TriggerTenantCreated, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []store.Role{store.RoleTenantAdmin, store.RoleAuthor, store.RoleOperator, store.RoleViewer} {
		res, err := srv.Identity.CreateAdmin(ctx, e.org.ID, string(r)+"@example.com", "correct horse battery staple 42", store.AccessFull)
		if err != nil {
			t.Fatal(err)
		}
		if r != store.RoleTenantAdmin {
			if err := srv.Automation.SetRole(ctx, e.tenant, "", res.Account.ID, r); err != nil {
				t.Fatal(err)
			}
		}
		e.as[r] = workflow.Actor{Account: res.Account}
	}
	e.admin = e.as[store.RoleTenantAdmin]
	runner, err := jobs.Start(ctx, st, lg, nil, e.svc.Task())
	if err != nil {
		t.Fatal(err)
	}
	e.svc.SetQueue(runner, true)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = runner.Stop(sctx)
	})
	return e
}

func (e *svcEnv) importFile(a workflow.Actor, name string, data []byte) (workflow.ImportResult, error) {
	e.t.Helper()
	return e.svc.Import(e.ctx, workflow.ImportParams{TenantID: e.tenant.ID, Actor: a, File: name, Data: data})
}

func (e *svcEnv) mustImport(name string, data []byte) workflow.ImportResult {
	e.t.Helper()
	r, err := e.importFile(e.admin, name, data)
	if err != nil {
		e.t.Fatalf("import %s: %v", name, err)
	}
	return r
}

func (e *svcEnv) run(wfID string, a workflow.Actor, inputs map[string]any) workflow.RunView {
	e.t.Helper()
	r, err := e.svc.StartRun(e.ctx, workflow.RunParams{WorkflowID: wfID, Actor: a, Inputs: inputs})
	if err != nil {
		e.t.Fatalf("start run: %v", err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	if _, err := e.svc.Wait(ctx, r.ID); err != nil {
		e.t.Fatal(err)
	}
	v, err := e.svc.Run(e.ctx, r.ID, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// samples are the real exports beside the repository (skipped without
// them, except in CI).
func samples(t *testing.T) map[string][]byte {
	t.Helper()
	dir, _ := os.Getwd()
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "shared", "workflows", "cisco-samples", "*.json"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the sample exports (shared/workflows/cisco-samples beside the repository) are missing")
		}
		t.Skip("the sample exports are not beside the repository; skipping")
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// Export gives back a file that imports to the same workflow: for every
// sample, the second import's stored definition is the first's.
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	for name, data := range samples(t) {
		first := e.mustImport(name, data)
		out, err := e.svc.Export(e.ctx, first.ID, e.admin)
		if err != nil {
			t.Fatal(err)
		}
		second := e.mustImport(name, out)
		if second.UniqueName != first.UniqueName || second.Version != first.Version+1 || second.Name != first.Name {
			t.Errorf("%s: re-import %+v after %+v", name, second, first)
		}
		again, err := e.svc.Export(e.ctx, second.ID, e.admin)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again) {
			t.Errorf("%s: the export of the re-import differs from the first export", name)
		}
		orig, _ := export.Parse(data)
		back, _ := export.Parse(out)
		if len(back.Subworkflows) != len(orig.Subworkflows) || len(back.Workflow.Variables) != len(orig.Workflow.Variables) || count(back.Workflow) != count(orig.Workflow) {
			t.Errorf("%s: the export lost definitions, variables or activities", name)
		}
	}
}

func count(w *export.Workflow) int {
	n := 0
	export.Walk(w.Actions, func(*export.Activity) { n++ })
	return n
}

// A file that is not an export is refused with the JSON path of every
// problem, and nothing of it is stored.
func TestImportRefusesWhatIsNotAnExport(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	cases := []struct {
		name, data string
		paths      []string
	}{
		{"not JSON", `{"workflow": {`, []string{"$"}},
		{"an array", `[1, 2]`, []string{"$"}},
		{"no workflow", `{"categories": {}}`, []string{"$"}},
		{"workflow is a string", `{"workflow": "x"}`, []string{"workflow"}},
		{"wrong types", `{"workflow": {"unique_name": "definition_workflow_x", "variables": [{"unique_name": 3, "properties": []}], "actions": [{"unique_name": "definition_activity_a", "type": 7}, "oops"]}}`, []string{"workflow.variables[0].unique_name", "workflow.variables[0].properties", "workflow.actions[0].type", "workflow.actions[1]"}},
		{"subworkflows not a list", `{"workflow": {"unique_name": "definition_workflow_x", "actions": []}, "subworkflows": {}}`, []string{"$.subworkflows"}},
		{"no unique_name", `{"workflow": {"actions": []}}`, []string{"workflow.unique_name"}},
		{"invalid UTF-8", "{\"workflow\": {\"unique_name\": \"\xff\"}}", []string{"$"}},
	}
	for _, c := range cases {
		res, err := e.importFile(e.admin, c.name, []byte(c.data))
		if !errors.Is(err, workflow.ErrInvalid) {
			t.Errorf("%s: err %v, want a refusal", c.name, err)
			continue
		}
		var got []string
		for _, p := range res.Problems {
			got = append(got, p.Path)
			if p.Message == "" {
				t.Errorf("%s: a problem at %s says nothing", c.name, p.Path)
			}
		}
		for _, want := range c.paths {
			found := false
			for _, g := range got {
				found = found || g == want
			}
			if !found {
				t.Errorf("%s: problems at %v, want one at %s", c.name, got, want)
			}
		}
	}
	list, err := e.svc.Workflows(e.ctx, e.tenant.ID, e.admin)
	if err != nil || len(list) != 0 {
		t.Errorf("after refusals the tenant has %d workflows (%v)", len(list), err)
	}
}

const callsMissing = `{"workflow": {"unique_name": "definition_workflow_main", "name": "Main", "variables": [
  {"schema_id": "datatype.string", "unique_name": "variable_workflow_out", "properties": {"scope": "output", "name": "Out", "type": "datatype.string", "value": ""}}],
  "actions": [
  {"unique_name": "definition_activity_call", "type": "workflow.atomic_workflow", "name": "Helper", "properties": {"workflow_id": "definition_workflow_helper", "workflow_name": "Helper", "input": {"variable_workflow_in": "hi"}}},
  {"unique_name": "definition_activity_set", "type": "core.set_multiple_variables", "properties": {"variables_to_update": [
    {"variable_to_update": "$workflow.definition_workflow_main.output.variable_workflow_out$", "variable_value_new": "$activity.definition_activity_call.output.variable_workflow_res$!"}]}}]}}`

const helper = `{"workflow": {"unique_name": "definition_workflow_helper", "name": "Helper", "properties": {"atomic": {"is_atomic": true}}, "variables": [
  {"schema_id": "datatype.string", "unique_name": "variable_workflow_in", "properties": {"scope": "input", "name": "In", "type": "datatype.string", "value": ""}},
  {"schema_id": "datatype.string", "unique_name": "variable_workflow_res", "properties": {"scope": "output", "name": "Res", "type": "datatype.string", "value": ""}}],
  "actions": [{"unique_name": "definition_activity_h", "type": "core.set_multiple_variables", "properties": {"variables_to_update": [
    {"variable_to_update": "$workflow.definition_workflow_helper.output.variable_workflow_res$", "variable_value_new": "$workflow.definition_workflow_helper.input.variable_workflow_in$ there"}]}}]}}`

// A called workflow found nowhere makes the caller not runnable, a run is
// refused up front with the list, and importing it later fixes both.
func TestMissingCallThenImported(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	main := e.mustImport("main.json", []byte(callsMissing))
	if main.Runnable || len(main.Missing) != 1 || main.Missing[0].WorkflowID != "definition_workflow_helper" || main.Missing[0].Name != "Helper" {
		t.Fatalf("import: %+v", main)
	}
	_, err := e.svc.StartRun(e.ctx, workflow.RunParams{WorkflowID: main.ID, Actor: e.admin})
	if !errors.Is(err, workflow.ErrInvalid) || !strings.Contains(err.Error(), "definition_workflow_helper") {
		t.Fatalf("run of a workflow missing a call: %v", err)
	}
	e.mustImport("helper.json", []byte(helper))
	list, _ := e.svc.Workflows(e.ctx, e.tenant.ID, e.admin)
	for _, w := range list {
		if w.ID == main.ID && (!w.Runnable || len(w.Missing) != 0) {
			t.Errorf("after importing the helper: %+v", w)
		}
	}
	v := e.run(main.ID, e.admin, nil)
	if v.Status != "succeeded" || v.Outputs["Out"] != "hi there!" {
		t.Errorf("run: %s %s %v", v.Status, v.Error, v.Outputs)
	}
}

// Broken references are listed with their JSON path; the workflow is kept
// but not runnable.
func TestBrokenReferences(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	src := strings.Replace(callsMissing, "$activity.definition_activity_call.output", "$activity.definition_activity_nothere.output", 1)
	src = strings.Replace(src, `"workflow_id": "definition_workflow_helper"`, `"workflow_id": "definition_workflow_main"`, 1)
	res := e.mustImport("broken.json", []byte(src))
	if res.Runnable || len(res.Broken) < 2 {
		t.Fatalf("import: %+v", res)
	}
	var paths []string
	for _, b := range res.Broken {
		paths = append(paths, b.Path+": "+b.Message)
	}
	all := strings.Join(paths, "\n")
	if !strings.Contains(all, "workflow.actions[1].properties.variables_to_update[0].variable_value_new") || !strings.Contains(all, "cycle") {
		t.Errorf("broken: %s", all)
	}
}

// Roles are enforced in the service: viewers read, operators run,
// authors also import; a denial is ErrForbidden and an audit event.
func TestRoles(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	if _, err := e.importFile(e.as[store.RoleViewer], "h.json", []byte(helper)); !errors.Is(err, workflow.ErrForbidden) {
		t.Errorf("viewer import: %v", err)
	}
	if _, err := e.importFile(e.as[store.RoleOperator], "h.json", []byte(helper)); !errors.Is(err, workflow.ErrForbidden) {
		t.Errorf("operator import: %v", err)
	}
	h, err := e.importFile(e.as[store.RoleAuthor], "h.json", []byte(helper))
	if err != nil {
		t.Fatalf("author import: %v", err)
	}
	if _, err := e.svc.Workflows(e.ctx, e.tenant.ID, e.as[store.RoleViewer]); err != nil {
		t.Errorf("viewer list: %v", err)
	}
	if _, err := e.svc.StartRun(e.ctx, workflow.RunParams{WorkflowID: h.ID, Actor: e.as[store.RoleViewer]}); !errors.Is(err, workflow.ErrForbidden) {
		t.Errorf("viewer run: %v", err)
	}
	v := e.run(h.ID, e.as[store.RoleOperator], map[string]any{"In": "yo"})
	if v.Status != "succeeded" || v.Outputs["Res"] != "yo there" || v.StartedBy == nil || *v.StartedBy != "operator@example.com" {
		t.Errorf("operator run: %+v", v)
	}
	if v.Token != nil {
		t.Errorf("a run that calls no target shows token %+v", v.Token)
	}
	all, err := e.st.Audit().ListAudit(e.ctx, store.AuditFilter{OrgID: e.org.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var events []store.AuditEvent
	for _, ev := range all {
		if ev.Action == "workflow.denied" {
			events = append(events, ev)
		}
	}
	if len(events) != 3 {
		t.Errorf("%d denial events, want 3", len(events))
	}
}

const secretWF = `{"workflow": {"unique_name": "definition_workflow_sec", "name": "Secret", "variables": [
  {"schema_id": "datatype.secure_string", "unique_name": "variable_workflow_pw", "properties": {"scope": "input", "name": "Password", "type": "datatype.secure_string", "value": "hunter2-hunter2", "is_required": true}},
  {"schema_id": "datatype.secure_string", "unique_name": "variable_workflow_masked", "properties": {"scope": "input", "name": "Token", "type": "datatype.secure_string", "value": "*****"}},
  {"schema_id": "datatype.string", "unique_name": "variable_workflow_echo", "properties": {"scope": "output", "name": "Echo", "type": "datatype.string", "value": ""}}],
  "actions": [{"unique_name": "definition_activity_s", "type": "core.set_multiple_variables", "properties": {"variables_to_update": [
    {"variable_to_update": "$workflow.definition_workflow_sec.output.variable_workflow_echo$", "variable_value_new": "pw=$workflow.definition_workflow_sec.input.variable_workflow_pw$ token=$workflow.definition_workflow_sec.input.variable_workflow_masked$"}]}}]}}`

// Secure strings: a value in the file is sealed, never stored or shown in
// plain; the mask is never taken as a value.
func TestSecureStrings(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	res := e.mustImport("secret.json", []byte(secretWF))
	states := map[string]bool{}
	for _, s := range res.Secrets {
		states[s.Name] = s.Set
	}
	if !states["Password"] || states["Token"] {
		t.Errorf("secrets %+v: want Password set from the file, Token without a value", res.Secrets)
	}
	w, err := e.st.Workflows().GetWorkflow(e.ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(w.Definition, []byte("hunter2")) {
		t.Error("the stored definition holds the secret")
	}
	secrets, _ := e.st.Workflows().WorkflowSecrets(e.ctx, e.tenant.ID, res.UniqueName)
	for _, s := range secrets {
		if bytes.Contains(s.Sealed, []byte("hunter2")) {
			t.Error("a stored secret is not sealed")
		}
	}
	if err := e.svc.SetSecret(e.ctx, res.ID, e.admin, "Token", "tok-123456"); err != nil {
		t.Fatal(err)
	}
	v := e.run(res.ID, e.admin, nil)
	if v.Status != "succeeded" {
		t.Fatalf("run: %s %s", v.Status, v.Error)
	}
	if got := v.Outputs["Echo"]; got != "pw=***** token=*****" {
		t.Errorf("the output shows %q: secrets must be masked", got)
	}
	acts, _ := e.st.Runs().ListActivities(e.ctx, v.ID)
	for _, a := range acts {
		if bytes.Contains(a.Output, []byte("hunter2")) || bytes.Contains(a.Input, []byte("tok-123456")) {
			t.Errorf("activity %s records a secret", a.Title)
		}
	}
	out, _ := e.svc.Export(e.ctx, res.ID, e.admin)
	if bytes.Contains(out, []byte("hunter2")) || !bytes.Contains(out, []byte(export.Mask)) {
		t.Error("the export holds the secret or lacks the mask")
	}
}

const promptWF = `{"workflow": {"unique_name": "definition_workflow_p", "name": "Prompt", "variables": [
  {"schema_id": "variable_type_array_01JhSTW61I3ZU2IfL7dwQox83eFDzE1qUiA", "unique_name": "variable_workflow_opts", "properties": {"scope": "local", "name": "Options", "type": "datatype.array", "value": ["red", "green"]}},
  {"schema_id": "datatype.string", "unique_name": "variable_workflow_pick", "properties": {"scope": "output", "name": "Pick", "type": "datatype.string", "value": ""}}],
  "actions": [
  {"unique_name": "definition_activity_ask", "type": "task.prompt_request", "properties": {"prompt_title": "Colour", "prompt_body": "Pick one",
    "form_elements": [{"form_element": "select", "form_label": "Colour", "form_source_array": "$workflow.definition_workflow_p.local.variable_workflow_opts$"}]}},
  {"unique_name": "definition_activity_set", "type": "core.set_multiple_variables", "properties": {"variables_to_update": [
    {"variable_to_update": "$workflow.definition_workflow_p.output.variable_workflow_pick$", "variable_value_new": "you chose $activity.definition_activity_ask.output.prompt_response.Colour$"}]}}]}}`

// A prompt: the run waits without holding a process, the starter answers,
// and the run goes on from where it waited.
func TestPromptAnswer(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	w := e.mustImport("prompt.json", []byte(promptWF))
	v := e.run(w.ID, e.as[store.RoleOperator], nil)
	if v.Status != "waiting" || v.Prompt == nil || v.Prompt.Title != "Colour" || len(v.Prompt.Fields) != 1 || strings.Join(v.Prompt.Fields[0].Options, ",") != "red,green" {
		t.Fatalf("run: %s %+v", v.Status, v.Prompt)
	}
	if _, err := e.svc.Answer(e.ctx, v.ID, e.as[store.RoleAuthor], map[string]string{"Colour": "red"}); !errors.Is(err, workflow.ErrForbidden) {
		t.Errorf("another author answering: %v", err)
	}
	if _, err := e.svc.Answer(e.ctx, v.ID, e.as[store.RoleOperator], map[string]string{"Colour": "blue"}); !errors.Is(err, workflow.ErrInvalid) {
		t.Errorf("an answer outside the options: %v", err)
	}
	if _, err := e.svc.Answer(e.ctx, v.ID, e.as[store.RoleOperator], map[string]string{"Colour": "green"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	if _, err := e.svc.Wait(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.Run(e.ctx, v.ID, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != "succeeded" || v.Outputs["Pick"] != "you chose green" {
		var acts []string
		for _, a := range v.Activities {
			acts = append(acts, a.Title+"="+a.Status+" "+a.Error)
		}
		t.Fatalf("after the answer: %s %q %v\n%s", v.Status, v.Error, v.Outputs, strings.Join(acts, "\n"))
	}
}

const napWF = `{"workflow": {"unique_name": "definition_workflow_nap", "name": "Nap", "actions": [
  {"unique_name": "definition_activity_nap", "type": "core.sleep", "properties": {"sleep_interval": 30, "action_timeout": 60}}]}}`

// Cancel stops a running run within a heartbeat; another author may not
// cancel it, the tenant_admin may.
func TestCancelRunningRun(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	w := e.mustImport("nap.json", []byte(napWF))
	r, err := e.svc.StartRun(e.ctx, workflow.RunParams{WorkflowID: w.ID, Actor: e.as[store.RoleOperator]})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		cur, _ := e.st.Runs().GetRun(e.ctx, r.ID)
		if cur.Status == store.RunRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run never started: %s", cur.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := e.svc.Cancel(e.ctx, r.ID, e.as[store.RoleAuthor]); !errors.Is(err, workflow.ErrForbidden) {
		t.Errorf("an author cancelling another's run: %v", err)
	}
	start := time.Now()
	if _, err := e.svc.Cancel(e.ctx, r.ID, e.admin); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	end, err := e.svc.Wait(ctx, r.ID)
	if err != nil || end.Status != store.RunCancelled {
		t.Fatalf("after cancel: %s %v", end.Status, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %s", d)
	}
	if _, err := e.svc.Cancel(e.ctx, r.ID, e.admin); !errors.Is(err, workflow.ErrInvalid) {
		t.Errorf("cancelling an ended run: %v", err)
	}
}

// keys rotate re-seals the engine's sealed values too: after the old data
// key is gone, a secure variable's value still opens.
func TestKeyRotationKeepsWorkflowSecrets(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	res := e.mustImport("secret.json", []byte(secretWF))
	if err := e.svc.SetSecret(e.ctx, res.ID, e.admin, "Token", "tok-123456"); err != nil {
		t.Fatal(err)
	}
	rot, err := e.srv.Automation.RotateKeys(e.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rot.Resealed < 2 || len(rot.DeletedKeys) == 0 {
		t.Fatalf("rotation: %+v, want the two workflow secrets re-sealed and the old key deleted", rot)
	}
	v := e.run(res.ID, e.admin, nil)
	if v.Status != "succeeded" {
		t.Fatalf("a run after key rotation: %s %s", v.Status, v.Error)
	}
}
