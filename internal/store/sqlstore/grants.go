package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type grants struct{ s *Store }

const codeCols = `hash, client_id, account_id, org_id, redirect_uri, scopes, code_challenge, nonce, created_at, expires_at, redeemed_at, grant_id, org_bound`

func (g grants) CreateCode(ctx context.Context, c store.AuthCode) error {
	_, err := g.s.w.ExecContext(ctx, `INSERT INTO auth_codes (`+codeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		c.Hash, c.ClientID, c.AccountID, c.OrgID, c.RedirectURI, joinList(c.Scopes), c.CodeChallenge, c.Nonce,
		usv(c.CreatedAt), usv(c.ExpiresAt), us(c.RedeemedAt), c.GrantID, c.OrgBound)
	return conflictOr(err)
}

func scanCode(row scanner) (store.AuthCode, error) {
	var c store.AuthCode
	var scopes string
	var created, expires int64
	var redeemed sql.NullInt64
	err := row.Scan(&c.Hash, &c.ClientID, &c.AccountID, &c.OrgID, &c.RedirectURI, &scopes, &c.CodeChallenge, &c.Nonce,
		&created, &expires, &redeemed, &c.GrantID, &c.OrgBound)
	c.Scopes = splitList(scopes)
	c.CreatedAt, c.ExpiresAt, c.RedeemedAt = fromUSv(created), fromUSv(expires), fromUS(redeemed)
	return c, err
}

func (g grants) RedeemCode(ctx context.Context, p store.RedeemCodeParams) (store.AuthCode, error) {
	var code store.AuthCode
	err := g.s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		code, err = scanCode(tx.QueryRowContext(ctx, `SELECT `+codeCols+` FROM auth_codes WHERE hash = $1`+g.s.forUpdate, p.CodeHash))
		if err != nil {
			return notFound(err)
		}
		if !code.RedeemedAt.IsZero() {
			// RFC 6749 §4.1.2: a code used twice revokes what it issued.
			if code.GrantID != "" {
				if err := revokeGrant(ctx, tx, code.GrantID, "code_replayed", p.Now); err != nil {
					return err
				}
			}
			return commitErr{store.ErrCodeRedeemed}
		}
		grant, pair, err := p.Check(code)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auth_codes SET redeemed_at = $1, grant_id = $2 WHERE hash = $3`,
			usv(p.Now), grant.ID, code.Hash); err != nil {
			return err
		}
		code.RedeemedAt, code.GrantID = store.Micro(p.Now), grant.ID
		if _, err := tx.ExecContext(ctx, `INSERT INTO grants (id, client_id, account_id, org_id, scopes, created_at, last_used_at, revoked_at, revoke_reason, org_bound)
			VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, '', $8)`,
			grant.ID, grant.ClientID, grant.AccountID, grant.OrgID, joinList(grant.Scopes), usv(grant.CreatedAt), usv(grant.LastUsedAt), grant.OrgBound); err != nil {
			return conflictOr(err)
		}
		return insertPair(ctx, tx, pair)
	})
	return code, err
}

func insertPair(ctx context.Context, q querier, p store.TokenPair) error {
	r, a := p.Refresh, p.Access
	if _, err := q.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, grant_id, parent_hash, created_at, rotated_at, child_hash, revoked_at)
		VALUES ($1, $2, $3, $4, NULL, '', NULL)`, r.Hash, r.GrantID, r.ParentHash, usv(r.CreatedAt)); err != nil {
		return conflictOr(err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO access_tokens (hash, grant_id, refresh_hash, client_id, account_id, org_id, scopes, created_at, expires_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)`,
		a.Hash, a.GrantID, a.RefreshHash, a.ClientID, a.AccountID, a.OrgID, joinList(a.Scopes), usv(a.CreatedAt), usv(a.ExpiresAt)); err != nil {
		return conflictOr(err)
	}
	return nil
}

const grantCols = `id, client_id, account_id, org_id, scopes, created_at, last_used_at, revoked_at, revoke_reason, org_bound`

func scanGrant(row scanner) (store.Grant, error) {
	var g store.Grant
	var scopes string
	var created, used int64
	var revoked sql.NullInt64
	err := row.Scan(&g.ID, &g.ClientID, &g.AccountID, &g.OrgID, &scopes, &created, &used, &revoked, &g.RevokeReason, &g.OrgBound)
	g.Scopes = splitList(scopes)
	g.CreatedAt, g.LastUsedAt, g.RevokedAt = fromUSv(created), fromUSv(used), fromUS(revoked)
	return g, err
}

const refreshCols = `hash, grant_id, parent_hash, created_at, rotated_at, child_hash, revoked_at`

func scanRefresh(row scanner) (store.RefreshToken, error) {
	var r store.RefreshToken
	var created int64
	var rotated, revoked sql.NullInt64
	err := row.Scan(&r.Hash, &r.GrantID, &r.ParentHash, &created, &rotated, &r.ChildHash, &revoked)
	r.CreatedAt, r.RotatedAt, r.RevokedAt = fromUSv(created), fromUS(rotated), fromUS(revoked)
	return r, err
}

func (g grants) RotateRefresh(ctx context.Context, hash string, now time.Time, decide func(store.RefreshState) (store.Rotation, error)) (store.RefreshState, error) {
	var st store.RefreshState
	err := g.s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		st.Token, err = scanRefresh(tx.QueryRowContext(ctx, `SELECT `+refreshCols+` FROM refresh_tokens WHERE hash = $1`+g.s.forUpdate, hash))
		if err != nil {
			return notFound(err)
		}
		// Locks are taken token, child, grant: the order of
		// RotateRefreshFast (token, grant), so the paths cannot deadlock.
		if st.Token.ChildHash != "" {
			child, err := scanRefresh(tx.QueryRowContext(ctx, `SELECT `+refreshCols+` FROM refresh_tokens WHERE hash = $1`+g.s.forUpdate, st.Token.ChildHash))
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err == nil {
				st.Child = &child
			}
		}
		st.Grant, err = scanGrant(tx.QueryRowContext(ctx, `SELECT `+grantCols+` FROM grants WHERE id = $1`+g.s.forUpdate, st.Token.GrantID))
		if err != nil {
			return notFound(err)
		}
		rot, derr := decide(st)
		changed := false
		if rot.RevokeGrant && !st.Grant.Revoked() {
			if err := revokeGrant(ctx, tx, st.Grant.ID, rot.RevokeReason, now); err != nil {
				return err
			}
			changed = true
		}
		if rot.RevokeChild && st.Child != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL`, usv(now), st.Child.Hash); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = $1 WHERE refresh_hash = $2 AND revoked_at IS NULL`, usv(now), st.Child.Hash); err != nil {
				return err
			}
			// Caches drop every token of the grant; live ones are re-read.
			if err := publish(ctx, tx, store.ChangeGrant, st.Grant.ID, now); err != nil {
				return err
			}
			changed = true
		}
		if derr != nil {
			if changed {
				return commitErr{derr}
			}
			return derr
		}
		if rot.Issue == nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = $1, child_hash = $2 WHERE hash = $3`,
			usv(now), rot.Issue.Refresh.Hash, hash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET last_used_at = $1 WHERE id = $2`, usv(now), st.Grant.ID); err != nil {
			return err
		}
		return insertPair(ctx, tx, *rot.Issue)
	})
	return st, err
}

func (g grants) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, store.Grant, error) {
	r, err := scanRefresh(g.s.r.QueryRowContext(ctx, `SELECT `+refreshCols+` FROM refresh_tokens WHERE hash = $1`, hash))
	if err != nil {
		return r, store.Grant{}, notFound(err)
	}
	gr, err := g.GetGrant(ctx, r.GrantID)
	return r, gr, err
}

func (g grants) GetAccessToken(ctx context.Context, hash string) (store.AccessToken, store.Grant, error) {
	var a store.AccessToken
	var scopes string
	var created, expires int64
	var revoked sql.NullInt64
	row := g.s.r.QueryRowContext(ctx, `SELECT a.hash, a.grant_id, a.refresh_hash, a.client_id, a.account_id, a.org_id, a.scopes,
		a.created_at, a.expires_at, a.revoked_at, `+prefixed("g.", grantCols)+`
		FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.hash = $1`, hash)
	gr, err := scanGrant(joined{row: row, before: []any{&a.Hash, &a.GrantID, &a.RefreshHash, &a.ClientID, &a.AccountID, &a.OrgID,
		&scopes, &created, &expires, &revoked}})
	if err != nil {
		return a, gr, notFound(err)
	}
	a.Scopes = splitList(scopes)
	a.CreatedAt, a.ExpiresAt, a.RevokedAt = fromUSv(created), fromUSv(expires), fromUS(revoked)
	a.OrgBound = gr.OrgBound
	return a, gr, nil
}

func (g grants) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	gr, err := scanGrant(g.s.r.QueryRowContext(ctx, `SELECT `+grantCols+` FROM grants WHERE id = $1`, id))
	return gr, notFound(err)
}

// revokeGrant revokes one grant (a no-op if it already is) and publishes it.
func revokeGrant(ctx context.Context, tx *sql.Tx, id, reason string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL`, usv(at), reason, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := queueGrantEvents(ctx, tx, []string{id}, reason, at); err != nil {
		return err
	}
	return publish(ctx, tx, store.ChangeGrant, id, at)
}

// revokeGrantsWhere revokes every live grant matching where, whose own
// arguments are numbered from $3 ($1 is the time, $2 the reason).
func revokeGrantsWhere(ctx context.Context, tx *sql.Tx, where, reason string, at time.Time, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE grants SET revoked_at = $1, revoke_reason = $2 WHERE revoked_at IS NULL AND `+where+` RETURNING id`,
		append([]any{usv(at), reason}, args...)...)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := publish(ctx, tx, store.ChangeGrant, id, at); err != nil {
			return nil, err
		}
	}
	if err := queueGrantEvents(ctx, tx, ids, reason, at); err != nil {
		return nil, err
	}
	return ids, nil
}

func (g grants) RevokeGrant(ctx context.Context, id, reason string, at time.Time) error {
	return g.s.tx(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM grants WHERE id = $1`, id).Scan(&exists); err != nil {
			return notFound(err)
		}
		return revokeGrant(ctx, tx, id, reason, at)
	})
}

func (g grants) RevokeAccessToken(ctx context.Context, hash string, at time.Time) error {
	return g.s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL`, usv(at), hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			return notFound(tx.QueryRowContext(ctx, `SELECT 1 FROM access_tokens WHERE hash = $1`, hash).Scan(&exists))
		}
		return publish(ctx, tx, store.ChangeAccessToken, hash, at)
	})
}

func (g grants) RevokeClientOrgGrants(ctx context.Context, clientID, orgID, reason string, at time.Time) ([]string, error) {
	var ids []string
	err := g.s.tx(ctx, func(tx *sql.Tx) error {
		if err := dropPendingCodes(ctx, tx, `client_id = $1 AND org_id = $2`, clientID, orgID); err != nil {
			return err
		}
		var err error
		ids, err = revokeGrantsWhere(ctx, tx, `client_id = $3 AND org_id = $4`, reason, at, clientID, orgID)
		return err
	})
	return ids, err
}

func (g grants) RevokeAccountOrgGrants(ctx context.Context, accountID, orgID, reason string, at time.Time) ([]string, error) {
	var ids []string
	err := g.s.tx(ctx, func(tx *sql.Tx) error {
		if err := dropPendingCodes(ctx, tx, `account_id = $1 AND org_id = $2 AND NOT org_bound`, accountID, orgID); err != nil {
			return err
		}
		var err error
		ids, err = revokeGrantsWhere(ctx, tx, `account_id = $3 AND org_id = $4 AND NOT org_bound`, reason, at, accountID, orgID)
		return err
	})
	return ids, err
}

// dropPendingCodes deletes the unredeemed codes matching where, so that a
// code approved before a revocation cannot become a live grant after it.
// It runs before the grants are revoked: on PostgreSQL, a code being
// redeemed concurrently makes it wait for that commit, and the next
// statement's snapshot then sees (and revokes) the grant it created.
func dropPendingCodes(ctx context.Context, tx *sql.Tx, where string, args ...any) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM auth_codes WHERE redeemed_at IS NULL AND `+where, args...)
	return err
}

func (g grants) ListOrgIntegrations(ctx context.Context, orgID string) ([]store.OrgIntegration, error) {
	rows, err := g.s.r.QueryContext(ctx, `SELECT g.scopes, g.created_at, g.last_used_at, `+prefixed("c.", clientCols)+`
		FROM grants g JOIN clients c ON c.id = g.client_id
		WHERE g.org_id = $1 AND g.revoked_at IS NULL ORDER BY c.name, c.id, g.created_at`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OrgIntegration
	for rows.Next() {
		var scopes string
		var created, used int64
		c, err := scanClient(joined{row: rows, before: []any{&scopes, &created, &used}})
		if err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].Client.ID != c.ID {
			out = append(out, store.OrgIntegration{Client: c, GrantedAt: fromUSv(created)})
		}
		cur := &out[len(out)-1]
		cur.Grants++
		for _, s := range splitList(scopes) {
			if !slices.Contains(cur.Scopes, s) {
				cur.Scopes = append(cur.Scopes, s)
			}
		}
		if t := fromUSv(created); t.Before(cur.GrantedAt) {
			cur.GrantedAt = t
		}
		if t := fromUSv(used); t.After(cur.LastUsedAt) {
			cur.LastUsedAt = t
		}
	}
	return out, rows.Err()
}

func (g grants) ListAccountGrants(ctx context.Context, accountID string) ([]store.Grant, error) {
	rows, err := g.s.r.QueryContext(ctx, `SELECT `+grantCols+` FROM grants WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Grant
	for rows.Next() {
		gr, err := scanGrant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, gr)
	}
	return out, rows.Err()
}

func (g grants) Cleanup(ctx context.Context, p store.CleanupParams) (store.CleanupResult, error) {
	var r store.CleanupResult
	del := func(q string, args ...any) (int64, error) {
		res, err := g.s.w.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, fmt.Errorf("sqlstore: cleanup: %w", err)
		}
		return res.RowsAffected()
	}
	var err error
	// A grant's rows (and its rotated refresh-token hashes) go only when no
	// token of it can be used any more: revoked long enough ago, or idle past
	// the refresh-token lifetime. Tokens go with it (ON DELETE CASCADE).
	// Idle grants end here, not by a revocation: their webhook events are
	// written in the deleting transaction.
	err = g.s.tx(ctx, func(tx *sql.Tx) error {
		if err := queueIdleEvents(ctx, tx, p.IdleBefore, p.Now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE (revoked_at IS NOT NULL AND revoked_at < $1) OR (revoked_at IS NULL AND last_used_at < $2)`,
			usv(p.RevokedBefore), usv(p.IdleBefore))
		if err != nil {
			return err
		}
		r.Grants, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return r, fmt.Errorf("sqlstore: cleanup: %w", err)
	}
	// A redeemed code stays while its grant does, so replaying it revokes
	// the grant however late the replay comes.
	if r.Codes, err = del(`DELETE FROM auth_codes WHERE expires_at < $1
		AND (redeemed_at IS NULL OR NOT EXISTS (SELECT 1 FROM grants WHERE grants.id = auth_codes.grant_id))`, usv(p.CodesExpiredBefore)); err != nil {
		return r, err
	}
	r.AccessTokens, err = del(`DELETE FROM access_tokens WHERE expires_at < $1`, usv(p.Now))
	return r, err
}

func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = prefix + c
	}
	return strings.Join(parts, ", ")
}
