package store

import (
	"context"
	"errors"
	"time"
)

// ErrCodeRedeemed is returned by [Grants.RedeemCode] when the code was used
// before. The store has already revoked the grant issued from it.
var ErrCodeRedeemed = errors.New("store: authorization code already redeemed")

// AuthCode is an authorization code (RFC 6749 §4.1.2), stored by hash.
type AuthCode struct {
	Hash          string
	ClientID      string
	AccountID     string
	OrgID         string
	RedirectURI   string
	Scopes        []string
	CodeChallenge string // S256 challenge, "" when PKCE was not used
	Nonce         string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RedeemedAt    time.Time // zero until redeemed
	GrantID       string    // the grant issued from it, once redeemed
	// OrgBound codes issue org-bound grants (see [Grant.OrgBound]).
	OrgBound bool
}

// Grant is one authorization: a client's access to one organization on
// behalf of the account that approved it. Every refresh and access token
// issued from it belongs to it: the grant is the token family of RFC 9700
// §4.14, and revoking it revokes them all.
type Grant struct {
	ID           string
	ClientID     string
	AccountID    string
	OrgID        string
	Scopes       []string
	CreatedAt    time.Time
	LastUsedAt   time.Time // last refresh (or issuance)
	RevokedAt    time.Time // zero while live
	RevokeReason string
	// OrgBound grants belong to the organization rather than to the person
	// who created them (Automation's org-scoped token): they are not limited
	// by, nor revoked with, AccountID's own access.
	OrgBound bool
}

// Revoked reports whether the grant was revoked.
func (g Grant) Revoked() bool { return !g.RevokedAt.IsZero() }

// RefreshToken is one link of a grant's refresh-token chain, stored by hash.
// Rotated tokens are kept (with RotatedAt and ChildHash set) for as long as
// the grant lives so that a replay is always detected.
type RefreshToken struct {
	Hash       string
	GrantID    string
	ParentHash string
	CreatedAt  time.Time
	RotatedAt  time.Time // zero while current
	ChildHash  string    // the token that replaced it
	RevokedAt  time.Time
}

// AccessToken is a bearer token, stored by hash.
type AccessToken struct {
	Hash        string
	GrantID     string
	RefreshHash string // the refresh token issued with it
	ClientID    string
	AccountID   string
	OrgID       string
	Scopes      []string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	RevokedAt   time.Time
	// OrgBound is the grant's (read, not stored, with the token).
	OrgBound bool
}

// TokenPair is a refresh token and an access token to insert together.
type TokenPair struct {
	Refresh RefreshToken
	Access  AccessToken
}

// RedeemCodeParams are the arguments of [Grants.RedeemCode].
type RedeemCodeParams struct {
	CodeHash string
	Now      time.Time
	// Check validates the code against the token request (client, redirect
	// URI, expiry, PKCE) and returns the grant and first token pair to create.
	// If it fails, the code stays unredeemed and the error is returned.
	Check func(code AuthCode) (Grant, TokenPair, error)
}

// RefreshState is what [Grants.RotateRefresh] shows its decide function:
// the presented token, its grant and, if it was rotated, its child.
type RefreshState struct {
	Token RefreshToken
	Grant Grant
	Child *RefreshToken
}

// Rotation is decide's verdict in [Grants.RotateRefresh].
type Rotation struct {
	// RevokeGrant revokes the whole family (reuse detected, idle too long).
	RevokeGrant  bool
	RevokeReason string
	// RevokeChild revokes the presented token's child and its access tokens
	// (a retry within the grace window replaces that branch).
	RevokeChild bool
	// Issue, if set, marks the presented token rotated to Issue.Refresh and
	// inserts the pair.
	Issue *TokenPair
}

// FastRotateParams are the arguments of [Grants.RotateRefreshFast].
type FastRotateParams struct {
	OldHash         string
	ClientID        string
	Now             time.Time
	IdleAfter       time.Time
	RefreshHash     string
	AccessHash      string
	AccessExpiresAt time.Time
	// AuditAction, if set, appends an audit event in the same statement:
	// that action by the client, for the grant's account and organization,
	// with the grant id and scope as details.
	AuditAction string
}

// OrgIntegration summarises one client's live grants in one organization.
type OrgIntegration struct {
	Client     Client
	Scopes     []string // union over live grants
	GrantedAt  time.Time
	LastUsedAt time.Time
	Grants     int
}

// Grants stores authorization codes, grants and tokens. Every revocation
// publishes changes (ChangeGrant or ChangeAccessToken) in its transaction.
type Grants interface {
	CreateCode(ctx context.Context, c AuthCode) error
	// RedeemCode redeems a code once, in one transaction. A second
	// redemption revokes the grant issued by the first and returns
	// ErrCodeRedeemed with that code.
	RedeemCode(ctx context.Context, p RedeemCodeParams) (AuthCode, error)
	// RotateRefresh loads the refresh token with hash, its grant and child
	// under a lock, calls decide, and applies the verdict, all in one
	// transaction. If decide returns an error, revocations in the verdict are
	// still committed and the error is returned. ErrNotFound for an unknown hash.
	RotateRefresh(ctx context.Context, hash string, now time.Time, decide func(RefreshState) (Rotation, error)) (RefreshState, error)
	// RotateRefreshFast is the common case of a refresh in one round trip:
	// the presented token is its grant's current one, unrevoked, the grant
	// is live, belongs to p.ClientID and was used at or after p.IdleAfter.
	// Then the token is rotated to p.RefreshHash, an access token with the
	// grant's scopes is issued, and the grant is returned with ok. Otherwise
	// nothing changes, ok is false, and the caller takes [Grants.RotateRefresh],
	// which decides what the unusual case means (reuse, grace, idle...).
	RotateRefreshFast(ctx context.Context, p FastRotateParams) (g Grant, ok bool, err error)
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, Grant, error)
	// GetAccessToken returns the token and its grant.
	GetAccessToken(ctx context.Context, hash string) (AccessToken, Grant, error)
	GetGrant(ctx context.Context, id string) (Grant, error)
	RevokeGrant(ctx context.Context, id, reason string, at time.Time) error
	RevokeAccessToken(ctx context.Context, hash string, at time.Time) error
	// RevokeClientOrgGrants revokes every live grant of clientID in orgID and
	// returns their ids.
	RevokeClientOrgGrants(ctx context.Context, clientID, orgID, reason string, at time.Time) ([]string, error)
	// RevokeAccountOrgGrants revokes every live grant accountID made in orgID
	// (the account lost the organization), except org-bound ones.
	RevokeAccountOrgGrants(ctx context.Context, accountID, orgID, reason string, at time.Time) ([]string, error)
	ListOrgIntegrations(ctx context.Context, orgID string) ([]OrgIntegration, error)
	// ListAccountGrants lists live grants made by accountID.
	ListAccountGrants(ctx context.Context, accountID string) ([]Grant, error)
	// Cleanup deletes expired codes, expired access tokens, and grants (with
	// all their tokens) that were revoked before revokedBefore or not used
	// since idleBefore (no refresh token of theirs can still be replayed).
	Cleanup(ctx context.Context, p CleanupParams) (CleanupResult, error)
}

// CleanupParams are the arguments of [Grants.Cleanup].
type CleanupParams struct {
	Now time.Time
	// CodesExpiredBefore: codes are kept a while past expiry so that a late
	// replay still revokes the tokens issued from them.
	CodesExpiredBefore time.Time
	RevokedBefore      time.Time
	IdleBefore         time.Time
}

// CleanupResult counts what [Grants.Cleanup] deleted.
type CleanupResult struct {
	Codes, AccessTokens, Grants int64
}
