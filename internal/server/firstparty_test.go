package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/store"
)

// TestFirstPartyTokenKinds: grantflow's own first-party client completes
// the flow without a consent page; token_kind=org makes an org-bound grant
// (full access only) that outlives its creator's membership, while a
// person's grant is revoked with it; third parties cannot ask for either.
func TestFirstPartyTokenKinds(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	ctx := context.Background()
	fp, fpSecret, err := e.srv.Registry.Create(ctx, registry.CreateParams{Name: "Automation", FirstParty: true,
		RedirectURIs: []string{"http://127.0.0.1:1/cb"}, Scopes: []string{"dashboard:general:config:read dashboard:general:config:write"}})
	if err != nil {
		t.Fatal(err)
	}
	third, _, err := e.srv.Registry.Create(ctx, registry.CreateParams{Name: "Third party",
		RedirectURIs: []string{"http://127.0.0.1:1/cb"}, Scopes: []string{"dashboard:general:config:read"}})
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: fp.ID, ClientSecret: fpSecret, RedirectURL: "http://127.0.0.1:1/cb",
		Scopes:   []string{"dashboard:general:config:read", "dashboard:general:config:write"},
		Endpoint: oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}

	// A read-only admin of the same organization.
	if _, err := e.srv.Identity.CreateAdmin(ctx, e.orgID, "ro@example.com", e.passwd, store.AccessReadOnly); err != nil {
		t.Fatal(err)
	}
	authorize := func(email string, opts ...oauth2.AuthCodeOption) url.Values {
		b := e.browser()
		e.login(b, email, e.passwd, "/")
		resp, _ := get(t, b, conf.AuthCodeURL("s", opts...))
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			t.Fatalf("authorize answered %d (a consent page?)", resp.StatusCode)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc.Query()
	}
	org := oauth2.SetAuthURLParam("organization_id", e.orgID)
	grantOf := func(code string) store.Grant {
		tok, err := conf.Exchange(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		_, g, err := e.st.Grants().GetAccessToken(ctx, oauth.Hash(tok.AccessToken))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}

	user := grantOf(authorize(e.email, org).Get("code"))
	orgGrant := grantOf(authorize(e.email, org, oauth2.SetAuthURLParam("token_kind", "org")).Get("code"))
	if user.OrgBound || !orgGrant.OrgBound || len(orgGrant.Scopes) != 2 {
		t.Fatalf("user grant %+v, org grant %+v", user, orgGrant)
	}
	roUser := grantOf(authorize("ro@example.com", org).Get("code"))
	if len(roUser.Scopes) != 1 || roUser.Scopes[0] != "dashboard:general:config:read" {
		t.Fatalf("read-only admin's first-party grant has scopes %v", roUser.Scopes)
	}
	if q := authorize("ro@example.com", org, oauth2.SetAuthURLParam("token_kind", "org")); q.Get("error") != "access_denied" {
		t.Fatalf("read-only admin got an org token: %v", q)
	}
	// A third party cannot ask for an org-bound grant.
	b := e.browser()
	e.login(b, e.email, e.passwd, "/")
	resp, _ := get(t, b, e.url+"/oauth/authorize?"+url.Values{"response_type": {"code"}, "client_id": {third.ID},
		"scope": {"dashboard:general:config:read"}, "organization_id": {e.orgID}, "token_kind": {"org"}, "state": {"x"}}.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("third party token_kind=org: %d %v", resp.StatusCode, loc)
	}

	// The creator loses the organization: the person's grant goes, the
	// organization's stays.
	acc, _ := e.st.Accounts().GetAccountByEmail(ctx, e.email)
	if _, err := e.st.Grants().RevokeAccountOrgGrants(ctx, acc.ID, e.orgID, "left_org", e.srv.Now()); err != nil {
		t.Fatal(err)
	}
	if g, _ := e.st.Grants().GetGrant(ctx, user.ID); !g.Revoked() {
		t.Fatal("user grant survived the loss of the organization")
	}
	if g, _ := e.st.Grants().GetGrant(ctx, orgGrant.ID); g.Revoked() {
		t.Fatal("org-bound grant was revoked with its creator")
	}
}
