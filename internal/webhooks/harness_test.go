package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/webhooks"
)

const testAutomationKey = "Z3JhbnRmbG93LXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc="

// clock is real time shifted by an offset the test moves forward, so that
// River and HTTP keep working while grants age.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.offset += d; c.mu.Unlock() }

// env is a grantflow server on a SQLite file, with an organization and a
// full-access administrator who owns the test's integrations.
type env struct {
	t       *testing.T
	srv     *server.Server
	st      *sqlstore.Store
	url     string
	orgID   string
	adminID string
	email   string
	passwd  string
	clock   *clock
	stop    func()
}

var fastDelivery = webhooks.Config{
	Backoff: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond},
	Poll:    20 * time.Millisecond,
	Timeout: 2 * time.Second,
}

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openStore(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), path, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startServer serves grantflow over the SQLite file at path (a fresh one
// when path is ""), delivering webhooks with cfg's delays.
func startServer(t *testing.T, path string, clk *clock, cfg webhooks.Config) *env {
	t.Helper()
	fresh := path == "" || strings.HasPrefix(path, "postgres")
	if path == "" {
		path = filepath.Join(t.TempDir(), "grantflow.db")
	}
	if clk == nil {
		clk = &clock{}
	}
	var st *sqlstore.Store
	if strings.HasPrefix(path, "postgres") {
		var err error
		if st, err = sqlstore.OpenPostgres(context.Background(), path, logger(t)); err != nil {
			t.Fatal(err)
		}
	} else {
		st = openStore(t, path)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.Addr = ln.Addr().String()
	c.RateLimitOrg, c.RateLimitIP = 0, 0
	c.AutomationKey = testAutomationKey
	ctx := context.Background()
	srv, err := server.New(ctx, c, st, logger(t), server.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Now = clk.now
	srv.Registry.Webhooks().SetConfig(cfg)
	stopJobs, err := srv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	e := &env{t: t, srv: srv, st: st, url: ts.URL, email: "ann@example.com", passwd: "correct horse battery staple", clock: clk}
	var once sync.Once
	e.stop = func() { once.Do(func() { ts.Close(); stopJobs(); _ = st.Close() }) }
	t.Cleanup(e.stop)
	if fresh {
		org, err := srv.Identity.CreateOrganization(ctx, "Acme")
		if err != nil {
			t.Fatal(err)
		}
		e.orgID = org.ID
		if _, err := srv.Identity.CreateAdmin(ctx, org.ID, e.email, e.passwd, store.AccessFull); err != nil {
			t.Fatal(err)
		}
	}
	acct, err := st.Accounts().GetAccountByEmail(ctx, e.email)
	if err != nil {
		t.Fatal(err)
	}
	e.adminID = acct.ID
	return e
}

// delivery is one POST the receiver got.
type delivery struct {
	ID, Timestamp, Signature string
	Body                     []byte
	Payload                  webhooks.Payload
	SignatureOK              bool
}

// receiver is an integration's webhook endpoint. It checks signatures with
// its own HMAC code (not package webhooks') and answers with answer(n)
// for the n-th request (from 1).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    []delivery
	answer func(n int) int
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	r := &receiver{t: t, answer: answer}
	if r.answer == nil {
		r.answer = func(int) int { return http.StatusNoContent }
	}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		d := delivery{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"), Signature: req.Header.Get("webhook-signature"), Body: b}
		if err := json.Unmarshal(b, &d.Payload); err != nil {
			t.Errorf("delivery body is not JSON: %v\n%s", err, b)
		}
		r.mu.Lock()
		d.SignatureOK = verifyIndependently(r.secret, d)
		r.got = append(r.got, d)
		n := len(r.got)
		r.mu.Unlock()
		status := r.answer(n)
		w.WriteHeader(status)
		if status >= 300 {
			_, _ = io.WriteString(w, strings.Repeat("x", 3000)) // more than the 1 KB kept
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// verifyIndependently is the Standard Webhooks check written from the
// specification: HMAC-SHA256 over "id.timestamp.body", keyed with the
// base64-decoded part of the whsec_ secret, in a "v1,<base64>" entry.
func verifyIndependently(secret string, d delivery) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) != 32 {
		return false
	}
	ts, err := strconv.ParseInt(d.Timestamp, 10, 64)
	if err != nil || d.ID == "" {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(d.ID + "." + strconv.FormatInt(ts, 10) + "." + string(d.Body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(d.Signature) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// waitFor waits until the receiver holds a delivery matching ok.
func (r *receiver) waitFor(what string, ok func(d delivery) bool) delivery {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, d := range r.deliveries() {
			if ok(d) {
				return d
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("no delivery of %s; got %d: %v", what, len(r.deliveries()), r.deliveries())
	return delivery{}
}

func ofType(typ, grantID string) func(d delivery) bool {
	return func(d delivery) bool {
		return d.Payload.Type == typ && (grantID == "" || d.Payload.Data.GrantID == grantID)
	}
}

// app registers an integration owned by the admin and points its
// webhook at rcv.
func (e *env) app(rcv *receiver) (store.Client, string) {
	e.t.Helper()
	ctx := context.Background()
	cl, secret, err := e.srv.Registry.Create(ctx, registry.CreateParams{OwnerAccountID: e.adminID, Name: "Webhook test",
		RedirectURIs: []string{"http://127.0.0.1:1/cb"}, Scopes: []string{"dashboard:general:config:read"}})
	if err != nil {
		e.t.Fatal(err)
	}
	whsec, err := e.srv.Registry.SetWebhookURL(ctx, cl.ID, rcv.srv.URL+"/hooks")
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(whsec, "whsec_") {
		e.t.Fatalf("webhook secret = %q", whsec)
	}
	rcv.mu.Lock()
	rcv.secret = whsec
	rcv.mu.Unlock()
	return cl, secret
}

func (e *env) oauthConfig(cl store.Client, secret string) *oauth2.Config {
	return &oauth2.Config{ClientID: cl.ID, ClientSecret: secret, RedirectURL: "http://127.0.0.1:1/cb", Scopes: []string{"dashboard:general:config:read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
}

// browser is a cookie-keeping client that stops at redirects off grantflow.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(e.url)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != base.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	_, page := e.get(c, e.url+"/login")
	form := hiddenFields(page)
	form.Set("email", e.email)
	form.Set("password", e.passwd)
	e.post(c, e.url+"/login", form)
	return c
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func (e *env) get(c *http.Client, u string) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) post(c *http.Client, u string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// authorize runs the code flow in b (logged in) and exchanges the code
// with x/oauth2.
func (e *env) authorize(b *http.Client, conf *oauth2.Config) *oauth2.Token {
	e.t.Helper()
	_, page := e.get(b, conf.AuthCodeURL("st"))
	form := hiddenFields(page)
	form.Set("decision", "approve")
	form.Set("organization_id", e.orgID)
	resp, body := e.post(b, e.url+"/oauth/authorize", form)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		e.t.Fatalf("consent answered %d %s:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// grantOf returns the grant an access token belongs to.
func (e *env) grantOf(access string) string {
	e.t.Helper()
	_, g, err := e.st.Grants().GetAccessToken(context.Background(), oauth.Hash(access))
	if err != nil {
		e.t.Fatal(err)
	}
	return g.ID
}
