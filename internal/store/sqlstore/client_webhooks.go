package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type clientWebhooks struct{ s *Store }

// ClientWebhooks returns integration webhooks and their outbox.
func (s *Store) ClientWebhooks() store.ClientWebhooks { return clientWebhooks{s} }

const clientWebhookCols = `client_id, url, secret_box, enabled, disabled_reason, consecutive_failures, failing_since, created_at, updated_at`

func scanClientWebhook(row scanner) (store.ClientWebhook, error) {
	var w store.ClientWebhook
	var since sql.NullInt64
	var created, updated int64
	err := row.Scan(&w.ClientID, &w.URL, &w.SecretBox, &w.Enabled, &w.DisabledReason, &w.ConsecutiveFailures, &since, &created, &updated)
	w.FailingSince, w.CreatedAt, w.UpdatedAt = fromUS(since), fromUSv(created), fromUSv(updated)
	return w, err
}

const webhookEventCols = `id, client_id, type, org_id, grant_id, reason, created_at, state, attempts, next_attempt_at, lease, lease_until, done_at`

func scanWebhookEvent(row scanner) (store.WebhookEvent, error) {
	var e store.WebhookEvent
	var created int64
	var next, until, done sql.NullInt64
	err := row.Scan(&e.ID, &e.ClientID, &e.Type, &e.OrgID, &e.GrantID, &e.Reason, &created, &e.State, &e.Attempts, &next, &e.Lease, &until, &done)
	e.CreatedAt, e.NextAttemptAt, e.LeaseUntil, e.DoneAt = fromUSv(created), fromUS(next), fromUS(until), fromUS(done)
	return e, err
}

// newEventID is a webhook-id: unique per message (Standard Webhooks).
func newEventID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

// Parameters in a SELECT list are cast: PostgreSQL would take them for text.

// queueGrantEvents writes, in the revoking transaction, the webhook event
// of each grant just revoked for reason, for clients with an enabled
// webhook. A deleted client's grants get none: its client.deleted says it.
func queueGrantEvents(ctx context.Context, q querier, ids []string, reason string, at time.Time) error {
	if reason == store.ReasonClientDeleted {
		return nil
	}
	typ := store.GrantEventType(reason)
	for _, id := range ids {
		if _, err := q.ExecContext(ctx, `INSERT INTO client_webhook_events (id, client_id, type, org_id, grant_id, reason, created_at, state, next_attempt_at)
			SELECT CAST($1 AS TEXT), g.client_id, CAST($2 AS TEXT), g.org_id, g.id, CAST($3 AS TEXT), CAST($4 AS BIGINT), 'pending', CAST($4 AS BIGINT)
			FROM grants g JOIN client_webhooks w ON w.client_id = g.client_id AND w.enabled WHERE g.id = $5`,
			newEventID(), typ, reason, usv(at), id); err != nil {
			return err
		}
	}
	return nil
}

// queueIdleEvents writes grant.revoked events (idle_expired) for the live
// grants unused since idleBefore that the janitor is about to delete.
func queueIdleEvents(ctx context.Context, tx *sql.Tx, idleBefore, at time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT g.id FROM grants g JOIN client_webhooks w ON w.client_id = g.client_id AND w.enabled
		WHERE g.revoked_at IS NULL AND g.last_used_at < $1`, usv(idleBefore))
	ids, err := scanAll(rows, err, func(row scanner) (string, error) {
		var id string
		err := row.Scan(&id)
		return id, err
	})
	if err != nil {
		return err
	}
	return queueGrantEvents(ctx, tx, ids, store.ReasonIdleExpired, at)
}

// queueClientEvent writes a client event (secret rotated, deleted) in the
// caller's transaction, if the client has an enabled webhook.
func queueClientEvent(ctx context.Context, q querier, clientID, typ, reason string, at time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO client_webhook_events (id, client_id, type, reason, created_at, state, next_attempt_at)
		SELECT CAST($1 AS TEXT), client_id, CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS BIGINT), 'pending', CAST($4 AS BIGINT) FROM client_webhooks WHERE client_id = $5 AND enabled`,
		newEventID(), typ, reason, usv(at), clientID)
	return err
}

func (c clientWebhooks) SetClientWebhook(ctx context.Context, w store.ClientWebhook) error {
	return c.s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM clients WHERE id = $1`, w.ClientID).Scan(&one); err != nil {
			return notFound(err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO client_webhooks (`+clientWebhookCols+`) VALUES ($1, $2, $3, TRUE, '', 0, NULL, $4, $5)
			ON CONFLICT (client_id) DO UPDATE SET url = excluded.url, secret_box = excluded.secret_box, enabled = TRUE,
			disabled_reason = '', consecutive_failures = 0, failing_since = NULL, updated_at = excluded.updated_at`,
			w.ClientID, w.URL, w.SecretBox, usv(w.CreatedAt), usv(w.UpdatedAt))
		return err
	})
}

func (c clientWebhooks) GetClientWebhook(ctx context.Context, clientID string) (store.ClientWebhook, error) {
	w, err := scanClientWebhook(c.s.r.QueryRowContext(ctx, `SELECT `+clientWebhookCols+` FROM client_webhooks WHERE client_id = $1`, clientID))
	return w, notFound(err)
}

func (c clientWebhooks) ListClientWebhooks(ctx context.Context) ([]store.ClientWebhook, error) {
	rows, err := c.s.r.QueryContext(ctx, `SELECT `+clientWebhookCols+` FROM client_webhooks ORDER BY client_id`)
	return scanAll(rows, err, scanClientWebhook)
}

func (c clientWebhooks) ResealClientWebhook(ctx context.Context, clientID, old, sealed string) error {
	_, err := c.s.w.ExecContext(ctx, `UPDATE client_webhooks SET secret_box = $1 WHERE client_id = $2 AND secret_box = $3`, sealed, clientID, old)
	return err
}

func (c clientWebhooks) DeleteClientWebhook(ctx context.Context, clientID string) error {
	res, err := c.s.w.ExecContext(ctx, `DELETE FROM client_webhooks WHERE client_id = $1`, clientID)
	return affected(res, err)
}

func (c clientWebhooks) ListWebhookEvents(ctx context.Context, clientID string, limit int) ([]store.WebhookEvent, map[string][]store.WebhookAttempt, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := c.s.r.QueryContext(ctx, `SELECT `+webhookEventCols+` FROM client_webhook_events WHERE client_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, clientID, limit)
	events, err := scanAll(rows, err, scanWebhookEvent)
	if err != nil || len(events) == 0 {
		return events, nil, err
	}
	oldest := events[len(events)-1].CreatedAt
	rows, err = c.s.r.QueryContext(ctx, `SELECT a.event_id, a.n, a.at, a.duration_us, a.status, a.error, a.body
		FROM client_webhook_attempts a JOIN client_webhook_events e ON e.id = a.event_id
		WHERE e.client_id = $1 AND e.created_at >= $2 ORDER BY a.event_id, a.n`, clientID, usv(oldest))
	attempts, err := scanAll(rows, err, scanWebhookAttempt)
	if err != nil {
		return nil, nil, err
	}
	by := map[string][]store.WebhookAttempt{}
	for _, a := range attempts {
		by[a.EventID] = append(by[a.EventID], a)
	}
	return events, by, nil
}

func scanWebhookAttempt(row scanner) (store.WebhookAttempt, error) {
	var a store.WebhookAttempt
	var at, dur int64
	err := row.Scan(&a.EventID, &a.N, &at, &dur, &a.Status, &a.Error, &a.Body)
	a.At, a.Duration = fromUSv(at), time.Duration(dur)*time.Microsecond
	return a, err
}

func (c clientWebhooks) ClaimDueWebhookEvents(ctx context.Context, now, leaseUntil time.Time, limit int) ([]store.WebhookEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	// Most polls find nothing: ask the reader first, so that they take no
	// write lock (SQLite has one writer).
	var one int
	err := c.s.r.QueryRowContext(ctx, `SELECT 1 FROM client_webhook_events WHERE state = 'pending' AND next_attempt_at <= $1
		AND (lease_until IS NULL OR lease_until < $1) LIMIT 1`, usv(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []store.WebhookEvent
	err = c.s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		rows, err := tx.QueryContext(ctx, `SELECT `+prefixed("e.", webhookEventCols)+` FROM client_webhook_events e
			JOIN client_webhooks w ON w.client_id = e.client_id AND w.enabled
			WHERE e.state = 'pending' AND e.next_attempt_at <= $1 AND (e.lease_until IS NULL OR e.lease_until < $1)
			ORDER BY e.next_attempt_at LIMIT $2`+c.s.forUpdateSkip(), usv(now), limit)
		due, err := scanAll(rows, err, scanWebhookEvent)
		if err != nil {
			return err
		}
		for _, e := range due {
			e.Lease, e.LeaseUntil = newEventID()[4:], store.Micro(leaseUntil)
			if _, err := tx.ExecContext(ctx, `UPDATE client_webhook_events SET lease = $1, lease_until = $2 WHERE id = $3`,
				e.Lease, usv(leaseUntil), e.ID); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// forUpdateSkip lets concurrent dispatchers on PostgreSQL claim different
// events instead of waiting for each other's locks.
func (s *Store) forUpdateSkip() string {
	if s.dialect == "postgres" {
		return " FOR UPDATE OF e SKIP LOCKED"
	}
	return ""
}

func (c clientWebhooks) StartAttempt(ctx context.Context, eventID, lease string, until time.Time) (store.WebhookEvent, store.ClientWebhook, bool, error) {
	var (
		e  store.WebhookEvent
		w  store.ClientWebhook
		ok bool
	)
	err := c.s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE client_webhook_events SET lease_until = $1 WHERE id = $2 AND lease = $3 AND lease <> '' AND state = 'pending'`,
			usv(until), eventID, lease)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if e, err = scanWebhookEvent(tx.QueryRowContext(ctx, `SELECT `+webhookEventCols+` FROM client_webhook_events WHERE id = $1`, eventID)); err != nil {
			return err
		}
		if w, err = scanClientWebhook(tx.QueryRowContext(ctx, `SELECT `+clientWebhookCols+` FROM client_webhooks WHERE client_id = $1`, e.ClientID)); err != nil {
			return err
		}
		ok = w.Enabled
		return nil
	})
	return e, w, ok, err
}

func (c clientWebhooks) FinishAttempt(ctx context.Context, eventID, lease string, r store.WebhookAttemptResult) (store.ClientWebhook, error) {
	var w store.ClientWebhook
	err := c.s.tx(ctx, func(tx *sql.Tx) error {
		e, err := scanWebhookEvent(tx.QueryRowContext(ctx, `SELECT `+webhookEventCols+` FROM client_webhook_events WHERE id = $1`+c.s.forUpdate, eventID))
		if err != nil {
			return notFound(err)
		}
		if e.Lease != lease || lease == "" {
			return store.ErrConflict
		}
		a := r.Attempt
		n := e.Attempts + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO client_webhook_attempts (event_id, n, at, duration_us, status, error, body) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			eventID, n, usv(a.At), a.Duration.Microseconds(), a.Status, a.Error, a.Body); err != nil {
			return err
		}
		state, next, done := store.WebhookPending, us(r.NextAttemptAt), sql.NullInt64{}
		if r.Delivered {
			state, next, done = store.WebhookDelivered, sql.NullInt64{}, us(a.At)
		} else if r.NextAttemptAt.IsZero() {
			state, done = store.WebhookFailed, us(a.At)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE client_webhook_events SET attempts = $1, state = $2, next_attempt_at = $3, done_at = $4,
			lease = '', lease_until = NULL WHERE id = $5`, n, state, next, done, eventID); err != nil {
			return err
		}
		if r.Delivered {
			_, err = tx.ExecContext(ctx, `UPDATE client_webhooks SET consecutive_failures = 0, failing_since = NULL WHERE client_id = $1`, e.ClientID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE client_webhooks SET consecutive_failures = consecutive_failures + 1,
				failing_since = COALESCE(failing_since, $1) WHERE client_id = $2`, usv(a.At), e.ClientID)
		}
		if err != nil {
			return err
		}
		if w, err = scanClientWebhook(tx.QueryRowContext(ctx, `SELECT `+clientWebhookCols+` FROM client_webhooks WHERE client_id = $1`, e.ClientID)); err != nil {
			return err
		}
		disable := !r.Delivered && w.Enabled &&
			((r.DisableAfter > 0 && w.ConsecutiveFailures >= r.DisableAfter) ||
				(!r.FailingBefore.IsZero() && w.FailingSince.Before(r.FailingBefore)))
		if !disable {
			return nil
		}
		// A receiver that keeps failing stops receiving: its pending events
		// are given up, and setting its URL again starts afresh.
		w.Enabled, w.DisabledReason = false, r.DisableReason
		if _, err := tx.ExecContext(ctx, `UPDATE client_webhooks SET enabled = FALSE, disabled_reason = $1, updated_at = $2 WHERE client_id = $3`,
			r.DisableReason, usv(a.At), e.ClientID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE client_webhook_events SET state = 'failed', done_at = $1, next_attempt_at = NULL, lease = '', lease_until = NULL
			WHERE client_id = $2 AND state = 'pending'`, usv(a.At), e.ClientID)
		return err
	})
	return w, err
}

func (c clientWebhooks) PruneWebhooks(ctx context.Context, before time.Time) (int64, error) {
	res, err := c.s.w.ExecContext(ctx, `DELETE FROM client_webhook_events WHERE state <> 'pending' AND done_at < $1`, usv(before))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	_, err = c.s.w.ExecContext(ctx, `DELETE FROM client_webhooks WHERE NOT EXISTS (SELECT 1 FROM clients WHERE clients.id = client_webhooks.client_id)
		AND NOT EXISTS (SELECT 1 FROM client_webhook_events e WHERE e.client_id = client_webhooks.client_id AND e.state = 'pending')`)
	return n, err
}
