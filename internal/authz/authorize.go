package authz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// authRequest is a validated authorization request (RFC 6749 §4.1.1).
type authRequest struct {
	Client              store.Client
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	// OrgID is organization_id: for a first-party client the organization
	// to grant without a consent page; for others the preselected choice.
	OrgID string
	// OrgBound is token_kind=org, which only a first-party client may send:
	// the grant belongs to the organization (Automation's org-scoped token
	// for scheduled runs), so it outlives its creator's membership. Only a
	// full-access administrator can create one.
	OrgBound bool
}

// pageError is an authorization request error that must be shown to the
// person, never redirected (RFC 6749 §4.1.2.1): the client or the redirect
// URI cannot be trusted.
type pageError struct{ msg string }

func (e *pageError) Error() string { return e.msg }

// authParams are the parameters carried from the authorization request
// through the consent form.
var authParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"}

// parseAuthRequest validates an authorization request. Its error is a
// *pageError until the client and redirect URI are known, then an OAuth
// error to send back to req.RedirectURI with req.State.
func (h *Handler) parseAuthRequest(ctx context.Context, v url.Values) (authRequest, error) {
	var req authRequest
	for _, p := range []string{"client_id", "redirect_uri"} {
		if len(v[p]) > 1 {
			return req, &pageError{"The authorization request repeats the " + p + " parameter."}
		}
	}
	clientID := v.Get("client_id")
	if clientID == "" {
		return req, &pageError{"The authorization request has no client_id. Ask the developer of the integration to fix the link."}
	}
	cl, err := h.clients.get(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return req, &pageError{"The integration asking for access is not registered here. Ask its developer to check the client_id."}
	}
	if err != nil {
		return req, err
	}
	req.Client = cl
	switch ru := v.Get("redirect_uri"); {
	case ru != "" && slices.Contains(cl.RedirectURIs, ru):
		req.RedirectURI = ru
	case ru != "":
		return req, &pageError{"The redirect URI of this request is not registered for " + cl.Name + ", so we will not send you there."}
	case len(cl.RedirectURIs) == 1:
		// RFC 6749 §3.1.2.3: optional when exactly one is registered.
		req.RedirectURI = cl.RedirectURIs[0]
	default:
		return req, &pageError{"The authorization request has no redirect_uri and " + cl.Name + " has several registered."}
	}
	req.State = v.Get("state")

	// From here on, errors go back to the client.
	for _, p := range append(authParams, "organization_id", "token_kind") {
		if len(v[p]) > 1 {
			return req, oauth.InvalidRequest("The " + p + " parameter is repeated.")
		}
	}
	switch rt := v.Get("response_type"); rt {
	case "code":
	case "":
		return req, oauth.InvalidRequest("The response_type parameter is missing.")
	default:
		return req, fmt.Errorf("response_type %q: %w", rt, oauth.ErrUnsupportedResponse)
	}
	req.Scopes, err = parseScope(v.Get("scope"))
	if err != nil {
		return req, err
	}
	if !scope.Subset(req.Scopes, cl.Scopes) {
		return req, fmt.Errorf("scopes %q not registered for client %s: %w", req.Scopes, cl.ID,
			oauth.InvalidScope("Not registered for this integration", scope.Missing(req.Scopes, cl.Scopes)))
	}
	req.Nonce = v.Get("nonce")
	req.CodeChallenge, req.CodeChallengeMethod = v.Get("code_challenge"), v.Get("code_challenge_method")
	switch {
	case req.CodeChallenge == "" && req.CodeChallengeMethod == "":
	case req.CodeChallenge == "":
		return req, oauth.InvalidRequest("code_challenge_method was sent without code_challenge.")
	case req.CodeChallengeMethod != "S256":
		// A challenge without a method means "plain" (RFC 7636 §4.3), which
		// protects nothing once the request is seen; only S256 is accepted.
		return req, oauth.InvalidRequest("Only code_challenge_method=S256 is supported.")
	case !oauth.ValidPKCEValue(req.CodeChallenge):
		return req, oauth.InvalidRequest("The code_challenge is malformed.")
	}
	req.OrgID = v.Get("organization_id")
	switch kind := v.Get("token_kind"); {
	case kind == "" || kind == "user":
	case kind == "org" && cl.FirstParty && req.OrgID != "":
		req.OrgBound = true
	case kind == "org":
		return req, oauth.InvalidRequest("token_kind=org is only for grantflow's own first-party client, with organization_id.")
	default:
		return req, oauth.InvalidRequest("token_kind must be user or org.")
	}
	return req, nil
}

// parseScope parses a requested scope: present, well formed, known.
func parseScope(s string) ([]string, error) {
	list, err := scope.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", oauth.InvalidScope("The scope parameter is malformed", nil), err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no scope requested: %w", oauth.InvalidScope("No scope was requested", nil))
	}
	if unknown := scope.Unknown(list); len(unknown) > 0 {
		return nil, fmt.Errorf("unknown scopes %q: %w", unknown, oauth.InvalidScope("Unknown", unknown))
	}
	return list, nil
}

// values encodes the request for the consent form and the login return.
func (req authRequest) values() url.Values {
	v := url.Values{"response_type": {"code"}, "client_id": {req.Client.ID}, "redirect_uri": {req.RedirectURI}, "scope": {scope.Format(req.Scopes)}}
	for k, s := range map[string]string{"state": req.State, "nonce": req.Nonce, "code_challenge": req.CodeChallenge, "code_challenge_method": req.CodeChallengeMethod} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// authorizeFailed answers a failed authorization request: a page for a
// *pageError, otherwise a redirect with the OAuth error.
func (h *Handler) authorizeFailed(w http.ResponseWriter, r *http.Request, req authRequest, err error) {
	var pe *pageError
	if errors.As(err, &pe) {
		h.lg.InfoContext(r.Context(), "authorization request refused", "client_id", req.Client.ID, "reason", pe.msg)
		h.errorPage(w, r, http.StatusBadRequest, pe.msg)
		return
	}
	e, ok := oauth.As(err)
	if !ok {
		h.lg.ErrorContext(r.Context(), "authorization request failed", "client_id", req.Client.ID, "err", err)
		if req.RedirectURI == "" {
			h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
			return
		}
	} else {
		h.lg.InfoContext(r.Context(), "authorization error", "client_id", req.Client.ID, "error", e.Code, "detail", err.Error())
	}
	h.redirectBack(w, r, req, url.Values{"error": {e.Code}, "error_description": {e.Description}})
}

// redirectBack sends the browser to the client's redirect URI with params,
// the state and the issuer (RFC 9207 §2, against mix-up attacks). A query
// the registered URI has is kept (RFC 6749 §3.1.2). 303 makes the browser
// switch from the consent POST to GET (RFC 9700 §4.11).
func (h *Handler) redirectBack(w http.ResponseWriter, r *http.Request, req authRequest, params url.Values) {
	if req.State != "" {
		params.Set("state", req.State)
	}
	params.Set("iss", h.cfg.Issuer)
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		h.lg.ErrorContext(r.Context(), "registered redirect URI does not parse", "client_id", req.Client.ID, "err", err)
		h.errorPage(w, r, http.StatusInternalServerError, "The integration's redirect URI is invalid.")
		return
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + params.Encode()
	} else {
		u.RawQuery = params.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// authorize is GET /oauth/authorize: validate, make sure someone is logged
// in, then show the consent page (or, for a first-party client naming an
// organization, issue the code at once).
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := h.parseAuthRequest(ctx, r.URL.Query())
	if err != nil {
		h.authorizeFailed(w, r, req, err)
		return
	}
	acct, ok := h.sessions.Current(r)
	if !ok {
		http.Redirect(w, r, web.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	ms, err := h.st.Accounts().ListAccountMemberships(ctx, acct.ID)
	if err != nil {
		h.authorizeFailed(w, r, req, fmt.Errorf("list memberships: %w", err))
		return
	}
	if req.Client.FirstParty && req.OrgID != "" {
		h.authorizeFirstParty(w, r, acct, req, ms)
		return
	}
	h.renderConsent(w, r, acct, req, ms)
}

// authorizeFirstParty grants grantflow's own Automation access without a
// consent page: the person is already using grantflow for that
// organization. A read-only administrator gets only the read scopes asked
// for, so the automation can never do more than its user could.
func (h *Handler) authorizeFirstParty(w http.ResponseWriter, r *http.Request, acct store.Account, req authRequest, ms []store.OrgMembership) {
	i := slices.IndexFunc(ms, func(m store.OrgMembership) bool { return m.OrgID == req.OrgID })
	if i < 0 {
		h.authorizeFailed(w, r, req, fmt.Errorf("account %s is not an admin of org %s: %w", acct.ID, req.OrgID, oauth.ErrAccessDenied))
		return
	}
	scopes := req.Scopes
	if req.OrgBound && ms[i].Access != store.AccessFull {
		h.authorizeFailed(w, r, req, fmt.Errorf("org-scoped token needs full access, account %s has %s: %w", acct.ID, ms[i].Access, oauth.ErrAccessDenied))
		return
	}
	if ms[i].Access != store.AccessFull {
		scopes = scope.ReadOnly(scopes)
		if len(scopes) == 0 {
			h.authorizeFailed(w, r, req, fmt.Errorf("read-only admin, no read scope requested: %w", oauth.ErrAccessDenied))
			return
		}
	}
	h.issueCode(w, r, acct, req, req.OrgID, scopes, true)
}

// issueCode stores an authorization code (RFC 6749 §4.1.2) bound to
// everything the token request must match, and redirects with it.
func (h *Handler) issueCode(w http.ResponseWriter, r *http.Request, acct store.Account, req authRequest, orgID string, scopes []string, firstParty bool) {
	ctx := r.Context()
	now := h.cfg.Now()
	raw, hash := oauth.NewCode()
	err := h.st.Grants().CreateCode(ctx, store.AuthCode{
		Hash: hash, ClientID: req.Client.ID, AccountID: acct.ID, OrgID: orgID,
		RedirectURI: req.RedirectURI, Scopes: scopes, CodeChallenge: req.CodeChallenge,
		Nonce: req.Nonce, CreatedAt: now, ExpiresAt: now.Add(h.cfg.CodeTTL), OrgBound: req.OrgBound,
	})
	if err != nil {
		h.authorizeFailed(w, r, req, fmt.Errorf("store code: %w", err))
		return
	}
	details := map[string]string{"scope": scope.Format(scopes)}
	if firstParty {
		details["first_party"] = "true"
	}
	if req.OrgBound {
		details["token_kind"] = "org"
	}
	h.record(ctx, store.AuditEvent{
		Action: "authorization.granted", ActorAccountID: acct.ID, ActorClientID: req.Client.ID,
		OrgID: orgID, Target: req.Client.ID, Details: details,
	})
	h.redirectBack(w, r, req, url.Values{"code": {raw}})
}
