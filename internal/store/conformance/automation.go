package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func init() {
	register("AutomationTenants", testAutomationTenants)
	register("AutomationTargets", testAutomationTargets)
	register("ConcurrentTargetCreation", testConcurrentTargetCreation)
	register("AutomationTokens", testAutomationTokens)
	register("TokenLease", testTokenLease)
	register("AuthStates", testAuthStates)
	register("AutomationClientsAndKeys", testAutomationClientsAndKeys)
}

func testAutomationTenants(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Automation()
	seedOrgAccount(t, s, "100", "alice", store.AccessFull)
	seedOrgAccount(t, s, "200", "alice", store.AccessFull)

	must(t, a.CreateTenant(ctx, store.Tenant{ID: "ten_1", OrgID: "100", Meraki: true, CreatedBy: "alice", CreatedAt: t0}))
	if err := a.CreateTenant(ctx, store.Tenant{ID: "ten_2", OrgID: "100", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second tenant for one organization: %v", err)
	}
	if err := a.CreateTenant(ctx, store.Tenant{ID: "ten_3", OrgID: "999", CreatedAt: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("tenant of a missing organization: %v", err)
	}
	must(t, a.CreateTenant(ctx, store.Tenant{ID: "ten_4", OrgID: "200", CreatedAt: t0.Add(time.Second)}))

	got, err := a.GetTenantByOrg(ctx, "100")
	must(t, err)
	want := store.Tenant{ID: "ten_1", OrgID: "100", Meraki: true, CreatedBy: "alice", CreatedAt: t0}
	if got != want {
		t.Fatalf("GetTenantByOrg = %+v, want %+v", got, want)
	}
	if _, err := a.GetTenant(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTenant(unknown) = %v", err)
	}
	all, err := a.ListTenants(ctx, "")
	must(t, err)
	if len(all) != 2 || all[0].ID != "ten_1" || all[1].ID != "ten_4" {
		t.Fatalf("ListTenants = %+v", all)
	}
	one, err := a.ListTenants(ctx, "200")
	must(t, err)
	if len(one) != 1 || one[0].Meraki {
		t.Fatalf("ListTenants(200) = %+v", one)
	}
	must(t, a.SetTenantMeraki(ctx, "ten_4", true))
	if got, _ := a.GetTenant(ctx, "ten_4"); !got.Meraki {
		t.Fatal("SetTenantMeraki did not stick")
	}

	must(t, a.PutRole(ctx, store.TenantRole{TenantID: "ten_1", AccountID: "alice", Role: store.RoleAuthor, UpdatedBy: "x", UpdatedAt: t0}))
	must(t, a.PutRole(ctx, store.TenantRole{TenantID: "ten_1", AccountID: "alice", Role: store.RoleOperator, UpdatedBy: "y", UpdatedAt: t0.Add(time.Minute)}))
	roles, err := a.ListRoles(ctx, "ten_1")
	must(t, err)
	if len(roles) != 1 || roles[0].Role != store.RoleOperator || roles[0].UpdatedBy != "y" || !roles[0].UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("ListRoles = %+v", roles)
	}
	if err := a.PutRole(ctx, store.TenantRole{TenantID: "ten_1", AccountID: "ghost", Role: store.RoleViewer, UpdatedAt: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("role of a missing account: %v", err)
	}
}

func target(id, tenant string) store.Target {
	return store.Target{ID: id, TenantID: tenant, Name: "Meraki - Current Org", Type: "meraki.endpoint", Protocol: "https",
		Host: "api.example.com", Port: 443, BasePath: "/api/v1", MetadataVersion: "v1", CreatedTrigger: "first_visit",
		CreatedAt: t0, UpdatedAt: t0, SyncedAt: t0}
}

func testAutomationTargets(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Automation()
	seedOrgAccount(t, s, "100", "alice", store.AccessFull)
	must(t, a.CreateTenant(ctx, store.Tenant{ID: "ten_1", OrgID: "100", Meraki: true, CreatedAt: t0}))

	must(t, a.CreateTarget(ctx, target("tg_1", "ten_1")))
	if err := a.CreateTarget(ctx, target("tg_2", "ten_1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second target with the same name: %v", err)
	}
	if err := a.CreateTarget(ctx, target("tg_3", "ten_9")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("target of a missing tenant: %v", err)
	}
	got, err := a.GetTargetByName(ctx, "ten_1", "Meraki - Current Org")
	must(t, err)
	if !reflect.DeepEqual(got, target("tg_1", "ten_1")) {
		t.Fatalf("GetTargetByName = %+v", got)
	}
	up, err := a.UpdateTarget(ctx, "tg_1", func(tg *store.Target) error {
		tg.MetadataVersion, tg.Host, tg.UpdatedAt, tg.SyncedAt = "v2", "api.meraki.com", t0.Add(time.Hour), t0.Add(time.Hour)
		tg.TenantID = "ten_9" // ignored: a target never moves
		return nil
	})
	must(t, err)
	list, err := a.ListTargets(ctx, "ten_1")
	must(t, err)
	if len(list) != 1 || !reflect.DeepEqual(list[0], up) || up.MetadataVersion != "v2" || up.TenantID != "ten_1" {
		t.Fatalf("after update: %+v / %+v", list, up)
	}
	boom := errors.New("boom")
	if _, err := a.UpdateTarget(ctx, "tg_1", func(tg *store.Target) error { tg.Host = "x"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing update: %v", err)
	}
	if got, _ := a.GetTargetByName(ctx, "ten_1", "Meraki - Current Org"); got.Host != "api.meraki.com" {
		t.Fatal("a failed update changed the target")
	}
	if _, err := a.UpdateTarget(ctx, "nope", func(*store.Target) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing target: %v", err)
	}
}

// testConcurrentTargetCreation: many creators of the same target, one row.
func testConcurrentTargetCreation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Automation()
	seedOrgAccount(t, s, "100", "alice", store.AccessFull)
	must(t, a.CreateTenant(ctx, store.Tenant{ID: "ten_1", OrgID: "100", Meraki: true, CreatedAt: t0}))
	var wg sync.WaitGroup
	var won, lost atomic.Int32
	for i := range 16 {
		wg.Go(func() {
			err := a.CreateTarget(ctx, target(fmt.Sprintf("tg_%d", i), "ten_1"))
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, store.ErrConflict):
				lost.Add(1)
			default:
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	list, err := a.ListTargets(ctx, "ten_1")
	must(t, err)
	if won.Load() != 1 || lost.Load() != 15 || len(list) != 1 {
		t.Fatalf("won %d lost %d rows %d; want 1, 15, 1", won.Load(), lost.Load(), len(list))
	}
}

func autoToken(id, tenant string, kind store.TokenKind, account string) store.AutomationToken {
	return store.AutomationToken{ID: id, TenantID: tenant, OrgID: "100", Kind: kind, AccountID: account, Issuer: "http://as",
		ClientID: "gfc_x", Scopes: []string{"a:read", "a:write"}, RefreshSealed: "sealed-r-" + id, RefreshHash: "h-" + id,
		AccessSealed: "sealed-a-" + id, AccessExpiresAt: t0.Add(time.Hour), AccessScopes: []string{"a:read"}, State: store.TokenValid,
		CreatedAt: t0, RefreshedAt: t0}
}

func testAutomationTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Automation()
	seedOrgAccount(t, s, "100", "alice", store.AccessFull)
	seedOrgAccount(t, s, "100", "bob", store.AccessReadOnly)
	must(t, a.CreateTenant(ctx, store.Tenant{ID: "ten_1", OrgID: "100", Meraki: true, CreatedAt: t0}))

	for _, tok := range []store.AutomationToken{
		autoToken("tk_a", "ten_1", store.TokenUser, "alice"),
		autoToken("tk_b", "ten_1", store.TokenUser, "bob"),
		autoToken("tk_o", "ten_1", store.TokenOrg, "alice"),
	} {
		old, err := a.PutToken(ctx, tok)
		must(t, err)
		if old != nil {
			t.Fatalf("first PutToken(%s) replaced %+v", tok.ID, old)
		}
	}
	got, err := a.GetToken(ctx, "ten_1", store.TokenUser, "bob")
	must(t, err)
	if !reflect.DeepEqual(got, autoToken("tk_b", "ten_1", store.TokenUser, "bob")) {
		t.Fatalf("GetToken(user, bob) = %+v", got)
	}
	// The org token is found whoever asks: it is not keyed by a person.
	if got, err := a.GetToken(ctx, "ten_1", store.TokenOrg, "bob"); err != nil || got.ID != "tk_o" {
		t.Fatalf("GetToken(org) = %+v, %v", got, err)
	}
	if _, err := a.GetToken(ctx, "ten_1", store.TokenUser, "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetToken(user, carol) = %v", err)
	}

	// Replacing alice's user token returns the old row, leaves bob's alone.
	next := autoToken("tk_a2", "ten_1", store.TokenUser, "alice")
	old, err := a.PutToken(ctx, next)
	must(t, err)
	if old == nil || old.ID != "tk_a" {
		t.Fatalf("replace returned %+v", old)
	}
	if _, err := a.GetTokenByID(ctx, "tk_a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replaced token still there: %v", err)
	}
	list, err := a.ListTokens(ctx, store.TokenFilter{TenantID: "ten_1", Kind: store.TokenUser})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("user tokens = %d, want 2", len(list))
	}

	// UpdateToken applies the closure atomically and keeps the identity.
	up, err := a.UpdateToken(ctx, "tk_b", func(tk *store.AutomationToken) error {
		tk.AccountID, tk.TenantID, tk.Kind = "alice", "ten_x", store.TokenOrg // ignored
		tk.State, tk.Reason = store.TokenReconnectNeeded, "revoked"
		tk.InflightHash, tk.InflightAttempts, tk.InflightAt = "h-b", 2, t0.Add(time.Minute)
		tk.RefreshedAt, tk.LastUsedAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
		tk.AccessSealed, tk.AccessExpiresAt = "", time.Time{}
		return nil
	})
	must(t, err)
	if up.AccountID != "bob" || up.Kind != store.TokenUser || up.TenantID != "ten_1" {
		t.Fatalf("update moved the token: %+v", up)
	}
	reread, err := a.GetTokenByID(ctx, "tk_b")
	must(t, err)
	if !reflect.DeepEqual(reread, up) {
		t.Fatalf("reread %+v\nwant   %+v", reread, up)
	}
	boom := errors.New("boom")
	if _, err := a.UpdateToken(ctx, "tk_b", func(tk *store.AutomationToken) error { tk.State = "x"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing update: %v", err)
	}
	if got, _ := a.GetTokenByID(ctx, "tk_b"); got.State != store.TokenReconnectNeeded {
		t.Fatal("a failed update changed the row")
	}

	old2, err := a.ListTokens(ctx, store.TokenFilter{RefreshedBefore: t0.Add(time.Minute)})
	must(t, err)
	if len(old2) != 2 { // tk_a2 and tk_o; tk_b was refreshed later
		t.Fatalf("RefreshedBefore: %d tokens", len(old2))
	}
	must(t, a.DeleteToken(ctx, "tk_b"))
	if err := a.DeleteToken(ctx, "tk_b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	// Concurrent first issuance of one user token leaves one row.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := a.PutToken(ctx, autoToken(fmt.Sprintf("tk_c%d", i), "ten_1", store.TokenUser, "carol")); err != nil {
				t.Errorf("concurrent PutToken: %v", err)
			}
		})
	}
	wg.Wait()
	carol, err := a.ListTokens(ctx, store.TokenFilter{TenantID: "ten_1", Kind: store.TokenUser})
	must(t, err)
	n := 0
	for _, tk := range carol {
		if tk.AccountID == "carol" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("carol has %d user tokens, want 1", n)
	}
}

// testTokenLease: the lease is exclusive until released or expired.
func testTokenLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Automation()
	seedOrgAccount(t, s, "100", "alice", store.AccessFull)
	must(t, a.CreateTenant(ctx, store.Tenant{ID: "ten_1", OrgID: "100", CreatedAt: t0}))
	_, err := a.PutToken(ctx, autoToken("tk", "ten_1", store.TokenOrg, "alice"))
	must(t, err)

	var wg sync.WaitGroup
	var winners atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			ok, err := a.AcquireLease(ctx, "tk", fmt.Sprintf("h%d", i), t0, t0.Add(time.Minute))
			if err != nil {
				t.Errorf("acquire: %v", err)
			}
			if ok {
				winners.Add(1)
			}
		})
	}
	wg.Wait()
	if winners.Load() != 1 {
		t.Fatalf("%d holders of one lease", winners.Load())
	}
	tok, err := a.GetTokenByID(ctx, "tk")
	must(t, err)
	holder := tok.LeaseHolder
	if ok, _ := a.AcquireLease(ctx, "tk", holder, t0, t0.Add(2*time.Minute)); !ok {
		t.Fatal("the holder cannot extend its lease")
	}
	if ok, _ := a.AcquireLease(ctx, "tk", "other", t0.Add(time.Minute), t0.Add(3*time.Minute)); ok {
		t.Fatal("lease taken before it expired")
	}
	must(t, a.ReleaseLease(ctx, "tk", "other")) // not the holder: no effect
	if ok, _ := a.AcquireLease(ctx, "tk", "other", t0.Add(time.Minute), t0.Add(3*time.Minute)); ok {
		t.Fatal("a stranger released the lease")
	}
	// Expired: anyone may take it (its holder died).
	if ok, _ := a.AcquireLease(ctx, "tk", "other", t0.Add(3*time.Minute), t0.Add(4*time.Minute)); !ok {
		t.Fatal("expired lease not taken over")
	}
	must(t, a.ReleaseLease(ctx, "tk", "other"))
	if ok, _ := a.AcquireLease(ctx, "tk", "third", t0, t0.Add(time.Minute)); !ok {
		t.Fatal("released lease not free")
	}
	if ok, err := a.AcquireLease(ctx, "missing", "x", t0, t0.Add(time.Minute)); ok || err != nil {
		t.Fatalf("lease on a missing token: %v %v", ok, err)
	}
}

func testAuthStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Automation()
	st := store.AuthState{Hash: "h1", AccountID: "alice", TenantID: "ten_1", OrgID: "100", Kind: store.TokenUser, Issuer: "http://as",
		VerifierSealed: "v", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	must(t, a.CreateAuthState(ctx, st))
	if err := a.CreateAuthState(ctx, st); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate state: %v", err)
	}
	must(t, a.ResealAuthState(ctx, "h1", "v2"))
	st.VerifierSealed = "v2"
	list, err := a.ListAuthStates(ctx)
	must(t, err)
	if len(list) != 1 || list[0] != st {
		t.Fatalf("ListAuthStates = %+v", list)
	}

	// Single use, even when two callbacks race.
	var wg sync.WaitGroup
	var got atomic.Int32
	for range 8 {
		wg.Go(func() {
			c, err := a.ConsumeAuthState(ctx, "h1", t0.Add(time.Minute))
			if err == nil && c == st {
				got.Add(1)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("consume: %v", err)
			}
		})
	}
	wg.Wait()
	if got.Load() != 1 {
		t.Fatalf("state consumed %d times", got.Load())
	}

	st.Hash = "h2"
	must(t, a.CreateAuthState(ctx, st))
	if _, err := a.ConsumeAuthState(ctx, "h2", t0.Add(10*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired state consumed: %v", err)
	}
	st.Hash = "h3"
	must(t, a.CreateAuthState(ctx, st))
	n, err := a.DeleteExpiredAuthStates(ctx, t0.Add(11*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d expired states, want 1", n)
	}
}

func testAutomationClientsAndKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Automation()
	c := store.AutomationClient{Name: "automation", ClientID: "gfc_1", SecretSealed: "s", RedirectURI: "http://a/cb", CreatedAt: t0, UpdatedAt: t0}
	must(t, a.CreateAutomationClient(ctx, c))
	if err := a.CreateAutomationClient(ctx, c); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second registration: %v", err)
	}
	up, err := a.UpdateAutomationClient(ctx, "automation", func(c *store.AutomationClient) error {
		c.RedirectURI, c.UpdatedAt = "http://b/cb", t0.Add(time.Hour)
		return nil
	})
	must(t, err)
	got, err := a.GetAutomationClient(ctx, "automation")
	must(t, err)
	if got != up || got.RedirectURI != "http://b/cb" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after update: %+v", got)
	}
	must(t, a.DeleteAutomationClient(ctx, "automation"))
	if _, err := a.GetAutomationClient(ctx, "automation"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted registration: %v", err)
	}

	k1 := store.DataKey{ID: "k1", MasterID: "m1", Wrapped: "w1", CreatedAt: t0}
	k2 := store.DataKey{ID: "k2", MasterID: "m1", Wrapped: "w2", CreatedAt: t0.Add(time.Second)}
	must(t, a.CreateDataKey(ctx, k2))
	must(t, a.CreateDataKey(ctx, k1))
	if err := a.CreateDataKey(ctx, k1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate key id: %v", err)
	}
	keys, err := a.ListDataKeys(ctx)
	must(t, err)
	if len(keys) != 2 || keys[0] != k1 || keys[1] != k2 {
		t.Fatalf("ListDataKeys = %+v (want oldest first)", keys)
	}
	must(t, a.DeleteDataKey(ctx, "k1"))
	if keys, _ := a.ListDataKeys(ctx); len(keys) != 1 {
		t.Fatalf("after delete: %+v", keys)
	}
}
