package store

import (
	"context"
	"time"
)

// Access is an administrator's privilege in one organization.
type Access string

const (
	AccessFull     Access = "full"
	AccessReadOnly Access = "read-only"
)

// Valid reports whether a is a known access level.
func (a Access) Valid() bool { return a == AccessFull || a == AccessReadOnly }

// Organization is a Meraki organization: the unit a grant is made for.
type Organization struct {
	ID        string // numeric string, as Meraki's
	Name      string
	CreatedAt time.Time
}

// Organizations stores organizations.
type Organizations interface {
	CreateOrganization(ctx context.Context, o Organization) error
	GetOrganization(ctx context.Context, id string) (Organization, error)
	ListOrganizations(ctx context.Context) ([]Organization, error)
	// CountOrganizations is used on first start to decide whether to create demo data.
	CountOrganizations(ctx context.Context) (int, error)
}

// Account is a person who logs in: an administrator of zero or more
// organizations and the owner of zero or more integrations.
type Account struct {
	ID           string
	Email        string // lower-cased
	Name         string
	PasswordHash string // PHC string (argon2id)
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Membership gives an account access to one organization.
type Membership struct {
	OrgID     string
	AccountID string
	Access    Access
	CreatedAt time.Time
}

// OrgMembership is a membership joined with its organization's name.
type OrgMembership struct {
	Membership
	OrgName string
}

// Member is a membership joined with its account.
type Member struct {
	Membership
	Account Account
}

// Accounts stores accounts and their organization memberships.
type Accounts interface {
	CreateAccount(ctx context.Context, a Account) error // ErrConflict on a taken email
	GetAccount(ctx context.Context, id string) (Account, error)
	GetAccountByEmail(ctx context.Context, email string) (Account, error)
	SetPasswordHash(ctx context.Context, accountID, hash string, at time.Time) error
	// PutMembership creates or updates (access level) a membership. Changing
	// or removing a membership publishes a ChangeMembership change.
	PutMembership(ctx context.Context, m Membership) error
	DeleteMembership(ctx context.Context, orgID, accountID string) error
	GetMembership(ctx context.Context, orgID, accountID string) (Membership, error)
	ListAccountMemberships(ctx context.Context, accountID string) ([]OrgMembership, error)
	ListOrgMembers(ctx context.Context, orgID string) ([]Member, error)
}

// Session is a logged-in browser. IDHash is the SHA-256 of the cookie value.
type Session struct {
	IDHash     string
	AccountID  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute lifetime
	IP         string    // the client address at login, "" if unknown
	UserAgent  string    // the browser's User-Agent at login, truncated
}

// Sessions stores dashboard login sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, idHash string) (Session, error)
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	DeleteAccountSessions(ctx context.Context, accountID string) error
	// DeleteOtherSessions deletes every session of accountID except
	// keepIDHash and returns how many it deleted.
	DeleteOtherSessions(ctx context.Context, accountID, keepIDHash string) (int64, error)
	// ListAccountSessions returns the sessions of accountID, most recently
	// used first, expired ones included until they are cleaned up.
	ListAccountSessions(ctx context.Context, accountID string) ([]Session, error)
	// DeleteExpiredSessions removes sessions idle since before idleBefore or
	// past their absolute expiry at now.
	DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int64, error)
}
