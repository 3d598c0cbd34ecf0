package dashboard

import (
	"context"
	"net/netip"
	"testing"

	"github.com/grantflow/grantflow/internal/store"
)

func TestApplianceVlans(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	tok := e.token("sdwan:config:read", "sdwan:config:write")
	path := "/networks/" + e.hq.ID + "/appliance/vlans"
	var vlans []map[string]any
	r := e.call("GET", path, tok, nil)
	r.json(t, &vlans)
	if r.status != 200 || len(vlans) < 3 || vlans[0]["id"] != "1" || vlans[0]["name"] != "Default" {
		t.Fatalf("vlans: %d %s", r.status, r.body)
	}
	// Every device of the network with a LAN IP has a fixed assignment, by
	// MAC, in the VLAN whose subnet holds it.
	devs, err := e.st.Dashboard().ListDevices(context.Background(), store.DeviceFilter{OrgID: e.orgA, NetworkIDs: []string{e.hq.ID}})
	must(t, err)
	assigned := 0
	for _, d := range devs {
		if d.LanIP == "" {
			continue
		}
		ip := netip.MustParseAddr(d.LanIP)
		for _, v := range vlans {
			if !netip.MustParsePrefix(v["subnet"].(string)).Contains(ip) {
				continue
			}
			fixed, _ := v["fixedIpAssignments"].(map[string]any)[d.MAC].(map[string]any)
			if fixed["ip"] != d.LanIP || fixed["name"] != d.Name {
				t.Errorf("%s (%s) in VLAN %v: assignment %v", d.Serial, d.LanIP, v["id"], fixed)
			}
			assigned++
		}
	}
	if assigned == 0 {
		t.Error("no device has a fixed IP assignment")
	}

	var one map[string]any
	e.call("GET", path+"/1", tok, nil).json(t, &one)
	if one["applianceIp"] != vlans[0]["applianceIp"] {
		t.Errorf("vlan 1: %v", one)
	}
	if r := e.call("GET", path+"/999", tok, nil); r.status != 404 {
		t.Errorf("vlan 999: %d", r.status)
	}

	r = e.call("POST", path, tok, map[string]any{"id": "40", "name": "Cameras", "subnet": "10.99.40.0/24", "applianceIp": "10.99.40.1"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := e.call("POST", path, tok, map[string]any{"id": "40", "name": "Again", "subnet": "10.99.41.0/24", "applianceIp": "10.99.41.1"}); r.status != 400 {
		t.Errorf("duplicate vlan: %d", r.status)
	}
	for _, bad := range []map[string]any{
		{"id": "41", "name": "x", "subnet": "10.99.41.0/33", "applianceIp": "10.99.41.1"},
		{"id": "41", "name": "x", "subnet": "10.99.41.0/24", "applianceIp": "10.99.42.1"},
		{"id": "5000", "name": "x", "subnet": "10.99.41.0/24", "applianceIp": "10.99.41.1"},
	} {
		if r := e.call("POST", path, tok, bad); r.status != 400 {
			t.Errorf("create %v: %d %s", bad, r.status, r.body)
		}
	}
	r = e.call("PUT", path+"/1", tok, map[string]any{"name": "Corporate"})
	r.json(t, &one)
	if r.status != 200 || one["name"] != "Corporate" || one["subnet"] != vlans[0]["subnet"] {
		t.Errorf("update: %d %s", r.status, r.body)
	}
	if r := e.call("DELETE", path+"/40", tok, nil); r.status != 204 {
		t.Errorf("delete: %d", r.status)
	}
	var after []map[string]any
	e.call("GET", path, tok, nil).json(t, &after)
	if len(after) != len(vlans) || after[0]["name"] != "Corporate" {
		t.Errorf("vlans after changes: %v", after)
	}

	wifi := e.createNetwork(e.keyFullA, "Wifi only", "wireless")
	if r := e.call("GET", "/networks/"+wifi+"/appliance/vlans", tok, nil); r.status != 400 || len(r.errors(t)) != 1 {
		t.Errorf("vlans of a wireless network: %d %s", r.status, r.body)
	}
}

func TestApplianceUplinkStatuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	tok := e.token("sdwan:telemetry:read")
	var got []struct {
		NetworkID, Serial, Model string
		Uplinks                  []struct{ Interface, Status, IP, Gateway, PublicIP, PrimaryDNS string }
	}
	r := e.call("GET", "/organizations/"+e.orgA+"/appliance/uplink/statuses", tok, nil)
	r.json(t, &got)
	appliances, err := e.st.Dashboard().ListDevices(context.Background(), store.DeviceFilter{OrgID: e.orgA, ProductTypes: []string{"appliance"}, Assigned: assigned})
	must(t, err)
	if r.status != 200 || len(got) != len(appliances) || len(got) == 0 {
		t.Fatalf("uplinks: %d, %d entries for %d appliances: %s", r.status, len(got), len(appliances), r.body)
	}
	for i, a := range appliances {
		g := got[i]
		if g.Serial != a.Serial || g.NetworkID != a.NetworkID || g.Model != a.Model || len(g.Uplinks) == 0 || g.Uplinks[0].Interface != "wan1" {
			t.Errorf("entry %d: %+v for %+v", i, g, a)
			continue
		}
		w := g.Uplinks[0]
		if want := map[bool]string{true: "active", false: "failed"}[a.Status == "online" || a.Status == "alerting"]; w.Status != want {
			t.Errorf("%s (%s): wan1 %s, want %s", a.Serial, a.Status, w.Status, want)
		}
		if a.PublicIP != "" && w.PublicIP != a.PublicIP || w.IP == "" || w.Gateway == "" || w.PrimaryDNS == "" {
			t.Errorf("%s: wan1 %+v", a.Serial, w)
		}
	}
	one := got[0]
	var filtered []map[string]any
	e.call("GET", "/organizations/"+e.orgA+"/appliance/uplink/statuses?serials[]="+one.Serial, tok, nil).json(t, &filtered)
	if len(filtered) != 1 || filtered[0]["serial"] != one.Serial {
		t.Errorf("by serial: %v", filtered)
	}
}
