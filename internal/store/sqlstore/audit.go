package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type auditLog struct{ s *Store }

func (a auditLog) AppendAudit(ctx context.Context, events ...store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	return a.s.tx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if err := appendAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// appendAudit inserts one event in the caller's transaction.
func appendAudit(ctx context.Context, q querier, e store.AuditEvent) error {
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return err
		}
		details = string(b)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_events (at, action, actor_account_id, actor_client_id, org_id, target, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, usv(e.At), e.Action, e.ActorAccountID, e.ActorClientID, e.OrgID, e.Target, details)
	return err
}

func (a auditLog) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var w where
	if f.BeforeID > 0 {
		w.add("id < " + w.arg(f.BeforeID))
	}
	if f.AfterID > 0 {
		w.add("id > " + w.arg(f.AfterID))
	}
	if f.OrgID != "" {
		w.add("org_id = " + w.arg(f.OrgID))
	}
	if f.ClientID != "" {
		w.add("actor_client_id = " + w.arg(f.ClientID))
	}
	if f.Action != "" {
		w.add("action = " + w.arg(f.Action))
	}
	if f.ActorAccountID != "" {
		w.add("actor_account_id = " + w.arg(f.ActorAccountID))
	}
	if !f.Since.IsZero() {
		w.add("at >= " + w.arg(usv(f.Since)))
	}
	if !f.Until.IsZero() {
		w.add("at < " + w.arg(usv(f.Until)))
	}
	// Paging toward newer events takes the oldest events above AfterID;
	// they are put back newest first below.
	order := " ORDER BY id DESC"
	if f.AfterID > 0 {
		order = " ORDER BY id ASC"
	}
	q := `SELECT id, at, action, actor_account_id, actor_client_id, org_id, target, details FROM audit_events` +
		w.String() + order + ` LIMIT ` + w.arg(limit)
	rows, err := a.s.r.QueryContext(ctx, q, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var at int64
		var details string
		if err := rows.Scan(&e.ID, &at, &e.Action, &e.ActorAccountID, &e.ActorClientID, &e.OrgID, &e.Target, &details); err != nil {
			return nil, err
		}
		e.At = fromUSv(at)
		if details != "" && details != "{}" {
			if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if f.AfterID > 0 {
		slices.Reverse(out)
	}
	return out, nil
}

type changes struct{ s *Store }

// publish records a change in the caller's transaction, so the change is
// visible exactly when the mutation is.
func publish(ctx context.Context, q querier, kind, key string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	_, err := q.ExecContext(ctx, `INSERT INTO changes (kind, key, at) VALUES ($1, $2, $3)`, kind, key, usv(at))
	return err
}

func (c changes) PublishChange(ctx context.Context, kind, key string, at time.Time) error {
	return publish(ctx, c.s.w, kind, key, at)
}

func (c changes) ChangesSince(ctx context.Context, seq int64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := c.s.r.QueryContext(ctx, `SELECT seq, kind, key, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`, seq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		var ch store.Change
		var at int64
		if err := rows.Scan(&ch.Seq, &ch.Kind, &ch.Key, &at); err != nil {
			return nil, err
		}
		ch.At = fromUSv(at)
		out = append(out, ch)
	}
	return out, rows.Err()
}

func (c changes) LatestChange(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := c.s.r.QueryRowContext(ctx, `SELECT MAX(seq) FROM changes`).Scan(&seq)
	return seq.Int64, err
}

func (c changes) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	res, err := c.s.w.ExecContext(ctx, `DELETE FROM changes WHERE at < $1`, usv(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type markers struct{ s *Store }

func (m markers) Mark(ctx context.Context, key string, at time.Time) (bool, error) {
	res, err := m.s.w.ExecContext(ctx, `INSERT INTO markers (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, usv(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
