package workflow

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// The pages under /automation: the tenant's workflows and the import form
// (pages_workflows.go), one workflow with its Run form, and runs with their
// live progress (pages_runs.go, internal/web/static/workflow.js).

//go:embed templates/*.html
var pagesFS embed.FS

// Bodies a page form may send: an import carries export files, every other
// form a few fields.
const (
	maxImportBody = 4*export.MaxFileSize + 1<<20
	maxFormBody   = 1 << 20
)

var pageFuncs = template.FuncMap{
	"date":     pageDate,
	"duration": pageDuration,
	"dtype":    func(t string) string { return strings.TrimPrefix(t, "datatype.") },
	"value":    pageValue,
}

func (h *Handler) initPages() error {
	if h.lg == nil {
		h.lg = slog.New(slog.DiscardHandler)
	}
	p, err := web.NewRenderer(pagesFS, h.lg, pageFuncs, "templates/*.html")
	if err != nil {
		return fmt.Errorf("workflow: %w", err)
	}
	h.pages = p
	return nil
}

func (h *Handler) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /automation/workflows", h.pageWorkflows)
	mux.HandleFunc("POST /automation/workflows", h.pageImport)
	mux.HandleFunc("GET /automation/workflows/{id}", h.pageWorkflow)
	mux.HandleFunc("POST /automation/workflows/{id}/secrets", h.pageSecrets)
	mux.HandleFunc("POST /automation/workflows/{id}/runs", h.pageStart)
	mux.HandleFunc("GET /automation/runs", h.pageRuns)
	mux.HandleFunc("GET /automation/runs/{id}", h.pageRun)
	mux.HandleFunc("POST /automation/runs/{id}/answer", h.pageAnswer)
	mux.HandleFunc("POST /automation/runs/{id}/cancel", h.pageCancel)
	h.schedulePageRoutes(mux)
}

// pageFlashes are the messages a redirect may ask for with ?done=; a code,
// so that a link cannot make a page say anything else.
var pageFlashes = map[string]string{
	"secrets":   "Secure values saved.",
	"answered":  "Answer sent; the run goes on.",
	"cancelled": "Cancel requested.",
}

type messagePage struct {
	web.Chrome
	Message string
	Back    string
}

func (h *Handler) chrome(w http.ResponseWriter, r *http.Request, acct store.Account, title string) web.Chrome {
	c := web.Chrome{Title: title, User: acct.Email, CSRF: h.sessions.CSRFToken(w, r)}
	c.Flash = pageFlashes[r.URL.Query().Get("done")]
	if c.Flash == "" {
		c.Flash = h.pausedBanner(r, acct)
	}
	return c
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, acct store.Account, status int, title, msg, back string) {
	h.pages.Render(w, r, status, "message.html", messagePage{Chrome: h.chrome(w, r, acct, title), Message: msg, Back: back})
}

// account returns the logged-in account or sends the browser to log in.
// On POST it reads the form (at most limit bytes, multipart too) and checks
// the CSRF token: a stale or foreign form is refused with 403.
func (h *Handler) account(w http.ResponseWriter, r *http.Request, limit int64) (store.Account, bool) {
	acct, ok := h.sessions.Current(r)
	if !ok || acct.ID == "" {
		back := r.URL.RequestURI()
		if r.Method != http.MethodGet {
			back = "/automation/workflows"
		}
		http.Redirect(w, r, web.LoginURL(back), http.StatusSeeOther)
		return store.Account{}, false
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		var err error
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
			err = r.ParseMultipartForm(8 << 20)
		} else {
			err = r.ParseForm()
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.message(w, r, acct, http.StatusRequestEntityTooLarge, "Too large", fmt.Sprintf("The form is larger than %d MB.", limit>>20), "/automation/workflows")
			return store.Account{}, false
		}
		if err != nil || !h.sessions.VerifyCSRF(r) {
			h.message(w, r, acct, http.StatusForbidden, "Request refused", "The form was stale or not sent by this site. Go back, reload the page and try again.", "/automation")
			return store.Account{}, false
		}
	}
	return acct, true
}

// pageFail answers a service error with a plain page.
func (h *Handler) pageFail(w http.ResponseWriter, r *http.Request, acct store.Account, err error, back string) {
	switch {
	case errors.Is(err, ErrNotFound):
		h.message(w, r, acct, http.StatusNotFound, "Not found", capital(Plain(err))+" does not exist, or is not in an organization you administer.", back)
	case errors.Is(err, ErrForbidden):
		h.message(w, r, acct, http.StatusForbidden, "Not allowed", capital(Plain(err))+".", back)
	case errors.Is(err, ErrInvalid):
		h.message(w, r, acct, http.StatusBadRequest, "Not possible", capital(Plain(err))+".", back)
	default:
		h.lg.ErrorContext(r.Context(), "workflow page failed", "err", err)
		h.message(w, r, acct, http.StatusInternalServerError, "Something went wrong", "Something went wrong on our side. Try again in a moment.", back)
	}
}

func capital(s string) string {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// tenantPage is what the tenant-wide pages start from.
type tenantPage struct {
	acct store.Account
	ms   []store.OrgMembership
	m    store.OrgMembership
	t    store.Tenant
	role store.Role
}

// pageTenant picks the tenant as the Automation home page does: the
// organization of ?org= (or the form's org), default the person's first
// one, and that organization's tenant. A tenant not created yet sends the
// browser to /automation, which creates it.
func (h *Handler) pageTenant(w http.ResponseWriter, r *http.Request, limit int64) (tenantPage, bool) {
	acct, ok := h.account(w, r, limit)
	if !ok {
		return tenantPage{}, false
	}
	ms, err := h.svc.st.Accounts().ListAccountMemberships(r.Context(), acct.ID)
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation")
		return tenantPage{}, false
	}
	if len(ms) == 0 {
		h.message(w, r, acct, http.StatusOK, "Automation", "Automation works on an organization, and your account does not administer any. Ask an organization administrator to add you.", "/")
		return tenantPage{}, false
	}
	q := tenantPage{acct: acct, ms: ms, m: ms[0]}
	if want := r.FormValue("org"); want != "" {
		found := false
		for _, m := range ms {
			if m.OrgID == want {
				q.m, found = m, true
			}
		}
		if !found {
			h.message(w, r, acct, http.StatusNotFound, "Not found", "You do not administer that organization.", "/automation")
			return tenantPage{}, false
		}
	}
	q.t, err = h.svc.st.Automation().GetTenantByOrg(r.Context(), q.m.OrgID)
	if errors.Is(err, store.ErrNotFound) {
		http.Redirect(w, r, "/automation?org="+url.QueryEscape(q.m.OrgID), http.StatusSeeOther)
		return tenantPage{}, false
	}
	if err != nil {
		h.pageFail(w, r, acct, err, "/automation")
		return tenantPage{}, false
	}
	if q.role, ok = h.role(w, r, acct, q.t); !ok {
		return tenantPage{}, false
	}
	return q, true
}

// role is the person's role in t ("" when they are not an administrator of
// its organization: the service then refuses everything).
func (h *Handler) role(w http.ResponseWriter, r *http.Request, acct store.Account, t store.Tenant) (store.Role, bool) {
	_, role, err := h.svc.auto.RoleOf(r.Context(), t, acct.ID)
	if err != nil && !errors.Is(err, automation.ErrForbidden) {
		h.pageFail(w, r, acct, err, "/automation")
		return "", false
	}
	return role, true
}

func orgLink(path, orgID string) string { return path + "?org=" + url.QueryEscape(orgID) }

// pageDate shows a time (a time.Time or *time.Time) in UTC; workflow.js
// writes the same form.
func pageDate(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return ""
	}
	return web.FormatTime(t) // the one date format of every page
}

// pageDuration is the time between start and end (workflow.js computes the
// same).
func pageDuration(start, end *time.Time) string {
	if start == nil || end == nil {
		return ""
	}
	return formatDuration(end.Sub(*start))
}

func formatDuration(d time.Duration) string {
	ms := d.Milliseconds()
	switch {
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.1f s", float64(ms)/1000)
	}
	return fmt.Sprintf("%d min %d s", ms/60_000, ms%60_000/1000)
}

// pageValue shows a variable's value: text as it is, anything else as
// JSON.
func pageValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// namedValue is one input or output of a run.
type namedValue struct {
	Name  string
	Value string
}

func namedValues(m map[string]any) []namedValue {
	out := make([]namedValue, 0, len(m))
	for k, v := range m {
		out = append(out, namedValue{Name: k, Value: pageValue(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(raw)
	}
	return string(b)
}
