package registry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

var (
	secretRE   = regexp.MustCompile(`^gfs_[A-Za-z0-9_-]{43}$`)
	clientIDRE = regexp.MustCompile(`^gfc_[A-Za-z0-9_-]{22}$`)
	// findSecret finds a secret inside a page.
	findSecret = regexp.MustCompile(`gfs_[A-Za-z0-9_-]{43}`)
	findID     = regexp.MustCompile(`gfc_[A-Za-z0-9_-]{22}`)
)

// accountHeader names the account a test request acts as; testSessions
// stands in for package identity's sessions.
const accountHeader = "X-Test-Account"

type testSessions struct{ accounts map[string]store.Account }

func (s testSessions) Current(r *http.Request) (store.Account, bool) {
	a, ok := s.accounts[r.Header.Get(accountHeader)]
	return a, ok
}

func (s testSessions) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	return csrfFor(r.Header.Get(accountHeader))
}

func (s testSessions) VerifyCSRF(r *http.Request) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	acct := r.Header.Get(accountHeader)
	return acct != "" && got == csrfFor(acct)
}

func csrfFor(accountID string) string { return "csrf-" + accountID }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	st         store.Store
	svc        *Service
	clock      *clock
	srv        *httptest.Server
	alice, bob store.Account
}

func newEnv(t *testing.T) *env {
	t.Helper()
	lg := slog.New(slog.NewTextHandler(t.Output(), nil))
	st := storetest.New(t)
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	e := &env{
		st:    st,
		clock: clk,
		svc:   NewService(st.Clients(), audit.New(st.Audit(), clk.now, lg), clk.now, lg),
		alice: store.Account{ID: "acct-alice", Email: "alice@example.com", Name: "Alice", CreatedAt: clk.now(), UpdatedAt: clk.now()},
		bob:   store.Account{ID: "acct-bob", Email: "bob@example.com", Name: "Bob", CreatedAt: clk.now(), UpdatedAt: clk.now()},
	}
	for _, a := range []store.Account{e.alice, e.bob} {
		if err := st.Accounts().CreateAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	h, err := NewHandler(e.svc, testSessions{accounts: map[string]store.Account{e.alice.ID: e.alice, e.bob.ID: e.bob}}, lg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// request describes one HTTP request to the test server.
type request struct {
	method, path string
	as           string // account id, "" for nobody
	csrf         bool   // send the account's CSRF token
	csrfFrom     string // send this other account's CSRF token instead
	contentType  string
	body         string
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(t *testing.T, rq request) response {
	t.Helper()
	req, err := http.NewRequest(rq.method, e.srv.URL+rq.path, strings.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	if rq.as != "" {
		req.Header.Set(accountHeader, rq.as)
	}
	if rq.csrf {
		req.Header.Set("X-CSRF-Token", csrfFor(rq.as))
	}
	if rq.csrfFrom != "" {
		req.Header.Set("X-CSRF-Token", csrfFor(rq.csrfFrom))
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// create registers an integration for owner through the service.
func (e *env) create(t *testing.T, ownerID string) (store.Client, string) {
	t.Helper()
	c, secret, err := e.svc.CreateAs(context.Background(), ownerID, CreateParams{
		Name:         "Alice's app",
		RedirectURIs: []string{"https://app.example.com/cb"},
		Scopes:       []string{"dashboard:general:config:read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, secret
}

func (e *env) events(t *testing.T) []store.AuditEvent {
	t.Helper()
	evs, err := e.st.Audit().ListAudit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// eventsFor returns the actions recorded about clientID, oldest first.
func (e *env) actionsFor(t *testing.T, clientID string) []string {
	t.Helper()
	var out []string
	evs := e.events(t)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Target == clientID {
			out = append(out, evs[i].Action)
		}
	}
	return out
}
