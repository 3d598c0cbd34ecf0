package automation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

func (e *env) targets(tenantID string) []store.Target {
	e.t.Helper()
	tgs, err := e.st.Automation().ListTargets(e.ctx, tenantID)
	if err != nil {
		e.t.Fatal(err)
	}
	return tgs
}

// Each of the three triggers of Cisco's documentation creates the Current
// Org target on its own, once.
func TestTargetTriggersAlone(t *testing.T) {
	t.Parallel()
	t.Run("first visit", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		org := e.newOrg("Acme")
		e.newAdmin(org.ID, "a@example.com", store.AccessReadOnly) // a viewer: no org token, still a target
		e.login("a@example.com").get("/automation")
		tgs := e.targets(e.tenant(org.ID).ID)
		if len(tgs) != 1 || tgs[0].CreatedTrigger != automation.TriggerFirstVisit {
			t.Fatalf("targets %+v", tgs)
		}
	})
	t.Run("tenant created with the Meraki flag", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		org := e.newOrg("Acme")
		e.newAdmin(org.ID, "a@example.com", store.AccessFull)
		b := e.login("a@example.com")
		// Without the flag: no target.
		status, body := b.api("POST", "/api/automation/tenants", map[string]any{"org_id": org.ID, "meraki": false})
		if status != http.StatusCreated || len(e.targets(e.tenant(org.ID).ID)) != 0 {
			t.Fatalf("create without meraki: %d %s", status, body)
		}
		// With it (the flag is set on the existing tenant): the target.
		status, body = b.api("POST", "/api/automation/tenants", map[string]any{"org_id": org.ID, "meraki": true})
		var v automation.TenantView
		_ = json.Unmarshal(body, &v)
		if status != http.StatusOK || !v.Meraki || len(v.Targets) != 1 || v.Targets[0].Name != automation.TargetName {
			t.Fatalf("create with meraki: %d %s", status, body)
		}
		if tgs := e.targets(v.ID); tgs[0].CreatedTrigger != automation.TriggerTenantCreated {
			t.Fatalf("trigger %q", tgs[0].CreatedTrigger)
		}
	})
	t.Run("scheduled sync", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		org := e.newOrg("Acme")
		// A Meraki tenant without its target (made before targets existed).
		if err := e.st.Automation().CreateTenant(e.ctx, store.Tenant{ID: "ten_old", OrgID: org.ID, Meraki: true, CreatedAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Sync(e.ctx)
		if err != nil || res.Created != 1 {
			t.Fatalf("sync: %+v %v", res, err)
		}
		if tgs := e.targets("ten_old"); len(tgs) != 1 || tgs[0].CreatedTrigger != automation.TriggerSync {
			t.Fatalf("targets %+v", tgs)
		}
		if res, _ := e.svc.Sync(e.ctx); res.Created != 0 || res.Unchanged != 1 {
			t.Fatalf("second sync: %+v", res)
		}
	})
}

// The three triggers racing, in two processes (replicas) on one store:
// one tenant, one target, one creation in the audit log.
func TestTargetTriggersRacing(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var st, st2 *sqlstore.Store
			var err error
			if backend == "postgres" {
				url := storetest.NewPostgresDatabase(t)
				st, err = sqlstore.OpenPostgres(context.Background(), url, testLogger(t))
				if err == nil {
					st2, err = sqlstore.OpenPostgres(context.Background(), url, testLogger(t))
				}
			} else {
				st = storetest.New(t)
				st2, err = sqlstore.OpenSQLite(context.Background(), dbURL(&env{st: st}, ""), testLogger(t))
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close(); _ = st2.Close() })
			e := newEnvOn(t, st, masterKey())
			org := e.newOrg("Acme")
			e.newAdmin(org.ID, "a@example.com", store.AccessFull)
			browsers := []*browser{e.login("a@example.com"), e.login("a@example.com")}
			masters, _ := automation.MasterKeys(e.key, "")
			replica, err := automation.New(e.ctx, automation.Config{Issuer: e.url, MetadataVersion: "v1", Now: e.clock.Now},
				automation.Deps{Store: st2, Audit: audit.New(st2.Audit(), e.clock.Now, e.lg), Log: e.lg, Masters: masters})
			if err != nil {
				t.Fatal(err)
			}

			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 4 {
				for _, svc := range []*automation.Service{e.svc, replica} {
					wg.Go(func() {
						<-start
						if _, err := svc.EnsureTenant(e.ctx, org.ID, true, automation.TriggerTenantCreated, ""); err != nil {
							t.Errorf("tenant create: %v", err)
						}
					})
					wg.Go(func() {
						<-start
						for range 3 {
							if _, err := svc.Sync(e.ctx); err != nil {
								t.Errorf("sync: %v", err)
							}
						}
					})
				}
				wg.Go(func() {
					<-start
					if resp, body := browsers[i%2].get("/automation?auto=0"); resp.StatusCode != http.StatusOK {
						t.Errorf("first visit: %d %s", resp.StatusCode, body)
					}
				})
			}
			close(start)
			wg.Wait()

			tenants, _ := st.Automation().ListTenants(e.ctx, "")
			if len(tenants) != 1 {
				t.Fatalf("%d tenants", len(tenants))
			}
			if tgs := e.targets(tenants[0].ID); len(tgs) != 1 {
				t.Fatalf("%d targets: %+v", len(tgs), tgs)
			}
			if n := len(e.audit("automation.target_created")); n != 1 {
				t.Errorf("%d target_created events, want 1", n)
			}
		})
	}
}

// The sync follows the metadata version and the configured endpoint, and
// records each change.
func TestSyncUpdatesTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org := e.newOrg("Acme")
	e.newAdmin(org.ID, "a@example.com", store.AccessFull)
	e.login("a@example.com").get("/automation")
	ten := e.tenant(org.ID)
	before := e.targets(ten.ID)[0]

	masters, _ := automation.MasterKeys(e.key, "")
	moved, err := automation.New(e.ctx, automation.Config{Issuer: e.url, APIURL: "https://api.meraki.com/api/v1", MetadataVersion: "next-catalog", Now: e.clock.Now},
		automation.Deps{Store: e.st, Audit: nil, Log: e.lg, Masters: masters})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24 * time.Hour)
	res, err := moved.Sync(e.ctx)
	if err != nil || res.Updated != 1 {
		t.Fatalf("sync: %+v %v", res, err)
	}
	after := e.targets(ten.ID)[0]
	if after.ID != before.ID || after.Host != "api.meraki.com" || after.Port != 443 || after.Protocol != "https" ||
		after.MetadataVersion != "next-catalog" || !after.SyncedAt.After(before.SyncedAt) {
		t.Fatalf("after sync: %+v", after)
	}
	if got := automation.TargetURL(after); got != "https://api.meraki.com/api/v1" {
		t.Errorf("TargetURL = %s", got)
	}
	// The server's own sync (its configuration) moves it back, audited.
	if res, err := e.svc.Sync(e.ctx); err != nil || res.Updated != 1 {
		t.Fatalf("sync back: %+v %v", res, err)
	}
	evs := e.audit("automation.target_updated")
	if len(evs) != 1 || evs[0].Details["metadata_version_from"] != "next-catalog" || evs[0].Details["metadata_version_to"] != before.MetadataVersion ||
		evs[0].Details["host_from"] != "api.meraki.com" {
		t.Fatalf("audit: %+v", evs)
	}
}

// A tenant an operator made without the Meraki flag stays so when someone
// opens Automation: no target, no Meraki tokens.
func TestNonMerakiTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org := e.newOrg("Acme")
	admin := e.newAdmin(org.ID, "a@example.com", store.AccessFull)
	ten, err := e.svc.EnsureTenant(e.ctx, org.ID, false, automation.TriggerTenantCreated, "")
	if err != nil {
		t.Fatal(err)
	}
	b := e.login("a@example.com")
	_, page := b.get("/automation")
	if len(b.visited) != 0 || !strings.Contains(page, "has no Meraki target") {
		t.Fatalf("visited %v\n%s", b.visited, page)
	}
	if got := e.tenant(org.ID); got.Meraki || len(e.targets(ten.ID)) != 0 {
		t.Fatalf("the visit made it a Meraki tenant: %+v", got)
	}
	if _, ok := e.token(ten.ID, store.TokenUser, admin.ID); ok {
		t.Fatal("tokens for a non-Meraki tenant")
	}
	if res, _ := e.svc.Sync(e.ctx); res.Created != 0 {
		t.Fatal("the sync gave a non-Meraki tenant a target")
	}
	status, body := b.api("POST", "/api/automation/tenants/"+ten.ID+"/test", map[string]string{"token": "user"})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "not a Meraki tenant") {
		t.Fatalf("test connection: %d %s", status, body)
	}
}
