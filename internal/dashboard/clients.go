package dashboard

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// A network's clients are derived from its devices, deterministically from
// the network id: every access point and switch serves a few clients, so
// what an integration sees follows the estate (claim an access point, more
// clients appear) and the same request gives the same answer within the
// hour.

type clientUsage struct {
	Sent int64 `json:"sent"`
	Recv int64 `json:"recv"`
}

type clientView struct {
	ID                     string      `json:"id"`
	MAC                    string      `json:"mac"`
	Description            string      `json:"description"`
	IP                     string      `json:"ip"`
	IP6                    *string     `json:"ip6"`
	IP6Local               *string     `json:"ip6Local"`
	User                   *string     `json:"user"`
	FirstSeen              string      `json:"firstSeen"`
	LastSeen               string      `json:"lastSeen"`
	Manufacturer           string      `json:"manufacturer"`
	OS                     string      `json:"os"`
	DeviceTypePrediction   string      `json:"deviceTypePrediction"`
	RecentDeviceSerial     string      `json:"recentDeviceSerial"`
	RecentDeviceName       string      `json:"recentDeviceName"`
	RecentDeviceMAC        string      `json:"recentDeviceMac"`
	RecentDeviceConnection string      `json:"recentDeviceConnection"`
	SSID                   *string     `json:"ssid"`
	VLAN                   string      `json:"vlan"`
	NamedVLAN              *string     `json:"namedVlan"`
	Switchport             *string     `json:"switchport"`
	Usage                  clientUsage `json:"usage"`
	Status                 string      `json:"status"`
	Notes                  *string     `json:"notes"`
	SMInstalled            bool        `json:"smInstalled"`
	GroupPolicy8021x       *string     `json:"groupPolicy8021x"`
	AdaptivePolicyGroup    *string     `json:"adaptivePolicyGroup"`
	PSKGroup               *string     `json:"pskGroup"`
	WirelessCapabilities   string      `json:"wirelessCapabilities,omitempty"`

	lastSeen time.Time
}

var clientKinds = []struct{ manufacturer, os, prediction, name string }{
	{"Apple", "macOS", "Apple macOS", "MacBook-Pro"},
	{"Apple", "iOS", "Apple iPhone", "iPhone"},
	{"Samsung", "Android", "Samsung Galaxy", "Galaxy-S24"},
	{"Dell", "Windows 11", "Dell Windows", "DESKTOP"},
	{"Lenovo", "Windows 11", "Lenovo Windows", "LAPTOP"},
	{"HP", "Printer", "HP Printer", "HP-LaserJet"},
	{"Cisco", "Cisco IP Phone", "Cisco phone", "SEP"},
	{"Raspberry Pi", "Linux", "Linux", "raspberrypi"},
}

// clientsPerDevice is how many clients each kind of device serves.
var clientsPerDevice = map[string]int{"wireless": 6, "switch": 4, "appliance": 2}

// maxClientsPerNetwork bounds generated clients in very large networks.
const maxClientsPerNetwork = 2000

func (c *call) networkClients(n store.Network) ([]clientView, error) {
	devs, err := c.h.dash.ListDevices(c.r.Context(), store.DeviceFilter{OrgID: n.OrgID, NetworkIDs: []string{n.ID}})
	if err != nil {
		return nil, err
	}
	anchor := c.now.Truncate(time.Hour)
	subnet := hash(n.ID, "subnet")
	var out []clientView
	for _, d := range devs {
		per := clientsPerDevice[d.ProductType]
		for i := 0; i < per && len(out) < maxClientsPerNetwork; i++ {
			h := hash(d.Serial, fmt.Sprint("client", i))
			kind := clientKinds[h%uint64(len(clientKinds))]
			last := anchor.Add(-time.Duration(h%(36*60)) * time.Minute)
			cv := clientView{
				ID:                   "k" + fmt.Sprintf("%06x", h&0xffffff),
				MAC:                  fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", byte(h>>40)&0xfe|0x02, byte(h>>32), byte(h>>24), byte(h>>16), byte(h>>8), byte(h)),
				Description:          fmt.Sprintf("%s-%s", kind.name, digits(h, 3)),
				IP:                   fmt.Sprintf("10.%d.%d.%d", subnet%200+10, (h>>8)%4, h%250+3),
				FirstSeen:            fmtTime(last.Add(-time.Duration(h%(90*24)) * time.Hour)),
				LastSeen:             fmtTime(last),
				Manufacturer:         kind.manufacturer,
				OS:                   kind.os,
				DeviceTypePrediction: kind.prediction,
				RecentDeviceSerial:   d.Serial,
				RecentDeviceName:     d.Name,
				RecentDeviceMAC:      d.MAC,
				VLAN:                 fmt.Sprint(1 + 9*(h%3)),
				Usage:                clientUsage{Sent: int64(h % 5_000_000), Recv: int64((h >> 20) % 50_000_000)},
				Status:               "Offline",
				lastSeen:             last,
			}
			if c.now.Sub(last) < 15*time.Minute || h%10 < 6 {
				cv.Status = "Online"
			}
			if d.ProductType == "wireless" {
				ssid := []string{"Corp", "Guest", "IoT"}[h%3]
				cv.SSID, cv.RecentDeviceConnection, cv.WirelessCapabilities = &ssid, "Wireless", "802.11ax - 2.4 and 5 GHz"
			} else {
				port := fmt.Sprint(1 + h%8)
				cv.Switchport, cv.RecentDeviceConnection = &port, "Wired"
			}
			if h%4 == 0 {
				user := "user" + digits(h, 3) + "@example.com"
				cv.User = &user
			}
			out = append(out, cv)
		}
	}
	slices.SortFunc(out, func(a, b clientView) int { return strings.Compare(a.ID, b.ID) })
	out = slices.CompactFunc(out, func(a, b clientView) bool { return a.ID == b.ID })
	return out, nil
}

func getNetworkClients(c *call) (int, any, error) {
	pr, err := c.page()
	if err != nil {
		return 0, nil, err
	}
	from, to, err := c.timespan(24*time.Hour, 31*24*time.Hour)
	if err != nil {
		return 0, nil, err
	}
	all, err := c.networkClients(*c.network)
	if err != nil {
		return 0, nil, err
	}
	statuses := c.queryList("statuses")
	conns := c.queryList("recentDeviceConnections")
	match := func(field, want string) bool { return want == "" || strings.EqualFold(field, want) }
	q := c.values()
	list := slices.DeleteFunc(all, func(cl clientView) bool {
		return cl.lastSeen.Before(from) || cl.lastSeen.After(to) ||
			len(statuses) > 0 && !slices.Contains(statuses, cl.Status) ||
			len(conns) > 0 && !slices.Contains(conns, cl.RecentDeviceConnection) ||
			!match(cl.MAC, q.Get("mac")) || !match(cl.IP, q.Get("ip")) || !match(cl.OS, q.Get("os")) ||
			!match(cl.Description, q.Get("description")) || !match(cl.VLAN, q.Get("vlan"))
	})
	page, more := paginate(pr, list, func(cl clientView) string { return cl.ID })
	first, last := "", ""
	if len(page) > 0 {
		first, last = page[0].ID, page[len(page)-1].ID
	}
	c.link(pr, first, last, more)
	return http.StatusOK, nonNil(page), nil
}

// getNetworkClient finds a client by id, MAC or IP, as Meraki does.
func getNetworkClient(c *call) (int, any, error) {
	all, err := c.networkClients(*c.network)
	if err != nil {
		return 0, nil, err
	}
	key := c.params.Get("clientId")
	for _, cl := range all {
		if cl.ID == key || strings.EqualFold(cl.MAC, key) || cl.IP == key {
			return http.StatusOK, cl, nil
		}
	}
	return 0, nil, errNotFound
}

func getDeviceClients(c *call) (int, any, error) {
	from, _, err := c.timespan(24*time.Hour, 31*24*time.Hour)
	if err != nil {
		return 0, nil, err
	}
	if c.device.NetworkID == "" {
		return http.StatusOK, []any{}, nil
	}
	n, err := c.h.dash.GetNetwork(c.r.Context(), c.device.NetworkID)
	if err != nil {
		return 0, nil, err
	}
	all, err := c.networkClients(n)
	if err != nil {
		return 0, nil, err
	}
	type deviceClient struct {
		ID                  string      `json:"id"`
		MAC                 string      `json:"mac"`
		Description         string      `json:"description"`
		IP                  string      `json:"ip"`
		User                *string     `json:"user"`
		VLAN                string      `json:"vlan"`
		NamedVLAN           *string     `json:"namedVlan"`
		Switchport          *string     `json:"switchport"`
		AdaptivePolicyGroup *string     `json:"adaptivePolicyGroup"`
		MDNSName            string      `json:"mdnsName"`
		DHCPHostname        string      `json:"dhcpHostname"`
		Usage               clientUsage `json:"usage"`
	}
	out := []deviceClient{}
	for _, cl := range all {
		if cl.RecentDeviceSerial == c.device.Serial && !cl.lastSeen.Before(from) {
			out = append(out, deviceClient{cl.ID, cl.MAC, cl.Description, cl.IP, cl.User, cl.VLAN, nil, cl.Switchport, nil,
				cl.Description, cl.Description, cl.Usage})
		}
	}
	return http.StatusOK, out, nil
}
