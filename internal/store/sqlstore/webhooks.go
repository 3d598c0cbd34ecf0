package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/grantflow/grantflow/internal/store"
)

type webhooks struct{ s *Store }

// Webhooks returns inbound webhooks and their rules.
func (s *Store) Webhooks() store.Webhooks { return webhooks{s} }

const webhookCols = `id, tenant_id, external_id, name, content_type, rules, secret_hash, secret_box, secret_at, enabled, reason,
	created_by, source, created_at, updated_at`

func scanWebhook(row scanner) (store.Webhook, error) {
	var w store.Webhook
	var at sql.NullInt64
	var created, updated int64
	err := row.Scan(&w.ID, &w.TenantID, &w.ExternalID, &w.Name, &w.ContentType, &w.Rules, &w.SecretHash, &w.SecretBox, &at,
		&w.Enabled, &w.Reason, &w.CreatedBy, &w.Source, &created, &updated)
	w.SecretAt, w.CreatedAt, w.UpdatedAt = fromUS(at), fromUSv(created), fromUSv(updated)
	if len(w.SecretHash) == 0 {
		w.SecretHash = nil
	}
	return w, err
}

func webhookArgs(w store.Webhook) []any {
	if w.Rules == nil {
		w.Rules = []byte("[]")
	}
	return []any{w.ID, w.TenantID, w.ExternalID, w.Name, w.ContentType, w.Rules, blob(w.SecretHash), w.SecretBox, us(w.SecretAt),
		w.Enabled, w.Reason, w.CreatedBy, w.Source, usv(w.CreatedAt), usv(w.UpdatedAt)}
}

func (ws webhooks) CreateWebhook(ctx context.Context, w store.Webhook) error {
	if w.ID == "" || w.TenantID == "" || w.ExternalID == "" {
		return errors.New("sqlstore: a webhook needs an id, a tenant and an external id")
	}
	_, err := ws.s.w.ExecContext(ctx, `INSERT INTO workflow_webhooks (`+webhookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
		$11, $12, $13, $14, $15)`, webhookArgs(w)...)
	return notFoundFK(conflictOr(err))
}

func (ws webhooks) GetWebhook(ctx context.Context, id string) (store.Webhook, error) {
	w, err := scanWebhook(ws.s.r.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM workflow_webhooks WHERE id = $1`, id))
	return w, notFound(err)
}

func (ws webhooks) GetWebhookByExternal(ctx context.Context, tenantID, externalID string) (store.Webhook, error) {
	w, err := scanWebhook(ws.s.r.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM workflow_webhooks WHERE tenant_id = $1 AND external_id = $2`,
		tenantID, externalID))
	return w, notFound(err)
}

func (ws webhooks) ListWebhooks(ctx context.Context, tenantID string) ([]store.Webhook, error) {
	rows, err := ws.s.r.QueryContext(ctx, `SELECT `+webhookCols+` FROM workflow_webhooks WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	return scanAll(rows, err, scanWebhook)
}

func (ws webhooks) UpdateWebhook(ctx context.Context, id string, fn func(w *store.Webhook) error) (store.Webhook, error) {
	var out store.Webhook
	err := ws.s.tx(ctx, func(tx *sql.Tx) error {
		w, err := scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM workflow_webhooks WHERE id = $1`+ws.s.forUpdate, id))
		if err != nil {
			return notFound(err)
		}
		keep := w
		if err := fn(&w); err != nil {
			return err
		}
		w.ID, w.TenantID, w.ExternalID, w.CreatedBy, w.Source, w.CreatedAt = keep.ID, keep.TenantID, keep.ExternalID, keep.CreatedBy, keep.Source, keep.CreatedAt
		if _, err := tx.ExecContext(ctx, `UPDATE workflow_webhooks SET name = $4, content_type = $5, rules = $6, secret_hash = $7,
			secret_box = $8, secret_at = $9, enabled = $10, reason = $11, updated_at = $15
			WHERE id = $1 AND tenant_id = $2 AND external_id = $3 AND created_by = $12 AND source = $13 AND created_at = $14`, webhookArgs(w)...); err != nil {
			return err
		}
		out = w
		return nil
	})
	return out, err
}

func (ws webhooks) DeleteWebhook(ctx context.Context, id string) error {
	res, err := ws.s.w.ExecContext(ctx, `DELETE FROM workflow_webhooks WHERE id = $1`, id)
	return affected(res, err)
}
