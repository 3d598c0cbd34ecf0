package authz

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// RevokeReasonRemoved is the reason recorded on grants an administrator
// removed on the Integrations page.
const RevokeReasonRemoved = "removed_by_admin"

// integrationsData is the data of integrations.html.
type integrationsData struct {
	web.Chrome
	OrgID, OrgName string
	// CanRemove is false for read-only administrators, who may look only.
	CanRemove    bool
	Integrations []integrationRow
}

type integrationRow struct {
	ClientID, Name        string
	Scopes                []scopeLine
	GrantedAt, LastUsedAt time.Time
	Grants                int
}

// orgAdmin returns the logged-in account and its membership of the
// request's organization. It answers the request itself (login redirect,
// 404 for non-members, so organizations cannot be probed) when ok is false.
func (h *Handler) orgAdmin(w http.ResponseWriter, r *http.Request) (acct store.Account, m store.Membership, ok bool) {
	orgID := r.PathValue("orgID")
	acct, ok = h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL("/organizations/"+orgID+"/integrations"), http.StatusSeeOther)
		return acct, m, false
	}
	m, err := h.st.Accounts().GetMembership(r.Context(), orgID, acct.ID)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "There is no such organization, or you are not one of its administrators.")
		return acct, m, false
	}
	if err != nil {
		h.lg.ErrorContext(r.Context(), "read membership", "org", orgID, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return acct, m, false
	}
	return acct, m, true
}

// orgIntegrations reads m's organization and its integrations with a live
// grant; on failure it answers the page itself.
func (h *Handler) orgIntegrations(w http.ResponseWriter, r *http.Request, m store.Membership) (store.Organization, []store.OrgIntegration, bool) {
	ctx := r.Context()
	fail := func(what string, err error) {
		h.lg.ErrorContext(ctx, what, "org", m.OrgID, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
	}
	org, err := h.st.Organizations().GetOrganization(ctx, m.OrgID)
	if err != nil {
		fail("read organization", err)
		return store.Organization{}, nil, false
	}
	list, err := h.st.Grants().ListOrgIntegrations(ctx, m.OrgID)
	if err != nil {
		fail("list integrations", err)
		return store.Organization{}, nil, false
	}
	return org, list, true
}

// integrations is GET /organizations/{orgID}/integrations: every
// integration with a live grant in the organization (Meraki's
// Organization > Integrations).
func (h *Handler) integrations(w http.ResponseWriter, r *http.Request) {
	acct, m, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	org, list, ok := h.orgIntegrations(w, r, m)
	if !ok {
		return
	}
	d := integrationsData{OrgID: org.ID, OrgName: org.Name, CanRemove: m.Access == store.AccessFull}
	d.Title = "Integrations · " + org.Name
	d.User = acct.Email
	d.CSRF = h.sessions.CSRFToken(w, r)
	if r.URL.Query().Get("removed") != "" {
		d.Flash = "The integration was removed. Its tokens for this organization no longer work."
	}
	for _, in := range list {
		d.Integrations = append(d.Integrations, integrationRow{
			ClientID: in.Client.ID, Name: in.Client.Name, Scopes: describeScopes(in.Scopes),
			GrantedAt: in.GrantedAt, LastUsedAt: in.LastUsedAt, Grants: in.Grants,
		})
	}
	h.render(w, r, http.StatusOK, "integrations.html", d)
}

// removeData is the data of remove.html.
type removeData struct {
	web.Chrome
	OrgID, OrgName, ClientID, Name string
}

// confirmRemove is GET /organizations/{orgID}/integrations/{clientID}/remove:
// Remove asks first, as deleting an integration or rotating its secret does.
func (h *Handler) confirmRemove(w http.ResponseWriter, r *http.Request) {
	acct, m, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	if m.Access != store.AccessFull {
		h.errorPage(w, r, http.StatusForbidden, "Only administrators with full access can remove an integration.")
		return
	}
	org, list, ok := h.orgIntegrations(w, r, m)
	if !ok {
		return
	}
	clientID := r.PathValue("clientID")
	i := slices.IndexFunc(list, func(in store.OrgIntegration) bool { return in.Client.ID == clientID })
	if i < 0 {
		h.errorPage(w, r, http.StatusNotFound, "This integration has no access to this organization (it may have been removed already).")
		return
	}
	d := removeData{OrgID: org.ID, OrgName: org.Name, ClientID: clientID, Name: list[i].Client.Name}
	d.Title = "Remove " + d.Name + "?"
	d.User = acct.Email
	d.CSRF = h.sessions.CSRFToken(w, r)
	h.render(w, r, http.StatusOK, "remove.html", d)
}

// removeIntegration is POST /organizations/{orgID}/integrations/{clientID}/remove:
// revoke every grant the integration holds in the organization. Unlike
// Meraki, its access tokens stop working at once.
func (h *Handler) removeIntegration(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !h.readPageForm(w, r) {
		return
	}
	acct, m, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	if !h.sessions.VerifyCSRF(r) {
		h.errorPage(w, r, http.StatusForbidden, "The form has expired or did not come from this site. Go back, reload the page and try again.")
		return
	}
	if m.Access != store.AccessFull {
		h.errorPage(w, r, http.StatusForbidden, "Only administrators with full access can remove an integration.")
		return
	}
	clientID := r.PathValue("clientID")
	ids, err := h.st.Grants().RevokeClientOrgGrants(ctx, clientID, m.OrgID, RevokeReasonRemoved, h.cfg.Now())
	if err != nil {
		h.lg.ErrorContext(ctx, "remove integration", "org", m.OrgID, "client", clientID, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. The integration was not removed.")
		return
	}
	h.changed(ctx, ids...)
	h.record(ctx, store.AuditEvent{
		Action: "integration.removed", ActorAccountID: acct.ID, ActorClientID: clientID, OrgID: m.OrgID,
		Target: clientID, Details: map[string]string{"grants_revoked": strconv.Itoa(len(ids))},
	})
	http.Redirect(w, r, "/organizations/"+m.OrgID+"/integrations?removed=1", http.StatusSeeOther)
}
