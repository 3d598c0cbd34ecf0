package automation_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// The first visit of a full-access admin: without any click, the tenant,
// the Current Org target, the admin's User token and the Org-scoped token
// exist, through the real authorization server over HTTP.
func TestFirstVisitIssuesBothTokensSilently(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	org := e.newOrg("Acme")
	admin := e.newAdmin(org.ID, "admin@example.com", store.AccessFull)
	b := e.login("admin@example.com")

	resp, page := b.get("/automation")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /automation: %d\n%s", resp.StatusCode, page)
	}
	var authorizes []url.Values
	for _, v := range b.visited {
		u, _ := url.Parse(v)
		if u.Path == "/oauth/authorize" {
			authorizes = append(authorizes, u.Query())
		}
		if strings.Contains(v, "consent") {
			t.Errorf("went through a consent page: %s", v)
		}
	}
	if len(authorizes) != 2 {
		t.Fatalf("visited %v; want two silent /oauth/authorize redirects", b.visited)
	}
	for i, q := range authorizes {
		if q.Get("organization_id") != org.ID || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
			t.Errorf("authorize request %d lacks the first-party or PKCE parameters: %v", i, q)
		}
	}
	if authorizes[0].Has("token_kind") || authorizes[1].Get("token_kind") != "org" {
		t.Errorf("token_kind: user request %q, org request %q", authorizes[0].Get("token_kind"), authorizes[1].Get("token_kind"))
	}

	ten := e.tenant(org.ID)
	if !ten.Meraki || ten.CreatedBy != admin.ID {
		t.Errorf("tenant %+v", ten)
	}
	tg, err := e.st.Automation().GetTargetByName(e.ctx, ten.ID, automation.TargetName)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(e.url, "http://")
	if tg.Type != "meraki.endpoint" || tg.Protocol != "http" || tg.Host+":"+strconv.Itoa(tg.Port) != host || tg.BasePath != "/api/v1" ||
		tg.CreatedTrigger != automation.TriggerFirstVisit || tg.MetadataVersion == "" {
		t.Errorf("target %+v", tg)
	}
	user, ok := e.token(ten.ID, store.TokenUser, admin.ID)
	org2, ok2 := e.token(ten.ID, store.TokenOrg, "")
	if !ok || !ok2 || user.State != store.TokenValid || org2.State != store.TokenValid || org2.AccountID != admin.ID {
		t.Fatalf("tokens: user %+v (%v), org %+v (%v)", user, ok, org2, ok2)
	}
	if !slices.Equal(user.Scopes, scope.All()) || !slices.Equal(org2.Scopes, scope.All()) {
		t.Errorf("scopes: user %v, org %v", user.Scopes, org2.Scopes)
	}
	// Two distinct grants at the authorization server.
	if g1, g2 := e.grantOf(user), e.grantOf(org2); g1.ID == g2.ID || g1.OrgID != org.ID || g2.OrgID != org.ID || g1.Revoked() || g2.Revoked() {
		t.Errorf("grants: %+v / %+v", g1, g2)
	}
	// Never a value on the page; the values are sealed in the store.
	for _, tok := range []string{e.open(user, "refresh"), e.open(user, "access"), e.open(org2, "refresh"), e.open(org2, "access")} {
		if strings.Contains(page, tok) {
			t.Fatal("a token value is on the page")
		}
		if strings.Contains(user.RefreshSealed+user.AccessSealed+org2.RefreshSealed+org2.AccessSealed, tok) {
			t.Fatal("a token value is stored in plain text")
		}
	}
	for _, want := range []string{"Meraki - Current Org", tg.MetadataVersion, "User token", "Org-scoped token", "created by admin@example.com"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := len(e.audit("automation.token_issued")); n != 2 {
		t.Errorf("%d token_issued events, want 2", n)
	}

	// The second visit changes nothing and goes nowhere.
	_, _ = b.get("/automation")
	if len(b.visited) != 0 {
		t.Errorf("second visit redirected: %v", b.visited)
	}
	if u2, _ := e.token(ten.ID, store.TokenUser, admin.ID); u2.ID != user.ID {
		t.Error("second visit replaced the user token")
	}
}

// Automation works on one organization at a time: ?org=ID, by default the
// first of the account's; a visitor who is not logged in logs in first.
func TestOrganizationChoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, z := e.newOrg("Alpha"), e.newOrg("Zulu")
	e.newAdmin(a.ID, "a@example.com", store.AccessFull)
	e.newAdmin(z.ID, "a@example.com", store.AccessReadOnly)

	anon := e.browser()
	anon.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if resp, _ := anon.get("/automation?org=" + z.ID); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?return_to=%2Fautomation%3Forg%3D"+z.ID {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	b := e.login("a@example.com")
	_, page := b.get("/automation")
	if _, err := e.st.Automation().GetTenantByOrg(e.ctx, z.ID); err == nil {
		t.Fatal("the default visit opened the second organization")
	}
	if e.tenant(a.ID).ID == "" || !strings.Contains(page, `<a href="/automation?org=`+z.ID+`">Zulu</a>`) {
		t.Fatalf("page:\n%s", page)
	}
	_, page = b.get("/automation?org=" + z.ID)
	if !strings.Contains(page, "your role: <strong>viewer</strong>") {
		t.Fatalf("Zulu page:\n%s", page)
	}
	if _, ok := e.token(e.tenant(z.ID).ID, store.TokenUser, e.mustAccount("a@example.com").ID); !ok {
		t.Fatal("no user token in the second organization")
	}
}
