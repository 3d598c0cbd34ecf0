package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// The sandbox's estate as pages: the paths the Dashboard API's url fields
// point at (organizations.go, networks.go and devices.go build them), for
// administrators of the organization, full or read-only. Everyone else
// gets 404, so the pages do not confirm which ids exist.

const (
	// networksPageSize and devicesPageSize are how many rows one page shows.
	networksPageSize = 50
	devicesPageSize  = 100
)

type estateOrg struct{ ID, Name string }

type networkRow struct {
	ID, Name, TimeZone string
	ProductTypes, Tags []string
}

type networksPage struct {
	web.Chrome
	Org      estateOrg
	Networks []networkRow
	// Prev and Next are the links to the neighbouring pages, "" at an end.
	Prev, Next string
}

type deviceRow struct {
	Serial, Name, Model, ProductType, Status, LanIP string
}

type networkPage struct {
	web.Chrome
	Org        estateOrg
	Network    networkRow
	Notes      string
	APIPath    string
	Devices    []deviceRow
	Prev, Next string
}

type devicePage struct {
	web.Chrome
	Org         estateOrg
	Device      store.Device
	NetworkName string
	LastSeen    string
	APIPath     string
}

type estateMessage struct {
	web.Chrome
	Message string
}

// estateOrgFor checks that the logged-in person administers the
// organization in the path and returns it; otherwise it has answered.
func (h *Handler) estateOrgFor(w http.ResponseWriter, r *http.Request) (store.Account, estateOrg, bool) {
	acc, ok := h.current(w, r)
	if !ok {
		return acc, estateOrg{}, false
	}
	ctx := r.Context()
	orgID := r.PathValue("orgID")
	if _, err := h.st.Accounts().GetMembership(ctx, orgID, acc.ID); err != nil {
		h.estateFailed(w, r, acc, "membership lookup", err)
		return acc, estateOrg{}, false
	}
	org, err := h.st.Organizations().GetOrganization(ctx, orgID)
	if err != nil {
		h.estateFailed(w, r, acc, "organization lookup", err)
		return acc, estateOrg{}, false
	}
	return acc, estateOrg{ID: org.ID, Name: org.Name}, true
}

// estateFailed answers a styled 404 for a missing row (or one the person
// may not see) and a 500 for anything else.
func (h *Handler) estateFailed(w http.ResponseWriter, r *http.Request, acc store.Account, what string, err error) {
	status, title, msg := http.StatusNotFound, "Not found", "There is no such page, or you are not an administrator of its organization."
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.lg.ErrorContext(r.Context(), what, "err", err)
		status, title, msg = http.StatusInternalServerError, "Something went wrong", "The page could not be loaded. Try again in a moment."
	}
	h.pages.Render(w, r, status, "estate_message.html", estateMessage{
		Chrome: web.Chrome{Title: title, User: acc.Email, CSRF: h.sessions.CSRFToken(w, r)}, Message: msg,
	})
}

func (h *Handler) estateChrome(w http.ResponseWriter, r *http.Request, acc store.Account, title string) web.Chrome {
	return web.Chrome{Title: title, User: acc.Email, CSRF: h.sessions.CSRFToken(w, r)}
}

// pageOf reads the startingAfter/endingBefore cursor of a paged list,
// asking for one row more than it shows to learn whether another page
// follows in the direction of travel.
func pageOf(r *http.Request, size int) store.Page {
	q := r.URL.Query()
	p := store.Page{StartingAfter: q.Get("startingAfter"), Limit: size + 1}
	if p.StartingAfter == "" {
		p.EndingBefore = q.Get("endingBefore")
	}
	return p
}

// pageLinks trims the extra row of rows fetched with p and returns the
// links to the previous and next pages; key is a row's cursor key.
func pageLinks[T any](base string, p store.Page, size int, rows []T, key func(T) string) (_ []T, prev, next string) {
	more := len(rows) > size
	if more {
		if p.EndingBefore != "" {
			rows = rows[1:]
		} else {
			rows = rows[:size]
		}
	}
	if len(rows) == 0 {
		return rows, "", ""
	}
	link := func(k, v string) string { return base + "?" + url.Values{k: {v}}.Encode() }
	// Moving backwards there is always a next page (we came from it), and
	// moving forwards a previous one.
	if (p.EndingBefore != "" && more) || p.StartingAfter != "" {
		prev = link("endingBefore", key(rows[0]))
	}
	if p.EndingBefore != "" || more {
		next = link("startingAfter", key(rows[len(rows)-1]))
	}
	return rows, prev, next
}

// organizationPage is the url of an organization in the API: its networks.
func (h *Handler) organizationPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := h.estateOrgFor(w, r); !ok {
		return
	}
	http.Redirect(w, r, "/organizations/"+url.PathEscape(r.PathValue("orgID"))+"/networks", http.StatusFound)
}

func (h *Handler) networksPage(w http.ResponseWriter, r *http.Request) {
	acc, org, ok := h.estateOrgFor(w, r)
	if !ok {
		return
	}
	p := pageOf(r, networksPageSize)
	nets, err := h.dash.ListNetworks(r.Context(), store.NetworkFilter{OrgID: org.ID, Page: p})
	if err != nil {
		h.estateFailed(w, r, acc, "list networks", err)
		return
	}
	nets, prev, next := pageLinks("/organizations/"+url.PathEscape(org.ID)+"/networks", p, networksPageSize, nets,
		func(n store.Network) string { return n.ID })
	page := networksPage{Chrome: h.estateChrome(w, r, acc, "Networks · "+org.Name), Org: org, Prev: prev, Next: next}
	for _, n := range nets {
		page.Networks = append(page.Networks, networkRowOf(n))
	}
	h.pages.Render(w, r, http.StatusOK, "networks.html", page)
}

func networkRowOf(n store.Network) networkRow {
	return networkRow{ID: n.ID, Name: n.Name, TimeZone: n.TimeZone, ProductTypes: n.ProductTypes, Tags: n.Tags}
}

func (h *Handler) networkPage(w http.ResponseWriter, r *http.Request) {
	acc, org, ok := h.estateOrgFor(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	n, err := h.dash.GetNetwork(ctx, r.PathValue("networkID"))
	if err == nil && n.OrgID != org.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		h.estateFailed(w, r, acc, "get network", err)
		return
	}
	p := pageOf(r, devicesPageSize)
	devs, err := h.dash.ListDevices(ctx, store.DeviceFilter{OrgID: org.ID, NetworkIDs: []string{n.ID}, Page: p})
	if err != nil {
		h.estateFailed(w, r, acc, "list devices", err)
		return
	}
	devs, prev, next := pageLinks("/organizations/"+url.PathEscape(org.ID)+"/networks/"+url.PathEscape(n.ID), p, devicesPageSize, devs,
		func(d store.Device) string { return d.Serial })
	page := networkPage{
		Chrome: h.estateChrome(w, r, acc, n.Name+" · "+org.Name), Org: org, Network: networkRowOf(n), Notes: n.Notes,
		APIPath: BasePath + "/networks/" + n.ID, Prev: prev, Next: next,
	}
	for _, d := range devs {
		page.Devices = append(page.Devices, deviceRow{Serial: d.Serial, Name: d.Name, Model: d.Model, ProductType: d.ProductType, Status: d.Status, LanIP: d.LanIP})
	}
	h.pages.Render(w, r, http.StatusOK, "network.html", page)
}

func (h *Handler) devicePage(w http.ResponseWriter, r *http.Request) {
	acc, org, ok := h.estateOrgFor(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	d, err := h.dash.GetDevice(ctx, strings.ToUpper(r.PathValue("serial")))
	if err == nil && d.OrgID != org.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		h.estateFailed(w, r, acc, "get device", err)
		return
	}
	page := devicePage{
		Chrome: h.estateChrome(w, r, acc, deviceTitle(d)+" · "+org.Name), Org: org, Device: d,
		LastSeen: web.FormatTime(d.LastReportedAt), APIPath: BasePath + "/devices/" + d.Serial,
	}
	if d.NetworkID != "" {
		if n, err := h.dash.GetNetwork(ctx, d.NetworkID); err == nil {
			page.NetworkName = n.Name
		} else if !errors.Is(err, store.ErrNotFound) {
			h.lg.WarnContext(ctx, "device page network lookup", "network", d.NetworkID, "err", err)
		}
	}
	h.pages.Render(w, r, http.StatusOK, "device.html", page)
}

// deviceTitle is a device's name, or its serial when it has none.
func deviceTitle(d store.Device) string {
	if d.Name != "" {
		return d.Name
	}
	return d.Serial
}
