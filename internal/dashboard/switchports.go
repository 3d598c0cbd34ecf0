package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// A switch's ports are made from its model (port count, the last ones
// being uplinks) with each port's changes kept as the resource
// /devices/{serial}/switch/ports/{portId}.

func (c *call) requireSwitch() (int, error) {
	if c.device.ProductType != "switch" {
		return 0, errorf(http.StatusBadRequest, "This endpoint only supports switches")
	}
	m, ok := modelByName(c.device.Model)
	if !ok || m.ports == 0 {
		return 10, nil
	}
	return m.ports, nil
}

func uplinkCount(total int) int {
	if total <= 10 {
		return 2
	}
	return 4
}

func defaultPort(id, total int) map[string]any {
	uplink := id > total-uplinkCount(total)
	typ, vlan, allowed := "access", any(1), "all"
	if uplink {
		typ, vlan, allowed = "trunk", any(1), "1-1000"
	}
	return map[string]any{
		"portId": strconv.Itoa(id), "name": nil, "tags": []string{}, "enabled": true, "poeEnabled": !uplink,
		"type": typ, "vlan": vlan, "voiceVlan": nil, "allowedVlans": allowed, "isolationEnabled": false,
		"rstpEnabled": true, "stpGuard": "disabled", "linkNegotiation": "Auto negotiate",
		"linkNegotiationCapabilities": []string{"Auto negotiate", "1 Gigabit full duplex (forced)", "100 Megabit (auto)", "100 Megabit full duplex (forced)"},
		"portScheduleId":              nil, "schedule": nil, "udld": "Alert only", "accessPolicyType": "Open", "accessPolicyNumber": nil,
		"macAllowList": nil, "stickyMacAllowList": nil, "stickyMacAllowListLimit": nil, "stormControlEnabled": false,
		"adaptivePolicyGroupId": nil, "adaptivePolicyGroup": nil, "peerSgtCapable": false, "flexibleStackingEnabled": false,
		"daiTrusted": false, "profile": map[string]any{"enabled": false, "id": "", "iname": nil},
		"module": map[string]any{"model": nil}, "mirror": map[string]any{"mode": "Not mirroring traffic"},
		"dot3az": map[string]any{"enabled": false},
	}
}

func (c *call) portsPath() string { return "/devices/" + c.device.Serial + "/switch/ports" }

func mergeStored(port map[string]any, body []byte) {
	var stored map[string]any
	if json.Unmarshal(body, &stored) == nil {
		for k, v := range stored {
			port[k] = v
		}
	}
}

func getDeviceSwitchPorts(c *call) (int, any, error) {
	total, err := c.requireSwitch()
	if err != nil {
		return 0, nil, err
	}
	stored, err := c.h.dash.ListResources(c.r.Context(), c.orgID, c.portsPath())
	if err != nil {
		return 0, nil, err
	}
	byID := map[string][]byte{}
	for _, r := range stored {
		byID[r.Path[strings.LastIndexByte(r.Path, '/')+1:]] = r.Body
	}
	out := make([]map[string]any, total)
	for i := range out {
		p := defaultPort(i+1, total)
		if b, ok := byID[strconv.Itoa(i+1)]; ok {
			mergeStored(p, b)
		}
		out[i] = p
	}
	return http.StatusOK, out, nil
}

// port returns the path's port number, if the path's device is a switch
// that has it, and the switch's number of ports.
func (c *call) port() (id, total int, err error) {
	total, err = c.requireSwitch()
	if err != nil {
		return 0, 0, err
	}
	id, err = strconv.Atoi(c.params.Get("portId"))
	if err != nil || id < 1 || id > total {
		return 0, 0, errNotFound
	}
	return id, total, nil
}

func getDeviceSwitchPort(c *call) (int, any, error) {
	id, total, err := c.port()
	if err != nil {
		return 0, nil, err
	}
	p := defaultPort(id, total)
	r, err := c.h.dash.GetResource(c.r.Context(), c.orgID, c.portsPath()+"/"+strconv.Itoa(id))
	switch {
	case err == nil:
		mergeStored(p, r.Body)
	case !errors.Is(err, store.ErrNotFound):
		return 0, nil, err
	}
	return http.StatusOK, p, nil
}

var portEnums = map[string][]string{
	"type":             {"access", "trunk", "stack", "routed"},
	"stpGuard":         {"disabled", "root guard", "bpdu guard", "loop guard"},
	"udld":             {"Alert only", "Enforce"},
	"accessPolicyType": {"Open", "Custom access policy", "MAC allow list", "Sticky MAC allow list"},
}

// portChanges validates the body of updateDeviceSwitchPort and returns the
// fields to store.
func (c *call) portChanges() (map[string]any, error) {
	changes := map[string]any{}
	for k, raw := range c.body {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, badType(k, "valid JSON")
		}
		changes[k] = v
	}
	for _, f := range []string{"enabled", "poeEnabled", "isolationEnabled", "rstpEnabled", "stormControlEnabled", "peerSgtCapable", "flexibleStackingEnabled", "daiTrusted"} {
		if _, _, err := c.boolean(f); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"name", "allowedVlans", "linkNegotiation", "portScheduleId", "adaptivePolicyGroupId"} {
		if _, _, err := c.str(f); err != nil {
			return nil, err
		}
	}
	for f, allowed := range portEnums {
		s, ok, err := c.str(f)
		if err != nil {
			return nil, err
		}
		if ok && !slices.Contains(allowed, s) {
			return nil, errorf(http.StatusBadRequest, "'%s' must be one of: '%s'", f, strings.Join(allowed, "', '"))
		}
	}
	for _, f := range []string{"vlan", "voiceVlan"} {
		n, ok, err := c.integer(f)
		if err != nil {
			return nil, err
		}
		if ok && (n < 1 || n > 4094) {
			return nil, errorf(http.StatusBadRequest, "'%s' must be between 1 and 4094", f)
		}
	}
	if tags, ok, err := c.strList("tags"); err != nil {
		return nil, err
	} else if ok {
		clean, err := cleanTags(tags)
		if err != nil {
			return nil, err
		}
		changes["tags"] = clean
	}
	for _, f := range []string{"macAllowList", "stickyMacAllowList"} {
		if _, _, err := c.strList(f); err != nil {
			return nil, err
		}
	}
	delete(changes, "portId")
	return changes, nil
}

func updateDeviceSwitchPort(c *call) (int, any, error) {
	id, total, err := c.port()
	if err != nil {
		return 0, nil, err
	}
	changes, err := c.portChanges()
	if err != nil {
		return 0, nil, err
	}
	p := defaultPort(id, total)
	_, err = c.h.dash.UpdateResource(c.r.Context(), c.orgID, c.portsPath()+"/"+strconv.Itoa(id), func(cur store.Resource, found bool) (store.Resource, error) {
		stored := map[string]any{}
		if found {
			_ = json.Unmarshal(cur.Body, &stored)
		}
		for k, v := range changes {
			stored[k] = v
		}
		for k, v := range stored {
			p[k] = v
		}
		if p["type"] == "access" && p["accessPolicyType"] != "Open" && p["vlan"] == nil {
			return cur, errorf(http.StatusBadRequest, "An access port with an access policy needs a 'vlan'")
		}
		b, err := json.Marshal(stored)
		return store.Resource{Parent: c.portsPath(), Body: b, UpdatedAt: c.now}, err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, p, nil
}
