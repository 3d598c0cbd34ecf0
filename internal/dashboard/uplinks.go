package dashboard

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
)

// getOrganizationApplianceUplinkStatuses is derived from the
// organization's appliances (MX and Z models) in networks: wan1 carries the
// device's public IP and is active while the device reports (failed when
// it is offline), wan2 (MX only) is a ready standby on most appliances and
// failed on alerting ones, and Z teleworker gateways have one WAN.
func getOrganizationApplianceUplinkStatuses(c *call) (int, any, error) {
	devs, err := c.pagedDevices(func(f *store.DeviceFilter) error {
		f.Assigned, f.Statuses = assigned, nil
		f.ProductTypes = []string{"appliance"}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	type uplink struct {
		Interface    string  `json:"interface"`
		Status       string  `json:"status"`
		IP           *string `json:"ip"`
		Gateway      *string `json:"gateway"`
		PublicIP     *string `json:"publicIp"`
		PrimaryDNS   *string `json:"primaryDns"`
		SecondaryDNS *string `json:"secondaryDns"`
		IPAssignedBy *string `json:"ipAssignedBy"`
	}
	type ha struct {
		Enabled bool   `json:"enabled"`
		Role    string `json:"role"`
	}
	type entry struct {
		NetworkID        string   `json:"networkId"`
		Serial           string   `json:"serial"`
		Model            string   `json:"model"`
		LastReportedAt   *string  `json:"lastReportedAt"`
		HighAvailability ha       `json:"highAvailability"`
		Uplinks          []uplink `json:"uplinks"`
	}
	// Filters of this operation the device filter does not read.
	iccids := c.queryList("iccids")
	out := make([]entry, 0, len(devs))
	for _, d := range devs {
		if len(iccids) > 0 {
			continue // appliances have no SIM
		}
		e := entry{NetworkID: d.NetworkID, Serial: d.Serial, Model: d.Model, HighAvailability: ha{Role: "primary"}, Uplinks: []uplink{}}
		if !d.LastReportedAt.IsZero() {
			s := fmtTime(d.LastReportedAt)
			e.LastReportedAt = &s
		}
		h := hash(d.Serial, "uplink")
		wan := func(n int, status string) uplink {
			u := uplink{Interface: fmt.Sprintf("wan%d", n), Status: status}
			if status == "not connected" {
				return u
			}
			ip := fmt.Sprintf("192.168.%d.%d", 10*n+int(h%10), 2+int(h>>8%200))
			gw := ip[:strings.LastIndexByte(ip, '.')] + ".1"
			dns1, dns2, by := gw, "8.8.8.8", "dhcp"
			u.IP, u.Gateway, u.PrimaryDNS, u.SecondaryDNS, u.IPAssignedBy = &ip, &gw, &dns1, &dns2, &by
			if d.PublicIP != "" && n == 1 {
				pub := d.PublicIP
				u.PublicIP = &pub
			} else {
				pub := fmt.Sprintf("198.51.100.%d", 1+int(h>>16%254))
				u.PublicIP = &pub
			}
			return u
		}
		wan1 := "active"
		if d.Status == "offline" || d.Status == "dormant" {
			wan1 = "failed"
		}
		e.Uplinks = append(e.Uplinks, wan(1, wan1))
		if strings.HasPrefix(d.Model, "MX") {
			wan2 := "ready"
			switch {
			case d.Status == "alerting" || d.Status == "offline":
				wan2 = "failed"
			case h%5 == 0:
				wan2 = "not connected"
			}
			e.Uplinks = append(e.Uplinks, wan(2, wan2))
		}
		out = append(out, e)
	}
	return http.StatusOK, out, nil
}
