package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// pageEnv is a real grantflow server with an organization, a full-access
// administrator (tenant_admin) and a read-only one (viewer).
type pageEnv struct {
	t     *testing.T
	srv   *server.Server
	url   string
	orgID string
}

const pagePassword = "correct horse battery staple"

func startPageServer(t *testing.T) *pageEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Addr = ln.Addr().String()
	cfg.RateLimitOrg, cfg.RateLimitIP = 0, 0
	cfg.AutomationKey = "Z3JhbnRmbG93LXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc="
	lg := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, storetest.New(t), lg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := srv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(func() { ts.Close(); stop() })
	org, err := srv.Identity.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	for email, access := range map[string]store.Access{"ann@example.com": store.AccessFull, "vic@example.com": store.AccessReadOnly} {
		if _, err := srv.Identity.CreateAdmin(ctx, org.ID, email, pagePassword, access); err != nil {
			t.Fatal(err)
		}
	}
	return &pageEnv{t: t, srv: srv, url: ts.URL, orgID: org.ID}
}

// person is a browser with cookies, logged in as email.
type person struct {
	e *pageEnv
	c *http.Client
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token on the page:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

func (e *pageEnv) login(email string) *person {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	p := &person{e: e, c: &http.Client{Jar: jar}}
	_, page := p.get("/login")
	resp, body := p.post("/login", url.Values{"email": {email}, "password": {pagePassword}, "csrf_token": {csrfOf(e.t, page)}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/login" {
		e.t.Fatalf("login %s: %d %s\n%s", email, resp.StatusCode, resp.Request.URL, body)
	}
	return p
}

func read(t *testing.T, resp *http.Response, err error) (*http.Response, string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (p *person) get(path string) (*http.Response, string) {
	resp, err := p.c.Get(p.e.url + path)
	return read(p.e.t, resp, err)
}

func (p *person) post(path string, form url.Values) (*http.Response, string) {
	resp, err := p.c.PostForm(p.e.url+path, form)
	return read(p.e.t, resp, err)
}

// page GETs path and wants a 200.
func (p *person) page(path string) string {
	p.e.t.Helper()
	resp, body := p.get(path)
	if resp.StatusCode != http.StatusOK {
		p.e.t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
	}
	return body
}

// upload posts files to the import form.
func (p *person) upload(csrf string, files map[string]string) (*http.Response, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf_token", csrf)
	_ = mw.WriteField("org", p.e.orgID)
	for name, data := range files {
		fw, _ := mw.CreateFormFile("files", name)
		_, _ = io.WriteString(fw, data)
	}
	_ = mw.Close()
	resp, err := p.c.Post(p.e.url+"/automation/workflows", mw.FormDataContentType(), &buf)
	return read(p.e.t, resp, err)
}

const testWF = "definition_workflow_pages"

func variable(id, scope, typ string, value any, required bool) string {
	v, _ := json.Marshal(value)
	return fmt.Sprintf(`{"unique_name": "variable_workflow_%s", "schema_id": %q, "object_type": "variable_workflow",
		"properties": {"name": %q, "scope": %q, "type": %q, "value": %s, "is_required": %t, "description": "the %s"}}`, id, typ, id, scope, typ, v, required, id)
}

func ref(scope, id string) string {
	return fmt.Sprintf("$workflow.%s.%s.variable_workflow_%s$", testWF, scope, id)
}

func activity(id, typ, props string) string {
	return fmt.Sprintf(`{"unique_name": "definition_activity_%s", "name": %q, "title": %q, "type": %q,
		"base_type": "activity", "object_type": "definition_activity", "properties": %s}`, id, typ, id, typ, props)
}

func exportJSON(name string, vars []string, acts ...string) string {
	return fmt.Sprintf(`{"workflow": {"unique_name": %q, "name": %q, "title": %q, "type": "generic.workflow",
		"base_type": "workflow", "object_type": "definition_workflow",
		"properties": {"description": "Greets someone, to test the pages.", "target": {"no_target": true}},
		"variables": [%s], "actions": [%s]}}`, testWF, name, name, strings.Join(vars, ","), strings.Join(acts, ","))
}

func js(s string) string { b, _ := json.Marshal(s); return string(b) }

// greeter takes one input of each kind and writes them into its output.
var greeter = exportJSON("Greeter",
	[]string{
		variable("who", "input", "datatype.string", "world", false),
		variable("times", "input", "datatype.integer", 2, false),
		variable("loud", "input", "datatype.boolean", false, false),
		variable("items", "input", "datatype.array", []string{"a"}, false),
		variable("token", "input", "datatype.secure_string", "", true),
		variable("greeting", "output", "datatype.string", "", false),
	},
	activity("group", "logic.group", `{"description": "a group"}`),
	activity("set", "core.set_multiple_variables", `{"variables_to_update": [{"variable_to_update": `+js(ref("output", "greeting"))+
		`, "variable_value_new": `+js("hello "+ref("input", "who")+" x"+ref("input", "times")+" loud="+ref("input", "loud"))+`}]}`),
)

var runLink = regexp.MustCompile(`/automation/runs/(run_[0-9a-f]+)`)

// Importing, setting the secure value, running from the form and reading
// the run, the run history and its paging, as a tenant_admin.
func TestPageWorkflowsImportAndRun(t *testing.T) {
	t.Parallel()
	e := startPageServer(t)
	ann := e.login("ann@example.com")
	if p := ann.page("/automation"); !strings.Contains(p, `href="/automation/workflows?org=`+e.orgID+`"`) || !strings.Contains(p, `href="/automation/runs?org=`+e.orgID+`"`) {
		t.Fatalf("the Automation page links no Workflows and Runs:\n%s", p)
	}
	list := ann.page("/automation/workflows")
	if !strings.Contains(list, "No workflows yet") || !strings.Contains(list, `enctype="multipart/form-data"`) {
		t.Fatalf("empty workflows page:\n%s", list)
	}

	// Two files at once: one export, one that is not.
	resp, res := ann.upload(csrfOf(t, list), map[string]string{"greeter.json": greeter, "notes.json": `{"hello": 1}`})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import: %d\n%s", resp.StatusCode, res)
	}
	for _, want := range []string{"greeter.json", "notes.json", "not a Cisco Workflows export", "Greeter", "version 1", "runnable",
		`name="secret.variable_workflow_token"`, `type="password"`} {
		if !strings.Contains(res, want) {
			t.Errorf("import result lacks %q", want)
		}
	}
	m := regexp.MustCompile(`action="/automation/workflows/(wf_[0-9a-f]+)/secrets"`).FindStringSubmatch(res)
	if m == nil {
		t.Fatalf("no secrets form:\n%s", res)
	}
	wfID := m[1]
	wfPath := "/automation/workflows/" + wfID

	// The workflow page: description, variables, tree, Run form.
	page := ann.page(wfPath)
	for _, want := range []string{"Greets someone, to test the pages.", "the who", "datatype.array"[len("datatype."):], "core.set_multiple_variables", "logic.group",
		`href="/api/automation/workflows/` + wfID + `/export"`, `type="checkbox" name="in.variable_workflow_loud"`,
		`type="number" step="1" id="in-variable_workflow_times" name="in.variable_workflow_times" value="2"`,
		`type="password" id="in-variable_workflow_token"`, `<textarea id="in-variable_workflow_items"`, "None: the workflow runs without a target.",
		"Secure values missing"} {
		if !strings.Contains(page, want) {
			t.Errorf("workflow page lacks %q", want)
		}
	}
	if strings.Contains(page, `name="target_id"`) {
		t.Error("a workflow without target offers a target choice")
	}

	// Without the required secure value the run is refused on the page.
	form := url.Values{"csrf_token": {csrfOf(t, page)}, "in.variable_workflow_who": {"Bob"}, "in.variable_workflow_times": {"3"}, "in.variable_workflow_loud": {"true"}}
	resp, body := ann.post(wfPath+"/runs", form)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "needs a value for token") || !strings.Contains(body, `value="Bob"`) {
		t.Fatalf("run without the secure value: %d\n%s", resp.StatusCode, body)
	}
	// The result page's secrets form.
	resp, body = ann.post(wfPath+"/secrets", url.Values{"csrf_token": {csrfOf(t, page)}, "secret.variable_workflow_token": {"s3cret"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != wfPath || !strings.Contains(body, "Secure values saved.") || strings.Contains(body, "Secure values missing") {
		t.Fatalf("set secret: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}

	// Run from the form: redirected to the run page.
	resp, body = ann.post(wfPath+"/runs", form)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/automation/runs/run_") {
		t.Fatalf("run: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	runID := strings.TrimPrefix(resp.Request.URL.Path, "/automation/runs/")
	for _, want := range []string{`data-run-id="` + runID + `"`, `src="/static/workflow.js"`, "ann@example.com"} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if r, err := e.srv.Workflows.Wait(ctx, runID); err != nil || r.Status != store.RunSucceeded {
		t.Fatalf("run: %v %+v", err, r)
	}
	body = ann.page("/automation/runs/" + runID)
	for _, want := range []string{`class="status succeeded"`, `data-live="0"`, `<tr data-name="greeting"><th>greeting</th><td class="value"><code>hello Bob x3 loud=true</code>`,
		"core.set_multiple_variables", "<summary>Output</summary>"} {
		if !strings.Contains(body, want) {
			t.Errorf("ended run page lacks %q", want)
		}
	}
	if strings.Contains(body, "s3cret") || strings.Contains(body, `id="run-cancel"`) {
		t.Errorf("ended run page shows the secret or a Cancel button:\n%s", body)
	}

	// A second run (defaults, a secure value typed in); history newest
	// first, filter, paging.
	resp, _ = ann.post(wfPath+"/runs", url.Values{"csrf_token": {csrfOf(t, page)}, "in.variable_workflow_token": {"typed-secret"}})
	second := strings.TrimPrefix(resp.Request.URL.Path, "/automation/runs/")
	if resp.StatusCode != http.StatusOK || second == runID || !strings.HasPrefix(second, "run_") {
		t.Fatalf("second run: %d %s", resp.StatusCode, resp.Request.URL)
	}
	if _, err := e.srv.Workflows.Wait(ctx, second); err != nil {
		t.Fatal(err)
	}
	if body := ann.page("/automation/runs/" + second); !strings.Contains(body, "<th>token</th><td class=\"value\"><code>*****</code>") || strings.Contains(body, "typed-secret") ||
		!strings.Contains(body, "<code>hello world x2 loud=false</code>") {
		t.Errorf("second run page (defaults, secure input masked):\n%s", body)
	}
	hist := ann.page("/automation/runs")
	if ids := runLink.FindAllStringSubmatch(hist, -1); len(ids) != 2 || ids[0][1] != second || ids[1][1] != runID {
		t.Fatalf("history: %v\n%s", ids, hist)
	}
	if strings.Contains(hist, ">Older<") {
		t.Error("one page of runs offers Older")
	}
	one := ann.page("/automation/runs?limit=1&workflow=" + testWF)
	older := regexp.MustCompile(`href="(/automation/runs\?[^"]+)" rel="next">Older`).FindStringSubmatch(one)
	if ids := runLink.FindAllStringSubmatch(one, -1); len(ids) != 1 || ids[0][1] != second || older == nil {
		t.Fatalf("first page of one: %v\n%s", ids, one)
	}
	next := ann.page(html.UnescapeString(older[1]))
	if ids := runLink.FindAllStringSubmatch(next, -1); len(ids) != 1 || ids[0][1] != runID || strings.Contains(next, ">Older<") || !strings.Contains(next, ">Newest<") {
		t.Fatalf("older page: %v\n%s", ids, next)
	}
	if none := ann.page("/automation/runs?workflow=definition_workflow_other"); runLink.MatchString(none) {
		t.Errorf("the filter shows other workflows' runs:\n%s", none)
	}
	list = ann.page("/automation/workflows")
	if !strings.Contains(list, `href="/automation/workflows/`+wfID+`">Greeter</a>`) || !strings.Contains(list, `href="/automation/runs/`+second+`"`) {
		t.Errorf("workflows page lacks the workflow or its last run:\n%s", list)
	}
}

// A viewer sees no Import or Run forms and is refused when posting them
// anyway; a form without its CSRF token and a visitor who is not logged in
// are refused too.
func TestPageRoles(t *testing.T) {
	t.Parallel()
	e := startPageServer(t)
	ann := e.login("ann@example.com")
	ann.page("/automation")
	resp, res := ann.upload(csrfOf(t, ann.page("/automation/workflows")), map[string]string{"greeter.json": greeter})
	m := regexp.MustCompile(`href="/automation/workflows/(wf_[0-9a-f]+)"`).FindStringSubmatch(res)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("import: %d\n%s", resp.StatusCode, res)
	}
	wfPath := "/automation/workflows/" + m[1]

	vic := e.login("vic@example.com")
	list := vic.page("/automation/workflows")
	if !strings.Contains(list, "Greeter") || strings.Contains(list, `enctype="multipart/form-data"`) || !strings.Contains(list, "viewer") {
		t.Fatalf("viewer's workflows page:\n%s", list)
	}
	page := vic.page(wfPath)
	if !strings.Contains(page, "Greets someone") || strings.Contains(page, "run-form") || strings.Contains(page, `action="`+wfPath+`/runs"`) || strings.Contains(page, "Secure values missing") {
		t.Fatalf("viewer's workflow page has a Run or secrets form:\n%s", page)
	}
	csrf := csrfOf(t, page)
	if resp, body := vic.post(wfPath+"/runs", url.Values{"csrf_token": {csrf}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "viewer") {
		t.Errorf("viewer's run: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := vic.upload(csrf, map[string]string{"greeter.json": greeter}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Not allowed") {
		t.Errorf("viewer's import: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := vic.post(wfPath+"/secrets", url.Values{"csrf_token": {csrf}, "secret.variable_workflow_token": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer's secret: %d\n%s", resp.StatusCode, body)
	}

	// No CSRF token, or another person's: refused before anything runs.
	for _, f := range []url.Values{{}, {"csrf_token": {csrf}}} {
		f.Set("in.variable_workflow_who", "x")
		if resp, body := ann.post(wfPath+"/runs", f); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Request refused") {
			t.Errorf("run with csrf %q: %d\n%s", f.Get("csrf_token"), resp.StatusCode, body)
		}
	}
	if resp, body := ann.upload("", map[string]string{"greeter.json": greeter}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Request refused") {
		t.Errorf("import without csrf: %d\n%s", resp.StatusCode, body)
	}
	if runs, err := e.srv.Store().Runs().ListRuns(context.Background(), store.RunFilter{}); err != nil || len(runs) != 0 {
		t.Errorf("refused forms started runs: %v %d", err, len(runs))
	}

	// Not logged in: to the login page, and back afterwards.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/automation/workflows", wfPath, "/automation/runs", "/automation/runs/run_x"} {
		resp, err := anon.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?return_to="+url.QueryEscape(path) {
			t.Errorf("anonymous %s: %d %s", path, resp.StatusCode, loc)
		}
	}
	if resp, _ := ann.get("/automation/workflows/wf_nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown workflow: %d", resp.StatusCode)
	}
	if resp, _ := ann.get("/automation/runs/run_nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown run: %d", resp.StatusCode)
	}
}

// asker waits for a person: a prompt with a select, then writes the answer.
var asker = exportJSON("Asker",
	[]string{variable("color", "output", "datatype.string", "", false)},
	activity("ask", "task.prompt_request", `{"prompt_title": "Pick a color", "prompt_body": "Any of them",
		"form_elements": [{"form_label": "Color", "form_element": "select", "form_source_array": ["red", "blue"]}]}`),
	activity("set", "core.set_multiple_variables", `{"variables_to_update": [{"variable_to_update": `+js(ref("output", "color"))+
		`, "variable_value_new": "$activity.definition_activity_ask.output.prompt_response.Color$"}]}`),
)

// A waiting run shows its prompt as a form; answering goes on, Cancel
// ends another one.
func TestPageRunPromptAndCancel(t *testing.T) {
	t.Parallel()
	e := startPageServer(t)
	ann := e.login("ann@example.com")
	ann.page("/automation")
	_, res := ann.upload(csrfOf(t, ann.page("/automation/workflows")), map[string]string{"asker.json": asker})
	m := regexp.MustCompile(`href="/automation/workflows/(wf_[0-9a-f]+)"`).FindStringSubmatch(res)
	if m == nil {
		t.Fatalf("import:\n%s", res)
	}
	if strings.Contains(res, "task.prompt_request</code> is not supported") {
		t.Skip("task.prompt_request is not supported by this build")
	}
	wfPath := "/automation/workflows/" + m[1]
	csrf := csrfOf(t, ann.page(wfPath))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := func() string {
		resp, body := ann.post(wfPath+"/runs", url.Values{"csrf_token": {csrf}})
		id := strings.TrimPrefix(resp.Request.URL.Path, "/automation/runs/")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(id, "run_") {
			t.Fatalf("run: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		if r, err := e.srv.Workflows.Wait(ctx, id); err != nil || r.Status != store.RunWaiting {
			t.Fatalf("run %s: %v %+v", id, err, r)
		}
		return id
	}

	id := start()
	page := ann.page("/automation/runs/" + id)
	for _, want := range []string{"Pick a color", "Any of them", `action="/automation/runs/` + id + `/answer"`, `<select id="field-0" name="field.0"><option value="red">red</option><option value="blue">blue</option></select>`,
		`id="run-cancel"`, `data-live="1"`, `class="status waiting"`} {
		if !strings.Contains(page, want) {
			t.Errorf("waiting run page lacks %q", want)
		}
	}
	vic := e.login("vic@example.com")
	if vp := vic.page("/automation/runs/" + id); strings.Contains(vp, "/answer") || strings.Contains(vp, `id="run-cancel"`) || !strings.Contains(vp, "Pick a color") {
		t.Errorf("viewer sees the answer form or Cancel:\n%s", vp)
	}
	if resp, _ := vic.post("/automation/runs/"+id+"/answer", url.Values{"csrf_token": {csrfOf(t, vic.page("/automation/runs/"+id))}, "field.0": {"red"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer's answer: %d", resp.StatusCode)
	}
	if resp, body := ann.post("/automation/runs/"+id+"/answer", url.Values{"csrf_token": {csrf}, "field.0": {"green"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not one of the choices") {
		t.Errorf("answer off the list: %d\n%s", resp.StatusCode, body)
	}
	resp, body := ann.post("/automation/runs/"+id+"/answer", url.Values{"csrf_token": {csrf}, "field.0": {"blue"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/automation/runs/"+id || !strings.Contains(body, "Answer sent") {
		t.Fatalf("answer: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if r, err := e.srv.Workflows.Wait(ctx, id); err != nil || r.Status != store.RunSucceeded {
		t.Fatalf("answered run: %v %+v", err, r)
	}
	if p := ann.page("/automation/runs/" + id); !strings.Contains(p, `<tr data-name="color"><th>color</th><td class="value"><code>blue</code>`) {
		t.Errorf("answered run page:\n%s", p)
	}

	id = start()
	resp, body = ann.post("/automation/runs/"+id+"/cancel", url.Values{"csrf_token": {csrf}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `class="status cancelled"`) || strings.Contains(body, `id="run-cancel"`) {
		t.Fatalf("cancel: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := ann.post("/automation/runs/"+id+"/cancel", url.Values{"csrf_token": {csrf}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "already ended") {
		t.Errorf("second cancel: %d\n%s", resp.StatusCode, body)
	}
}

// A workflow that cannot run says why, with the JSON paths, and offers no
// Run form; the triggers it carried are listed.
func TestPageNotRunnable(t *testing.T) {
	t.Parallel()
	e := startPageServer(t)
	ann := e.login("ann@example.com")
	ann.page("/automation")
	src := exportJSON("Broken", nil,
		activity("odd", "acme.teleport", `{}`),
		activity("call", "workflow.atomic_workflow", `{"workflow_id": "definition_workflow_elsewhere", "workflow_name": "Elsewhere"}`))
	src = strings.TrimSuffix(strings.TrimSpace(src), "}") + `, "schedules": {"schedule_1": {"name": "Nightly"}}}`
	resp, res := ann.upload(csrfOf(t, ann.page("/automation/workflows")), map[string]string{"broken.json": src})
	m := regexp.MustCompile(`href="/automation/workflows/(wf_[0-9a-f]+)"`).FindStringSubmatch(res)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(res, "not runnable") {
		t.Fatalf("import: %d\n%s", resp.StatusCode, res)
	}
	wfPath := "/automation/workflows/" + m[1]
	page := ann.page(wfPath)
	for _, want := range []string{"What keeps it from running", "<code>workflow.actions[0]</code>: <code>acme.teleport</code> is not supported",
		"Elsewhere <code>definition_workflow_elsewhere</code>", "Nightly (schedule_1)", "grantflow does not fire them"} {
		if !strings.Contains(page, want) {
			t.Errorf("workflow page lacks %q", want)
		}
	}
	if strings.Contains(page, "run-form") {
		t.Error("a workflow that cannot run has a Run form")
	}
	if resp, body := ann.post(wfPath+"/runs", url.Values{"csrf_token": {csrfOf(t, page)}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `<p class="error">Broken is not runnable: `) {
		t.Errorf("running it anyway: %d\n%s", resp.StatusCode, body)
	}
}
