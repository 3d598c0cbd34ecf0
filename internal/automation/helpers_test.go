package automation_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// clock is the injected time, shared by the authorization server,
// Automation and the sessions of one test server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// masterKey is the vault key every process of one test shares.
func masterKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// env is a real grantflow server (authorization server, Dashboard API,
// Automation) on a real store behind a real HTTP server on 127.0.0.1.
type env struct {
	t     testing.TB
	ctx   context.Context
	st    *sqlstore.Store
	clock *clock
	srv   *server.Server
	ts    *httptest.Server
	url   string
	key   string
	svc   *automation.Service
	lg    *slog.Logger
	// tokenCalls counts POST /oauth/token by grant_type.
	mu         sync.Mutex
	tokenCalls map[string]int
}

type envOption func(*config.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	return newEnvOn(t, storetest.New(t), masterKey(), opts...)
}

func newEnvOn(t testing.TB, st *sqlstore.Store, key string, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: st, clock: newClock(), key: key, tokenCalls: map[string]int{}}
	e.lg = testLogger(t)
	e.ts = httptest.NewUnstartedServer(nil)
	e.url = "http://" + e.ts.Listener.Addr().String()
	cfg := config.Default()
	cfg.Issuer = e.url
	cfg.AutomationKey = key
	cfg.RateLimitOrg, cfg.RateLimitIP = 0, 0
	for _, o := range opts {
		o(&cfg)
	}
	e.url = cfg.Issuer
	srv, err := server.New(e.ctx, cfg, st, e.lg, server.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.svc = srv, srv.Automation
	h := srv.Handler()
	e.ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/oauth/token" {
			_ = r.ParseForm()
			e.mu.Lock()
			e.tokenCalls[r.PostForm.Get("grant_type")]++
			e.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	t.Cleanup(e.svc.Wait)
	return e
}

func testLogger(t testing.TB) *slog.Logger {
	if tt, ok := t.(*testing.T); ok {
		return slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (e *env) refreshCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokenCalls["refresh_token"]
}

const password = "correct horse battery staple 42"

func (e *env) newOrg(name string) store.Organization {
	e.t.Helper()
	o, err := e.srv.Identity.CreateOrganization(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) newAdmin(orgID, email string, access store.Access) store.Account {
	e.t.Helper()
	res, err := e.srv.Identity.CreateAdmin(e.ctx, orgID, email, password, access)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Account
}

// browser is a person's browser: a cookie jar, following redirects and
// remembering where it went.
type browser struct {
	e       *env
	c       *http.Client
	mu      sync.Mutex // tests racing one browser
	visited []string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{e: e}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.visited = append(b.visited, req.URL.String())
		if len(via) > 20 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// login logs in through /login like a person.
func (e *env) login(email string) *browser { return e.loginWith(e.browser(), email) }

// loginWith logs b in at e's server too (b may belong to another server).
func (e *env) loginWith(b *browser, email string) *browser {
	e.t.Helper()
	_, body := b.get(e.url + "/login")
	resp, body := b.postForm(e.url+"/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {csrf(e.t, body)}, "return_to": {"/"}})
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "Wrong email or password") {
		e.t.Fatalf("login %s: %d %s", email, resp.StatusCode, body)
	}
	return b
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token in page:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.e.url + path
}

// reply is what a test looks at in a response whose body was read and closed.
type reply struct {
	StatusCode int
	Header     http.Header
}

func (b *browser) get(path string) (*reply, string) {
	b.e.t.Helper()
	b.mu.Lock()
	b.visited = nil
	b.mu.Unlock()
	resp, err := b.c.Get(b.abs(path))
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &reply{resp.StatusCode, resp.Header}, string(body)
}

func (b *browser) postForm(path string, v url.Values) (*reply, string) {
	b.e.t.Helper()
	b.mu.Lock()
	b.visited = nil
	b.mu.Unlock()
	resp, err := b.c.PostForm(b.abs(path), v)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &reply{resp.StatusCode, resp.Header}, string(body)
}

// peek makes one request without following a redirect (nil form: GET),
// so a test can look at, or tamper with, where it would go.
func (b *browser) peek(target string, form url.Values) *reply {
	b.e.t.Helper()
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = c.Get(b.abs(target))
	} else {
		resp, err = c.PostForm(b.abs(target), form)
	}
	if err != nil {
		b.e.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return &reply{resp.StatusCode, resp.Header}
}

// post submits a form of the page at from (for its CSRF token).
func (b *browser) post(from, path string, v url.Values) (*reply, string) {
	b.e.t.Helper()
	_, page := b.get(from)
	v.Set("csrf_token", csrf(b.e.t, page))
	return b.postForm(path, v)
}

// api calls the JSON API with the page's CSRF token in X-CSRF-Token.
func (b *browser) api(method, path string, body any) (int, []byte) {
	b.e.t.Helper()
	// Any page has the logout form, with the session's CSRF token.
	_, page := b.get("/organizations")
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = strings.NewReader(string(j))
	}
	req, _ := http.NewRequest(method, b.abs(path), rd)
	req.Header.Set("Content-Type", "application/json")
	if m := csrfRE.FindStringSubmatch(page); m != nil {
		req.Header.Set("X-CSRF-Token", html.UnescapeString(m[1]))
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (e *env) tenant(orgID string) store.Tenant {
	e.t.Helper()
	t, err := e.st.Automation().GetTenantByOrg(e.ctx, orgID)
	if err != nil {
		e.t.Fatalf("tenant of %s: %v", orgID, err)
	}
	return t
}

func (e *env) token(tenantID string, kind store.TokenKind, accountID string) (store.AutomationToken, bool) {
	e.t.Helper()
	t, err := e.st.Automation().GetToken(e.ctx, tenantID, kind, accountID)
	if err != nil {
		return t, false
	}
	return t, true
}

// open returns a token's plaintext refresh token (tests only).
func (e *env) open(t store.AutomationToken, field string) string {
	e.t.Helper()
	sealed := t.RefreshSealed
	if field == "access" {
		sealed = t.AccessSealed
	}
	raw, err := e.svc.Vault().Open(e.ctx, sealed, keeper.AD(t, field))
	if err != nil {
		e.t.Fatalf("open %s: %v", field, err)
	}
	return string(raw)
}

func (e *env) audit(action string) []store.AuditEvent {
	e.t.Helper()
	evs, err := e.st.Audit().ListAudit(e.ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, ev := range evs {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

// grantOf returns the AS grant behind a token's refresh token.
func (e *env) grantOf(t store.AutomationToken) store.Grant {
	e.t.Helper()
	_, g, err := e.st.Grants().GetRefreshToken(e.ctx, oauth.Hash(e.open(t, "refresh")))
	if err != nil {
		e.t.Fatalf("grant of token: %v", err)
	}
	return g
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
