package sqlstore

import (
	"context"

	"github.com/grantflow/grantflow/internal/store"
)

// SecurityLog returns the per-account security log.
func (s *Store) SecurityLog() store.SecurityLog { return securityLog{s} }

type securityLog struct{ s *Store }

func (l securityLog) AppendSecurityEvent(ctx context.Context, e store.SecurityEvent) error {
	_, err := l.s.w.ExecContext(ctx, `INSERT INTO account_security_events (account_id, at, action, ip, user_agent, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.AccountID, usv(e.At), e.Action, e.IP, e.UserAgent, e.Detail)
	return notFoundFK(err)
}

func (l securityLog) ListSecurityEvents(ctx context.Context, f store.SecurityFilter) ([]store.SecurityEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	before := f.BeforeID
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := l.s.r.QueryContext(ctx, `SELECT id, account_id, at, action, ip, user_agent, detail FROM account_security_events
		WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, f.AccountID, before, limit)
	return scanAll(rows, err, func(row scanner) (store.SecurityEvent, error) {
		var e store.SecurityEvent
		var at int64
		err := row.Scan(&e.ID, &e.AccountID, &at, &e.Action, &e.IP, &e.UserAgent, &e.Detail)
		e.At = fromUSv(at)
		return e, err
	})
}
