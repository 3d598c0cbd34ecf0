package authz

import (
	"errors"
	"net/http"
	"slices"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// integrationData is the data of integration.html.
type integrationData struct {
	web.Chrome
	OrgID, OrgName string
	CanRemove      bool
	integrationRow
	// Owner is the email of the account that registered the integration,
	// "" when it was registered on the command line without --owner.
	Owner        string
	RedirectURIs []string
}

// integration is GET /organizations/{orgID}/integrations/{clientID}: one
// integration as this organization sees it. Only an integration with a
// live grant in the organization is shown, so an administrator cannot read
// the details of integrations that never asked for their organization.
func (h *Handler) integration(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct, m, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	fail := func(what string, err error) {
		h.lg.ErrorContext(ctx, what, "org", m.OrgID, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
	}
	org, list, ok := h.orgIntegrations(w, r, m)
	if !ok {
		return
	}
	clientID := r.PathValue("clientID")
	i := slices.IndexFunc(list, func(in store.OrgIntegration) bool { return in.Client.ID == clientID })
	if i < 0 {
		h.errorPage(w, r, http.StatusNotFound, "This integration has no access to this organization (it may have been removed).")
		return
	}
	in := list[i]
	d := integrationData{
		OrgID: org.ID, OrgName: org.Name, CanRemove: m.Access == store.AccessFull,
		integrationRow: integrationRow{
			ClientID: in.Client.ID, Name: in.Client.Name, Scopes: describeScopes(in.Scopes),
			GrantedAt: in.GrantedAt, LastUsedAt: in.LastUsedAt, Grants: in.Grants,
		},
		RedirectURIs: in.Client.RedirectURIs,
	}
	if id := in.Client.OwnerAccountID; id != "" {
		owner, err := h.st.Accounts().GetAccount(ctx, id)
		switch {
		case err == nil:
			d.Owner = owner.Email
		case errors.Is(err, store.ErrNotFound):
			d.Owner = "account " + id + " (deleted)"
		default:
			fail("read owner", err)
			return
		}
	}
	d.Title = in.Client.Name + " · " + org.Name
	d.User = acct.Email
	d.CSRF = h.sessions.CSRFToken(w, r)
	h.render(w, r, http.StatusOK, "integration.html", d)
}
