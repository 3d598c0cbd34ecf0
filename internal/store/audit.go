package store

import (
	"context"
	"time"
)

// AuditEvent is one line of the audit log. It never holds a secret.
type AuditEvent struct {
	ID             int64
	At             time.Time
	Action         string // e.g. "token.issued", "token.refreshed", "token.reuse_detected"
	ActorAccountID string // the person who acted, if any
	ActorClientID  string // the integration that acted, if any
	OrgID          string // the organization concerned, if any
	Target         string // what was acted on: a client id, grant id, account email...
	Details        map[string]string
}

// AuditFilter selects audit events. The result is always newest first;
// BeforeID pages toward older events and AfterID toward newer ones (the
// Limit events just after AfterID, so a "newer" link returns the page that
// preceded the current one).
type AuditFilter struct {
	OrgID          string    // "" for all
	ClientID       string    // the acting integration; "" for all
	Action         string    // exact action, e.g. "token.issued"; "" for all
	ActorAccountID string    // the acting person; "" for all
	Since          time.Time // events at or after; zero for no bound
	Until          time.Time // events before; zero for no bound
	BeforeID       int64     // only ids below; 0 for the newest
	AfterID        int64     // only ids above, the oldest Limit of them; 0 for none
	Limit          int       // 0 means 100
}

// AuditLog stores audit events.
type AuditLog interface {
	AppendAudit(ctx context.Context, events ...AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}

// Change kinds published on the change feed.
const (
	ChangeGrant       = "grant"        // Key: grant id, revoked
	ChangeAccessToken = "access_token" // Key: access token hash, revoked
	ChangeClient      = "client"       // Key: client id, updated, secret rotated or deleted
	ChangeMembership  = "membership"   // Key: "orgID/accountID"
	ChangeSession     = "session"      // Key: session id hash, deleted
	ChangeAPIKey      = "api_key"      // Key: api key hash, revoked
)

// Change is one entry of the change feed that lets every process (replicas,
// and a server whose store a CLI command changed) drop cached state within a
// second. Implementations write changes in the same transaction as the
// mutation they describe.
type Change struct {
	Seq  int64
	Kind string
	Key  string
	At   time.Time
}

// Changes reads and writes the change feed.
type Changes interface {
	PublishChange(ctx context.Context, kind, key string, at time.Time) error
	// ChangesSince returns changes with Seq > seq in order, at most limit.
	ChangesSince(ctx context.Context, seq int64, limit int) ([]Change, error)
	LatestChange(ctx context.Context) (int64, error)
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
}

// Markers records one-time events so that work done once per store (the
// demo data on first start) is done once however many processes start.
type Markers interface {
	// Mark records key and reports whether this call was the first to.
	Mark(ctx context.Context, key string, at time.Time) (first bool, err error)
}
