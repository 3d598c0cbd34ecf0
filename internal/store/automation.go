package store

import (
	"context"
	"time"
)

// Tenant roles (Cisco Workflows: Tenant Admin, Content Author, Operator).
type Role string

const (
	RoleTenantAdmin Role = "tenant_admin"
	RoleAuthor      Role = "author"
	RoleOperator    Role = "operator"
	RoleViewer      Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleTenantAdmin, RoleAuthor, RoleOperator, RoleViewer:
		return true
	}
	return false
}

// Tenant is the automation workspace of one organization.
type Tenant struct {
	ID        string
	OrgID     string // unique: one tenant per organization
	Meraki    bool   // has the Meraki - Current Org target
	CreatedBy string // account id, "" for the CLI or a job
	CreatedAt time.Time
}

// TenantRole is a role set explicitly by a tenant admin. Members without
// one have the default their organization access gives.
type TenantRole struct {
	TenantID  string
	AccountID string
	Role      Role
	UpdatedBy string
	UpdatedAt time.Time
}

// Target is an endpoint workflows talk to, as a Cisco Workflows target.
type Target struct {
	ID              string
	TenantID        string
	Name            string // unique in the tenant: "Meraki - Current Org"
	Type            string // "meraki.endpoint"
	Protocol        string // https or http
	Host            string
	Port            int
	BasePath        string // "/api/v1"
	ProxyURL        string // "" for a direct connection
	MetadataVersion string // the Dashboard API catalog hash
	CreatedTrigger  string // first_visit, tenant_created or sync
	CreatedAt       time.Time
	UpdatedAt       time.Time
	SyncedAt        time.Time
	// ExternalID is the export's definition_target_… id of a target an
	// import brought, unique in the tenant; "" for the Current Org target.
	ExternalID string
	Properties []byte // the export's target JSON, opaque to the store
}

// TokenKind tells Automation's two tokens apart.
type TokenKind string

const (
	TokenUser TokenKind = "user" // one per (tenant, account): on-demand runs
	TokenOrg  TokenKind = "org"  // one per tenant: scheduled runs
)

// Token states as shown on pages and in `tenant list`.
const (
	TokenValid           = "valid"
	TokenRefreshing      = "refreshing"
	TokenReconnectNeeded = "reconnect_needed"
	TokenMissing         = "missing" // no row
)

// AutomationToken is one of Automation's refresh tokens with its cached
// access token. Values are sealed by the automation vault with the tenant,
// kind and account as associated data; RefreshHash is the SHA-256 of the
// current refresh token, for recognising an interrupted refresh.
type AutomationToken struct {
	ID        string
	TenantID  string
	OrgID     string
	Kind      TokenKind
	AccountID string // user token: its owner; org token: who created it
	Issuer    string // the authorization server it came from
	ClientID  string
	Scopes    []string // granted at issuance

	RefreshSealed   string
	RefreshHash     string
	AccessSealed    string // "" when there is no usable access token
	AccessExpiresAt time.Time
	AccessScopes    []string // the access token's, narrower than Scopes after a downgrade

	State  string // TokenValid or TokenReconnectNeeded
	Reason string // why reconnect is needed

	CreatedAt   time.Time
	RefreshedAt time.Time
	LastUsedAt  time.Time

	// An in-flight refresh: set before the refresh token is presented, so
	// a process killed mid-refresh leaves a record for the next one.
	InflightHash     string
	InflightAttempts int
	InflightAt       time.Time

	// The refresh lease: who may refresh now, until when.
	LeaseHolder string
	LeaseUntil  time.Time
}

// TokenFilter selects tokens; zero fields match everything.
type TokenFilter struct {
	TenantID        string
	Kind            TokenKind
	RefreshedBefore time.Time
}

// AuthState is a pending authorization request of Automation (the OAuth
// "state"), stored by hash, single use.
type AuthState struct {
	Hash           string
	AccountID      string
	TenantID       string
	OrgID          string
	Kind           TokenKind
	Issuer         string // the authorization server the request went to
	VerifierSealed string // the PKCE code verifier
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// AutomationClient is Automation's own registration as an OAuth client.
type AutomationClient struct {
	Name         string // the row's key: "automation"
	ClientID     string
	SecretSealed string
	RedirectURI  string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// DataKey is a vault data key, wrapped by a master key.
type DataKey struct {
	ID        string
	MasterID  string // which master key wrapped it
	Wrapped   string
	CreatedAt time.Time
}

// Tenants stores tenants and their explicit roles.
type Tenants interface {
	CreateTenant(ctx context.Context, t Tenant) error // ErrConflict when the org has one
	GetTenant(ctx context.Context, id string) (Tenant, error)
	GetTenantByOrg(ctx context.Context, orgID string) (Tenant, error)
	// ListTenants lists every tenant, or orgID's when it is not "".
	ListTenants(ctx context.Context, orgID string) ([]Tenant, error)
	SetTenantMeraki(ctx context.Context, id string, meraki bool) error
	PutRole(ctx context.Context, r TenantRole) error
	ListRoles(ctx context.Context, tenantID string) ([]TenantRole, error)
}

// Targets stores targets.
type Targets interface {
	CreateTarget(ctx context.Context, t Target) error // ErrConflict on a taken name
	GetTarget(ctx context.Context, id string) (Target, error)
	GetTargetByName(ctx context.Context, tenantID, name string) (Target, error)
	// UpsertImportedTarget creates t, keyed by (TenantID, ExternalID), or
	// returns the existing target unchanged: a re-import must not undo an
	// operator's edit. ErrConflict when another target has t's name.
	UpsertImportedTarget(ctx context.Context, t Target) (Target, error)
	ListTargets(ctx context.Context, tenantID string) ([]Target, error)
	// UpdateTarget applies update in one transaction; ExternalID cannot change.
	UpdateTarget(ctx context.Context, id string, update func(*Target) error) (Target, error)
}

// AutomationTokens stores Automation's tokens.
type AutomationTokens interface {
	// PutToken inserts t, or replaces the token with the same tenant, kind
	// and (for user tokens) account, returning the one it replaced.
	PutToken(ctx context.Context, t AutomationToken) (old *AutomationToken, err error)
	// GetToken returns the user token of accountID, or the org token when
	// kind is TokenOrg (accountID is then ignored).
	GetToken(ctx context.Context, tenantID string, kind TokenKind, accountID string) (AutomationToken, error)
	GetTokenByID(ctx context.Context, id string) (AutomationToken, error)
	ListTokens(ctx context.Context, f TokenFilter) ([]AutomationToken, error)
	// UpdateToken applies update to the row under a lock, in one transaction.
	UpdateToken(ctx context.Context, id string, update func(*AutomationToken) error) (AutomationToken, error)
	// AcquireLease takes the refresh lease of token id for holder until
	// until, with one conditional UPDATE: it succeeds when nobody holds it,
	// the holder is holder already, or the lease ran out before now.
	AcquireLease(ctx context.Context, id, holder string, now, until time.Time) (bool, error)
	ReleaseLease(ctx context.Context, id, holder string) error
	DeleteToken(ctx context.Context, id string) error
}

// AuthStates stores pending authorization requests.
type AuthStates interface {
	CreateAuthState(ctx context.Context, s AuthState) error
	// ConsumeAuthState deletes and returns the state with hash; ErrNotFound
	// when it does not exist, was consumed or expired before now.
	ConsumeAuthState(ctx context.Context, hash string, now time.Time) (AuthState, error)
	ListAuthStates(ctx context.Context) ([]AuthState, error)
	ResealAuthState(ctx context.Context, hash, sealed string) error
	DeleteExpiredAuthStates(ctx context.Context, now time.Time) (int64, error)
}

// AutomationClients stores Automation's client registration.
type AutomationClients interface {
	// CreateAutomationClient fails with ErrConflict when the name is taken.
	CreateAutomationClient(ctx context.Context, c AutomationClient) error
	GetAutomationClient(ctx context.Context, name string) (AutomationClient, error)
	UpdateAutomationClient(ctx context.Context, name string, update func(*AutomationClient) error) (AutomationClient, error)
	DeleteAutomationClient(ctx context.Context, name string) error
}

// DataKeys stores the vault's data keys.
type DataKeys interface {
	CreateDataKey(ctx context.Context, k DataKey) error
	ListDataKeys(ctx context.Context) ([]DataKey, error) // oldest first
	DeleteDataKey(ctx context.Context, id string) error
}

// Automation is everything Automation stores.
type Automation interface {
	Tenants
	Targets
	AutomationTokens
	AuthStates
	AutomationClients
	DataKeys
}
