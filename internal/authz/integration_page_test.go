package authz

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// An integration's detail page, reached from Organization > Integrations,
// shows what an administrator needs to judge it; Remove only for full access.
func TestIntegrationDetailPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.newAccount("dev@vendor.example", nil)
	client, secret := e.newClient("Floor Planner", func(c *store.Client) {
		c.OwnerAccountID = owner.ID
		c.RedirectURIs = []string{redirectURI, "https://planner.example/second"}
	})
	conf := e.oauthConfig(client, secret)
	tok := e.tokens(conf)
	e.clock.Advance(30 * time.Minute)
	if _, err := e.refresh(conf, tok.RefreshToken); err != nil { // a refresh is a use of the grant
		t.Fatal(err)
	}
	unused, _ := e.newClient("Never Granted", func(*store.Client) {})

	listURL := e.srv.URL + "/organizations/" + e.org.ID + "/integrations"
	_, list := get(t, e.browser(e.admin), listURL)
	link := regexp.MustCompile(`href="(/organizations/` + e.org.ID + `/integrations/` + client.ID + `)">Floor Planner<`).FindStringSubmatch(list)
	if link == nil {
		t.Fatalf("no link to the detail page on the list:\n%s", list)
	}
	resp, page := get(t, e.browser(e.admin), e.srv.URL+link[1])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("detail page: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		"<h1>Floor Planner</h1>", client.ID, "dev@vendor.example", redirectURI, "https://planner.example/second",
		"Read wireless monitoring data", "wireless:telemetry:read", "2026-03-01 12:00 UTC", "2026-03-01 12:30 UTC",
		`href="/organizations/` + e.org.ID + `/integrations/` + client.ID + `/remove"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if strings.Contains(page, secret) || strings.Contains(page, client.SecretHash) {
		t.Error("detail page shows the client secret or its hash")
	}

	ro := e.newAccount("ro@example.com", map[string]store.Access{e.org.ID: store.AccessReadOnly})
	resp, roPage := get(t, e.browser(ro), e.srv.URL+link[1])
	if resp.StatusCode != http.StatusOK || strings.Contains(roPage, "/remove") || !strings.Contains(roPage, "read-only access") {
		t.Errorf("read-only admin (status %d) sees Remove or no explanation:\n%s", resp.StatusCode, roPage)
	}

	stranger := e.newAccount("stranger@example.com", nil)
	for _, tc := range []struct {
		who  store.Account
		path string
		want int
	}{
		{stranger, link[1], http.StatusNotFound},
		{store.Account{}, link[1], http.StatusSeeOther},
		{e.admin, "/organizations/" + e.org.ID + "/integrations/" + unused.ID, http.StatusNotFound},
		{e.admin, "/organizations/" + e.org.ID + "/integrations/nope", http.StatusNotFound},
	} {
		if resp, body := get(t, e.browser(tc.who), e.srv.URL+tc.path); resp.StatusCode != tc.want || strings.Contains(body, redirectURI) {
			t.Errorf("%q GET %s: %d, want %d (and no details)", tc.who.Email, tc.path, resp.StatusCode, tc.want)
		}
	}
}
