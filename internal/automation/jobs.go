package automation

import (
	"context"
	"time"

	"github.com/grantflow/grantflow/internal/jobs"
)

// keepAliveEvery is how often the keep-alive looks for tokens to refresh;
// with tokens refreshed after 30 idle days, a day is far inside the 90-day
// limit even if several runs fail.
const keepAliveEvery = 12 * time.Hour

// Periodic returns Automation's periodic jobs, run by River (one replica
// runs each): the Current Org target sync every syncEvery (24h, as Cisco
// Workflows), and the token keep-alive.
func (s *Service) Periodic(syncEvery time.Duration) []jobs.Periodic {
	return []jobs.Periodic{
		{Name: "automation_sync", Interval: syncEvery, Timeout: 10 * time.Minute, Run: func(ctx context.Context) error {
			res, err := s.Sync(ctx)
			s.lg.InfoContext(ctx, "automation sync", "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged, "err", err)
			return err
		}},
		{Name: "automation_keepalive", Interval: keepAliveEvery, Timeout: 10 * time.Minute, Run: func(ctx context.Context) error {
			n, err := s.KeepAlive(ctx)
			s.lg.InfoContext(ctx, "automation token keep-alive", "refreshed", n, "err", err)
			return err
		}},
	}
}
