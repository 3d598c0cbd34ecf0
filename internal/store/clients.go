package store

import (
	"context"
	"time"
)

// Client is a registered integration (an OAuth 2.0 confidential client).
type Client struct {
	ID             string // client_id, public
	OwnerAccountID string // "" for clients created by the CLI without --owner
	Name           string
	SecretHash     string // hex SHA-256 of the client secret
	RedirectURIs   []string
	Scopes         []string
	ResourceServer bool // may introspect any token
	// FirstParty clients (grantflow's own Automation) may complete the
	// authorization code flow without a consent page.
	FirstParty bool
	// RefreshGrace lets a retry of an already-rotated refresh token succeed
	// within this window (RFC 9700 §4.14.2 allows it; Meraki uses 0).
	RefreshGrace time.Duration
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Clients stores integrations. Updates and deletes publish a ChangeClient change.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients lists every client owned by ownerAccountID, or all when it is "".
	ListClients(ctx context.Context, ownerAccountID string) ([]Client, error)
	// UpdateClient applies update to the stored client in one transaction.
	// ID and CreatedAt cannot change.
	UpdateClient(ctx context.Context, id string, update func(*Client) error) (Client, error)
	// DeleteClient removes the client and revokes every grant it holds.
	DeleteClient(ctx context.Context, id string, at time.Time) error
}
