package identity

import (
	"errors"
	"net/http"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

type adminRow struct {
	AccountID string
	Email     string
	Access    store.Access
	Since     string
	Self      bool
}

type adminsPage struct {
	web.Chrome
	Org store.Organization
	// CanChange is true for a full administrator: only they see the forms.
	CanChange bool
	Rows      []adminRow
	Error     string
	// Invited and Password show a new account's password once.
	Invited  string
	Password string
}

type removeAdminPage struct {
	web.Chrome
	Org   store.Organization
	Admin adminRow
}

// orgAccess loads the organization and the current account's access to it.
// It answers the request itself (login redirect, 404, 500) and returns
// ok=false when the handler should stop.
func (h *Handler) orgAccess(w http.ResponseWriter, r *http.Request) (store.Account, store.Organization, store.Access, bool) {
	acct, ok := h.sessions.Current(r)
	if !ok {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, web.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		} else {
			h.messageFor(w, r, acct, http.StatusUnauthorized, "Logged out", "Your session has ended. Log in again and retry.")
		}
		return acct, store.Organization{}, "", false
	}
	ctx := r.Context()
	orgID := r.PathValue("orgID")
	m, err := h.svc.accounts.GetMembership(ctx, orgID, acct.ID)
	if errors.Is(err, store.ErrNotFound) {
		h.messageFor(w, r, acct, http.StatusNotFound, "Not found", "There is no such organization, or you are not one of its administrators.")
		return acct, store.Organization{}, "", false
	}
	if err != nil {
		h.serverError(w, r, acct, "membership lookup failed", err)
		return acct, store.Organization{}, "", false
	}
	org, err := h.svc.orgs.GetOrganization(ctx, orgID)
	if err != nil {
		h.serverError(w, r, acct, "organization lookup failed", err)
		return acct, store.Organization{}, "", false
	}
	return acct, org, m.Access, true
}

// adminsList shows an organization's administrators to any of them; only
// full administrators get the forms that change them.
func (h *Handler) adminsList(w http.ResponseWriter, r *http.Request) {
	acct, org, access, ok := h.orgAccess(w, r)
	if !ok {
		return
	}
	h.renderAdmins(w, r, acct, org, access, http.StatusOK, adminsPage{})
}

func (h *Handler) renderAdmins(w http.ResponseWriter, r *http.Request, acct store.Account, org store.Organization, access store.Access, status int, page adminsPage) {
	members, err := h.svc.accounts.ListOrgMembers(r.Context(), org.ID)
	if err != nil {
		h.serverError(w, r, acct, "list admins failed", err)
		return
	}
	page.Chrome = h.chrome(w, r, acct, "Administrators · "+org.Name)
	page.Flash = adminDone[r.URL.Query().Get("done")]
	page.Org = org
	page.CanChange = access == store.AccessFull
	for _, m := range members {
		page.Rows = append(page.Rows, adminRow{
			AccountID: m.AccountID, Email: m.Account.Email, Access: m.Access,
			Since: web.FormatTime(m.CreatedAt), Self: m.AccountID == acct.ID,
		})
	}
	h.render.Render(w, r, status, "admins.html", page)
}

// adminChange is the start of every POST that changes administrators: a
// valid CSRF token, a full administrator. It answers the request itself
// when ok is false.
func (h *Handler) adminChange(w http.ResponseWriter, r *http.Request) (store.Account, store.Organization, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !h.sessions.VerifyCSRF(r) {
		h.csrfFailed(w, r)
		return store.Account{}, store.Organization{}, false
	}
	acct, org, access, ok := h.orgAccess(w, r)
	if !ok {
		return acct, org, false
	}
	if access != store.AccessFull {
		h.messageFor(w, r, acct, http.StatusForbidden, "Read-only access",
			"Only full administrators of this organization can change its administrators.")
		return acct, org, false
	}
	return acct, org, true
}

// adminError answers a refused change on the administrators page.
func (h *Handler) adminError(w http.ResponseWriter, r *http.Request, acct store.Account, org store.Organization, err error) {
	status := http.StatusBadRequest
	msg := err.Error()
	access := store.AccessFull
	switch {
	case errors.Is(err, ErrNotFullAdmin):
		// Downgraded between the page's check and the service's.
		status, access = http.StatusForbidden, store.AccessReadOnly
	case errors.Is(err, ErrLastFullAdmin), errors.Is(err, ErrAlreadyAdmin):
		status = http.StatusConflict
	case errors.Is(err, ErrNotAdmin):
		status = http.StatusNotFound
	case errors.Is(err, ErrInvalidEmail), errors.Is(err, ErrInvalidAccess):
	default:
		h.serverError(w, r, acct, "admin change failed", err)
		return
	}
	h.renderAdmins(w, r, acct, org, access, status, adminsPage{Error: msg})
}

func (h *Handler) adminInvite(w http.ResponseWriter, r *http.Request) {
	acct, org, ok := h.adminChange(w, r)
	if !ok {
		return
	}
	res, err := h.svc.InviteAdmin(r.Context(), InviteParams{
		OrgID: org.ID, ActorID: acct.ID, Email: r.PostFormValue("email"), Access: store.Access(r.PostFormValue("access")),
	})
	if err != nil {
		h.adminError(w, r, acct, org, err)
		return
	}
	if res.Password != "" {
		// Shown once, on this response only: never in a redirect or a log.
		h.renderAdmins(w, r, acct, org, store.AccessFull, http.StatusOK, adminsPage{Invited: res.Account.Email, Password: res.Password})
		return
	}
	h.redirectAdmins(w, r, org, "added")
}

func (h *Handler) adminSetAccess(w http.ResponseWriter, r *http.Request) {
	acct, org, ok := h.adminChange(w, r)
	if !ok {
		return
	}
	changed, err := h.svc.SetAdminAccess(r.Context(), org.ID, acct.ID, r.PathValue("accountID"), store.Access(r.PostFormValue("access")))
	if err != nil {
		h.adminError(w, r, acct, org, err)
		return
	}
	done := "unchanged"
	if changed {
		done = "access"
	}
	h.redirectAdmins(w, r, org, done)
}

// adminRemoveConfirm asks before removing an administrator.
func (h *Handler) adminRemoveConfirm(w http.ResponseWriter, r *http.Request) {
	acct, org, access, ok := h.orgAccess(w, r)
	if !ok {
		return
	}
	if access != store.AccessFull {
		h.messageFor(w, r, acct, http.StatusForbidden, "Read-only access",
			"Only full administrators of this organization can change its administrators.")
		return
	}
	target, m, err := h.svc.member(r.Context(), org.ID, r.PathValue("accountID"))
	if err != nil {
		h.adminError(w, r, acct, org, err)
		return
	}
	h.render.Render(w, r, http.StatusOK, "admin_remove.html", removeAdminPage{
		Chrome: h.chrome(w, r, acct, "Remove administrator · "+org.Name), Org: org,
		Admin: adminRow{AccountID: target.ID, Email: target.Email, Access: m.Access, Self: target.ID == acct.ID},
	})
}

func (h *Handler) adminRemove(w http.ResponseWriter, r *http.Request) {
	acct, org, ok := h.adminChange(w, r)
	if !ok {
		return
	}
	id := r.PathValue("accountID")
	if err := h.svc.RemoveAdmin(r.Context(), org.ID, acct.ID, id); err != nil {
		h.adminError(w, r, acct, org, err)
		return
	}
	if id == acct.ID {
		http.Redirect(w, r, "/organizations", http.StatusSeeOther)
		return
	}
	h.redirectAdmins(w, r, org, "removed")
}

// adminDone are the flash messages after a change, by the "done" code in
// the redirect: a fixed set, so a link cannot put words on the page.
var adminDone = map[string]string{
	"added":     "Administrator added.",
	"access":    "Access changed.",
	"unchanged": "Access unchanged.",
	"removed":   "Administrator removed.",
}

func (h *Handler) redirectAdmins(w http.ResponseWriter, r *http.Request, org store.Organization, done string) {
	http.Redirect(w, r, "/organizations/"+org.ID+"/admins?done="+done, http.StatusSeeOther)
}

// createOrganization creates an organization from the Organizations page;
// whoever creates it becomes its full administrator.
func (h *Handler) createOrganization(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !h.sessions.VerifyCSRF(r) {
		h.csrfFailed(w, r)
		return
	}
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL("/organizations"), http.StatusSeeOther)
		return
	}
	org, err := h.svc.CreateOrganizationAs(r.Context(), acct.ID, r.PostFormValue("name"))
	if errors.Is(err, ErrInvalidName) {
		h.messageFor(w, r, acct, http.StatusBadRequest, "Organization not created", err.Error()+".")
		return
	}
	if err != nil {
		h.serverError(w, r, acct, "create organization failed", err)
		return
	}
	http.Redirect(w, r, "/organizations/"+org.ID+"/admins", http.StatusSeeOther)
}
