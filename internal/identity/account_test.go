package identity_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/store"
)

const newPassword = "a brand new long passphrase"

// loginFrom returns a browser logged in as the env's admin from addr.
func (e *env) loginFrom(addr string) *browser {
	e.t.Helper()
	b := e.browser()
	b.addr = addr
	if p := b.login("admin@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusSeeOther || p.resp.Header.Get("Location") != "/" {
		e.t.Fatalf("login from %q: %d %q\n%s", addr, p.resp.StatusCode, p.resp.Header.Get("Location"), p.body)
	}
	return b
}

// account fetches /account and fails unless it is the account page.
func (b *browser) account() page {
	b.e.t.Helper()
	p := b.get("/account")
	if p.resp.StatusCode != http.StatusOK {
		b.e.t.Fatalf("GET /account: %d %q", p.resp.StatusCode, p.resp.Header.Get("Location"))
	}
	return p
}

// loggedOut reports whether the browser's session no longer works.
func (b *browser) loggedOut() bool {
	b.e.t.Helper()
	p := b.get("/account")
	return p.resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(p.resp.Header.Get("Location"), "/login")
}

func (b *browser) changePassword(current, next, confirm string) page {
	b.e.t.Helper()
	return b.post("/account/password", url.Values{
		"csrf_token":       {csrfOf(b.e.t, b.account())},
		"current_password": {current},
		"new_password":     {next},
		"confirm_password": {confirm},
	})
}

var endFormRE = regexp.MustCompile(`action="(/account/sessions/[0-9a-f]+/end)"[^<]*<input[^>]*>\s*(<strong>This browser</strong>)?`)

// sessionForms returns the end-session form actions on the account page:
// this browser's and the others'.
func sessionForms(t *testing.T, p page) (mine string, others []string) {
	t.Helper()
	for _, m := range endFormRE.FindAllStringSubmatch(p.body, -1) {
		if m[2] != "" {
			mine = m[1]
		} else {
			others = append(others, m[1])
		}
	}
	return mine, others
}

func TestAccountPageNeedsLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	p := b.get("/account")
	if p.resp.StatusCode != http.StatusSeeOther || p.resp.Header.Get("Location") != "/login?return_to=%2Faccount" {
		t.Fatalf("GET /account logged out: %d %q", p.resp.StatusCode, p.resp.Header.Get("Location"))
	}
	// A logged-in person reaches it from the page header.
	b = e.loginFrom("")
	mustContain(t, b.get("/organizations").body, `<a href="/account">Account</a>`)
	p = b.account()
	mustContain(t, p.body, "Change password")
	if cc := p.resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

func TestAccountChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.loginFrom("198.51.100.1")
	other := e.loginFrom("198.51.100.2")

	p := a.account()
	if mine, others := sessionForms(t, p); mine == "" || len(others) != 1 {
		t.Fatalf("sessions on the page: mine %q, others %v\n%s", mine, others, p.body)
	}

	// A form without the session's CSRF token changes nothing.
	if p := a.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {newPassword}, "confirm_password": {newPassword}}); p.resp.StatusCode != http.StatusForbidden {
		t.Fatalf("password change without csrf: %d", p.resp.StatusCode)
	}
	if p := a.changePassword(testPassword, newPassword, newPassword+"x"); p.resp.StatusCode != http.StatusOK {
		t.Fatalf("mismatched confirmation: %d", p.resp.StatusCode)
	} else {
		mustContain(t, p.body, "The new password and its confirmation differ.")
	}

	p = a.changePassword(testPassword, newPassword, newPassword)
	if p.resp.StatusCode != http.StatusSeeOther || p.resp.Header.Get("Location") != "/account?done=password" {
		t.Fatalf("password change: %d %q\n%s", p.resp.StatusCode, p.resp.Header.Get("Location"), p.body)
	}
	// This browser stays logged in; the other one is logged out.
	mustContain(t, a.get(p.resp.Header.Get("Location")).body, "Your password was changed. Your other sessions were ended.")
	if !other.loggedOut() {
		t.Error("the other browser is still logged in after the password change")
	}
	if _, others := sessionForms(t, a.account()); len(others) != 0 {
		t.Errorf("other sessions still listed: %v", others)
	}

	// The old password no longer works; the new one does.
	if p := e.browser().login("admin@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusOK {
		t.Errorf("login with the old password: %d", p.resp.StatusCode)
	}
	if p := e.browser().login("admin@example.com", newPassword, "/"); p.resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login with the new password: %d", p.resp.StatusCode)
	}

	// Audited, with the person as actor and no organization.
	evs, err := e.st.Audit().ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(evs, func(ev store.AuditEvent) bool { return ev.Action == identity.ActionPasswordChanged })
	if i < 0 {
		t.Fatalf("no %s audit event in %v", identity.ActionPasswordChanged, e.auditActions())
	}
	if ev := evs[i]; ev.ActorAccountID != e.admin.ID || ev.OrgID != "" || ev.Details["sessions_ended"] != "1" || ev.Details["ip"] != "198.51.100.1" {
		t.Errorf("audit event %+v", ev)
	}
}

func TestAccountChangePasswordWrongCurrentIsThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.loginFrom("198.51.100.9")
	for i := range 5 {
		p := a.changePassword("not my password", newPassword, newPassword)
		if p.resp.StatusCode != http.StatusOK {
			t.Fatalf("wrong current password #%d: %d", i+1, p.resp.StatusCode)
		}
		mustContain(t, p.body, "Your current password is wrong.")
	}
	// The login throttle counted them: the next try must wait, even with
	// the right password.
	p := a.changePassword(testPassword, newPassword, newPassword)
	if p.resp.StatusCode != http.StatusTooManyRequests || p.resp.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth try: %d, Retry-After %q", p.resp.StatusCode, p.resp.Header.Get("Retry-After"))
	}
	mustContain(t, p.body, "Try again in")
	// And so is a login from this address.
	b := e.browser()
	b.addr = a.addr
	if p := b.login("admin@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after the failures: %d, want 429", p.resp.StatusCode)
	}
	// After the delay, the right password changes it.
	e.clock.Advance(time.Minute)
	if p := a.changePassword(testPassword, newPassword, newPassword); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the delay: %d\n%s", p.resp.StatusCode, p.body)
	}
	mustContain(t, a.account().body, "wrong current password")
}

func TestAccountChangePasswordPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.loginFrom("")
	other := e.loginFrom("198.51.100.3")
	for _, tc := range []struct{ password, want string }{
		{"112233445566", "data breaches"},
		{"short one", "at least 12 characters"},
	} {
		p := a.changePassword(testPassword, tc.password, tc.password)
		if p.resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: %d", tc.password, p.resp.StatusCode)
		}
		mustContain(t, p.body, tc.want)
	}
	// Nothing changed: the old password works and no session ended.
	if other.loggedOut() {
		t.Error("a refused password change ended another session")
	}
	if p := e.browser().login("admin@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the old password stopped working: %d", p.resp.StatusCode)
	}
}

func TestAccountEndSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.loginFrom("198.51.100.1")
	b := e.loginFrom("198.51.100.2")
	c := e.loginFrom("198.51.100.3")

	p := a.account()
	mustContain(t, p.body, "<code>198.51.100.2</code>")
	mustContain(t, p.body, "Go-http-client")
	_, others := sessionForms(t, p)
	if len(others) != 2 {
		t.Fatalf("other sessions: %v", others)
	}
	// End b's session (the page lists the most recently used first; find
	// b's row by its address).
	bi := strings.Index(p.body, "<code>198.51.100.2</code>")
	var bForm string
	for _, f := range others {
		if j := strings.Index(p.body, f); j > bi && (bForm == "" || j < strings.Index(p.body, bForm)) {
			bForm = f
		}
	}
	if r := a.post(bForm, url.Values{"csrf_token": {csrfOf(t, p)}}); r.resp.StatusCode != http.StatusSeeOther || r.resp.Header.Get("Location") != "/account?done=session" {
		t.Fatalf("end session: %d %q", r.resp.StatusCode, r.resp.Header.Get("Location"))
	}
	if !b.loggedOut() {
		t.Error("the ended session still works")
	}
	if a.loggedOut() || c.loggedOut() {
		t.Error("ending one session ended another")
	}
	// A reference to none of this account's sessions ends nothing.
	if r := a.post("/account/sessions/0123456789abcdef/end", url.Values{"csrf_token": {csrfOf(t, a.account())}}); r.resp.StatusCode != http.StatusSeeOther {
		t.Errorf("unknown session: %d", r.resp.StatusCode)
	}

	// End all but this one.
	r := a.post("/account/sessions/end-others", url.Values{"csrf_token": {csrfOf(t, a.account())}})
	if r.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end other sessions: %d", r.resp.StatusCode)
	}
	if !c.loggedOut() {
		t.Error("end all other sessions left one")
	}
	p = a.get(r.resp.Header.Get("Location"))
	mustContain(t, p.body, "All your other sessions were ended.")

	// Ending this browser's own session logs it out.
	mine, _ := sessionForms(t, p)
	r = a.post(mine, url.Values{"csrf_token": {csrfOf(t, p)}})
	if r.resp.StatusCode != http.StatusSeeOther || r.resp.Header.Get("Location") != "/login" {
		t.Fatalf("end own session: %d %q", r.resp.StatusCode, r.resp.Header.Get("Location"))
	}
	if !a.loggedOut() {
		t.Error("ending this browser's session did not log it out")
	}
}

func TestAccountSecurityLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.addr = "203.0.113.7"
	if p := b.login("admin@example.com", "not the password", "/"); p.resp.StatusCode != http.StatusOK {
		t.Fatalf("wrong password: %d", p.resp.StatusCode)
	}
	e.clock.Advance(time.Minute)
	b.addr = "203.0.113.8"
	if p := b.login("admin@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", p.resp.StatusCode)
	}
	p := b.account()
	i := strings.Index(p.body, "Security log")
	if i < 0 {
		t.Fatalf("no security log:\n%s", p.body)
	}
	log := p.body[i:]
	// Newest first: the success from .8 at 09:01, then the failure from .7.
	okRow := regexp.MustCompile(`(?s)2026-03-01 09:01 UTC</td>\s*<td>Login</td>\s*<td>succeeded</td>\s*<td><code>203\.0\.113\.8</code>`)
	failRow := regexp.MustCompile(`(?s)2026-03-01 09:00 UTC</td>\s*<td>Login</td>\s*<td><strong>failed</strong></td>\s*<td><code>203\.0\.113\.7</code>.*wrong password`)
	okAt, failAt := okRow.FindStringIndex(log), failRow.FindStringIndex(log)
	if okAt == nil || failAt == nil || okAt[0] > failAt[0] {
		t.Fatalf("security log rows (success %v, failure %v):\n%s", okAt, failAt, log)
	}

	// The logins stay out of the organization's audit log.
	evs, err := e.st.Audit().ListAudit(context.Background(), store.AuditFilter{OrgID: e.org.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.HasPrefix(ev.Action, "login.") {
			t.Errorf("organization audit log holds %s", ev.Action)
		}
	}

	// Another person's log is not shown.
	if _, err := e.svc.CreateAdmin(context.Background(), e.org.ID, "other@example.com", testPassword, store.AccessFull); err != nil {
		t.Fatal(err)
	}
	o := e.browser()
	o.addr = "192.0.2.50"
	if p := o.login("other@example.com", testPassword, "/"); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("other login: %d", p.resp.StatusCode)
	}
	if body := o.account().body; strings.Contains(body, "203.0.113.7") || !strings.Contains(body, "192.0.2.50") {
		t.Errorf("the other account's page shows the wrong log:\n%s", body)
	}
}

func TestAccountSecurityLogPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	base := e.clock.Now()
	for i := range 25 {
		err := e.st.SecurityLog().AppendSecurityEvent(ctx, store.SecurityEvent{
			AccountID: e.admin.ID, At: base.Add(-time.Duration(25-i) * time.Hour),
			Action: identity.ActionLoginFailed, IP: fmt.Sprintf("192.0.2.%d", i+1), Detail: "wrong password",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := e.loginFrom("") // the 26th event, the newest
	p := b.account()
	older := regexp.MustCompile(`href="(/account\?before=\d+)#security-log"`).FindStringSubmatch(p.body)
	if older == nil {
		t.Fatalf("no link to older events:\n%s", p.body)
	}
	mustContain(t, p.body, "<code>192.0.2.7</code>") // 20th newest
	if strings.Contains(p.body, "<code>192.0.2.6</code>") {
		t.Error("the first page shows more than 20 events")
	}
	p = b.get(older[1])
	for _, want := range []string{"<code>192.0.2.6</code>", "<code>192.0.2.1</code>", `href="/account#security-log">Newest`} {
		mustContain(t, p.body, want)
	}
	if strings.Contains(p.body, "<code>192.0.2.7</code>") || strings.Contains(p.body, "Older events") {
		t.Errorf("second page:\n%s", p.body)
	}
}
