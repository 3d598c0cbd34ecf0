package dashboard

import (
	"context"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

var linkRe = regexp.MustCompile(`<([^>]+)>; rel=(\w+)`)

func links(h http.Header) map[string]string {
	out := map[string]string{}
	for _, m := range linkRe.FindAllStringSubmatch(h.Get("Link"), -1) {
		out[m[2]] = m[1]
	}
	return out
}

// TestPagination follows every Link rel=next and rel=prev and gets every
// network exactly once each way.
func TestPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	if _, err := Seed(context.Background(), e.st, SeedParams{OrgID: e.orgA, Networks: 17, Now: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	all, err := e.st.Dashboard().ListNetworks(context.Background(), store.NetworkFilter{OrgID: e.orgA})
	must(t, err)
	if len(all) != 23 {
		t.Fatalf("%d networks, want 23", len(all))
	}
	tok := e.token("dashboard:general:config:read")

	walk := func(start, rel string) []string {
		var ids []string
		seen := map[string]bool{}
		next := start
		for pages := 0; next != ""; pages++ {
			if pages > 20 {
				t.Fatal("more pages than networks")
			}
			r := e.call("GET", next, tok, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", next, r.status, r.body)
			}
			var page []networkView
			r.json(t, &page)
			if len(page) > 5 {
				t.Fatalf("page of %d > perPage 5", len(page))
			}
			l := links(r.header)
			if l["first"] == "" || l["last"] == "" {
				t.Fatalf("Link %q lacks first or last", r.header.Get("Link"))
			}
			if !strings.HasPrefix(l["first"], e.srv.URL+"/api/v1/organizations/") || !strings.Contains(l["first"], "perPage=5") {
				t.Fatalf("first link %q is not on the request's host with its perPage", l["first"])
			}
			pageIDs := make([]string, len(page))
			for i, n := range page {
				pageIDs[i] = n.ID
				if seen[n.ID] {
					t.Fatalf("network %s seen twice", n.ID)
				}
				seen[n.ID] = true
			}
			if rel == "prev" {
				ids = append(pageIDs, ids...)
			} else {
				ids = append(ids, pageIDs...)
			}
			next = l[rel]
		}
		return ids
	}
	want := make([]string, len(all))
	for i, n := range all {
		want[i] = n.ID
	}
	start := e.srv.URL + "/api/v1/organizations/" + e.orgA + "/networks?perPage=5"
	if got := walk(start, "next"); !slices.Equal(got, want) {
		t.Errorf("forward: %d networks %q, want %q", len(got), got, want)
	}
	// Backward from the last page: Link rel=last, then rel=prev.
	r := e.call("GET", start, tok, nil)
	if got := walk(links(r.header)["last"], "prev"); !slices.Equal(got, want) {
		t.Errorf("backward: %d networks %q, want %q", len(got), got, want)
	}
	// perPage outside the operation's range is refused.
	for _, pp := range []string{"2", "100001", "x"} {
		if r := e.call("GET", "/organizations/"+e.orgA+"/networks?perPage="+pp, tok, nil); r.status != http.StatusBadRequest {
			t.Errorf("perPage=%s: %d", pp, r.status)
		}
	}
	// getOrganizationDevices pages by serial too.
	var devs []deviceView
	next := "/organizations/" + e.orgA + "/devices?perPage=7"
	for next != "" {
		r := e.call("GET", next, tok, nil)
		var page []deviceView
		r.json(t, &page)
		devs = append(devs, page...)
		next = links(r.header)["next"]
	}
	assigned, _ := e.st.Dashboard().ListDevices(context.Background(), store.DeviceFilter{OrgID: e.orgA, Assigned: assigned})
	if len(devs) != len(assigned) || len(devs) == 0 {
		t.Errorf("paged %d devices, want %d", len(devs), len(assigned))
	}
}

func TestOrgRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{}) // Meraki's limits: 10/s per org, burst 20
	tok := e.token("dashboard:general:config:read")
	path := "/organizations/" + e.orgA + "/networks"
	for i := range 20 {
		if r := e.call("GET", path, tok, nil); r.status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i, r.status, r.body)
		}
	}
	r := e.call("GET", path, tok, nil)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("request over the burst: %d", r.status)
	}
	if errs := r.errors(t); len(errs) != 1 || errs[0] != "API rate limit exceeded for organization" {
		t.Errorf("429 body %s", r.body)
	}
	wait, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || wait < 1 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// Every integration of the organization shares the bucket; another
	// organization has its own.
	if r := e.call("GET", path, e.keyFullA, nil); r.status != http.StatusTooManyRequests {
		t.Errorf("another credential of the same org: %d", r.status)
	}
	if r := e.call("GET", "/organizations/"+e.orgB+"/networks", e.keyB, nil); r.status != http.StatusOK {
		t.Errorf("another organization: %d", r.status)
	}
	e.clock.Advance(time.Duration(wait) * time.Second)
	if r := e.call("GET", path, tok, nil); r.status != http.StatusOK {
		t.Errorf("after Retry-After: %d %s", r.status, r.body)
	}
	// Sustained: 10 per second.
	e.clock.Advance(10 * time.Second)
	ok := 0
	for range 40 {
		if e.call("GET", path, tok, nil).status == http.StatusOK {
			ok++
		}
	}
	e.clock.Advance(time.Second)
	for range 15 {
		if e.call("GET", path, tok, nil).status == http.StatusOK {
			ok++
		}
	}
	if ok != 30 {
		t.Errorf("%d requests passed, want burst 20 + 10 after one second", ok)
	}
}

func TestIPRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{OrgPerSecond: 1000, OrgBurst: 1000, IPPerSecond: 2, IPBurst: 2},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	path := e.srv.URL + BasePath + "/organizations/" + e.orgA + "/networks"
	get := func(xff string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-Cisco-Meraki-API-Key", e.keyFullA)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := e.srv.Client().Do(req)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	for range 2 {
		if status, _ := get("198.51.100.7"); status != http.StatusOK {
			t.Fatalf("within the IP burst: %d", status)
		}
	}
	if status, retry := get("198.51.100.7"); status != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("over the IP limit: %d", status)
	}
	// Behind a trusted proxy the client's address decides, not the proxy's;
	// a spoofed leftmost entry does not.
	if status, _ := get("10.9.9.9, 198.51.100.8"); status != http.StatusOK {
		t.Errorf("another client behind the proxy: %d", status)
	}
	if status, _ := get("198.51.100.8, 198.51.100.7"); status != http.StatusTooManyRequests {
		t.Errorf("spoofed X-Forwarded-For escaped the limit: %d", status)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	path := "/organizations/" + e.orgA + "/networks"
	tok := e.token("dashboard:general:config:read")
	tests := []struct {
		name, header, value string
		want                int
	}{
		{"bearer token", "Authorization", "Bearer " + tok, 200},
		{"bearer lower-case scheme", "Authorization", "bearer " + tok, 200},
		{"bearer API key", "Authorization", "Bearer " + e.keyFullA, 200},
		{"Meraki API key header", "X-Cisco-Meraki-API-Key", e.keyFullA, 200},
		{"unknown token", "Authorization", "Bearer gf_at_nope", 401},
		{"unknown API key", "X-Cisco-Meraki-API-Key", strings.Repeat("ab", 20), 401},
		{"basic auth", "Authorization", "Basic dXNlcjpwYXNz", 401},
		{"none", "", "", 401},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+BasePath+path, nil)
		if tt.header != "" {
			req.Header.Set(tt.header, tt.value)
		}
		resp, err := e.srv.Client().Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
		if tt.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", tt.name, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// Revocation is immediate: the token and the key fail on the next call.
	e.tokens.revoke(tok)
	if r := e.call("GET", path, tok, nil); r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("revoked token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	keys, _ := e.h.keys.List(context.Background(), e.fullA)
	must(t, e.h.keys.Revoke(context.Background(), e.fullA, keys[0].ID))
	if r := e.call("GET", path, e.keyFullA, nil); r.status != http.StatusUnauthorized {
		t.Errorf("revoked API key: %d", r.status)
	}
	// Unknown paths and methods answer Meraki's 404.
	for _, p := range []struct{ method, path string }{{"GET", "/nope"}, {"PATCH", "/organizations"}, {"GET", "/organizations/" + e.orgA + "/networks/extra"}} {
		r := e.call(p.method, p.path, tok, nil)
		if r.status != http.StatusNotFound || len(r.errors(t)) == 0 {
			t.Errorf("%s %s: %d %s", p.method, p.path, r.status, r.body)
		}
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	write := e.token("dashboard:general:config:write")
	r := e.call("GET", "/organizations/"+e.orgA+"/networks", write, nil)
	if r.status != http.StatusForbidden || r.errors(t)[0] != "Incorrect OAuth scopes. The required scopes are: [dashboard:general:config:read]" {
		t.Errorf("write scope reading: %d %s", r.status, r.body)
	}
	// No scope in the catalog: refused to tokens, except the two every
	// integration needs; API keys may call them.
	none := e.token()
	r = e.call("GET", "/organizations/"+e.orgA+"/actionBatches", none, nil)
	if r.status != http.StatusForbidden || r.errors(t)[0] != "Incorrect OAuth scopes. The required scopes are: []" {
		t.Errorf("scopeless operation with a token: %d %s", r.status, r.body)
	}
	if r := e.call("GET", "/organizations/"+e.orgA+"/actionBatches", e.keyFullA, nil); r.status != http.StatusOK {
		t.Errorf("scopeless operation with an API key: %d %s", r.status, r.body)
	}
	var orgs []orgView
	r = e.call("GET", "/organizations", none, nil)
	r.json(t, &orgs)
	if r.status != 200 || len(orgs) != 1 || orgs[0].ID != e.orgA || orgs[0].Name != "Org A" {
		t.Errorf("getOrganizations with a token: %d %s", r.status, r.body)
	}
	var me struct{ Email string }
	e.call("GET", "/administered/identities/me", none, nil).json(t, &me)
	if me.Email != "full@a.example" {
		t.Errorf("getAdministeredIdentitiesMe = %+v", me)
	}
}

// TestOtherOrganizations checks that ids of organizations the caller
// cannot see are unknown to it.
func TestOtherOrganizations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	devB, err := e.st.Dashboard().ListDevices(context.Background(), store.DeviceFilter{OrgID: e.orgB})
	must(t, err)
	read := e.token("dashboard:general:config:read", "dashboard:general:config:write")
	paths := []string{
		"/organizations/" + e.orgB,
		"/organizations/" + e.orgB + "/networks",
		"/networks/" + e.networksB[0].ID,
		"/devices/" + devB[0].Serial,
		"/organizations/999999999",
		"/networks/N_404",
		"/devices/Q2XX-0000-0000",
		"/organizations/" + e.orgA + "/inventory/devices/" + devB[0].Serial, // org A's path, org B's device
	}
	for _, cred := range []string{read, e.keyFullA} {
		for _, p := range paths {
			if r := e.call("GET", p, cred, nil); r.status != http.StatusNotFound {
				t.Errorf("GET %s: %d %s", p, r.status, r.body)
			}
		}
		if r := e.call("PUT", "/networks/"+e.networksB[0].ID, cred, map[string]any{"name": "pwned"}); r.status != http.StatusNotFound {
			t.Errorf("PUT another org's network: %d", r.status)
		}
	}
	if r := e.call("GET", "/networks/"+e.networksB[0].ID, e.keyB, nil); r.status != http.StatusOK {
		t.Errorf("org B's own key: %d", r.status)
	}
	var orgs []orgView
	e.call("GET", "/organizations", e.keyFullA, nil).json(t, &orgs)
	if len(orgs) != 1 || orgs[0].ID != e.orgA {
		t.Errorf("getOrganizations for org A's admin: %+v", orgs)
	}
}

func TestReadOnlyAPIKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	org := "/organizations/" + e.orgA
	if r := e.call("GET", org+"/networks", e.keyReadA, nil); r.status != http.StatusOK {
		t.Errorf("read-only key reading: %d", r.status)
	}
	if r := e.call("GET", "/networks/"+e.hq.ID+"/appliance/vlans/settings", e.keyReadA, nil); r.status != http.StatusOK {
		t.Errorf("read-only key reading a generic resource: %d", r.status)
	}
	writes := []struct {
		method, path string
		body         any
	}{
		{"POST", org + "/networks", map[string]any{"name": "x", "productTypes": []string{"wireless"}}},
		{"PUT", "/networks/" + e.hq.ID, map[string]any{"name": "x"}},
		{"DELETE", "/networks/" + e.hq.ID, nil},
		{"PUT", "/devices/" + e.switchA.Serial, map[string]any{"name": "x"}},
		{"PUT", "/networks/" + e.hq.ID + "/appliance/vlans/settings", map[string]any{"vlansEnabled": true}},
	}
	for _, w := range writes {
		if r := e.call(w.method, w.path, e.keyReadA, w.body); r.status != http.StatusForbidden {
			t.Errorf("read-only key %s %s: %d %s", w.method, w.path, r.status, r.body)
		}
	}
	if n, _ := e.st.Dashboard().GetNetwork(context.Background(), e.hq.ID); n.Name != "Headquarters" {
		t.Errorf("read-only key changed the network: %+v", n)
	}
	if r := e.call("PUT", "/networks/"+e.hq.ID, e.keyFullA, map[string]any{"name": "HQ"}); r.status != http.StatusOK {
		t.Errorf("full key writing: %d %s", r.status, r.body)
	}
}

func TestGenericResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	read, write := e.token("sdwan:config:read"), e.token("sdwan:config:write")
	settings := "/networks/" + e.hq.ID + "/appliance/vlans/settings"

	// Before anything is stored: a shaped sample, the same every time.
	a, b := e.call("GET", settings, read, nil), e.call("GET", settings, read, nil)
	if a.status != 200 || string(a.body) != string(b.body) {
		t.Fatalf("sample: %d %s / %s", a.status, a.body, b.body)
	}
	var sample map[string]any
	a.json(t, &sample)
	if _, ok := sample["vlansEnabled"].(bool); !ok {
		t.Errorf("sample %v lacks a boolean vlansEnabled", sample)
	}
	r := e.call("PUT", settings, write, map[string]any{"vlansEnabled": true})
	if r.status != 200 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	var got map[string]any
	e.call("GET", settings, read, nil).json(t, &got)
	if got["vlansEnabled"] != true {
		t.Errorf("GET after PUT = %v", got)
	}
	// Unknown fields are refused, naming them.
	r = e.call("PUT", settings, write, map[string]any{"vlansEnabled": false, "bogus": 1, "alsoBogus": 2})
	if r.status != http.StatusBadRequest || !slices.Equal(r.errors(t), []string{"Unrecognized parameter 'alsoBogus'", "Unrecognized parameter 'bogus'"}) {
		t.Errorf("unknown fields: %d %s", r.status, r.body)
	}
	if r := e.call("PUT", settings, write, "[1,2]"); r.status != http.StatusBadRequest {
		t.Errorf("array body: %d", r.status)
	}

	// A collection: items created by POST, listed, read, deleted.
	// (Appliance VLANs have real semantics; static routes are generic.)
	vlans := "/networks/" + e.hq.ID + "/appliance/staticRoutes"
	var samples []map[string]any
	e.call("GET", vlans, read, nil).json(t, &samples)
	if len(samples) != 3 {
		t.Errorf("sample list has %d items", len(samples))
	}
	r = e.call("POST", vlans, write, map[string]any{"id": "10", "name": "Data", "subnet": "10.10.0.0/24", "gatewayIp": "10.10.0.1"})
	if r.status != http.StatusCreated {
		t.Fatalf("POST vlan: %d %s", r.status, r.body)
	}
	r = e.call("POST", vlans, write, map[string]any{"id": 20, "name": "Voice"})
	if r.status != http.StatusCreated {
		t.Fatalf("POST vlan: %d %s", r.status, r.body)
	}
	var list []map[string]any
	e.call("GET", vlans, read, nil).json(t, &list)
	if len(list) != 2 || list[0]["name"] != "Data" || list[1]["name"] != "Voice" {
		t.Fatalf("list after POST = %v", list)
	}
	var one map[string]any
	e.call("GET", vlans+"/10", read, nil).json(t, &one)
	if one["subnet"] != "10.10.0.0/24" {
		t.Errorf("GET item = %v", one)
	}
	if r := e.call("GET", vlans+"/99", read, nil); r.status != http.StatusNotFound {
		t.Errorf("unknown item of a collection with items: %d", r.status)
	}
	if r := e.call("PUT", vlans+"/10", write, map[string]any{"name": "Data2"}); r.status != 200 {
		t.Errorf("PUT item: %d %s", r.status, r.body)
	}
	if r := e.call("DELETE", vlans+"/10", write, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE item: %d", r.status)
	}
	if r := e.call("GET", vlans+"/10", read, nil); r.status != http.StatusNotFound {
		t.Errorf("GET deleted item: %d", r.status)
	}
	if r := e.call("DELETE", vlans+"/10", write, nil); r.status != http.StatusNotFound {
		t.Errorf("DELETE twice: %d", r.status)
	}
	e.call("GET", vlans, read, nil).json(t, &list)
	if len(list) != 1 || list[0]["name"] != "Voice" {
		t.Errorf("list after DELETE = %v", list)
	}
	// Another organization's identical path is its own resource.
	nB := e.networksB[0]
	tokB := e.tokens.issue(e.orgB, e.adminB, "client-1", "sdwan:config:read")
	var other []map[string]any
	e.call("GET", "/networks/"+nB.ID+"/appliance/staticRoutes", tokB, nil).json(t, &other)
	if len(other) != 3 {
		t.Errorf("org B sees %d static routes of its own sample, want 3", len(other))
	}
}

func TestNetworksAndDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	w := e.token("dashboard:general:config:write", "dashboard:general:config:read", "dashboard:licensing:config:write", "dashboard:general:telemetry:read")
	org := "/organizations/" + e.orgA

	bad := []map[string]any{
		{"productTypes": []string{"wireless"}},
		{"name": "x"},
		{"name": "x", "productTypes": []string{"toaster"}},
		{"name": "x", "productTypes": "wireless"},
		{"name": "x", "productTypes": []string{"wireless"}, "timeZone": "Mars/Olympus"},
		{"name": "x", "productTypes": []string{"wireless"}, "tags": []string{"has space"}},
		{"name": "Headquarters", "productTypes": []string{"wireless"}},
	}
	for _, b := range bad {
		if r := e.call("POST", org+"/networks", w, b); r.status != http.StatusBadRequest {
			t.Errorf("create %v: %d %s", b, r.status, r.body)
		}
	}
	r := e.call("POST", org+"/networks", w, map[string]any{"name": "Lab", "productTypes": []string{"switch", "appliance"}, "tags": []string{"lab", "lab"}, "timeZone": "Europe/Paris"})
	var n networkView
	r.json(t, &n)
	if r.status != 201 || !strings.HasPrefix(n.ID, "L_") || len(n.ID) != 20 || !slices.Equal(n.ProductTypes, []string{"appliance", "switch"}) ||
		!slices.Equal(n.Tags, []string{"lab"}) || n.OrganizationID != e.orgA || n.TimeZone != "Europe/Paris" {
		t.Fatalf("create network: %d %s", r.status, r.body)
	}
	var tagged []networkView
	e.call("GET", org+"/networks?tags[]=lab&tags[]=nope&tagsFilterType=withAnyTags", w, nil).json(t, &tagged)
	if len(tagged) != 1 || tagged[0].ID != n.ID {
		t.Errorf("tag filter: %+v", tagged)
	}
	e.call("GET", org+"/networks?tags[]=lab&tags[]=nope&tagsFilterType=withAllTags", w, nil).json(t, &tagged)
	if len(tagged) != 0 {
		t.Errorf("withAllTags filter: %+v", tagged)
	}
	r = e.call("PUT", "/networks/"+n.ID, w, map[string]any{"name": "Lab 2", "notes": "rack 4"})
	r.json(t, &n)
	if n.Name != "Lab 2" || n.Notes != "rack 4" {
		t.Errorf("update network: %s", r.body)
	}

	// Claim a new switch and an access point into the network: the access
	// point's type is not one of the network's.
	r = e.call("POST", "/networks/"+n.ID+"/devices/claim", w, map[string]any{"serials": []string{"Q2BX-AAAA-0001", "Q2QD-AAAA-0002", "bad"}})
	var claim struct {
		Serials []string     `json:"serials"`
		Errors  []claimError `json:"errors"`
	}
	r.json(t, &claim)
	if r.status != 200 || !slices.Equal(claim.Serials, []string{"Q2BX-AAAA-0001"}) || len(claim.Errors) != 2 {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	if r := e.call("POST", "/networks/"+n.ID+"/devices/claim?addAtomically=true", w, map[string]any{"serials": []string{"Q2BX-AAAA-0003", "bad"}}); r.status != 400 {
		t.Errorf("atomic claim with a bad serial: %d", r.status)
	}
	if _, err := e.st.Dashboard().GetDevice(context.Background(), "Q2BX-AAAA-0003"); err == nil {
		t.Error("atomic claim claimed part of the list")
	}
	var dev deviceView
	e.call("GET", "/devices/Q2BX-AAAA-0001", w, nil).json(t, &dev)
	if dev.Model != "MS120-8" || dev.ProductType != "switch" || dev.NetworkID == nil || *dev.NetworkID != n.ID || dev.Firmware != "switch-16-8" {
		t.Errorf("claimed device: %+v", dev)
	}
	r = e.call("PUT", "/devices/Q2BX-AAAA-0001", w, map[string]any{"name": "lab-sw", "tags": []string{"rack4"}, "address": "1 Rue X", "lat": 48.1, "lng": 2.2, "notes": "n"})
	r.json(t, &dev)
	if r.status != 200 || dev.Name != "lab-sw" || dev.Address != "1 Rue X" || dev.Lat != 48.1 || !slices.Equal(dev.Tags, []string{"rack4"}) {
		t.Errorf("update device: %d %s", r.status, r.body)
	}
	if r := e.call("PUT", "/devices/Q2BX-AAAA-0001", w, map[string]any{"lat": 91}); r.status != 400 {
		t.Errorf("lat 91: %d", r.status)
	}
	var nd []deviceView
	e.call("GET", "/networks/"+n.ID+"/devices", w, nil).json(t, &nd)
	if len(nd) != 1 {
		t.Errorf("network devices: %+v", nd)
	}
	var st []statusView
	e.call("GET", org+"/devices/statuses?serials[]=Q2BX-AAAA-0001", w, nil).json(t, &st)
	if len(st) != 1 || st[0].Status != "online" || st[0].NetworkID != n.ID {
		t.Errorf("status of the claimed device: %+v", st)
	}
	if r := e.call("POST", "/devices/Q2BX-AAAA-0001/liveTools/leds/blink", w, map[string]any{"duration": 30}); r.status != 201 {
		t.Errorf("blink: %d %s", r.status, r.body)
	} else {
		var job map[string]any
		r.json(t, &job)
		var again map[string]any
		e.call("GET", "/devices/Q2BX-AAAA-0001/liveTools/leds/blink/"+job["ledsBlinkId"].(string), e.token("dashboard:general:config:read"), nil).json(t, &again)
		if again["status"] != "complete" {
			t.Errorf("blink job: %v", again)
		}
	}
	if r := e.call("POST", "/networks/"+n.ID+"/devices/remove", w, map[string]any{"serial": "Q2BX-AAAA-0001"}); r.status != 204 {
		t.Errorf("remove: %d %s", r.status, r.body)
	}
	var inv []inventoryView
	e.call("GET", org+"/inventory/devices?usedState=unused&serials[]=Q2BX-AAAA-0001", w, nil).json(t, &inv)
	if len(inv) != 1 || inv[0].NetworkID != nil {
		t.Errorf("removed device in inventory: %+v", inv)
	}
	if r := e.call("DELETE", "/networks/"+n.ID, w, nil); r.status != 204 {
		t.Errorf("delete network: %d", r.status)
	}
	if r := e.call("GET", "/networks/"+n.ID, w, nil); r.status != 404 {
		t.Errorf("deleted network: %d", r.status)
	}
}

func TestFirmwareUpgrade(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	w := e.token("dashboard:general:config:write", "dashboard:general:config:read")
	path := "/networks/" + e.hq.ID + "/firmwareUpgrades"
	var fw struct {
		Products map[string]struct {
			CurrentVersion    fwVersion   `json:"currentVersion"`
			AvailableVersions []fwVersion `json:"availableVersions"`
			NextUpgrade       struct {
				Time      string    `json:"time"`
				ToVersion fwVersion `json:"toVersion"`
			} `json:"nextUpgrade"`
		} `json:"products"`
	}
	e.call("GET", path, w, nil).json(t, &fw)
	sw := fw.Products["switch"]
	if sw.CurrentVersion.ID != 4701 || !slices.ContainsFunc(sw.AvailableVersions, func(v fwVersion) bool { return v.ID == 4758 }) {
		t.Fatalf("switch firmware: %+v", sw)
	}
	if _, ok := fw.Products["cellularGateway"]; ok {
		t.Error("headquarters has no cellular gateway but firmware lists one")
	}
	at := e.clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
	body := map[string]any{"products": map[string]any{"switch": map[string]any{"nextUpgrade": map[string]any{"time": at, "toVersion": map[string]any{"id": 4758}}}}}
	r := e.call("PUT", path, w, body)
	r.json(t, &fw)
	if r.status != 200 || fw.Products["switch"].NextUpgrade.ToVersion.ID != 4758 || fw.Products["switch"].NextUpgrade.Time != at {
		t.Fatalf("schedule: %d %s", r.status, r.body)
	}
	for _, bad := range []any{
		map[string]any{"products": map[string]any{"switch": map[string]any{"nextUpgrade": map[string]any{"toVersion": map[string]any{"id": 4790}}}}},
		map[string]any{"products": map[string]any{"cellularGateway": map[string]any{"nextUpgrade": map[string]any{"toVersion": map[string]any{"id": 4640}}}}},
		map[string]any{"products": map[string]any{"switch": map[string]any{"nextUpgrade": map[string]any{"time": e.clock.Now().Add(40 * 24 * time.Hour).Format(time.RFC3339), "toVersion": map[string]any{"id": 4758}}}}},
		map[string]any{"upgradeWindow": map[string]any{"dayOfWeek": "someday"}},
	} {
		if r := e.call("PUT", path, w, bad); r.status != 400 {
			t.Errorf("PUT %v: %d %s", bad, r.status, r.body)
		}
	}
	var ups []map[string]any
	e.call("GET", "/organizations/"+e.orgA+"/firmware/upgrades", w, nil).json(t, &ups)
	if len(ups) != 1 || ups[0]["status"] != "Scheduled" {
		t.Fatalf("org upgrades: %v", ups)
	}
	// Two hours later the upgrade has happened: devices report the new firmware.
	e.clock.Advance(2*time.Hour + time.Minute)
	e.call("GET", "/organizations/"+e.orgA+"/firmware/upgrades", w, nil).json(t, &ups)
	if len(ups) != 1 || ups[0]["status"] != "Completed" {
		t.Fatalf("org upgrades after the time: %v", ups)
	}
	e.call("GET", path, w, nil).json(t, &fw)
	if fw.Products["switch"].CurrentVersion.ID != 4758 || fw.Products["switch"].NextUpgrade.Time != "" {
		t.Errorf("after upgrade: %+v", fw.Products["switch"])
	}
	d, _ := e.st.Dashboard().GetDevice(context.Background(), e.switchA.Serial)
	if d.Firmware != "switch-17-1-4" {
		t.Errorf("switch firmware after upgrade = %q", d.Firmware)
	}
}

func TestSwitchPortsAndFirewall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	sw := e.token("switch:config:read", "switch:config:write")
	ports := "/devices/" + e.switchA.Serial + "/switch/ports"
	var list []map[string]any
	e.call("GET", ports, sw, nil).json(t, &list)
	m, _ := modelByName(e.switchA.Model)
	if len(list) != m.ports {
		t.Fatalf("%s has %d ports, want %d", e.switchA.Model, len(list), m.ports)
	}
	r := e.call("PUT", ports+"/2", sw, map[string]any{"name": "printer", "vlan": 30, "tags": []string{"print"}, "poeEnabled": false})
	if r.status != 200 {
		t.Fatalf("update port: %d %s", r.status, r.body)
	}
	var p map[string]any
	e.call("GET", ports+"/2", sw, nil).json(t, &p)
	if p["name"] != "printer" || p["vlan"] != float64(30) || p["poeEnabled"] != false || p["portId"] != "2" {
		t.Errorf("port after update: %v", p)
	}
	for _, bad := range []map[string]any{{"vlan": 5000}, {"type": "hybrid"}, {"enabled": "yes"}, {"stpGuard": "maybe"}} {
		if r := e.call("PUT", ports+"/2", sw, bad); r.status != 400 {
			t.Errorf("port %v: %d", bad, r.status)
		}
	}
	if r := e.call("GET", ports+"/99", sw, nil); r.status != 404 {
		t.Errorf("port 99: %d", r.status)
	}

	fwTok := e.token("sdwan:config:read", "sdwan:config:write")
	fw := "/networks/" + e.hq.ID + "/appliance/firewall/l3FirewallRules"
	rules := []map[string]any{
		{"comment": "block telnet", "policy": "deny", "protocol": "tcp", "destPort": "23", "destCidr": "Any", "srcCidr": "10.0.0.0/8"},
		{"policy": "allow", "protocol": "icmp", "destCidr": "192.168.1.1", "srcCidr": "Any"},
	}
	r = e.call("PUT", fw, fwTok, map[string]any{"rules": rules, "syslogDefaultRule": true})
	var got struct{ Rules []l3Rule }
	r.json(t, &got)
	if r.status != 200 || len(got.Rules) != 3 || got.Rules[0].DestPort != "23" || got.Rules[0].SrcPort != "Any" ||
		got.Rules[1].DestPort != "Any" || got.Rules[2].Comment != "Default rule" || !got.Rules[2].SyslogEnabled {
		t.Fatalf("firewall: %d %s", r.status, r.body)
	}
	for _, bad := range [][]map[string]any{
		{{"policy": "maybe", "protocol": "tcp", "destCidr": "Any", "srcCidr": "Any"}},
		{{"policy": "deny", "protocol": "tcp", "destCidr": "10.0.0.0/33", "srcCidr": "Any"}},
		{{"policy": "deny", "protocol": "tcp", "destPort": "70000", "destCidr": "Any", "srcCidr": "Any"}},
		{{"policy": "deny", "protocol": "tcp", "srcCidr": "Any"}},
		{{"policy": "deny", "protocol": "tcp", "destCidr": "Any", "srcCidr": "Any", "bogus": true}},
	} {
		if r := e.call("PUT", fw, fwTok, map[string]any{"rules": bad}); r.status != 400 {
			t.Errorf("rules %v: %d %s", bad, r.status, r.body)
		}
	}
	e.call("GET", fw, fwTok, nil).json(t, &got)
	if len(got.Rules) != 3 {
		t.Errorf("rules after refused updates: %+v", got.Rules)
	}
	// A wireless-only network has no appliance firewall.
	wifi := e.createNetwork(e.keyFullA, "Wifi only", "wireless")
	if r := e.call("GET", "/networks/"+wifi+"/appliance/firewall/l3FirewallRules", fwTok, nil); r.status != 400 {
		t.Errorf("firewall of a wireless network: %d", r.status)
	}
}

func TestAdmins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	iam := e.token("dashboard:iam:config:read", "dashboard:iam:config:write")
	org := "/organizations/" + e.orgA
	var admins []adminView
	e.call("GET", org+"/admins", iam, nil).json(t, &admins)
	if len(admins) != 2 {
		t.Fatalf("admins: %+v", admins)
	}
	for _, a := range admins {
		if !a.HasAPIKey || (a.Email == "read@a.example") != (a.OrgAccess == "read-only") {
			t.Errorf("admin %+v", a)
		}
	}
	r := e.call("POST", org+"/admins", iam, map[string]any{"email": "New@A.example", "name": "New", "orgAccess": "full"})
	var created adminView
	r.json(t, &created)
	if r.status != 201 || created.Email != "new@a.example" || created.AccountStatus != "unverified" {
		t.Fatalf("create admin: %d %s", r.status, r.body)
	}
	if r := e.call("POST", org+"/admins", iam, map[string]any{"email": "new@a.example", "name": "New", "orgAccess": "full"}); r.status != 400 {
		t.Errorf("duplicate admin: %d", r.status)
	}
	if r := e.call("POST", org+"/admins", iam, map[string]any{"email": "x@a.example", "name": "X", "orgAccess": "none"}); r.status != 400 {
		t.Errorf("network-scoped admin: %d", r.status)
	}
	r = e.call("PUT", org+"/admins/"+created.ID, iam, map[string]any{"orgAccess": "read-only"})
	r.json(t, &created)
	if created.OrgAccess != "read-only" {
		t.Errorf("update admin: %s", r.body)
	}
	// Removing an admin revokes the grants they made.
	if r := e.call("DELETE", org+"/admins/"+e.readA, iam, nil); r.status != 204 {
		t.Fatalf("delete admin: %d %s", r.status, r.body)
	}
	if _, err := e.st.Accounts().GetMembership(context.Background(), e.orgA, e.readA); err == nil {
		t.Error("membership survived")
	}
	if r := e.call("GET", org+"/networks", e.keyReadA, nil); r.status != 404 {
		t.Errorf("removed admin's key still sees the org: %d", r.status)
	}
	if r := e.call("DELETE", org+"/admins/"+e.fullA, iam, nil); r.status != 400 {
		t.Errorf("removing oneself: %d", r.status)
	}
	events, err := e.st.Audit().ListAudit(context.Background(), store.AuditFilter{OrgID: e.orgA})
	must(t, err)
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action)
	}
	for _, want := range []string{"admin.created", "admin.access_changed", "admin.removed"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log %q lacks %s", actions, want)
		}
	}
}

func TestAPIRequestCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	tok := e.tokens.issue(e.orgA, e.fullA, "integration-7", "dashboard:general:config:read", "dashboard:general:telemetry:read")
	for range 3 {
		e.call("GET", "/organizations/"+e.orgA+"/networks", tok, nil)
	}
	e.call("GET", "/organizations/"+e.orgA+"/networks", e.keyFullA, nil)
	e.call("GET", "/networks/N_404", tok, nil) // counted for the token's organization
	// Counted in memory: nothing written yet.
	rows, err := e.st.Dashboard().ListAPIUsage(context.Background(), store.APIUsageFilter{OrgID: e.orgA})
	must(t, err)
	if len(rows) != 0 {
		t.Fatalf("usage written per request: %+v", rows)
	}
	var reqs []apiRequestView
	e.call("GET", "/organizations/"+e.orgA+"/apiRequests", tok, nil).json(t, &reqs)
	counts := map[string]int64{}
	for _, r := range reqs {
		counts[r.Client.Type+"/"+r.Client.ID+"/"+r.OperationID] += r.Count
	}
	if counts["oauth/integration-7/getOrganizationNetworks"] != 3 || counts["api_key/"+e.fullA+"/getOrganizationNetworks"] != 1 {
		t.Errorf("unflushed counts: %v", counts)
	}
	must(t, e.h.FlushUsage(context.Background()))
	rows, err = e.st.Dashboard().ListAPIUsage(context.Background(), store.APIUsageFilter{OrgID: e.orgA})
	must(t, err)
	total := int64(0)
	for _, r := range rows {
		total += r.Count
	}
	if total != 6 { // 4 network lists, the 404 and the apiRequests call itself
		t.Errorf("flushed %d requests in %d rows, want 6", total, len(rows))
	}
	var overview struct {
		ResponseCodeCounts map[string]int64 `json:"responseCodeCounts"`
	}
	e.call("GET", "/organizations/"+e.orgA+"/apiRequests/overview", tok, nil).json(t, &overview)
	if overview.ResponseCodeCounts["200"] != 5 || overview.ResponseCodeCounts["404"] != 1 {
		t.Errorf("overview: %+v", overview)
	}
}
