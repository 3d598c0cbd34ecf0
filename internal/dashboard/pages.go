package dashboard

import (
	"embed"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

//go:embed templates/*.html
var templatesFS embed.FS

type apiKeysPage struct {
	web.Chrome
	Keys   []apiKeyRow
	NewKey string // shown once, right after creation
	Error  string
	Max    int
	CanAdd bool
}

func (h *Handler) current(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	if h.sessions == nil {
		http.NotFound(w, r)
		return store.Account{}, false
	}
	acc, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
	}
	return acc, ok
}

// currentForm is current for a form post: it also checks the form's CSRF
// token (403 when it is wrong).
func (h *Handler) currentForm(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	acc, ok := h.current(w, r)
	if !ok {
		return acc, false
	}
	if !h.sessions.VerifyCSRF(r) {
		http.Error(w, "Invalid form token: reload the page and try again.", http.StatusForbidden)
		return store.Account{}, false
	}
	return acc, true
}

func (h *Handler) renderAPIKeys(w http.ResponseWriter, r *http.Request, acc store.Account, status int, newKey, errMsg, flash string) {
	keys, err := h.keys.List(r.Context(), acc.ID)
	if err != nil {
		h.lg.ErrorContext(r.Context(), "list api keys", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := apiKeysPage{
		Chrome: web.Chrome{Title: "API keys", User: acc.Email, CSRF: h.sessions.CSRFToken(w, r), Flash: flash},
		NewKey: newKey, Error: errMsg, Max: MaxAPIKeys, CanAdd: len(keys) < MaxAPIKeys,
	}
	for _, k := range keys {
		p.Keys = append(p.Keys, keyRow(k))
	}
	h.pages.Render(w, r, status, "apikeys.html", p)
}

func (h *Handler) apiKeysPage(w http.ResponseWriter, r *http.Request) {
	acc, ok := h.current(w, r)
	if !ok {
		return
	}
	flash := ""
	if r.URL.Query().Get("revoked") == "1" {
		flash = "The API key was revoked. It stopped working at once."
	}
	h.renderAPIKeys(w, r, acc, http.StatusOK, "", "", flash)
}

func (h *Handler) createAPIKey(w http.ResponseWriter, r *http.Request) {
	acc, ok := h.currentForm(w, r)
	if !ok {
		return
	}
	raw, _, err := h.keys.CreateNamed(r.Context(), acc.ID, r.PostFormValue("name"))
	switch {
	case errors.Is(err, ErrInvalidAPIKeyName):
		h.renderAPIKeys(w, r, acc, http.StatusBadRequest, "", "The name must be at most 100 characters, without control characters.", "")
	case errors.Is(err, ErrTooManyAPIKeys):
		h.renderAPIKeys(w, r, acc, http.StatusConflict, "", "You already have two API keys. Revoke one before creating another.", "")
	case err != nil:
		h.lg.ErrorContext(r.Context(), "create api key", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		h.renderAPIKeys(w, r, acc, http.StatusOK, raw, "", "")
	}
}

type revokeKeyPage struct {
	web.Chrome
	Key apiKeyRow
}

// confirmRevokeAPIKey is GET /account/api-keys/{id}/revoke: Revoke asks
// first, as deleting an integration does.
func (h *Handler) confirmRevokeAPIKey(w http.ResponseWriter, r *http.Request) {
	acc, ok := h.current(w, r)
	if !ok {
		return
	}
	keys, err := h.keys.List(r.Context(), acc.ID)
	if err != nil {
		h.lg.ErrorContext(r.Context(), "list api keys", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	i := slices.IndexFunc(keys, func(k store.APIKey) bool { return k.ID == r.PathValue("id") })
	if i < 0 {
		h.renderAPIKeys(w, r, acc, http.StatusNotFound, "", "No such API key.", "")
		return
	}
	k := keys[i]
	h.pages.Render(w, r, http.StatusOK, "apikey_revoke.html", revokeKeyPage{
		Chrome: web.Chrome{Title: "Revoke API key?", User: acc.Email, CSRF: h.sessions.CSRFToken(w, r)},
		Key:    keyRow(k),
	})
}

func (h *Handler) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	acc, ok := h.currentForm(w, r)
	if !ok {
		return
	}
	switch err := h.keys.Revoke(r.Context(), acc.ID, r.PathValue("id")); {
	case errors.Is(err, store.ErrNotFound):
		h.renderAPIKeys(w, r, acc, http.StatusNotFound, "", "No such API key.", "")
	case err != nil:
		h.lg.ErrorContext(r.Context(), "revoke api key", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		http.Redirect(w, r, "/account/api-keys?revoked=1", http.StatusSeeOther)
	}
}

// usageTotal is one line of the API requests page's summaries.
type usageTotal struct {
	Name  string
	Count int64
	OK    int64 // 2xx
	Err   int64 // 4xx and 5xx
}

type apiRequestsPage struct {
	web.Chrome
	OrgID, OrgName string
	Hours          int
	Total          int64
	ByIntegration  []usageTotal
	ByAdmin        []usageTotal
	ByOperation    []usageTotal
	ByStatus       []usageTotal
	Recent         []apiRequestView
	Flushed        time.Duration
}

// apiRequestsPage shows an organization's Dashboard API usage by
// integration, administrator, operation and response code.
func (h *Handler) apiRequestsPage(w http.ResponseWriter, r *http.Request) {
	acc, ok := h.current(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	orgID := r.PathValue("orgID")
	if _, err := h.st.Accounts().GetMembership(ctx, orgID, acc.ID); err != nil {
		http.NotFound(w, r)
		return
	}
	org, err := h.st.Organizations().GetOrganization(ctx, orgID)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	hours := 24
	if n, err := strconv.Atoi(r.URL.Query().Get("hours")); err == nil && n > 0 && n <= 31*24 {
		hours = n
	}
	now := h.now()
	rows, err := h.orgUsage(ctx, orgID, now.Add(-time.Duration(hours)*time.Hour).Truncate(time.Minute), now.Add(time.Minute))
	if err != nil {
		h.lg.ErrorContext(ctx, "api requests page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := apiRequestsPage{
		Chrome: web.Chrome{Title: "API requests", User: acc.Email, CSRF: h.sessions.CSRFToken(w, r)},
		OrgID:  org.ID, OrgName: org.Name, Hours: hours, Flushed: h.cfg.UsageFlushInterval,
	}
	integrations, admins, ops, statuses := map[string]*usageTotal{}, map[string]*usageTotal{}, map[string]*usageTotal{}, map[string]*usageTotal{}
	names := map[string]string{}
	name := func(kind, id string) string {
		if n, ok := names[kind+id]; ok {
			return n
		}
		n := id
		switch kind {
		case "client":
			if c, err := h.st.Clients().GetClient(ctx, id); err == nil {
				n = c.Name
			}
		case "account":
			if a, err := h.st.Accounts().GetAccount(ctx, id); err == nil {
				n = a.Email
			}
		}
		names[kind+id] = n
		return n
	}
	add := func(m map[string]*usageTotal, key string, u store.APIUsage) {
		t, ok := m[key]
		if !ok {
			t = &usageTotal{Name: key}
			m[key] = t
		}
		t.Count += u.Count
		if u.Status < 300 {
			t.OK += u.Count
		} else if u.Status >= 400 {
			t.Err += u.Count
		}
	}
	for _, u := range rows {
		p.Total += u.Count
		in := "API keys"
		if u.ClientID != "" {
			in = name("client", u.ClientID)
		}
		add(integrations, in, u)
		add(admins, name("account", u.AccountID), u)
		add(ops, u.OperationID, u)
		add(statuses, strconv.Itoa(u.Status), u)
	}
	p.ByIntegration, p.ByAdmin, p.ByOperation, p.ByStatus = totals(integrations), totals(admins), totals(ops), totals(statuses)
	for i, u := range rows {
		if i == 50 {
			break
		}
		v := apiRequestViewOf(u)
		v.AdminID = name("account", u.AccountID)
		if u.ClientID != "" {
			v.Client.ID = name("client", u.ClientID)
		}
		p.Recent = append(p.Recent, v)
	}
	h.pages.Render(w, r, http.StatusOK, "apirequests.html", p)
}

func totals(m map[string]*usageTotal) []usageTotal {
	out := make([]usageTotal, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b usageTotal) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}
