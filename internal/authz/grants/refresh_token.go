package grants

import (
	"context"
	"errors"
	"fmt"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// RefreshToken is the refresh_token grant (RFC 6749 §6) with rotation and
// reuse detection (RFC 9700 §4.14.2): every use returns a new refresh token
// and retires the presented one; presenting a retired token again is taken
// as theft and revokes the whole family (the grant). A client may have a
// grace window in which a retry of the same token replaces the branch the
// first use created instead, so that only one branch ever lives.
type RefreshToken struct{ env *Env }

// NewRefreshToken returns the refresh_token grant.
func NewRefreshToken(env *Env) *RefreshToken { return &RefreshToken{env: env} }

// Type implements [Grant].
func (*RefreshToken) Type() string { return "refresh_token" }

// Revoke reasons recorded on the grant.
const (
	ReasonReuse = "refresh_token_reuse"
	ReasonIdle  = "refresh_token_idle"
)

// Exchange implements [Grant].
func (g *RefreshToken) Exchange(ctx context.Context, req Request) (Issued, error) {
	raw := req.Form.Get("refresh_token")
	if raw == "" {
		return Issued{}, oauth.InvalidRequest("The refresh_token parameter is missing.")
	}
	if !oauth.LooksLike(raw, oauth.RefreshPrefix) {
		return Issued{}, fmt.Errorf("malformed refresh token: %w", oauth.ErrInvalidGrant)
	}

	if req.Scopes == nil {
		// The common case in one round trip; anything unusual (reuse,
		// grace, idle, revoked, another client's token) declines and takes
		// the full path below, which decides what it means.
		if out, ok, err := g.fast(ctx, req, raw); err != nil || ok {
			return out, err
		}
	}

	var (
		out     Issued
		outcome string // what decide concluded, for the side effects below
	)
	state, err := g.env.Grants.RotateRefresh(ctx, oauth.Hash(raw), req.Now, func(s store.RefreshState) (store.Rotation, error) {
		// decide may run again if the store retries its transaction.
		out, outcome = Issued{}, ""
		switch {
		case s.Grant.ClientID != req.Client.ID:
			return store.Rotation{}, fmt.Errorf("refresh token of client %s presented by %s: %w", s.Grant.ClientID, req.Client.ID, oauth.ErrInvalidGrant)
		case s.Grant.Revoked():
			return store.Rotation{}, fmt.Errorf("grant %s revoked (%s): %w", s.Grant.ID, s.Grant.RevokeReason, oauth.ErrInvalidGrant)
		case !s.Token.RevokedAt.IsZero():
			// Only a grace retry revokes a single refresh token: the first
			// use's child. Its holder and the retry's are two parties with
			// the same family, so this is reuse (RFC 9700 §4.14.2), not a
			// dead end that leaves the retry's branch to whoever made it.
			outcome = ReasonReuse
			return store.Rotation{RevokeGrant: true, RevokeReason: ReasonReuse},
				fmt.Errorf("refresh token revoked by a grace retry presented again, grant %s: %w", s.Grant.ID, oauth.ErrInvalidGrant)
		case req.Now.Sub(s.Grant.LastUsedAt) > g.env.RefreshIdle:
			outcome = ReasonIdle
			return store.Rotation{RevokeGrant: true, RevokeReason: ReasonIdle},
				fmt.Errorf("grant %s idle since %s: %w", s.Grant.ID, s.Grant.LastUsedAt, oauth.ErrInvalidGrant)
		}

		var rot store.Rotation
		if !s.Token.RotatedAt.IsZero() {
			if !inGrace(req, s) {
				outcome = ReasonReuse
				return store.Rotation{RevokeGrant: true, RevokeReason: ReasonReuse},
					fmt.Errorf("rotated refresh token of grant %s presented again: %w", s.Grant.ID, oauth.ErrInvalidGrant)
			}
			// A retry (the answer to the first use was lost): the first
			// use's branch dies and this one replaces it.
			rot.RevokeChild = true
			outcome = "grace"
		}

		accessScopes := s.Grant.Scopes
		if req.Scopes != nil {
			if !scope.Subset(req.Scopes, s.Grant.Scopes) {
				outcome = ""
				return store.Rotation{}, fmt.Errorf("refresh asks for %q beyond the grant's %q: %w", req.Scopes, s.Grant.Scopes,
					oauth.InvalidScope("Not in the grant", scope.Missing(req.Scopes, s.Grant.Scopes)))
			}
			accessScopes = req.Scopes
		}
		var pair store.TokenPair
		pair, out = newPair(g.env, s.Grant, s.Token.Hash, accessScopes, req.Now)
		rot.Issue = &pair
		return rot, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return Issued{}, fmt.Errorf("unknown refresh token: %w", oauth.ErrInvalidGrant)
	}
	switch outcome {
	case ReasonReuse:
		g.env.record(ctx, store.AuditEvent{
			Action: "token.reuse_detected", ActorClientID: req.Client.ID, ActorAccountID: state.Grant.AccountID,
			OrgID: state.Grant.OrgID, Target: state.Grant.ID,
			Details: map[string]string{"grant_id": state.Grant.ID, "reason": ReasonReuse},
		})
		g.env.Changed(ctx, state.Grant.ID)
	case ReasonIdle:
		g.env.record(ctx, store.AuditEvent{
			Action: "token.revoked", ActorClientID: req.Client.ID, ActorAccountID: state.Grant.AccountID,
			OrgID: state.Grant.OrgID, Target: state.Grant.ID,
			Details: map[string]string{"grant_id": state.Grant.ID, "reason": ReasonIdle},
		})
		g.env.Changed(ctx, state.Grant.ID)
	case "grace":
		if err == nil {
			g.env.Changed(ctx) // the replaced branch's access tokens
		}
	}
	if err != nil {
		return Issued{}, err
	}
	out.Action = "token.refreshed"
	return out, nil
}

// inGrace reports whether presenting an already-rotated token is a retry
// within the client's grace window whose first answer may have been lost:
// the window is open and the first use's child has not been used yet.
func inGrace(req Request, s store.RefreshState) bool {
	grace := req.Client.RefreshGrace
	return grace > 0 &&
		req.Now.Sub(s.Token.RotatedAt) <= grace &&
		s.Child != nil && s.Child.RotatedAt.IsZero()
}

// fast tries [store.Grants.RotateRefreshFast].
func (g *RefreshToken) fast(ctx context.Context, req Request, raw string) (Issued, bool, error) {
	refresh, refreshHash := oauth.NewRefreshToken()
	access, accessHash := oauth.NewAccessToken()
	exp := req.Now.Add(g.env.AccessTTL)
	gr, ok, err := g.env.Grants.RotateRefreshFast(ctx, store.FastRotateParams{
		OldHash: oauth.Hash(raw), ClientID: req.Client.ID, Now: req.Now, IdleAfter: req.Now.Add(-g.env.RefreshIdle),
		RefreshHash: refreshHash, AccessHash: accessHash, AccessExpiresAt: exp, AuditAction: "token.refreshed",
	})
	if err != nil || !ok {
		return Issued{}, false, err
	}
	return Issued{Grant: gr, AccessToken: access, RefreshToken: refresh, ExpiresAt: exp, Scopes: gr.Scopes, Action: "token.refreshed", Audited: true}, true, nil
}
