package authz

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/store"
)

// RevokeReasonClient is the reason recorded on a grant its client revoked.
const RevokeReasonClient = "revoked_by_client"

// revoke is POST /oauth/revoke (RFC 7009 §2). Revoking a refresh token
// revokes its whole grant, every access token included, at once (Meraki
// lets access tokens live up to 10 more minutes; we do not). Revoking an
// access token revokes only it. Unknown tokens are answered 200 (§2.2);
// a token of another client is refused and nothing is revoked (§2.1).
// token_type_hint is accepted but not needed: the prefix tells the type.
// withClient has read the form and authenticated client.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, client store.Client) {
	ctx := r.Context()
	raw := r.PostForm.Get("token")
	if raw == "" {
		oauth.WriteError(w, r, h.lg, oauth.InvalidRequest("The token parameter is missing."))
		return
	}
	now := h.cfg.Now()
	hash := oauth.Hash(raw)
	switch {
	case strings.HasPrefix(raw, oauth.RefreshPrefix):
		_, grant, err := h.st.Grants().GetRefreshToken(ctx, hash)
		if err != nil {
			h.revokeLookupFailed(w, r, err)
			return
		}
		if grant.ClientID != client.ID {
			oauth.WriteError(w, r, h.lg, fmt.Errorf("client %s revoking a token of %s: %w", client.ID, grant.ClientID, oauth.ErrUnauthorizedClient))
			return
		}
		if !grant.Revoked() {
			if err := h.st.Grants().RevokeGrant(ctx, grant.ID, RevokeReasonClient, now); err != nil {
				oauth.WriteError(w, r, h.lg, err)
				return
			}
			h.record(ctx, store.AuditEvent{
				Action: "token.revoked", ActorClientID: client.ID, ActorAccountID: grant.AccountID, OrgID: grant.OrgID,
				Target: grant.ID, Details: map[string]string{"grant_id": grant.ID, "token_type": "refresh_token"},
			})
			h.changed(ctx, grant.ID)
		}
	case strings.HasPrefix(raw, oauth.AccessPrefix):
		tok, _, err := h.st.Grants().GetAccessToken(ctx, hash)
		if err != nil {
			h.revokeLookupFailed(w, r, err)
			return
		}
		if tok.ClientID != client.ID {
			oauth.WriteError(w, r, h.lg, fmt.Errorf("client %s revoking a token of %s: %w", client.ID, tok.ClientID, oauth.ErrUnauthorizedClient))
			return
		}
		if tok.RevokedAt.IsZero() {
			if err := h.st.Grants().RevokeAccessToken(ctx, hash, now); err != nil {
				oauth.WriteError(w, r, h.lg, err)
				return
			}
			h.record(ctx, store.AuditEvent{
				Action: "token.revoked", ActorClientID: client.ID, ActorAccountID: tok.AccountID, OrgID: tok.OrgID,
				Target: tok.GrantID, Details: map[string]string{"grant_id": tok.GrantID, "token_type": "access_token"},
			})
			h.validator.dropToken(hash)
			h.changed(ctx)
		}
	}
	oauth.NoStore(w)
	w.WriteHeader(http.StatusOK)
}

// revokeLookupFailed answers 200 for an unknown token (RFC 7009 §2.2: the
// client cannot do anything about it) and server_error otherwise.
func (h *Handler) revokeLookupFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		oauth.NoStore(w)
		w.WriteHeader(http.StatusOK)
		return
	}
	oauth.WriteError(w, r, h.lg, err)
}
