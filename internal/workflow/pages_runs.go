package workflow

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// activityRow is one activity execution on the run page.
type activityRow struct {
	ActivityFull
	Duration string
	InputJSON,
	OutputJSON string
}

type runPage struct {
	web.Chrome
	OrgID    string
	Run      RunView
	Inputs   []namedValue
	Outputs  []namedValue
	Acts     []activityRow
	Duration string
	// Live: the page polls the run's JSON (workflow.js) until it ends.
	Live bool
	// CanAct: the person may answer the prompt and cancel (the run's
	// starter, or a tenant_admin).
	CanAct    bool
	CanCancel bool
}

// pageRun is GET /automation/runs/{id}.
func (h *Handler) pageRun(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.account(w, r, maxFormBody)
	if !ok {
		return
	}
	ctx := r.Context()
	v, t, role, err := h.svc.runAs(ctx, r.PathValue("id"), Actor{Account: acct})
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation/runs")
		return
	}
	p := runPage{Chrome: h.chrome(w, r, acct, "Run of "+v.WorkflowName), OrgID: t.OrgID, Run: v,
		Inputs: namedValues(v.Inputs), Outputs: namedValues(v.Outputs), Duration: pageDuration(v.StartedAt, v.EndedAt),
		Live: !store.RunEnded(v.Status)}
	starter := v.StartedBy != nil && *v.StartedBy == acct.Email
	p.CanAct = role == store.RoleTenantAdmin || (starter && allows(role, permRun))
	p.CanCancel = p.CanAct && !store.RunEnded(v.Status)
	for _, d := range v.Details {
		p.Acts = append(p.Acts, activityRow{ActivityFull: d, Duration: pageDuration(d.StartedAt, d.EndedAt),
			InputJSON: prettyJSON(d.Input), OutputJSON: prettyJSON(d.Output)})
	}
	h.pages.Render(w, r, http.StatusOK, "run.html", p)
}

// pageAnswer is POST /automation/runs/{id}/answer: the prompt's fields,
// named field.<index> in the prompt's order.
func (h *Handler) pageAnswer(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.account(w, r, maxFormBody)
	if !ok {
		return
	}
	ctx := r.Context()
	a := Actor{Account: acct}
	id := r.PathValue("id")
	back := "/automation/runs/" + url.PathEscape(id)
	v, err := h.svc.Run(ctx, id, a)
	if err != nil {
		h.pageFail(w, r, acct, err, back)
		return
	}
	if v.Prompt == nil {
		h.message(w, r, acct, http.StatusBadRequest, "Not possible", "The run is "+v.Status+", not waiting for an answer.", back)
		return
	}
	fields := map[string]string{}
	for i, f := range v.Prompt.Fields {
		if val, sent := r.PostForm["field."+strconv.Itoa(i)]; sent && len(val) > 0 {
			fields[f.Label] = val[0]
		}
	}
	if _, err := h.svc.Answer(ctx, id, a, fields); err != nil {
		h.pageFail(w, r, acct, err, back)
		return
	}
	http.Redirect(w, r, back+"?done=answered", http.StatusSeeOther)
}

// pageCancel is POST /automation/runs/{id}/cancel.
func (h *Handler) pageCancel(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.account(w, r, maxFormBody)
	if !ok {
		return
	}
	id := r.PathValue("id")
	back := "/automation/runs/" + url.PathEscape(id)
	if _, err := h.svc.Cancel(r.Context(), id, Actor{Account: acct}); err != nil {
		h.pageFail(w, r, acct, err, back)
		return
	}
	http.Redirect(w, r, back+"?done=cancelled", http.StatusSeeOther)
}

// runsPageSize is how many runs the history shows at once.
const runsPageSize = 50

type runsPage struct {
	web.Chrome
	Orgs      []store.OrgMembership
	Org       store.OrgMembership
	Workflows []ImportResult
	Workflow  string // the filter: a workflow's unique_name, every version
	Runs      []RunView
	Older     string // the link to the next page, "" on the last one
	Paged     bool
}

// pageRuns is GET /automation/runs: the tenant's runs, newest first,
// ?workflow=UNIQUE_NAME to see one workflow's, ?before=RUN_ID for older
// ones (?limit= changes the page size, at most 100).
func (h *Handler) pageRuns(w http.ResponseWriter, r *http.Request) {
	q, ok := h.pageTenant(w, r, maxFormBody)
	if !ok {
		return
	}
	ctx := r.Context()
	a := Actor{Account: q.acct}
	query := r.URL.Query()
	limit, _ := strconv.Atoi(query.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = runsPageSize
	}
	wfs, err := h.svc.Workflows(ctx, q.t.ID, a)
	if err != nil {
		h.pageFail(w, r, q.acct, err, "/automation")
		return
	}
	p := runsPage{Chrome: h.chrome(w, r, q.acct, "Runs"), Orgs: q.ms, Org: q.m, Workflows: wfs, Workflow: query.Get("workflow"), Paged: query.Get("before") != ""}
	runs, err := h.svc.Runs(ctx, store.RunFilter{TenantID: q.t.ID, WorkflowUniqueName: p.Workflow, Before: query.Get("before"), Limit: limit + 1}, a)
	if err != nil {
		h.pageFail(w, r, q.acct, err, "/automation")
		return
	}
	// One more than shown tells whether there are older ones.
	if len(runs) > limit {
		runs = runs[:limit]
		next := url.Values{"org": {q.m.OrgID}, "before": {runs[len(runs)-1].ID}}
		if p.Workflow != "" {
			next.Set("workflow", p.Workflow)
		}
		if limit != runsPageSize {
			next.Set("limit", strconv.Itoa(limit))
		}
		p.Older = "/automation/runs?" + next.Encode()
	}
	p.Runs = runs
	h.pages.Render(w, r, http.StatusOK, "runs.html", p)
}
