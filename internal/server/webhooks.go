package server

import (
	"context"

	"github.com/grantflow/grantflow/internal/jobs"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/webhooks"
)

// mountWebhooks lets integrations register webhook URLs (through the
// registry) and delivers their events: the store writes them with the
// revocations, secret rotations and deletions they report; this process
// claims due ones (every second, and at once when the change feed shows a
// revocation or a client change) and delivers each as a River task. Secrets
// are sealed by Automation's vault.
func (s *Server) mountWebhooks() {
	wh := webhooks.New(s.store.ClientWebhooks(), s.Automation.Vault(), webhooks.Config{Now: s.now}, s.Audit, s.lg)
	s.Registry.SetWebhooks(wh)
	s.tasks = append(s.tasks, wh.Task())
	s.periodic = append(s.periodic, jobs.Periodic{Name: "webhook_prune", Interval: s.cfg.JanitorEvery, Run: wh.Prune})
	kick := func(string) { wh.Kick() }
	s.feed.Subscribe(store.ChangeGrant, kick)
	s.feed.Subscribe(store.ChangeClient, kick)
	s.background = append(s.background, func(ctx context.Context) {
		// An insert-only River client of its own: the process's runner
		// works the delivery tasks, this one enqueues them.
		q, err := jobs.Start(context.WithoutCancel(ctx), s.store, s.lg, nil)
		if err != nil {
			s.lg.Error("webhooks: no job queue; events wait for another process", "err", err)
			return
		}
		defer func() { _ = q.Stop(context.WithoutCancel(ctx)) }()
		wh.SetQueue(q)
		wh.Run(ctx)
	})
}
