package identity_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// attempt posts one login from b's address.
func (b *browser) attempt(tok, email, password string) page {
	b.e.t.Helper()
	return b.post("/login", url.Values{"csrf_token": {tok}, "email": {email}, "password": {password}})
}

// throttled checks that p is the styled 429 page with Retry-After want.
func throttled(t *testing.T, p page, retryAfter int, when string) {
	t.Helper()
	if p.resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", p.resp.StatusCode)
	}
	if ra := p.resp.Header.Get("Retry-After"); ra != strconv.Itoa(retryAfter) {
		t.Errorf("Retry-After %q, want %d", ra, retryAfter)
	}
	if !strings.HasPrefix(p.resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("429 is %s, want the styled page", p.resp.Header.Get("Content-Type"))
	}
	mustContain(t, p.body, `href="/static/site.css"`)
	mustContain(t, p.body, "Try again in "+when+".")
	if setCookie(p.resp, "grantflow_session") != nil {
		t.Error("a throttled attempt logged in")
	}
}

// One account's failures make its guessers wait, longer with every
// failure; the owner, from an address that did not fail, still logs in.
func TestLoginThrottlePerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	guesser := e.browser()
	guesser.addr = "203.0.113.7"
	tok := csrfOf(t, guesser.get("/login"))
	for i := range 5 {
		if p := guesser.attempt(tok, "Admin@example.com", "wrong password "+strconv.Itoa(i)); p.resp.StatusCode != http.StatusOK {
			t.Fatalf("attempt %d: %d", i+1, p.resp.StatusCode)
		}
		e.clock.Advance(time.Second)
	}
	// The 6th attempt from the failing address waits, even with the
	// right password: 30 s after the latest failure, 1 s ago.
	throttled(t, guesser.attempt(tok, "admin@example.com", testPassword), 29, "29 seconds")

	// The owner, from another address, is not blocked.
	owner := e.browser()
	owner.addr = "198.51.100.20"
	if p := owner.login("admin@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("owner from an address that did not fail: %d", p.resp.StatusCode)
	}

	// Each further failure doubles the delay.
	e.clock.Advance(29 * time.Second)
	for _, wait := range []int{60, 120, 240} {
		if p := guesser.attempt(tok, "admin@example.com", "wrong again"); p.resp.StatusCode != http.StatusOK {
			t.Fatalf("attempt after the delay: %d", p.resp.StatusCode)
		}
		throttled(t, guesser.attempt(tok, "admin@example.com", testPassword), wait, strconv.Itoa(wait/60)+" minute"+map[bool]string{true: "s"}[wait > 60])
		e.clock.Advance(time.Duration(wait) * time.Second)
	}
	if p := guesser.attempt(tok, "admin@example.com", "wrong again"); p.resp.StatusCode != http.StatusOK {
		t.Fatalf("attempt after the delay: %d", p.resp.StatusCode)
	}
	throttled(t, guesser.attempt(tok, "admin@example.com", testPassword), 480, "8 minutes")
}

// Colleagues behind one proxy do not lock each other out: one person's
// typos cost only that person's account.
func TestLoginThrottleSharedAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.CreateAdmin(t.Context(), e.org.ID, "colleague@example.com", testPassword, store.AccessReadOnly); err != nil {
		t.Fatal(err)
	}
	proxy := e.browser()
	proxy.addr = "192.0.2.1"
	tok := csrfOf(t, proxy.get("/login"))
	for i := range 10 {
		proxy.attempt(tok, "admin@example.com", "typo "+strconv.Itoa(i))
	}
	colleague := e.browser()
	colleague.addr = "192.0.2.1"
	if p := colleague.login("colleague@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("colleague behind the same proxy: %d, want 303", p.resp.StatusCode)
	}
}

// One address cannot spray guesses over many accounts: after 100 failures
// within 15 minutes it waits, for every account.
func TestLoginThrottlePerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.addr = "203.0.113.9"
	tok := csrfOf(t, b.get("/login"))
	for i := range 100 {
		if p := b.attempt(tok, "user"+strconv.Itoa(i)+"@example.com", "whatever password"); p.resp.StatusCode != http.StatusOK {
			t.Fatalf("failure %d: %d", i+1, p.resp.StatusCode)
		}
	}
	e.clock.Advance(5 * time.Minute)
	throttled(t, b.attempt(tok, "admin@example.com", testPassword), 600, "10 minutes")
	// Another address is not affected.
	other := e.browser()
	if p := other.login("admin@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another address: %d", p.resp.StatusCode)
	}
}

// Guesses spread over many addresses: once an account has 50 failures the
// delay binds every address, the owner's too.
func TestLoginThrottleDistributed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 50 {
		b := e.browser()
		b.addr = "203.0.113." + strconv.Itoa(i+1)
		tok := csrfOf(t, b.get("/login"))
		if p := b.attempt(tok, "admin@example.com", "guess "+strconv.Itoa(i)); p.resp.StatusCode != http.StatusOK {
			t.Fatalf("guess %d: %d", i+1, p.resp.StatusCode)
		}
	}
	fresh := e.browser()
	fresh.addr = "198.51.100.99"
	tok := csrfOf(t, fresh.get("/login"))
	throttled(t, fresh.attempt(tok, "admin@example.com", testPassword), 900, "15 minutes")
	e.clock.Advance(15 * time.Minute)
	if p := fresh.attempt(tok, "admin@example.com", testPassword); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", p.resp.StatusCode)
	}
}

// Parallel guesses are throttled like sequential ones: the attempt is
// reserved before the (slow) password check, so 40 guesses sent at once
// get 5 evaluations, not 40.
func TestLoginThrottleParallelGuesses(t *testing.T) {
	t.Parallel()
	// A real (if small) argon2 cost, so the checks overlap.
	e := newEnv(t, identity.WithArgon2(identity.Argon2Params{Memory: 8 * 1024, Time: 1, Threads: 1}))
	b := e.browser()
	tok := csrfOf(t, b.get("/login"))
	form := url.Values{"csrf_token": {tok}, "email": {"admin@example.com"}, "password": {"wrong password"}}.Encode()
	const n = 40
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	evaluated := 0
	for s := range statuses {
		switch s {
		case http.StatusOK:
			evaluated++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("status %d", s)
		}
	}
	failed := 0
	for _, a := range e.auditActions() {
		if a == identity.ActionLoginFailed {
			failed++
		}
	}
	if evaluated != 5 || failed != 5 {
		t.Errorf("%d parallel guesses: %d evaluated, %d login.failed events; want 5", n, evaluated, failed)
	}
}

// A login whose browser went away is not a server error, and it does not
// count against the throttle.
func TestLoginCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	tok := csrfOf(t, b.get("/login"))
	form := url.Values{"csrf_token": {tok}, "email": {"admin@example.com"}, "password": {testPassword}}.Encode()
	for range 10 {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(testCancelHeader, "1")
		p := b.do(req)
		if p.resp.StatusCode != 499 {
			t.Fatalf("cancelled login answered %d, want 499 (client closed request)", p.resp.StatusCode)
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("cancelled logins logged as errors:\n%s", logs)
	}
	for i := range 5 {
		if p := b.attempt(tok, "admin@example.com", "wrong "+strconv.Itoa(i)); p.resp.StatusCode != http.StatusOK {
			t.Fatalf("failure %d after cancelled logins: %d", i+1, p.resp.StatusCode)
		}
	}
}
