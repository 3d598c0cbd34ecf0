package authz

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/store"
)

// The whole life of a grant, as an integration built with x/oauth2 and an
// administrator with a browser go through it.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// Not logged in: to the login page, and back afterwards.
	authURL := e.conf.AuthCodeURL("st-123")
	resp, _ := get(t, e.browser(store.Account{}), authURL)
	u, _ := url.Parse(authURL)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?return_to="+url.QueryEscape(u.RequestURI()) {
		t.Fatalf("anonymous authorize: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	page := e.consentPage(e.admin, authURL)
	for _, want := range []string{"Network Insights", "Read organization and network configuration", "Read wireless monitoring data",
		`<select id="organization_id" name="organization_id">`, `value="approve"`, `value="deny"`, `name="csrf_token"`, "Acme"} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	code := e.decide(e.admin, page, "approve", e.org.ID).Query().Get("code")
	if !strings.HasPrefix(code, oauth.CodePrefix) {
		t.Fatalf("code %q lacks its prefix", code)
	}

	tok, err := e.conf.Exchange(e.ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, oauth.AccessPrefix) || !strings.HasPrefix(tok.RefreshToken, oauth.RefreshPrefix) || tok.TokenType != "Bearer" {
		t.Fatalf("token %+v", tok)
	}
	if got := tok.Extra("organization_id"); got != e.org.ID {
		t.Errorf("organization_id = %v", got)
	}
	if got := tok.Extra("expires_in"); got != float64(3600) {
		t.Errorf("expires_in = %v", got)
	}
	if got := tok.Extra("scope"); got != "dashboard:general:config:read wireless:telemetry:read" {
		t.Errorf("scope = %v", got)
	}
	if st := e.api(tok.AccessToken); st != http.StatusOK {
		t.Fatalf("protected endpoint: %d", st)
	}

	in := e.introspect(tok.AccessToken)
	want := map[string]any{
		"active": true, "scope": "dashboard:general:config:read wireless:telemetry:read", "client_id": e.client.ID,
		"token_type": "Bearer", "sub": e.admin.ID, "organization_id": e.org.ID,
		"exp": float64(e.clock.Now().Add(time.Hour).Unix()), "iat": float64(e.clock.Now().Unix()),
	}
	for k, v := range want {
		if in[k] != v {
			t.Errorf("introspection %s = %v, want %v", k, in[k], v)
		}
	}
	if in := e.introspect(tok.RefreshToken); in["active"] != true || in["token_type"] != "refresh_token" {
		t.Errorf("refresh token introspection %v", in)
	}

	e.clock.Advance(time.Hour + time.Second)
	if e.api(tok.AccessToken) != http.StatusUnauthorized || e.active(tok.AccessToken) {
		t.Fatal("expired access token still accepted")
	}
	tok2, err := e.refresh(e.conf, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate both tokens")
	}
	if e.api(tok2.AccessToken) != http.StatusOK {
		t.Fatal("refreshed access token refused")
	}
	if e.active(tok.RefreshToken) {
		t.Error("rotated refresh token introspects active")
	}

	resp, _ = e.call("/oauth/revoke", e.client.ID, e.secret, url.Values{"token": {tok2.RefreshToken}, "token_type_hint": {"refresh_token"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if e.api(tok2.AccessToken) != http.StatusUnauthorized || e.active(tok2.AccessToken) || e.active(tok2.RefreshToken) {
		t.Fatal("revoking the refresh token left its family usable")
	}
	if _, err := e.refresh(e.conf, tok2.RefreshToken); oauthError(t, err) != "invalid_grant" {
		t.Fatalf("refresh after revoke: %v", err)
	}

	acts := e.auditActions()
	for _, a := range []string{"authorization.granted", "token.issued", "token.refreshed", "token.revoked"} {
		if !slices.Contains(acts, a) {
			t.Errorf("audit log %v lacks %s", acts, a)
		}
	}
	evs, _ := e.st.Audit().ListAudit(e.ctx, store.AuditFilter{Limit: 1000})
	raw, _ := json.Marshal(evs)
	for _, secret := range []string{code, tok.AccessToken, tok.RefreshToken, tok2.AccessToken, tok2.RefreshToken, e.secret} {
		if strings.Contains(string(raw), secret) {
			t.Fatal("a token value reached the audit log")
		}
	}
}

func TestConsentDeny(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.consentPage(e.admin, e.conf.AuthCodeURL("st-9"))
	q := e.decide(e.admin, page, "deny", "").Query()
	if q.Get("error") != "access_denied" || q.Get("state") != "st-9" || q.Get("iss") != e.srv.URL || q.Has("code") {
		t.Fatalf("deny redirect %v", q)
	}
}

func TestConsentPageCannotBeFramed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, _ := get(t, e.browser(e.admin), e.conf.AuthCodeURL("s"))
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("framing headers: %v", resp.Header)
	}
}

// Unknown clients and unregistered redirect URIs are shown on a page:
// redirecting would send the person (and the error) to an attacker.
func TestAuthorizeErrorPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	two, _ := e.newClient("Two URIs", func(c *store.Client) { c.RedirectURIs = []string{redirectURI, "http://127.0.0.1:2/cb"} })
	base := url.Values{"response_type": {"code"}, "client_id": {e.client.ID}, "redirect_uri": {redirectURI}, "scope": {"wireless:telemetry:read"}, "state": {"s"}}
	cases := []struct {
		name string
		edit func(url.Values)
		want string
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "nope") }, "not registered"},
		{"missing client", func(v url.Values) { v.Del("client_id") }, "no client_id"},
		{"wrong redirect URI", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, "not registered"},
		{"redirect URI prefix", func(v url.Values) { v.Set("redirect_uri", redirectURI+"/x") }, "not registered"},
		{"missing redirect URI, several registered", func(v url.Values) { v.Set("client_id", two.ID); v.Del("redirect_uri") }, "several"},
		{"repeated redirect URI", func(v url.Values) { v.Add("redirect_uri", redirectURI) }, "repeats"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range base {
				v[k] = slices.Clone(vs)
			}
			c.edit(v)
			for _, who := range []store.Account{{}, e.admin} {
				resp, body := get(t, e.browser(who), e.srv.URL+"/oauth/authorize?"+v.Encode())
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("status %d Location %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
				}
				if !strings.Contains(body, c.want) || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("page lacks %q:\n%s", c.want, body)
				}
			}
		})
	}
}

// Every other authorization error goes back to the client with error,
// state and iss (RFC 6749 §4.1.2.1, RFC 9207).
func TestAuthorizeErrorRedirects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	narrow, _ := e.newClient("Narrow", func(c *store.Client) { c.Scopes = []string{"wireless:telemetry:read"} })
	challenge := oauth.S256(strings.Repeat("v", 43))
	cases := []struct {
		name   string
		params url.Values
		want   string
	}{
		{"unsupported response type", url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		{"missing response type", url.Values{"response_type": {""}}, "invalid_request"},
		{"missing scope", url.Values{"scope": {""}}, "invalid_scope"},
		{"unknown scope", url.Values{"scope": {"wireless:telemetry:read dashboard:everything"}}, "invalid_scope"},
		{"malformed scope", url.Values{"scope": {"wireless:telemetry:read\"x"}}, "invalid_scope"},
		{"scope not registered", url.Values{"client_id": {narrow.ID}, "scope": {"dashboard:general:config:read"}}, "invalid_scope"},
		{"challenge without method means plain", url.Values{"code_challenge": {challenge}}, "invalid_request"},
		{"plain method", url.Values{"code_challenge": {challenge}, "code_challenge_method": {"plain"}}, "invalid_request"},
		{"method without challenge", url.Values{"code_challenge_method": {"S256"}}, "invalid_request"},
		{"challenge too short", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"S256"}}, "invalid_request"},
		{"challenge bad characters", url.Values{"code_challenge": {strings.Repeat("a", 42) + "+"}, "code_challenge_method": {"S256"}}, "invalid_request"},
	}
	scopeNamed := map[string]string{"unknown scope": "dashboard:everything", "scope not registered": "dashboard:general:config:read"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := url.Values{"response_type": {"code"}, "client_id": {e.client.ID}, "redirect_uri": {redirectURI}, "scope": {"wireless:telemetry:read"}, "state": {"st-7"}}
			for k, vs := range c.params {
				v[k] = vs
			}
			resp, body := get(t, e.browser(e.admin), e.srv.URL+"/oauth/authorize?"+v.Encode())
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d, want a redirect:\n%s", resp.StatusCode, body)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			q := loc.Query()
			if loc.Scheme+"://"+loc.Host+loc.Path != redirectURI || q.Get("error") != c.want || q.Get("state") != "st-7" || q.Get("iss") != e.srv.URL || q.Get("error_description") == "" {
				t.Fatalf("redirect %s, want error %s with state and iss", loc, c.want)
			}
			// invalid_scope names the offending scopes.
			if named := scopeNamed[c.name]; named != "" && !strings.Contains(q.Get("error_description"), named) {
				t.Errorf("error_description %q does not name %s", q.Get("error_description"), named)
			}
		})
	}
}

// One registered redirect URI may be left out of the request (RFC 6749
// §3.1.2.3), then out of the token request too.
func TestRedirectURIDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	conf := *e.conf
	conf.RedirectURL = ""
	tok, err := conf.Exchange(e.ctx, e.code(&conf))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("exchange without redirect_uri: %v", err)
	}
}

func TestReadOnlyAdminAtConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.newOrg("200", "Beta")
	ro := e.newAccount("ro@example.com", map[string]store.Access{e.org.ID: store.AccessReadOnly, other.ID: store.AccessReadOnly})
	page := e.consentPage(ro, e.conf.AuthCodeURL("s"))
	if strings.Contains(page, "<select") || strings.Contains(page, `value="approve"`) || !strings.Contains(page, `value="deny"`) {
		t.Fatalf("read-only admin is offered an organization or Approve:\n%s", page)
	}
	if !strings.Contains(page, "read-only access") {
		t.Errorf("no clear message for the read-only admin:\n%s", page)
	}
	// A forged approval is refused without a code.
	form := formFields(page)
	form.Set("decision", "approve")
	form.Set("organization_id", e.org.ID)
	resp, _ := postForm(t, e.browser(ro), e.srv.URL+"/oauth/authorize", form)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("forged approval: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Only full-access organizations are offered to a mixed admin.
	mixed := e.newAccount("mixed@example.com", map[string]store.Access{e.org.ID: store.AccessFull, other.ID: store.AccessReadOnly})
	page = e.consentPage(mixed, e.conf.AuthCodeURL("s"))
	if !strings.Contains(page, `value="100"`) || strings.Contains(page, `value="200"`) {
		t.Fatalf("mixed admin's organizations:\n%s", page)
	}
}

func TestConsentCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.consentPage(e.admin, e.conf.AuthCodeURL("s"))
	for _, token := range []string{"", "csrf-wrong"} {
		form := formFields(page)
		form.Set("csrf_token", token)
		form.Set("decision", "approve")
		form.Set("organization_id", e.org.ID)
		resp, _ := postForm(t, e.browser(e.admin), e.srv.URL+"/oauth/authorize", form)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
			t.Fatalf("csrf %q: status %d Location %q", token, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if slices.Contains(e.auditActions(), "authorization.granted") {
		t.Fatal("a code was issued without a valid CSRF token")
	}
}

// The consent form's parameters are validated again: a tampered scope or
// redirect URI does not pass.
func TestConsentRevalidates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.consentPage(e.admin, e.conf.AuthCodeURL("s"))
	form := formFields(page)
	form.Set("decision", "approve")
	form.Set("organization_id", e.org.ID)
	form.Set("redirect_uri", "https://evil.example/cb")
	resp, _ := postForm(t, e.browser(e.admin), e.srv.URL+"/oauth/authorize", form)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("tampered redirect_uri: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form = formFields(page)
	form.Set("decision", "approve")
	form.Set("organization_id", e.org.ID)
	form.Set("scope", "sm:config:write")
	resp, _ = postForm(t, e.browser(e.admin), e.srv.URL+"/oauth/authorize", form)
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "invalid_scope" {
		t.Fatalf("tampered scope: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestFirstPartyClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	auto, secret := e.newClient("Automation", func(c *store.Client) { c.FirstParty = true })
	conf := e.oauthConfig(auto, secret)
	conf.Scopes = []string{"dashboard:general:config:read", "dashboard:general:config:write"}
	ro := e.newAccount("ro@example.com", map[string]store.Access{e.org.ID: store.AccessReadOnly})
	stranger := e.newAccount("stranger@example.com", nil)

	cases := []struct {
		name   string
		who    store.Account
		scopes []string
		want   string // scope granted, or the error
	}{
		{"full admin gets what was asked", e.admin, conf.Scopes, "dashboard:general:config:read dashboard:general:config:write"},
		{"read-only admin gets the read scopes", ro, conf.Scopes, "dashboard:general:config:read"},
		{"read-only admin asking only to write", ro, []string{"dashboard:general:config:write"}, "access_denied"},
		{"not an admin of the organization", stranger, conf.Scopes, "access_denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := *conf
			cc.Scopes = c.scopes
			resp, body := get(t, e.browser(c.who), cc.AuthCodeURL("s", oauth2SetParam("organization_id", e.org.ID)))
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d: first-party client got a page:\n%s", resp.StatusCode, body)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			q := loc.Query()
			if c.want == "access_denied" {
				if q.Get("error") != "access_denied" {
					t.Fatalf("redirect %s, want access_denied", loc)
				}
				return
			}
			tok, err := cc.Exchange(e.ctx, q.Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			if tok.Extra("scope") != c.want {
				t.Fatalf("scope %v, want %s", tok.Extra("scope"), c.want)
			}
		})
	}
	// Without organization_id even a first-party client shows the consent page.
	e.consentPage(e.admin, conf.AuthCodeURL("s"))
	// A third-party client naming an organization still gets the consent page.
	e.consentPage(e.admin, e.conf.AuthCodeURL("s", oauth2SetParam("organization_id", e.org.ID)))
}
