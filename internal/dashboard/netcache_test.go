package dashboard

import (
	"context"
	"slices"
	"testing"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

type nopFeed struct{}

func (nopFeed) Subscribe(string, func(string)) {}

// TestNetworkCacheMatchesStore checks that the cache answers every filter
// exactly as the store's query does.
func TestNetworkCacheMatchesStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	must(t, st.Organizations().CreateOrganization(ctx, store.Organization{ID: "100", Name: "Org"}))
	if _, err := Seed(ctx, st, SeedParams{OrgID: "100", Networks: 40}); err != nil {
		t.Fatal(err)
	}
	all, err := st.Dashboard().ListNetworks(ctx, store.NetworkFilter{OrgID: "100"})
	must(t, err)
	cache := newNetworkCache(st.Dashboard(), nopFeed{})
	var cursors []string
	for _, i := range []int{0, 1, 17, 38, 39} {
		cursors = append(cursors, all[i].ID, all[i].ID+"0")
	}
	cursors = append(cursors, "", firstCursor, lastCursor)
	filters := []store.NetworkFilter{
		{}, {Tags: []string{"branch"}}, {Tags: []string{"hq", "retail"}}, {Tags: []string{"branch", "emea"}, TagsAll: true},
		{ProductTypes: []string{"cellularGateway"}}, {ProductTypes: []string{"switch", "camera"}, Tags: []string{"west"}},
		{IDs: []string{all[3].ID, all[30].ID, "N_0"}},
	}
	checked := 0
	for _, f := range filters {
		for _, c := range cursors {
			for _, limit := range []int{0, 1, 4, 100} {
				for _, backward := range []bool{false, true} {
					f := f
					f.OrgID, f.Limit, f.StartingAfter, f.EndingBefore = "100", limit, "", ""
					if backward {
						f.EndingBefore = c
					} else {
						f.StartingAfter = c
					}
					want, err := st.Dashboard().ListNetworks(ctx, f)
					must(t, err)
					got, o, err := cache.list(ctx, f)
					must(t, err)
					if o == nil {
						t.Fatal("organization not cached")
					}
					if !slices.EqualFunc(got, want, func(a, b store.Network) bool { return a.ID == b.ID }) {
						t.Fatalf("filter %+v: cache %d networks, store %d", f, len(got), len(want))
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d filters agree", checked)
	// Dropping the organization makes the next list read the store again.
	must(t, st.Dashboard().CreateNetwork(ctx, store.Network{ID: "N_1", OrgID: "100", Name: "New", ProductTypes: []string{"wireless"}, Tags: []string{}}))
	if got, _, _ := cache.list(ctx, store.NetworkFilter{OrgID: "100"}); len(got) != len(all) {
		t.Fatalf("cache changed without a drop: %d", len(got))
	}
	cache.drop("100")
	if got, _, _ := cache.list(ctx, store.NetworkFilter{OrgID: "100"}); len(got) != len(all)+1 {
		t.Fatalf("after drop: %d networks, want %d", len(got), len(all)+1)
	}
	if n, err := cache.get(ctx, "N_1"); err != nil || n.Name != "New" {
		t.Fatalf("get = %+v, %v", n, err)
	}
}
