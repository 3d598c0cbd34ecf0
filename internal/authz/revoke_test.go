package authz

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

func TestRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, otherSecret := e.newClient("Other", func(c *store.Client) {})

	t.Run("access token: that token only", func(t *testing.T) {
		tok := e.tokens(e.conf)
		tok2, err := e.refresh(e.conf, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if !e.active(tok.AccessToken) || e.api(tok.AccessToken) != 200 { // cached by the validator
			t.Fatal("setup")
		}
		resp, _ := e.call("/oauth/revoke", e.client.ID, e.secret, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if e.active(tok.AccessToken) || e.api(tok.AccessToken) != http.StatusUnauthorized {
			t.Fatal("revoked access token still works")
		}
		if !e.active(tok2.AccessToken) || !e.active(tok2.RefreshToken) {
			t.Fatal("revoking one access token revoked more")
		}
	})
	t.Run("another client's token is refused", func(t *testing.T) {
		tok := e.tokens(e.conf)
		for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
			resp, m := e.call("/oauth/revoke", other.ID, otherSecret, url.Values{"token": {token}})
			if resp.StatusCode != http.StatusBadRequest || m["error"] != "unauthorized_client" {
				t.Fatalf("status %d %v", resp.StatusCode, m)
			}
		}
		if !e.active(tok.AccessToken) || !e.active(tok.RefreshToken) {
			t.Fatal("a refused revocation revoked something")
		}
	})
	t.Run("unknown token is 200", func(t *testing.T) {
		for _, token := range []string{"gfrt_" + strings.Repeat("A", 43), "gfat_" + strings.Repeat("A", 43), "whatever"} {
			resp, _ := e.call("/oauth/revoke", e.client.ID, e.secret, url.Values{"token": {token}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", token, resp.StatusCode)
			}
		}
	})
	t.Run("client authentication required", func(t *testing.T) {
		tok := e.tokens(e.conf)
		resp, m := e.call("/oauth/revoke", e.client.ID, "wrong", url.Values{"token": {tok.RefreshToken}})
		if resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_client" || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("status %d %v", resp.StatusCode, m)
		}
		if !e.active(tok.RefreshToken) {
			t.Fatal("unauthenticated revocation revoked")
		}
	})
	t.Run("missing token", func(t *testing.T) {
		resp, m := e.call("/oauth/revoke", e.client.ID, e.secret, url.Values{})
		if resp.StatusCode != http.StatusBadRequest || m["error"] != "invalid_request" {
			t.Fatalf("status %d %v", resp.StatusCode, m)
		}
	})
}

func TestIntrospectionAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, otherSecret := e.newClient("Other", func(c *store.Client) {})
	rs, rsSecret := e.newClient("Resource server", func(c *store.Client) { c.ResourceServer = true })
	tok := e.tokens(e.conf)

	for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
		if m := e.introspect(token, other, otherSecret); len(m) != 1 || m["active"] != false {
			t.Fatalf("another client introspecting: %v", m)
		}
		if m := e.introspect(token, rs, rsSecret); m["active"] != true || m["client_id"] != e.client.ID {
			t.Fatalf("resource server introspecting: %v", m)
		}
	}
	for _, token := range []string{"", "garbage", "gfat_" + strings.Repeat("A", 43), "gfrt_" + strings.Repeat("A", 43)} {
		if token == "" {
			resp, m := e.call("/oauth/introspect", e.client.ID, e.secret, url.Values{})
			if resp.StatusCode != http.StatusBadRequest || m["error"] != "invalid_request" {
				t.Fatalf("missing token: %d %v", resp.StatusCode, m)
			}
			continue
		}
		if m := e.introspect(token); m["active"] != false {
			t.Fatalf("%q introspects %v", token, m)
		}
	}
	resp, m := e.call("/oauth/introspect", "", "", url.Values{"token": {tok.AccessToken}})
	if resp.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_client" {
		t.Fatalf("anonymous introspection: %d %v", resp.StatusCode, m)
	}
	// Revoked tokens read inactive, for the resource server too.
	if resp, _ := e.call("/oauth/revoke", e.client.ID, e.secret, url.Values{"token": {tok.RefreshToken}}); resp.StatusCode != http.StatusOK {
		t.Fatal("revoke")
	}
	for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
		if m := e.introspect(token, rs, rsSecret); m["active"] != false {
			t.Fatalf("revoked token introspects %v", m)
		}
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := get(t, http.DefaultClient, e.srv.URL+"/.well-known/oauth-authorization-server")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	iss := e.srv.URL
	want := map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/oauth/authorize", "token_endpoint": iss + "/oauth/token",
		"revocation_endpoint": iss + "/oauth/revoke", "introspection_endpoint": iss + "/oauth/introspect",
		"authorization_response_iss_parameter_supported": true,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	list := func(k string) []string {
		var out []string
		for _, x := range m[k].([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	auth := []string{"client_secret_basic", "client_secret_post"}
	for k, v := range map[string][]string{
		"response_types_supported":                      {"code"},
		"grant_types_supported":                         {"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported":         auth,
		"revocation_endpoint_auth_methods_supported":    auth,
		"introspection_endpoint_auth_methods_supported": auth,
		"code_challenge_methods_supported":              {"S256"},
		"scopes_supported":                              scope.All(),
	} {
		if got := list(k); !slices.Equal(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	// Every advertised endpoint is served.
	for _, k := range []string{"token_endpoint", "revocation_endpoint", "introspection_endpoint"} {
		resp, _ := e.call(strings.TrimPrefix(m[k].(string), iss), "", "", url.Values{})
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s not served: %d", k, resp.StatusCode)
		}
	}
}

var (
	removeLinkRE = regexp.MustCompile(`href="(/organizations/[^"]+/remove)"`)
	removeFormRE = regexp.MustCompile(`action="(/organizations/[^"]+/remove)"`)
)

// confirmRemove follows the Remove link of an Integrations page as acct and
// returns the confirmation page's form: Remove asks first.
func (e *env) confirmRemove(acct store.Account, listPage string) (string, url.Values, string) {
	e.t.Helper()
	link := removeLinkRE.FindStringSubmatch(listPage)
	if link == nil || removeFormRE.MatchString(listPage) {
		e.t.Fatalf("want a Remove link and no one-click Remove form:\n%s", listPage)
	}
	resp, page := get(e.t, e.browser(acct), e.srv.URL+link[1])
	m := removeFormRE.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		e.t.Fatalf("confirmation page: %d\n%s", resp.StatusCode, page)
	}
	return e.srv.URL + m[1], formFields(page), page
}

// Removing an integration on the Integrations page stops its tokens for
// that organization at once, and only for that organization.
func TestIntegrationsPageRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	beta := e.newOrg("200", "Beta")
	if err := e.st.Accounts().PutMembership(e.ctx, store.Membership{OrgID: beta.ID, AccountID: e.admin.ID, Access: store.AccessFull, CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	tok := e.tokens(e.conf)
	page := e.consentPage(e.admin, e.conf.AuthCodeURL("s"))
	betaCode := e.decide(e.admin, page, "approve", beta.ID).Query().Get("code")
	betaTok, err := e.conf.Exchange(e.ctx, betaCode)
	if err != nil {
		t.Fatal(err)
	}
	if e.api(tok.AccessToken) != 200 {
		t.Fatal("setup")
	}
	pageURL := e.srv.URL + "/organizations/" + e.org.ID + "/integrations"

	ro := e.newAccount("ro@example.com", map[string]store.Access{e.org.ID: store.AccessReadOnly})
	stranger := e.newAccount("stranger@example.com", nil)
	if resp, _ := get(t, e.browser(stranger), pageURL); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("non-admin sees the page: %d", resp.StatusCode)
	}
	if resp, _ := get(t, e.browser(store.Account{}), pageURL); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?") {
		t.Fatalf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, roPage := get(t, e.browser(ro), pageURL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(roPage, "Network Insights") || removeLinkRE.MatchString(roPage) || removeFormRE.MatchString(roPage) {
		t.Fatalf("read-only admin's page (status %d):\n%s", resp.StatusCode, roPage)
	}

	resp, body := get(t, e.browser(e.admin), pageURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"Network Insights", "Read wireless monitoring data", "2026-03-01 "} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	action, form, confirm := e.confirmRemove(e.admin, body)
	if !strings.Contains(confirm, "Remove Network Insights?") || !strings.Contains(confirm, "Cancel") {
		t.Errorf("confirmation page:\n%s", confirm)
	}
	if e.api(tok.AccessToken) != 200 {
		t.Fatal("opening the confirmation removed the integration")
	}
	if resp, _ := get(t, e.browser(ro), action); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("read-only admin's confirmation page: %d", resp.StatusCode)
	}

	// Read-only admins and forms without the CSRF token remove nothing.
	if resp, _ := postForm(t, e.browser(ro), action, formFields(roPage)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("read-only remove: %d", resp.StatusCode)
	}
	if resp, _ := postForm(t, e.browser(e.admin), action, url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("remove without CSRF: %d", resp.StatusCode)
	}
	if e.api(tok.AccessToken) != 200 {
		t.Fatal("a refused removal revoked the token")
	}

	resp, _ = postForm(t, e.browser(e.admin), action, form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if e.api(tok.AccessToken) != http.StatusUnauthorized || e.active(tok.AccessToken) {
		t.Fatal("access token still works after Remove")
	}
	if _, err := e.refresh(e.conf, tok.RefreshToken); oauthError(t, err) != "invalid_grant" {
		t.Fatalf("refresh after Remove: %v", err)
	}
	if e.api(betaTok.AccessToken) != 200 {
		t.Fatal("Remove in one organization revoked the grant of another")
	}
	if _, body := get(t, e.browser(e.admin), pageURL); strings.Contains(body, "Network Insights") {
		t.Fatal("removed integration still listed")
	}
	if !slices.Contains(e.auditActions(), "integration.removed") {
		t.Fatal("removal not audited")
	}
}

func TestJanitor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	live := e.tokens(e.conf)
	revoked := e.tokens(e.conf)
	if resp, _ := e.call("/oauth/revoke", e.client.ID, e.secret, url.Values{"token": {revoked.RefreshToken}}); resp.StatusCode != http.StatusOK {
		t.Fatal("revoke")
	}
	rotated, err := e.refresh(e.conf, live.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(25 * time.Hour)
	j := NewJanitor(e.st.Grants(), Config{Now: e.clock.Now}, e.h.lg)
	res, err := j.RunOnce(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The revoked family goes with its code; the live family's redeemed
	// code stays so that a late replay of it still revokes.
	if res.Grants != 1 || res.AccessTokens < 2 || res.Codes != 1 {
		t.Fatalf("cleanup %+v", res)
	}
	// The live family keeps its rotated token: a replay is still detected.
	if _, err := e.refresh(e.conf, live.RefreshToken); oauthError(t, err) != "invalid_grant" {
		t.Fatal("replay after cleanup")
	}
	if _, g, err := e.st.Grants().GetRefreshToken(e.ctx, hashOf(rotated.RefreshToken)); err != nil || g.RevokeReason != "refresh_token_reuse" {
		t.Fatalf("reuse after cleanup not detected: %+v %v", g, err)
	}
}

// Remove revokes everything the integration holds in the organization,
// including what it could still obtain: a code an administrator approved
// just before the removal must not turn into a live grant after it.
func TestRemoveVoidsPendingCodes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		beta := e.newOrg("200", "Beta")
		if err := e.st.Accounts().PutMembership(e.ctx, store.Membership{OrgID: beta.ID, AccountID: e.admin.ID, Access: store.AccessFull, CreatedAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		e.tokens(e.conf) // so that the integration is listed
		pending := e.code(e.conf)
		betaCode := e.decide(e.admin, e.consentPage(e.admin, e.conf.AuthCodeURL("s")), "approve", beta.ID).Query().Get("code")

		pageURL := e.srv.URL + "/organizations/" + e.org.ID + "/integrations"
		_, body := get(t, e.browser(e.admin), pageURL)
		action, form, _ := e.confirmRemove(e.admin, body)
		if resp, _ := postForm(t, e.browser(e.admin), action, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove: %d", resp.StatusCode)
		}
		if tok, err := e.conf.Exchange(e.ctx, pending); err == nil {
			t.Fatalf("a code approved before Remove was exchanged after it (access token works: %v)", e.api(tok.AccessToken) == http.StatusOK)
		} else if oauthError(t, err) != "invalid_grant" {
			t.Fatalf("exchange after Remove: %v", err)
		}
		// Another organization's pending code is not the removal's business.
		if _, err := e.conf.Exchange(e.ctx, betaCode); err != nil {
			t.Fatalf("the other organization's code: %v", err)
		}
	})
}
