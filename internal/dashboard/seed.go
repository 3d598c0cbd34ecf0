package dashboard

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// SeedParams say what estate [Seed] makes.
type SeedParams struct {
	OrgID    string
	Networks int // default 6
	Devices  int // default 36
	// Now stamps claim and report times; zero means time.Now().
	Now time.Time
}

// SeedResult counts what [Seed] made.
type SeedResult struct {
	Networks int `json:"networks"`
	Devices  int `json:"devices"`
}

// Demo estate size, used on first start.
const (
	DemoNetworks = 6
	DemoDevices  = 36
)

type site struct {
	city, tz string
	lat, lng float64
	region   string
}

var sites = []site{
	{"San Francisco", "America/Los_Angeles", 37.7749, -122.4194, "west"},
	{"Paris", "Europe/Paris", 48.8566, 2.3522, "emea"},
	{"New York", "America/New_York", 40.7128, -74.0060, "east"},
	{"Chicago", "America/Chicago", 41.8781, -87.6298, "central"},
	{"London", "Europe/London", 51.5074, -0.1278, "emea"},
	{"Austin", "America/Chicago", 30.2672, -97.7431, "central"},
	{"Seattle", "America/Los_Angeles", 47.6062, -122.3321, "west"},
	{"Berlin", "Europe/Berlin", 52.5200, 13.4050, "emea"},
	{"Tokyo", "Asia/Tokyo", 35.6762, 139.6503, "apac"},
	{"Sydney", "Australia/Sydney", -33.8688, 151.2093, "apac"},
	{"Toronto", "America/Toronto", 43.6532, -79.3832, "east"},
	{"Denver", "America/Denver", 39.7392, -104.9903, "west"},
}

// networkKinds cycle through the estate; the first is the headquarters.
var networkKinds = []struct {
	name         string
	productTypes []string
	tags         []string
}{
	{"Headquarters", []string{"appliance", "camera", "sensor", "switch", "wireless"}, []string{"hq", "critical"}},
	{"Branch", []string{"appliance", "switch", "wireless"}, []string{"branch"}},
	{"Warehouse", []string{"camera", "sensor", "wireless"}, []string{"warehouse", "iot"}},
	{"Retail Store", []string{"appliance", "cellularGateway", "wireless"}, []string{"retail", "pci"}},
	{"Campus", []string{"switch", "wireless"}, []string{"campus"}},
	{"Teleworker", []string{"appliance"}, []string{"teleworker"}},
}

// modelsByType lists the models seeded for each product type, the first
// being the most common.
var modelsByType = func() map[string][]model {
	m := map[string][]model{}
	for _, x := range models {
		m[x.productType] = append(m[x.productType], x)
	}
	return m
}()

// deviceWeights says how many devices of each type a network gets, in
// proportion, so access points outnumber switches and switches appliances.
var deviceWeights = map[string]int{"wireless": 6, "switch": 3, "camera": 2, "sensor": 2, "appliance": 1, "cellularGateway": 1}

var typeAbbrev = map[string]string{"wireless": "AP", "switch": "SW", "camera": "CAM", "sensor": "MT", "appliance": "MX", "cellularGateway": "MG"}

// Seed fills an organization with a believable estate: networks of
// several kinds and product types in cities around the world, and devices
// with Meraki serials, models, MACs, firmware, addresses, tags and
// statuses (mostly online, some alerting, offline or dormant; a tenth left
// unassigned in the inventory). It adds to what the organization has, in
// batched inserts, so tens of thousands of devices take seconds. The same
// organization and starting point give the same estate.
func Seed(ctx context.Context, st store.Store, p SeedParams) (SeedResult, error) {
	if p.Networks == 0 && p.Devices == 0 {
		p.Networks, p.Devices = DemoNetworks, DemoDevices
	}
	if p.Networks < 0 || p.Devices < 0 {
		return SeedResult{}, errors.New("dashboard: seed counts must not be negative")
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	now := store.Micro(p.Now)
	if _, err := st.Organizations().GetOrganization(ctx, p.OrgID); err != nil {
		return SeedResult{}, fmt.Errorf("dashboard: seed organization %q: %w", p.OrgID, err)
	}
	d := st.Dashboard()
	existing, err := d.ListNetworks(ctx, store.NetworkFilter{OrgID: p.OrgID})
	if err != nil {
		return SeedResult{}, err
	}
	taken := map[string]bool{}
	for _, n := range existing {
		taken[n.Name] = true
	}
	rng := rand.New(rand.NewPCG(hash(p.OrgID, "seed"), uint64(len(existing))))

	nets := make([]store.Network, 0, p.Networks)
	netSite := make([]site, 0, p.Networks)
	for i := range p.Networks {
		k := networkKinds[(len(existing)+i)%len(networkKinds)]
		s := sites[(len(existing)+i)%len(sites)]
		name := k.name + " - " + s.city
		if k.name == "Headquarters" && len(existing)+i == 0 {
			name = "Headquarters"
		}
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s - %s %d", k.name, s.city, n)
		}
		taken[name] = true
		tags := append(slices.Clone(k.tags), s.region)
		nets = append(nets, store.Network{
			ID: seedNetworkID(rng, len(k.productTypes) > 1), OrgID: p.OrgID, Name: name, ProductTypes: k.productTypes,
			TimeZone: s.tz, Tags: tags, Notes: "Seeded by grantflow", CreatedAt: now, UpdatedAt: now,
		})
		netSite = append(netSite, s)
	}

	// Devices go into the new networks, or the existing ones when only
	// devices were asked for.
	homes, homeSites := nets, netSite
	if len(homes) == 0 {
		homes = existing
		for i := range existing {
			homeSites = append(homeSites, siteOf(existing[i], i))
		}
	}
	if p.Devices > 0 && len(homes) == 0 {
		return SeedResult{}, errors.New("dashboard: devices need at least one network")
	}
	devs := make([]store.Device, 0, p.Devices)
	serials := map[string]bool{}
	perNetwork := map[string]map[string]int{} // network -> product type -> count, for names
	for i := range p.Devices {
		ni := i % len(homes)
		n, s := homes[ni], homeSites[ni]
		pt := pickType(rng, n.ProductTypes)
		ms := modelsByType[pt]
		m := ms[0]
		if rng.IntN(3) == 0 {
			m = ms[rng.IntN(len(ms))]
		}
		serial := serialFrom(m.prefix, rng.Uint64())
		for serials[serial] {
			serial = serialFrom(m.prefix, rng.Uint64())
		}
		serials[serial] = true
		if perNetwork[n.ID] == nil {
			perNetwork[n.ID] = map[string]int{}
		}
		perNetwork[n.ID][pt]++
		fw := firmwareCatalog[pt]
		firmware := currentFirmware(pt).deviceFirmware
		if len(fw) > 1 && rng.IntN(20) == 0 {
			firmware = fw[1].deviceFirmware // a few already upgraded
		}
		dev := store.Device{
			Serial: serial, OrgID: p.OrgID, NetworkID: n.ID,
			Name:  fmt.Sprintf("%s-%s-%02d", shortName(n.Name), typeAbbrev[pt], perNetwork[n.ID][pt]),
			Model: m.name, MAC: sampleMAC(rng.Uint64()), ProductType: pt,
			Address: fmt.Sprintf("%d Main Street, %s", 1+rng.IntN(900), s.city),
			Lat:     s.lat + (rng.Float64()-0.5)/100, Lng: s.lng + (rng.Float64()-0.5)/100,
			Tags:     seedDeviceTags(rng, pt),
			LanIP:    fmt.Sprintf("10.%d.%d.%d", ni%250, 1+rng.IntN(3), 2+rng.IntN(250)),
			Firmware: firmware, ClaimedAt: now.Add(-time.Duration(rng.IntN(400*24)) * time.Hour), UpdatedAt: now,
		}
		switch r := rng.IntN(100); {
		case r < 85:
			dev.Status, dev.LastReportedAt = "online", now.Add(-time.Duration(rng.IntN(300))*time.Second)
		case r < 91:
			dev.Status, dev.LastReportedAt = "alerting", now.Add(-time.Duration(rng.IntN(600))*time.Second)
		case r < 97:
			dev.Status, dev.LastReportedAt = "offline", now.Add(-time.Duration(1+rng.IntN(96))*time.Hour)
		default:
			dev.Status, dev.LastReportedAt = "dormant", now.Add(-time.Duration(30+rng.IntN(300))*24*time.Hour)
		}
		if pt == "appliance" || pt == "cellularGateway" {
			dev.PublicIP = fmt.Sprintf("203.0.113.%d", 1+rng.IntN(254))
		}
		if i%10 == 9 {
			// Spares on the shelf: claimed into the inventory only.
			dev.NetworkID, dev.Name, dev.Status, dev.LastReportedAt, dev.LanIP, dev.PublicIP = "", "", "dormant", time.Time{}, "", ""
		}
		devs = append(devs, dev)
	}
	if err := d.CreateNetworks(ctx, nets); err != nil {
		return SeedResult{}, fmt.Errorf("dashboard: seed networks: %w", err)
	}
	if err := d.PutDevices(ctx, devs); err != nil {
		return SeedResult{}, fmt.Errorf("dashboard: seed devices: %w", err)
	}
	return SeedResult{Networks: len(nets), Devices: len(devs)}, nil
}

// siteOf finds the city an existing network was seeded in (by its time
// zone), or picks one.
func siteOf(n store.Network, i int) site {
	for _, s := range sites {
		if s.tz == n.TimeZone {
			return s
		}
	}
	return sites[i%len(sites)]
}

func seedNetworkID(rng *rand.Rand, combined bool) string {
	prefix := "N_"
	if combined {
		prefix = "L_"
	}
	return prefix + fmt.Sprintf("%018d", 600000000000000000+rng.Uint64()%300000000000000000)
}

func pickType(rng *rand.Rand, types []string) string {
	total := 0
	for _, t := range types {
		total += max(1, deviceWeights[t])
	}
	r := rng.IntN(total)
	for _, t := range types {
		r -= max(1, deviceWeights[t])
		if r < 0 {
			return t
		}
	}
	return types[0]
}

var deviceTagPool = map[string][]string{
	"wireless":  {"floor-1", "floor-2", "lobby", "outdoor", "conference"},
	"switch":    {"idf", "mdf", "access", "core"},
	"camera":    {"entrance", "parking", "loading-dock"},
	"sensor":    {"cold-storage", "server-room"},
	"appliance": {"edge", "sdwan"},
}

func seedDeviceTags(rng *rand.Rand, pt string) []string {
	pool := deviceTagPool[pt]
	if len(pool) == 0 || rng.IntN(4) == 0 {
		return []string{}
	}
	return []string{pool[rng.IntN(len(pool))]}
}

// shortName abbreviates a network name for device names: "Branch - Paris"
// -> "PAR".
func shortName(name string) string {
	city := name
	for i := len(name) - 1; i >= 0; i-- {
		if i > 0 && name[i] == ' ' && name[i-1] == '-' {
			city = name[i+1:]
			break
		}
	}
	out := make([]byte, 0, 3)
	for i := 0; i < len(city) && len(out) < 3; i++ {
		c := city[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if 'A' <= c && c <= 'Z' {
			out = append(out, c)
		}
	}
	return string(out)
}
