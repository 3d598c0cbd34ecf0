package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

type apiKeys struct{ s *Store }

// APIKeys returns the Dashboard API keys.
func (s *Store) APIKeys() store.APIKeys { return apiKeys{s} }

const apiKeyCols = `id, account_id, hash, last4, name, created_at, last_used_at`

func scanAPIKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var created int64
	var used sql.NullInt64
	err := row.Scan(&k.ID, &k.AccountID, &k.Hash, &k.Last4, &k.Name, &created, &used)
	k.CreatedAt = fromUSv(created)
	if used.Valid {
		k.LastUsedAt = fromUSv(used.Int64)
	}
	return k, err
}

func (a apiKeys) TouchAPIKey(ctx context.Context, id string, at time.Time, minGap time.Duration) error {
	_, err := a.s.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		usv(at), id, usv(at.Add(-minGap)))
	return err
}

// CreateAPIKey takes the lowest free slot of the account. Two racing
// creations that pick the same slot collide on UNIQUE (account_id, slot),
// so the limit holds without locking the account.
func (a apiKeys) CreateAPIKey(ctx context.Context, k store.APIKey, max int) error {
	// Two creations racing on PostgreSQL can both see slot 1 free; the
	// loser's insert then violates (account_id, slot) although another slot
	// may be free, so it looks again. Each round one racer wins, so max+1
	// rounds settle it.
	var err error
	for range max + 1 {
		err = a.createAPIKey(ctx, k, max)
		if !errors.Is(err, errSlotTaken) {
			break
		}
	}
	if errors.Is(err, errSlotTaken) {
		return store.ErrConflict
	}
	return err
}

// errSlotTaken is a lost race for a key slot, as opposed to a full account.
var errSlotTaken = errors.New("sqlstore: api key slot taken concurrently")

func (a apiKeys) createAPIKey(ctx context.Context, k store.APIKey, max int) error {
	return a.s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT slot FROM api_keys WHERE account_id = $1`, k.AccountID)
		if err != nil {
			return err
		}
		used := map[int]bool{}
		for rows.Next() {
			var slot int
			if err := rows.Scan(&slot); err != nil {
				rows.Close()
				return err
			}
			used[slot] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		slot := 0
		for i := 1; i <= max; i++ {
			if !used[i] {
				slot = i
				break
			}
		}
		if slot == 0 {
			return store.ErrConflict
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (id, account_id, slot, hash, last4, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			k.ID, k.AccountID, slot, k.Hash, k.Last4, k.Name, usv(k.CreatedAt))
		if isUnique(err) && strings.Contains(err.Error(), "slot") {
			return errSlotTaken
		}
		return notFoundFK(conflictOr(err))
	})
}

func (a apiKeys) GetAPIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	k, err := scanAPIKey(a.s.r.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash))
	return k, notFound(err)
}

func (a apiKeys) ListAPIKeys(ctx context.Context, accountID string) ([]store.APIKey, error) {
	rows, err := a.s.r.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE account_id = $1 ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (a apiKeys) DeleteAPIKey(ctx context.Context, accountID, id string, at time.Time) (store.APIKey, error) {
	var k store.APIKey
	err := a.s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		k, err = scanAPIKey(tx.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = $1 AND account_id = $2`+a.s.forUpdate, id, accountID))
		if err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE id = $1`, id); err != nil {
			return err
		}
		return publish(ctx, tx, store.ChangeAPIKey, k.Hash, at)
	})
	return k, err
}
