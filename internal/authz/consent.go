package authz

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// consentData is the data of consent.html.
type consentData struct {
	web.Chrome
	ClientName string
	Scopes     []scopeLine
	// Orgs are the organizations the person may grant: those with full
	// access only, as on Meraki.
	Orgs []orgOption
	// ReadOnly is set when the person administers organizations, but none
	// with full access.
	ReadOnly bool
	Hidden   []hiddenField
}

type orgOption struct {
	ID, Name string
	Selected bool
}

type hiddenField struct{ Name, Value string }

// fullAccess returns the organizations of ms where the account has full access.
func fullAccess(ms []store.OrgMembership) []store.OrgMembership {
	return slices.DeleteFunc(slices.Clone(ms), func(m store.OrgMembership) bool { return m.Access != store.AccessFull })
}

// renderConsent shows the consent page. It is asked on every authorization
// and remembers nothing: the organization is chosen per grant.
func (h *Handler) renderConsent(w http.ResponseWriter, r *http.Request, acct store.Account, req authRequest, ms []store.OrgMembership) {
	d := consentData{ClientName: req.Client.Name, Scopes: describeScopes(req.Scopes)}
	d.Title = "Authorize " + req.Client.Name
	d.User = acct.Email
	d.CSRF = h.sessions.CSRFToken(w, r)
	for _, m := range fullAccess(ms) {
		d.Orgs = append(d.Orgs, orgOption{ID: m.OrgID, Name: m.OrgName, Selected: m.OrgID == req.OrgID})
	}
	d.ReadOnly = len(d.Orgs) == 0 && len(ms) > 0
	vals := req.values()
	for _, p := range authParams {
		if v := vals.Get(p); v != "" {
			d.Hidden = append(d.Hidden, hiddenField{p, v})
		}
	}
	h.render(w, r, http.StatusOK, "consent.html", d)
}

// consent is POST /oauth/authorize: the consent form. The request
// parameters it carries are validated again, since the form is in the
// person's (or an attacker's) hands.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !h.readPageForm(w, r) {
		return
	}
	if !h.sessions.VerifyCSRF(r) {
		h.errorPage(w, r, http.StatusForbidden, "The form has expired or did not come from this site. Go back, reload the page and try again.")
		return
	}
	req, err := h.parseAuthRequest(ctx, r.PostForm)
	if err != nil {
		h.authorizeFailed(w, r, req, err)
		return
	}
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL("/oauth/authorize?"+req.values().Encode()), http.StatusSeeOther)
		return
	}
	switch r.PostForm.Get("decision") {
	case "deny":
		h.record(ctx, store.AuditEvent{
			Action: "authorization.denied", ActorAccountID: acct.ID, ActorClientID: req.Client.ID, Target: req.Client.ID,
		})
		h.redirectBack(w, r, req, url.Values{"error": {oauth.ErrAccessDenied.Code}, "error_description": {oauth.ErrAccessDenied.Description}})
	case "approve":
		orgID := r.PostForm.Get("organization_id")
		ms, err := h.st.Accounts().ListAccountMemberships(ctx, acct.ID)
		if err != nil {
			h.authorizeFailed(w, r, req, err)
			return
		}
		if !slices.ContainsFunc(fullAccess(ms), func(m store.OrgMembership) bool { return m.OrgID == orgID }) {
			h.errorPage(w, r, http.StatusBadRequest, "You can only grant access to an organization where you have full access.")
			return
		}
		h.issueCode(w, r, acct, req, orgID, req.Scopes, false)
	default:
		h.errorPage(w, r, http.StatusBadRequest, "Choose Approve or Deny.")
	}
}
