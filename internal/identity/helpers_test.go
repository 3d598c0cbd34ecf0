package identity_test

import (
	"context"
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

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
	"github.com/grantflow/grantflow/internal/web"
)

// clock is a settable time source shared by the code under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const testPassword = "correct horse battery"

type env struct {
	t        *testing.T
	st       store.Store
	clock    *clock
	svc      *identity.Service
	sessions *identity.Sessions
	srv      *httptest.Server
	org      store.Organization
	admin    store.Account // full admin of org, password testPassword
	logs     *logBuffer    // what the server logged
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// logBuffer keeps what the server logs, for tests that check it.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newEnv starts the identity pages on a real HTTP server over a fresh
// SQLite store, with one organization and one full admin. opts come after
// the test's cheap argon2 parameters, so they can override them.
func newEnv(t *testing.T, opts ...identity.ServiceOption) *env {
	t.Helper()
	st := storetest.New(t)
	clk := newClock()
	logs := &logBuffer{}
	lg := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), &slog.HandlerOptions{Level: slog.LevelInfo}))
	rec := audit.New(st.Audit(), clk.Now, lg)
	svc := identity.NewService(st, rec, lg, clk.Now, append([]identity.ServiceOption{identity.WithArgon2(identity.TestArgon2)}, opts...)...)
	srv := httptest.NewUnstartedServer(nil)
	sess, err := identity.NewSessions(st.Sessions(), st.Accounts(), identity.SessionConfig{Issuer: "http://" + srv.Listener.Addr().String()}, lg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	h, err := identity.NewHandler(svc, sess, st.Audit(), lg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	h.SetClients(st.Clients())
	mux := http.NewServeMux()
	h.Routes(mux)
	srv.Config.Handler = web.Chain(mux, web.RequestID, web.SecurityHeaders, fromAddress)
	srv.Start()
	t.Cleanup(srv.Close)

	e := &env{t: t, st: st, clock: clk, svc: svc, sessions: sess, srv: srv, logs: logs}
	ctx := context.Background()
	e.org, err = svc.CreateOrganization(ctx, "Acme Corp")
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.CreateAdmin(ctx, e.org.ID, "Admin@Example.com", testPassword, store.AccessFull)
	if err != nil {
		t.Fatal(err)
	}
	e.admin = res.Account
	return e
}

// testAddressHeader names the client address a test request pretends to
// come from (every test request really comes from 127.0.0.1).
const testAddressHeader = "X-Test-Remote-Addr"

// testCancelHeader makes the server see a request whose client has gone
// away (its context is cancelled).
const testCancelHeader = "X-Test-Cancelled"

// fromAddress sets RemoteAddr from testAddressHeader, as a server behind a
// trusted proxy would from X-Forwarded-For, and cancels the requests that
// carry testCancelHeader.
func fromAddress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get(testAddressHeader); a != "" {
			r.RemoteAddr = a + ":40000"
		}
		if r.Header.Get(testCancelHeader) != "" {
			ctx, cancel := context.WithCancel(r.Context())
			cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each 303.
type browser struct {
	e    *env
	c    *http.Client
	addr string // the client address the server sees; "" for 127.0.0.1
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &http.Client{
		Transport:     e.srv.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &browser{e: e, c: c}
}

type page struct {
	resp *http.Response
	body string
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	if b.addr != "" {
		req.Header.Set(testAddressHeader, b.addr)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return read(b.e.t, resp)
}

func read(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{resp: resp, body: string(body)}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf_token in page:\n%s", p.body)
	}
	return m[1]
}

// login fetches the login form and posts it.
func (b *browser) login(email, password, returnTo string) page {
	b.e.t.Helper()
	form := b.get("/login?return_to=" + url.QueryEscape(returnTo))
	return b.post("/login", url.Values{
		"csrf_token": {csrfOf(b.e.t, form)},
		"email":      {email},
		"password":   {password},
		"return_to":  {returnTo},
	})
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func setCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// auditActions lists the actions of every audit event, oldest first.
func (e *env) auditActions() []string {
	e.t.Helper()
	evs, err := e.st.Audit().ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Action)
	}
	return out
}

func mustContain(t *testing.T, body, want string) {
	t.Helper()
	if !strings.Contains(body, want) {
		t.Errorf("page does not contain %q:\n%s", want, body)
	}
}
