package dashboard

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/grantflow/grantflow/internal/store"
)

// networkCache keeps organizations' network lists in memory, so listing
// networks (the most common call of every integration) and resolving a
// path's networkId need no store query. It is dropped per organization on
// the change feed's store.ChangeNetworks changes, which every network
// mutation publishes in its transaction: this process sees its own changes
// at once, other processes (replicas, the CLI) within the feed's poll
// interval. Without a feed nothing is cached.
type networkCache struct {
	dash    store.Dashboard
	enabled bool
	epoch   atomic.Uint64 // bumped by every invalidation

	mu   sync.RWMutex
	orgs map[string]*orgNetworks
	byID map[string]*orgNetworks
}

// orgNetworks is one organization's networks sorted by id, or a marker
// that it has too many to cache.
type orgNetworks struct {
	list    []store.Network
	index   map[string]int
	tooMany bool

	// The JSON of each network as getOrganizationNetworks writes it, for
	// one base URL (networks' "url" fields name the request's host).
	encMu   sync.Mutex
	encBase string
	enc     [][]byte
}

// encoded returns the JSON of the network at index i for base, encoding
// it with encode on first use.
func (o *orgNetworks) encoded(i int, base string, encode func(store.Network) ([]byte, error)) ([]byte, error) {
	o.encMu.Lock()
	defer o.encMu.Unlock()
	if o.encBase != base || o.enc == nil {
		o.encBase, o.enc = base, make([][]byte, len(o.list))
	}
	if o.enc[i] == nil {
		b, err := encode(o.list[i])
		if err != nil {
			return nil, err
		}
		o.enc[i] = b
	}
	return o.enc[i], nil
}

// Limits that keep memory bounded: organizations with more networks are
// served from the store, and at most maxCachedOrgs are kept.
const (
	maxCachedNetworks = 10000
	maxCachedOrgs     = 2000
)

func newNetworkCache(dash store.Dashboard, feed Feed) *networkCache {
	c := &networkCache{dash: dash, enabled: feed != nil, orgs: map[string]*orgNetworks{}, byID: map[string]*orgNetworks{}}
	if feed != nil {
		feed.Subscribe(store.ChangeNetworks, c.drop)
	}
	return c
}

// drop forgets an organization's networks.
func (c *networkCache) drop(orgID string) {
	c.epoch.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if o, ok := c.orgs[orgID]; ok {
		for _, n := range o.list {
			delete(c.byID, n.ID)
		}
		delete(c.orgs, orgID)
	}
}

// org returns the organization's cached networks, loading them on a miss;
// nil means the organization is not cached (too many networks, or no feed).
func (c *networkCache) org(ctx context.Context, orgID string) (*orgNetworks, error) {
	if !c.enabled {
		return nil, nil
	}
	c.mu.RLock()
	o, ok := c.orgs[orgID]
	c.mu.RUnlock()
	if ok {
		if o.tooMany {
			return nil, nil
		}
		return o, nil
	}
	epoch := c.epoch.Load()
	list, err := c.dash.ListNetworks(ctx, store.NetworkFilter{OrgID: orgID, Page: store.Page{Limit: maxCachedNetworks + 1}})
	if err != nil {
		return nil, err
	}
	o = &orgNetworks{tooMany: len(list) > maxCachedNetworks}
	if !o.tooMany {
		o.list, o.index = list, make(map[string]int, len(list))
		for i, n := range list {
			o.index[n.ID] = i
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() == epoch {
		if len(c.orgs) >= maxCachedOrgs {
			for id := range c.orgs { // evict an arbitrary organization
				for _, n := range c.orgs[id].list {
					delete(c.byID, n.ID)
				}
				delete(c.orgs, id)
				break
			}
		}
		c.orgs[orgID] = o
		for _, n := range o.list {
			c.byID[n.ID] = o
		}
	}
	if o.tooMany {
		return nil, nil
	}
	return o, nil
}

// get returns a network by id.
func (c *networkCache) get(ctx context.Context, id string) (store.Network, error) {
	if c.enabled {
		c.mu.RLock()
		o, ok := c.byID[id]
		c.mu.RUnlock()
		if ok {
			return o.list[o.index[id]], nil
		}
	}
	n, err := c.dash.GetNetwork(ctx, id)
	if err == nil {
		// Warm the organization for the next calls about its networks.
		if _, err := c.org(ctx, n.OrgID); err != nil {
			return store.Network{}, err
		}
	}
	return n, err
}

// list answers a NetworkFilter from the cache when the organization is
// cached (o is then its cache entry), else from the store; rows come in id
// order, at most f.Limit.
func (c *networkCache) list(ctx context.Context, f store.NetworkFilter) (_ []store.Network, o *orgNetworks, _ error) {
	o, err := c.org(ctx, f.OrgID)
	if err != nil {
		return nil, nil, err
	}
	if o == nil {
		nets, err := c.dash.ListNetworks(ctx, f)
		return nets, nil, err
	}
	lo, hi := 0, len(o.list)
	if f.StartingAfter != "" {
		lo, _ = slices.BinarySearchFunc(o.list, f.StartingAfter, func(n store.Network, id string) int { return strings.Compare(n.ID, id) })
		if lo < len(o.list) && o.list[lo].ID == f.StartingAfter {
			lo++
		}
	}
	if f.EndingBefore != "" {
		hi, _ = slices.BinarySearchFunc(o.list, f.EndingBefore, func(n store.Network, id string) int { return strings.Compare(n.ID, id) })
		hi = max(hi, lo)
	}
	n := hi - lo
	if f.Limit > 0 {
		n = min(n, f.Limit)
	}
	out := make([]store.Network, 0, max(n, 0))
	match := func(n store.Network) bool {
		return (len(f.IDs) == 0 || slices.Contains(f.IDs, n.ID)) &&
			(len(f.ProductTypes) == 0 || slices.ContainsFunc(f.ProductTypes, func(p string) bool { return slices.Contains(n.ProductTypes, p) })) &&
			hasTags(n.Tags, f.Tags, f.TagsAll)
	}
	if f.EndingBefore != "" {
		// The Limit rows just before the cursor.
		for i := hi - 1; i >= lo && (f.Limit == 0 || len(out) < f.Limit); i-- {
			if match(o.list[i]) {
				out = append(out, o.list[i])
			}
		}
		slices.Reverse(out)
		return out, o, nil
	}
	for i := lo; i < hi && (f.Limit == 0 || len(out) < f.Limit); i++ {
		if match(o.list[i]) {
			out = append(out, o.list[i])
		}
	}
	return out, o, nil
}

func hasTags(have, want []string, all bool) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if slices.Contains(have, w) != all {
			return !all
		}
	}
	return all
}
