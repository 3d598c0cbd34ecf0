package dashboard

// realOperations are the operations with real semantics, by operationId;
// every other catalogued operation is served by [genericOperation]. The
// README lists both.
func (h *Handler) realOperations() map[string]opFunc {
	return map[string]opFunc{
		// Organizations and the caller's identity.
		"getOrganizations":                        getOrganizations,
		"getOrganization":                         getOrganization,
		"updateOrganization":                      updateOrganization,
		"createOrganization":                      createOrganization,
		"deleteOrganization":                      deleteOrganization,
		"getAdministeredIdentitiesMe":             getAdministeredIdentitiesMe,
		"getAdministeredIdentitiesMeApiKeys":      getAdministeredIdentitiesMeAPIKeys,
		"generateAdministeredIdentitiesMeApiKeys": generateAdministeredIdentitiesMeAPIKeys,
		"revokeAdministeredIdentitiesMeApiKeys":   revokeAdministeredIdentitiesMeAPIKeys,

		// Networks.
		"getOrganizationNetworks":   getOrganizationNetworks,
		"createOrganizationNetwork": createOrganizationNetwork,
		"getNetwork":                getNetwork,
		"updateNetwork":             updateNetwork,
		"deleteNetwork":             deleteNetwork,

		// Devices and inventory.
		"getOrganizationDevices":           getOrganizationDevices,
		"getNetworkDevices":                getNetworkDevices,
		"getDevice":                        getDevice,
		"updateDevice":                     updateDevice,
		"claimNetworkDevices":              claimNetworkDevices,
		"removeNetworkDevices":             removeNetworkDevices,
		"claimIntoOrganizationInventory":   claimIntoOrganizationInventory,
		"releaseFromOrganizationInventory": releaseFromOrganizationInventory,
		"getOrganizationInventoryDevices":  getOrganizationInventoryDevices,
		"getOrganizationInventoryDevice":   getOrganizationInventoryDevice,
		"blinkDeviceLeds":                  blinkDeviceLeds,
		"createDeviceLiveToolsLedsBlink":   createDeviceLiveToolsLedsBlink,

		// Statuses and availabilities.
		"getOrganizationDevicesStatuses":         getOrganizationDevicesStatuses,
		"getOrganizationDevicesStatusesOverview": getOrganizationDevicesStatusesOverview,
		"getOrganizationDevicesAvailabilities":   getOrganizationDevicesAvailabilities,

		// Administrators.
		"getOrganizationAdmins":   getOrganizationAdmins,
		"createOrganizationAdmin": createOrganizationAdmin,
		"updateOrganizationAdmin": updateOrganizationAdmin,
		"deleteOrganizationAdmin": deleteOrganizationAdmin,

		// Switch ports.
		"getDeviceSwitchPorts":   getDeviceSwitchPorts,
		"getDeviceSwitchPort":    getDeviceSwitchPort,
		"updateDeviceSwitchPort": updateDeviceSwitchPort,

		// Appliance L3 firewall.
		"getNetworkApplianceFirewallL3FirewallRules":    getNetworkApplianceFirewallL3FirewallRules,
		"updateNetworkApplianceFirewallL3FirewallRules": updateNetworkApplianceFirewallL3FirewallRules,

		// Appliance VLANs and uplinks.
		"getNetworkApplianceVlans":               getNetworkApplianceVlans,
		"getNetworkApplianceVlan":                getNetworkApplianceVlan,
		"createNetworkApplianceVlan":             createNetworkApplianceVlan,
		"updateNetworkApplianceVlan":             updateNetworkApplianceVlan,
		"deleteNetworkApplianceVlan":             deleteNetworkApplianceVlan,
		"getOrganizationApplianceUplinkStatuses": getOrganizationApplianceUplinkStatuses,

		// Firmware upgrades.
		"getNetworkFirmwareUpgrades":      getNetworkFirmwareUpgrades,
		"updateNetworkFirmwareUpgrades":   updateNetworkFirmwareUpgrades,
		"getOrganizationFirmwareUpgrades": getOrganizationFirmwareUpgrades,

		// Clients.
		"getNetworkClients": getNetworkClients,
		"getNetworkClient":  getNetworkClient,
		"getDeviceClients":  getDeviceClients,

		// API usage.
		"getOrganizationApiRequests":         getOrganizationAPIRequests,
		"getOrganizationApiRequestsOverview": getOrganizationAPIRequestsOverview,
	}
}

// RealOperations returns the operationIds with real semantics, for docs
// and tests.
func RealOperations() []string { return sortedKeys((&Handler{}).realOperations()) }
