package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// page fetches a page as the account (cookie) with an optional form post.
func (e *env) page(method, path, account string, form url.Values) (int, string, http.Header) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	must(e.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if account != "" {
		req.AddCookie(&http.Cookie{Name: "test-account", Value: account})
	}
	client := *e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var newKeyRe = regexp.MustCompile(`id="new-api-key">([0-9a-f]{40})<`)

func TestAPIKeysPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	acct := e.account("page@a.example", e.orgA, "read-only")

	status, _, h := e.page("GET", "/account/api-keys", "", nil)
	if status != http.StatusSeeOther || h.Get("Location") != "/login?return_to=%2Faccount%2Fapi-keys" {
		t.Fatalf("anonymous: %d %q", status, h.Get("Location"))
	}
	status, body, _ := e.page("GET", "/account/api-keys", acct, nil)
	if status != 200 || !strings.Contains(body, "You have no API keys") || !strings.Contains(body, `name="csrf_token" value="csrf-ok"`) {
		t.Fatalf("empty page: %d %s", status, body)
	}
	if status, _, _ := e.page("POST", "/account/api-keys", acct, url.Values{}); status != http.StatusForbidden {
		t.Errorf("create without CSRF token: %d", status)
	}
	status, body, _ = e.page("POST", "/account/api-keys", acct, url.Values{"csrf_token": {"csrf-ok"}})
	m := newKeyRe.FindStringSubmatch(body)
	if status != 200 || m == nil || !strings.Contains(body, `data-copy="new-api-key"`) {
		t.Fatalf("create: %d %s", status, body)
	}
	key := m[1]
	// The key works, with the account's (read-only) access.
	if r := e.call("GET", "/organizations/"+e.orgA+"/networks", key, nil); r.status != 200 {
		t.Errorf("new key: %d", r.status)
	}
	// Shown once: the list shows only its last four characters.
	_, body, _ = e.page("GET", "/account/api-keys", acct, nil)
	if strings.Contains(body, key) || !strings.Contains(body, "…"+key[36:]) {
		t.Errorf("list page shows the key or not its suffix")
	}
	e.page("POST", "/account/api-keys", acct, url.Values{"csrf_token": {"csrf-ok"}})
	status, body, _ = e.page("POST", "/account/api-keys", acct, url.Values{"csrf_token": {"csrf-ok"}})
	if status != http.StatusConflict || !strings.Contains(body, "two API keys") {
		t.Errorf("third key: %d", status)
	}
	keys, err := e.h.keys.List(context.Background(), acct)
	must(t, err)
	var id string
	for _, k := range keys {
		if k.Last4 == key[36:] {
			id = k.ID
		}
	}
	// Revoke asks first: the list links to a confirmation page with the form.
	_, body, _ = e.page("GET", "/account/api-keys", acct, nil)
	if !strings.Contains(body, `href="/account/api-keys/`+id+`/revoke"`) || strings.Contains(body, `action="/account/api-keys/`+id+`/revoke"`) {
		t.Errorf("list page: want a Revoke link and no one-click form:\n%s", body)
	}
	status, body, _ = e.page("GET", "/account/api-keys/"+id+"/revoke", acct, nil)
	if status != 200 || !strings.Contains(body, `action="/account/api-keys/`+id+`/revoke"`) || !strings.Contains(body, "…"+key[36:]) {
		t.Errorf("confirmation page: %d\n%s", status, body)
	}
	if r := e.call("GET", "/organizations/"+e.orgA+"/networks", key, nil); r.status != 200 {
		t.Errorf("opening the confirmation revoked the key: %d", r.status)
	}
	if status, _, _ := e.page("GET", "/account/api-keys/"+id+"/revoke", e.fullA, nil); status != http.StatusNotFound {
		t.Errorf("someone else's confirmation page: %d", status)
	}
	if status, _, _ := e.page("POST", "/account/api-keys/"+id+"/revoke", acct, url.Values{}); status != http.StatusForbidden {
		t.Errorf("revoke without CSRF token: %d", status)
	}
	// Another account cannot revoke it.
	if status, _, _ := e.page("POST", "/account/api-keys/"+id+"/revoke", e.fullA, url.Values{"csrf_token": {"csrf-ok"}}); status != http.StatusNotFound {
		t.Errorf("revoke someone else's key: %d", status)
	}
	status, _, h = e.page("POST", "/account/api-keys/"+id+"/revoke", acct, url.Values{"csrf_token": {"csrf-ok"}})
	if status != http.StatusSeeOther || h.Get("Location") != "/account/api-keys?revoked=1" {
		t.Fatalf("revoke: %d %q", status, h.Get("Location"))
	}
	if r := e.call("GET", "/organizations/"+e.orgA+"/networks", key, nil); r.status != http.StatusUnauthorized {
		t.Errorf("revoked key: %d", r.status)
	}
	_, body, _ = e.page("GET", "/account/api-keys?revoked=1", acct, nil)
	if !strings.Contains(body, "was revoked") {
		t.Error("no confirmation after revoking")
	}
}

func TestAPIRequestsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	tok := e.tokens.issue(e.orgA, e.fullA, "client-xyz", "dashboard:general:config:read")
	for range 4 {
		e.call("GET", "/organizations/"+e.orgA+"/networks", tok, nil)
	}
	e.call("GET", "/organizations/"+e.orgA+"/admins", tok, nil) // 403: no scope
	status, body, _ := e.page("GET", "/organizations/"+e.orgA+"/api-requests", e.readA, nil)
	if status != 200 {
		t.Fatalf("page: %d %s", status, body)
	}
	for _, want := range []string{"5 Dashboard API requests", "getOrganizationNetworks", "getOrganizationAdmins", "client-xyz", "full@a.example", "<td>403</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if status, _, _ := e.page("GET", "/organizations/"+e.orgA+"/api-requests", e.adminB, nil); status != 404 {
		t.Errorf("another org's admin: %d", status)
	}
}
