package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/store"
)

// TestDevicesFilteredByMACsPaginate: getOrganizationDevices with several
// macs[] finds every matching device by following Link rel=next, however
// far apart in serial order they are.
func TestDevicesFilteredByMACsPaginate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	all, err := e.st.Dashboard().ListDevices(context.Background(), store.DeviceFilter{OrgID: e.orgA, Assigned: assigned})
	must(t, err)
	if len(all) < 10 {
		t.Fatalf("only %d devices seeded", len(all))
	}
	first, last := all[0], all[len(all)-1]
	q := url.Values{"perPage": {"3"}, "macs[]": {strings.ToUpper(first.MAC), last.MAC}}
	next := "/organizations/" + e.orgA + "/devices?" + q.Encode()
	tok := e.token("dashboard:general:config:read")
	var got []string
	for pages := 0; next != ""; pages++ {
		if pages > len(all) {
			t.Fatal("more pages than devices")
		}
		r := e.call("GET", next, tok, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, r.status, r.body)
		}
		var page []deviceView
		r.json(t, &page)
		for _, d := range page {
			got = append(got, d.Serial)
		}
		next = links(r.header)["next"]
	}
	want := []string{first.Serial, last.Serial}
	if !slices.Equal(got, want) {
		t.Errorf("devices with macs %s, %s: %q, want %q", first.MAC, last.MAC, got, want)
	}
}

// TestInventorySearchFillsPages: getOrganizationInventoryDevices with
// search filters in the query, so the first page holds the matches (no
// empty pages before them) and perPage counts matches.
func TestInventorySearchFillsPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	all, err := e.st.Dashboard().ListDevices(context.Background(), store.DeviceFilter{OrgID: e.orgA})
	must(t, err)
	if len(all) < 10 {
		t.Fatalf("only %d devices seeded", len(all))
	}
	last := all[len(all)-1]
	q := url.Values{"perPage": {"3"}, "search": {strings.ToLower(last.Serial)}}
	r := e.call("GET", "/organizations/"+e.orgA+"/inventory/devices?"+q.Encode(), e.token("dashboard:general:config:read"), nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET inventory: %d %s", r.status, r.body)
	}
	var page []inventoryView
	r.json(t, &page)
	if len(page) != 1 || page[0].Serial != last.Serial {
		t.Fatalf("first page for search %q = %+v, want just %s", last.Serial, page, last.Serial)
	}
	if next := links(r.header)["next"]; next != "" {
		t.Fatalf("a next link after the only match: %s", next)
	}
}
