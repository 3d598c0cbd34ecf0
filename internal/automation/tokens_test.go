package automation_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// A read-only admin gets a read-only User token and cannot create, use or
// delete the Org-scoped token; the page says who can.
func TestReadOnlyAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org := e.newOrg("Acme")
	viewer := e.newAdmin(org.ID, "ro@example.com", store.AccessReadOnly)
	b := e.login("ro@example.com")
	_, page := b.get("/automation")
	ten := e.tenant(org.ID)
	u, ok := e.token(ten.ID, store.TokenUser, viewer.ID)
	if !ok || !slices.Equal(u.Scopes, scope.ReadOnly(scope.All())) {
		t.Fatalf("user token %+v %v: want read scopes only", u.Scopes, ok)
	}
	if g := e.grantOf(u); !slices.Equal(g.Scopes, scope.ReadOnly(scope.All())) {
		t.Fatalf("grant scopes at the server: %v", g.Scopes)
	}
	if _, ok := e.token(ten.ID, store.TokenOrg, ""); ok {
		t.Fatal("a read-only admin's visit created the org token")
	}
	if !strings.Contains(page, "A full-access administrator with the tenant_admin role creates it") || !strings.Contains(page, "viewer") {
		t.Errorf("page does not say who creates the org token:\n%s", page)
	}
	// The org-token actions are refused.
	for _, c := range []struct{ path string }{{"/automation/connect"}, {"/automation/test"}, {"/automation/tokens/org/delete"}} {
		resp, _ := b.post("/automation?auto=0", c.path, url.Values{"org": {org.ID}, "kind": {"org"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s as a viewer: %d", c.path, resp.StatusCode)
		}
	}
	// The first full-access admin's visit creates it.
	full := e.newAdmin(org.ID, "full@example.com", store.AccessFull)
	e.login("full@example.com").get("/automation")
	o, ok := e.token(ten.ID, store.TokenOrg, "")
	if !ok || o.AccountID != full.ID || !slices.Equal(o.Scopes, scope.All()) {
		t.Fatalf("org token %+v", o)
	}
}

// "Test connection" calls getOrganization through the target with the
// chosen token, over HTTP.
func TestTestConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, _, ten, b := e.issueTokens()
	for _, kind := range []string{"user", "org"} {
		_, page := b.post("/automation?auto=0", "/automation/test", url.Values{"org": {org.ID}, "kind": {kind}})
		if !strings.Contains(page, "/api/v1/organizations/"+org.ID) || !strings.Contains(page, "<strong>200</strong>") || !strings.Contains(page, `&#34;name&#34;: &#34;Acme&#34;`) {
			t.Errorf("test with the %s token:\n%s", kind, page)
		}
		status, body := b.api("POST", "/api/automation/tenants/"+ten.ID+"/test", map[string]string{"token": kind})
		var res automation.TestResult
		_ = json.Unmarshal(body, &res)
		var o struct{ ID, Name string }
		_ = json.Unmarshal(res.Body, &o)
		if status != 200 || res.Status != 200 || o.ID != org.ID || o.Name != "Acme" {
			t.Errorf("API test with the %s token: %d %s", kind, status, body)
		}
	}
	// Every use of the org token is audited, without values.
	used := e.audit("automation.token_used")
	if len(used) != 2 || used[0].Details["kind"] != "org" || used[0].Details["tenant"] != ten.ID {
		t.Fatalf("token_used events: %+v", used)
	}
	o, _ := e.token(ten.ID, store.TokenOrg, "")
	for _, ev := range used {
		if strings.Contains(jsonString(ev), e.open(o, "access")) {
			t.Fatal("a token value in the audit log")
		}
	}
}

// Per-user isolation: nobody can use, show, refresh or delete another
// person's token, whatever ids, states or ciphertexts they try.
func TestIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, alice, ten, ab := e.issueTokens()
	bob := e.newAdmin(org.ID, "bob@example.com", store.AccessFull)
	bb := e.login("bob@example.com")
	bb.get("/automation")
	aliceTok, _ := e.token(ten.ID, store.TokenUser, alice.ID)
	bobTok, _ := e.token(ten.ID, store.TokenUser, bob.ID)
	if aliceTok.ID == bobTok.ID || e.grantOf(aliceTok).AccountID != alice.ID || e.grantOf(bobTok).AccountID != bob.ID {
		t.Fatal("alice and bob do not have their own tokens and grants")
	}

	// Bob's views never show Alice's token.
	_, page := bb.get("/automation?auto=0")
	status, body := bb.api("GET", "/api/automation/tenants/"+ten.ID, nil)
	if strings.Contains(page, "alice@example.com") || status != 200 || strings.Contains(string(body), "alice@example.com") {
		t.Fatalf("bob sees alice's token: %d %s", status, body)
	}

	// Bob's test connection uses Bob's token: with his deleted, it fails
	// even though Alice's works.
	if status, _ := bb.api("DELETE", "/api/automation/tenants/"+ten.ID+"/tokens/user", nil); status != http.StatusNoContent {
		t.Fatalf("bob deletes his token: %d", status)
	}
	if _, ok := e.token(ten.ID, store.TokenUser, alice.ID); !ok {
		t.Fatal("bob's delete removed alice's token")
	}
	_, body = bb.api("POST", "/api/automation/tenants/"+ten.ID+"/test", map[string]string{"token": "user"})
	if !strings.Contains(string(body), "does not exist") {
		t.Fatalf("bob's test with no token of his own: %s", body)
	}
	bb.get("/automation") // re-issued silently
	bobTok, _ = e.token(ten.ID, store.TokenUser, bob.ID)

	// Someone of another organization gets 404 for everything.
	other := e.newOrg("Other")
	e.newAdmin(other.ID, "carol@example.com", store.AccessFull)
	cb := e.login("carol@example.com")
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/automation/tenants/" + ten.ID},
		{"POST", "/api/automation/tenants/" + ten.ID + "/test"},
		{"DELETE", "/api/automation/tenants/" + ten.ID + "/tokens/user"},
		{"DELETE", "/api/automation/tenants/" + ten.ID + "/tokens/org"},
		{"GET", "/api/automation/tenants/" + ten.ID + "/roles"},
		{"PUT", "/api/automation/tenants/" + ten.ID + "/roles/" + alice.ID},
	} {
		if status, body := cb.api(c.method, c.path, map[string]string{"token": "user", "role": "viewer"}); status != http.StatusNotFound {
			t.Errorf("carol %s %s: %d %s", c.method, c.path, status, body)
		}
	}
	if resp, _ := cb.get("/automation?org=" + org.ID); resp.StatusCode != http.StatusNotFound {
		t.Errorf("carol opens alice's organization: %d", resp.StatusCode)
	}

	// Bob's authorization response delivered to Alice's browser (or a
	// tampered state) is refused and stores nothing.
	bb.api("DELETE", "/api/automation/tenants/"+ten.ID+"/tokens/user", nil)
	resp := bb.peek("/automation?org="+org.ID, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's visit: %d", resp.StatusCode)
	}
	resp = bb.peek(resp.Header.Get("Location"), nil) // the authorization server
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	callback := resp.Header.Get("Location")
	cu, _ := url.Parse(callback)
	if cu.Path != "/automation/callback" || cu.Query().Get("code") == "" || cu.Query().Get("iss") != e.url {
		t.Fatalf("callback URL %s", callback)
	}
	tampered := strings.Replace(callback, "state="+cu.Query().Get("state"), "state=x"+cu.Query().Get("state"), 1)
	if resp, _ := bb.get(tampered); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("tampered state: %d", resp.StatusCode)
	}
	before, _ := e.token(ten.ID, store.TokenUser, alice.ID)
	if resp, _ := ab.get(callback); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bob's callback in alice's browser: %d", resp.StatusCode)
	}
	if resp, _ := bb.get(callback); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the state was usable twice: %d", resp.StatusCode)
	}
	after, _ := e.token(ten.ID, store.TokenUser, alice.ID)
	if _, ok := e.token(ten.ID, store.TokenUser, bob.ID); ok || after.ID != before.ID {
		t.Fatal("a refused callback stored a token")
	}
	bb.get("/automation")
	bobTok, _ = e.token(ten.ID, store.TokenUser, bob.ID)

	// Alice's sealed values copied into Bob's row (and into the org
	// token's) do not open there: the row is marked, never used as Alice.
	aliceTok, _ = e.token(ten.ID, store.TokenUser, alice.ID)
	aliceAccess := e.open(aliceTok, "access")
	for _, victim := range []keeper.Ref{{TenantID: ten.ID, Kind: store.TokenUser, AccountID: bob.ID}, {TenantID: ten.ID, Kind: store.TokenOrg}} {
		row, _ := e.token(ten.ID, victim.Kind, victim.AccountID)
		if _, err := e.st.Automation().UpdateToken(e.ctx, row.ID, func(x *store.AutomationToken) error {
			x.RefreshSealed, x.AccessSealed = aliceTok.RefreshSealed, aliceTok.AccessSealed
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		a, err := e.svc.Keeper.AccessToken(e.ctx, victim)
		if err == nil || a.Token == aliceAccess || !keeper.IsReconnect(err) {
			t.Fatalf("%s row with alice's ciphertext: %v (got alice's token: %v)", victim.Kind, err, a.Token == aliceAccess)
		}
	}
	if a, err := e.svc.Keeper.AccessToken(e.ctx, keeper.Ref{TenantID: ten.ID, Kind: store.TokenUser, AccountID: alice.ID}); err != nil || a.Token != aliceAccess {
		t.Fatalf("alice's own token: %v", err)
	}
	_ = bobTok
}

// Revocation is noticed (the change feed's grant revocation; a 401 from the
// API tells a revoked access token from a revoked grant), marked and shown.
// A grant an administrator removed is not re-issued by a visit; Reconnect
// re-issues it.
func TestRevocationDetected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, admin, ten, b := e.issueTokens()
	viewer := e.newAdmin(org.ID, "ro@example.com", store.AccessReadOnly)
	vb := e.login("ro@example.com")
	vb.get("/automation")

	// Only the access token revoked: the API answers 401, Automation
	// refreshes and the test connection succeeds; nothing is marked.
	u, _ := e.token(ten.ID, store.TokenUser, admin.ID)
	if err := e.st.Grants().RevokeAccessToken(e.ctx, oauth.Hash(e.open(u, "access")), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	_ = e.srv.Feed().Sync(e.ctx)
	before := e.refreshCalls()
	_, body := b.api("POST", "/api/automation/tenants/"+ten.ID+"/test", map[string]string{"token": "user"})
	var res automation.TestResult
	_ = json.Unmarshal(body, &res)
	if res.Status != 200 || e.refreshCalls() != before+1 {
		t.Fatalf("after a 401: %s (refreshes %d)", body, e.refreshCalls()-before)
	}

	// The admin removes the Automation integration from the organization:
	// every grant is revoked at the server, and the change feed tells
	// Automation at once, before anything uses the tokens.
	_, page := b.get("/organizations/" + org.ID + "/integrations")
	clientID := e.grantOf(u).ClientID
	resp, _ := b.postForm("/organizations/"+org.ID+"/integrations/"+clientID+"/remove", url.Values{"csrf_token": {csrf(t, page)}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("remove integration: %d", resp.StatusCode)
	}
	_ = e.srv.Feed().Sync(e.ctx)
	e.svc.Wait()
	for _, kind := range []store.TokenKind{store.TokenUser, store.TokenOrg} {
		row, _ := e.token(ten.ID, kind, admin.ID)
		if row.State != store.TokenReconnectNeeded || row.Reason != automation.ReasonRemoved || row.RefreshSealed != "" {
			t.Fatalf("%s token right after the removal: %s %q", kind, row.State, row.Reason)
		}
	}
	// The viewer's User token too: the removal revoked every grant.
	if n := len(e.audit("automation.token_reconnect_needed")); n != 3 {
		t.Errorf("%d token_reconnect_needed events, want 3", n)
	}
	// `tenant list` says so.
	views, err := e.svc.List(e.ctx, org.ID)
	if err != nil || len(views) != 1 {
		t.Fatalf("list: %v %v", views, err)
	}
	for _, tv := range views[0].Tokens {
		if tv.Owner != nil && *tv.Owner != admin.Email {
			continue
		}
		if tv.State != store.TokenReconnectNeeded || tv.Reason != automation.ReasonRemoved || tv.ExpiresAt != nil {
			t.Errorf("tenant list, %s token: %+v", tv.Kind, tv)
		}
	}
	// Test connection says why.
	_, body = b.api("POST", "/api/automation/tenants/"+ten.ID+"/test", map[string]string{"token": "user"})
	if !strings.Contains(string(body), "reconnecting") {
		t.Fatalf("test after removal: %s", body)
	}
	_, body = b.api("POST", "/api/automation/tenants/"+ten.ID+"/test", map[string]string{"token": "org"})
	if !strings.Contains(string(body), "reconnecting") {
		t.Fatalf("org token test after removal: %s", body)
	}
	// The owner is told, and offered Reconnect; no "valid until: never".
	_, page = b.get("/automation?auto=0")
	for _, want := range []string{"reconnect needed", "removed grantflow Automation", ">Reconnect</button>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "Re-issue") || strings.Contains(page, "<td>never</td>") {
		t.Errorf("page offers Re-issue or says never:\n%s", page)
	}
	// Neither a read-only admin's visit nor the full-access admin's undoes
	// the removal silently...
	vb.get("/automation")
	if v, _ := e.token(ten.ID, store.TokenUser, viewer.ID); v.State != store.TokenReconnectNeeded {
		t.Fatalf("a visit re-issued the viewer's removed token: %s", v.State)
	}
	b.get("/automation")
	for _, kind := range []store.TokenKind{store.TokenUser, store.TokenOrg} {
		if row, _ := e.token(ten.ID, kind, admin.ID); row.State != store.TokenReconnectNeeded {
			t.Fatalf("a visit re-issued the removed %s token", kind)
		}
	}
	// ...Reconnect does.
	for _, kind := range []string{"user", "org"} {
		b.post("/automation?auto=0", "/automation/connect", url.Values{"org": {org.ID}, "kind": {kind}})
	}
	for _, kind := range []store.TokenKind{store.TokenUser, store.TokenOrg} {
		row, _ := e.token(ten.ID, kind, admin.ID)
		if row.State != store.TokenValid {
			t.Fatalf("%s token not reconnected: %+v", kind, row)
		}
	}
}

// A token never has more power than its source: a downgraded owner's User
// token shrinks at once and is replaced by a read-only grant on the next
// visit; an owner who leaves the organization has it revoked. The
// Org-scoped token keeps its scopes.
func TestOwnerDowngradeAndRemoval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, admin, ten, b := e.issueTokens()
	other := e.newAdmin(org.ID, "other@example.com", store.AccessFull) // keeps a tenant_admin
	_ = other
	old, _ := e.token(ten.ID, store.TokenUser, admin.ID)
	oldGrant := e.grantOf(old)

	if _, err := e.srv.Identity.CreateAdmin(e.ctx, org.ID, "admin@example.com", "", store.AccessReadOnly); err != nil {
		t.Fatal(err)
	}
	_ = e.srv.Feed().Sync(e.ctx)
	e.svc.Wait()
	row, _ := e.token(ten.ID, store.TokenUser, admin.ID)
	if row.AccessSealed != "" {
		t.Fatal("the downgraded owner's write-scoped access token was kept")
	}
	a, err := e.svc.Keeper.AccessToken(e.ctx, keeper.Ref{TenantID: ten.ID, Kind: store.TokenUser, AccountID: admin.ID})
	if err != nil || !slices.Equal(a.Scopes, scope.ReadOnly(scope.All())) {
		t.Fatalf("access after downgrade: %v %v", a.Scopes, err)
	}
	// The next visit replaces the grant with a read-only one.
	b.get("/automation")
	row, _ = e.token(ten.ID, store.TokenUser, admin.ID)
	if row.ID == old.ID || !slices.Equal(row.Scopes, scope.ReadOnly(scope.All())) {
		t.Fatalf("after the visit: %+v", row.Scopes)
	}
	if g, _ := e.st.Grants().GetGrant(e.ctx, oldGrant.ID); !g.Revoked() {
		t.Fatal("the wider grant was not revoked")
	}
	if o, _ := e.token(ten.ID, store.TokenOrg, ""); !slices.Equal(o.Scopes, scope.All()) || o.State != store.TokenValid {
		t.Fatalf("org token changed: %+v", o)
	}

	// Losing the organization revokes the User token at the server.
	grant := e.grantOf(row)
	if err := e.st.Accounts().DeleteMembership(e.ctx, org.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	_ = e.srv.Feed().Sync(e.ctx)
	e.svc.Wait()
	row, _ = e.token(ten.ID, store.TokenUser, admin.ID)
	if row.State != store.TokenReconnectNeeded || !strings.Contains(row.Reason, "no longer an administrator") {
		t.Fatalf("after removal: %s %q", row.State, row.Reason)
	}
	if g, _ := e.st.Grants().GetGrant(e.ctx, grant.ID); !g.Revoked() {
		t.Fatal("the grant of a removed owner was not revoked at the server")
	}
	if o, _ := e.token(ten.ID, store.TokenOrg, ""); o.State != store.TokenValid {
		t.Fatal("the org token did not survive its creator's departure")
	}
	if _, err := e.svc.Keeper.AccessToken(e.ctx, keeper.Ref{TenantID: ten.ID, Kind: store.TokenOrg}); err != nil {
		t.Fatalf("org token after its creator left: %v", err)
	}
}

// Without the change feed (a change made while no server ran), using the
// token checks the owner's membership itself.
func TestOwnerRemovalWithoutFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, admin, ten, _ := e.issueTokens()
	if err := e.st.Accounts().DeleteMembership(e.ctx, org.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Keeper.AccessToken(e.ctx, keeper.Ref{TenantID: ten.ID, Kind: store.TokenUser, AccountID: admin.ID})
	if !keeper.IsReconnect(err) {
		t.Fatalf("use after the owner left: %v", err)
	}
}

// The Org-scoped token's grant is org-bound at the authorization server
// (token_kind=org): it belongs to the organization, not to its creator.
func TestOrgTokenGrantIsOrgBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin, ten, _ := e.issueTokens()
	u, _ := e.token(ten.ID, store.TokenUser, admin.ID)
	o, _ := e.token(ten.ID, store.TokenOrg, "")
	if e.grantOf(u).OrgBound || !e.grantOf(o).OrgBound {
		t.Fatalf("OrgBound: user grant %v, org grant %v; want false, true", e.grantOf(u).OrgBound, e.grantOf(o).OrgBound)
	}
}
