package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type clients struct{ s *Store }

const clientCols = `id, owner_account_id, name, secret_hash, redirect_uris, scopes, resource_server, first_party, refresh_grace_us, created_at, updated_at`

func scanClient(row scanner) (store.Client, error) {
	var c store.Client
	var uris, scopes string
	var grace, created, updated int64
	err := row.Scan(&c.ID, &c.OwnerAccountID, &c.Name, &c.SecretHash, &uris, &scopes,
		&c.ResourceServer, &c.FirstParty, &grace, &created, &updated)
	c.RedirectURIs = splitLines(uris)
	c.Scopes = splitList(scopes)
	c.RefreshGrace = time.Duration(grace) * time.Microsecond
	c.CreatedAt, c.UpdatedAt = fromUSv(created), fromUSv(updated)
	return c, err
}

// Redirect URIs are kept one per line: a URI cannot contain a raw newline.
func joinLines(l []string) string { return strings.Join(l, "\n") }

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func clientArgs(c store.Client) []any {
	return []any{c.ID, c.OwnerAccountID, c.Name, c.SecretHash, joinLines(c.RedirectURIs), joinList(c.Scopes),
		c.ResourceServer, c.FirstParty, c.RefreshGrace.Microseconds(), usv(c.CreatedAt), usv(c.UpdatedAt)}
}

func (cs clients) CreateClient(ctx context.Context, c store.Client) error {
	_, err := cs.s.w.ExecContext(ctx, `INSERT INTO clients (`+clientCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, clientArgs(c)...)
	return conflictOr(err)
}

func (cs clients) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(cs.s.r.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE id = $1`, id))
	return c, notFound(err)
}

func (cs clients) ListClients(ctx context.Context, owner string) ([]store.Client, error) {
	q := `SELECT ` + clientCols + ` FROM clients`
	var args []any
	if owner != "" {
		q += ` WHERE owner_account_id = $1`
		args = append(args, owner)
	}
	rows, err := cs.s.r.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (cs clients) UpdateClient(ctx context.Context, id string, update func(*store.Client) error) (store.Client, error) {
	var out store.Client
	err := cs.s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanClient(tx.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE id = $1`+cs.s.forUpdate, id))
		if err != nil {
			return notFound(err)
		}
		created, secret := c.CreatedAt, c.SecretHash
		if err := update(&c); err != nil {
			return err
		}
		if c.SecretHash != secret {
			if err := queueClientEvent(ctx, tx, id, store.EventClientSecretRotated, store.ReasonSecretRotated, c.UpdatedAt); err != nil {
				return err
			}
		}
		c.ID, c.CreatedAt = id, created
		args := clientArgs(c)
		if _, err := tx.ExecContext(ctx, `UPDATE clients SET owner_account_id = $2, name = $3, secret_hash = $4, redirect_uris = $5,
			scopes = $6, resource_server = $7, first_party = $8, refresh_grace_us = $9, updated_at = $11 WHERE id = $1 AND created_at = $10`, args...); err != nil {
			return err
		}
		out = c
		return publish(ctx, tx, store.ChangeClient, id, c.UpdatedAt)
	})
	return out, err
}

func (cs clients) DeleteClient(ctx context.Context, id string, at time.Time) error {
	return cs.s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM clients WHERE id = $1`, id)
		if err := affected(res, err); err != nil {
			return err
		}
		if err := queueClientEvent(ctx, tx, id, store.EventClientDeleted, store.ReasonClientDeleted, at); err != nil {
			return err
		}
		if _, err := revokeGrantsWhere(ctx, tx, `client_id = $3`, store.ReasonClientDeleted, at, id); err != nil {
			return err
		}
		return publish(ctx, tx, store.ChangeClient, id, at)
	})
}
