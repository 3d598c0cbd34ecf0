package authz

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/changes"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// testSessions stands in for package identity: the "test_account" cookie
// names the logged-in account, and each account has a fixed CSRF token.
type testSessions struct{ st store.Store }

const sessionCookie = "test_account"

func (s testSessions) Current(r *http.Request) (store.Account, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return store.Account{}, false
	}
	a, err := s.st.Accounts().GetAccount(r.Context(), c.Value)
	return a, err == nil
}

func (s testSessions) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	if a, ok := s.Current(r); ok {
		return csrfFor(a.ID)
	}
	return csrfFor("")
}

func (s testSessions) VerifyCSRF(r *http.Request) bool {
	id := ""
	if a, ok := s.Current(r); ok {
		id = a.ID
	}
	got := r.PostFormValue("csrf_token")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(csrfFor(id))) == 1
}

func csrfFor(accountID string) string { return "csrf-" + oauth.Hash("csrf" + accountID)[:16] }

// clock is the injected time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const redirectURI = "http://127.0.0.1:1/callback"

var allScopes = []string{"dashboard:general:config:read", "dashboard:general:config:write", "wireless:telemetry:read"}

// env is one authorization server on a real SQLite store behind a real
// HTTP server, with an organization, its full-access admin and a client.
type env struct {
	t      testing.TB
	ctx    context.Context
	st     store.Store
	clock  *clock
	h      *Handler
	srv    *httptest.Server
	feed   *changes.Feed
	org    store.Organization
	admin  store.Account
	client store.Client
	secret string
	conf   *oauth2.Config
}

func newEnv(t testing.TB) *env { return newEnvOn(t, storetest.New(t)) }

// newEnvOn builds the env on st (SQLite or PostgreSQL).
func newEnvOn(t testing.TB, st store.Store) *env {
	t.Helper()
	ctx := context.Background()
	lg := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := &env{t: t, ctx: ctx, st: st, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	feed, err := changes.New(ctx, st.Changes(), time.Hour, lg)
	if err != nil {
		t.Fatal(err)
	}
	e.feed = feed
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.h, err = New(Config{Issuer: e.srv.URL, Now: e.clock.Now}, st, testSessions{st}, audit.New(st.Audit(), e.clock.Now, lg), feed, lg)
	if err != nil {
		t.Fatal(err)
	}
	e.h.Routes(mux)
	// A protected endpoint, as the Dashboard API uses the validator.
	mux.HandleFunc("GET /api/test", func(w http.ResponseWriter, r *http.Request) {
		tok, err := e.h.Validator().Validate(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, tok.OrgID)
	})

	e.org = e.newOrg("100", "Acme")
	e.admin = e.newAccount("admin@example.com", map[string]store.Access{e.org.ID: store.AccessFull})
	e.client, e.secret = e.newClient("Network Insights", func(c *store.Client) {})
	e.conf = e.oauthConfig(e.client, e.secret)
	return e
}

func (e *env) newOrg(id, name string) store.Organization {
	o := store.Organization{ID: id, Name: name, CreatedAt: e.clock.Now()}
	if err := e.st.Organizations().CreateOrganization(e.ctx, o); err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) newAccount(email string, access map[string]store.Access) store.Account {
	a := store.Account{ID: oauth.NewID(), Email: email, Name: email, PasswordHash: "unused", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.st.Accounts().CreateAccount(e.ctx, a); err != nil {
		e.t.Fatal(err)
	}
	for org, acc := range access {
		if err := e.st.Accounts().PutMembership(e.ctx, store.Membership{OrgID: org, AccountID: a.ID, Access: acc, CreatedAt: e.clock.Now()}); err != nil {
			e.t.Fatal(err)
		}
	}
	return a
}

func (e *env) newClient(name string, edit func(*store.Client)) (store.Client, string) {
	secret, _ := oauth.NewRefreshToken() // any 256-bit random string
	secret = strings.TrimPrefix(secret, oauth.RefreshPrefix)
	c := store.Client{
		ID: "cl_" + oauth.NewID()[:12], Name: name, SecretHash: oauth.Hash(secret),
		RedirectURIs: []string{redirectURI}, Scopes: allScopes,
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
	}
	edit(&c)
	if err := e.st.Clients().CreateClient(e.ctx, c); err != nil {
		e.t.Fatal(err)
	}
	return c, secret
}

func (e *env) oauthConfig(c store.Client, secret string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.ID, ClientSecret: secret, RedirectURL: c.RedirectURIs[0],
		Scopes:   []string{"dashboard:general:config:read", "wireless:telemetry:read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
}

// browser returns an HTTP client that is logged in as acct (or nobody for
// a zero account) and does not follow redirects, so tests see them.
func (e *env) browser(acct store.Account) *http.Client {
	return &http.Client{
		Transport:     &cookieTransport{acct: acct.ID},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type cookieTransport struct{ acct string }

func (c *cookieTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.acct != "" {
		r = r.Clone(r.Context())
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.acct})
	}
	return http.DefaultTransport.RoundTrip(r)
}

// reply is what tests look at in a response whose body was read.
type reply struct {
	StatusCode int
	Header     http.Header
}

func replyOf(resp *http.Response) *reply { return &reply{resp.StatusCode, resp.Header} }

// get fetches url with b and returns the response and its body.
func get(t testing.TB, b *http.Client, u string) (*reply, string) {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return replyOf(resp), string(body)
}

func postForm(t testing.TB, b *http.Client, u string, form url.Values) (*reply, string) {
	t.Helper()
	resp, err := b.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return replyOf(resp), string(body)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields returns the hidden fields of a page's form.
func formFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// consentPage opens the authorization URL as acct and expects the consent page.
func (e *env) consentPage(acct store.Account, authURL string) string {
	e.t.Helper()
	resp, body := get(e.t, e.browser(acct), authURL)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: status %d, Location %q, body:\n%s", authURL, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return body
}

// approve posts the consent form of page for orgID and returns the redirect.
func (e *env) decide(acct store.Account, page, decision, orgID string) *url.URL {
	e.t.Helper()
	form := formFields(page)
	form.Set("decision", decision)
	if orgID != "" {
		form.Set("organization_id", orgID)
	}
	resp, body := postForm(e.t, e.browser(acct), e.srv.URL+"/oauth/authorize", form)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("consent POST: status %d, body:\n%s", resp.StatusCode, body)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// code runs the authorization as the admin and returns the code.
func (e *env) code(conf *oauth2.Config, opts ...oauth2.AuthCodeOption) string {
	e.t.Helper()
	page := e.consentPage(e.admin, conf.AuthCodeURL("st-123", opts...))
	u := e.decide(e.admin, page, "approve", e.org.ID)
	q := u.Query()
	if q.Get("code") == "" || q.Get("state") != "st-123" || q.Get("iss") != e.srv.URL {
		e.t.Fatalf("redirect %s: want code, state and iss", u)
	}
	return q.Get("code")
}

// tokens runs the whole flow and returns the first token pair.
func (e *env) tokens(conf *oauth2.Config) *oauth2.Token {
	e.t.Helper()
	tok, err := conf.Exchange(e.ctx, e.code(conf))
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// refresh refreshes rt with x/oauth2.
func (e *env) refresh(conf *oauth2.Config, rt string) (*oauth2.Token, error) {
	return conf.TokenSource(e.ctx, &oauth2.Token{RefreshToken: rt}).Token()
}

// oauthError returns the OAuth error code of an x/oauth2 failure.
func oauthError(t testing.TB, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want *oauth2.RetrieveError, got %T %v", err, err)
	}
	return re.ErrorCode
}

// call posts form to an OAuth endpoint with Basic credentials (id "" for none).
func (e *env) call(path, id, secret string, form url.Values) (*reply, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			e.t.Fatalf("%s: body %q is not JSON: %v", path, body, err)
		}
	}
	return replyOf(resp), m
}

// introspect asks as the env's client unless another is given.
func (e *env) introspect(token string, as ...any) map[string]any {
	e.t.Helper()
	id, secret := e.client.ID, e.secret
	if len(as) == 2 {
		id, secret = as[0].(store.Client).ID, as[1].(string)
	}
	resp, m := e.call("/oauth/introspect", id, secret, url.Values{"token": {token}})
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("introspect: status %d %v", resp.StatusCode, m)
	}
	return m
}

func (e *env) active(token string) bool { return e.introspect(token)["active"] == true }

// api calls the protected endpoint and returns the status.
func (e *env) api(access string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/test", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// auditActions lists the audit log's actions, oldest first.
func (e *env) auditActions() []string {
	evs, err := e.st.Audit().ListAudit(e.ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Action)
	}
	return out
}

func oauth2SetParam(k, v string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam(k, v) }

func hashOf(raw string) string { return oauth.Hash(raw) }
