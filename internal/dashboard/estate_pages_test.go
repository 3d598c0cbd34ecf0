package dashboard

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/store"
)

// pageLink is the unescaped href of the link whose text is text, "" when
// the page has none.
func pageLink(body, text string) string {
	m := regexp.MustCompile(`href="([^"]*)">` + regexp.QuoteMeta(text) + `<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestEstatePagesFromAPIURLs follows the url fields the API answers to the
// pages, as a read-only admin, and checks that nobody else sees them.
func TestEstatePagesFromAPIURLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	var net struct{ Name, URL string }
	r := e.call("GET", "/networks/"+e.hq.ID, e.keyReadA, nil)
	must(t, json.Unmarshal(r.body, &net))
	var dev struct{ Serial, URL string }
	r = e.call("GET", "/devices/"+e.switchA.Serial, e.keyReadA, nil)
	must(t, json.Unmarshal(r.body, &dev))
	var org struct{ URL string }
	r = e.call("GET", "/organizations/"+e.orgA, e.keyReadA, nil)
	must(t, json.Unmarshal(r.body, &org))
	for _, u := range []string{net.URL, dev.URL, org.URL} {
		if !strings.HasPrefix(u, e.srv.URL+"/organizations/"+e.orgA+"/") && u != e.srv.URL+"/organizations/"+e.orgA {
			t.Fatalf("url field %q is not a page of organization %s on the issuer", u, e.orgA)
		}
	}
	path := func(u string) string { return strings.TrimPrefix(u, e.srv.URL) }

	status, body, _ := e.page("GET", path(net.URL), e.readA, nil)
	if status != http.StatusOK || !strings.Contains(body, "<h1>"+html.EscapeString(net.Name)+"</h1>") || !strings.Contains(body, e.switchA.Serial) {
		t.Fatalf("network page from its url field: %d\n%s", status, body)
	}
	for _, tag := range e.hq.Tags {
		if !strings.Contains(body, `<span class="tag">`+tag+`</span>`) {
			t.Errorf("network page lacks tag %q", tag)
		}
	}
	// The layout's chrome, and no inline script or style for the CSP.
	if !strings.Contains(body, `href="/static/site.css"`) || strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Error("network page lacks the chrome or has inline script or style")
	}
	status, body, _ = e.page("GET", path(dev.URL), e.readA, nil)
	if status != http.StatusOK || !strings.Contains(body, e.switchA.Serial) || !strings.Contains(body, e.switchA.Model) ||
		!strings.Contains(body, ">"+html.EscapeString(net.Name)+"</a>") {
		t.Fatalf("device page from its url field: %d\n%s", status, body)
	}
	status, _, h := e.page("GET", path(org.URL), e.readA, nil)
	if status != http.StatusFound || h.Get("Location") != "/organizations/"+e.orgA+"/networks" {
		t.Errorf("organization url: %d %q", status, h.Get("Location"))
	}
	status, body, _ = e.page("GET", "/organizations/"+e.orgA+"/networks", e.fullA, nil)
	if status != http.StatusOK || !strings.Contains(body, ">"+html.EscapeString(net.Name)+"</a>") || !strings.Contains(body, strings.Join(e.hq.ProductTypes, ", ")) {
		t.Errorf("networks page: %d\n%s", status, body)
	}

	// Another organization's admin, and a logged-out visitor.
	other := e.networksB[0]
	devB, err := e.st.Dashboard().ListDevices(context.Background(), store.DeviceFilter{OrgID: e.orgB, Page: store.Page{Limit: 1}})
	must(t, err)
	for _, p := range []string{path(net.URL), path(dev.URL), path(org.URL), "/organizations/" + e.orgA + "/networks",
		// Its own organization's path with another's network or device.
		"/organizations/" + e.orgB + "/networks/" + e.hq.ID, "/organizations/" + e.orgB + "/devices/" + e.switchA.Serial,
		"/organizations/" + e.orgB + "/networks/N_0", "/organizations/999/networks"} {
		status, body, _ := e.page("GET", p, e.adminB, nil)
		if status != http.StatusNotFound || strings.Contains(body, net.Name) || !strings.Contains(body, "Not found") {
			t.Errorf("org B admin GET %s: %d", p, status)
		}
	}
	if status, _, _ := e.page("GET", "/organizations/"+e.orgB+"/networks/"+other.ID, e.adminB, nil); status != http.StatusOK {
		t.Errorf("org B admin on its own network: %d", status)
	}
	if status, _, _ := e.page("GET", "/organizations/"+e.orgB+"/devices/"+devB[0].Serial, e.adminB, nil); status != http.StatusOK {
		t.Errorf("org B admin on its own device: %d", status)
	}
	if status, _, h := e.page("GET", path(net.URL), "", nil); status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?") {
		t.Errorf("logged out: %d %q", status, h.Get("Location"))
	}
}

var (
	networkLinkRE = regexp.MustCompile(`<a href="/organizations/\d+/networks/([LN]_\d+)">`)
	deviceLinkRE  = regexp.MustCompile(`<a href="/organizations/\d+/devices/([A-Z0-9-]+)">`)
)

// walk pages forwards with Next then back with Previous, returning the
// ids on each page in both directions.
func walk(t *testing.T, e *env, start, account string, re *regexp.Regexp) (forward, backward []string) {
	t.Helper()
	ids := func(body string) string {
		var out []string
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return strings.Join(out, ",")
	}
	_, body, _ := e.page("GET", start, account, nil)
	if pageLink(body, "Previous") != "" {
		t.Error("the first page links to a previous one")
	}
	for {
		forward = append(forward, ids(body))
		next := pageLink(body, "Next")
		if next == "" {
			break
		}
		var status int
		status, body, _ = e.page("GET", next, account, nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", next, status)
		}
	}
	backward = append(backward, ids(body))
	for {
		prev := pageLink(body, "Previous")
		if prev == "" {
			break
		}
		_, body, _ = e.page("GET", prev, account, nil)
		backward = append([]string{ids(body)}, backward...)
	}
	return forward, backward
}

func TestEstatePagesPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	ctx := context.Background()
	for _, o := range []store.Organization{{ID: "700001", Name: "Many Networks"}, {ID: "700002", Name: "Many Devices"}} {
		o.CreatedAt = store.Micro(e.clock.Now())
		must(t, e.st.Organizations().CreateOrganization(ctx, o))
	}
	_, err := Seed(ctx, e.st, SeedParams{OrgID: "700001", Networks: 120, Devices: 120, Now: e.clock.Now()})
	must(t, err)
	_, err = Seed(ctx, e.st, SeedParams{OrgID: "700002", Networks: 1, Devices: 230, Now: e.clock.Now()})
	must(t, err)
	viewer := e.account("viewer@c.example", "700001", store.AccessReadOnly)
	must(t, e.st.Accounts().PutMembership(ctx, store.Membership{OrgID: "700002", AccountID: viewer, Access: store.AccessReadOnly, CreatedAt: store.Micro(e.clock.Now())}))

	check := func(name string, forward, backward []string, pages, rows int) {
		t.Helper()
		seen := map[string]int{}
		for _, p := range forward {
			for _, id := range strings.Split(p, ",") {
				seen[id]++
			}
		}
		if len(forward) != pages || len(seen) != rows {
			t.Errorf("%s: %d pages with %d distinct rows, want %d and %d", name, len(forward), len(seen), pages, rows)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s shown %d times", name, id, n)
			}
		}
		if strings.Join(forward, "|") != strings.Join(backward, "|") {
			t.Errorf("%s: the pages differ going back", name)
		}
	}
	fw, bw := walk(t, e, "/organizations/700001/networks", viewer, networkLinkRE)
	check("networks", fw, bw, 3, 120)

	nets, err := e.st.Dashboard().ListNetworks(ctx, store.NetworkFilter{OrgID: "700002"})
	must(t, err)
	n, err := e.st.Dashboard().ListDevices(ctx, store.DeviceFilter{OrgID: "700002", NetworkIDs: []string{nets[0].ID}})
	must(t, err)
	pages := (len(n) + devicesPageSize - 1) / devicesPageSize
	if pages < 2 {
		t.Fatalf("seed put %d devices in the network, too few to page", len(n))
	}
	fw, bw = walk(t, e, "/organizations/700002/networks/"+nets[0].ID, viewer, deviceLinkRE)
	check("devices", fw, bw, pages, len(n))
}
