package store

import (
	"context"
	"time"
)

// APIKey is a Dashboard API key of one administrator, stored by hash. It
// acts with its account's organization memberships.
type APIKey struct {
	ID        string // public identifier, used by the page to revoke it
	AccountID string
	Hash      string // hex SHA-256 of the key
	Last4     string // the key's last four characters, to recognise it
	Name      string // what its owner calls it ("" for keys made before names)
	CreatedAt time.Time
	// LastUsedAt is when it last authenticated a request, to the minute
	// (zero: never). It is written at most once a minute per key.
	LastUsedAt time.Time
}

// APIKeys stores API keys. Deletion publishes a ChangeAPIKey change whose
// key is the API key's hash.
type APIKeys interface {
	// CreateAPIKey inserts k unless its account already holds max keys
	// (ErrConflict), atomically even when two creations race.
	CreateAPIKey(ctx context.Context, k APIKey, max int) error
	GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	ListAPIKeys(ctx context.Context, accountID string) ([]APIKey, error)
	// DeleteAPIKey removes accountID's key id and returns it.
	DeleteAPIKey(ctx context.Context, accountID, id string, at time.Time) (APIKey, error)
	// TouchAPIKey sets key id's LastUsedAt to at unless it is already
	// after at-minGap, so many processes write a busy key's last use once
	// per minGap, not once per request.
	TouchAPIKey(ctx context.Context, id string, at time.Time, minGap time.Duration) error
}
