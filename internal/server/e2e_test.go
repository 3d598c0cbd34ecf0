package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// TestIntegrationDeveloperFlow is PRODUCT.md's first flow, end to end with
// golang.org/x/oauth2 as the client: register, authorize (log in, consent),
// exchange, call the Dashboard API, refresh, revoke.
func TestIntegrationDeveloperFlow(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	ctx := context.Background()
	callback := httptest.NewServer(http.NotFoundHandler()) // the integration; never reached
	defer callback.Close()

	cl, secret, err := e.srv.Registry.Create(ctx, registry.CreateParams{Name: "Network Insights",
		RedirectURIs: []string{callback.URL + "/cb"}, Scopes: []string{"dashboard:general:config:read dashboard:general:telemetry:read"}})
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{
		ClientID: cl.ID, ClientSecret: secret, RedirectURL: callback.URL + "/cb",
		Scopes:   []string{"dashboard:general:config:read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
	}

	// The admin follows the link, logs in, comes back and approves.
	b := e.browser()
	state := "st-" + t.Name()
	authURL := conf.AuthCodeURL(state)
	resp, _ := get(t, b, authURL)
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("not sent to login first: %s", resp.Request.URL)
	}
	resp, page := e.login(b, e.email, e.passwd, resp.Request.URL.Query().Get("return_to"))
	if resp.Request.URL.Path != "/oauth/authorize" || !strings.Contains(page, "Network Insights") || !strings.Contains(page, "Acme") {
		t.Fatalf("after login: %s\n%s", resp.Request.URL, page)
	}
	loc := e.consent(b, page, "approve", e.orgID)
	q := loc.Query()
	if q.Get("state") != state || q.Get("iss") != e.url || q.Get("code") == "" {
		t.Fatalf("redirect back = %s", loc)
	}

	tok, err := conf.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Extra("organization_id") != e.orgID ||
		tok.Extra("scope") != "dashboard:general:config:read" || time.Until(tok.Expiry) < 59*time.Minute {
		t.Fatalf("token = %+v org=%v scope=%v", tok, tok.Extra("organization_id"), tok.Extra("scope"))
	}

	api := conf.Client(ctx, tok)
	networksURL := e.url + "/api/v1/organizations/" + e.orgID + "/networks"
	if resp, body := get(t, api, networksURL); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET networks = %d %s", resp.StatusCode, body)
	}
	// A scope the grant lacks: 403 naming the scope.
	if resp, body := get(t, api, e.url+"/api/v1/organizations/"+e.orgID+"/admins"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "dashboard:iam:config:read") {
		t.Fatalf("GET admins = %d %s", resp.StatusCode, body)
	}

	// Refresh: a new pair; the old refresh token no longer works, and
	// replaying it revokes the whole family (RFC 9700 §4.14).
	expired := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	fresh, err := conf.TokenSource(ctx, expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate both tokens")
	}
	if resp, _ := get(t, conf.Client(ctx, fresh), networksURL); resp.StatusCode != http.StatusOK {
		t.Fatalf("new access token refused: %d", resp.StatusCode)
	}

	// Revoke the refresh token: its access tokens stop at once.
	form := url.Values{"token": {fresh.RefreshToken}, "token_type_hint": {"refresh_token"}}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cl.ID, secret)
	rresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rresp.Body.Close()
	if rresp.StatusCode != http.StatusOK {
		t.Fatalf("revoke = %d", rresp.StatusCode)
	}
	if resp, _ := get(t, conf.Client(ctx, fresh), networksURL); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: GET networks = %d, want 401", resp.StatusCode)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after revoke: %v", err)
	}
}

// TestAdminRemovesIntegration is PRODUCT.md's second flow: the org admin
// removes an integration and every token of it stops at once.
func TestAdminRemovesIntegration(t *testing.T) {
	t.Parallel()
	e := startServer(t, storetest.New(t))
	ctx := context.Background()
	cl, secret, err := e.srv.Registry.Create(ctx, registry.CreateParams{Name: "Removable",
		RedirectURIs: []string{"http://127.0.0.1:1/cb"}, Scopes: []string{"dashboard:general:config:read"}})
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: "http://127.0.0.1:1/cb", Scopes: []string{"dashboard:general:config:read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	b := e.browser()
	e.login(b, e.email, e.passwd, "/")
	_, page := get(t, b, conf.AuthCodeURL("s"))
	code := e.consent(b, page, "approve", e.orgID).Query().Get("code")
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	networksURL := e.url + "/api/v1/organizations/" + e.orgID + "/networks"
	if resp, _ := get(t, conf.Client(ctx, tok), networksURL); resp.StatusCode != http.StatusOK {
		t.Fatalf("before removal: %d", resp.StatusCode)
	}

	_, page = get(t, b, e.url+"/organizations/"+e.orgID+"/integrations")
	if !strings.Contains(page, "Removable") || !strings.Contains(page, "dashboard:general:config:read") {
		t.Fatalf("integrations page:\n%s", page)
	}
	form := hiddenFields(page)
	resp, body := postForm(t, b, e.url+"/organizations/"+e.orgID+"/integrations/"+cl.ID+"/remove", url.Values{"csrf_token": {form.Get("csrf_token")}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("remove = %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, conf.Client(ctx, tok), networksURL); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after removal: GET networks = %d, want 401", resp.StatusCode)
	}
	// The audit log has it.
	_, audit := get(t, b, e.url+"/organizations/"+e.orgID+"/audit")
	if !strings.Contains(audit, "integration.removed") {
		t.Fatalf("audit page lacks integration.removed:\n%s", audit)
	}
}

// TestTokenFollowsGrantorAccess: a person's token is never worth more than
// the person: downgraded to read-only, the token can read but not write;
// removed from the organization, the token stops.
func TestTokenFollowsGrantorAccess(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	ctx := context.Background()
	_, tok, _ := issueToken(t, e, "dashboard:general:config:read", "dashboard:general:config:write")
	networks := e.url + "/api/v1/organizations/" + e.orgID + "/networks"
	create := func() int {
		req, _ := http.NewRequest(http.MethodPost, networks, strings.NewReader(`{"name":"Branch","productTypes":["appliance"]}`))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := create(); got != http.StatusCreated {
		t.Fatalf("create network as full admin = %d", got)
	}
	acc, _ := e.st.Accounts().GetAccountByEmail(ctx, e.email)
	setAccess := func(a store.Access) {
		if err := e.st.Accounts().PutMembership(ctx, store.Membership{OrgID: e.orgID, AccountID: acc.ID, Access: a, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Feed().Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	setAccess(store.AccessReadOnly)
	if got := create(); got != http.StatusForbidden {
		t.Fatalf("create network after downgrade = %d, want 403", got)
	}
	waitStatus(t, networks, tok.AccessToken, http.StatusOK, time.Second)
	if err := e.st.Accounts().DeleteMembership(ctx, e.orgID, acc.ID); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, networks, tok.AccessToken, http.StatusUnauthorized, time.Second)
}

// TestRotatedSecretStopsAtOnce: after a secret rotation through the
// registry, the very next token request with the old secret is refused by
// the same server (no poll interval in between).
func TestRotatedSecretStopsAtOnce(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	ctx := context.Background()
	conf, tok, clientID := issueToken(t, e, "dashboard:general:config:read")
	refresh := func(secret string) error {
		c := *conf
		c.ClientSecret = secret
		_, err := c.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		return err
	}
	// The old secret is cached by a first use.
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth/introspect", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, conf.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect with the current secret: %d", resp.StatusCode)
	}
	_, newSecret, err := e.srv.Registry.RotateSecret(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	var re *oauth2.RetrieveError
	if err := refresh(conf.ClientSecret); !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old secret right after rotation: %v", err)
	}
	if err := refresh(newSecret); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}
