package identity

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// auditPageSize is how many events one audit page shows.
const auditPageSize = 100

type auditRow struct {
	Time    string
	Action  string
	Actor   string
	Client  string
	Target  string
	Details string
}

type auditPage struct {
	web.Chrome
	Org  store.Organization
	Rows []auditRow
	// Older is the "before" id of the next page, 0 when there is none.
	Older int64
	// Paged is true when this is not the newest page.
	Paged bool
}

// auditPage shows an organization's audit log to its administrators, full
// or read-only. Everyone else gets 404, so the page does not confirm which
// organization ids exist.
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	orgID := r.PathValue("orgID")
	// Any membership, full or read-only, may read the log.
	_, err := h.svc.accounts.GetMembership(ctx, orgID, acct.ID)
	if errors.Is(err, store.ErrNotFound) {
		h.messageFor(w, r, acct, http.StatusNotFound, "Not found", "There is no such organization, or you are not one of its administrators.")
		return
	}
	if err != nil {
		h.serverError(w, r, acct, "membership lookup failed", err)
		return
	}
	org, err := h.svc.orgs.GetOrganization(ctx, orgID)
	if err != nil {
		h.serverError(w, r, acct, "organization lookup failed", err)
		return
	}

	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		before, err = strconv.ParseInt(v, 10, 64)
		if err != nil || before <= 0 {
			h.messageFor(w, r, acct, http.StatusBadRequest, "Bad request", "The page link is not valid.")
			return
		}
	}
	// One extra event tells whether an older page exists.
	events, err := h.auditLog.ListAudit(ctx, store.AuditFilter{OrgID: orgID, BeforeID: before, Limit: auditPageSize + 1})
	if err != nil {
		h.serverError(w, r, acct, "audit list failed", err)
		return
	}
	page := auditPage{Chrome: h.chrome(w, r, acct, "Audit log · "+org.Name), Org: org, Paged: before != 0}
	if len(events) > auditPageSize {
		events = events[:auditPageSize]
		page.Older = events[len(events)-1].ID
	}
	emails := map[string]string{}
	for _, e := range events {
		page.Rows = append(page.Rows, auditRow{
			Time:    web.FormatTime(e.At),
			Action:  e.Action,
			Actor:   h.actorEmail(r, emails, e.ActorAccountID),
			Client:  e.ActorClientID,
			Target:  e.Target,
			Details: formatDetails(e.Details),
		})
	}
	h.render.Render(w, r, http.StatusOK, "audit.html", page)
}

// actorEmail resolves an account id to its email, once per page per id.
func (h *Handler) actorEmail(r *http.Request, seen map[string]string, id string) string {
	if id == "" {
		return ""
	}
	if e, ok := seen[id]; ok {
		return e
	}
	e := id
	if a, err := h.svc.accounts.GetAccount(r.Context(), id); err == nil {
		e = a.Email
	} else if !errors.Is(err, store.ErrNotFound) {
		h.lg.WarnContext(r.Context(), "audit actor lookup failed", "account", id, "err", err)
	}
	seen[id] = e
	return e
}

func formatDetails(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(d[k])
	}
	return b.String()
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, acct store.Account, what string, err error) {
	h.lg.ErrorContext(r.Context(), what, "err", err)
	h.messageFor(w, r, acct, http.StatusInternalServerError, "Something went wrong", "The page could not be loaded. Try again in a moment.")
}
