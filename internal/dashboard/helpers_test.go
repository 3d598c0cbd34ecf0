package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz"
	"github.com/grantflow/grantflow/internal/changes"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeValidator stands in for authz.Validator: tokens are registered by
// their raw value, anything else is authz.ErrInvalidToken.
type fakeValidator struct {
	mu     sync.Mutex
	tokens map[string]store.AccessToken
	n      int
}

func (v *fakeValidator) Validate(_ context.Context, raw string) (store.AccessToken, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.tokens[raw]
	if !ok {
		return store.AccessToken{}, authz.ErrInvalidToken
	}
	return t, nil
}

// issue registers a token for org with scopes and returns its raw value.
func (v *fakeValidator) issue(org, account, client string, scopes ...string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.n++
	raw := "gf_at_test" + digits(uint64(v.n), 12)
	v.tokens[raw] = store.AccessToken{OrgID: org, AccountID: account, ClientID: client, Scopes: scopes}
	return raw
}

func (v *fakeValidator) revoke(raw string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.tokens, raw)
}

// fakeSessions logs in whoever the "test-account" cookie names.
type fakeSessions struct{ st store.Store }

func (s fakeSessions) Current(r *http.Request) (store.Account, bool) {
	c, err := r.Cookie("test-account")
	if err != nil {
		return store.Account{}, false
	}
	a, err := s.st.Accounts().GetAccount(r.Context(), c.Value)
	return a, err == nil
}

func (fakeSessions) CSRFToken(http.ResponseWriter, *http.Request) string { return "csrf-ok" }

func (fakeSessions) VerifyCSRF(r *http.Request) bool { return r.FormValue("csrf_token") == "csrf-ok" }

// env is a Dashboard API on a real SQLite store with two seeded
// organizations and their administrators.
type env struct {
	t         testing.TB
	st        store.Store
	h         *Handler
	srv       *httptest.Server
	clock     *clock
	tokens    *fakeValidator
	orgA      string // the demo estate
	orgB      string // another organization
	fullA     string // account ids
	readA     string
	adminB    string
	keyFullA  string // API keys
	keyReadA  string
	keyB      string
	hq        store.Network // orgA's headquarters (every product type but cellular)
	switchA   store.Device  // a switch in hq
	networksB []store.Network
	feed      *changes.Feed
}

// newHandler makes a Dashboard API on the env's store with its own change
// feed, as one more process (replica) would; the feed polls until the
// test ends.
func (e *env) newHandler(cfg Config, lg *slog.Logger) (*Handler, *changes.Feed) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	feed, err := changes.New(ctx, e.st.Changes(), 50*time.Millisecond, lg)
	must(e.t, err)
	go feed.Run(ctx)
	rec := audit.New(e.st.Audit(), e.clock.Now, lg)
	h, err := New(Params{Store: e.st, Validator: e.tokens, Feed: feed, Audit: rec, Sessions: fakeSessions{e.st}, Logger: lg, Now: e.clock.Now, Config: cfg})
	must(e.t, err)
	return h, feed
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	return newEnvOn(t, storetest.New(t), cfg)
}

// newEnvOn is newEnv on a given store (PostgreSQL tests).
func newEnvOn(t testing.TB, st store.Store, cfg Config) *env {
	t.Helper()
	ctx := context.Background()
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	if tt, ok := t.(*testing.T); ok {
		lg = slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	e := &env{t: t, st: st, clock: clk, tokens: &fakeValidator{tokens: map[string]store.AccessToken{}}, orgA: "549236", orgB: "1234567"}
	for _, o := range []store.Organization{{ID: e.orgA, Name: "Org A"}, {ID: e.orgB, Name: "Org B"}} {
		o.CreatedAt = store.Micro(clk.Now())
		must(t, st.Organizations().CreateOrganization(ctx, o))
	}
	e.fullA = e.account("full@a.example", e.orgA, store.AccessFull)
	e.readA = e.account("read@a.example", e.orgA, store.AccessReadOnly)
	e.adminB = e.account("admin@b.example", e.orgB, store.AccessFull)

	// The server's address is known before it starts: it is the public URL.
	e.srv = httptest.NewUnstartedServer(nil)
	t.Cleanup(e.srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + e.srv.Listener.Addr().String()
	}
	e.h, e.feed = e.newHandler(cfg, lg)
	e.keyFullA = e.apiKey(e.fullA)
	e.keyReadA = e.apiKey(e.readA)
	e.keyB = e.apiKey(e.adminB)

	if _, err := Seed(ctx, st, SeedParams{OrgID: e.orgA, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := Seed(ctx, st, SeedParams{OrgID: e.orgB, Networks: 2, Devices: 4, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	nets, err := st.Dashboard().ListNetworks(ctx, store.NetworkFilter{OrgID: e.orgA})
	must(t, err)
	for _, n := range nets {
		if n.Name == "Headquarters" {
			e.hq = n
		}
	}
	sw, err := st.Dashboard().ListDevices(ctx, store.DeviceFilter{OrgID: e.orgA, NetworkIDs: []string{e.hq.ID}, ProductTypes: []string{"switch"}})
	must(t, err)
	if e.hq.ID == "" || len(sw) == 0 {
		t.Fatalf("seed made no headquarters with a switch: %+v", nets)
	}
	e.switchA = sw[0]
	e.networksB, err = st.Dashboard().ListNetworks(ctx, store.NetworkFilter{OrgID: e.orgB})
	must(t, err)

	mux := http.NewServeMux()
	e.h.Routes(mux)
	e.srv.Config.Handler = mux
	e.srv.Start()
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) account(email, org string, access store.Access) string {
	e.t.Helper()
	ctx := context.Background()
	id := digits(hash(email, "id"), 12)
	now := store.Micro(e.clock.Now())
	must(e.t, e.st.Accounts().CreateAccount(ctx, store.Account{ID: id, Email: email, Name: strings.Split(email, "@")[0], PasswordHash: "x", CreatedAt: now, UpdatedAt: now}))
	must(e.t, e.st.Accounts().PutMembership(ctx, store.Membership{OrgID: org, AccountID: id, Access: access, CreatedAt: now}))
	return id
}

func (e *env) apiKey(account string) string {
	e.t.Helper()
	raw, _, err := e.h.keys.Create(context.Background(), account)
	must(e.t, err)
	return raw
}

// response is an API answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d %s: %v", r.status, r.body, err)
	}
}

func (r response) errors(t testing.TB) []string {
	t.Helper()
	var e struct {
		Errors []string `json:"errors"`
	}
	r.json(t, &e)
	return e.Errors
}

// call sends method to the API path (below /api/v1, or a full URL) with a
// bearer credential ("" for none) and body (nil, a string or a value to
// encode).
func (e *env) call(method, path, cred string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		must(e.t, err)
		rd = bytes.NewReader(j)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.srv.URL + BasePath + path
	}
	req, err := http.NewRequest(method, url, rd)
	must(e.t, err)
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(e.t, err)
	return response{resp.StatusCode, resp.Header, b}
}

// token issues an OAuth token of a full admin of orgA with scopes.
func (e *env) token(scopes ...string) string {
	return e.tokens.issue(e.orgA, e.fullA, "client-1", scopes...)
}
