package automation_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/store"
)

const day = 24 * time.Hour

// The keep-alive refreshes tokens before the 90-day inactivity limit, so a
// schedule keeps its token for years with nobody logging in; without it
// the authorization server lets the token die and Automation says why.
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, _, ten, _ := e.issueTokens()
	orgRef := keeper.Ref{TenantID: ten.ID, Kind: store.TokenOrg}

	if n, err := e.svc.KeepAlive(e.ctx); err != nil || n != 0 {
		t.Fatalf("keep-alive of fresh tokens: %d %v", n, err)
	}
	for i := 1; i <= 12; i++ { // a year, a month at a time
		e.clock.Advance(31 * day)
		n, err := e.svc.KeepAlive(e.ctx)
		if err != nil || n != 2 {
			t.Fatalf("month %d: refreshed %d, %v", i, n, err)
		}
	}
	if _, err := e.svc.Keeper.AccessToken(e.ctx, orgRef); err != nil {
		t.Fatalf("org token after a year of keep-alive: %v", err)
	}
	o, _ := e.token(ten.ID, store.TokenOrg, "")
	if g := e.grantOf(o); g.Revoked() {
		t.Fatalf("grant revoked: %s", g.RevokeReason)
	}

	// Without it: 91 idle days and the token is dead, with the reason.
	e.clock.Advance(91 * day)
	_, err := e.svc.Keeper.AccessToken(e.ctx, orgRef)
	if !keeper.IsReconnect(err) {
		t.Fatalf("after 91 idle days: %v", err)
	}
	o, _ = e.token(ten.ID, store.TokenOrg, "")
	if o.State != store.TokenReconnectNeeded || !strings.Contains(o.Reason, "90 days") {
		t.Fatalf("row: %s %q", o.State, o.Reason)
	}
	// The keep-alive marks the other dead token instead of failing.
	if n, err := e.svc.KeepAlive(e.ctx); err != nil || n != 0 {
		t.Fatalf("keep-alive after the limit: %d %v", n, err)
	}
}

// keys rotate: a new data key, every sealed value re-sealed with it, the
// old key gone, and every token still works, here and in another process.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, admin, ten, b := e.issueTokens()
	// A pending authorization request (its PKCE verifier is sealed too).
	if status, _ := b.api("DELETE", "/api/automation/tenants/"+ten.ID+"/tokens/user", nil); status != http.StatusNoContent {
		t.Fatalf("delete user token: %d", status)
	}
	resp := b.peek("/automation?org="+org.ID, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start a flow: %d", resp.StatusCode)
	}
	pendingAuthorize := resp.Header.Get("Location")

	keys, _ := e.st.Automation().ListDataKeys(e.ctx)
	if len(keys) != 1 {
		t.Fatalf("%d data keys before rotation", len(keys))
	}
	oldKey := keys[0].ID
	res, err := e.svc.RotateKeys(e.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewKey == oldKey || res.Resealed < 3 || len(res.DeletedKeys) != 1 || res.DeletedKeys[0] != oldKey {
		t.Fatalf("rotation: %+v", res)
	}
	keys, _ = e.st.Automation().ListDataKeys(e.ctx)
	if len(keys) != 1 || keys[0].ID != res.NewKey {
		t.Fatalf("keys after rotation: %+v", keys)
	}
	toks, _ := e.st.Automation().ListTokens(e.ctx, store.TokenFilter{})
	for _, tok := range toks {
		for _, v := range []string{tok.RefreshSealed, tok.AccessSealed} {
			if vault.KeyID(v) != res.NewKey {
				t.Fatalf("a value still under key %s", vault.KeyID(v))
			}
		}
	}
	c, _ := e.st.Automation().GetAutomationClient(e.ctx, "automation")
	states, _ := e.st.Automation().ListAuthStates(e.ctx)
	if vault.KeyID(c.SecretSealed) != res.NewKey || len(states) != 1 || vault.KeyID(states[0].VerifierSealed) != res.NewKey {
		t.Fatal("the client secret or a state was not re-sealed")
	}

	// Everything still works: the pending flow completes, tokens refresh.
	if resp, _ := b.get(pendingAuthorize); resp.StatusCode != http.StatusOK {
		t.Fatalf("pending flow after rotation: %d", resp.StatusCode)
	}
	if u, ok := e.token(ten.ID, store.TokenUser, admin.ID); !ok || u.State != store.TokenValid {
		t.Fatal("the pending flow did not complete after rotation")
	}
	e.clock.Advance(90 * time.Minute)
	for _, ref := range []keeper.Ref{{TenantID: ten.ID, Kind: store.TokenOrg}, {TenantID: ten.ID, Kind: store.TokenUser, AccountID: admin.ID}} {
		if _, err := e.svc.Keeper.AccessToken(e.ctx, ref); err != nil {
			t.Fatalf("%s token after rotation: %v", ref.Kind, err)
		}
	}
	// Another process with the same master key reads the new data key.
	masters, _ := automation.MasterKeys(e.key, "")
	other, err := automation.New(e.ctx, automation.Config{Issuer: e.url, Now: e.clock.Now}, automation.Deps{Store: e.st, Log: e.lg, Masters: masters})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Keeper.AccessToken(e.ctx, keeper.Ref{TenantID: ten.ID, Kind: store.TokenOrg}); err != nil {
		t.Fatalf("another process after rotation: %v", err)
	}
	if n := len(e.audit("automation.keys_rotated")); n != 1 {
		t.Errorf("%d keys_rotated events", n)
	}
}

// Deleting a token warns first, revokes it at the server, and only the
// owner (User token) or a tenant_admin (Org-scoped token) can.
func TestDeleteTokenPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, admin, ten, b := e.issueTokens()
	for _, c := range []struct {
		kind    store.TokenKind
		warning string
	}{
		{store.TokenUser, "on-demand workflows you run stop working"},
		{store.TokenOrg, "every scheduled workflow of this organization stops running"},
	} {
		_, page := b.get("/automation/tokens/" + string(c.kind) + "/delete?org=" + org.ID)
		if !strings.Contains(page, c.warning) {
			t.Fatalf("%s delete page has no warning:\n%s", c.kind, page)
		}
		tok, _ := e.token(ten.ID, c.kind, admin.ID)
		grant := e.grantOf(tok)
		resp, page := b.postForm("/automation/tokens/"+string(c.kind)+"/delete", url.Values{"org": {org.ID}, "csrf_token": {csrf(t, page)}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "was deleted") {
			t.Fatalf("delete %s: %d\n%s", c.kind, resp.StatusCode, page)
		}
		if _, ok := e.token(ten.ID, c.kind, admin.ID); ok {
			t.Fatalf("%s token still there", c.kind)
		}
		if g, _ := e.st.Grants().GetGrant(e.ctx, grant.ID); !g.Revoked() {
			t.Fatalf("%s token not revoked at the server", c.kind)
		}
	}
	if n := len(e.audit("automation.token_deleted")); n != 2 {
		t.Errorf("%d token_deleted events", n)
	}
	// Without the CSRF token nothing happens.
	b.get("/automation")
	resp, _ := b.postForm("/automation/tokens/user/delete", url.Values{"org": {org.ID}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("delete without CSRF: %d", resp.StatusCode)
	}
	if _, ok := e.token(ten.ID, store.TokenUser, admin.ID); !ok {
		t.Fatal("deleted without CSRF")
	}
}

// Roles: defaults from organization access, tenant admins manage the
// others, tenant_admin needs full access, the last one stays.
func TestRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, admin, ten, b := e.issueTokens()
	ro := e.newAdmin(org.ID, "ro@example.com", store.AccessReadOnly)
	full := e.newAdmin(org.ID, "full@example.com", store.AccessFull)
	rb := e.login("ro@example.com")

	_, body := b.api("GET", "/api/automation/tenants/"+ten.ID+"/roles", nil)
	for _, want := range []string{`"email":"admin@example.com","access":"full","role":"tenant_admin","default":true`, `"email":"ro@example.com","access":"read-only","role":"viewer","default":true`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("roles lack %s: %s", want, body)
		}
	}
	set := func(br *browser, id, role string) (int, string) {
		s, body := br.api("PUT", "/api/automation/tenants/"+ten.ID+"/roles/"+id, map[string]string{"role": role})
		return s, string(body)
	}
	if s, body := set(rb, full.ID, "viewer"); s != http.StatusForbidden {
		t.Errorf("a viewer sets a role: %d %s", s, body)
	}
	if s, body := set(b, ro.ID, "tenant_admin"); s != http.StatusBadRequest || !strings.Contains(body, "full organization access") {
		t.Errorf("read-only made tenant_admin: %d %s", s, body)
	}
	if s, body := set(b, ro.ID, "operator"); s != http.StatusNoContent {
		t.Errorf("make ro an operator: %d %s", s, body)
	}
	if s, _ := set(b, full.ID, "author"); s != http.StatusNoContent {
		t.Error("make full an author")
	}
	if s, body := set(b, admin.ID, "viewer"); s != http.StatusBadRequest || !strings.Contains(body, "at least one tenant_admin") {
		t.Errorf("demoting the last tenant_admin: %d %s", s, body)
	}
	if s, _ := set(b, "nobody", "viewer"); s != http.StatusBadRequest {
		t.Errorf("role for a non-member: %d", s)
	}
	// The page form does the same.
	_, page := b.get("/automation/roles?org=" + org.ID)
	if !strings.Contains(page, "ro@example.com") || !strings.Contains(page, `<option value="operator" selected>`) {
		t.Errorf("roles page:\n%s", page)
	}
	resp, page := b.postForm("/automation/roles", url.Values{"org": {org.ID}, "account_id": {full.ID}, "role": {"tenant_admin"}, "csrf_token": {csrf(t, page)}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Role saved") {
		t.Fatalf("roles form: %d %s", resp.StatusCode, page)
	}
	if n := len(e.audit("automation.role_changed")); n != 3 {
		t.Errorf("%d role_changed events", n)
	}
}

// `tenant list`'s shape (PRODUCT.md) with both tokens and every user
// token's state, never a value.
func TestTenantListShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org, _, ten, _ := e.issueTokens()
	views, err := e.svc.List(e.ctx, org.ID)
	if err != nil || len(views) != 1 {
		t.Fatalf("List: %v %v", views, err)
	}
	got := jsonString(views)
	tg := e.targets(ten.ID)[0]
	want := `[{"id":"` + ten.ID + `","org_id":"` + org.ID + `","meraki":true,"targets":[{"id":"` + tg.ID + `","name":"Meraki - Current Org","type":"meraki.endpoint","host":"127.0.0.1","metadata_version":"` + tg.MetadataVersion + `","synced_at":"2026-03-01T12:00:00Z"}],` +
		`"tokens":[{"kind":"org","owner":null,"state":"valid","expires_at":"2026-03-01T13:00:00Z","refreshed_at":"2026-03-01T12:00:00Z","reason":""},` +
		`{"kind":"user","owner":"admin@example.com","state":"valid","expires_at":"2026-03-01T13:00:00Z","refreshed_at":"2026-03-01T12:00:00Z","reason":""}]}]`
	if got != want {
		t.Fatalf("tenant list\n got %s\nwant %s", got, want)
	}
}
