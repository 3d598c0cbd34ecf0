package authz

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/store"
)

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code := e.code(e.conf)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	withPost := func(id, secret string) url.Values {
		v := url.Values{}
		for k, vs := range form {
			v[k] = vs
		}
		v.Set("client_id", id)
		v.Set("client_secret", secret)
		return v
	}
	cases := []struct {
		name         string
		basicID      string
		basicSecret  string
		form         url.Values
		status       int
		err          string
		authenticate bool // WWW-Authenticate expected
	}{
		{"wrong secret", e.client.ID, "wrong", form, 401, "invalid_client", true},
		{"unknown client", "nobody", e.secret, form, 401, "invalid_client", true},
		{"no authentication", "", "", form, 401, "invalid_client", true},
		{"wrong secret in body", "", "", withPost(e.client.ID, "wrong"), 401, "invalid_client", true},
		{"both methods", e.client.ID, e.secret, withPost(e.client.ID, e.secret), 400, "invalid_request", false},
		{"another client's secret", e.client.ID, strings.ToUpper(e.secret), form, 401, "invalid_client", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, m := e.call("/oauth/token", c.basicID, c.basicSecret, c.form)
			if resp.StatusCode != c.status || m["error"] != c.err {
				t.Fatalf("status %d %v, want %d %s", resp.StatusCode, m, c.status, c.err)
			}
			if got := resp.Header.Get("WWW-Authenticate"); c.authenticate != (got == `Basic realm="grantflow"`) {
				t.Fatalf("WWW-Authenticate %q", got)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("error answer may be cached")
			}
		})
	}
	// The code survived the failed attempts; client_secret_post works.
	resp, m := e.call("/oauth/token", "", "", withPost(e.client.ID, e.secret))
	if resp.StatusCode != http.StatusOK || m["access_token"] == nil || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("client_secret_post: %d %v %v", resp.StatusCode, m, resp.Header)
	}
}

func TestTokenRequestShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name string
		form url.Values
		err  string
	}{
		{"missing grant_type", url.Values{}, "invalid_request"},
		{"unsupported grant_type", url.Values{"grant_type": {"password"}}, "unsupported_grant_type"},
		{"repeated parameter", url.Values{"grant_type": {"refresh_token", "refresh_token"}}, "invalid_request"},
		{"missing code", url.Values{"grant_type": {"authorization_code"}}, "invalid_request"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "code": {"gfac_" + strings.Repeat("A", 43)}}, "invalid_grant"},
		{"missing refresh token", url.Values{"grant_type": {"refresh_token"}}, "invalid_request"},
		{"garbage refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"abc"}}, "invalid_grant"},
		{"unknown scope", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"abc"}, "scope": {"nope:read"}}, "invalid_scope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, m := e.call("/oauth/token", e.client.ID, e.secret, c.form)
			if resp.StatusCode != http.StatusBadRequest || m["error"] != c.err {
				t.Fatalf("status %d %v, want 400 %s", resp.StatusCode, m, c.err)
			}
		})
	}
	// JSON bodies are not token requests.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(`{"grant_type":"refresh_token"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(e.client.ID, e.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("JSON body: %d", resp.StatusCode)
	}
}

// A code used twice revokes everything issued from it (RFC 6749 §4.1.2).
func TestCodeReplay(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		code := e.code(e.conf)
		tok, err := e.conf.Exchange(e.ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if !e.active(tok.AccessToken) {
			t.Fatal("first access token inactive")
		}
		if _, err := e.conf.Exchange(e.ctx, code); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("second exchange: %v", err)
		}
		if e.active(tok.AccessToken) || e.api(tok.AccessToken) != http.StatusUnauthorized {
			t.Fatal("access token of a replayed code still works")
		}
		if _, err := e.refresh(e.conf, tok.RefreshToken); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("refresh token of a replayed code: %v", err)
		}
		if !slices.Contains(e.auditActions(), "token.code_replayed") {
			t.Fatal("replay not audited")
		}
	})
}

func TestCodeBinding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, otherSecret := e.newClient("Other", func(c *store.Client) {})
	cases := []struct {
		name string
		conf func() *oauth2.Config
		wait time.Duration
	}{
		{"expired code", func() *oauth2.Config { return e.conf }, 10*time.Minute + time.Second},
		{"another client", func() *oauth2.Config { return e.oauthConfig(other, otherSecret) }, 0},
		{"another redirect URI", func() *oauth2.Config { c := *e.conf; c.RedirectURL = "http://127.0.0.1:1/other"; return &c }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := e.code(e.conf)
			e.clock.Advance(c.wait)
			if _, err := c.conf().Exchange(e.ctx, code); oauthError(t, err) != "invalid_grant" {
				t.Fatalf("exchange: %v", err)
			}
		})
	}
	// Just before expiry the code still works.
	code := e.code(e.conf)
	e.clock.Advance(10*time.Minute - time.Second)
	if _, err := e.conf.Exchange(e.ctx, code); err != nil {
		t.Fatal(err)
	}
}

func TestPKCE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	verifier := oauth2.GenerateVerifier()
	cases := []struct {
		name      string
		authOpts  []oauth2.AuthCodeOption
		exchOpts  []oauth2.AuthCodeOption
		wantError string
	}{
		{"S256 matches", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, ""},
		{"verifier mismatch", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}, "invalid_grant"},
		{"verifier missing", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, nil, "invalid_grant"},
		{"verifier without challenge", nil, []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, "invalid_grant"},
		{"no PKCE at all", nil, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.conf.Exchange(e.ctx, e.code(e.conf, c.authOpts...), c.exchOpts...)
			if c.wantError == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if oauthError(t, err) != c.wantError {
				t.Fatalf("exchange: %v", err)
			}
		})
	}
}

func TestScopeAtExchange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code := e.code(e.conf) // dashboard:general:config:read wireless:telemetry:read
	exchange := func(scope string) (*reply, map[string]any) {
		return e.call("/oauth/token", e.client.ID, e.secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "scope": {scope}})
	}
	// Registered for the client but not granted: escalation.
	if resp, m := exchange("dashboard:general:config:read dashboard:general:config:write"); resp.StatusCode != http.StatusBadRequest || m["error"] != "invalid_scope" ||
		!strings.HasSuffix(m["error_description"].(string), ": dashboard:general:config:write.") {
		t.Fatalf("escalation at exchange: %d %v", resp.StatusCode, m)
	}
	// The refused attempt did not use the code up; a narrower scope
	// narrows the grant.
	resp, m := exchange("wireless:telemetry:read")
	if resp.StatusCode != http.StatusOK || m["scope"] != "wireless:telemetry:read" {
		t.Fatalf("narrowed exchange: %d %v", resp.StatusCode, m)
	}
	rt, _ := m["refresh_token"].(string)
	if in := e.introspect(rt); in["scope"] != "wireless:telemetry:read" {
		t.Fatalf("grant scope %v", in["scope"])
	}
}

func TestRefreshScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tokens(e.conf)
	refresh := func(rt, scope string) (*reply, map[string]any) {
		return e.call("/oauth/token", e.client.ID, e.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}})
	}
	if resp, m := refresh(tok.RefreshToken, "dashboard:general:config:read dashboard:general:config:write"); resp.StatusCode != http.StatusBadRequest || m["error"] != "invalid_scope" ||
		!strings.HasSuffix(m["error_description"].(string), ": dashboard:general:config:write.") {
		t.Fatalf("escalation at refresh: %d %v", resp.StatusCode, m)
	}
	// The refused escalation did not rotate the token: narrowing works.
	resp, m := refresh(tok.RefreshToken, "wireless:telemetry:read")
	if resp.StatusCode != http.StatusOK || m["scope"] != "wireless:telemetry:read" {
		t.Fatalf("narrowed refresh: %d %v", resp.StatusCode, m)
	}
	if in := e.introspect(m["access_token"].(string)); in["scope"] != "wireless:telemetry:read" {
		t.Fatalf("narrowed access token scope %v", in["scope"])
	}
	// The new refresh token keeps the grant's scopes (RFC 6749 §6).
	tok3, err := e.refresh(e.conf, m["refresh_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if tok3.Extra("scope") != "dashboard:general:config:read wireless:telemetry:read" {
		t.Fatalf("scope after narrowed refresh: %v", tok3.Extra("scope"))
	}
}

// Presenting a rotated refresh token again is theft: the family dies
// (RFC 9700 §4.14.2).
func TestRefreshReplay(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		tok := e.tokens(e.conf)
		tok2, err := e.refresh(e.conf, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		tok3, err := e.refresh(e.conf, tok2.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.refresh(e.conf, tok.RefreshToken); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("replay: %v", err)
		}
		if _, err := e.refresh(e.conf, tok3.RefreshToken); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("newest refresh token after a replay: %v", err)
		}
		for _, at := range []string{tok.AccessToken, tok2.AccessToken, tok3.AccessToken} {
			if e.active(at) || e.api(at) != http.StatusUnauthorized {
				t.Fatal("an access token of the revoked family still works")
			}
		}
		if !slices.Contains(e.auditActions(), "token.reuse_detected") {
			t.Fatal("reuse not audited")
		}
		evs, _ := e.st.Audit().ListAudit(e.ctx, store.AuditFilter{Limit: 1000})
		for _, ev := range evs {
			if ev.Action == "token.reuse_detected" && (ev.OrgID != e.org.ID || ev.ActorClientID != e.client.ID || ev.Details["grant_id"] == "") {
				t.Fatalf("reuse event %+v", ev)
			}
		}
	})
}

// Within a client's grace window a retry of the same refresh token
// replaces the first use's branch; only one branch lives.
func TestRefreshGraceWindow(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		auto, secret := e.newClient("Automation", func(c *store.Client) { c.RefreshGrace = 30 * time.Second })
		conf := e.oauthConfig(auto, secret)
		tok := e.tokens(conf)
		active := func(token string) bool { return e.introspect(token, auto, secret)["active"] == true }

		first, err := e.refresh(conf, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(10 * time.Second)
		retry, err := e.refresh(conf, tok.RefreshToken)
		if err != nil {
			t.Fatalf("retry within grace: %v", err)
		}
		if active(first.AccessToken) {
			t.Fatal("the first branch's access token survived the retry")
		}
		// (Presenting first.RefreshToken now is reuse: see
		// TestRefreshGraceRevokedBranchIsReuse.)
		if !active(retry.AccessToken) {
			t.Fatal("the retry's access token is inactive")
		}
		next, err := e.refresh(conf, retry.RefreshToken)
		if err != nil {
			t.Fatalf("the surviving branch: %v", err)
		}
		// Once the child was used, a retry of its parent is reuse again, even
		// within the window.
		if _, err := e.refresh(conf, tok.RefreshToken); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("retry after the child was used: %v", err)
		}
		if active(next.AccessToken) {
			t.Fatal("family survived a reuse")
		}

		// Past the window a retry is reuse.
		tok = e.tokens(conf)
		if _, err := e.refresh(conf, tok.RefreshToken); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(31 * time.Second)
		if _, err := e.refresh(conf, tok.RefreshToken); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("retry past grace: %v", err)
		}
	})
}

func TestRefreshIdleLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tokens(e.conf)
	e.clock.Advance(89 * 24 * time.Hour)
	tok2, err := e.refresh(e.conf, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after 89 days: %v", err)
	}
	e.clock.Advance(90*24*time.Hour + time.Second)
	if e.active(tok2.RefreshToken) {
		t.Fatal("idle refresh token introspects active")
	}
	if _, err := e.refresh(e.conf, tok2.RefreshToken); oauthError(t, err) != "invalid_grant" {
		t.Fatalf("refresh after 90 idle days: %v", err)
	}
	_, g, err := e.st.Grants().GetRefreshToken(e.ctx, hashOf(tok2.RefreshToken))
	if err != nil || !g.Revoked() {
		t.Fatalf("idle grant not revoked: %+v %v", g, err)
	}
}

// Concurrent uses of one refresh token: exactly one wins, and with no grace
// window the others are reuse, so the family is revoked.
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		tok := e.tokens(e.conf)
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins []*oauth2.Token
			errs []string
		)
		for range n {
			wg.Go(func() {
				got, err := e.refresh(e.conf, tok.RefreshToken)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins = append(wins, got)
					return
				}
				if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) {
					errs = append(errs, re.ErrorCode)
				} else {
					errs = append(errs, err.Error())
				}
			})
		}
		wg.Wait()
		if len(wins) != 1 {
			t.Fatalf("%d refreshes succeeded, want exactly 1 (errors %v)", len(wins), errs)
		}
		for _, c := range errs {
			if c != "invalid_grant" {
				t.Fatalf("loser got %s", c)
			}
		}
		if e.active(wins[0].AccessToken) {
			t.Fatal("family survived concurrent reuse")
		}
		if _, err := e.refresh(e.conf, wins[0].RefreshToken); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("winner's refresh token after reuse: %v", err)
		}
	})
}

// Rotating a client's secret makes the old one fail at once: the cached
// client is dropped on the change feed.
func TestRotatedSecretStopsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.tokens(e.conf) // caches the client
	newSecret := "new-secret-" + strings.Repeat("x", 32)
	if _, err := e.st.Clients().UpdateClient(e.ctx, e.client.ID, func(c *store.Client) error {
		c.SecretHash = hashOf(newSecret)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.feed.Sync(e.ctx); err != nil { // what the registry does after a change
		t.Fatal(err)
	}
	if _, err := e.refresh(e.conf, tok.RefreshToken); oauthError(t, err) != "invalid_client" {
		t.Fatalf("old secret: %v", err)
	}
	conf := *e.conf
	conf.ClientSecret = newSecret
	if _, err := e.refresh(&conf, tok.RefreshToken); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}

// A grace retry revokes the first use's child. If that child is presented
// afterwards, two parties hold the family (RFC 9700 §4.14.2: "one of them
// will present an invalidated refresh token"): the whole family dies, the
// retry's branch included, instead of the retry's holder keeping it.
func TestRefreshGraceRevokedBranchIsReuse(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, e *env) {
		auto, secret := e.newClient("Automation", func(c *store.Client) { c.RefreshGrace = 30 * time.Second })
		conf := e.oauthConfig(auto, secret)
		tok := e.tokens(conf)
		first, err := e.refresh(conf, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		retry, err := e.refresh(conf, tok.RefreshToken) // the other party, within grace
		if err != nil {
			t.Fatalf("retry within grace: %v", err)
		}
		if _, err := e.refresh(conf, first.RefreshToken); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("the revoked branch's refresh token: %v", err)
		}
		if e.introspect(retry.AccessToken, auto, secret)["active"] == true || e.api(retry.AccessToken) != http.StatusUnauthorized {
			t.Fatal("the retry's branch survived the revoked branch's use")
		}
		if _, err := e.refresh(conf, retry.RefreshToken); oauthError(t, err) != "invalid_grant" {
			t.Fatalf("the retry's refresh token after the reuse: %v", err)
		}
		if !slices.Contains(e.auditActions(), "token.reuse_detected") {
			t.Fatal("reuse not audited")
		}
	})
}
