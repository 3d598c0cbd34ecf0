package server_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// testAutomationKey is the Automation vault key of every test server (the
// replicas of one test must share it); without one a server on PostgreSQL
// would keep a key file in the working directory.
const testAutomationKey = "Z3JhbnRmbG93LXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc="

// env is one running grantflow server on a real store and a real listener.
type env struct {
	t      *testing.T
	srv    *server.Server
	st     *sqlstore.Store
	url    string
	orgID  string
	email  string
	passwd string
}

// startServer serves a fresh grantflow on 127.0.0.1 with an organization and
// a full-access admin; it stops with the test.
func startServer(t *testing.T, st *sqlstore.Store) *env {
	t.Helper()
	if st == nil {
		st = storetest.New(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Addr = ln.Addr().String()
	cfg.RateLimitOrg, cfg.RateLimitIP = 0, 0
	cfg.AutomationKey = testAutomationKey
	lg := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, st, lg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := srv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(func() { ts.Close(); stop() })

	org, err := srv.Identity.CreateOrganization(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, st: st, url: ts.URL, orgID: org.ID, email: "ann@example.com", passwd: "correct horse battery staple"}
	if _, err := srv.Identity.CreateAdmin(ctx, org.ID, e.email, e.passwd, store.AccessFull); err != nil {
		t.Fatal(err)
	}
	return e
}

// browser is an HTTP client with cookies that stops at redirects to other
// hosts (the integration's redirect URI) so the test can read them.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(e.url)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != base.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

var (
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// get fetches u and returns the final response and its body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// hiddenFields returns a page's hidden inputs (csrf_token included).
func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// login logs c in through the login form, following return_to.
func (e *env) login(c *http.Client, email, password, returnTo string) (*http.Response, string) {
	e.t.Helper()
	_, page := get(e.t, c, e.url+"/login?return_to="+url.QueryEscape(returnTo))
	form := hiddenFields(page)
	if form.Get("csrf_token") == "" {
		e.t.Fatalf("login page has no csrf_token:\n%s", page)
	}
	form.Set("email", email)
	form.Set("password", password)
	return postForm(e.t, c, e.url+"/login", form)
}

// consent posts the consent page with decision and returns the redirect
// back to the integration (a 303 whose Location carries code or error).
func (e *env) consent(c *http.Client, page, decision, orgID string) *url.URL {
	e.t.Helper()
	form := hiddenFields(page)
	if !strings.Contains(page, `name="decision"`) {
		e.t.Fatalf("not a consent page:\n%s", page)
	}
	form.Set("decision", decision)
	if orgID != "" {
		form.Set("organization_id", orgID)
	}
	resp, body := postForm(e.t, c, e.url+"/oauth/authorize", form)
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		e.t.Fatalf("consent answered %d:\n%s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return loc
}
