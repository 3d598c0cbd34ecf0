package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// deviceView is Meraki's Device object.
type deviceView struct {
	Name        string      `json:"name"`
	Lat         float64     `json:"lat"`
	Lng         float64     `json:"lng"`
	Address     string      `json:"address"`
	Notes       string      `json:"notes"`
	Tags        []string    `json:"tags"`
	NetworkID   *string     `json:"networkId"`
	Serial      string      `json:"serial"`
	Model       string      `json:"model"`
	MAC         string      `json:"mac"`
	LanIP       *string     `json:"lanIp"`
	Firmware    string      `json:"firmware"`
	ProductType string      `json:"productType"`
	URL         string      `json:"url,omitempty"`
	FloorPlanID *string     `json:"floorPlanId"`
	Details     []nameValue `json:"details"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (c *call) deviceView(d store.Device) deviceView {
	v := deviceView{Name: d.Name, Lat: d.Lat, Lng: d.Lng, Address: d.Address, Notes: d.Notes, Tags: d.Tags,
		NetworkID: nullable(d.NetworkID), Serial: d.Serial, Model: d.Model, MAC: d.MAC, LanIP: nullable(d.LanIP),
		Firmware: d.Firmware, ProductType: d.ProductType, Details: []nameValue{}}
	if d.NetworkID != "" {
		v.URL = c.h.base() + "/organizations/" + d.OrgID + "/devices/" + d.Serial
	}
	return v
}

// deviceFilter reads the device filters common to the organization-wide
// device operations.
func (c *call) deviceFilter(pr pageRequest) (store.DeviceFilter, error) {
	tags, all, err := c.tagsFilter()
	if err != nil {
		return store.DeviceFilter{}, err
	}
	f := store.DeviceFilter{OrgID: c.orgID, NetworkIDs: c.queryList("networkIds"), ProductTypes: c.queryList("productTypes"),
		Tags: tags, TagsAll: all, Serials: c.queryList("serials"), Models: c.queryList("models"), Statuses: c.queryList("statuses"),
		Name: c.query("name"), MAC: strings.ToLower(c.query("mac")), Page: pr.storePage()}
	if s := c.query("serial"); s != "" {
		f.Serials = append(f.Serials, s)
	}
	if m := c.query("model"); m != "" {
		f.Models = append(f.Models, m)
	}
	// In the store's query, not after it: a page cut before filtering
	// would lose matches beyond it and the Link to them.
	for _, m := range c.queryList("macs") {
		f.MACs = append(f.MACs, strings.ToLower(m))
	}
	return f, nil
}

// listDevices runs a paginated device query and sets the Link header.
func (c *call) listDevices(f store.DeviceFilter, pr pageRequest) ([]store.Device, error) {
	devs, err := c.h.dash.ListDevices(c.r.Context(), f)
	if err != nil {
		return nil, err
	}
	devs, more := trim(pr, devs)
	first, last := "", ""
	if len(devs) > 0 {
		first, last = devs[0].Serial, devs[len(devs)-1].Serial
	}
	c.link(pr, first, last, more)
	return devs, nil
}

// assigned selects devices that are in a network.
var assigned = new(true)

// pagedDevices is the page of devices the request's query selects (see
// deviceFilter), after adjust has set what the endpoint decides itself
// (such as only devices in a network); an error from adjust is the
// endpoint's answer.
func (c *call) pagedDevices(adjust func(f *store.DeviceFilter) error) ([]store.Device, error) {
	pr, err := c.page()
	if err != nil {
		return nil, err
	}
	f, err := c.deviceFilter(pr)
	if err != nil {
		return nil, err
	}
	if err := adjust(&f); err != nil {
		return nil, err
	}
	return c.listDevices(f, pr)
}

// inNetwork keeps the devices that are in a network.
func inNetwork(f *store.DeviceFilter) error {
	f.Assigned = assigned
	return nil
}

func getOrganizationDevices(c *call) (int, any, error) {
	devs, err := c.pagedDevices(func(f *store.DeviceFilter) error {
		f.Assigned, f.Statuses = assigned, nil
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	out := make([]deviceView, len(devs))
	for i, d := range devs {
		out[i] = c.deviceView(d)
		out[i].URL = ""
	}
	return http.StatusOK, out, nil
}

func getNetworkDevices(c *call) (int, any, error) {
	devs, err := c.h.dash.ListDevices(c.r.Context(), store.DeviceFilter{OrgID: c.orgID, NetworkIDs: []string{c.network.ID}})
	if err != nil {
		return 0, nil, err
	}
	out := make([]deviceView, len(devs))
	for i, d := range devs {
		out[i] = c.deviceView(d)
	}
	return http.StatusOK, out, nil
}

func getDevice(c *call) (int, any, error) { return http.StatusOK, c.deviceView(*c.device), nil }

func updateDevice(c *call) (int, any, error) {
	d, err := c.h.dash.UpdateDevice(c.r.Context(), c.device.Serial, func(d *store.Device) error {
		if name, ok, err := c.str("name"); err != nil {
			return err
		} else if ok {
			d.Name = strings.TrimSpace(name)
		}
		if tags, ok, err := c.strList("tags"); err != nil {
			return err
		} else if ok {
			if d.Tags, err = cleanTags(tags); err != nil {
				return err
			}
		}
		if addr, ok, err := c.str("address"); err != nil {
			return err
		} else if ok {
			d.Address = addr
		}
		if notes, ok, err := c.str("notes"); err != nil {
			return err
		} else if ok {
			d.Notes = notes
		}
		lat, okLat, err := c.number("lat")
		if err != nil {
			return err
		}
		lng, okLng, err := c.number("lng")
		if err != nil {
			return err
		}
		if okLat {
			if lat < -90 || lat > 90 {
				return errorf(http.StatusBadRequest, "'lat' must be between -90 and 90")
			}
			d.Lat = lat
		}
		if okLng {
			if lng < -180 || lng > 180 {
				return errorf(http.StatusBadRequest, "'lng' must be between -180 and 180")
			}
			d.Lng = lng
		}
		for _, f := range []string{"moveMapMarker"} {
			if _, _, err := c.boolean(f); err != nil {
				return err
			}
		}
		for _, f := range []string{"floorPlanId", "switchProfileId"} {
			if _, _, err := c.str(f); err != nil {
				return err
			}
		}
		d.UpdatedAt = store.Micro(c.now)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c.deviceView(d), nil
}

// claimError is one entry of claimNetworkDevices' "errors".
type claimError struct {
	Serial string   `json:"serial"`
	Errors []string `json:"errors"`
}

// claimNetworkDevices moves devices into the network: from the
// organization's inventory, or (a sandbox convenience standing in for
// Meraki's order-based claiming) straight from the factory for a
// well-formed serial nobody holds.
func claimNetworkDevices(c *call) (int, any, error) {
	ctx := c.r.Context()
	serials, _, err := c.strList("serials")
	if err != nil {
		return 0, nil, err
	}
	if s, ok, err := c.str("serial"); err != nil {
		return 0, nil, err
	} else if ok {
		serials = append(serials, s)
	}
	if len(serials) == 0 {
		return 0, nil, errorf(http.StatusBadRequest, "'serials' is required")
	}
	atomic, _, err := c.queryBool("addAtomically")
	if err != nil {
		return 0, nil, err
	}
	var claimable []string
	var fresh []store.Device
	var failed []claimError
	for _, s := range slices.Compact(sortedStrings(serials)) {
		s = strings.ToUpper(strings.TrimSpace(s))
		d, err := c.h.dash.GetDevice(ctx, s)
		switch {
		case errors.Is(err, store.ErrNotFound) && validSerial(s):
			d = c.newDevice(s)
			fresh = append(fresh, d)
		case errors.Is(err, store.ErrNotFound):
			failed = append(failed, claimError{s, []string{"Device serial is invalid"}})
			continue
		case err != nil:
			return 0, nil, err
		case d.OrgID != c.orgID:
			failed = append(failed, claimError{s, []string{"Device has already been claimed by another organization"}})
			continue
		case d.NetworkID == c.network.ID:
			failed = append(failed, claimError{s, []string{"Device is already in this network"}})
			continue
		case d.NetworkID != "":
			failed = append(failed, claimError{s, []string{"Device is already in another network"}})
			continue
		}
		if !slices.Contains(c.network.ProductTypes, d.ProductType) {
			failed = append(failed, claimError{s, []string{"Device type " + d.ProductType + " is not supported by this network"}})
			continue
		}
		claimable = append(claimable, s)
	}
	if atomic && len(failed) > 0 {
		msgs := make([]string, 0, len(failed))
		for _, f := range failed {
			msgs = append(msgs, f.Serial+": "+strings.Join(f.Errors, ", "))
		}
		return 0, nil, errList(http.StatusBadRequest, msgs)
	}
	if len(fresh) > 0 {
		keep := fresh[:0]
		for _, d := range fresh {
			if slices.Contains(claimable, d.Serial) {
				keep = append(keep, d)
			}
		}
		if err := c.h.dash.PutDevices(ctx, keep); err != nil {
			return 0, nil, err
		}
	}
	for _, s := range claimable {
		if _, err := c.h.dash.UpdateDevice(ctx, s, func(d *store.Device) error {
			if d.NetworkID != "" {
				return errorf(http.StatusBadRequest, "Device %s was claimed meanwhile", s)
			}
			d.NetworkID, d.UpdatedAt = c.network.ID, store.Micro(c.now)
			if d.Status == "" || d.Status == "dormant" {
				d.Status, d.LastReportedAt = "online", store.Micro(c.now)
			}
			return nil
		}); err != nil {
			return 0, nil, err
		}
	}
	out := map[string]any{"serials": nonNil(claimable)}
	if len(failed) > 0 {
		out["errors"] = failed
	} else {
		out["errors"] = []claimError{}
	}
	return http.StatusOK, out, nil
}

func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// newDevice makes a device of the caller's organization for a serial,
// its model inferred from the serial's prefix.
func (c *call) newDevice(serial string) store.Device {
	m := modelForSerial(serial)
	h := hash(serial, "device")
	return store.Device{Serial: serial, OrgID: c.orgID, Model: m.name, MAC: sampleMAC(h), ProductType: m.productType,
		Tags: []string{}, Firmware: currentFirmware(m.productType).deviceFirmware, Status: "dormant",
		ClaimedAt: store.Micro(c.now), UpdatedAt: store.Micro(c.now)}
}

func removeNetworkDevices(c *call) (int, any, error) {
	serial, _, err := c.str("serial")
	if err != nil {
		return 0, nil, err
	}
	if serial == "" {
		return 0, nil, errorf(http.StatusBadRequest, "'serial' is required")
	}
	_, err = c.h.dash.UpdateDevice(c.r.Context(), serial, func(d *store.Device) error {
		if d.NetworkID != c.network.ID {
			return errorf(http.StatusBadRequest, "Device %s is not in this network", serial)
		}
		d.NetworkID, d.UpdatedAt = "", store.Micro(c.now)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errorf(http.StatusBadRequest, "Device %s is not in this network", serial)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func claimIntoOrganizationInventory(c *call) (int, any, error) {
	ctx := c.r.Context()
	serials, _, err := c.strList("serials")
	if err != nil {
		return 0, nil, err
	}
	var orders, licenses []json.RawMessage
	if _, err := c.decode("orders", &orders, "an array of order numbers"); err != nil {
		return 0, nil, err
	}
	if _, err := c.decode("licenses", &licenses, "an array of {key, mode}"); err != nil {
		return 0, nil, err
	}
	if len(serials) == 0 && len(orders) == 0 && len(licenses) == 0 {
		return 0, nil, errorf(http.StatusBadRequest, "Specify at least one of 'serials', 'orders' or 'licenses'")
	}
	var msgs []string
	var fresh []store.Device
	claimed := []string{}
	for _, s := range slices.Compact(sortedStrings(serials)) {
		s = strings.ToUpper(strings.TrimSpace(s))
		d, err := c.h.dash.GetDevice(ctx, s)
		switch {
		case errors.Is(err, store.ErrNotFound) && validSerial(s):
			fresh = append(fresh, c.newDevice(s))
			claimed = append(claimed, s)
		case errors.Is(err, store.ErrNotFound):
			msgs = append(msgs, "Device serial "+s+" is invalid")
		case err != nil:
			return 0, nil, err
		case d.OrgID == c.orgID:
			claimed = append(claimed, s) // already here: claiming is idempotent
		default:
			msgs = append(msgs, "Device "+s+" has already been claimed by another organization")
		}
	}
	if len(msgs) > 0 {
		return 0, nil, errList(http.StatusBadRequest, msgs)
	}
	if err := c.h.dash.PutDevices(ctx, fresh); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return 0, nil, errorf(http.StatusConflict, "A device was claimed concurrently; retry")
		}
		return 0, nil, err
	}
	// Orders and licenses have no inventory of their own in the sandbox:
	// they are acknowledged as sent.
	return http.StatusOK, map[string]any{"serials": claimed, "orders": nonNil(orders), "licenses": nonNil(licenses)}, nil
}

func releaseFromOrganizationInventory(c *call) (int, any, error) {
	ctx := c.r.Context()
	serials, _, err := c.strList("serials")
	if err != nil {
		return 0, nil, err
	}
	if len(serials) == 0 {
		return 0, nil, errorf(http.StatusBadRequest, "'serials' is required")
	}
	var msgs []string
	for _, s := range serials {
		d, err := c.h.dash.GetDevice(ctx, s)
		switch {
		case errors.Is(err, store.ErrNotFound) || err == nil && d.OrgID != c.orgID:
			msgs = append(msgs, "Device "+s+" is not in this organization's inventory")
		case err != nil:
			return 0, nil, err
		case d.NetworkID != "":
			msgs = append(msgs, "Device "+s+" must be removed from its network first")
		}
	}
	if len(msgs) > 0 {
		return 0, nil, errList(http.StatusBadRequest, msgs)
	}
	for _, s := range serials {
		if err := c.h.dash.DeleteDevice(ctx, s); err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, nil, err
		}
	}
	return http.StatusOK, map[string]any{"serials": serials}, nil
}

// inventoryView is Meraki's inventory device object.
type inventoryView struct {
	MAC                   string      `json:"mac"`
	Serial                string      `json:"serial"`
	Name                  string      `json:"name"`
	Model                 string      `json:"model"`
	NetworkID             *string     `json:"networkId"`
	OrderNumber           *string     `json:"orderNumber"`
	ClaimedAt             string      `json:"claimedAt"`
	LicenseExpirationDate *string     `json:"licenseExpirationDate"`
	Tags                  []string    `json:"tags"`
	ProductType           string      `json:"productType"`
	CountryCode           string      `json:"countryCode"`
	Details               []nameValue `json:"details"`
}

func inventoryViewOf(d store.Device) inventoryView {
	return inventoryView{MAC: d.MAC, Serial: d.Serial, Name: d.Name, Model: d.Model, NetworkID: nullable(d.NetworkID),
		ClaimedAt: fmtTime(d.ClaimedAt), Tags: d.Tags, ProductType: d.ProductType, CountryCode: "US", Details: []nameValue{}}
}

func getOrganizationInventoryDevices(c *call) (int, any, error) {
	devs, err := c.pagedDevices(func(f *store.DeviceFilter) error {
		f.Statuses = nil
		switch c.query("usedState") {
		case "":
		case "used":
			f.Assigned = assigned
		case "unused":
			no := false
			f.Assigned = &no
		default:
			return errorf(http.StatusBadRequest, "'usedState' must be one of: 'used', 'unused'")
		}
		f.Search = c.query("search")
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	out := make([]inventoryView, 0, len(devs))
	for _, d := range devs {
		out = append(out, inventoryViewOf(d))
	}
	return http.StatusOK, out, nil
}

func getOrganizationInventoryDevice(c *call) (int, any, error) {
	return http.StatusOK, inventoryViewOf(*c.device), nil
}

// blinkDeviceLeds (deprecated) answers the blink parameters it would use.
func blinkDeviceLeds(c *call) (int, any, error) {
	v := map[string]int{"duration": 20, "duty": 50, "period": 160}
	bounds := map[string][2]int{"duration": {5, 120}, "duty": {10, 90}, "period": {100, 1000}}
	for name, b := range bounds {
		n, ok, err := c.integer(name)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			if n < b[0] || n > b[1] {
				return 0, nil, errorf(http.StatusBadRequest, "'%s' must be between %d and %d", name, b[0], b[1])
			}
			v[name] = n
		}
	}
	if c.device.NetworkID == "" {
		return 0, nil, errorf(http.StatusBadRequest, "The device must be in a network to blink its LEDs")
	}
	return http.StatusAccepted, v, nil
}

// createDeviceLiveToolsLedsBlink enqueues a blink job; the sandbox
// completes it at once and keeps it for getDeviceLiveToolsLedsBlink.
func createDeviceLiveToolsLedsBlink(c *call) (int, any, error) {
	duration, ok, err := c.integer("duration")
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		duration = 20
	}
	if duration < 5 || duration > 120 {
		return 0, nil, errorf(http.StatusBadRequest, "'duration' must be between 5 and 120")
	}
	if c.device.NetworkID == "" {
		return 0, nil, errorf(http.StatusBadRequest, "The device must be in a network to blink its LEDs")
	}
	id := newNumericID()
	path := c.path + "/" + id
	job := map[string]any{
		"ledsBlinkId": id,
		"url":         c.h.base() + BasePath + path,
		"request":     map[string]any{"serial": c.device.Serial, "duration": duration},
		"status":      "complete",
		"error":       nil,
	}
	if cb, ok := c.body["callback"]; ok {
		job["callback"] = cb
	}
	b, err := json.Marshal(job)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.h.dash.UpdateResource(c.r.Context(), c.orgID, path, func(store.Resource, bool) (store.Resource, error) {
		return store.Resource{Parent: c.path, Body: b, UpdatedAt: c.now}, nil
	}); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, job, nil
}

// statusView is one entry of getOrganizationDevicesStatuses.
type statusView struct {
	Name           string   `json:"name"`
	Serial         string   `json:"serial"`
	MAC            string   `json:"mac"`
	PublicIP       *string  `json:"publicIp"`
	NetworkID      string   `json:"networkId"`
	Status         string   `json:"status"`
	LastReportedAt *string  `json:"lastReportedAt"`
	LanIP          *string  `json:"lanIp"`
	Gateway        *string  `json:"gateway"`
	IPType         string   `json:"ipType"`
	PrimaryDNS     *string  `json:"primaryDns"`
	SecondaryDNS   *string  `json:"secondaryDns"`
	ProductType    string   `json:"productType"`
	Model          string   `json:"model"`
	Tags           []string `json:"tags"`
	Components     struct {
		PowerSupplies []any `json:"powerSupplies"`
	} `json:"components"`
}

func statusViewOf(d store.Device) statusView {
	v := statusView{Name: d.Name, Serial: d.Serial, MAC: d.MAC, PublicIP: nullable(d.PublicIP), NetworkID: d.NetworkID,
		Status: d.Status, LanIP: nullable(d.LanIP), IPType: "dhcp", ProductType: d.ProductType, Model: d.Model, Tags: d.Tags}
	if !d.LastReportedAt.IsZero() {
		s := fmtTime(d.LastReportedAt)
		v.LastReportedAt = &s
	}
	if d.LanIP != "" {
		if i := strings.LastIndexByte(d.LanIP, '.'); i > 0 {
			gw := d.LanIP[:i] + ".1"
			v.Gateway, v.PrimaryDNS = &gw, &gw
			dns2 := "8.8.8.8"
			v.SecondaryDNS = &dns2
		}
	}
	v.Components.PowerSupplies = []any{}
	return v
}

func getOrganizationDevicesStatuses(c *call) (int, any, error) {
	devs, err := c.pagedDevices(inNetwork)
	if err != nil {
		return 0, nil, err
	}
	out := make([]statusView, len(devs))
	for i, d := range devs {
		out[i] = statusViewOf(d)
	}
	return http.StatusOK, out, nil
}

func getOrganizationDevicesAvailabilities(c *call) (int, any, error) {
	devs, err := c.pagedDevices(inNetwork)
	if err != nil {
		return 0, nil, err
	}
	type network struct {
		ID string `json:"id"`
	}
	type availability struct {
		MAC         string   `json:"mac"`
		Name        string   `json:"name"`
		Network     network  `json:"network"`
		ProductType string   `json:"productType"`
		Serial      string   `json:"serial"`
		Status      string   `json:"status"`
		Tags        []string `json:"tags"`
	}
	out := make([]availability, len(devs))
	for i, d := range devs {
		out[i] = availability{d.MAC, d.Name, network{d.NetworkID}, d.ProductType, d.Serial, d.Status, d.Tags}
	}
	return http.StatusOK, out, nil
}

// getOrganizationDevicesStatusesOverview counts devices by status.
func getOrganizationDevicesStatusesOverview(c *call) (int, any, error) {
	f := store.DeviceFilter{OrgID: c.orgID, Assigned: assigned, NetworkIDs: c.queryList("networkIds"), ProductTypes: c.queryList("productTypes")}
	counts := map[string]int{"online": 0, "alerting": 0, "offline": 0, "dormant": 0}
	devs, err := c.h.dash.ListDevices(c.r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	for _, d := range devs {
		counts[d.Status]++
	}
	return http.StatusOK, map[string]any{"counts": map[string]any{"byStatus": counts}}, nil
}
