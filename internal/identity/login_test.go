package identity_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/store"
)

func TestLoginFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()

	// Not logged in: the home page sends us to the login form.
	if p := b.get("/"); p.resp.StatusCode != http.StatusSeeOther || p.resp.Header.Get("Location") != "/login" {
		t.Fatalf("GET / logged out: %d %q", p.resp.StatusCode, p.resp.Header.Get("Location"))
	}
	form := b.get("/login?return_to=%2Forganizations")
	if form.resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: %d", form.resp.StatusCode)
	}
	for _, want := range []string{`name="email"`, `name="password"`, `name="csrf_token"`, `name="return_to" value="/organizations"`} {
		mustContain(t, form.body, want)
	}
	tok := csrfOf(t, form)
	if c := b.cookie("grantflow_csrf"); c == nil || c.Value != tok {
		t.Fatalf("login form's double-submit cookie %v does not match token %q", c, tok)
	}
	// A planted session id (session fixation) must not survive login.
	u, _ := url.Parse(e.srv.URL)
	planted := &http.Cookie{Name: "grantflow_session", Value: strings.Repeat("A", 43), Path: "/"}
	b.c.Jar.SetCookies(u, []*http.Cookie{planted})
	// The form was issued without a session cookie; with one present now
	// the double-submit token no longer counts, so fetch a fresh form.
	tok = csrfOf(t, b.get("/login"))

	creds := url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "return_to": {"/organizations"}}
	with := func(v url.Values, k, val string) url.Values {
		out := url.Values{}
		for kk, vv := range v {
			out[kk] = vv
		}
		if val == "" {
			out.Del(k)
		} else {
			out.Set(k, val)
		}
		return out
	}

	// CSRF missing or wrong: 403, no session.
	for _, bad := range []string{"", tok + "x", strings.Repeat("B", 43)} {
		p := b.post("/login", with(creds, "csrf_token", bad))
		if p.resp.StatusCode != http.StatusForbidden {
			t.Errorf("csrf %q: status %d, want 403", bad, p.resp.StatusCode)
		}
		if setCookie(p.resp, "grantflow_session") != nil {
			t.Errorf("csrf %q: a session cookie was set", bad)
		}
	}

	// Wrong password: the generic message, no session, email kept.
	p := b.post("/login", with(with(creds, "password", "not the password"), "csrf_token", tok))
	if p.resp.StatusCode != http.StatusOK || setCookie(p.resp, "grantflow_session") != nil {
		t.Fatalf("wrong password: %d, cookies %v", p.resp.StatusCode, p.resp.Cookies())
	}
	mustContain(t, p.body, "Wrong email or password.")
	mustContain(t, p.body, `value="admin@example.com"`)
	if strings.Contains(p.body, "not the password") {
		t.Error("the page echoes the password")
	}
	// Unknown email: the same message.
	p = b.post("/login", with(with(creds, "email", "ghost@example.com"), "csrf_token", tok))
	mustContain(t, p.body, "Wrong email or password.")

	// Good login: a new session cookie, then back to return_to.
	p = b.post("/login", with(creds, "csrf_token", tok))
	if p.resp.StatusCode != http.StatusSeeOther || p.resp.Header.Get("Location") != "/organizations" {
		t.Fatalf("good login: %d %q\n%s", p.resp.StatusCode, p.resp.Header.Get("Location"), p.body)
	}
	sc := setCookie(p.resp, "grantflow_session")
	if sc == nil || sc.Value == planted.Value {
		t.Fatalf("no new session cookie: %v", p.resp.Cookies())
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure {
		t.Errorf("session cookie HttpOnly=%v SameSite=%v Path=%q Secure=%v", sc.HttpOnly, sc.SameSite, sc.Path, sc.Secure)
	}

	// The organization list.
	orgs := b.get("/organizations")
	if orgs.resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /organizations: %d", orgs.resp.StatusCode)
	}
	for _, want := range []string{"Acme Corp", e.org.ID, "Full", "/organizations/" + e.org.ID + "/integrations", "/organizations/" + e.org.ID + "/audit", "admin@example.com"} {
		mustContain(t, orgs.body, want)
	}
	if home := b.get("/"); home.resp.StatusCode != http.StatusOK || !strings.Contains(home.body, "Acme Corp") {
		t.Errorf("GET / logged in: %d", home.resp.StatusCode)
	}
	// Logged in, /login goes straight to return_to.
	if p := b.get("/login?return_to=/organizations"); p.resp.StatusCode != http.StatusSeeOther || p.resp.Header.Get("Location") != "/organizations" {
		t.Errorf("GET /login logged in: %d %q", p.resp.StatusCode, p.resp.Header.Get("Location"))
	}

	// Logout needs the session's CSRF token (the one on the page).
	if p := b.post("/logout", url.Values{}); p.resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without csrf: %d", p.resp.StatusCode)
	}
	if p := b.post("/logout", url.Values{"csrf_token": {tok}}); p.resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout with the pre-login token: %d", p.resp.StatusCode)
	}
	if p := b.get("/organizations"); p.resp.StatusCode != http.StatusOK {
		t.Fatalf("refused logouts logged us out: %d", p.resp.StatusCode)
	}
	stolen := b.cookie("grantflow_session")
	p = b.post("/logout", url.Values{"csrf_token": {csrfOf(t, orgs)}})
	if p.resp.StatusCode != http.StatusSeeOther || p.resp.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", p.resp.StatusCode, p.resp.Header.Get("Location"))
	}
	if c := setCookie(p.resp, "grantflow_session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout did not clear the cookie: %v", c)
	}
	if p := b.get("/organizations"); p.resp.StatusCode != http.StatusSeeOther {
		t.Errorf("still logged in after logout: %d", p.resp.StatusCode)
	}
	// The old cookie value is dead on the server too.
	replay := e.browser()
	replay.c.Jar.SetCookies(u, []*http.Cookie{stolen})
	if p := replay.get("/organizations"); p.resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logged-out session id still works: %d", p.resp.StatusCode)
	}

	acts := e.auditActions()
	for _, want := range []string{"login.failed", "login.succeeded"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit log lacks %s: %v", want, acts)
		}
	}
}

func TestSafeReturnTo(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                           "/",
		"/":                          "/",
		"/organizations":             "/organizations",
		"/oauth/authorize?a=1&b=%2F": "/oauth/authorize?a=1&b=%2F",
		"//evil.com":                 "/",
		"//evil.com/path":            "/",
		"/\\evil.com":                "/",
		"/x\\y":                      "/",
		"https://evil.com":           "/",
		"http://127.0.0.1/x":         "/",
		"javascript:alert(1)":        "/",
		"JaVaScRiPt:alert(1)":        "/",
		"evil.com":                   "/",
		"/\t/evil.com":               "/",
		"/\n/evil.com":               "/",
		"/%0a":                       "/%0a",
		"\x00/x":                     "/",
		" /x":                        "/",
	}
	for in, want := range tests {
		if got := identity.SafeReturnTo(in); got != want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", in, got, want)
		}
	}
}

// Open-redirect attempts through the real login: the redirect after a
// good login stays on this site.
func TestLoginReturnToStaysLocal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, rt := range []string{"//evil.com", "/\\evil.com", "https://evil.com", "javascript:alert(1)", "/\t/evil.com"} {
		b := e.browser()
		form := b.get("/login?return_to=" + url.QueryEscape(rt))
		mustContain(t, form.body, `name="return_to" value="/"`)
		// Post the hostile value directly, as an attacker's form would.
		p := b.post("/login", url.Values{"csrf_token": {csrfOf(t, form)}, "email": {"admin@example.com"}, "password": {testPassword}, "return_to": {rt}})
		if loc := p.resp.Header.Get("Location"); p.resp.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("return_to %q: %d Location %q, want 303 /", rt, p.resp.StatusCode, loc)
		}
	}
}

func TestLoginThrottlePerEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	tok := csrfOf(t, b.get("/login"))
	attempt := func(password string) page {
		return b.post("/login", url.Values{"csrf_token": {tok}, "email": {"Admin@example.com"}, "password": {password}})
	}
	for i := range 5 {
		if p := attempt("wrong password " + strconv.Itoa(i)); p.resp.StatusCode != http.StatusOK {
			t.Fatalf("attempt %d: %d", i+1, p.resp.StatusCode)
		}
		e.clock.Advance(time.Minute)
	}
	// The 6th attempt is refused, even with the right password.
	p := attempt(testPassword)
	if p.resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("6th attempt: %d, want 429", p.resp.StatusCode)
	}
	ra, err := strconv.Atoi(p.resp.Header.Get("Retry-After"))
	// The first failure was 5 minutes ago; it leaves the window in 10.
	if err != nil || ra != 600 {
		t.Errorf("Retry-After %q, want 600", p.resp.Header.Get("Retry-After"))
	}
	if !strings.HasPrefix(p.resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(p.body, "Too many failed login attempts") {
		t.Errorf("429 body %q (%s)", p.body, p.resp.Header.Get("Content-Type"))
	}
	if setCookie(p.resp, "grantflow_session") != nil {
		t.Error("a throttled attempt logged in")
	}
	// Once the oldest failure ages out, one more attempt is allowed.
	e.clock.Advance(10 * time.Minute)
	if p := attempt(testPassword); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", p.resp.StatusCode)
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.CreateAdmin(t.Context(), e.org.ID, "other@example.com", testPassword, store.AccessReadOnly); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	tok := csrfOf(t, b.get("/login"))
	// Five emails, one failure each, from one address.
	for i := range 5 {
		b.post("/login", url.Values{"csrf_token": {tok}, "email": {"user" + strconv.Itoa(i) + "@example.com"}, "password": {"whatever password"}})
	}
	p := b.post("/login", url.Values{"csrf_token": {tok}, "email": {"other@example.com"}, "password": {testPassword}})
	if p.resp.StatusCode != http.StatusTooManyRequests || p.resp.Header.Get("Retry-After") == "" {
		t.Fatalf("6th attempt from one address: %d", p.resp.StatusCode)
	}
}
