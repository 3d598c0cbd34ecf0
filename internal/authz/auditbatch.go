package authz

import (
	"context"
	"sync"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/store"
)

// groupAudit writes the audit events of concurrent requests together
// (group commit): under load, one audit transaction carries many token
// endpoint events instead of one commit each, which on PostgreSQL with
// synchronous_commit is a disk flush per request. Each caller still waits
// until its own event is written, so no answer goes out before its audit
// record exists.
//
// There is no background goroutine: the first caller to find no write in
// progress becomes the leader and writes everything pending; callers that
// arrive meanwhile queue, and when the leader is done it hands leadership
// to the first of them, whose batch holds all that queued.
type groupAudit struct {
	rec     *audit.Recorder
	mu      sync.Mutex
	writing bool
	pending []*auditWaiter
}

type auditWaiter struct {
	ev  store.AuditEvent
	err error
	// done receives true once the event was written (err set), or false
	// when this waiter must lead the next batch.
	done chan bool
}

// maxAuditBatch bounds one write.
const maxAuditBatch = 256

func (g *groupAudit) record(ctx context.Context, ev store.AuditEvent) error {
	w := &auditWaiter{ev: ev, done: make(chan bool, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if g.writing {
		g.mu.Unlock()
		if <-w.done {
			return w.err
		}
		g.mu.Lock() // we lead now
	}
	g.writing = true
	n := min(len(g.pending), maxAuditBatch)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	events := make([]store.AuditEvent, len(batch))
	for i, b := range batch {
		events[i] = b.ev
	}
	// Other requests' events ride on this write: it must not fail because
	// this request was cancelled.
	err := g.rec.Record(context.WithoutCancel(ctx), events...)
	for _, b := range batch {
		if b != w {
			b.err = err
			b.done <- true
		}
	}

	g.mu.Lock()
	if len(g.pending) > 0 {
		g.pending[0].done <- false
	} else {
		g.writing = false
	}
	g.mu.Unlock()
	return err
}
