package automation_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// approve submits an authorization server's consent page for org.
func approve(t *testing.T, b *browser, as, page, org string) (*reply, string) {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("csrf_token") == "" || v.Get("client_id") == "" {
		t.Fatalf("not a consent page:\n%s", page)
	}
	v.Set("organization_id", org)
	v.Set("decision", "approve")
	return b.postForm(as+"/oauth/authorize", v)
}

// Automation pointed at another authorization server and Dashboard API
// (here a second grantflow standing in for as.meraki.com and
// api.meraki.com) runs the standard flow: a Connect button, the server's
// own consent page, and the mix-up defence of RFC 9207.
func TestExternalAuthorizationServer(t *testing.T) {
	t.Parallel()
	cloud := newEnv(t) // "as.meraki.com" + "api.meraki.com"
	org := cloud.newOrg("Acme")
	cloud.newAdmin(org.ID, "admin@example.com", store.AccessFull)
	client, secret, err := cloud.srv.Registry.Create(cloud.ctx, registry.CreateParams{
		Name: "Automation elsewhere", RedirectURIs: []string{"http://localhost:1/automation/callback"}, Scopes: []string{strings.Join(scope.All(), " ")},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, storetest.New(t), masterKey(), func(c *config.Config) {
		c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1) // its own cookies
		c.MerakiAuthURL, c.MerakiAPIURL = cloud.url, cloud.url+"/api/v1"
		c.MerakiClientID, c.MerakiClientSecret = client.ID, secret
	})
	uris := []string{e.url + "/automation/callback"}
	if _, err := cloud.srv.Registry.Update(cloud.ctx, client.ID, registry.UpdateParams{RedirectURIs: &uris}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Organizations().CreateOrganization(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	e.newAdmin(org.ID, "admin@example.com", store.AccessFull)
	b := e.login("admin@example.com")
	cloud.loginWith(b, "admin@example.com")

	// No silent flow: the page offers Connect.
	_, page := b.get("/automation")
	if len(b.visited) != 0 || strings.Count(page, ">Connect<") != 2 {
		t.Fatalf("external mode: visited %v, page:\n%s", b.visited, page)
	}
	ten := e.tenant(org.ID)
	tg := e.targets(ten.ID)[0]
	if automation.TargetURL(tg) != cloud.url+"/api/v1" {
		t.Fatalf("target points at %s", automation.TargetURL(tg))
	}

	connect := func(kind string) (*reply, string) {
		resp, page := b.post("/automation?auto=0", "/automation/connect", url.Values{"org": {org.ID}, "kind": {kind}})
		if !strings.Contains(page, "Authorize Automation elsewhere") {
			t.Fatalf("connect %s did not reach the consent page: %d %v", kind, resp.StatusCode, b.visited)
		}
		return resp, page
	}
	_, consent := connect("user")
	resp, page := approve(t, b, cloud.url, consent, org.ID)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Token created.") {
		t.Fatalf("after consent: %d %v\n%s", resp.StatusCode, b.visited, page)
	}
	if u, ok := e.token(ten.ID, store.TokenUser, e.mustAccount("admin@example.com").ID); !ok || u.Issuer != cloud.url {
		t.Fatalf("user token %+v", u)
	}
	status, body := b.api("POST", "/api/automation/tenants/"+ten.ID+"/test", map[string]string{"token": "user"})
	var res automation.TestResult
	_ = json.Unmarshal(body, &res)
	if status != 200 || res.Status != 200 || !strings.HasPrefix(res.URL, cloud.url) {
		t.Fatalf("test connection against the other cloud: %d %s", status, body)
	}

	// Mix-up defence: a response claiming another issuer, or none from a
	// server that sends one, is refused (and uses up the state).
	callbackFor := func() *url.URL {
		_, consent := connect("org")
		v := url.Values{}
		for _, m := range hiddenRE.FindAllStringSubmatch(consent, -1) {
			v.Set(m[1], html.UnescapeString(m[2]))
		}
		v.Set("organization_id", org.ID)
		v.Set("decision", "approve")
		resp := b.peek(cloud.url+"/oauth/authorize", v)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d", resp.StatusCode)
		}
		u, _ := url.Parse(resp.Header.Get("Location"))
		if u.Query().Get("iss") != cloud.url {
			t.Fatalf("the server sent iss %q", u.Query().Get("iss"))
		}
		return u
	}
	for name, edit := range map[string]func(q url.Values){
		"other issuer": func(q url.Values) { q.Set("iss", "https://evil.example") },
		"no issuer":    func(q url.Values) { q.Del("iss") },
	} {
		u := callbackFor()
		q := u.Query()
		edit(q)
		bad := *u
		bad.RawQuery = q.Encode()
		if resp, _ := b.get(bad.String()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
		if resp, _ := b.get(u.String()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: the state survived a refused response", name)
		}
	}
	if _, ok := e.token(ten.ID, store.TokenOrg, ""); ok {
		t.Fatal("a refused response stored the org token")
	}
	u := callbackFor()
	if resp, page := b.get(u.String()); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Token created.") {
		t.Fatalf("the genuine response: %d", resp.StatusCode)
	}
	if o, ok := e.token(ten.ID, store.TokenOrg, ""); !ok || o.State != store.TokenValid {
		t.Fatal("org token not created")
	}
}

func (e *env) mustAccount(email string) store.Account {
	e.t.Helper()
	a, err := e.st.Accounts().GetAccountByEmail(e.ctx, email)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}
