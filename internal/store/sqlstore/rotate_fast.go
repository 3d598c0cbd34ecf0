package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/grantflow/grantflow/internal/store"
)

// rotateOld marks the presented token rotated if, and only if, it is its
// live grant's current token, of client $2, used at or after $4. Both
// dialects run it; it returns the grant id.
const rotateOld = `UPDATE refresh_tokens SET rotated_at = $3, child_hash = $5
    WHERE hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL
      AND grant_id = (SELECT id FROM grants WHERE id = refresh_tokens.grant_id
                      AND revoked_at IS NULL AND client_id = $2 AND last_used_at >= $4)
    RETURNING grant_id`

// rotateFastPostgres does the whole rotation in one statement, so a refresh
// costs one round trip and one commit. The refresh token row is locked
// first (the UPDATE of old), then the grant (g depends on old), the same
// order RotateRefresh takes its locks in, so the two paths cannot deadlock.
// A concurrent rotation of the same token makes old's re-checked WHERE fail
// after the lock wait: nothing is issued and the caller's slow path then
// sees a reused token.
const rotateFastPostgres = `
WITH old AS (` + rotateOld + `), g AS (
    UPDATE grants SET last_used_at = $3 WHERE id = (SELECT grant_id FROM old)
    RETURNING ` + grantCols + `
), r AS (
    INSERT INTO refresh_tokens (hash, grant_id, parent_hash, created_at, rotated_at, child_hash, revoked_at)
    SELECT $5, g.id, $1, $3, NULL, '', NULL FROM g
), a AS (
    INSERT INTO access_tokens (hash, grant_id, refresh_hash, client_id, account_id, org_id, scopes, created_at, expires_at, revoked_at)
    SELECT $6, g.id, $5, g.client_id, g.account_id, g.org_id, g.scopes, $3, $7, NULL FROM g
), au AS (
    INSERT INTO audit_events (at, action, actor_account_id, actor_client_id, org_id, target, details)
    SELECT $3, $8, g.account_id, g.client_id, g.org_id, g.id, json_build_object('grant_id', g.id, 'scope', g.scopes)::text
    FROM g WHERE $8 <> ''
)
SELECT ` + grantCols + ` FROM g`

func (g grants) RotateRefreshFast(ctx context.Context, p store.FastRotateParams) (store.Grant, bool, error) {
	args := []any{p.OldHash, p.ClientID, usv(p.Now), usv(p.IdleAfter), p.RefreshHash, p.AccessHash, usv(p.AccessExpiresAt), p.AuditAction}
	if g.s.dialect == "postgres" {
		gr, err := scanGrant(g.s.w.QueryRowContext(ctx, rotateFastPostgres, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return store.Grant{}, false, nil
		}
		return gr, err == nil, conflictOr(err)
	}
	// SQLite has no data-modifying CTEs; its statements are in-process
	// calls, so a short transaction on the single writer costs little.
	var gr store.Grant
	ok := false
	err := g.s.tx(ctx, func(tx *sql.Tx) error {
		var grantID string
		err := tx.QueryRowContext(ctx, rotateOld, args[:5]...).Scan(&grantID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		gr, err = scanGrant(tx.QueryRowContext(ctx, `UPDATE grants SET last_used_at = $1 WHERE id = $2 RETURNING `+grantCols, usv(p.Now), grantID))
		if err != nil {
			return err
		}
		err = insertPair(ctx, tx, store.TokenPair{
			Refresh: store.RefreshToken{Hash: p.RefreshHash, GrantID: gr.ID, ParentHash: p.OldHash, CreatedAt: p.Now},
			Access: store.AccessToken{Hash: p.AccessHash, GrantID: gr.ID, RefreshHash: p.RefreshHash, ClientID: gr.ClientID,
				AccountID: gr.AccountID, OrgID: gr.OrgID, Scopes: gr.Scopes, CreatedAt: p.Now, ExpiresAt: p.AccessExpiresAt},
		})
		if err != nil {
			return err
		}
		if p.AuditAction != "" {
			if err := appendAudit(ctx, tx, store.AuditEvent{At: p.Now, Action: p.AuditAction, ActorAccountID: gr.AccountID, ActorClientID: gr.ClientID,
				OrgID: gr.OrgID, Target: gr.ID, Details: map[string]string{"grant_id": gr.ID, "scope": joinList(gr.Scopes)}}); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	if err != nil {
		return store.Grant{}, false, err
	}
	return gr, ok, nil
}
