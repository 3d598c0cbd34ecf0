// Package changes lets every grantflow process react within a second to
// mutations made by another process on the same store: a replica on the same
// PostgreSQL, or a CLI command run beside a server. Store mutations that
// matter to caches (revocations, client updates, membership changes) write a
// row to the store's change feed in their own transaction; a Feed reads that
// feed and calls the subscribers of each change's kind, exactly once per
// change.
//
// The process that makes a change calls [Feed.Sync] right after it, so its
// own caches are updated before it answers: revocation is immediate there.
// Every other process reads the feed when its [Listener] (PostgreSQL's
// LISTEN/NOTIFY) says a change was committed, and in any case every poll
// interval: the poll is what SQLite has, and what PostgreSQL falls back to
// while the listener's connection is down.
package changes

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// gapWait is how long a missing sequence number is waited for. On
// PostgreSQL a transaction that took seq 7 can commit after one that took
// seq 8; the feed re-reads from the gap until it fills or this passes.
const gapWait = 5 * time.Second

// Feed reads a store's change feed and dispatches to subscribers.
type Feed struct {
	src      store.Changes
	interval time.Duration
	lg       *slog.Logger
	listener Listener
	// kick holds at most one pending read asked for by a notification: a
	// burst of notifications during a read costs one more read, not one
	// each.
	kick chan struct{}

	mu     sync.Mutex // serialises reads
	last   int64      // highest seq dispatched
	gaps   map[int64]time.Time
	subsMu sync.RWMutex
	subs   map[string][]func(key string)
}

// New returns a Feed that starts after the newest existing change: caches
// are empty at start, so older changes need no replay.
func New(ctx context.Context, src store.Changes, interval time.Duration, lg *slog.Logger) (*Feed, error) {
	last, err := src.LatestChange(ctx)
	if err != nil {
		return nil, err
	}
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	return &Feed{src: src, interval: interval, lg: lg, kick: make(chan struct{}, 1), last: last, gaps: map[int64]time.Time{}, subs: map[string][]func(string){}}, nil
}

// Subscribe calls fn with the key of every change of kind. fn must be fast
// and must not call back into the Feed.
func (f *Feed) Subscribe(kind string, fn func(key string)) {
	f.subsMu.Lock()
	defer f.subsMu.Unlock()
	f.subs[kind] = append(f.subs[kind], fn)
}

// Run reads the feed every poll interval and whenever the listener (see
// [Feed.SetListener]) hears of a change, one read at a time, until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait() // the listener's connection is closed before Run returns
	if f.listener != nil {
		wg.Go(func() { f.listen(ctx) })
	}
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.kick:
		}
		if err := f.Sync(ctx); err != nil && ctx.Err() == nil {
			f.lg.Warn("change feed read failed", "err", err)
		}
	}
}

// Sync reads and dispatches every change not yet seen.
func (f *Feed) Sync(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	from := f.last
	now := time.Now()
	for seq, since := range f.gaps {
		if now.Sub(since) > gapWait {
			delete(f.gaps, seq)
			continue
		}
		if seq-1 < from {
			from = seq - 1
		}
	}
	for {
		chs, err := f.src.ChangesSince(ctx, from, 1000)
		if err != nil {
			return err
		}
		for _, c := range chs {
			if c.Seq <= f.last {
				if _, missing := f.gaps[c.Seq]; !missing {
					continue // already dispatched
				}
				delete(f.gaps, c.Seq)
			} else {
				for s := f.last + 1; s < c.Seq; s++ {
					f.gaps[s] = now
				}
				f.last = c.Seq
			}
			f.dispatch(c)
		}
		if len(chs) < 1000 {
			return nil
		}
		from = chs[len(chs)-1].Seq
	}
}

func (f *Feed) dispatch(c store.Change) {
	f.subsMu.RLock()
	fns := f.subs[c.Kind]
	f.subsMu.RUnlock()
	for _, fn := range fns {
		fn(c.Key)
	}
}
