package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestEmbeddedCatalog(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Operations()); got != 1491 {
		t.Fatalf("operations = %d, want 1491", got)
	}
	beta := 0
	for _, op := range c.Operations() {
		if op.Beta() {
			beta++
		}
		if len(op.Scopes) > 1 {
			t.Errorf("%s has %d scopes; the auth code assumes any-of semantics, check the format", op.ID, len(op.Scopes))
		}
	}
	if beta != 481 {
		t.Errorf("beta operations = %d, want 481 (FACTS.md)", beta)
	}
	sum := sha256.Sum256(indexCSV)
	if want := hex.EncodeToString(sum[:]); c.Version() != want || Version() != want {
		t.Errorf("Version() = %q / %q, want %q", c.Version(), Version(), want)
	}

	op, ok := c.Operation("getOrganizationNetworks")
	if !ok {
		t.Fatal("getOrganizationNetworks missing")
	}
	if op.Method != http.MethodGet || op.Path != "/organizations/{organizationId}/networks" {
		t.Errorf("getOrganizationNetworks = %s %s", op.Method, op.Path)
	}
	if !slices.Equal(op.PathParams, []string{"organizationId"}) {
		t.Errorf("path params = %q", op.PathParams)
	}
	for _, q := range []string{"perPage", "startingAfter", "endingBefore", "tags"} {
		if !slices.Contains(op.QueryParams, q) {
			t.Errorf("query params %q lack %q", op.QueryParams, q)
		}
	}
	if !slices.Equal(op.Scopes, []string{"dashboard:general:config:read"}) || !op.Paginated() || !op.ReturnsList() {
		t.Errorf("scopes %q paginated %v list %v", op.Scopes, op.Paginated(), op.ReturnsList())
	}
	create, _ := c.Operation("createOrganizationNetwork")
	if !create.AcceptsBodyField("productTypes") || create.AcceptsBodyField("bogus") {
		t.Errorf("createOrganizationNetwork body fields %q", create.BodyParams)
	}
	if orgs, _ := c.Operation("getOrganizations"); len(orgs.Scopes) != 0 {
		t.Errorf("getOrganizations scopes = %q, want none", orgs.Scopes)
	}
}

// TestRouterReachesEveryOperation builds a concrete path for every template
// and checks that it routes back to that operation with its parameters.
func TestRouterReachesEveryOperation(t *testing.T) {
	t.Parallel()
	c := Must()
	for _, op := range c.Operations() {
		path, values := concrete(op)
		got, params, ok := c.Match(op.Method, path)
		if !ok {
			t.Errorf("%s %s (%s): no match", op.Method, path, op.ID)
			continue
		}
		if got != op {
			t.Errorf("%s %s: matched %s, want %s", op.Method, path, got.ID, op.ID)
			continue
		}
		for i, name := range op.PathParams {
			if v := params.Get(name); v != values[i] {
				t.Errorf("%s: param %s = %q, want %q", op.ID, name, v, values[i])
			}
		}
	}
}

// concrete fills a template with values that are not also literals.
func concrete(op *Operation) (string, []string) {
	var values []string
	segs := make([]string, len(op.segments))
	for i, s := range op.segments {
		if name, ok := paramName(s); ok {
			v := "v-" + name
			values = append(values, v)
			segs[i] = v
			continue
		}
		segs[i] = s
	}
	return "/" + strings.Join(segs, "/"), values
}

func TestRouterOverlaps(t *testing.T) {
	t.Parallel()
	c := Must()
	tests := []struct {
		method, path, want string
		params             map[string]string
	}{
		{"GET", "/organizations", "getOrganizations", nil},
		{"GET", "/organizations/123", "getOrganization", map[string]string{"organizationId": "123"}},
		{"GET", "/organizations/123/networks", "getOrganizationNetworks", map[string]string{"organizationId": "123"}},
		{"GET", "/organizations/123/devices/statuses", "getOrganizationDevicesStatuses", nil},
		{"GET", "/organizations/123/devices", "getOrganizationDevices", nil},
		{"POST", "/networks/N_1/devices/claim", "claimNetworkDevices", map[string]string{"networkId": "N_1"}},
		{"GET", "/devices/Q2XX-AAAA-BBBB/switch/ports/7", "getDeviceSwitchPort", map[string]string{"serial": "Q2XX-AAAA-BBBB", "portId": "7"}},
		{"PUT", "/devices/Q2XX-AAAA-BBBB/switch/ports/1%2F2", "updateDeviceSwitchPort", map[string]string{"portId": "1/2"}},
		{"POST", "/devices/Q2XX-AAAA-BBBB/liveTools/leds/blink", "createDeviceLiveToolsLedsBlink", nil},
		{"GET", "/administered/identities/me", "getAdministeredIdentitiesMe", nil},
	}
	for _, tt := range tests {
		op, p, ok := c.Match(tt.method, tt.path)
		if !ok || op.ID != tt.want {
			id := ""
			if op != nil {
				id = op.ID
			}
			t.Errorf("%s %s = %q %v, want %s", tt.method, tt.path, id, ok, tt.want)
			continue
		}
		for k, v := range tt.params {
			if got := p.Get(k); got != v {
				t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, k, got, v)
			}
		}
	}
	for _, bad := range []struct{ method, path string }{
		{"GET", "/"},
		{"GET", ""},
		{"GET", "/nope"},
		{"PATCH", "/organizations"},
		{"GET", "/organizations/123/networks/extra/bits/that/do/not/exist"},
		{"GET", "/organizations//networks"},
		{"GET", "/devices/%zz"},
		{"GET", strings.Repeat("/a", 40)},
	} {
		if op, _, ok := c.Match(bad.method, bad.path); ok {
			t.Errorf("%s %q matched %s", bad.method, bad.path, op.ID)
		}
	}
}

func TestChild(t *testing.T) {
	t.Parallel()
	c := Must()
	op, _ := c.Operation("createOrganizationAdmin")
	if child, _, ok := c.Child(op, http.MethodGet); ok {
		t.Errorf("createOrganizationAdmin has a GET child %s", child.ID)
	}
	if child, name, ok := c.Child(op, http.MethodPut); !ok || child.ID != "updateOrganizationAdmin" || name != "adminId" {
		t.Errorf("Child(createOrganizationAdmin, PUT) = %v %q %v", child, name, ok)
	}
}

func BenchmarkMatch(b *testing.B) {
	c := Must()
	type req struct{ method, path string }
	var reqs []req
	for _, op := range c.Operations() {
		p, _ := concrete(op)
		reqs = append(reqs, req{op.Method, p})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := reqs[i%len(reqs)]
		if _, _, ok := c.Match(r.method, r.path); !ok {
			b.Fatal("no match", r)
		}
	}
}
