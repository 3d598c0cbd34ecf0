package dashboard

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/dashboard/catalog"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// TestCatalogWalk calls every operation of Meraki's catalog three times:
// without credentials (401), with an OAuth token lacking its scope (403),
// and with the right credential (2xx): a token holding the operation's
// scope or, for operations the real service refuses to OAuth tokens, a
// full administrator's API key.
func TestCatalogWalk(t *testing.T) {
	t.Parallel()
	walkCatalog(t, newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}}))
}

// TestCatalogWalkPostgres walks the catalog on PostgreSQL (when
// TEST_DATABASE_URL is set).
func TestCatalogWalkPostgres(t *testing.T) {
	t.Parallel()
	walkCatalog(t, newEnvOn(t, storetest.Postgres(t), Config{RateLimit: RateLimitConfig{Disabled: true}}))
}

func walkCatalog(t *testing.T, e *env) {
	ctx := context.Background()

	// Victims for the destructive operations, so the rest of the walk keeps
	// its headquarters, switch and administrators.
	victimNet := e.createNetwork(e.keyFullA, "Victim", "wireless")
	victimOrg := store.Organization{ID: "777001", Name: "Empty Org", CreatedAt: store.Micro(e.clock.Now())}
	must(t, e.st.Organizations().CreateOrganization(ctx, victimOrg))
	must(t, e.st.Accounts().PutMembership(ctx, store.Membership{OrgID: victimOrg.ID, AccountID: e.fullA, Access: store.AccessFull, CreatedAt: victimOrg.CreatedAt}))
	victimAdmin := e.account("victim@a.example", e.orgA, store.AccessReadOnly)
	hqDevices, err := e.st.Dashboard().ListDevices(ctx, store.DeviceFilter{OrgID: e.orgA, NetworkIDs: []string{e.hq.ID}})
	must(t, err)
	var victimDevice string
	for _, d := range hqDevices {
		if d.Serial != e.switchA.Serial {
			victimDevice = d.Serial
		}
	}
	var clients []clientView
	e.call("GET", "/networks/"+e.hq.ID+"/clients?perPage=3", e.keyFullA, nil).json(t, &clients)
	if len(clients) == 0 {
		t.Fatal("headquarters has no clients")
	}
	var generatedKey struct {
		Key string `json:"key"`
	}

	values := map[string]string{
		"organizationId": e.orgA, "networkId": e.hq.ID, "serial": e.switchA.Serial, "portId": "3",
		"adminId": e.readA, "clientId": clients[0].ID, "vlanId": "1",
	}
	bodies := map[string]any{
		"createOrganization":             map[string]any{"name": "Walk Org"},
		"updateOrganization":             map[string]any{"name": "Org A"},
		"createOrganizationNetwork":      map[string]any{"name": "Walk Net", "productTypes": []string{"wireless"}},
		"claimNetworkDevices":            map[string]any{"serials": []string{"Q2QD-WALK-0001"}},
		"claimIntoOrganizationInventory": map[string]any{"serials": []string{"Q2QD-WALK-0002"}},
		"createNetworkApplianceVlan":     map[string]any{"id": "1234", "name": "Walk", "subnet": "10.250.34.0/24", "applianceIp": "10.250.34.1"},
		// late operations
		"releaseFromOrganizationInventory": map[string]any{"serials": []string{"Q2QD-WALK-0002"}},
		"removeNetworkDevices":             map[string]any{"serial": victimDevice},
		"createOrganizationAdmin":          map[string]any{"email": "walk@a.example", "name": "Walk", "orgAccess": "read-only"},
	}
	// late runs after everything else: deletions and revocations.
	late := func(op *catalog.Operation) bool {
		return op.Method == http.MethodDelete || op.ID == "revokeAdministeredIdentitiesMeApiKeys" ||
			op.ID == "removeNetworkDevices" || op.ID == "releaseFromOrganizationInventory"
	}
	// created maps a collection path to the id of the item the walk's POST
	// made in it: items of a collection with items are addressed by them.
	created := map[string]string{}
	pathFor := func(op *catalog.Operation) string {
		segs := strings.Split(op.Path, "/")
		for i, s := range segs {
			if !strings.HasPrefix(s, "{") {
				continue
			}
			name := strings.Trim(s, "{}")
			v, ok := values[name]
			if !ok {
				v = "1234"
				if id, ok := created[strings.Join(segs[:i], "/")]; ok {
					v = id
				}
			}
			switch {
			case op.ID == "deleteNetwork" && name == "networkId":
				v = victimNet
			case op.ID == "deleteOrganization":
				v = victimOrg.ID
			case op.ID == "deleteOrganizationAdmin" && name == "adminId":
				v = victimAdmin
			case name == "suffix":
				v = generatedKey.Key[len(generatedKey.Key)-4:]
			}
			segs[i] = v
		}
		return strings.Join(segs, "/")
	}

	cat := e.h.Catalog()
	var phases [2][]*catalog.Operation
	for _, op := range cat.Operations() {
		if late(op) {
			phases[1] = append(phases[1], op)
		} else {
			phases[0] = append(phases[0], op)
		}
	}
	routed := 0
	for _, phase := range phases {
		for _, op := range phase {
			path := pathFor(op)
			if got, _, ok := cat.Match(op.Method, path); !ok || got != op {
				t.Errorf("%s %s does not route to %s", op.Method, path, op.ID)
				continue
			}
			routed++
			body := bodies[op.ID]
			if body == nil && (op.Method == http.MethodPost || op.Method == http.MethodPut) {
				body = map[string]any{}
			}

			if r := e.call(op.Method, path, "", body); r.status != http.StatusUnauthorized {
				t.Errorf("%s without credentials: %d %s", op.ID, r.status, r.body)
			}
			if !openToAnyToken[op.ID] {
				wrong := "sm:telemetry:write"
				if len(op.Scopes) > 0 && op.Scopes[0] == wrong {
					wrong = "camera:telemetry:read"
				}
				r := e.call(op.Method, path, e.token(wrong), body)
				if r.status != http.StatusForbidden {
					t.Errorf("%s with scope %s: %d %s", op.ID, wrong, r.status, r.body)
				} else if want := "[" + strings.Join(op.Scopes, ", ") + "]"; !strings.Contains(r.errors(t)[0], want) {
					t.Errorf("%s: 403 %q does not name %s", op.ID, r.errors(t), want)
				}
			}

			cred := e.keyFullA
			if len(op.Scopes) > 0 || openToAnyToken[op.ID] {
				cred = e.token(op.Scopes...)
			}
			r := e.call(op.Method, path, cred, body)
			if r.status < 200 || r.status > 299 {
				t.Errorf("%s %s %s: %d %s", op.ID, op.Method, path, r.status, r.body)
				continue
			}
			if op.ID == "generateAdministeredIdentitiesMeApiKeys" {
				r.json(t, &generatedKey)
			}
			if op.Method == http.MethodPost {
				for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
					if _, name, ok := cat.Child(op, m); ok {
						var item map[string]any
						r.json(t, &item)
						if id, ok := item[name].(string); ok {
							created[path] = id
						}
						break
					}
				}
			}
		}
	}
	if routed != 1491 {
		t.Errorf("routed %d operations, want 1491", routed)
	}
}

// createNetwork creates a network through the API and returns its id.
func (e *env) createNetwork(cred, name string, productTypes ...string) string {
	e.t.Helper()
	r := e.call("POST", "/organizations/"+e.orgA+"/networks", cred, map[string]any{"name": name, "productTypes": productTypes})
	if r.status != http.StatusCreated {
		e.t.Fatalf("create network: %d %s", r.status, r.body)
	}
	var n networkView
	r.json(e.t, &n)
	return n.ID
}
