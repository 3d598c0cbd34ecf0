package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func init() {
	register("Networks", testNetworks)
	register("Devices", testDevices)
	register("Resources", testResources)
	register("APIUsage", testAPIUsage)
	register("APIKeys", testAPIKeys)
	register("ConcurrentAPIKeys", testConcurrentAPIKeys)
}

func netw(id, org, name string, tags ...string) store.Network {
	return store.Network{ID: id, OrgID: org, Name: name, ProductTypes: []string{"appliance", "switch"}, TimeZone: "Europe/Paris",
		Tags: tags, CreatedAt: t0, UpdatedAt: t0}
}

func ids[T any](rows []T, id func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

func netID(n store.Network) string { return n.ID }

func testNetworks(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := s.Dashboard()
	seedOrgAccount(t, s, "100", "acc", store.AccessFull)
	seedOrgAccount(t, s, "200", "acc", store.AccessFull)

	must(t, d.CreateNetwork(ctx, netw("N_1", "100", "HQ", "hq", "branch_1")))
	if err := d.CreateNetwork(ctx, netw("N_2", "100", "HQ")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name in one org: %v", err)
	}
	if err := d.CreateNetwork(ctx, netw("N_9", "999", "Nowhere")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("network in a missing org: %v", err)
	}
	must(t, d.CreateNetwork(ctx, netw("N_9", "200", "HQ"))) // same name, other org
	var batch []store.Network
	for i := 2; i <= 8; i++ {
		n := netw(fmt.Sprintf("N_%d", i), "100", fmt.Sprintf("Branch %d", i), "branch")
		if i%2 == 0 {
			n.ProductTypes = []string{"wireless"}
		}
		batch = append(batch, n)
	}
	must(t, d.CreateNetworks(ctx, batch))

	assertChange(t, s, store.ChangeNetworks, "100")
	assertChange(t, s, store.ChangeNetworks, "200")
	got, err := d.GetNetwork(ctx, "N_1")
	must(t, err)
	if got.Name != "HQ" || !slices.Equal(got.Tags, []string{"hq", "branch_1"}) || !slices.Equal(got.ProductTypes, []string{"appliance", "switch"}) ||
		got.TimeZone != "Europe/Paris" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("GetNetwork = %+v", got)
	}
	if _, err := d.GetNetwork(ctx, "N_404"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing network: %v", err)
	}

	list := func(f store.NetworkFilter) []string {
		t.Helper()
		ns, err := d.ListNetworks(ctx, f)
		must(t, err)
		return ids(ns, netID)
	}
	tests := []struct {
		name string
		f    store.NetworkFilter
		want []string
	}{
		{"all", store.NetworkFilter{OrgID: "100"}, []string{"N_1", "N_2", "N_3", "N_4", "N_5", "N_6", "N_7", "N_8"}},
		{"first page", store.NetworkFilter{OrgID: "100", Page: store.Page{Limit: 3}}, []string{"N_1", "N_2", "N_3"}},
		{"after", store.NetworkFilter{OrgID: "100", Page: store.Page{StartingAfter: "N_3", Limit: 3}}, []string{"N_4", "N_5", "N_6"}},
		{"before", store.NetworkFilter{OrgID: "100", Page: store.Page{EndingBefore: "N_6", Limit: 3}}, []string{"N_3", "N_4", "N_5"}},
		{"last", store.NetworkFilter{OrgID: "100", Page: store.Page{EndingBefore: "zzzz", Limit: 2}}, []string{"N_7", "N_8"}},
		{"ids", store.NetworkFilter{OrgID: "100", IDs: []string{"N_2", "N_9", "N_5"}}, []string{"N_2", "N_5"}},
		{"product type", store.NetworkFilter{OrgID: "100", ProductTypes: []string{"wireless"}}, []string{"N_2", "N_4", "N_6", "N_8"}},
		{"any tag", store.NetworkFilter{OrgID: "100", Tags: []string{"hq", "nope"}}, []string{"N_1"}},
		{"all tags", store.NetworkFilter{OrgID: "100", Tags: []string{"hq", "nope"}, TagsAll: true}, []string{}},
		// "_" is a LIKE wildcard; it must match only itself.
		{"underscore tag", store.NetworkFilter{OrgID: "100", Tags: []string{"branchX1"}}, []string{}},
		{"other org", store.NetworkFilter{OrgID: "200"}, []string{"N_9"}},
	}
	for _, tt := range tests {
		if got := list(tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%s: ListNetworks = %q, want %q", tt.name, got, tt.want)
		}
	}

	upd, err := d.UpdateNetwork(ctx, "N_1", func(n *store.Network) error {
		n.Name, n.Tags, n.OrgID, n.UpdatedAt = "Headquarters", []string{"main"}, "200", t0.Add(time.Hour)
		return nil
	})
	must(t, err)
	if upd.Name != "Headquarters" || upd.OrgID != "100" {
		t.Fatalf("UpdateNetwork = %+v (org must not change)", upd)
	}
	assertLatestChange(t, s, store.ChangeNetworks, "100")
	if _, err := d.UpdateNetwork(ctx, "N_1", func(n *store.Network) error { n.Name = "Branch 2"; return nil }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rename to a taken name: %v", err)
	}
	boom := errors.New("boom")
	if _, err := d.UpdateNetwork(ctx, "N_1", func(n *store.Network) error { n.Name = "X"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("update error: %v", err)
	}
	if got, _ := d.GetNetwork(ctx, "N_1"); got.Name != "Headquarters" || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after failed update: %+v", got)
	}

	// Deleting a network returns its devices to the inventory and removes
	// its resources, not those of a network whose id extends it.
	must(t, d.PutDevices(ctx, []store.Device{dev("Q2AA-0000-0001", "100", "N_1"), dev("Q2AA-0000-0002", "100", "N_1")}))
	putResource(t, d, "100", "/networks/N_1/appliance/vlans/1", "/networks/N_1/appliance/vlans")
	putResource(t, d, "100", "/networks/N_1", "")
	putResource(t, d, "100", "/networks/N_10/x", "")
	must(t, d.DeleteNetwork(ctx, "N_1"))
	assertLatestChange(t, s, store.ChangeNetworks, "100")
	if _, err := d.GetNetwork(ctx, "N_1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted network: %v", err)
	}
	if err := d.DeleteNetwork(ctx, "N_1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	dv, err := d.GetDevice(ctx, "Q2AA-0000-0001")
	must(t, err)
	if dv.NetworkID != "" {
		t.Fatalf("device of a deleted network: %+v", dv)
	}
	for path, want := range map[string]bool{"/networks/N_1/appliance/vlans/1": false, "/networks/N_1": false, "/networks/N_10/x": true} {
		_, err := d.GetResource(ctx, "100", path)
		if (err == nil) != want {
			t.Errorf("resource %s after delete: %v", path, err)
		}
	}

	must(t, d.RenameOrganization(ctx, "100", "Renamed"))
	if o, _ := s.Organizations().GetOrganization(ctx, "100"); o.Name != "Renamed" {
		t.Fatalf("RenameOrganization: %+v", o)
	}
	if err := d.RenameOrganization(ctx, "404", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rename missing org: %v", err)
	}

	// Deleting an organization takes its estate and memberships with it.
	must(t, d.DeleteOrganization(ctx, "100", t0))
	if _, err := s.Organizations().GetOrganization(ctx, "100"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted org: %v", err)
	}
	if _, err := d.GetDevice(ctx, "Q2AA-0000-0001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("device of a deleted org: %v", err)
	}
	if _, err := d.GetResource(ctx, "100", "/networks/N_10/x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("resource of a deleted org: %v", err)
	}
	if ms, _ := s.Accounts().ListAccountMemberships(ctx, "acc"); len(ms) != 1 || ms[0].OrgID != "200" {
		t.Fatalf("memberships after org delete: %+v", ms)
	}
	assertChange(t, s, store.ChangeMembership, "100/acc")
	if err := d.DeleteOrganization(ctx, "100", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete org twice: %v", err)
	}
}

// assertLatestChange checks the newest change of the feed.
func assertLatestChange(t *testing.T, s store.Store, kind, key string) {
	t.Helper()
	seq, err := s.Changes().LatestChange(context.Background())
	must(t, err)
	chs, err := s.Changes().ChangesSince(context.Background(), seq-1, 1)
	must(t, err)
	if len(chs) != 1 || chs[0].Kind != kind || chs[0].Key != key {
		t.Fatalf("latest change = %+v, want %s/%s", chs, kind, key)
	}
}

func dev(serial, org, network string, tags ...string) store.Device {
	return store.Device{Serial: serial, OrgID: org, NetworkID: network, Name: "dev " + serial, Model: "MS120-8", MAC: "e0:55:3d:00:00:01",
		ProductType: "switch", Lat: 48.85, Lng: 2.35, Tags: tags, LanIP: "10.0.0.2", Firmware: "switch-16-8", Status: "online",
		LastReportedAt: t0, ClaimedAt: t0, UpdatedAt: t0}
}

func putResource(t *testing.T, d store.Dashboard, org, path, parent string) {
	t.Helper()
	_, err := d.UpdateResource(context.Background(), org, path, func(cur store.Resource, found bool) (store.Resource, error) {
		return store.Resource{Parent: parent, Body: []byte(`{"a":1}`), UpdatedAt: t0}, nil
	})
	must(t, err)
}

func testDevices(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := s.Dashboard()
	seedOrgAccount(t, s, "100", "acc", store.AccessFull)
	seedOrgAccount(t, s, "200", "acc", store.AccessFull)
	must(t, d.CreateNetwork(ctx, netw("N_1", "100", "HQ")))
	var ds []store.Device
	for i := range 1000 { // more than one insert batch
		x := dev(fmt.Sprintf("Q2AA-%04d-0000", i), "100", "N_1", "t"+fmt.Sprint(i%3))
		if i%10 == 0 {
			x.NetworkID = ""
		}
		if i%4 == 0 {
			x.Model, x.ProductType, x.Status = "MR36", "wireless", "offline"
		}
		ds = append(ds, x)
	}
	must(t, d.PutDevices(ctx, ds))
	if err := d.PutDevices(ctx, ds[:1]); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate serial: %v", err)
	}
	got, err := d.GetDevice(ctx, "Q2AA-0001-0000")
	must(t, err)
	if got.Lat != 48.85 || got.Firmware != "switch-16-8" || !got.LastReportedAt.Equal(t0) || !slices.Equal(got.Tags, []string{"t1"}) {
		t.Fatalf("GetDevice = %+v", got)
	}
	count := func(f store.DeviceFilter) int {
		t.Helper()
		f.OrgID = "100"
		rows, err := d.ListDevices(ctx, f)
		must(t, err)
		return len(rows)
	}
	yes, no := true, false
	tests := []struct {
		name string
		f    store.DeviceFilter
		want int
	}{
		{"all", store.DeviceFilter{}, 1000},
		{"assigned", store.DeviceFilter{Assigned: &yes}, 900},
		{"inventory", store.DeviceFilter{Assigned: &no}, 100},
		{"network", store.DeviceFilter{NetworkIDs: []string{"N_1"}}, 900},
		{"model", store.DeviceFilter{Models: []string{"MR36"}}, 250},
		{"product type+status", store.DeviceFilter{ProductTypes: []string{"switch"}, Statuses: []string{"online"}}, 750},
		{"tag", store.DeviceFilter{Tags: []string{"t0"}}, 334},
		{"serials", store.DeviceFilter{Serials: []string{"Q2AA-0003-0000", "Q2ZZ-0000-0000"}}, 1},
		{"macs", store.DeviceFilter{MACs: []string{"e0:55:3d:ff:ff:ff", "e0:55:3d:00:00:01"}}, 1000},
		{"other macs", store.DeviceFilter{MACs: []string{"e0:55:3d:ff:ff:ff"}}, 0},
		{"search serial", store.DeviceFilter{Search: "q2aa-009"}, 10},
		{"search model, any case", store.DeviceFilter{Search: "mR3"}, 250},
		{"search wildcard is literal", store.DeviceFilter{Search: "%"}, 0},
		{"page", store.DeviceFilter{Page: store.Page{StartingAfter: "Q2AA-0995-0000", Limit: 10}}, 4},
	}
	for _, tt := range tests {
		if got := count(tt.f); got != tt.want {
			t.Errorf("%s: %d devices, want %d", tt.name, got, tt.want)
		}
	}
	before, err := d.ListDevices(ctx, store.DeviceFilter{OrgID: "100", Page: store.Page{EndingBefore: "Q2AA-0003-0000", Limit: 2}})
	must(t, err)
	if got := ids(before, func(d store.Device) string { return d.Serial }); !slices.Equal(got, []string{"Q2AA-0001-0000", "Q2AA-0002-0000"}) {
		t.Fatalf("EndingBefore page = %q", got)
	}
	if n, _ := d.ListDevices(ctx, store.DeviceFilter{OrgID: "200"}); len(n) != 0 {
		t.Fatalf("other org sees %d devices", len(n))
	}

	upd, err := d.UpdateDevice(ctx, "Q2AA-0001-0000", func(x *store.Device) error {
		x.Name, x.Tags, x.NetworkID, x.OrgID = "core", []string{"a", "b"}, "", "200"
		return nil
	})
	must(t, err)
	if upd.Name != "core" || upd.NetworkID != "" || upd.OrgID != "100" {
		t.Fatalf("UpdateDevice = %+v", upd)
	}
	must(t, d.DeleteDevice(ctx, "Q2AA-0001-0000"))
	if _, err := d.GetDevice(ctx, "Q2AA-0001-0000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted device: %v", err)
	}
	if _, err := d.UpdateDevice(ctx, "Q2AA-0001-0000", func(*store.Device) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update deleted device: %v", err)
	}
}

func testResources(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := s.Dashboard()
	if _, err := d.GetResource(ctx, "100", "/x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing resource: %v", err)
	}
	r, err := d.UpdateResource(ctx, "100", "/c/1", func(cur store.Resource, found bool) (store.Resource, error) {
		if found {
			t.Error("found before any write")
		}
		return store.Resource{Parent: "/c", Body: []byte(`{"n":1}`), UpdatedAt: t0}, nil
	})
	must(t, err)
	if r.OrgID != "100" || r.Path != "/c/1" {
		t.Fatalf("UpdateResource = %+v", r)
	}
	_, err = d.UpdateResource(ctx, "100", "/c/1", func(cur store.Resource, found bool) (store.Resource, error) {
		if !found || string(cur.Body) != `{"n":1}` {
			t.Errorf("second update sees %+v %v", cur, found)
		}
		cur.Deleted = true
		return cur, nil
	})
	must(t, err)
	putResource(t, d, "100", "/c/2", "/c")
	putResource(t, d, "200", "/c/3", "/c")
	items, err := d.ListResources(ctx, "100", "/c")
	must(t, err)
	if len(items) != 2 || !items[0].Deleted || items[1].Deleted || items[1].Path != "/c/2" {
		t.Fatalf("ListResources = %+v", items)
	}

	// Concurrent read-modify-write updates never lose an increment.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := d.UpdateResource(ctx, "100", "/counter", func(cur store.Resource, found bool) (store.Resource, error) {
				n := 0
				if found {
					_, _ = fmt.Sscanf(string(cur.Body), "%d", &n)
				}
				return store.Resource{Body: []byte(fmt.Sprint(n + 1)), UpdatedAt: t0}, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if r, _ := d.GetResource(ctx, "100", "/counter"); string(r.Body) != "8" {
		t.Fatalf("counter = %s, want 8", r.Body)
	}
}

func testAPIUsage(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := s.Dashboard()
	m := t0.Truncate(time.Minute)
	row := store.APIUsage{OrgID: "100", Minute: m, ClientID: "c1", AccountID: "a1", OperationID: "getOrganizationNetworks",
		Method: "GET", Status: 200, Count: 3, Path: "/api/v1/organizations/100/networks", Query: "perPage=3", Host: "h",
		SourceIP: "127.0.0.1", UserAgent: "ua/1", LastAt: t0}
	must(t, d.AddAPIUsage(ctx, []store.APIUsage{row}))
	later := row
	later.Count, later.Query, later.LastAt = 2, "perPage=5", t0.Add(time.Second)
	older := row
	older.Count, older.Query, older.LastAt = 1, "old", t0.Add(-time.Second)
	other := row
	other.Status, other.Count = 429, 7
	must(t, d.AddAPIUsage(ctx, []store.APIUsage{later, older, other}))
	must(t, d.AddAPIUsage(ctx, []store.APIUsage{{OrgID: "100", Minute: m.Add(-48 * time.Hour), OperationID: "x", Method: "GET", Status: 200, Count: 1, LastAt: m}}))

	rows, err := d.ListAPIUsage(ctx, store.APIUsageFilter{OrgID: "100", From: m.Add(-time.Hour)})
	must(t, err)
	if len(rows) != 2 {
		t.Fatalf("ListAPIUsage = %+v", rows)
	}
	byStatus := map[int]store.APIUsage{}
	for _, r := range rows {
		byStatus[r.Status] = r
	}
	if r := byStatus[200]; r.Count != 6 || r.Query != "perPage=5" || !r.LastAt.Equal(t0.Add(time.Second)) || !r.Minute.Equal(m) {
		t.Fatalf("aggregated row = %+v", r)
	}
	if byStatus[429].Count != 7 {
		t.Fatalf("429 row = %+v", byStatus[429])
	}
	if rows, _ := d.ListAPIUsage(ctx, store.APIUsageFilter{OrgID: "100", ClientID: "nobody"}); len(rows) != 0 {
		t.Fatalf("client filter: %+v", rows)
	}
	n, err := d.PruneAPIUsage(ctx, m.Add(-time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("pruned %d rows, want 1", n)
	}
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	ks := s.APIKeys()
	seedOrgAccount(t, s, "100", "acc", store.AccessFull)
	k1 := store.APIKey{ID: "k1", AccountID: "acc", Hash: "h1", Last4: "abcd", CreatedAt: t0}
	must(t, ks.CreateAPIKey(ctx, k1, 2))
	must(t, ks.CreateAPIKey(ctx, store.APIKey{ID: "k2", AccountID: "acc", Hash: "h2", Last4: "ef01", CreatedAt: t0.Add(time.Second)}, 2))
	if err := ks.CreateAPIKey(ctx, store.APIKey{ID: "k3", AccountID: "acc", Hash: "h3", CreatedAt: t0}, 2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("third key: %v", err)
	}
	if err := ks.CreateAPIKey(ctx, store.APIKey{ID: "k4", AccountID: "ghost", Hash: "h4", CreatedAt: t0}, 2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("key of a missing account: %v", err)
	}
	got, err := ks.GetAPIKeyByHash(ctx, "h1")
	must(t, err)
	if got != k1 {
		t.Fatalf("GetAPIKeyByHash = %+v, want %+v", got, k1)
	}
	list, err := ks.ListAPIKeys(ctx, "acc")
	must(t, err)
	if len(list) != 2 || list[0].ID != "k1" || list[1].ID != "k2" {
		t.Fatalf("ListAPIKeys = %+v", list)
	}
	if _, err := ks.DeleteAPIKey(ctx, "someone-else", "k1", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete another account's key: %v", err)
	}
	del, err := ks.DeleteAPIKey(ctx, "acc", "k1", t0)
	must(t, err)
	if del.Hash != "h1" {
		t.Fatalf("DeleteAPIKey = %+v", del)
	}
	assertChange(t, s, store.ChangeAPIKey, "h1")
	if _, err := ks.GetAPIKeyByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	// The freed slot can be used again.
	must(t, ks.CreateAPIKey(ctx, store.APIKey{ID: "k5", AccountID: "acc", Hash: "h5", CreatedAt: t0}, 2))
}

func testConcurrentAPIKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedOrgAccount(t, s, "100", "acc", store.AccessFull)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range 10 {
		wg.Go(func() {
			err := s.APIKeys().CreateAPIKey(ctx, store.APIKey{ID: fmt.Sprint("k", i), AccountID: "acc", Hash: fmt.Sprint("h", i), CreatedAt: t0}, 2)
			switch {
			case err == nil:
				mu.Lock()
				created++
				mu.Unlock()
			case !errors.Is(err, store.ErrConflict):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if created != 2 {
		t.Fatalf("%d keys created concurrently, want 2", created)
	}
}
