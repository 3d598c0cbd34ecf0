package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/store"
)

func idHash(t *testing.T, cookieValue string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(cookieValue)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

func TestSessionIdleExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	if p := b.login("admin@example.com", testPassword, "/organizations"); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", p.resp.StatusCode)
	}
	// Activity keeps the session alive past the idle timeout in total...
	for range 3 {
		e.clock.Advance(time.Hour + 59*time.Minute)
		if p := b.get("/organizations"); p.resp.StatusCode != http.StatusOK {
			t.Fatalf("active session ended: %d", p.resp.StatusCode)
		}
	}
	// ...but two idle hours end it.
	e.clock.Advance(2 * time.Hour)
	p := b.get("/organizations")
	if p.resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.resp.Header.Get("Location"), "/login?return_to=") {
		t.Fatalf("idle session still valid: %d %s", p.resp.StatusCode, p.resp.Header.Get("Location"))
	}
	// The expired session is gone from the store, not just ignored.
	if _, err := e.st.Sessions().GetSession(context.Background(), idHash(t, b.cookie("grantflow_session").Value)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session still stored: %v", err)
	}
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login("admin@example.com", testPassword, "/")
	for range 11 {
		e.clock.Advance(time.Hour)
		if p := b.get("/organizations"); p.resp.StatusCode != http.StatusOK {
			t.Fatalf("session ended before 12h: %d", p.resp.StatusCode)
		}
	}
	e.clock.Advance(59 * time.Minute)
	if p := b.get("/organizations"); p.resp.StatusCode != http.StatusOK {
		t.Fatalf("session ended at 11h59m: %d", p.resp.StatusCode)
	}
	e.clock.Advance(time.Minute)
	if p := b.get("/organizations"); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("session alive after 12h despite activity: %d", p.resp.StatusCode)
	}
}

func TestSessionTouchAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login("admin@example.com", testPassword, "/")
	h := idHash(t, b.cookie("grantflow_session").Value)
	loginAt := store.Micro(e.clock.Now())
	lastSeen := func() time.Time {
		s, err := e.st.Sessions().GetSession(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSeenAt
	}
	e.clock.Advance(30 * time.Second)
	b.get("/organizations")
	b.get("/organizations")
	if got := lastSeen(); !got.Equal(loginAt) {
		t.Errorf("last_seen written within the first minute: %v, want %v", got, loginAt)
	}
	e.clock.Advance(31 * time.Second)
	b.get("/organizations")
	if got, want := lastSeen(), store.Micro(e.clock.Now()); !got.Equal(want) {
		t.Errorf("last_seen %v, want %v after a minute", got, want)
	}
}

func TestSessionCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		issuer, session, csrf string
		secure                bool
	}{
		{"http://127.0.0.1:8080", "grantflow_session", "grantflow_csrf", false},
		{"https://grantflow.example.com", "__Host-grantflow_session", "__Host-grantflow_csrf", true},
	}
	for _, tc := range tests {
		s, err := identity.NewSessions(e.st.Sessions(), e.st.Accounts(), identity.SessionConfig{Issuer: tc.issuer}, testLogger(t), e.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		if s.CookieName() != tc.session {
			t.Errorf("%s: CookieName %q", tc.issuer, s.CookieName())
		}
		w := httptest.NewRecorder()
		if err := s.Login(w, httptest.NewRequest(http.MethodPost, "/login", nil), e.admin); err != nil {
			t.Fatal(err)
		}
		w2 := httptest.NewRecorder()
		s.CSRFToken(w2, httptest.NewRequest(http.MethodGet, "/login", nil))
		for _, c := range []*http.Cookie{setCookie(w.Result(), tc.session), setCookie(w2.Result(), tc.csrf)} {
			if c == nil {
				t.Fatalf("%s: cookie missing: %v %v", tc.issuer, w.Result().Cookies(), w2.Result().Cookies())
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != tc.secure {
				t.Errorf("%s: cookie %s: HttpOnly=%v SameSite=%v Path=%q Domain=%q Secure=%v", tc.issuer, c.Name, c.HttpOnly, c.SameSite, c.Path, c.Domain, c.Secure)
			}
			if raw, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil || len(raw) != 32 {
				t.Errorf("%s: cookie %s value is not 32 random bytes: %q", tc.issuer, c.Name, c.Value)
			}
		}
	}
	if _, err := identity.NewSessions(e.st.Sessions(), e.st.Accounts(), identity.SessionConfig{Issuer: "ftp://x"}, testLogger(t), nil); err == nil {
		t.Error("non-http issuer accepted")
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sessions
	const csrfCookie = "grantflow_csrf"

	// Anonymous: a double-submit cookie, the same value on one response
	// even when asked twice.
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/login", nil)
	tok := s.CSRFToken(w, r)
	if tok2 := s.CSRFToken(w, r); tok2 != tok {
		t.Errorf("second token on one response %q != %q", tok2, tok)
	}
	if n := len(w.Result().Cookies()); n != 1 {
		t.Errorf("%d cookies set, want 1", n)
	}
	anon := setCookie(w.Result(), csrfCookie)
	if anon == nil || anon.Value != tok {
		t.Fatalf("csrf cookie %v, token %q", anon, tok)
	}

	post := func(cookies []*http.Cookie, field, header string) *http.Request {
		form := url.Values{}
		if field != "" {
			form.Set("csrf_token", field)
		}
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header != "" {
			r.Header.Set("X-CSRF-Token", header)
		}
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return r
	}

	// A logged-in session: the token is derived from the session id.
	lw := httptest.NewRecorder()
	if err := s.Login(lw, httptest.NewRequest(http.MethodPost, "/login", nil), e.admin); err != nil {
		t.Fatal(err)
	}
	sess := setCookie(lw.Result(), "grantflow_session")
	sr := httptest.NewRequest(http.MethodGet, "/", nil)
	sr.AddCookie(sess)
	sw := httptest.NewRecorder()
	stok := s.CSRFToken(sw, sr)
	if len(sw.Result().Cookies()) != 0 {
		t.Error("a logged-in CSRFToken set a cookie")
	}
	other := httptest.NewRecorder()
	_ = s.Login(other, httptest.NewRequest(http.MethodPost, "/login", nil), e.admin)
	otherSess := setCookie(other.Result(), "grantflow_session")

	tests := []struct {
		name    string
		cookies []*http.Cookie
		field   string
		header  string
		want    bool
	}{
		{"anonymous, form field", []*http.Cookie{anon}, tok, "", true},
		{"anonymous, header", []*http.Cookie{anon}, "", tok, true},
		{"anonymous, wrong value", []*http.Cookie{anon}, tok[:len(tok)-2] + "AA", "", false},
		{"anonymous, no token", []*http.Cookie{anon}, "", "", false},
		{"anonymous, no cookie", nil, tok, "", false},
		{"session, form field", []*http.Cookie{sess}, stok, "", true},
		{"session, header", []*http.Cookie{sess}, "", stok, true},
		{"session, other session's token", []*http.Cookie{otherSess}, stok, "", false},
		{"session cookie present: double-submit value refused", []*http.Cookie{sess, anon}, tok, "", false},
		{"session id itself is not the token", []*http.Cookie{sess}, sess.Value, "", false},
	}
	for _, tc := range tests {
		if got := s.VerifyCSRF(post(tc.cookies, tc.field, tc.header)); got != tc.want {
			t.Errorf("%s: VerifyCSRF = %v, want %v", tc.name, got, tc.want)
		}
	}

	// A JSON API call: the header counts and the body stays readable.
	jr := httptest.NewRequest(http.MethodPost, "/api/x", strings.NewReader(`{"name":"x"}`))
	jr.Header.Set("Content-Type", "application/json")
	jr.Header.Set("X-CSRF-Token", stok)
	jr.AddCookie(sess)
	if !s.VerifyCSRF(jr) {
		t.Error("JSON request with X-CSRF-Token refused")
	}
	if body, _ := io.ReadAll(jr.Body); string(body) != `{"name":"x"}` {
		t.Errorf("VerifyCSRF consumed the JSON body: %q", body)
	}
}

func TestLoginRotatesSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sessions
	w := httptest.NewRecorder()
	_ = s.Login(w, httptest.NewRequest(http.MethodPost, "/login", nil), e.admin)
	first := setCookie(w.Result(), "grantflow_session")

	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.AddCookie(first)
	w2 := httptest.NewRecorder()
	if err := s.Login(w2, r, e.admin); err != nil {
		t.Fatal(err)
	}
	second := setCookie(w2.Result(), "grantflow_session")
	if second == nil || second.Value == first.Value {
		t.Fatalf("session id not rotated: %v", second)
	}
	if _, err := e.st.Sessions().GetSession(context.Background(), idHash(t, first.Value)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old session survived login: %v", err)
	}
	// The store never sees the cookie value itself.
	if _, err := e.st.Sessions().GetSession(context.Background(), second.Value); !errors.Is(err, store.ErrNotFound) {
		t.Error("session stored under its plain id")
	}
}

func TestSessionsCleanup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 3 {
		_ = e.sessions.Login(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", nil), e.admin)
	}
	if n, err := e.sessions.Cleanup(context.Background()); err != nil || n != 0 {
		t.Fatalf("cleanup of fresh sessions: %d, %v", n, err)
	}
	e.clock.Advance(2*time.Hour + time.Second)
	if n, err := e.sessions.Cleanup(context.Background()); err != nil || n != 3 {
		t.Fatalf("cleanup of idle sessions: %d, %v", n, err)
	}
}
