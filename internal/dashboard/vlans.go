package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// An appliance network's VLANs are derived from its devices until the
// first change: one /24 per third octet the devices' LAN IPs use (VLAN 1
// "Default" for the first), each with a fixed IP assignment for every
// device in it, keyed by MAC as Meraki does. Changes store the whole list
// as the resource /networks/{networkId}/appliance/vlans.

var vlanNames = map[int]string{1: "Default", 2: "Voice", 3: "Guest"}

func (c *call) vlansPath() string { return "/networks/" + c.network.ID + "/appliance/vlans" }

// defaultVlans are the VLANs of a network nothing was changed in.
func (c *call) defaultVlans() ([]map[string]any, error) {
	devs, err := c.h.dash.ListDevices(c.r.Context(), store.DeviceFilter{OrgID: c.orgID, NetworkIDs: []string{c.network.ID}})
	if err != nil {
		return nil, err
	}
	second := int(hash(c.network.ID, "vlans") % 250)
	thirds := map[int][]store.Device{}
	for _, d := range devs {
		a, err := netip.ParseAddr(d.LanIP)
		if err != nil || !a.Is4() || a.As4()[0] != 10 {
			continue
		}
		b := a.As4()
		second = int(b[1])
		thirds[int(b[2])] = append(thirds[int(b[2])], d)
	}
	ids := []int{1, 2, 3}
	for t := range thirds {
		if !slices.Contains(ids, t) {
			ids = append(ids, t)
		}
	}
	slices.Sort(ids)
	out := make([]map[string]any, 0, len(ids))
	for _, t := range ids {
		name := vlanNames[t]
		if name == "" {
			name = fmt.Sprintf("VLAN %d", t)
		}
		subnet := fmt.Sprintf("10.%d.%d", second, t)
		fixed := map[string]any{}
		for _, d := range thirds[t] {
			fixed[d.MAC] = map[string]any{"ip": d.LanIP, "name": d.Name}
		}
		out = append(out, map[string]any{
			"id": strconv.Itoa(t), "interfaceId": strconv.FormatUint(hash(c.network.ID, "vlan"+strconv.Itoa(t))%1e12, 10),
			"networkId": c.network.ID, "name": name, "subnet": subnet + ".0/24", "applianceIp": subnet + ".1",
			"groupPolicyId": nil, "templateVlanType": "same", "cidr": subnet + ".0/24", "mask": 24,
			"fixedIpAssignments": fixed,
			"reservedIpRanges":   []any{map[string]any{"start": subnet + ".230", "end": subnet + ".250", "comment": "Reserved for infrastructure"}},
			"dnsNameservers":     "upstream_dns", "dhcpHandling": "Run a DHCP server", "dhcpLeaseTime": "1 day",
			"dhcpBootOptionsEnabled": false, "dhcpOptions": []any{}, "vpnNatSubnet": nil, "mandatoryDhcp": map[string]any{"enabled": false},
			"ipv6": map[string]any{"enabled": false},
		})
	}
	return out, nil
}

// vlans is the network's VLAN list (stored or derived).
func (c *call) vlans() ([]map[string]any, error) {
	if err := c.requireProduct("appliance"); err != nil {
		return nil, err
	}
	r, err := c.h.dash.GetResource(c.r.Context(), c.orgID, c.vlansPath())
	if errors.Is(err, store.ErrNotFound) {
		return c.defaultVlans()
	}
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	return out, json.Unmarshal(r.Body, &out)
}

// changeVlans applies change to the network's VLANs and stores them.
func (c *call) changeVlans(change func(vlans []map[string]any) ([]map[string]any, error)) error {
	if err := c.requireProduct("appliance"); err != nil {
		return err
	}
	def, err := c.defaultVlans()
	if err != nil {
		return err
	}
	_, err = c.h.dash.UpdateResource(c.r.Context(), c.orgID, c.vlansPath(), func(cur store.Resource, found bool) (store.Resource, error) {
		vlans := def
		if found && !cur.Deleted {
			vlans = nil
			if err := json.Unmarshal(cur.Body, &vlans); err != nil {
				return cur, err
			}
		}
		vlans, err := change(vlans)
		if err != nil {
			return cur, err
		}
		b, err := json.Marshal(vlans)
		return store.Resource{Body: b, UpdatedAt: c.now}, err
	})
	return err
}

func vlanIndex(vlans []map[string]any, id string) int {
	return slices.IndexFunc(vlans, func(v map[string]any) bool { return fmt.Sprint(v["id"]) == id })
}

func getNetworkApplianceVlans(c *call) (int, any, error) {
	vlans, err := c.vlans()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, vlans, nil
}

func getNetworkApplianceVlan(c *call) (int, any, error) {
	vlans, err := c.vlans()
	if err != nil {
		return 0, nil, err
	}
	i := vlanIndex(vlans, c.params.Get("vlanId"))
	if i < 0 {
		return 0, nil, errNotFound
	}
	return http.StatusOK, vlans[i], nil
}

// vlanChanges validates a VLAN body: name, subnet (a CIDR) and
// applianceIp (an address inside it) are checked, other documented fields
// are kept as given.
func (c *call) vlanChanges(v map[string]any) error {
	for k, raw := range c.body {
		var x any
		if err := json.Unmarshal(raw, &x); err != nil {
			return badType(k, "valid JSON")
		}
		v[k] = x
	}
	for _, f := range []string{"name", "subnet", "applianceIp", "dnsNameservers", "dhcpHandling", "dhcpLeaseTime", "groupPolicyId"} {
		if _, _, err := c.str(f); err != nil {
			return err
		}
	}
	if name, _ := v["name"].(string); strings.TrimSpace(name) == "" {
		return errorf(http.StatusBadRequest, "'name' must not be empty")
	}
	subnet, _ := v["subnet"].(string)
	p, err := netip.ParsePrefix(subnet)
	if err != nil || !p.Addr().Is4() {
		return errorf(http.StatusBadRequest, "'subnet' must be an IPv4 CIDR such as 192.168.1.0/24")
	}
	ip, _ := v["applianceIp"].(string)
	a, err := netip.ParseAddr(ip)
	if err != nil || !p.Masked().Contains(a) {
		return errorf(http.StatusBadRequest, "'applianceIp' must be an address in the subnet %s", p.Masked())
	}
	v["subnet"], v["cidr"], v["mask"] = p.Masked().String(), p.Masked().String(), p.Bits()
	if v["fixedIpAssignments"] == nil {
		v["fixedIpAssignments"] = map[string]any{}
	}
	if v["reservedIpRanges"] == nil {
		v["reservedIpRanges"] = []any{}
	}
	return nil
}

func createNetworkApplianceVlan(c *call) (int, any, error) {
	var raw any
	if b, ok := c.body["id"]; ok {
		_ = json.Unmarshal(b, &raw)
	}
	var id string
	switch x := raw.(type) {
	case string:
		id = x
	case float64:
		id = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return 0, nil, errorf(http.StatusBadRequest, "'id' is required")
	}
	if n, err := strconv.Atoi(id); err != nil || n < 1 || n > 4094 {
		return 0, nil, errorf(http.StatusBadRequest, "'id' must be between 1 and 4094")
	}
	var made map[string]any
	err := c.changeVlans(func(vlans []map[string]any) ([]map[string]any, error) {
		if vlanIndex(vlans, id) >= 0 {
			return nil, errorf(http.StatusBadRequest, "Vlan has already been taken")
		}
		made = map[string]any{"networkId": c.network.ID, "interfaceId": newNumericID(), "groupPolicyId": nil,
			"dnsNameservers": "upstream_dns", "dhcpHandling": "Run a DHCP server", "dhcpLeaseTime": "1 day"}
		if err := c.vlanChanges(made); err != nil {
			return nil, err
		}
		made["id"] = id
		return append(vlans, made), nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, made, nil
}

func updateNetworkApplianceVlan(c *call) (int, any, error) {
	id := c.params.Get("vlanId")
	var updated map[string]any
	err := c.changeVlans(func(vlans []map[string]any) ([]map[string]any, error) {
		i := vlanIndex(vlans, id)
		if i < 0 {
			return nil, errNotFound
		}
		if err := c.vlanChanges(vlans[i]); err != nil {
			return nil, err
		}
		vlans[i]["id"] = id
		updated = vlans[i]
		return vlans, nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, updated, nil
}

func deleteNetworkApplianceVlan(c *call) (int, any, error) {
	id := c.params.Get("vlanId")
	err := c.changeVlans(func(vlans []map[string]any) ([]map[string]any, error) {
		i := vlanIndex(vlans, id)
		if i < 0 {
			return nil, errNotFound
		}
		return slices.Delete(vlans, i, i+1), nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
