package authz

import (
	"context"
	"log/slog"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// RevokedRetention is how long a revoked grant's rows are kept before the
// janitor deletes them. After that a replay of one of its refresh tokens
// is simply unknown (invalid_grant): there is nothing left to revoke.
const RevokedRetention = 24 * time.Hour

// Janitor deletes what nobody can use any more: codes expired more than
// [RevokedRetention] ago, expired access tokens, grants revoked more than [RevokedRetention] ago, and grants idle
// for longer than the refresh idle limit. A live grant keeps its rotated
// refresh tokens' hashes for as long as its current refresh token could
// be used, so reuse detection (RFC 9700 §4.14.2) never lapses. The caller
// schedules RunOnce (a periodic River job).
type Janitor struct {
	grants      store.Grants
	now         func() time.Time
	refreshIdle time.Duration
	lg          *slog.Logger
}

// NewJanitor returns a janitor for the grants store; cfg gives the clock
// and the refresh idle limit.
func NewJanitor(grants store.Grants, cfg Config, lg *slog.Logger) *Janitor {
	cfg = cfg.withDefaults()
	return &Janitor{grants: grants, now: cfg.Now, refreshIdle: cfg.RefreshIdle, lg: lg}
}

// RunOnce cleans up once and logs what it deleted.
func (j *Janitor) RunOnce(ctx context.Context) (store.CleanupResult, error) {
	now := j.now()
	res, err := j.grants.Cleanup(ctx, store.CleanupParams{
		Now: now,
		// A redeemed code is kept past its expiry so that a late replay
		// still finds it and revokes what it issued.
		CodesExpiredBefore: now.Add(-RevokedRetention),
		RevokedBefore:      now.Add(-RevokedRetention),
		IdleBefore:         now.Add(-j.refreshIdle),
	})
	if err != nil {
		j.lg.ErrorContext(ctx, "oauth cleanup failed", "err", err)
		return res, err
	}
	j.lg.InfoContext(ctx, "oauth cleanup", "codes", res.Codes, "access_tokens", res.AccessTokens, "grants", res.Grants)
	return res, nil
}
