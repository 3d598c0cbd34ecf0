// Package audit records who did what: every admin action and every token
// event (issuance, refresh, reuse detection, revocation, removal) lands in
// the store's audit log. Events never carry secrets.
package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// Recorder writes audit events to the store.
type Recorder struct {
	log store.AuditLog
	now func() time.Time
	lg  *slog.Logger
}

// New returns a Recorder. now may be nil for time.Now.
func New(log store.AuditLog, now func() time.Time, lg *slog.Logger) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{log: log, now: now, lg: lg}
}

// Record appends events, stamping those without a time. A failure to write
// is logged and returned; callers on a request path usually only log it,
// since the action itself has already happened.
func (r *Recorder) Record(ctx context.Context, events ...store.AuditEvent) error {
	for i := range events {
		if events[i].At.IsZero() {
			events[i].At = r.now()
		}
	}
	err := r.log.AppendAudit(ctx, events...)
	if err != nil {
		for _, e := range events {
			r.lg.ErrorContext(ctx, "audit write failed", "action", e.Action, "org", e.OrgID, "client", e.ActorClientID, "err", err)
		}
	}
	return err
}
