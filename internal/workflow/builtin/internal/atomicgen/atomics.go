package atomicgen

import "strings"

const vw = "variable_workflow_"

// Workflow ids of Cisco's atomics (FORMAT.md Appendix A).
const (
	idGetDevice                = "definition_workflow_02LA3KX0H7UMQ3yyicn2qcUy4gWmF7FBxQq"
	idGetDeviceSwitchPorts     = "definition_workflow_02LLUYO87CIIF2MYkTzJpsPsYYOXZ5MUPA1"
	idGetNetwork               = "definition_workflow_02L9A58L99D8Q6CNvrbNWfw5UlyLLpkP3IW"
	idGetNetworkApplianceVlans = "definition_workflow_02L6HO3MVE3076LgocjRMWpLoMD5gmGIgIR"
	idGetNetworkByName         = "definition_workflow_02LCR4UKH38PM6zDR4Bx2b2J165gCF1mhvh"
	idGetNetworkFirmware       = "definition_workflow_02LV1H3CNM49K1df7J02ad4wyV6Jv0E23b6"
	idGetUplinkStatuses        = "definition_workflow_02OARCJ16WZTS5V0LlpWAeTm3Br5dYPREHG"
	idGetOrganizationByName    = "definition_workflow_02M605GS81XN44qr4RBWrJ6Zazk7k0ArIYX"
	idGetOrganizationDevices   = "definition_workflow_02LBZJE7PQZVJ3crE33ELBrscM7zWeiugTw"
	idGetOrganizationNetworks  = "definition_workflow_02L9TZH5W95870XebPF2g8kSyIYcawUvljX"
	idGetOrganizations         = "definition_workflow_02LV5GIDUTY3X0WhuidM5ZWhkjL8wQCGAPq"
	idUpdateDeviceSwitchPort   = "definition_workflow_02LLUSYK4J29K0l7bhU4PlTtgMFEdAMaXhi"
	idUpdateNetworkFirmware    = "definition_workflow_02M3057KLFJ745Vm184muHicvBpdJ0s0vGF"
)

const cisco = "\n\n**Target:** a Meraki endpoint (grantflow's \"Meraki - Current Org\" target or any meraki.endpoint).\n\nA grantflow built-in with the workflow and variable ids of Cisco's atomic of the same name, so Cisco's exports that call it run unchanged. Empty inputs are left out of the request."

// All returns the built-in atomics, callees before their callers.
func All() []*Atomic {
	var all []*Atomic
	byID := map[string]*Atomic{}
	add := func(a *Atomic) {
		all = append(all, a)
		byID[a.ID] = a
	}
	add(getOrganizations())
	add(getOrganizationNetworks())
	add(getNetwork())
	add(getOrganizationByName(byID))
	add(getNetworkByName(byID))
	add(getDevice())
	add(getDeviceSwitchPorts())
	add(updateDeviceSwitchPort())
	add(getOrganizationDevices())
	add(getNetworkApplianceVlans())
	add(getUplinkStatuses())
	add(getNetworkFirmwareUpgrades())
	add(updateNetworkFirmwareUpgrades())
	return all
}

func finish(b *builder, a *Atomic, actions []M) *Atomic {
	a.Vars, a.Actions, a.IsAtomic = b.vars, actions, !a.SubWorkflow
	return a
}

// simpleGet is an atomic that GETs one path and hands the answer back.
func simpleGet(slug, id, name, desc, op, inID, inName, inDesc, path, resultID, resultName, resultDesc string, ignoreID string) *Atomic {
	b := newBuilder(slug, id)
	in := b.v(vw+inID, "input", "string", inName, inDesc, nil)
	b.vars[len(b.vars)-1].Required = true
	s := b.stdOutputs(vw+resultID, resultName, resultDesc, "", "", "")
	if ignoreID != "" {
		s.ignore = b.ignoreErrors(vw + ignoreID)
	}
	req := b.api(name, "GET", strings.ReplaceAll(path, "{}", b.ref(in)), "")
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, Desc: desc + cisco, Operations: []string{op}}, b.request(req, s))
}

func getDeviceSwitchPorts() *Atomic {
	return simpleGet("get-device-switch-ports", idGetDeviceSwitchPorts, "Meraki - Get Device Switch Ports",
		"List the switch ports of a switch, with their configuration.", "getDeviceSwitchPorts",
		"02LLUYO8DV17A22l9lor4ttg6i8GspwoAVk", "Input - Device Serial", "The serial of the switch, e.g. Q2XX-XXXX-XXXX.",
		"/api/v1/devices/{}/switch/ports",
		"02LLUYO8DUAUK5cdNbWcLbEsrzMeC5jahEc", "Output - Switch Ports", "The switch's ports as Meraki's JSON array (portId, name, tags, enabled, poeEnabled, type, vlan, voiceVlan, allowedVlans, ...).", "")
}

func getNetworkApplianceVlans() *Atomic {
	return simpleGet("get-network-appliance-vlans", idGetNetworkApplianceVlans, "Meraki - Get Network Appliance VLANs",
		"List the VLANs of a network's security appliance.", "getNetworkApplianceVlans",
		"02LLQ6L7QIQQZ0XnS8DcriLDPnW0S7SauWX", "Input - Network ID", "The network's id (N_... or L_...).",
		"/api/v1/networks/{}/appliance/vlans",
		"02LLQ6L7QI68J5L73IDYmrWkYMa5r6rbGoo", "Output - VLANs", "The VLANs as Meraki's JSON array (id, name, subnet, applianceIp, fixedIpAssignments keyed by MAC, reservedIpRanges, ...); on failure Meraki's error body ({\"errors\": [...]}).",
		"02LLQVGHALE2V4hp6V0kbylHzgwt7s7sWxn")
}

func getUplinkStatuses() *Atomic {
	return simpleGet("get-organization-appliance-uplink-statuses", idGetUplinkStatuses, "Meraki - Get Organization Appliance Uplink Statuses",
		"List the uplink status of every Meraki MX and Z series appliance in the organization.", "getOrganizationApplianceUplinkStatuses",
		"02OARCJ16X2WW4donDhGip6N90Y2WO8jaS5", "Input - Organization ID", "The organization's id.",
		"/api/v1/organizations/{}/appliance/uplink/statuses",
		"02OARCJ16X5884mgWf2gyCT0zMxfyvA1KnC", "Output - Uplink Statuses", "Meraki's JSON array: one entry per appliance with networkId, serial, model, lastReportedAt, highAvailability and uplinks [{interface, status, ip, gateway, publicIp, primaryDns, secondaryDns, ipAssignedBy}].", "")
}

func getNetworkFirmwareUpgrades() *Atomic {
	return simpleGet("get-network-firmware-upgrades", idGetNetworkFirmware, "Meraki - Get Network Firmware Upgrades",
		"Get the firmware upgrade information of a network: upgrade window, time zone and, per product, the current, available, last and next versions.", "getNetworkFirmwareUpgrades",
		"02LV1H3CNM5T45adfzDFwEeMjrKbmdHd58D", "Input - Network ID", "The network's id.",
		"/api/v1/networks/{}/firmwareUpgrades",
		"02LV1H3CNMB7K2eIEUcLniuSFXAmkGIOQJ2", "Output - Firmware Upgrades", "Meraki's JSON object: upgradeWindow, timezone, products.{appliance,switch,wireless,...}.{currentVersion, availableVersions, lastUpgrade, nextUpgrade, participateInNextBetaRelease}.", "")
}

func getDevice() *Atomic {
	slug, id, name := "get-device", idGetDevice, "Meraki - Get Device"
	b := newBuilder(slug, id)
	serial := b.v(vw+"02LA3KX0XRGFU3QzA9F6YCXnYaLxB7wtsM7", "input", "string", "Input - Device Serial", "The device's serial, e.g. Q2XX-XXXX-XXXX.", nil)
	b.vars[len(b.vars)-1].Required = true
	s := b.stdOutputs("", "Output - Device Details", "The device as Meraki's JSON object.", "", "", "")
	devName := b.v(vw+"02LA3KX0XRSSU2QUBIGrhWxVpxVcBvR3Tvu", "output", "string", "Output - Device Name", "The device's name.", nil)
	model := b.v(vw+"02LA3KX0XSG925KG01hpqKJNCK6fHUePYQ0", "output", "string", "Output - Device Model", "The device's model, e.g. MS120-8.", nil)
	network := b.v(vw+"02LA3KX0XSRZI1ZEyBn5QAfxqZNghCJ89PX", "output", "string", "Output - Device Network ID", "The id of the network the device is in.", nil)
	serialOut := b.v("", "output", "string", "Output - Device Serial", "The device's serial.", nil)
	mac := b.v("", "output", "string", "Output - Device MAC", "The device's MAC address.", nil)
	lanIP := b.v("", "output", "string", "Output - Device LAN IP", "The device's LAN IP address.", nil)
	fw := b.v("", "output", "string", "Output - Device Firmware", "The device's firmware, e.g. switch-16-4.", nil)
	product := b.v("", "output", "string", "Output - Device Product Type", "appliance, switch, wireless, camera, sensor or cellularGateway.", nil)
	tags := b.v("", "output", "string", "Output - Device Tags", "The device's tags as a JSON array.", nil)
	addr := b.v("", "output", "string", "Output - Device Address", "The device's physical address.", nil)
	notes := b.v("", "output", "string", "Output - Device Notes", "The device's notes.", nil)
	req := b.api(name, "GET", "/api/v1/devices/"+b.ref(serial), "")
	body := out(req, "response_body")
	acts := b.request(req, s, b.group("Extract Device Fields", b.fields(body,
		fieldSpec{"$.name", "string", devName}, fieldSpec{"$.model", "string", model}, fieldSpec{"$.networkId", "string", network},
		fieldSpec{"$.serial", "string", serialOut}, fieldSpec{"$.mac", "string", mac}, fieldSpec{"$.lanIp", "string", lanIP},
		fieldSpec{"$.firmware", "string", fw}, fieldSpec{"$.productType", "string", product}, fieldSpec{"$.tags", "string", tags},
		fieldSpec{"$.address", "string", addr}, fieldSpec{"$.notes", "string", notes})...))
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, Desc: "Return a device: name, model, network, serial, MAC, LAN IP, firmware, product type, tags, address and notes." + cisco,
		Operations: []string{"getDevice"}}, acts)
}

// networkOutputs are Get Network's outputs (and Get Network By Name's).
type networkOutputs struct {
	details, id, bound, enrollment, name, notes, org, products, tags, tz, url Var
}

func getNetwork() *Atomic {
	slug, id, name := "get-network", idGetNetwork, "Meraki - Get Network"
	b := newBuilder(slug, id)
	in := b.v(vw+"02L9A58LOWD596Dxk7ArTlCaFsEgCJKdOVD", "input", "string", "Input - Network ID", "The network's id (N_... or L_...).", nil)
	b.vars[len(b.vars)-1].Required = true
	s := b.stdOutputs(vw+"02L9A58LOSS2H0IrqR7kyQR4gsXeI9u8Es3", "Output - Network Details", "The network as Meraki's JSON object.", "", "", "")
	o := networkOutputs{details: s.result}
	o.id = b.v(vw+"02L9A58LOSZ4S5AIhZbs6crbSVV81XNw9Hx", "output", "string", "Output - Network Id", "The network's id.", nil)
	o.bound = b.v(vw+"02L9A58LOV6JY0dEhXzJimiJ8bF7lceby3C", "output", "boolean", "Output - Is Bound To Config Template", "Whether the network is bound to a configuration template.", nil)
	o.enrollment = b.v(vw+"02L9A58LOVS2I4k7cEYgg2uv4nk1O7VgQ9d", "output", "string", "Output - Network Enrollment String", "The Systems Manager enrollment string (empty when none).", nil)
	o.name = b.v(vw+"02L9A58LOW6KC27b8GQsEFf9U0YVtWKz8Ii", "output", "string", "Output - Network Name", "The network's name.", nil)
	o.notes = b.v(vw+"02L9A58LOVLMF6srLsICvcwVJHq5mvAuVh0", "output", "string", "Output - Network Notes", "The network's notes.", nil)
	o.org = b.v(vw+"02L9A58LOVYPZ5Bd2cu1dcvbQMmyiMszobN", "output", "string", "Output - Network Organization Id", "The id of the organization the network belongs to.", nil)
	o.products = b.v(vw+"02L9A58LOVD6Q2mQ8Q5cKZbqW6MMbaOFyPI", "output", "string", "Output - Network Product Types", "The network's product types as a JSON array, e.g. [\"appliance\",\"switch\"].", nil)
	o.tags = b.v(vw+"02L9A58LOTIVB2Qlmg7JayOVoZAYi3fFn6P", "output", "string", "Output - Network Tags", "The network's tags as a JSON array.", nil)
	o.tz = b.v(vw+"02L9A58LOWQA572HXKYqMIYdHtA3aVwroEP", "output", "string", "Output - Network Time Zone", "The network's time zone, e.g. America/Los_Angeles.", nil)
	o.url = b.v(vw+"02L9A58LOSGKM2X44oSwyhe83tcc9XDfeNg", "output", "string", "Output - Network URL", "The network's dashboard URL.", nil)
	req := b.api(name, "GET", "/api/v1/networks/"+b.ref(in), "")
	body := out(req, "response_body")
	acts := b.request(req, s, b.group("Extract Network Fields", b.fields(body,
		fieldSpec{"$.id", "string", o.id}, fieldSpec{"$.isBoundToConfigTemplate", "boolean", o.bound},
		fieldSpec{"$.enrollmentString", "string", o.enrollment}, fieldSpec{"$.name", "string", o.name},
		fieldSpec{"$.notes", "string", o.notes}, fieldSpec{"$.organizationId", "string", o.org},
		fieldSpec{"$.productTypes", "string", o.products}, fieldSpec{"$.tags", "string", o.tags},
		fieldSpec{"$.timeZone", "string", o.tz}, fieldSpec{"$.url", "string", o.url})...))
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, Desc: "Return a network: id, name, organization, product types, time zone, tags, notes, URL, enrollment string and template binding." + cisco,
		Operations: []string{"getNetwork"}}, acts)
}

func getOrganizations() *Atomic {
	slug, id, name := "get-organizations", idGetOrganizations, "Meraki - Get Organizations"
	b := newBuilder(slug, id)
	perPage := b.v(vw+"02LXK9KUOD0MH4qj4j062vm12gYmFb9y5N0", "input", "integer", "Input - Per Page", "The number of organizations per page (3-9000); 0 leaves Meraki's default (9000).", 0)
	after := b.v(vw+"02LXKBG6HGMSD1YojnHQ3bM2cT6mP8A02A9", "input", "string", "Input - Starting After", "A pagination cursor: the id of the organization to start after.", nil)
	before := b.v(vw+"02LXKCCX4AREX6odSHkvY5oECunJtqcLahK", "input", "string", "Input - Ending Before", "A pagination cursor: the id of the organization to end before.", nil)
	s := b.stdOutputs(vw+"02LXKZA6725S35QBWMZCg1AlZnT11mbSFQi", "Output - Organizations", "The organizations the caller sees, as Meraki's JSON array (id, name, url, api, licensing, cloud, management).", "", "", "")
	q := b.textBuilder("Query", "", "?", "&")
	acts := []M{b.group("Build Query", q.queryInt("perPage", perPage), q.queryString("startingAfter", after), q.queryString("endingBefore", before))}
	acts = append(acts, b.request(b.api(name, "GET", "/api/v1/organizations"+b.ref(q.text), ""), s)...)
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, Desc: "List the organizations the caller has access to." + cisco, Operations: []string{"getOrganizations"}}, acts)
}

func getOrganizationNetworks() *Atomic {
	slug, id, name := "get-organization-networks", idGetOrganizationNetworks, "Meraki - Get Organization Networks"
	b := newBuilder(slug, id)
	org := b.v(vw+"02L9TZH6C81473IDtFQ0NIzW3jmXrgchtN9", "input", "string", "Input - Organization ID", "The organization's id.", nil)
	b.vars[len(b.vars)-1].Required = true
	ign := b.ignoreErrors(vw + "02LEUL5GOHN9T53T7jFQx3T2Yo04p5Xuz0r")
	tmpl := b.v(vw+"02LNK5WW0RD2A20mG7v1G7gsyE2N2RrKdQd", "input", "string", "Input - Config Template ID", "Only the networks bound to this configuration template.", nil)
	tagsType := b.v(vw+"02LNK5WW0RTCB1AXbOwJOBVWvUx1wdyKtkt", "input", "string", "Input - Tags Filter Type", "withAnyTags (the default) or withAllTags: how Input - Tags is matched.", nil)
	all := b.v(vw+"02LNK5WW0S5E21Q9biFSXTiLbHr7cWP2K7y", "input", "boolean", "Input - Get All Pages", "Ask for every network in one answer (perPage 100000, Meraki's maximum); Input - Per Page is then ignored.", false)
	perPage := b.v(vw+"02LNK5WW0SE2H1zmchhUHyfX7L0XGvKmB7W", "input", "integer", "Input - Per Page", "The number of networks per page (3-100000); 0 leaves Meraki's default (1000).", 0)
	tags := b.v(vw+"02LNK5WW0SM7R5SjIvnnytN6vYzR7wfDHeE", "input", "array", "Input - Tags", "Only the networks with these tags (see Input - Tags Filter Type).", nil)
	products := b.v(vw+"02LNK5WW0STMX38BXiY2IvPQoHQliJHSCgE", "input", "array", "Input - Product Types", "Only the networks with these product types (appliance, switch, wireless, camera, sensor, cellularGateway ...).", nil)
	after := b.v(vw+"02LNK5WW0T0NX26NyApdlTn355uYJwcQGqW", "input", "string", "Input - Starting After", "A pagination cursor: the network id to start after.", nil)
	before := b.v(vw+"02LNK5WW0T92U1HJd1sxzFrmVvwxy7NVaQn", "input", "string", "Input - Ending Before", "A pagination cursor: the network id to end before.", nil)
	s := b.stdOutputs(vw+"02L9TZH6C8OZI7c9t9Z0h0JHAbqCc7LuTGT", "Output - Networks", "The networks as Meraki's JSON array ([] when none match).",
		vw+"02L9TZH6C9HVU3eHnLNP91ZKEfJOnaYpBsh", vw+"02L9TZH6CAB8T4C8P5tULvLWU4BoXyzW3r7", "")
	s.ignore = ign
	q := b.textBuilder("Query", "", "?", "&")
	acts := []M{b.group("Build Query",
		q.queryString("configTemplateId", tmpl),
		q.queryArray("tags", tags), q.queryString("tagsFilterType", tagsType), q.queryArray("productTypes", products),
		q.when("Add perPage=100000", cond(b.ref(all), "eq", true), "perPage=100000"),
		q.when("Add perPage", and(cond(b.ref(all), "ne", true), cond(b.ref(perPage), "gt", 0)), "perPage="+b.ref(perPage)),
		q.queryString("startingAfter", after), q.queryString("endingBefore", before))}
	acts = append(acts, b.request(b.api(name, "GET", "/api/v1/organizations/"+b.ref(org)+"/networks"+b.ref(q.text), ""), s)...)
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, Desc: "List the networks of an organization, optionally by tags, product types or configuration template." + cisco,
		Operations: []string{"getOrganizationNetworks"}}, acts)
}

func getOrganizationDevices() *Atomic {
	slug, id, name := "get-organization-devices", idGetOrganizationDevices, "Meraki - Get Organization Devices"
	b := newBuilder(slug, id)
	org := b.v(vw+"02LBZJE84MKWU3b4u5iWvF5C56j3SWvcLxU", "input", "string", "Input - Organization ID", "The organization's id.", nil)
	b.vars[len(b.vars)-1].Required = true
	str := func(idSuffix, param, desc string) Var {
		return b.v(vw+idSuffix, "input", "string", "Input - "+strings.ToUpper(param[:1])+param[1:], desc, nil)
	}
	arr := func(idSuffix, param, desc string) Var {
		return b.v(vw+idSuffix, "input", "array", "Input - "+strings.ToUpper(param[:1])+param[1:], desc, nil)
	}
	perPage := b.v(vw+"02LPD34ABIZNM1hpRmCW4fNi50a79mCW4oF", "input", "integer", "Input - PerPage", "The number of devices per page (3-1000); 0 leaves Meraki's default (1000).", 0)
	tagsType := str("02LPD34ABH4NB5Y3srIX91xn9cIzEY68MMa", "tagsFilterType", "withAnyTags (the default) or withAllTags: how Input - Tags is matched.")
	products := arr("02LPD34ABHCES6OHeiXWIvVmRKLdKquVK4f", "productTypes", "Only devices of these product types (wireless, switch, appliance, camera, sensor, cellularGateway ...).")
	networks := arr("02LPD34ABICWG2rq68sl7VROvFjqB8bmooh", "networkIds", "Only devices in these networks.")
	after := str("02LPD34ABGELX4xRBULzEWn7yZXmlOLnhlm", "startingAfter", "A pagination cursor: the serial to start after.")
	before := str("02LPD34ABGWM530L7Ref10RR1lIyS6swy7y", "endingBefore", "A pagination cursor: the serial to end before.")
	updated := str("02LPD34ABHUR66qxroFyemfNTX3wjVrx4bB", "configurationUpdatedAfter", "Only devices whose configuration changed after this ISO 8601 time.")
	devName := str("02LPD34ABI5767Bipcwnil1zhzAhMVqXU77", "name", "Only devices whose name contains this text.")
	mac := str("02LPD34ABIRIY7ksRBfahOf52zARKfji5tq", "mac", "Only devices whose MAC contains this text.")
	serial := str("02LPD34ABJ73Y1vUpFZq8UjZK37FVXisvfT", "serial", "Only the device with this serial.")
	model := str("02LPD34ABKNYC53bhvdbdyJKVnk3JPbMbDL", "model", "Only devices whose model contains this text.")
	tags := arr("02LPD34ABHKTT7bzR3DO9wR6Jt8QIVkTmKA", "tags", "Only devices with these tags (see Input - TagsFilterType).")
	macs := arr("02LPD34ABIJYH3MHQNXX88Tf38tgg2nnaiV", "macs", "Only devices with one of these MACs.")
	serials := arr("02LPD34ABJFEJ26DNauhcFei0QIVgWIgCYw", "serials", "Only devices with one of these serials.")
	models := arr("02LPD34ABJV2C0tJTsG5KJNoU4RZ9yRWNBC", "models", "Only devices of one of these models.")
	metrics := arr("02LPD34ABK6IH5MaynNsHWnm1mpCQw0TkyQ", "sensorMetrics", "Only sensors that measure one of these metrics.")
	profiles := arr("02LPD34ABKF695YGotxETEugS06mLWBlnVr", "sensorAlertProfileIds", "Only sensors in one of these alert profiles.")
	s := b.stdOutputs(vw+"02LBZJE84NB1F75jMCnZjaIsHHmn1NBoO2y", "Output - Devices", "The devices as Meraki's JSON array (name, serial, mac, model, networkId, productType, lanIp, firmware, tags, address, lat, lng, notes, details).", "", "", "")
	q := b.textBuilder("Query", "", "?", "&")
	acts := []M{b.group("Build Query",
		q.queryInt("perPage", perPage), q.queryString("startingAfter", after), q.queryString("endingBefore", before),
		q.queryString("configurationUpdatedAfter", updated),
		q.queryArray("networkIds", networks), q.queryArray("productTypes", products), q.queryArray("tags", tags),
		q.queryString("tagsFilterType", tagsType), q.queryString("name", devName), q.queryString("mac", mac),
		q.queryString("serial", serial), q.queryString("model", model), q.queryArray("macs", macs),
		q.queryArray("serials", serials), q.queryArray("sensorMetrics", metrics), q.queryArray("sensorAlertProfileIds", profiles),
		q.queryArray("models", models))}
	acts = append(acts, b.request(b.api(name, "GET", "/api/v1/organizations/"+b.ref(org)+"/devices"+b.ref(q.text), ""), s)...)
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, Desc: "List the devices of an organization that are in networks, optionally filtered." + cisco,
		Operations: []string{"getOrganizationDevices"}}, acts)
}

func getOrganizationByName(byID map[string]*Atomic) *Atomic {
	slug, id, name := "get-organization-by-name", idGetOrganizationByName, "Meraki - Get Organization By Name"
	orgs := byID[idGetOrganizations]
	b := newBuilder(slug, id)
	in := b.v(vw+"02M605GTHU5L72i8goD4nuYixYOvQEFV7rN", "input", "string", "Input - Organization Name", "The organization's name (an organization id is accepted too).", nil)
	b.vars[len(b.vars)-1].Required = true
	ign := b.ignoreErrors(vw + "02M605GTI1LUG737lDLyzxnE9jwENJNQ08W")
	s := b.stdOutputs("", "Output - Organization Details", "The organization as Meraki's JSON object.", vw+"02M605GTHEWOW4TGG1xjMEivKqrrMbc2hM3", "", "")
	s.ignore = ign
	orgID := b.v(vw+"02M605GTJITQP1fcLQlR8CLYAHoMomGWZvE", "output", "string", "Output - Organization Id", "The id of the organization found.", nil)
	orgName := b.v("", "output", "string", "Output - Organization Name", "The name of the organization found.", nil)
	orgsOut := orgs.varByName("Output - Organizations")
	statusOut := orgs.varByName("Output - Status Code")
	call := b.call("Meraki - Get Organizations", orgs, M{}, true)
	list := out(call, orgsOut.ID)
	match := b.jsonpath("Find Organization", list, query{"matches", `$[?(@.name == "` + b.ref(in) + `" || @.id == "` + b.ref(in) + `")]`, "string"})
	// A JSONPath result of one match is that match (see the JSONPath
	// activity), so the first match is read from the list again.
	filter := `$[?(@.name == "` + b.ref(in) + `" || @.id == "` + b.ref(in) + `")]`
	first := b.jsonpath("First Match", list,
		query{"id", filter + ".id", "string"}, query{"name", filter + ".name", "string"}, query{"details", filter, "string"})
	found := []M{
		b.set("Set Output Variables", assign{orgID, out(first, "jsonpath_queries.id")}, assign{orgName, out(first, "jsonpath_queries.name")},
			assign{s.result, out(first, "jsonpath_queries.details")}, assign{s.status, 200}, assign{s.message, "Organization Found"}, assign{s.errMsg, ""}),
		b.completed("Completed - Success", true, b.ref(s.message)),
	}
	notFound := append([]M{b.set("Set Output Variables", assign{s.status, 404}, assign{s.message, "Organization Not Found"},
		assign{s.errMsg, "No organization named " + b.ref(in)})}, b.fail(s, b.ref(s.errMsg))...)
	listFailed := append([]M{b.set("Set Output Variables", assign{s.status, out(call, statusOut.ID)},
		assign{s.message, out(call, orgs.varByName("Output - Status Message").ID)}, assign{s.errMsg, out(call, orgs.varByName("Output - Error Message").ID)})},
		b.fail(s, b.ref(s.errMsg))...)
	acts := []M{call, b.ifElse("Were the Organizations Listed?",
		b.branch("Yes", cond(out(call, statusOut.ID), "eq", 200), match, first, b.ifElse("Is Organization Found?",
			b.branch("Found", cond(out(first, "succeeded"), "eq", true), found...),
			b.branch("Not Found", cond(out(first, "succeeded"), "ne", true), notFound...))),
		b.branch("No", cond(out(call, statusOut.ID), "ne", 200), listFailed...))}
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, SubWorkflow: true,
		Desc:       "Look up an organization by name (or id) among the organizations the caller sees. Called as a sub-workflow." + cisco,
		Operations: []string{"getOrganizations"}}, acts)
}

func getNetworkByName(byID map[string]*Atomic) *Atomic {
	slug, id, name := "get-network-by-name", idGetNetworkByName, "Meraki - Get Network By Name"
	byName, nets, net := byID[idGetOrganizationByName], byID[idGetOrganizationNetworks], byID[idGetNetwork]
	b := newBuilder(slug, id)
	orgIn := b.v(vw+"02LCRACABYWD40LVa27k00YndGuostARjdp", "input", "string", "Input - Organization Id or Name", "The organization's id or name.", nil)
	b.vars[len(b.vars)-1].Required = true
	netIn := b.v(vw+"02LCRAQ5WICDM3PgxFwKyi19yaeu1bTpVUx", "input", "string", "Input - Network Name to Get", "The network's name, without quotes, e.g. Main switch Network.", nil)
	b.vars[len(b.vars)-1].Required = true
	ign := b.ignoreErrors(vw + "02LEUF5N782ES5q1O7K4p1AoMBPrkkcxi1E")
	s := std{
		result:  b.v("", "output", "string", "Output - Network Details", "The network as Meraki's JSON object.", nil),
		status:  b.v(vw+"02LCS9H7YNIYX1GDaReaAe3aek2b4CnpPEW", "output", "integer", "Output - Status Code", "200 when the network was found, 404 when not, else Meraki's status code.", nil),
		message: b.v(vw+"02LCSAES32AOH7RGaVHj5aM3SixcS34Qdqc", "output", "string", "Output - Status Message", "\"Network Found\", \"Network Not Found\" or Meraki's error.", nil),
		errMsg:  b.v("", "output", "string", "Output - Error Message", "Why the lookup failed; empty on success.", nil),
		ignore:  ign,
	}
	o := networkOutputs{details: s.result}
	o.id = b.v(vw+"02LCRLPN6EZY51pb3GRpQG7QdKWS452YyuL", "output", "string", "Output - Network Id", "The network's id.", nil)
	o.name = b.v("", "output", "string", "Output - Network Name", "The network's name.", nil)
	o.org = b.v("", "output", "string", "Output - Network Organization Id", "The id of the organization the network belongs to.", nil)
	o.products = b.v("", "output", "string", "Output - Network Product Types", "The network's product types as a JSON array.", nil)
	o.tags = b.v("", "output", "string", "Output - Network Tags", "The network's tags as a JSON array.", nil)
	o.tz = b.v("", "output", "string", "Output - Network Time Zone", "The network's time zone.", nil)
	o.url = b.v("", "output", "string", "Output - Network URL", "The network's dashboard URL.", nil)
	o.notes = b.v("", "output", "string", "Output - Network Notes", "The network's notes.", nil)
	o.enrollment = b.v("", "output", "string", "Output - Network Enrollment String", "The Systems Manager enrollment string.", nil)
	o.bound = b.v("", "output", "boolean", "Ouput - Is Bound To Config Template", "Whether the network is bound to a configuration template.", nil) //nolint:misspell // Cisco's name, as its callers show it
	orgID := b.v("", "local", "string", "Local - Org ID", "The organization's id, found from the input.", nil)

	findOrg := b.call("Meraki - Get Organization By Name", byName, M{
		byName.varByName("Input - Organization Name").ID: b.ref(orgIn), byName.varByName("Input - Ignore Errors").ID: true}, true)
	orgStatus := out(findOrg, byName.varByName("Output - Status Code").ID)
	acts := []M{
		b.set("Set Local - Org ID", assign{orgID, b.ref(orgIn)}),
		b.ifElse("Is Organization Provided?", b.branch("Yes", cond(b.ref(orgIn), "ne", ""), findOrg,
			b.ifElse("Was Input Org Name?", b.branch("Yes, Set ID from Get", cond(orgStatus, "eq", 200),
				b.set("Set Local - Org ID", assign{orgID, out(findOrg, byName.varByName("Output - Organization Id").ID)}))))),
	}
	listNets := b.call("Meraki - Get Organization Networks", nets, M{
		nets.varByName("Input - Organization ID").ID: b.ref(orgID), nets.varByName("Input - Ignore Errors").ID: true,
		nets.varByName("Input - Get All Pages").ID: true}, true)
	netStatus := out(listNets, nets.varByName("Output - Status Code").ID)
	match := b.jsonpath("Find Network", out(listNets, nets.varByName("Output - Networks").ID), query{"matches", `$[?(@.name == "` + b.ref(netIn) + `")]`, "string"})
	first := b.jsonpath("First Match", out(listNets, nets.varByName("Output - Networks").ID), query{"id", `$[?(@.name == "` + b.ref(netIn) + `")].id`, "string"})
	getNet := b.call("Meraki - Get Network", net, M{net.varByName("Input - Network ID").ID: out(first, "jsonpath_queries.id")}, false)
	g := func(n string) string { return out(getNet, net.varByName(n).ID) }
	found := []M{getNet,
		b.set("Set Output Variables", assign{o.id, g("Output - Network Id")}, assign{o.details, g("Output - Network Details")},
			assign{o.name, g("Output - Network Name")}, assign{o.org, g("Output - Network Organization Id")},
			assign{o.products, g("Output - Network Product Types")}, assign{o.tags, g("Output - Network Tags")},
			assign{o.tz, g("Output - Network Time Zone")}, assign{o.url, g("Output - Network URL")},
			assign{o.notes, g("Output - Network Notes")}, assign{o.enrollment, g("Output - Network Enrollment String")},
			assign{o.bound, g("Output - Is Bound To Config Template")},
			assign{s.status, 200}, assign{s.message, "Network Found"}, assign{s.errMsg, ""}),
		b.completed("Completed - Success", true, b.ref(s.message)),
	}
	notFound := append([]M{b.set("Set Output Variables", assign{s.status, 404}, assign{s.message, "Network Not Found"},
		assign{s.errMsg, "No network named " + b.ref(netIn) + " in organization " + b.ref(orgID)})}, b.fail(s, b.ref(s.message))...)
	listFailed := append([]M{b.set("Set Output Variables", assign{s.status, netStatus},
		assign{s.message, out(listNets, nets.varByName("Output - Status Message").ID)},
		assign{s.errMsg, out(listNets, nets.varByName("Output - Error Message").ID)})}, b.fail(s, b.ref(s.message))...)
	acts = append(acts, listNets, b.ifElse("Were the Networks Listed?",
		b.branch("200/Success", cond(netStatus, "eq", 200), match, first, b.ifElse("Is Network Found?",
			b.branch("Found", cond(out(first, "succeeded"), "eq", true), found...),
			b.branch("Not Found", cond(out(first, "succeeded"), "ne", true), notFound...))),
		b.branch("Get Failed", cond(netStatus, "ne", 200), listFailed...)))
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, SubWorkflow: true,
		Desc:       "Look up a network by name in an organization given by id or name. Called as a sub-workflow." + cisco,
		Operations: []string{"getOrganizations", "getOrganizationNetworks", "getNetwork"}}, acts)
}

func updateDeviceSwitchPort() *Atomic {
	slug, id, name := "update-device-switch-port", idUpdateDeviceSwitchPort, "Meraki - Update Device Switch Port"
	b := newBuilder(slug, id)
	serial := b.v(vw+"02LLUSYKBXXGH34AbYGqboz3vfZqit9CPyV", "input", "string", "Input - Device Serial", "The switch's serial.", nil)
	b.vars[len(b.vars)-1].Required = true
	port := b.v(vw+"02LLUSYKC3THY4wvCURJUJLZ5M0CLLRKQfC", "input", "string", "Input - Port ID", "The port's id, e.g. 1.", nil)
	b.vars[len(b.vars)-1].Required = true
	ign := b.ignoreErrors(vw + "02LLUUS7H0GQP5g3Ta1tR3yD2Rt1wMam9T3")
	type f struct{ id, param, kind, desc string }
	// kind: s a string, r JSON as text (numbers, true/false, objects), a an array.
	spec := []f{
		{"02LLUSYKCHV6D5y7vJDrRS0dWmotXgiEvLv", "name", "s", "The port's name."},
		{"02LLUSYKBXQ7D4xyOMMWwHZHHQ2cEOv5Wln", "tags", "a", "The port's tags."},
		{"02LMN059KPQRF5TRg53rsD0Nky9x4yFEbe0", "enabled", "r", "true or false: whether the port is enabled."},
		{"02LMN5X9BBXCH6HEQMLIJKdERyfnfYBth2m", "poeEnabled", "r", "true or false: whether PoE is enabled."},
		{"02LLUSYKC41ZV4aUwh1C0r9CG2So2fP2GFN", "type", "s", "access, trunk, stack or routed."},
		{"02LLUSYKC2M1B6KsrKKuu6Lu3zMf9Vvkyro", "vlan", "r", "The VLAN (a number)."},
		{"02LLUSYKCH02S5XRUR7mkVJFL61o2cAbnkR", "voiceVlan", "r", "The voice VLAN (a number)."},
		{"02LLUSYKBZAKG2dyFrZHNVBXEm1ya380I3m", "allowedVlans", "s", "The VLANs a trunk port allows, e.g. all or 1,3,5-10."},
		{"02LMN50RVQV360p6viNghFRsDGeegCxZPwg", "isolationEnabled", "r", "true or false: port isolation."},
		{"02LMN6CQX60OC0GrzaJy35TAdDhmsJ54vgl", "rstpEnabled", "r", "true or false: RSTP."},
		{"02LLUSYKC0PL36XDwFWuMpoBTf8gDGg7SSG", "stpGuard", "s", "disabled, root guard, bpdu guard or loop guard."},
		{"02LLUSYKBZPQR21LS1nlDQuyg7SffMfLXYb", "linkNegotiation", "s", "e.g. Auto negotiate."},
		{"02LLUSYKCECQJ5w06BHfjOyOpV99NVPsifG", "portScheduleId", "s", "The port schedule's id."},
		{"02LLUSYKC82Z16MjBoPD6gF8yttFpiuYDKn", "udld", "s", "Alert only or Enforce."},
		{"02LLUSYKC2CX5784kkVjameEjvpseeS1mUm", "accessPolicyType", "s", "Open, Custom access policy, MAC allow list or Sticky MAC allow list."},
		{"02LLUSYKC8E0T6Ak1VgZnAM4qwByic8KJPQ", "accessPolicyNumber", "r", "The access policy's number (a number)."},
		{"02LLUSYKBX4PZ3WjZouQ7Ao1l5hT4cnAUrN", "macAllowList", "a", "The MACs a MAC allow list port accepts."},
		{"02LLUSYKBXGAB7ib3NJmVRe6DqQI0M9zMH1", "stickyMacAllowList", "a", "The MACs a sticky MAC allow list port accepts."},
		{"02LLUSYKBYOQT4BOkCOQNg89WmBvlZhHiSm", "stickyMacAllowListLimit", "r", "How many MACs a sticky MAC allow list learns (a number)."},
		{"02LMN6SON75QV5HKTBA9Ex7BOP8zysAuqQ2", "stormControlEnabled", "r", "true or false: storm control."},
		{"02LLUSYKC9NKE4YHnDq0PhrjEcWt9b3kPuF", "adaptivePolicyGroupId", "s", "The adaptive policy group's id."},
		{"02LMN5GEUI7HG2JrpTlVSeRMyiyZH9eOpGK", "peerSgtCapable", "r", "true or false: peer SGT capable (trunk ports)."},
		{"02LMN4K5FBKX724j9phzqKI0rQN7ubHCNYe", "flexibleStackingEnabled", "r", "true or false: flexible stacking."},
		{"02LMN40XI6JQR33Jqh4R4GE6xNqUpbwsAgU", "daiTrusted", "r", "true or false: dynamic ARP inspection trusted."},
		{"02LLUSYKCCOLA4Bd6SfZY4wQLR7m0MD24rU", "profile", "r", "The port profile as a JSON object, e.g. {\"enabled\": false, \"id\": \"\", \"iname\": null}."},
		{"02LLUSYKC1CKM3aD49S4oU8KtcWlXyJq3TY", "dot3az", "r", "Energy Efficient Ethernet as a JSON object, e.g. {\"enabled\": false}."},
	}
	body := b.textBuilder("Body", "{", "", ", ")
	var parts []M
	for _, x := range spec {
		label := "Input - " + strings.ToUpper(x.param[:1]) + x.param[1:]
		switch x.kind {
		case "a":
			parts = append(parts, body.bodyArray(x.param, b.v(vw+x.id, "input", "array", label, x.desc, nil)))
		case "s":
			parts = append(parts, body.bodyString(x.param, b.v(vw+x.id, "input", "string", label, x.desc, nil)))
		default:
			parts = append(parts, body.bodyRaw(x.param, b.v(vw+x.id, "input", "string", label, x.desc, nil)))
		}
	}
	s := b.stdOutputs("", "Output - Switch Port", "The port after the update, as Meraki's JSON object.", vw+"02LLUSYKCF95S33yYavGIG4eJENDyKtykdT", "", "")
	s.ignore = ign
	parts = append(parts, b.set("Close Body", assign{body.text, b.ref(body.text) + "}"}))
	acts := []M{b.group("Build Body", parts...)}
	acts = append(acts, b.request(b.api(name, "PUT", "/api/v1/devices/"+b.ref(serial)+"/switch/ports/"+b.ref(port), b.ref(body.text)), s)...)
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, Desc: "Update a switch port's configuration; only the inputs that are given are changed." + cisco,
		Operations: []string{"updateDeviceSwitchPort"}}, acts)
}

func updateNetworkFirmwareUpgrades() *Atomic {
	slug, id, name := "update-network-firmware-upgrades", idUpdateNetworkFirmware, "Meraki - Update Network Firmware Upgrades"
	b := newBuilder(slug, id)
	network := b.v(vw+"02M3057KLFLIG20p3pF8ezNDO75MHqfMshf", "input", "string", "Input - Network ID", "The network's id.", nil)
	b.vars[len(b.vars)-1].Required = true
	// Per product: the version id to upgrade to, the upgrade's time and
	// whether to join the next beta (ids: see README).
	type product struct{ name, version, time, beta string }
	products := []product{
		{"appliance", "02M4KERVOSRJQ08qXFbfM4iMYQx2FpdU2Wv", "02M4KERVP62GU060qFU6m1vvv9OwL3mx2dr", "02M4KERVPIWKK5qoD0mltZ2vRBwqueLtzx3"},
		{"camera", "02M4KERVPWAVA4upg4hyDRhVSQq4gXX6sf2", "02M4KERVQ9MZF7jg3BdAhGNZFlt3qteptmt", "02M4KERVQZELU4R7e0vGsxOkGMXFgxCcCQA"},
		{"cellularGateway", "02M4KERVQMOMV7BMIPi4zaoJNiqQg4T9JvI", "02M4KERVRC3QE2OLTU4o22QEpid35nqLKxL", "02M4KERVUAJ1V1PyguqfdoICjF1BmHR7X2b"},
		{"secureConnect", "02M4KERVSTNX04vnDZTl0xrUY7LDJa4ZdlN", "02M4KERVT6GCB3qhldBseHG3T6lt0rMU1Mh", "02M4KERVUNIC90E9ID0hvx5GO21BmmzIs08"},
		{"sensor", "02M4KERVTJG3D6z0pR38CYPBhZD7S5rTHeL", "02M4KERVVD4B80d0TNrHG17Oj0JRKQ0t1rM", "02M4KERVV09U46NNQXWhuLlgEFsBSliOUNR"},
		{"switch", "02M4KERVWSKTJ4T8YMhcQ21to7TnlCqYM3l", "02M4KERVS2VGZ2aMw0gwig6JJIT24q4KMP3", "02M4KERVWFXYU1hDx5aB3T8ThL6zSXFMTT3"},
		{"switchCatalyst", "02M4KERVVPPQ72Beed28WWzCNhfcw121KZh", "02M4KERVW32IK323MeeO2ZRMVhqupIl3Vnf", "02M4KERVXJS3R2hNPsRY66qPvsx8P6I77S3"},
		{"wireless", "02M4KERVZ2C7F7lU7gVGO8NZOaQjYe95OZW", "02M4KERVTXNXE0VtG74iQnLYuk15EOGjdTE", "02M4KERVXWWZV3oInj8jFfnitnKrWUaFaX2"},
		{"wirelessController", "02M4KERVX5OFW4pJO7lxPaQ7ocZzRKxdKfn", "02M4KERVYPC1E11PVRqaDjAaHJ3TRWznwFf", "02M4KERVYC3RT6HIpeFiGsPas45oB0gD48h"},
	}
	body := b.textBuilder("Body", `{"products": {`, "", ", ")
	prod := b.v("", "local", "string", "Product", "The JSON of the product being added to Body.", nil)
	var parts []M
	for _, p := range products {
		label := strings.ToUpper(p.name[:1]) + p.name[1:]
		version := b.v(vw+p.version, "input", "string", "Input - "+label+" Version ID to Upgrade",
			"The id of the "+p.name+" firmware version to upgrade to (the current version's id cancels a scheduled upgrade).", nil)
		at := b.v(vw+p.time, "input", "string", "Input - "+label+" Upgrade Date Time",
			"When to upgrade the "+p.name+" devices: ISO 8601 or \"2006-01-02 15:04:05\", up to a month ahead; empty means now.", nil)
		beta := b.v(vw+p.beta, "input", "boolean", "Input - "+label+" Participate In Next Beta Release",
			"Whether the "+p.name+" devices join the next beta release.", false)
		parts = append(parts, b.ifElse("Add "+p.name+"?", b.branch("Add "+p.name,
			or(b.notEmpty(version), cond(b.ref(beta), "eq", true)),
			b.set("Start "+p.name, assign{prod, `"` + p.name + `": {"participateInNextBetaRelease": ` + b.ref(beta)}),
			b.ifElse("Version Given?", b.branch("Version Given", b.notEmpty(version),
				b.set("Add nextUpgrade", assign{prod, b.ref(prod) + `, "nextUpgrade": {"toVersion": {"id": ` + b.ref(version) + `}`}),
				b.ifElse("Time Given?", b.branch("Time Given", b.notEmpty(at), b.set("Add time", assign{prod, b.ref(prod) + `, "time": "` + b.ref(at) + `"`}))),
				b.set("Close nextUpgrade", assign{prod, b.ref(prod) + "}"}))),
			body.add("Add "+p.name, b.ref(prod)+"}"))))
	}
	parts = append(parts, b.set("Close Body", assign{body.text, b.ref(body.text) + "}}"}))
	s := b.stdOutputs("", "Output - Result", "The network's firmware upgrades after the change, as Meraki's JSON object.",
		vw+"02M3057KLFT882CZIEPo8wIRVmx8JqaChAz", vw+"02M3057KLFSGG0DBQRLz133mNnZHnGJESAq", vw+"02M3057KLFURS0hP6yaZLrIa3H5T3VKTy5E")
	acts := []M{b.group("Build Body", parts...)}
	acts = append(acts, b.request(b.api(name, "PUT", "/api/v1/networks/"+b.ref(network)+"/firmwareUpgrades", b.ref(body.text)), s)...)
	return finish(b, &Atomic{Slug: slug, ID: id, Name: name, Desc: "Schedule (or cancel) firmware upgrades of a network's products and set their beta participation." + cisco,
		Operations: []string{"updateNetworkFirmwareUpgrades"}}, acts)
}

// varByName finds a variable of a built atomic (generator use only).
func (a *Atomic) varByName(name string) Var {
	for _, x := range a.Vars {
		if x.Name == name {
			return x
		}
	}
	panic("atomicgen: " + a.Name + " has no variable " + name)
}
