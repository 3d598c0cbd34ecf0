package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ChangesChannel is the PostgreSQL notification channel on which the commit
// of every change-feed row is announced (a trigger on the changes table,
// migration 0010), whichever process or command wrote it.
const ChangesChannel = "grantflow_changes"

// ListenerName is the application_name of the connection [Store.ListenChanges]
// holds, so that operators (and tests) can find it in pg_stat_activity.
const ListenerName = "grantflow change listener"

// listenerPing is how long the listener waits in silence before it checks
// that its connection still answers: a peer that vanished without closing
// the TCP connection would otherwise go unnoticed for the kernel's
// keepalive time, and the feed would fall back to polling unawares.
const listenerPing = 30 * time.Second

// ListenChanges opens a connection of its own (outside the pool, which it
// would otherwise hold for ever), LISTENs on [ChangesChannel], calls ready
// once it listens and notify for every notification, until ctx ends or the
// connection fails; it returns why it stopped. It does not reconnect: its
// caller does, with backoff. On SQLite it returns [errors.ErrUnsupported].
func (s *Store) ListenChanges(ctx context.Context, ready, notify func()) error {
	if s.pool == nil {
		return errors.ErrUnsupported
	}
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("sqlstore: change listener: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+ChangesChannel); err != nil {
		return fmt.Errorf("sqlstore: change listener: listen: %w", err)
	}
	ready()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenerPing)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			notify()
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err): // quiet for a while: still connected?
			if err := conn.Ping(ctx); err != nil {
				return fmt.Errorf("sqlstore: change listener: ping: %w", err)
			}
		default:
			return fmt.Errorf("sqlstore: change listener: %w", err)
		}
	}
}
