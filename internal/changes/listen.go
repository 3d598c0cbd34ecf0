package changes

import (
	"context"
	"math/rand/v2"
	"time"
)

// A Listener tells a Feed at once that a change was committed somewhere,
// so that it reads the feed then rather than at its next poll. It holds one
// connection, calls ready once it listens and notify for every
// notification, and returns (with the reason) when ctx ends or the
// connection fails; the Feed calls it again with backoff.
// The PostgreSQL one is sqlstore's Store.ListenChanges.
//
// A notification only says "read the feed": the Feed reads from its own
// position as a poll does, so a lost or early notification can delay a
// change until the next poll but never skip or repeat one.
type Listener func(ctx context.Context, ready, notify func()) error

// Reconnection backoff of the listener: the first retry is quick (a
// restarted database, a terminated backend), later ones spread out so a
// database that stays down is not hammered; the poll covers the outage.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// SetListener makes Run also read the feed whenever l hears of a change.
// Call it before Run.
func (f *Feed) SetListener(l Listener) { f.listener = l }

// notify asks Run for a read, unless one is already pending: with one read
// in flight and one pending, every change committed before the
// notification is read by the pending one.
func (f *Feed) notify() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// listen runs the listener until ctx ends, reconnecting with backoff.
func (f *Feed) listen(ctx context.Context) {
	backoff := minBackoff
	down := false // logged as down, so an outage is logged once
	for {
		listening := false
		err := f.listener(ctx, func() {
			listening, backoff = true, minBackoff
			if down {
				down = false
				f.lg.Info("change listener reconnected")
			}
			// Changes committed while nobody listened were announced to
			// nobody: read them now rather than at the next poll.
			f.notify()
		}, f.notify)
		if ctx.Err() != nil {
			return
		}
		if listening || !down {
			down = true
			f.lg.Warn("change listener down; polling the change feed until it reconnects", "poll", f.interval, "err", err)
		}
		// Jitter, so that replicas cut off together do not reconnect together.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}
