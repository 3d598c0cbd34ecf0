package authz

import (
	"errors"
	"net/http"
	"strings"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// introspection is RFC 7662 §2.2's answer plus Meraki's organization_id.
type introspection struct {
	Active         bool   `json:"active"`
	Scope          string `json:"scope,omitempty"`
	ClientID       string `json:"client_id,omitempty"`
	TokenType      string `json:"token_type,omitempty"`
	Exp            int64  `json:"exp,omitempty"`
	Iat            int64  `json:"iat,omitempty"`
	Sub            string `json:"sub,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
}

// introspect is POST /oauth/introspect (RFC 7662 §2). The caller
// authenticates as a client (§2.1, in withClient); a client sees its own tokens, a
// resource server any token, and everything else reads {"active": false}
// so that nobody learns whether another client's token exists (§4).
// Access tokens go through the [Validator] and its cache.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request, caller store.Client) {
	ctx := r.Context()
	raw := r.PostForm.Get("token")
	if raw == "" {
		oauth.WriteError(w, r, h.lg, oauth.InvalidRequest("The token parameter is missing."))
		return
	}
	allowed := func(clientID string) bool { return caller.ResourceServer || clientID == caller.ID }
	inactive := introspection{}
	switch {
	case strings.HasPrefix(raw, oauth.AccessPrefix):
		tok, err := h.validator.Validate(ctx, raw)
		if errors.Is(err, ErrInvalidToken) || (err == nil && !allowed(tok.ClientID)) {
			oauth.WriteJSON(w, http.StatusOK, inactive)
			return
		}
		if err != nil {
			oauth.WriteError(w, r, h.lg, err)
			return
		}
		oauth.WriteJSON(w, http.StatusOK, introspection{
			Active: true, Scope: scope.Format(tok.Scopes), ClientID: tok.ClientID, TokenType: "Bearer",
			Exp: tok.ExpiresAt.Unix(), Iat: tok.CreatedAt.Unix(), Sub: tok.AccountID, OrganizationID: tok.OrgID,
		})
	case strings.HasPrefix(raw, oauth.RefreshPrefix):
		tok, grant, err := h.st.Grants().GetRefreshToken(ctx, oauth.Hash(raw))
		if errors.Is(err, store.ErrNotFound) {
			oauth.WriteJSON(w, http.StatusOK, inactive)
			return
		}
		if err != nil {
			oauth.WriteError(w, r, h.lg, err)
			return
		}
		// A refresh token has no fixed lifetime: it lapses after RefreshIdle
		// without use, which is what exp reports.
		exp := grant.LastUsedAt.Add(h.cfg.RefreshIdle)
		now := h.cfg.Now()
		if !tok.RevokedAt.IsZero() || !tok.RotatedAt.IsZero() || grant.Revoked() || !now.Before(exp) || !allowed(grant.ClientID) {
			oauth.WriteJSON(w, http.StatusOK, inactive)
			return
		}
		oauth.WriteJSON(w, http.StatusOK, introspection{
			Active: true, Scope: scope.Format(grant.Scopes), ClientID: grant.ClientID, TokenType: "refresh_token",
			Exp: exp.Unix(), Iat: tok.CreatedAt.Unix(), Sub: grant.AccountID, OrganizationID: grant.OrgID,
		})
	default:
		oauth.WriteJSON(w, http.StatusOK, inactive)
	}
}
