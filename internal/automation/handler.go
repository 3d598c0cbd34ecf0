package automation

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

//go:embed templates/*.html
var templatesFS embed.FS

// Handler serves Automation's pages (/automation) and JSON API
// (/api/automation).
type Handler struct {
	svc      *Service
	sessions web.Sessions
	pages    *web.Renderer
	lg       *slog.Logger
}

// NewHandler returns the pages and API over svc.
func NewHandler(svc *Service, sessions web.Sessions, lg *slog.Logger) (*Handler, error) {
	pages, err := web.NewRenderer(templatesFS, lg, nil, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("automation: %w", err)
	}
	return &Handler{svc: svc, sessions: sessions, pages: pages, lg: lg}, nil
}

// Routes registers the pages and the JSON API.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /automation", h.home)
	mux.HandleFunc("GET /automation/callback", h.callback)
	mux.HandleFunc("POST /automation/connect", h.connect)
	mux.HandleFunc("POST /automation/test", h.test)
	mux.HandleFunc("GET /automation/tokens/{kind}/delete", h.confirmDelete)
	mux.HandleFunc("POST /automation/tokens/{kind}/delete", h.deleteToken)
	mux.HandleFunc("GET /automation/roles", h.roles)
	mux.HandleFunc("POST /automation/roles", h.setRole)

	mux.HandleFunc("GET /api/automation/tenants", h.apiList)
	mux.HandleFunc("POST /api/automation/tenants", h.apiCreate)
	mux.HandleFunc("GET /api/automation/tenants/{id}", h.apiGet)
	mux.HandleFunc("POST /api/automation/tenants/{id}/test", h.apiTest)
	mux.HandleFunc("DELETE /api/automation/tenants/{id}/tokens/{kind}", h.apiDeleteToken)
	mux.HandleFunc("GET /api/automation/tenants/{id}/roles", h.apiRoles)
	mux.HandleFunc("PUT /api/automation/tenants/{id}/roles/{accountID}", h.apiSetRole)
}

// flashes are the messages a redirect may ask for with ?done=; a code, so
// that a link cannot make the page say anything else.
var flashes = map[string]string{
	"connected":    "Token created.",
	"denied":       "The authorization server did not grant the token.",
	"failed":       "The token could not be created. Try again, or ask an administrator to look at the log.",
	"deleted_user": "Your User token was deleted. On-demand runs will not work for you until it is created again (the next time you open Automation).",
	"deleted_org":  "The Org-scoped token was deleted. Scheduled runs stop until a tenant_admin creates it again.",
	"role_saved":   "Role saved.",
}

type message struct {
	web.Chrome
	Message string
	Back    string
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, acct store.Account, status int, title, msg, back string) {
	h.pages.Render(w, r, status, "message.html", message{Chrome: h.chrome(w, r, acct, title), Message: msg, Back: back})
}

func (h *Handler) chrome(w http.ResponseWriter, r *http.Request, acct store.Account, title string) web.Chrome {
	return web.Chrome{Title: title, User: acct.Email, CSRF: h.sessions.CSRFToken(w, r)}
}

// account returns the logged-in account or sends the browser to log in.
// On POST it checks the CSRF token (403 when wrong).
func (h *Handler) account(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	acct, ok := h.sessions.Current(r)
	if !ok || acct.ID == "" {
		back := r.URL.RequestURI()
		if r.Method != http.MethodGet {
			back = "/automation"
		}
		http.Redirect(w, r, web.LoginURL(back), http.StatusSeeOther)
		return store.Account{}, false
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil || !h.sessions.VerifyCSRF(r) {
			h.message(w, r, acct, http.StatusForbidden, "Request refused", "The form was stale or not sent by this site. Go back, reload the page and try again.", "/automation")
			return store.Account{}, false
		}
	}
	return acct, true
}

// orgFor picks the organization of the request (?org= or the form's org,
// default the first membership) among acct's memberships.
func (h *Handler) orgFor(w http.ResponseWriter, r *http.Request, acct store.Account) ([]store.OrgMembership, store.OrgMembership, bool) {
	ms, err := h.svc.st.Accounts().ListAccountMemberships(r.Context(), acct.ID)
	if err != nil {
		h.fail(w, r, acct, err)
		return nil, store.OrgMembership{}, false
	}
	if len(ms) == 0 {
		h.message(w, r, acct, http.StatusOK, "Automation", "Automation works on an organization, and your account does not administer any. Ask an organization administrator to add you.", "/")
		return nil, store.OrgMembership{}, false
	}
	want := r.FormValue("org")
	if want == "" {
		return ms, ms[0], true
	}
	for _, m := range ms {
		if m.OrgID == want {
			return ms, m, true
		}
	}
	h.message(w, r, acct, http.StatusNotFound, "Not found", "You do not administer that organization.", "/automation")
	return nil, store.OrgMembership{}, false
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, acct store.Account, err error) {
	if errors.Is(err, ErrForbidden) {
		h.message(w, r, acct, http.StatusForbidden, "Not allowed", "Your role in this tenant does not allow that.", "/automation")
		return
	}
	if errors.Is(err, ErrInvalid) {
		h.message(w, r, acct, http.StatusBadRequest, "Not possible", plain(err)+".", "/automation")
		return
	}
	h.lg.ErrorContext(r.Context(), "automation request failed", "err", err)
	h.message(w, r, acct, http.StatusInternalServerError, "Something went wrong", "Something went wrong on our side. Try again in a moment.", "/automation")
}

func orgQuery(orgID string) string { return "?org=" + url.QueryEscape(orgID) }

// tokenCard is one token on the home page.
type tokenCard struct {
	Kind       string
	Label      string
	Purpose    string
	State      string
	Reason     string
	ValidUntil time.Time
	Refreshed  time.Time
	CreatedBy  string
	CreatedAt  time.Time
	Scopes     int
	ReadOnly   bool
	Missing    bool
	CanConnect bool
	CanDelete  bool
	CanTest    bool
	Who        string // who can create it, when missing
}

type homePage struct {
	web.Chrome
	Orgs       []store.OrgMembership
	Org        store.OrgMembership
	Tenant     store.Tenant
	Role       store.Role
	Target     store.Target
	HasTarget  bool
	TargetURL  string
	External   bool
	SetupError string
	Tokens     []tokenCard
	Test       *TestResult
	TestBody   string
	Admin      bool
}

// home is GET /automation: on the first visit it creates the tenant and
// its Current Org target; then it makes sure the visitor's User token, and
// for a tenant_admin the Org-scoped token, exist and are valid, sending
// the browser through the silent authorization flow when one is missing,
// revoked or wider than the visitor's access. ?auto=0 shows the page as it
// is (after a flow, so that a refusal cannot loop).
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.account(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	ms, m, ok := h.orgFor(w, r, acct)
	if !ok {
		return
	}
	t, err := h.svc.EnsureTenant(ctx, m.OrgID, true, TriggerFirstVisit, acct.ID)
	if err != nil {
		h.fail(w, r, acct, err)
		return
	}
	_, role, err := h.svc.RoleOf(ctx, t, acct.ID)
	if err != nil {
		h.fail(w, r, acct, err)
		return
	}
	if t.Meraki && r.URL.Query().Get("auto") != "0" && !h.svc.cfg.External() {
		if kind := h.svc.pending(ctx, t, acct, m.Access, role); kind != "" {
			if u, err := h.svc.AuthorizeURL(ctx, acct, t, kind); err == nil {
				w.Header().Set("Cache-Control", "no-store")
				http.Redirect(w, r, u, http.StatusSeeOther)
				return
			} else {
				h.lg.ErrorContext(ctx, "cannot start the silent token flow", "err", err)
			}
		}
	}
	h.renderHome(w, r, acct, ms, m, t, role, nil)
}

// pending returns the token the visitor's visit should (re)issue silently:
// their User token if missing, revoked or wider than their access now (its
// validity is checked, refreshing it when expired); else, for a
// tenant_admin, a missing or revoked Org-scoped token.
func (s *Service) pending(ctx context.Context, t store.Tenant, acct store.Account, access store.Access, role store.Role) store.TokenKind {
	u, err := s.auto.GetToken(ctx, t.ID, store.TokenUser, acct.ID)
	switch {
	case err == nil && removed(u):
		// An administrator removed the grant: the owner reconnects by hand.
	case errors.Is(err, store.ErrNotFound), err == nil && u.State == store.TokenReconnectNeeded, err == nil && keeper.NeedsReissue(u, access):
		return store.TokenUser
	case err == nil:
		// "On subsequent visits, the system checks your token validity."
		if _, err := s.Keeper.AccessToken(ctx, Ref(t, store.TokenUser, acct)); keeper.IsReconnect(err) {
			return store.TokenUser
		} else if err != nil {
			s.lg.WarnContext(ctx, "checking the user token failed", "tenant", t.ID, "err", err)
		}
	default:
		s.lg.ErrorContext(ctx, "reading the user token failed", "err", err)
		return ""
	}
	if role == store.RoleTenantAdmin && s.orgTokenWanted(ctx, t) {
		return store.TokenOrg
	}
	return ""
}

func (h *Handler) renderHome(w http.ResponseWriter, r *http.Request, acct store.Account, ms []store.OrgMembership, m store.OrgMembership, t store.Tenant, role store.Role, test *TestResult) {
	p := homePage{Chrome: h.chrome(w, r, acct, "Automation"), Orgs: ms, Org: m, Tenant: t, Role: role,
		External: h.svc.cfg.External(), Admin: role == store.RoleTenantAdmin, Test: test}
	if f := flashes[r.URL.Query().Get("done")]; f != "" {
		p.Flash = f
	}
	h.svc.clientMu.Lock()
	if h.svc.clientErr != nil {
		p.SetupError = "Automation could not register itself with the authorization server, so tokens cannot be created. The log has the details (an http issuer is allowed only on a loopback address)."
	}
	h.svc.clientMu.Unlock()
	// The rows the view was made from: the page shows more of them, and
	// reading them again would cost a query per token on every visit.
	view, rows, err := h.svc.view(r.Context(), t, &acct)
	if err != nil {
		h.fail(w, r, acct, err)
		return
	}
	for _, tg := range rows.targets {
		if tg.Name == TargetName {
			p.Target, p.HasTarget, p.TargetURL = tg, true, TargetURL(tg)
		}
	}
	for i, tv := range view.Tokens {
		c := tokenCard{Kind: tv.Kind, State: tv.State, Reason: tv.Reason, Missing: tv.State == store.TokenMissing, CreatedBy: tv.CreatedBy}
		if tok := rows.tokens[i]; tok != nil {
			c.ValidUntil, c.Refreshed, c.CreatedAt = tok.AccessExpiresAt, tok.RefreshedAt, tok.CreatedAt
			c.Scopes, c.ReadOnly = len(tok.Scopes), len(scope.ReadOnly(tok.Scopes)) == len(tok.Scopes)
		}
		if tv.Kind == string(store.TokenUser) {
			c.Label, c.Purpose = "User token", "on-demand workflow runs, as you"
			c.CanConnect, c.CanDelete, c.CanTest = true, !c.Missing, !c.Missing
			c.Who = "It is created for you when you open Automation."
		} else {
			c.Label, c.Purpose = "Org-scoped token", "scheduled workflow runs, for the organization"
			admin := role == store.RoleTenantAdmin
			c.CanConnect, c.CanDelete, c.CanTest = admin, admin && !c.Missing, admin && !c.Missing
			c.Who = "A full-access administrator with the tenant_admin role creates it by opening Automation."
		}
		p.Tokens = append(p.Tokens, c)
	}
	if test != nil && len(test.Body) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, test.Body, "", "  ") == nil {
			p.TestBody = buf.String()
		}
	}
	h.pages.Render(w, r, http.StatusOK, "home.html", p)
}

// callback is GET /automation/callback: the authorization response.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.sessions.Current(r)
	if !ok || acct.ID == "" {
		// The state is bound to a person: without a session the response
		// cannot be used. Start again after logging in.
		http.Redirect(w, r, web.LoginURL("/automation"), http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	res, err := h.svc.Callback(ctx, acct, r.URL.Query())
	if errors.Is(err, ErrBadCallback) {
		h.lg.WarnContext(ctx, "automation callback refused", "err", err)
		h.message(w, r, acct, http.StatusBadRequest, "Token not created", "This authorization response does not match a request Automation made for you (it expired, was already used, or came from another server). Open Automation again.", "/automation")
		return
	}
	back := "/automation"
	if res.Tenant.OrgID != "" {
		back += orgQuery(res.Tenant.OrgID)
	}
	switch {
	case err != nil:
		h.lg.ErrorContext(ctx, "automation token issuance failed", "err", err)
		http.Redirect(w, r, back+"&auto=0&done=failed", http.StatusSeeOther)
		return
	case res.Denied != "":
		http.Redirect(w, r, back+"&auto=0&done=denied", http.StatusSeeOther)
		return
	}
	// After the User token, go on to the Org-scoped token if this visitor
	// is the one to create it.
	if res.Kind == store.TokenUser && !h.svc.cfg.External() {
		if _, role, err := h.svc.RoleOf(ctx, res.Tenant, acct.ID); err == nil && role == store.RoleTenantAdmin {
			if h.svc.orgTokenWanted(ctx, res.Tenant) {
				if u, err := h.svc.AuthorizeURL(ctx, acct, res.Tenant, store.TokenOrg); err == nil {
					http.Redirect(w, r, u, http.StatusSeeOther)
					return
				}
			}
		}
	}
	http.Redirect(w, r, back+"&auto=0&done=connected", http.StatusSeeOther)
}

func parseKind(s string) (store.TokenKind, bool) {
	switch k := store.TokenKind(s); k {
	case store.TokenUser, store.TokenOrg:
		return k, true
	}
	return "", false
}

// tenantReq is what the pages acting on the request's tenant start from.
type tenantReq struct {
	acct store.Account
	ms   []store.OrgMembership
	m    store.OrgMembership
	t    store.Tenant
}

// tenantFor is the start of every page that acts on an existing tenant:
// the logged-in account (see account), its organization (see orgFor) and
// that organization's tenant. A tenant not created yet sends the browser
// to /automation, which creates it.
func (h *Handler) tenantFor(w http.ResponseWriter, r *http.Request) (tenantReq, bool) {
	acct, ok := h.account(w, r)
	if !ok {
		return tenantReq{}, false
	}
	ms, m, ok := h.orgFor(w, r, acct)
	if !ok {
		return tenantReq{}, false
	}
	t, err := h.svc.auto.GetTenantByOrg(r.Context(), m.OrgID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.Redirect(w, r, "/automation"+orgQuery(m.OrgID), http.StatusSeeOther)
		} else {
			h.fail(w, r, acct, err)
		}
		return tenantReq{}, false
	}
	return tenantReq{acct: acct, ms: ms, m: m, t: t}, true
}

// tokenKind reads the token kind a page acts on: the form's kind, or with
// inPath the {kind} of the path, where an unknown kind is a page that does
// not exist (404) rather than a bad form (400).
func (h *Handler) tokenKind(w http.ResponseWriter, r *http.Request, acct store.Account, inPath bool) (store.TokenKind, bool) {
	var raw, title string
	var status int
	if inPath {
		raw, status, title = r.PathValue("kind"), http.StatusNotFound, "Not found"
	} else {
		raw, status, title = r.PostFormValue("kind"), http.StatusBadRequest, "Bad request"
	}
	kind, ok := parseKind(raw)
	if !ok {
		h.message(w, r, acct, status, title, "Unknown token kind.", "/automation")
	}
	return kind, ok
}

// connect is POST /automation/connect: the "Connect" (or re-issue) button.
func (h *Handler) connect(w http.ResponseWriter, r *http.Request) {
	q, ok := h.tenantFor(w, r)
	if !ok {
		return
	}
	kind, ok := h.tokenKind(w, r, q.acct, false)
	if !ok {
		return
	}
	u, err := h.svc.AuthorizeURL(r.Context(), q.acct, q.t, kind)
	if err != nil {
		h.fail(w, r, q.acct, err)
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// test is POST /automation/test: "Test connection".
func (h *Handler) test(w http.ResponseWriter, r *http.Request) {
	q, ok := h.tenantFor(w, r)
	if !ok {
		return
	}
	kind, ok := h.tokenKind(w, r, q.acct, false)
	if !ok {
		return
	}
	res, err := h.svc.TestConnection(r.Context(), q.acct, q.t, kind)
	if err != nil {
		h.fail(w, r, q.acct, err)
		return
	}
	_, role, _ := h.svc.RoleOf(r.Context(), q.t, q.acct.ID)
	h.renderHome(w, r, q.acct, q.ms, q.m, q.t, role, &res)
}

type confirmPage struct {
	web.Chrome
	Org     store.OrgMembership
	Kind    string
	Label   string
	Warning string
}

func (h *Handler) confirmDelete(w http.ResponseWriter, r *http.Request) {
	q, ok := h.tenantFor(w, r)
	if !ok {
		return
	}
	kind, ok := h.tokenKind(w, r, q.acct, true)
	if !ok {
		return
	}
	p := confirmPage{Chrome: h.chrome(w, r, q.acct, "Delete token"), Org: q.m, Kind: string(kind)}
	if kind == store.TokenUser {
		p.Label = "your User token"
		p.Warning = "Make sure you want this: without your User token, on-demand workflows you run stop working until it is created again."
	} else {
		p.Label = "the Org-scoped token"
		p.Warning = "Make sure you want this: without the Org-scoped token, every scheduled workflow of this organization stops running until a tenant_admin creates it again."
	}
	h.pages.Render(w, r, http.StatusOK, "confirm.html", p)
}

func (h *Handler) deleteToken(w http.ResponseWriter, r *http.Request) {
	q, ok := h.tenantFor(w, r)
	if !ok {
		return
	}
	kind, ok := h.tokenKind(w, r, q.acct, true)
	if !ok {
		return
	}
	err := h.svc.DeleteToken(r.Context(), q.acct, q.t, kind)
	if err != nil && !errors.Is(err, keeper.ErrMissing) {
		h.fail(w, r, q.acct, err)
		return
	}
	http.Redirect(w, r, "/automation"+orgQuery(q.m.OrgID)+"&auto=0&done=deleted_"+string(kind), http.StatusSeeOther)
}

type rolesPage struct {
	web.Chrome
	Org     store.OrgMembership
	Tenant  store.Tenant
	Members []Member
	Admin   bool
	Roles   []store.Role
	Problem string
	Self    string
}

var allRoles = []store.Role{store.RoleTenantAdmin, store.RoleAuthor, store.RoleOperator, store.RoleViewer}

func (h *Handler) roles(w http.ResponseWriter, r *http.Request) {
	q, ok := h.tenantFor(w, r)
	if !ok {
		return
	}
	h.renderRoles(w, r, q, "")
}

func (h *Handler) renderRoles(w http.ResponseWriter, r *http.Request, q tenantReq, problem string) {
	members, err := h.svc.Members(r.Context(), q.t)
	if err != nil {
		h.fail(w, r, q.acct, err)
		return
	}
	_, role, err := h.svc.RoleOf(r.Context(), q.t, q.acct.ID)
	if err != nil {
		h.fail(w, r, q.acct, err)
		return
	}
	p := rolesPage{Chrome: h.chrome(w, r, q.acct, "Automation roles"), Org: q.m, Tenant: q.t, Members: members,
		Admin: role == store.RoleTenantAdmin, Roles: allRoles, Problem: problem, Self: q.acct.ID}
	if f := flashes[r.URL.Query().Get("done")]; f != "" {
		p.Flash = f
	}
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadRequest
	}
	h.pages.Render(w, r, status, "roles.html", p)
}

func (h *Handler) setRole(w http.ResponseWriter, r *http.Request) {
	q, ok := h.tenantFor(w, r)
	if !ok {
		return
	}
	err := h.svc.SetRole(r.Context(), q.t, q.acct.ID, r.PostFormValue("account_id"), store.Role(r.PostFormValue("role")))
	switch {
	case errors.Is(err, ErrForbidden):
		h.fail(w, r, q.acct, err)
	case errors.Is(err, ErrInvalid):
		h.renderRoles(w, r, q, plain(err))
	case err != nil:
		h.fail(w, r, q.acct, err)
	default:
		http.Redirect(w, r, "/automation/roles"+orgQuery(q.m.OrgID)+"&done=role_saved", http.StatusSeeOther)
	}
}

// plain turns an ErrInvalid into the sentence to show.
func plain(err error) string {
	return strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
}
