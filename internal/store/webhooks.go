package store

import (
	"context"
	"time"
)

// Webhook is an inbound endpoint (POST /automation/webhooks/{id}) and the
// automation rules that start workflows when it is called (FORMAT.md
// §8.2). Only a caller holding its secret may call it: the store keeps the
// secret's SHA-256 (for a bearer secret) and a vault-sealed copy (an HMAC
// signature cannot be checked without the key), never the secret itself.
type Webhook struct {
	ID          string // "wh_" + hex
	TenantID    string
	ExternalID  string // the export's webhook_… id; unique in a tenant
	Name        string
	ContentType string // the export's request_content_type
	// Rules is a JSON array of the rules that listen to this webhook,
	// opaque to the store.
	Rules      []byte
	SecretHash []byte // nil: no secret yet, so nobody can call it
	SecretBox  string // the secret, sealed; "" with SecretHash
	SecretAt   time.Time
	Enabled    bool
	Reason     string
	CreatedBy  string // account id, "" for an import or an operator
	Source     string // "import" or "api"
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Webhooks stores webhooks and their rules.
type Webhooks interface {
	// CreateWebhook inserts w; ErrConflict on a taken id or a taken
	// (TenantID, ExternalID), ErrNotFound for a missing tenant.
	CreateWebhook(ctx context.Context, w Webhook) error
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	// GetWebhookByExternal finds a tenant's webhook by its export id.
	GetWebhookByExternal(ctx context.Context, tenantID, externalID string) (Webhook, error)
	// ListWebhooks returns a tenant's webhooks by CreatedAt then ID.
	ListWebhooks(ctx context.Context, tenantID string) ([]Webhook, error)
	// UpdateWebhook reads webhook id, calls fn and writes the result in
	// one transaction; ID, TenantID, ExternalID, CreatedBy, Source and
	// CreatedAt cannot change. fn must not call the store.
	UpdateWebhook(ctx context.Context, id string, fn func(w *Webhook) error) (Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
}

// WebhookStore is a Store that keeps webhooks (both sqlstore backends).
type WebhookStore interface {
	Webhooks() Webhooks
}
