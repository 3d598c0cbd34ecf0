// Package grants implements the grant types of the token endpoint
// (RFC 6749 §4.1.3 authorization_code with RFC 7636 §4.6 PKCE, and §6
// refresh_token with RFC 9700 §4.14.2 rotation and reuse detection), one
// file per grant type behind the small [Grant] interface. The steps every
// grant type shares (client authentication, parameter and scope parsing,
// the answer, the audit record) are done once by the token endpoint in
// package authz.
package grants

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/store"
)

// Grant is one grant_type of the token endpoint.
type Grant interface {
	// Type is the grant_type value the grant answers to.
	Type() string
	// Exchange validates the request and issues tokens. Errors a client
	// should see are (wrapped) *oauth.Error values.
	Exchange(ctx context.Context, req Request) (Issued, error)
}

// Request is a token request whose client has been authenticated.
type Request struct {
	Client store.Client
	// Form is the request body; each parameter appears at most once.
	Form url.Values
	// Scopes is the parsed scope parameter, nil when it was absent.
	Scopes []string
	Now    time.Time
}

// Issued is what a successful exchange hands back to the endpoint.
type Issued struct {
	Grant        store.Grant
	AccessToken  string // raw, sent to the client once and never kept
	RefreshToken string
	ExpiresAt    time.Time
	Scopes       []string // the access token's scopes
	// Action is the audit action: "token.issued" or "token.refreshed".
	Action string
	// Audited is true when the store already wrote the audit event with
	// the tokens (the one-round-trip refresh).
	Audited bool
}

// Env is what grant types need from the server.
type Env struct {
	Grants store.Grants
	Audit  *audit.Recorder
	// Changed is called after a grant type revoked something as a side
	// effect (code replay, reuse detection, a grace retry): it drops the
	// named grants from this process's caches and syncs the change feed so
	// the revocation takes effect at once everywhere.
	Changed     func(ctx context.Context, grantIDs ...string)
	AccessTTL   time.Duration
	RefreshIdle time.Duration
	Log         *slog.Logger
}

// newPair makes a refresh token and an access token for grant. The access
// token carries accessScopes, which may be narrower than the grant's
// (RFC 6749 §6); the refresh token always stands for the whole grant.
func newPair(env *Env, g store.Grant, parentHash string, accessScopes []string, now time.Time) (store.TokenPair, Issued) {
	refresh, refreshHash := oauth.NewRefreshToken()
	access, accessHash := oauth.NewAccessToken()
	exp := now.Add(env.AccessTTL)
	pair := store.TokenPair{
		Refresh: store.RefreshToken{Hash: refreshHash, GrantID: g.ID, ParentHash: parentHash, CreatedAt: now},
		Access: store.AccessToken{
			Hash: accessHash, GrantID: g.ID, RefreshHash: refreshHash,
			ClientID: g.ClientID, AccountID: g.AccountID, OrgID: g.OrgID,
			Scopes: accessScopes, CreatedAt: now, ExpiresAt: exp,
		},
	}
	return pair, Issued{Grant: g, AccessToken: access, RefreshToken: refresh, ExpiresAt: exp, Scopes: accessScopes}
}

// record writes audit events; a failure is logged by the recorder and does
// not undo what already happened.
func (env *Env) record(ctx context.Context, e store.AuditEvent) {
	_ = env.Audit.Record(ctx, e)
}
