package dashboard

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	must(t, st.Organizations().CreateOrganization(ctx, store.Organization{ID: "100", Name: "Demo"}))
	res, err := Seed(ctx, st, SeedParams{OrgID: "100"})
	must(t, err)
	if res != (SeedResult{DemoNetworks, DemoDevices}) {
		t.Fatalf("Seed = %+v", res)
	}
	nets, _ := st.Dashboard().ListNetworks(ctx, store.NetworkFilter{OrgID: "100"})
	devs, _ := st.Dashboard().ListDevices(ctx, store.DeviceFilter{OrgID: "100"})
	types := map[string]bool{}
	for _, n := range nets {
		if len(n.ID) != 20 || n.ID[:2] != "N_" && n.ID[:2] != "L_" {
			t.Errorf("network id %q", n.ID)
		}
		types[n.ProductTypes[0]+"/"+n.Name] = true
	}
	if len(types) != DemoNetworks {
		t.Errorf("networks are not varied: %v", types)
	}
	statuses, models, inventory := map[string]int{}, map[string]bool{}, 0
	for _, d := range devs {
		if !validSerial(d.Serial) {
			t.Errorf("serial %q", d.Serial)
		}
		m := modelForSerial(d.Serial)
		if m.name != d.Model && m.productType != d.ProductType {
			t.Errorf("serial %s does not match model %s", d.Serial, d.Model)
		}
		if d.Firmware == "" || d.MAC == "" {
			t.Errorf("device %+v lacks firmware or MAC", d)
		}
		if d.NetworkID == "" {
			inventory++
			continue
		}
		n := nets[slices.IndexFunc(nets, func(n store.Network) bool { return n.ID == d.NetworkID })]
		if !slices.Contains(n.ProductTypes, d.ProductType) {
			t.Errorf("%s (%s) in %s (%v)", d.Serial, d.ProductType, n.Name, n.ProductTypes)
		}
		statuses[d.Status]++
		models[d.Model] = true
	}
	if inventory == 0 || statuses["online"] < len(devs)/2 || len(models) < 5 {
		t.Errorf("estate not believable: inventory %d statuses %v models %v", inventory, statuses, models)
	}
	// Seeding again adds to the estate without name clashes.
	if _, err := Seed(ctx, st, SeedParams{OrgID: "100", Networks: 6, Devices: 6}); err != nil {
		t.Fatal(err)
	}
	// Devices alone go into the existing networks.
	res, err = Seed(ctx, st, SeedParams{OrgID: "100", Devices: 10})
	must(t, err)
	if res != (SeedResult{0, 10}) {
		t.Errorf("devices only: %+v", res)
	}
	must(t, st.Organizations().CreateOrganization(ctx, store.Organization{ID: "200", Name: "Empty"}))
	if _, err := Seed(ctx, st, SeedParams{OrgID: "200", Devices: 10}); err == nil {
		t.Error("devices without any network were seeded")
	}
	if _, err := Seed(ctx, st, SeedParams{OrgID: "nope"}); err == nil {
		t.Error("seeding a missing organization succeeded")
	}
}

// TestSeedLarge makes a load-test estate with batched inserts.
func TestSeedLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large estate")
	}
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	must(t, st.Organizations().CreateOrganization(ctx, store.Organization{ID: "100", Name: "Big"}))
	start := time.Now()
	res, err := Seed(ctx, st, SeedParams{OrgID: "100", Networks: 2000, Devices: 20000})
	must(t, err)
	t.Logf("seeded %d networks and %d devices in %v", res.Networks, res.Devices, time.Since(start))
	devs, _ := st.Dashboard().ListDevices(ctx, store.DeviceFilter{OrgID: "100", Page: store.Page{StartingAfter: "Q2", Limit: 5}})
	if res.Devices != 20000 || len(devs) != 5 {
		t.Fatalf("Seed = %+v", res)
	}
}
