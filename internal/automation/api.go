package automation

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// The JSON API serves the same as the pages to the logged-in person (the
// dashboard session; changes need the X-CSRF-Token header). Tenants are
// addressed by id, and a tenant of an organization the caller does not
// administer answers 404, as one that does not exist.

func (h *Handler) apiAccount(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	acct, ok := h.sessions.Current(r)
	if !ok || acct.ID == "" {
		web.JSONError(w, http.StatusUnauthorized, "log in first")
		return store.Account{}, false
	}
	if r.Method != http.MethodGet && !h.sessions.VerifyCSRF(r) {
		web.JSONError(w, http.StatusForbidden, "missing or wrong X-CSRF-Token header")
		return store.Account{}, false
	}
	return acct, true
}

// apiTenant is the start of every call on /api/automation/tenants/{id}:
// the caller (see apiAccount) and tenant {id} if the caller administers its
// organization; one they do not administer answers 404, as one that does
// not exist, so that ids cannot be probed.
func (h *Handler) apiTenant(w http.ResponseWriter, r *http.Request) (store.Account, store.Tenant, bool) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return acct, store.Tenant{}, false
	}
	t, err := h.svc.auto.GetTenant(r.Context(), r.PathValue("id"))
	if err == nil {
		if _, _, err = h.svc.RoleOf(r.Context(), t, acct.ID); err == nil {
			return acct, t, true
		}
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrForbidden) {
		web.JSONError(w, http.StatusNotFound, "no such tenant")
	} else {
		h.apiFail(w, r, err)
	}
	return acct, t, false
}

func (h *Handler) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrForbidden):
		web.JSONError(w, http.StatusForbidden, "your role in this tenant does not allow that")
	case errors.Is(err, ErrInvalid):
		web.JSONError(w, http.StatusBadRequest, plain(err))
	case errors.Is(err, keeper.ErrMissing):
		web.JSONError(w, http.StatusNotFound, "no such token")
	default:
		h.lg.ErrorContext(r.Context(), "automation API request failed", "err", err)
		web.JSONError(w, http.StatusInternalServerError, "internal error")
	}
}

// decode reads a small strict JSON body.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := web.ReadJSONBody(w, r, 64<<10)
	var be *web.BodyError
	if errors.As(err, &be) {
		web.JSONError(w, be.Status, be.Msg)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		web.JSONError(w, http.StatusBadRequest, "the body must be a JSON object with the documented fields")
		return false
	}
	return true
}

// apiList is GET /api/automation/tenants: the tenants of the caller's
// organizations.
func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	ms, err := h.svc.st.Accounts().ListAccountMemberships(r.Context(), acct.ID)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := []TenantView{}
	for _, m := range ms {
		t, err := h.svc.auto.GetTenantByOrg(r.Context(), m.OrgID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			h.apiFail(w, r, err)
			return
		}
		v, err := h.svc.View(r.Context(), t, &acct)
		if err != nil {
			h.apiFail(w, r, err)
			return
		}
		out = append(out, v)
	}
	web.JSON(w, http.StatusOK, out)
}

// apiCreate is POST /api/automation/tenants {"org_id", "meraki"}: a
// full-access admin creates their organization's tenant (idempotent).
func (h *Handler) apiCreate(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	var body struct {
		OrgID  string `json:"org_id"`
		Meraki bool   `json:"meraki"`
	}
	if !decode(w, r, &body) {
		return
	}
	m, err := h.svc.st.Accounts().GetMembership(r.Context(), body.OrgID, acct.ID)
	if errors.Is(err, store.ErrNotFound) || body.OrgID == "" {
		web.JSONError(w, http.StatusNotFound, "you do not administer that organization")
		return
	}
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	if m.Access != store.AccessFull {
		web.JSONError(w, http.StatusForbidden, "creating a tenant needs full organization access")
		return
	}
	_, existed := h.svc.auto.GetTenantByOrg(r.Context(), body.OrgID)
	t, err := h.svc.EnsureTenant(r.Context(), body.OrgID, body.Meraki, TriggerTenantCreated, acct.ID)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	v, err := h.svc.View(r.Context(), t, &acct)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	status := http.StatusOK
	if errors.Is(existed, store.ErrNotFound) {
		status = http.StatusCreated
	}
	web.JSON(w, status, v)
}

// apiGet is GET /api/automation/tenants/{id}.
func (h *Handler) apiGet(w http.ResponseWriter, r *http.Request) {
	acct, t, ok := h.apiTenant(w, r)
	if !ok {
		return
	}
	v, err := h.svc.View(r.Context(), t, &acct)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, v)
}

// apiTest is POST /api/automation/tenants/{id}/test {"token": "user"|"org"}.
func (h *Handler) apiTest(w http.ResponseWriter, r *http.Request) {
	acct, t, ok := h.apiTenant(w, r)
	if !ok {
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	if !decode(w, r, &body) {
		return
	}
	kind, ok := parseKind(body.Token)
	if !ok {
		web.JSONError(w, http.StatusBadRequest, `token must be "user" or "org"`)
		return
	}
	res, err := h.svc.TestConnection(r.Context(), acct, t, kind)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, res)
}

// apiDeleteToken is DELETE /api/automation/tenants/{id}/tokens/{kind}: the
// caller's own User token, or (tenant_admin) the Org-scoped token.
func (h *Handler) apiDeleteToken(w http.ResponseWriter, r *http.Request) {
	acct, t, ok := h.apiTenant(w, r)
	if !ok {
		return
	}
	kind, ok := parseKind(r.PathValue("kind"))
	if !ok {
		web.JSONError(w, http.StatusNotFound, "no such token")
		return
	}
	if err := h.svc.DeleteToken(r.Context(), acct, t, kind); err != nil {
		h.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type memberJSON struct {
	AccountID string `json:"account_id"`
	Email     string `json:"email"`
	Access    string `json:"access"`
	Role      string `json:"role"`
	Default   bool   `json:"default"`
}

// apiRoles is GET /api/automation/tenants/{id}/roles.
func (h *Handler) apiRoles(w http.ResponseWriter, r *http.Request) {
	_, t, ok := h.apiTenant(w, r)
	if !ok {
		return
	}
	members, err := h.svc.Members(r.Context(), t)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := make([]memberJSON, 0, len(members))
	for _, m := range members {
		out = append(out, memberJSON{AccountID: m.Account.ID, Email: m.Account.Email, Access: string(m.Access), Role: string(m.Role), Default: !m.Set})
	}
	web.JSON(w, http.StatusOK, out)
}

// apiSetRole is PUT /api/automation/tenants/{id}/roles/{accountID} {"role"}.
func (h *Handler) apiSetRole(w http.ResponseWriter, r *http.Request) {
	acct, t, ok := h.apiTenant(w, r)
	if !ok {
		return
	}
	var body struct {
		Role string `json:"role"`
	}
	if !decode(w, r, &body) {
		return
	}
	if err := h.svc.SetRole(r.Context(), t, acct.ID, r.PathValue("accountID"), store.Role(body.Role)); err != nil {
		h.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
