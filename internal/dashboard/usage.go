package dashboard

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// usageKey identifies one usage counter: requests of one kind in one minute.
type usageKey struct {
	org, client, account, op, method string
	minute                           int64 // unix seconds of the minute
	status                           int
}

// usage counts API requests per organization, integration and admin in
// memory and flushes the counts to the store periodically, so a request
// costs a map update rather than a write.
type usage struct {
	st store.Dashboard
	lg *slog.Logger

	mu      sync.Mutex
	pending map[usageKey]*store.APIUsage
}

func newUsage(st store.Dashboard, lg *slog.Logger) *usage {
	return &usage{st: st, lg: lg, pending: map[usageKey]*store.APIUsage{}}
}

// add counts one request; details describe it.
func (u *usage) add(at time.Time, org, client, account, op, method string, status int, details store.APIUsage) {
	minute := at.Truncate(time.Minute)
	k := usageKey{org: org, client: client, account: account, op: op, method: method, minute: minute.Unix(), status: status}
	u.mu.Lock()
	row, ok := u.pending[k]
	if !ok {
		row = &store.APIUsage{OrgID: org, Minute: minute, ClientID: client, AccountID: account, OperationID: op, Method: method, Status: status}
		u.pending[k] = row
	}
	row.Count++
	row.Path, row.Query, row.Host, row.SourceIP, row.UserAgent = details.Path, details.Query, details.Host, details.SourceIP, details.UserAgent
	row.LastAt = at
	u.mu.Unlock()
}

// snapshot returns copies of the pending counts of org (all orgs for "").
func (u *usage) snapshot(org string) []store.APIUsage {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []store.APIUsage
	for _, r := range u.pending {
		if org == "" || r.OrgID == org {
			out = append(out, *r)
		}
	}
	return out
}

// flush writes the pending counts. On failure they are put back, so a
// store outage delays counts instead of losing them.
func (u *usage) flush(ctx context.Context) error {
	u.mu.Lock()
	taken := u.pending
	u.pending = map[usageKey]*store.APIUsage{}
	u.mu.Unlock()
	if len(taken) == 0 {
		return nil
	}
	rows := make([]store.APIUsage, 0, len(taken))
	for _, r := range taken {
		rows = append(rows, *r)
	}
	err := u.st.AddAPIUsage(ctx, rows)
	if err == nil {
		return nil
	}
	u.mu.Lock()
	for k, r := range taken {
		if cur, ok := u.pending[k]; ok {
			absorb(cur, *r)
		} else {
			u.pending[k] = r
		}
	}
	u.mu.Unlock()
	return err
}

// absorb adds r's count to u, which counts the same kind of request, and
// keeps the details of whichever latest request came later.
func absorb(u *store.APIUsage, r store.APIUsage) {
	u.Count += r.Count
	if r.LastAt.After(u.LastAt) {
		u.Path, u.Query, u.Host, u.SourceIP, u.UserAgent, u.LastAt = r.Path, r.Query, r.Host, r.SourceIP, r.UserAgent, r.LastAt
	}
}

// mergeUsage adds pending rows to stored ones (same key), for reads that
// must include requests not yet flushed.
func mergeUsage(stored, pending []store.APIUsage) []store.APIUsage {
	idx := map[usageKey]int{}
	key := func(r store.APIUsage) usageKey {
		return usageKey{org: r.OrgID, client: r.ClientID, account: r.AccountID, op: r.OperationID, method: r.Method, minute: r.Minute.Unix(), status: r.Status}
	}
	out := append([]store.APIUsage(nil), stored...)
	for i, r := range out {
		idx[key(r)] = i
	}
	for _, p := range pending {
		if i, ok := idx[key(p)]; ok {
			absorb(&out[i], p)
			continue
		}
		idx[key(p)] = len(out)
		out = append(out, p)
	}
	return out
}
