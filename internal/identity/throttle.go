package identity

import (
	"slices"
	"sync"
	"time"
)

// Login throttling. Failures are remembered for throttleWindow.
//
//   - Per account: the first throttleAccountFree failures cost nothing;
//     after that each attempt waits a delay that doubles with every further
//     failure, from throttleFirstDelay up to throttleWindow. The delay binds
//     only addresses that have failed for this account, so a guesser cannot
//     lock the owner out: the right password from an address that did not
//     fail is not blocked. Once the account has throttleAccountAll failures
//     (a guesser spread over many addresses) the delay binds everyone.
//   - Per address: throttleAddressMax failures across all accounts, so that
//     colleagues behind one proxy do not lock each other out with typos,
//     while one address cannot spray guesses over many accounts.
const (
	throttleWindow      = 15 * time.Minute
	throttleAccountFree = 5
	throttleFirstDelay  = 30 * time.Second
	throttleAccountAll  = 50
	throttleAddressMax  = 100
	throttleSweepSize   = 10000
)

// throttle counts failed logins per account and per client address.
//
// An attempt is reserved, and counted as a failure, before its password is
// checked: concurrent attempts see each other, so a burst of parallel guesses
// gets no more evaluations than the same guesses sent one by one.
//
// The counters live in this process's memory: each replica counts on its own
// and a restart forgets them. With N replicas an attacker gets at most N
// times the budget, which the argon2 cost and the growing delays still keep
// far from useful online guessing. The maps cannot grow faster than failed
// logins happen, and each one costs a password hash.
type throttle struct {
	now func() time.Time

	mu       sync.Mutex
	seq      uint64
	accounts map[string][]failure // by lower-cased email, oldest first, all within the window
	addrs    map[string][]failure // by client address, oldest first, all within the window
}

type failure struct {
	at   time.Time
	addr string
	id   uint64
}

// attempt is a reserved login attempt; see [throttle.reserve].
type attempt struct {
	account, addr string
	id            uint64
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, accounts: map[string][]failure{}, addrs: map[string][]failure{}}
}

// accountDelay is how long after its latest failure an account with n
// failures in the window accepts the next attempt.
func accountDelay(n int) time.Duration {
	if n < throttleAccountFree {
		return 0
	}
	d := throttleFirstDelay
	for i := throttleAccountFree; i < n && d < throttleWindow; i++ {
		d *= 2
	}
	return min(d, throttleWindow)
}

// reserve records an attempt to log in to account from addr as a failure,
// unless the account or the address must wait; then it returns how long.
// The caller reports the outcome with [throttle.succeeded] or
// [throttle.abandoned]; a wrong password needs no call, the reservation
// already counts.
func (t *throttle) reserve(account, addr string) (attempt, time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.accounts)+len(t.addrs) >= throttleSweepSize {
		for k := range t.accounts {
			prune(t.accounts, k, now)
		}
		for k := range t.addrs {
			prune(t.addrs, k, now)
		}
	}
	fa, fi := prune(t.accounts, account, now), prune(t.addrs, addr, now)
	var wait time.Duration
	if n := len(fi); n >= throttleAddressMax {
		// Allowed again once enough failures leave the window.
		wait = fi[n-throttleAddressMax].at.Add(throttleWindow).Sub(now)
	}
	if n := len(fa); n >= throttleAccountFree && (n >= throttleAccountAll || failedFrom(fa, addr)) {
		wait = max(wait, fa[n-1].at.Add(accountDelay(n)).Sub(now))
	}
	if wait > 0 {
		return attempt{}, wait, false
	}
	t.seq++
	f := failure{at: now, addr: addr, id: t.seq}
	t.accounts[account] = append(fa, f)
	t.addrs[addr] = append(fi, f)
	return attempt{account: account, addr: addr, id: t.seq}, 0, true
}

// succeeded reports that a reserved attempt had the right password. The
// account forgets the failures from this address (its owner's typos); the
// address keeps its failures for other accounts, or one attacker-owned
// account would unlock guessing from that address.
func (t *throttle) succeeded(a attempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remove(t.accounts, a.account, func(f failure) bool { return f.addr == a.addr })
	t.remove(t.addrs, a.addr, func(f failure) bool { return f.id == a.id })
}

// abandoned reports that a reserved attempt was not decided (the client
// went away, the store failed): it does not count.
func (t *throttle) abandoned(a attempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	mine := func(f failure) bool { return f.id == a.id }
	t.remove(t.accounts, a.account, mine)
	t.remove(t.addrs, a.addr, mine)
}

// remove drops the failures of key that match; t.mu must be held.
func (t *throttle) remove(m map[string][]failure, key string, match func(failure) bool) {
	f := slices.DeleteFunc(m[key], match)
	if len(f) == 0 {
		delete(m, key)
		return
	}
	m[key] = f
}

func failedFrom(fs []failure, addr string) bool {
	return slices.ContainsFunc(fs, func(f failure) bool { return f.addr == addr })
}

// prune drops the failures of key that left the window and returns the
// rest; the caller holds the throttle's lock.
func prune(m map[string][]failure, key string, now time.Time) []failure {
	f := m[key]
	i := 0
	for i < len(f) && !now.Before(f[i].at.Add(throttleWindow)) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(m, key)
		return nil
	}
	m[key] = f
	return f
}
