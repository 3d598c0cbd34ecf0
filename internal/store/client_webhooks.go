package store

import (
	"context"
	"time"
)

// Integration webhook event types: what grantflow tells an integration
// when its access ends (package webhooks delivers them).
const (
	EventGrantRevoked        = "grant.revoked"
	EventGrantRemoved        = "grant.removed"
	EventClientSecretRotated = "client.secret_rotated"
	EventClientDeleted       = "client.deleted"
)

// RevokeReasonRemoved is the reason on grants an administrator removed
// from an organization (Organization > Integrations); their event is
// [EventGrantRemoved] rather than [EventGrantRevoked].
const RevokeReasonRemoved = "removed_by_admin"

// Reasons of the events that no grant revocation carries.
const (
	ReasonIdleExpired   = "idle_expired"   // the janitor deleted a grant unused past the refresh idle limit
	ReasonSecretRotated = "secret_rotated" // client.secret_rotated
	ReasonClientDeleted = "client_deleted" // client.deleted
)

// GrantEventType is the event a grant revoked for reason becomes.
func GrantEventType(reason string) string {
	if reason == RevokeReasonRemoved {
		return EventGrantRemoved
	}
	return EventGrantRevoked
}

// ClientWebhook is where an integration's events go. It is kept after its
// client is deleted, until the client.deleted event has been delivered.
type ClientWebhook struct {
	ClientID  string
	URL       string
	SecretBox string // the signing secret, sealed by the vault
	Enabled   bool
	// DisabledReason says why deliveries stopped ("" while enabled).
	DisabledReason string
	// ConsecutiveFailures counts failed attempts since the last success;
	// FailingSince is the first of them (zero when the last one succeeded).
	ConsecutiveFailures int
	FailingSince        time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Webhook event states.
const (
	WebhookPending   = "pending"
	WebhookDelivered = "delivered"
	WebhookFailed    = "failed" // given up: too old, or the endpoint was disabled
)

// WebhookEvent is one event in the outbox: written in the transaction of
// the change it reports, delivered (at least once) from there.
type WebhookEvent struct {
	ID       string // the webhook-id header, "msg_…"
	ClientID string
	Type     string
	OrgID    string
	GrantID  string
	Reason   string
	// CreatedAt is when it happened (the body's timestamp).
	CreatedAt time.Time
	State     string
	Attempts  int
	// NextAttemptAt is when a pending event is due.
	NextAttemptAt time.Time
	// Lease is the claim of the delivery under way ("" when none) and
	// LeaseUntil when it lapses, so that a delivery lost with its process
	// is taken up again.
	Lease      string
	LeaseUntil time.Time
	DoneAt     time.Time // delivered or given up
}

// WebhookAttempt is one POST of an event and its answer.
type WebhookAttempt struct {
	EventID  string
	N        int // from 1
	At       time.Time
	Duration time.Duration
	Status   int    // HTTP status, 0 when none came
	Error    string // "" for a 2xx
	Body     string // the answer's start
}

// WebhookAttemptResult is what [ClientWebhooks.FinishAttempt] records.
type WebhookAttemptResult struct {
	Attempt WebhookAttempt
	// Delivered: a 2xx. Otherwise NextAttemptAt (zero: give up) says when
	// to try again.
	Delivered     bool
	NextAttemptAt time.Time
	// DisableAfter disables the endpoint when its failure streak reaches
	// this many attempts, or when it started before FailingBefore; the
	// reason is DisableReason. Zero values never disable.
	DisableAfter  int
	FailingBefore time.Time
	DisableReason string
}

// ClientWebhooks stores integration webhooks and their outbox. Events are
// written by the store itself, in the transaction of the revocation,
// secret rotation or deletion they report, for clients whose webhook is
// enabled.
type ClientWebhooks interface {
	// SetClientWebhook creates or replaces the client's webhook (enabled,
	// with no failure streak); ErrNotFound for an unknown client.
	SetClientWebhook(ctx context.Context, w ClientWebhook) error
	GetClientWebhook(ctx context.Context, clientID string) (ClientWebhook, error)
	// ListClientWebhooks returns every webhook (key rotation re-seals them).
	ListClientWebhooks(ctx context.Context) ([]ClientWebhook, error)
	// ResealClientWebhook replaces the sealed secret if it still is old.
	ResealClientWebhook(ctx context.Context, clientID, old, sealed string) error
	// DeleteClientWebhook removes it and its events.
	DeleteClientWebhook(ctx context.Context, clientID string) error
	// ListWebhookEvents returns the client's newest events, newest first,
	// with their attempts in order.
	ListWebhookEvents(ctx context.Context, clientID string, limit int) ([]WebhookEvent, map[string][]WebhookAttempt, error)
	// ClaimDueWebhookEvents leases up to limit pending events of enabled
	// webhooks that are due at now and not leased, until leaseUntil.
	ClaimDueWebhookEvents(ctx context.Context, now, leaseUntil time.Time, limit int) ([]WebhookEvent, error)
	// StartAttempt takes up the delivery under lease: it extends the
	// lease to until and returns the event and its webhook, or ok false
	// when the lease is no longer the event's (another delivery has it).
	StartAttempt(ctx context.Context, eventID, lease string, until time.Time) (WebhookEvent, ClientWebhook, bool, error)
	// FinishAttempt records an attempt under lease, ends the lease and
	// moves the event and its webhook's failure streak on, in one
	// transaction. It returns the webhook as it now is.
	FinishAttempt(ctx context.Context, eventID, lease string, r WebhookAttemptResult) (ClientWebhook, error)
	// PruneWebhooks deletes finished events done before before, and the
	// webhooks of deleted clients with no pending event left.
	PruneWebhooks(ctx context.Context, before time.Time) (int64, error)
}

// ClientWebhookStore is a Store that keeps integration webhooks (both
// sqlstore backends).
type ClientWebhookStore interface {
	ClientWebhooks() ClientWebhooks
}
