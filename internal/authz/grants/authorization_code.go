package grants

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// AuthorizationCode is the authorization_code grant (RFC 6749 §4.1.3) with
// PKCE (RFC 7636 §4.6). A code is redeemed once; a second use revokes
// every token issued from it (RFC 6749 §4.1.2).
type AuthorizationCode struct{ env *Env }

// NewAuthorizationCode returns the authorization_code grant.
func NewAuthorizationCode(env *Env) *AuthorizationCode { return &AuthorizationCode{env: env} }

// Type implements [Grant].
func (*AuthorizationCode) Type() string { return "authorization_code" }

// Exchange implements [Grant].
func (g *AuthorizationCode) Exchange(ctx context.Context, req Request) (Issued, error) {
	code := req.Form.Get("code")
	if code == "" {
		return Issued{}, oauth.InvalidRequest("The code parameter is missing.")
	}
	if !oauth.LooksLike(code, oauth.CodePrefix) {
		return Issued{}, fmt.Errorf("malformed code: %w", oauth.ErrInvalidGrant)
	}
	redirectURI, hasRedirect := req.Form.Get("redirect_uri"), req.Form.Has("redirect_uri")
	verifier := req.Form.Get("code_verifier")

	var out Issued
	ac, err := g.env.Grants.RedeemCode(ctx, store.RedeemCodeParams{
		CodeHash: oauth.Hash(code),
		Now:      req.Now,
		Check: func(c store.AuthCode) (store.Grant, store.TokenPair, error) {
			if err := g.check(req, c, redirectURI, hasRedirect, verifier); err != nil {
				return store.Grant{}, store.TokenPair{}, err
			}
			scopes := c.Scopes
			if req.Scopes != nil {
				// Meraki's documentation sends scope with the exchange; a
				// narrower one narrows the whole grant (least privilege).
				if !scope.Subset(req.Scopes, c.Scopes) {
					return store.Grant{}, store.TokenPair{}, fmt.Errorf("exchange asks for %q beyond the code's %q: %w", req.Scopes, c.Scopes,
						oauth.InvalidScope("Not granted by this authorization code", scope.Missing(req.Scopes, c.Scopes)))
				}
				scopes = req.Scopes
			}
			grant := store.Grant{
				ID: oauth.NewID(), ClientID: c.ClientID, AccountID: c.AccountID, OrgID: c.OrgID,
				Scopes: scopes, CreatedAt: req.Now, LastUsedAt: req.Now, OrgBound: c.OrgBound,
			}
			var pair store.TokenPair
			pair, out = newPair(g.env, grant, "", scopes, req.Now)
			return grant, pair, nil
		},
	})
	switch {
	case errors.Is(err, store.ErrCodeRedeemed):
		// The store has revoked the grant issued from the first use: the
		// code leaked, so nothing obtained with it may keep working.
		g.env.record(ctx, store.AuditEvent{
			Action: "token.code_replayed", ActorClientID: req.Client.ID, ActorAccountID: ac.AccountID,
			OrgID: ac.OrgID, Target: ac.GrantID,
			Details: map[string]string{"grant_id": ac.GrantID, "code_client_id": ac.ClientID},
		})
		g.env.Changed(ctx, ac.GrantID)
		return Issued{}, fmt.Errorf("code replayed, grant %s revoked: %w", ac.GrantID, oauth.ErrInvalidGrant)
	case errors.Is(err, store.ErrNotFound):
		return Issued{}, fmt.Errorf("unknown code: %w", oauth.ErrInvalidGrant)
	case err != nil:
		return Issued{}, err
	}
	out.Action = "token.issued"
	return out, nil
}

// check binds the code to the request: same client, same redirect URI,
// not expired, and the PKCE verifier matching the challenge.
func (g *AuthorizationCode) check(req Request, c store.AuthCode, redirectURI string, hasRedirect bool, verifier string) error {
	if c.ClientID != req.Client.ID {
		return fmt.Errorf("code of client %s presented by %s: %w", c.ClientID, req.Client.ID, oauth.ErrInvalidGrant)
	}
	if !req.Now.Before(c.ExpiresAt) {
		return fmt.Errorf("code expired at %s: %w", c.ExpiresAt, oauth.ErrInvalidGrant)
	}
	// RFC 6749 §4.1.3: redirect_uri is required when the authorization
	// request carried it. The code does not record whether it did, so an
	// omitted one is accepted only when the client has a single registered
	// URI, the one the authorization endpoint defaults to.
	if hasRedirect || len(req.Client.RedirectURIs) != 1 {
		if subtle.ConstantTimeCompare([]byte(redirectURI), []byte(c.RedirectURI)) != 1 {
			return fmt.Errorf("redirect_uri %q does not match the code's: %w", redirectURI, oauth.ErrInvalidGrant)
		}
	} else if c.RedirectURI != req.Client.RedirectURIs[0] {
		return fmt.Errorf("redirect_uri omitted and the code's is no longer the client's only one: %w", oauth.ErrInvalidGrant)
	}
	if !oauth.VerifyPKCE(c.CodeChallenge, verifier) {
		return fmt.Errorf("PKCE verification failed (challenge set: %t, verifier set: %t): %w",
			c.CodeChallenge != "", verifier != "", oauth.ErrInvalidGrant)
	}
	return nil
}
