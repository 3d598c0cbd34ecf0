package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// fwVersion is a firmware version as Meraki describes it.
type fwVersion struct {
	ID          int    `json:"id"`
	Firmware    string `json:"firmware"`
	ReleaseType string `json:"releaseType"`
	ReleaseDate string `json:"releaseDate"`
	ShortName   string `json:"shortName"`
}

// fwDef is a version the sandbox offers, with the firmware string devices
// running it report.
type fwDef struct {
	fwVersion
	deviceFirmware string
}

// firmwareCatalog lists each product's versions; the first is what seeded
// and newly claimed devices run.
var firmwareCatalog = map[string][]fwDef{
	"appliance": {
		{fwVersion{4670, "MX 18.107.10", "stable", "2025-06-10T00:00:00Z", "MX 18.107.10"}, "wired-18-107-10"},
		{fwVersion{4770, "MX 18.211.2", "stable", "2025-10-02T00:00:00Z", "MX 18.211.2"}, "wired-18-211-2"},
		{fwVersion{4820, "MX 19.1.4", "beta", "2026-01-12T00:00:00Z", "MX 19.1.4"}, "wired-19-1-4"},
	},
	"switch": {
		{fwVersion{4701, "MS 16.8", "stable", "2025-05-20T00:00:00Z", "MS 16.8"}, "switch-16-8"},
		{fwVersion{4758, "MS 17.1.4", "stable", "2025-09-15T00:00:00Z", "MS 17.1.4"}, "switch-17-1-4"},
		{fwVersion{4802, "MS 17.2", "candidate", "2026-01-08T00:00:00Z", "MS 17.2"}, "switch-17-2"},
	},
	"wireless": {
		{fwVersion{4650, "MR 30.7", "stable", "2025-04-28T00:00:00Z", "MR 30.7"}, "wireless-30-7"},
		{fwVersion{4790, "MR 31.1.6", "stable", "2025-10-20T00:00:00Z", "MR 31.1.6"}, "wireless-31-1-6"},
		{fwVersion{4810, "MR 31.2", "beta", "2026-01-15T00:00:00Z", "MR 31.2"}, "wireless-31-2"},
	},
	"camera": {
		{fwVersion{4600, "MV 5.1", "stable", "2025-03-03T00:00:00Z", "MV 5.1"}, "camera-5-1"},
		{fwVersion{4700, "MV 5.2", "stable", "2025-11-04T00:00:00Z", "MV 5.2"}, "camera-5-2"},
	},
	"sensor": {
		{fwVersion{4550, "MT 1.23", "stable", "2025-02-11T00:00:00Z", "MT 1.23"}, "sensor-1-23"},
		{fwVersion{4660, "MT 1.25", "stable", "2025-09-30T00:00:00Z", "MT 1.25"}, "sensor-1-25"},
	},
	"cellularGateway": {
		{fwVersion{4500, "MG 3.2", "stable", "2025-01-21T00:00:00Z", "MG 3.2"}, "cellular-gateway-3-2"},
		{fwVersion{4640, "MG 3.3", "stable", "2025-08-26T00:00:00Z", "MG 3.3"}, "cellular-gateway-3-3"},
	},
}

func currentFirmware(productType string) fwDef {
	if v := firmwareCatalog[productType]; len(v) > 0 {
		return v[0]
	}
	return fwDef{deviceFirmware: "Not running configured version"}
}

func findVersion(productType string, id int) (fwDef, bool) {
	for _, v := range firmwareCatalog[productType] {
		if v.ID == id {
			return v, true
		}
	}
	return fwDef{}, false
}

// fwState is a network's stored firmware state.
type fwState struct {
	DayOfWeek string                     `json:"dayOfWeek"`
	HourOfDay string                     `json:"hourOfDay"`
	Timezone  string                     `json:"timezone"`
	Products  map[string]*fwProductState `json:"products"`
}

type fwProductState struct {
	Current int        `json:"current"`
	Last    *fwUpgrade `json:"last,omitempty"`
	Next    *fwUpgrade `json:"next,omitempty"`
	Beta    bool       `json:"beta"`
}

type fwUpgrade struct {
	Time      time.Time `json:"time"`
	From      int       `json:"from"`
	To        int       `json:"to"`
	UpgradeID string    `json:"upgradeId"`
}

func (c *call) firmwarePath() string { return "/networks/" + c.network.ID + "/firmwareUpgrades" }

func (c *call) upgradesPath() string { return "/organizations/" + c.orgID + "/firmware/upgrades" }

// defaultFirmware is a network's state before anything was scheduled.
func defaultFirmware(n store.Network) fwState {
	s := fwState{DayOfWeek: "sun", HourOfDay: "4:00", Timezone: n.TimeZone, Products: map[string]*fwProductState{}}
	for _, p := range n.ProductTypes {
		if _, ok := firmwareCatalog[p]; ok {
			s.Products[p] = &fwProductState{Current: currentFirmware(p).ID}
		}
	}
	return s
}

// updateFirmware loads the network's firmware state, completes upgrades
// whose time has come (devices then report the new firmware), applies
// change, and stores the result when anything changed.
func (c *call) updateFirmware(change func(s *fwState) error) (fwState, error) {
	ctx := c.r.Context()
	var out fwState
	if change == nil {
		// A read writes only when an upgrade is due.
		out = defaultFirmware(*c.network)
		r, err := c.h.dash.GetResource(ctx, c.orgID, c.firmwarePath())
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if err := json.Unmarshal(r.Body, &out); err != nil {
			return out, err
		}
		if !out.due(c.now) {
			return out, nil
		}
	}
	var done []fwUpgradeDone
	_, err := c.h.dash.UpdateResource(ctx, c.orgID, c.firmwarePath(), func(cur store.Resource, found bool) (store.Resource, error) {
		out = defaultFirmware(*c.network)
		if found {
			if err := json.Unmarshal(cur.Body, &out); err != nil {
				return cur, err
			}
		}
		before, _ := json.Marshal(out)
		for p, ps := range out.Products {
			if ps.Next != nil && !ps.Next.Time.After(c.now) {
				done = append(done, fwUpgradeDone{p, *ps.Next})
				ps.Last, ps.Current, ps.Next = ps.Next, ps.Next.To, nil
			}
		}
		if change != nil {
			if err := change(&out); err != nil {
				return cur, err
			}
		}
		after, err := json.Marshal(out)
		if err != nil {
			return cur, err
		}
		if found && string(before) == string(after) && len(done) == 0 {
			return cur, nil
		}
		return store.Resource{Body: after, UpdatedAt: c.now}, nil
	})
	if err != nil {
		return out, err
	}
	for _, d := range done {
		if err := c.completeUpgrade(d); err != nil {
			return out, err
		}
	}
	return out, nil
}

// due reports whether an upgrade's time has come.
func (s fwState) due(now time.Time) bool {
	for _, ps := range s.Products {
		if ps.Next != nil && !ps.Next.Time.After(now) {
			return true
		}
	}
	return false
}

type fwUpgradeDone struct {
	product string
	up      fwUpgrade
}

// completeUpgrade makes the network's devices of the product report the
// new firmware and marks the organization's upgrade record completed.
func (c *call) completeUpgrade(d fwUpgradeDone) error {
	ctx := c.r.Context()
	v, ok := findVersion(d.product, d.up.To)
	if !ok {
		return nil
	}
	devs, err := c.h.dash.ListDevices(ctx, store.DeviceFilter{OrgID: c.orgID, NetworkIDs: []string{c.network.ID}, ProductTypes: []string{d.product}})
	if err != nil {
		return err
	}
	for _, dev := range devs {
		if _, err := c.h.dash.UpdateDevice(ctx, dev.Serial, func(x *store.Device) error {
			x.Firmware, x.UpdatedAt = v.deviceFirmware, store.Micro(c.now)
			return nil
		}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return c.putUpgradeRecord(d.product, d.up, "Completed")
}

// putUpgradeRecord stores one entry of getOrganizationFirmwareUpgrades.
func (c *call) putUpgradeRecord(product string, up fwUpgrade, status string) error {
	from, _ := findVersion(product, up.From)
	to, _ := findVersion(product, up.To)
	rec := map[string]any{
		"upgradeId": up.UpgradeID, "upgradeBatchId": up.UpgradeID, "status": status, "time": fmtTime(up.Time),
		"completedAt": nil, "productTypes": product,
		"network":     map[string]string{"id": c.network.ID, "name": c.network.Name},
		"fromVersion": from.fwVersion, "toVersion": to.fwVersion,
	}
	if status == "Completed" {
		rec["completedAt"] = fmtTime(up.Time)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = c.h.dash.UpdateResource(c.r.Context(), c.orgID, c.upgradesPath()+"/"+up.UpgradeID, func(store.Resource, bool) (store.Resource, error) {
		return store.Resource{Parent: c.upgradesPath(), Body: b, UpdatedAt: c.now}, nil
	})
	return err
}

func (c *call) firmwareView(s fwState) map[string]any {
	products := map[string]any{}
	for p, ps := range s.Products {
		cur := currentFirmwareByID(p, ps.Current)
		var avail []fwVersion
		for _, v := range firmwareCatalog[p] {
			if v.ID != ps.Current {
				avail = append(avail, v.fwVersion)
			}
		}
		last := map[string]any{"time": "", "fromVersion": map[string]any{}, "toVersion": map[string]any{}}
		if ps.Last != nil {
			f, _ := findVersion(p, ps.Last.From)
			t, _ := findVersion(p, ps.Last.To)
			last = map[string]any{"time": fmtTime(ps.Last.Time), "fromVersion": f.fwVersion, "toVersion": t.fwVersion}
		}
		next := map[string]any{"time": "", "toVersion": map[string]any{}}
		if ps.Next != nil {
			t, _ := findVersion(p, ps.Next.To)
			next = map[string]any{"time": fmtTime(ps.Next.Time), "toVersion": t.fwVersion}
		}
		products[p] = map[string]any{
			"currentVersion": cur.fwVersion, "lastUpgrade": last, "nextUpgrade": next,
			"availableVersions": nonNil(avail), "participateInNextBetaRelease": ps.Beta,
		}
	}
	return map[string]any{
		"upgradeWindow": map[string]string{"dayOfWeek": s.DayOfWeek, "hourOfDay": s.HourOfDay},
		"timezone":      s.Timezone,
		"products":      products,
	}
}

func currentFirmwareByID(p string, id int) fwDef {
	if v, ok := findVersion(p, id); ok {
		return v
	}
	return currentFirmware(p)
}

func getNetworkFirmwareUpgrades(c *call) (int, any, error) {
	s, err := c.updateFirmware(nil)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c.firmwareView(s), nil
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// fwProductRequest is one product of updateNetworkFirmwareUpgrades.
type fwProductRequest struct {
	NextUpgrade *struct {
		Time      string `json:"time"`
		ToVersion *struct {
			ID json.Number `json:"id"`
		} `json:"toVersion"`
	} `json:"nextUpgrade"`
	ParticipateInNextBetaRelease *bool `json:"participateInNextBetaRelease"`
}

// updateNetworkFirmwareUpgrades sets the upgrade window and time zone and
// schedules (or, with the current version, cancels) products' upgrades.
// A scheduled upgrade completes once its time has passed.
func updateNetworkFirmwareUpgrades(c *call) (int, any, error) {
	var window struct {
		DayOfWeek string `json:"dayOfWeek"`
		HourOfDay string `json:"hourOfDay"`
	}
	hasWindow, err := c.decode("upgradeWindow", &window, "an object with 'dayOfWeek' and 'hourOfDay'")
	if err != nil {
		return 0, nil, err
	}
	tz, hasTZ, err := c.str("timezone")
	if err != nil {
		return 0, nil, err
	}
	if hasTZ {
		if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
			return 0, nil, errorf(http.StatusBadRequest, "'timezone' must be a valid time zone")
		}
	}
	var products map[string]fwProductRequest
	if _, err := c.decode("products", &products, "an object keyed by product type"); err != nil {
		return 0, nil, err
	}
	var records []fwUpgradeDone
	var cancelled []fwUpgrade
	var cancelledProducts []string
	s, err := c.updateFirmware(func(s *fwState) error {
		records, cancelled, cancelledProducts = nil, nil, nil
		if hasWindow {
			if window.DayOfWeek != "" {
				d := strings.ToLower(window.DayOfWeek)
				if len(d) > 3 {
					d = d[:3]
				}
				if !slices.Contains(weekdays, d) {
					return errorf(http.StatusBadRequest, "'upgradeWindow.dayOfWeek' must be a day of the week")
				}
				s.DayOfWeek = d
			}
			if window.HourOfDay != "" {
				t, err := time.Parse("15:04", window.HourOfDay)
				if err != nil || t.Minute() != 0 {
					return errorf(http.StatusBadRequest, "'upgradeWindow.hourOfDay' must be a whole hour such as '4:00'")
				}
				s.HourOfDay = t.Format("15:04")
				s.HourOfDay = strings.TrimPrefix(s.HourOfDay, "0")
			}
		}
		if hasTZ {
			s.Timezone = tz
		}
		for _, p := range sortedKeys(products) {
			req := products[p]
			ps, ok := s.Products[p]
			if !ok {
				return errorf(http.StatusBadRequest, "This network has no devices of product type '%s'", p)
			}
			if req.ParticipateInNextBetaRelease != nil {
				ps.Beta = *req.ParticipateInNextBetaRelease
			}
			if req.NextUpgrade == nil || req.NextUpgrade.ToVersion == nil {
				continue
			}
			id, err := req.NextUpgrade.ToVersion.ID.Int64()
			if err != nil {
				return errorf(http.StatusBadRequest, "'products.%s.nextUpgrade.toVersion.id' must be a version id", p)
			}
			v, ok := findVersion(p, int(id))
			if !ok {
				return errorf(http.StatusBadRequest, "Version %d is not available for %s", id, p)
			}
			if v.ID == ps.Current {
				if ps.Next != nil {
					cancelled = append(cancelled, *ps.Next)
					cancelledProducts = append(cancelledProducts, p)
				}
				ps.Next = nil
				continue
			}
			at := c.now
			if req.NextUpgrade.Time != "" {
				t, err := parseTime(req.NextUpgrade.Time)
				if err != nil {
					return errorf(http.StatusBadRequest, "'products.%s.nextUpgrade.time' must be an ISO 8601 time", p)
				}
				if t.After(c.now.Add(31 * 24 * time.Hour)) {
					return errorf(http.StatusBadRequest, "Upgrades can be scheduled up to one month ahead")
				}
				if t.After(at) {
					at = t
				}
			}
			up := fwUpgrade{Time: store.Micro(at), From: ps.Current, To: v.ID, UpgradeID: newNumericID()}
			if ps.Next != nil {
				up.UpgradeID = ps.Next.UpgradeID // rescheduling keeps the record
			}
			ps.Next = &up
			records = append(records, fwUpgradeDone{p, up})
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	for _, r := range records {
		if err := c.putUpgradeRecord(r.product, r.up, "Scheduled"); err != nil {
			return 0, nil, err
		}
	}
	for i, up := range cancelled {
		if err := c.putUpgradeRecord(cancelledProducts[i], up, "Cancelled"); err != nil {
			return 0, nil, err
		}
	}
	// An upgrade scheduled for now completes on this very answer.
	if len(records) > 0 {
		if s, err = c.updateFirmware(nil); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, c.firmwareView(s), nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// getOrganizationFirmwareUpgrades lists the organization's scheduled,
// completed and cancelled upgrades, completing those whose time passed.
func getOrganizationFirmwareUpgrades(c *call) (int, any, error) {
	ctx := c.r.Context()
	pr, err := c.page()
	if err != nil {
		return 0, nil, err
	}
	load := func() ([]map[string]any, error) {
		items, err := c.h.dash.ListResources(ctx, c.orgID, c.upgradesPath())
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			var m map[string]any
			if it.Deleted || json.Unmarshal(it.Body, &m) != nil {
				continue
			}
			out = append(out, m)
		}
		return out, nil
	}
	recs, err := load()
	if err != nil {
		return 0, nil, err
	}
	due := map[string]bool{}
	for _, m := range recs {
		t, _ := time.Parse(time.RFC3339, str(m["time"]))
		if m["status"] == "Scheduled" && !t.After(c.now) {
			if n, ok := m["network"].(map[string]any); ok {
				due[str(n["id"])] = true
			}
		}
	}
	if len(due) > 0 {
		for _, id := range sortedKeys(due) {
			n, err := c.h.dash.GetNetwork(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return 0, nil, err
			}
			nc := *c
			nc.network = &n
			if _, err := nc.updateFirmware(nil); err != nil {
				return 0, nil, err
			}
		}
		if recs, err = load(); err != nil {
			return 0, nil, err
		}
	}
	statuses := c.queryList("status")
	pts := c.queryList("productTypes")
	recs = slices.DeleteFunc(recs, func(m map[string]any) bool {
		return len(statuses) > 0 && !slices.ContainsFunc(statuses, func(s string) bool { return strings.EqualFold(s, str(m["status"])) }) ||
			len(pts) > 0 && !slices.Contains(pts, str(m["productTypes"]))
	})
	page, more := paginate(pr, recs, func(m map[string]any) string { return str(m["upgradeId"]) })
	first, last := "", ""
	if len(page) > 0 {
		first, last = str(page[0]["upgradeId"]), str(page[len(page)-1]["upgradeId"])
	}
	c.link(pr, first, last, more)
	return http.StatusOK, nonNil(page), nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
