package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type automation struct{ s *Store }

// Automation returns Automation's tenants, targets, tokens and keys.
func (s *Store) Automation() store.Automation { return automation{s} }

// SQLiteDir is the directory of the SQLite file ("" on PostgreSQL), where
// Automation keeps its key file when no key is configured.
func (s *Store) SQLiteDir() string {
	if s.dialect != "sqlite" {
		return ""
	}
	return filepath.Dir(s.path)
}

// --- tenants and roles ---

const tenantCols = `id, org_id, meraki, created_by, created_at`

func scanTenant(row interface{ Scan(...any) error }) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	err := row.Scan(&t.ID, &t.OrgID, &t.Meraki, &t.CreatedBy, &created)
	t.CreatedAt = fromUSv(created)
	return t, err
}

func (a automation) CreateTenant(ctx context.Context, t store.Tenant) error {
	_, err := a.s.w.ExecContext(ctx, `INSERT INTO automation_tenants (`+tenantCols+`) VALUES ($1, $2, $3, $4, $5)`,
		t.ID, t.OrgID, t.Meraki, t.CreatedBy, usv(t.CreatedAt))
	return notFoundFK(conflictOr(err))
}

func (a automation) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	t, err := scanTenant(a.s.r.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM automation_tenants WHERE id = $1`, id))
	return t, notFound(err)
}

func (a automation) GetTenantByOrg(ctx context.Context, orgID string) (store.Tenant, error) {
	t, err := scanTenant(a.s.r.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM automation_tenants WHERE org_id = $1`, orgID))
	return t, notFound(err)
}

func (a automation) ListTenants(ctx context.Context, orgID string) ([]store.Tenant, error) {
	q, args := `SELECT `+tenantCols+` FROM automation_tenants`, []any{}
	if orgID != "" {
		q += ` WHERE org_id = $1`
		args = append(args, orgID)
	}
	rows, err := a.s.r.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (a automation) SetTenantMeraki(ctx context.Context, id string, meraki bool) error {
	res, err := a.s.w.ExecContext(ctx, `UPDATE automation_tenants SET meraki = $1 WHERE id = $2`, meraki, id)
	return affected(res, err)
}

func (a automation) PutRole(ctx context.Context, r store.TenantRole) error {
	_, err := a.s.w.ExecContext(ctx, `INSERT INTO automation_roles (tenant_id, account_id, role, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, account_id) DO UPDATE SET role = excluded.role, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		r.TenantID, r.AccountID, string(r.Role), r.UpdatedBy, usv(r.UpdatedAt))
	return notFoundFK(err)
}

func (a automation) ListRoles(ctx context.Context, tenantID string) ([]store.TenantRole, error) {
	rows, err := a.s.r.QueryContext(ctx, `SELECT tenant_id, account_id, role, updated_by, updated_at FROM automation_roles WHERE tenant_id = $1 ORDER BY account_id`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.TenantRole
	for rows.Next() {
		var r store.TenantRole
		var role string
		var updated int64
		if err := rows.Scan(&r.TenantID, &r.AccountID, &role, &r.UpdatedBy, &updated); err != nil {
			return nil, err
		}
		r.Role, r.UpdatedAt = store.Role(role), fromUSv(updated)
		out = append(out, r)
	}
	return out, rows.Err()
}

// --- targets ---

const targetCols = `id, tenant_id, name, type, protocol, host, port, base_path, proxy_url, metadata_version, created_trigger, created_at, updated_at, synced_at,
	external_id, properties`

func scanTarget(row interface{ Scan(...any) error }) (store.Target, error) {
	var t store.Target
	var created, updated, synced int64
	err := row.Scan(&t.ID, &t.TenantID, &t.Name, &t.Type, &t.Protocol, &t.Host, &t.Port, &t.BasePath, &t.ProxyURL,
		&t.MetadataVersion, &t.CreatedTrigger, &created, &updated, &synced, &t.ExternalID, &t.Properties)
	t.CreatedAt, t.UpdatedAt, t.SyncedAt = fromUSv(created), fromUSv(updated), fromUSv(synced)
	return t, err
}

func targetArgs(t store.Target) []any {
	return []any{t.ID, t.TenantID, t.Name, t.Type, t.Protocol, t.Host, t.Port, t.BasePath, t.ProxyURL,
		t.MetadataVersion, t.CreatedTrigger, usv(t.CreatedAt), usv(t.UpdatedAt), usv(t.SyncedAt), t.ExternalID, blob(t.Properties)}
}

func (a automation) CreateTarget(ctx context.Context, t store.Target) error {
	_, err := a.s.w.ExecContext(ctx, `INSERT INTO automation_targets (`+targetCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		targetArgs(t)...)
	return notFoundFK(conflictOr(err))
}

func (a automation) GetTarget(ctx context.Context, id string) (store.Target, error) {
	t, err := scanTarget(a.s.r.QueryRowContext(ctx, `SELECT `+targetCols+` FROM automation_targets WHERE id = $1`, id))
	return t, notFound(err)
}

// UpsertImportedTarget inserts with ON CONFLICT DO NOTHING on the imported
// targets' unique index, so racing imports of one export agree on one row
// without a lock, and then reads whichever row won.
func (a automation) UpsertImportedTarget(ctx context.Context, t store.Target) (store.Target, error) {
	if t.ExternalID == "" {
		return store.Target{}, errors.New("sqlstore: an imported target needs an external id")
	}
	_, err := a.s.w.ExecContext(ctx, `INSERT INTO automation_targets (`+targetCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (tenant_id, external_id) WHERE external_id <> '' DO NOTHING`, targetArgs(t)...)
	if err != nil {
		return store.Target{}, notFoundFK(conflictOr(err))
	}
	got, err := scanTarget(a.s.w.QueryRowContext(ctx, `SELECT `+targetCols+` FROM automation_targets WHERE tenant_id = $1 AND external_id = $2`, t.TenantID, t.ExternalID))
	return got, notFound(err)
}

func (a automation) GetTargetByName(ctx context.Context, tenantID, name string) (store.Target, error) {
	t, err := scanTarget(a.s.r.QueryRowContext(ctx, `SELECT `+targetCols+` FROM automation_targets WHERE tenant_id = $1 AND name = $2`, tenantID, name))
	return t, notFound(err)
}

func (a automation) ListTargets(ctx context.Context, tenantID string) ([]store.Target, error) {
	rows, err := a.s.r.QueryContext(ctx, `SELECT `+targetCols+` FROM automation_targets WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Target
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (a automation) UpdateTarget(ctx context.Context, id string, update func(*store.Target) error) (store.Target, error) {
	var out store.Target
	err := a.s.tx(ctx, func(tx *sql.Tx) error {
		t, err := scanTarget(tx.QueryRowContext(ctx, `SELECT `+targetCols+` FROM automation_targets WHERE id = $1`+a.s.forUpdate, id))
		if err != nil {
			return notFound(err)
		}
		tenant, created, external := t.TenantID, t.CreatedAt, t.ExternalID
		if err := update(&t); err != nil {
			return err
		}
		t.ID, t.TenantID, t.CreatedAt, t.ExternalID = id, tenant, created, external
		if _, err := tx.ExecContext(ctx, `UPDATE automation_targets SET name = $3, type = $4, protocol = $5, host = $6, port = $7,
			base_path = $8, proxy_url = $9, metadata_version = $10, created_trigger = $11, updated_at = $13, synced_at = $14, properties = $16
			WHERE id = $1 AND tenant_id = $2 AND created_at = $12 AND external_id = $15`, targetArgs(t)...); err != nil {
			return conflictOr(err)
		}
		out = t
		return nil
	})
	return out, err
}

// --- tokens ---

const tokenCols = `id, tenant_id, org_id, kind, account_id, issuer, client_id, scopes, refresh_sealed, refresh_hash,
	access_sealed, access_expires_at, access_scopes, state, reason, created_at, refreshed_at, last_used_at,
	inflight_hash, inflight_attempts, inflight_at, lease_holder, lease_until`

func scanToken(row interface{ Scan(...any) error }) (store.AutomationToken, error) {
	var t store.AutomationToken
	var kind, scopes, accessScopes string
	var created, refreshed int64
	var accessExp, lastUsed, inflightAt, leaseUntil sql.NullInt64
	err := row.Scan(&t.ID, &t.TenantID, &t.OrgID, &kind, &t.AccountID, &t.Issuer, &t.ClientID, &scopes, &t.RefreshSealed, &t.RefreshHash,
		&t.AccessSealed, &accessExp, &accessScopes, &t.State, &t.Reason, &created, &refreshed, &lastUsed,
		&t.InflightHash, &t.InflightAttempts, &inflightAt, &t.LeaseHolder, &leaseUntil)
	t.Kind, t.Scopes, t.AccessScopes = store.TokenKind(kind), splitList(scopes), splitList(accessScopes)
	t.CreatedAt, t.RefreshedAt = fromUSv(created), fromUSv(refreshed)
	t.AccessExpiresAt, t.LastUsedAt, t.InflightAt, t.LeaseUntil = fromUS(accessExp), fromUS(lastUsed), fromUS(inflightAt), fromUS(leaseUntil)
	return t, err
}

// ownerKey makes the uniqueness rule: one org token per tenant, one user
// token per tenant and account.
func ownerKey(kind store.TokenKind, accountID string) string {
	if kind == store.TokenOrg {
		return ""
	}
	return accountID
}

func tokenArgs(t store.AutomationToken) []any {
	return []any{t.ID, t.TenantID, t.OrgID, string(t.Kind), t.AccountID, t.Issuer, t.ClientID, joinList(t.Scopes), t.RefreshSealed, t.RefreshHash,
		t.AccessSealed, us(t.AccessExpiresAt), joinList(t.AccessScopes), t.State, t.Reason, usv(t.CreatedAt), usv(t.RefreshedAt), us(t.LastUsedAt),
		t.InflightHash, t.InflightAttempts, us(t.InflightAt), t.LeaseHolder, us(t.LeaseUntil)}
}

func (a automation) PutToken(ctx context.Context, t store.AutomationToken) (*store.AutomationToken, error) {
	var old *store.AutomationToken
	err := a.s.tx(ctx, func(tx *sql.Tx) error {
		// Two first issuances have no token row to lock; the tenant row
		// serialises them (on SQLite the transaction already does).
		var id string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM automation_tenants WHERE id = $1`+a.s.forUpdate, t.TenantID).Scan(&id); err != nil {
			return notFound(err)
		}
		prev, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM automation_tokens
			WHERE tenant_id = $1 AND kind = $2 AND owner_key = $3`+a.s.forUpdate, t.TenantID, string(t.Kind), ownerKey(t.Kind, t.AccountID)))
		switch {
		case err == nil:
			old = &prev
			if _, err := tx.ExecContext(ctx, `DELETE FROM automation_tokens WHERE id = $1`, prev.ID); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		args := append(tokenArgs(t), ownerKey(t.Kind, t.AccountID))
		_, err = tx.ExecContext(ctx, `INSERT INTO automation_tokens (`+tokenCols+`, owner_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
			$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)`, args...)
		return conflictOr(err)
	})
	return old, err
}

func (a automation) GetToken(ctx context.Context, tenantID string, kind store.TokenKind, accountID string) (store.AutomationToken, error) {
	t, err := scanToken(a.s.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM automation_tokens WHERE tenant_id = $1 AND kind = $2 AND owner_key = $3`,
		tenantID, string(kind), ownerKey(kind, accountID)))
	return t, notFound(err)
}

func (a automation) GetTokenByID(ctx context.Context, id string) (store.AutomationToken, error) {
	t, err := scanToken(a.s.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM automation_tokens WHERE id = $1`, id))
	return t, notFound(err)
}

func (a automation) ListTokens(ctx context.Context, f store.TokenFilter) ([]store.AutomationToken, error) {
	var w where
	if f.TenantID != "" {
		w.add("tenant_id = " + w.arg(f.TenantID))
	}
	if f.Kind != "" {
		w.add("kind = " + w.arg(string(f.Kind)))
	}
	if !f.RefreshedBefore.IsZero() {
		w.add("refreshed_at < " + w.arg(usv(f.RefreshedBefore)))
	}
	rows, err := a.s.r.QueryContext(ctx, `SELECT `+tokenCols+` FROM automation_tokens`+w.String()+` ORDER BY tenant_id, kind, created_at, id`, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AutomationToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (a automation) UpdateToken(ctx context.Context, id string, update func(*store.AutomationToken) error) (store.AutomationToken, error) {
	var out store.AutomationToken
	err := a.s.tx(ctx, func(tx *sql.Tx) error {
		t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM automation_tokens WHERE id = $1`+a.s.forUpdate, id))
		if err != nil {
			return notFound(err)
		}
		// Identity fields are the row's binding (and the vault's associated
		// data): an update cannot move a token to another tenant or owner.
		keep := t
		if err := update(&t); err != nil {
			return err
		}
		t.ID, t.TenantID, t.OrgID, t.Kind, t.AccountID, t.CreatedAt = keep.ID, keep.TenantID, keep.OrgID, keep.Kind, keep.AccountID, keep.CreatedAt
		args := tokenArgs(t)
		if _, err := tx.ExecContext(ctx, `UPDATE automation_tokens SET issuer = $6, client_id = $7, scopes = $8, refresh_sealed = $9,
			refresh_hash = $10, access_sealed = $11, access_expires_at = $12, access_scopes = $13, state = $14, reason = $15, refreshed_at = $17,
			last_used_at = $18, inflight_hash = $19, inflight_attempts = $20, inflight_at = $21, lease_holder = $22, lease_until = $23
			WHERE id = $1 AND tenant_id = $2 AND org_id = $3 AND kind = $4 AND account_id = $5 AND created_at = $16`, args...); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

func (a automation) AcquireLease(ctx context.Context, id, holder string, now, until time.Time) (bool, error) {
	res, err := a.s.w.ExecContext(ctx, `UPDATE automation_tokens SET lease_holder = $1, lease_until = $2
		WHERE id = $3 AND (lease_holder = '' OR lease_holder = $1 OR lease_until IS NULL OR lease_until < $4)`,
		holder, usv(until), id, usv(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (a automation) ReleaseLease(ctx context.Context, id, holder string) error {
	_, err := a.s.w.ExecContext(ctx, `UPDATE automation_tokens SET lease_holder = '', lease_until = NULL WHERE id = $1 AND lease_holder = $2`, id, holder)
	return err
}

func (a automation) DeleteToken(ctx context.Context, id string) error {
	res, err := a.s.w.ExecContext(ctx, `DELETE FROM automation_tokens WHERE id = $1`, id)
	return affected(res, err)
}

// --- pending authorization requests ---

const stateCols = `hash, account_id, tenant_id, org_id, kind, issuer, verifier_sealed, created_at, expires_at`

func scanState(row interface{ Scan(...any) error }) (store.AuthState, error) {
	var s store.AuthState
	var kind string
	var created, expires int64
	err := row.Scan(&s.Hash, &s.AccountID, &s.TenantID, &s.OrgID, &kind, &s.Issuer, &s.VerifierSealed, &created, &expires)
	s.Kind, s.CreatedAt, s.ExpiresAt = store.TokenKind(kind), fromUSv(created), fromUSv(expires)
	return s, err
}

func (a automation) CreateAuthState(ctx context.Context, s store.AuthState) error {
	_, err := a.s.w.ExecContext(ctx, `INSERT INTO automation_states (`+stateCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.Hash, s.AccountID, s.TenantID, s.OrgID, string(s.Kind), s.Issuer, s.VerifierSealed, usv(s.CreatedAt), usv(s.ExpiresAt))
	return conflictOr(err)
}

// ConsumeAuthState deletes the row in the statement that reads it, so two
// callbacks presenting the same state cannot both get it.
func (a automation) ConsumeAuthState(ctx context.Context, hash string, now time.Time) (store.AuthState, error) {
	s, err := scanState(a.s.w.QueryRowContext(ctx, `DELETE FROM automation_states WHERE hash = $1 RETURNING `+stateCols, hash))
	if err != nil {
		return store.AuthState{}, notFound(err)
	}
	if !now.Before(s.ExpiresAt) {
		return store.AuthState{}, store.ErrNotFound
	}
	return s, nil
}

func (a automation) ListAuthStates(ctx context.Context) ([]store.AuthState, error) {
	rows, err := a.s.r.QueryContext(ctx, `SELECT `+stateCols+` FROM automation_states ORDER BY created_at, hash`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AuthState
	for rows.Next() {
		s, err := scanState(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (a automation) ResealAuthState(ctx context.Context, hash, sealed string) error {
	res, err := a.s.w.ExecContext(ctx, `UPDATE automation_states SET verifier_sealed = $1 WHERE hash = $2`, sealed, hash)
	return affected(res, err)
}

func (a automation) DeleteExpiredAuthStates(ctx context.Context, now time.Time) (int64, error) {
	res, err := a.s.w.ExecContext(ctx, `DELETE FROM automation_states WHERE expires_at <= $1`, usv(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// --- Automation's client registration ---

const autoClientCols = `name, client_id, secret_sealed, redirect_uri, created_at, updated_at`

func scanAutoClient(row interface{ Scan(...any) error }) (store.AutomationClient, error) {
	var c store.AutomationClient
	var created, updated int64
	err := row.Scan(&c.Name, &c.ClientID, &c.SecretSealed, &c.RedirectURI, &created, &updated)
	c.CreatedAt, c.UpdatedAt = fromUSv(created), fromUSv(updated)
	return c, err
}

func (a automation) CreateAutomationClient(ctx context.Context, c store.AutomationClient) error {
	_, err := a.s.w.ExecContext(ctx, `INSERT INTO automation_clients (`+autoClientCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Name, c.ClientID, c.SecretSealed, c.RedirectURI, usv(c.CreatedAt), usv(c.UpdatedAt))
	return conflictOr(err)
}

func (a automation) GetAutomationClient(ctx context.Context, name string) (store.AutomationClient, error) {
	c, err := scanAutoClient(a.s.r.QueryRowContext(ctx, `SELECT `+autoClientCols+` FROM automation_clients WHERE name = $1`, name))
	return c, notFound(err)
}

func (a automation) UpdateAutomationClient(ctx context.Context, name string, update func(*store.AutomationClient) error) (store.AutomationClient, error) {
	var out store.AutomationClient
	err := a.s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanAutoClient(tx.QueryRowContext(ctx, `SELECT `+autoClientCols+` FROM automation_clients WHERE name = $1`+a.s.forUpdate, name))
		if err != nil {
			return notFound(err)
		}
		created := c.CreatedAt
		if err := update(&c); err != nil {
			return err
		}
		c.Name, c.CreatedAt = name, created
		if _, err := tx.ExecContext(ctx, `UPDATE automation_clients SET client_id = $2, secret_sealed = $3, redirect_uri = $4, updated_at = $5 WHERE name = $1`,
			name, c.ClientID, c.SecretSealed, c.RedirectURI, usv(c.UpdatedAt)); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

func (a automation) DeleteAutomationClient(ctx context.Context, name string) error {
	res, err := a.s.w.ExecContext(ctx, `DELETE FROM automation_clients WHERE name = $1`, name)
	return affected(res, err)
}

// --- vault data keys ---

func (a automation) CreateDataKey(ctx context.Context, k store.DataKey) error {
	_, err := a.s.w.ExecContext(ctx, `INSERT INTO automation_keys (id, master_id, wrapped, created_at) VALUES ($1, $2, $3, $4)`,
		k.ID, k.MasterID, k.Wrapped, usv(k.CreatedAt))
	return conflictOr(err)
}

func (a automation) ListDataKeys(ctx context.Context) ([]store.DataKey, error) {
	rows, err := a.s.r.QueryContext(ctx, `SELECT id, master_id, wrapped, created_at FROM automation_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.DataKey
	for rows.Next() {
		var k store.DataKey
		var created int64
		if err := rows.Scan(&k.ID, &k.MasterID, &k.Wrapped, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = fromUSv(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (a automation) DeleteDataKey(ctx context.Context, id string) error {
	res, err := a.s.w.ExecContext(ctx, `DELETE FROM automation_keys WHERE id = $1`, id)
	return affected(res, err)
}
