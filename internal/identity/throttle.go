package identity

import (
	"sync"
	"time"
)

// Login throttling defaults: after maxFailures failed logins within window
// for one email or one client address, further attempts are refused until
// the oldest failure leaves the window.
const (
	throttleMaxFailures = 5
	throttleWindow      = 15 * time.Minute
	throttleSweepSize   = 10000
)

// throttle counts failed logins per key (an email or a client IP) in a
// sliding window.
//
// The counters live in this process's memory: each replica counts on its own
// and a restart forgets them. With N replicas an attacker gets at most N
// times the budget, which the argon2 cost and the small budget still keep
// far from useful online guessing. The map cannot grow faster than failed
// logins happen, and each one costs a password hash.
type throttle struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time // oldest first, all within window
}

func newThrottle(max int, window time.Duration, now func() time.Time) *throttle {
	return &throttle{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// blocked reports whether any of keys has used up its failures, and how
// long until the next attempt is allowed.
func (t *throttle) blocked(keys ...string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range keys {
		f := t.prune(k, now)
		if len(f) >= t.max {
			// The attempt is allowed again once enough failures age out.
			if w := f[len(f)-t.max].Add(t.window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait, wait > 0
}

// fail records one failed attempt against every key.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.failures) >= throttleSweepSize {
		for k := range t.failures {
			t.prune(k, now)
		}
	}
	for _, k := range keys {
		t.failures[k] = append(t.prune(k, now), now)
	}
}

// reset forgets the failures of key (a successful login for that email).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}

// prune drops failures of key older than the window; t.mu must be held.
func (t *throttle) prune(key string, now time.Time) []time.Time {
	f := t.failures[key]
	i := 0
	for i < len(f) && !now.Before(f[i].Add(t.window)) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = f
	return f
}
