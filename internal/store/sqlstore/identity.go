package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type orgs struct{ s *Store }

func (o orgs) CreateOrganization(ctx context.Context, org store.Organization) error {
	_, err := o.s.w.ExecContext(ctx, `INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)`,
		org.ID, org.Name, usv(org.CreatedAt))
	return conflictOr(err)
}

func (o orgs) GetOrganization(ctx context.Context, id string) (store.Organization, error) {
	var org store.Organization
	var created int64
	err := o.s.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM organizations WHERE id = $1`, id).
		Scan(&org.ID, &org.Name, &created)
	org.CreatedAt = fromUSv(created)
	return org, notFound(err)
}

func (o orgs) ListOrganizations(ctx context.Context) ([]store.Organization, error) {
	rows, err := o.s.r.QueryContext(ctx, `SELECT id, name, created_at FROM organizations ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Organization
	for rows.Next() {
		var org store.Organization
		var created int64
		if err := rows.Scan(&org.ID, &org.Name, &created); err != nil {
			return nil, err
		}
		org.CreatedAt = fromUSv(created)
		out = append(out, org)
	}
	return out, rows.Err()
}

func (o orgs) CountOrganizations(ctx context.Context) (int, error) {
	var n int
	err := o.s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations`).Scan(&n)
	return n, err
}

type accounts struct{ s *Store }

const accountCols = `id, email, name, password_hash, created_at, updated_at`

func scanAccount(row scanner) (store.Account, error) {
	var a store.Account
	var created, updated int64
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.PasswordHash, &created, &updated)
	a.CreatedAt, a.UpdatedAt = fromUSv(created), fromUSv(updated)
	return a, err
}

func (a accounts) CreateAccount(ctx context.Context, acc store.Account) error {
	_, err := a.s.w.ExecContext(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		acc.ID, acc.Email, acc.Name, acc.PasswordHash, usv(acc.CreatedAt), usv(acc.UpdatedAt))
	return conflictOr(err)
}

func (a accounts) GetAccount(ctx context.Context, id string) (store.Account, error) {
	acc, err := scanAccount(a.s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	return acc, notFound(err)
}

func (a accounts) GetAccountByEmail(ctx context.Context, email string) (store.Account, error) {
	acc, err := scanAccount(a.s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE email = $1`, email))
	return acc, notFound(err)
}

func (a accounts) SetPasswordHash(ctx context.Context, accountID, hash string, at time.Time) error {
	res, err := a.s.w.ExecContext(ctx, `UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, usv(at), accountID)
	return affected(res, err)
}

func (a accounts) PutMembership(ctx context.Context, m store.Membership) error {
	return a.s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO memberships (org_id, account_id, access, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (org_id, account_id) DO UPDATE SET access = excluded.access`,
			m.OrgID, m.AccountID, string(m.Access), usv(m.CreatedAt))
		if err != nil {
			return notFoundFK(err)
		}
		return publish(ctx, tx, store.ChangeMembership, m.OrgID+"/"+m.AccountID, m.CreatedAt)
	})
}

func (a accounts) DeleteMembership(ctx context.Context, orgID, accountID string) error {
	return a.s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE org_id = $1 AND account_id = $2`, orgID, accountID)
		if err := affected(res, err); err != nil {
			return err
		}
		return publish(ctx, tx, store.ChangeMembership, orgID+"/"+accountID, time.Now())
	})
}

const membershipCols = `org_id, account_id, access, created_at`

func scanMembership(row scanner) (store.Membership, error) {
	var m store.Membership
	var access string
	var created int64
	err := row.Scan(&m.OrgID, &m.AccountID, &access, &created)
	m.Access, m.CreatedAt = store.Access(access), fromUSv(created)
	return m, err
}

func (a accounts) GetMembership(ctx context.Context, orgID, accountID string) (store.Membership, error) {
	m, err := scanMembership(a.s.r.QueryRowContext(ctx, `SELECT `+membershipCols+` FROM memberships WHERE org_id = $1 AND account_id = $2`,
		orgID, accountID))
	return m, notFound(err)
}

func (a accounts) ListAccountMemberships(ctx context.Context, accountID string) ([]store.OrgMembership, error) {
	rows, err := a.s.r.QueryContext(ctx, `SELECT `+prefixed("m.", membershipCols)+`, o.name
		FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.account_id = $1 ORDER BY o.name, o.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OrgMembership
	for rows.Next() {
		var m store.OrgMembership
		var err error
		if m.Membership, err = scanMembership(joined{row: rows, after: []any{&m.OrgName}}); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (a accounts) ListOrgMembers(ctx context.Context, orgID string) ([]store.Member, error) {
	rows, err := a.s.r.QueryContext(ctx, `SELECT `+prefixed("a.", accountCols)+`, `+prefixed("m.", membershipCols)+`
		FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.org_id = $1 ORDER BY a.email`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		var err error
		// The account's columns come first, then the membership's: the
		// membership scan hands its destinations to the account scan.
		m.Membership, err = scanMembership(scanFunc(func(dest ...any) error {
			var aerr error
			m.Account, aerr = scanAccount(joined{row: rows, after: dest})
			return aerr
		}))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

type sessions struct{ s *Store }

func (ss sessions) CreateSession(ctx context.Context, se store.Session) error {
	_, err := ss.s.w.ExecContext(ctx, `INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		se.IDHash, se.AccountID, usv(se.CreatedAt), usv(se.LastSeenAt), usv(se.ExpiresAt), se.IP, se.UserAgent)
	return conflictOr(notFoundFK(err))
}

func (ss sessions) GetSession(ctx context.Context, idHash string) (store.Session, error) {
	se, err := scanSession(ss.s.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id_hash = $1`, idHash))
	return se, notFound(err)
}

const sessionColumns = `id_hash, account_id, created_at, last_seen_at, expires_at, ip, user_agent`

func scanSession(row scanner) (store.Session, error) {
	var se store.Session
	var created, seen, expires int64
	err := row.Scan(&se.IDHash, &se.AccountID, &created, &seen, &expires, &se.IP, &se.UserAgent)
	se.CreatedAt, se.LastSeenAt, se.ExpiresAt = fromUSv(created), fromUSv(seen), fromUSv(expires)
	return se, err
}

func (ss sessions) ListAccountSessions(ctx context.Context, accountID string) ([]store.Session, error) {
	rows, err := ss.s.r.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE account_id = $1 ORDER BY last_seen_at DESC, created_at DESC`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		se, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

func (ss sessions) DeleteOtherSessions(ctx context.Context, accountID, keepIDHash string) (int64, error) {
	res, err := ss.s.w.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2`, accountID, keepIDHash)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (ss sessions) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	res, err := ss.s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, usv(at), idHash)
	return affected(res, err)
}

func (ss sessions) DeleteSession(ctx context.Context, idHash string) error {
	_, err := ss.s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return err
}

func (ss sessions) DeleteAccountSessions(ctx context.Context, accountID string) error {
	_, err := ss.s.w.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1`, accountID)
	return err
}

func (ss sessions) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int64, error) {
	res, err := ss.s.w.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < $1 OR expires_at <= $2`, usv(idleBefore), usv(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// affected turns "no row changed" into store.ErrNotFound.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
