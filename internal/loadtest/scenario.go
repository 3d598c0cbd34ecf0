package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

// Params choose what to measure.
type Params struct {
	Store       *sqlstore.Store
	Logger      *slog.Logger
	Families    int           // token families to refresh
	Concurrency int           // concurrent clients
	Duration    time.Duration // per workload
	Ops         []string      // "refresh", "introspect", "api"

	// WorkflowRuns > 0 adds the workflow workload: that many on-demand
	// runs of WorkflowFile started at once (workflows.go).
	WorkflowRuns    int
	WorkflowFile    string
	WorkflowTimeout time.Duration // how long to wait for the runs to end (0: 2 minutes)
	WorkflowGoal    time.Duration // the per-run goal reported (0: 2 s)
}

// fixture is what the workloads share.
type fixture struct {
	base     string
	orgID    string
	clientID string
	secret   string
	rsID     string // a resource server, for introspection
	rsSecret string
	refresh  []string // current refresh token per family
	access   []string // an access token per family
	srv      *server.Server
}

// Run starts a grantflow server on a free loopback port over p.Store,
// prepares fixtures and measures each workload in turn, writing one line
// per result to out. The workflow workload, if asked for, comes last; its
// result is in the second return value.
func Run(ctx context.Context, p Params, out io.Writer) ([]Result, *WorkflowResult, error) {
	if len(p.Ops) > 0 && p.Families < p.Concurrency {
		return nil, nil, errors.New("loadtest: need at least as many families as clients (each client owns its families)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	cfg := config.Default()
	cfg.Addr = ln.Addr().String()
	cfg.RateLimitOrg, cfg.RateLimitIP = 0, 0
	// Automation's tokens are not measured here; a throwaway vault key keeps
	// the run from leaving a key file behind.
	cfg.AutomationKey = vault.NewKey()
	srv, err := server.New(ctx, cfg, p.Store, p.Logger, server.Options{})
	if err != nil {
		return nil, nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(sctx, ln) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			p.Logger.Warn("load test server", "err", err)
		}
	}()

	f := &fixture{base: "http://" + cfg.Addr, srv: srv}
	var results []Result
	if len(p.Ops) > 0 {
		if err := f.prepare(ctx, p); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(out, "store: %s; %d families; %d concurrent clients; %s per workload\n", p.Store.Dialect(), p.Families, p.Concurrency, p.Duration)
	}
	for _, op := range p.Ops {
		var r Result
		switch op {
		case "refresh":
			r = f.refreshLoad(ctx, p)
		case "introspect":
			r = f.introspectLoad(ctx, p)
		case "api":
			rs, err := f.apiLoad(ctx, p)
			if err != nil {
				return results, nil, err
			}
			for _, r := range rs[:len(rs)-1] {
				fmt.Fprintln(out, r)
				results = append(results, r)
			}
			r = rs[len(rs)-1]
		default:
			return results, nil, fmt.Errorf("loadtest: unknown workload %q (want refresh, introspect or api)", op)
		}
		fmt.Fprintln(out, r)
		results = append(results, r)
	}
	if p.WorkflowRuns > 0 {
		fmt.Fprintf(out, "store: %s\n", p.Store.Dialect())
		wr, err := f.workflowLoad(ctx, p, out)
		if err != nil {
			return results, nil, err
		}
		wr.Report(out)
		return results, &wr, nil
	}
	return results, nil, nil
}

// prepare makes the organization, the integrations and the token families:
// codes are written to the store directly (no browser needed), then
// exchanged over HTTP like any client would.
func (f *fixture) prepare(ctx context.Context, p Params) error {
	org, err := f.srv.Identity.CreateOrganization(ctx, fmt.Sprintf("Load test %d", time.Now().Unix()))
	if err != nil {
		return err
	}
	f.orgID = org.ID
	email := fmt.Sprintf("load-%d@example.com", time.Now().UnixNano())
	admin, err := f.srv.Identity.CreateAdmin(ctx, org.ID, email, "load test password "+email, store.AccessFull)
	if err != nil {
		return err
	}
	scopes := []string{"dashboard:general:config:read", "dashboard:general:telemetry:read"}
	cl, secret, err := f.srv.Registry.Create(ctx, registry.CreateParams{Name: "Load test app", RedirectURIs: []string{"http://127.0.0.1:9/cb"}, Scopes: scopes})
	if err != nil {
		return err
	}
	f.clientID, f.secret = cl.ID, secret
	rs, rsSecret, err := f.srv.Registry.Create(ctx, registry.CreateParams{Name: "Load test resource server", RedirectURIs: []string{"http://127.0.0.1:9/cb"}, Scopes: scopes, ResourceServer: true})
	if err != nil {
		return err
	}
	f.rsID, f.rsSecret = rs.ID, rsSecret
	if err := f.srv.SeedEstate(ctx, org.ID); err != nil {
		return err
	}

	codes := make([]string, p.Families)
	now := time.Now()
	for i := range codes {
		raw, hash := oauth.NewCode()
		codes[i] = raw
		if err := f.srv.Store().Grants().CreateCode(ctx, store.AuthCode{Hash: hash, ClientID: cl.ID, AccountID: admin.Account.ID, OrgID: org.ID,
			RedirectURI: "http://127.0.0.1:9/cb", Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			return err
		}
	}
	f.refresh = make([]string, p.Families)
	f.access = make([]string, p.Families)
	c := httpClient(p.Concurrency)
	var wg sync.WaitGroup
	errc := make(chan error, p.Concurrency)
	for w := 0; w < p.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < p.Families; i += p.Concurrency {
				var tok tokenResponse
				if err := postForm(ctx, c, f.base+"/oauth/token", f.clientID, f.secret, url.Values{
					"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {"http://127.0.0.1:9/cb"},
				}, &tok); err != nil {
					errc <- err
					return
				}
				f.refresh[i], f.access[i] = tok.RefreshToken, tok.AccessToken
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// refreshLoad rotates refresh tokens: each client owns every
// Concurrency-th family, so no two clients ever race on one family.
func (f *fixture) refreshLoad(ctx context.Context, p Params) Result {
	c := httpClient(p.Concurrency)
	perWorker := p.Families / p.Concurrency
	return run(ctx, "POST /oauth/token (refresh)", p.Concurrency, p.Duration, func(ctx context.Context, w, i int) error {
		fam := w + (i%perWorker)*p.Concurrency
		var tok tokenResponse
		err := postForm(ctx, c, f.base+"/oauth/token", f.clientID, f.secret, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {f.refresh[fam]},
		}, &tok)
		if err == nil {
			f.refresh[fam], f.access[fam] = tok.RefreshToken, tok.AccessToken
		}
		return err
	})
}

// introspectLoad asks about random live access tokens as a resource server.
func (f *fixture) introspectLoad(ctx context.Context, p Params) Result {
	c := httpClient(p.Concurrency)
	return run(ctx, "POST /oauth/introspect", p.Concurrency, p.Duration, func(ctx context.Context, w, i int) error {
		tok := f.access[rand.IntN(len(f.access))]
		var ans struct {
			Active bool `json:"active"`
		}
		if err := postForm(ctx, c, f.base+"/oauth/introspect", f.rsID, f.rsSecret, url.Values{"token": {tok}}, &ans); err != nil {
			return err
		}
		if !ans.Active {
			return errors.New("introspection: token not active")
		}
		return nil
	})
}

// apiLoad measures an authenticated Dashboard API read against a bare
// net/http handler that returns the same bytes, in the same run.
func (f *fixture) apiLoad(ctx context.Context, p Params) ([]Result, error) {
	c := httpClient(p.Concurrency)
	u := f.base + "/api/v1/organizations/" + f.orgID + "/networks?perPage=10"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+f.access[0])
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadtest: %s answered %d: %s", u, resp.StatusCode, trim(string(body)))
	}
	link := resp.Header.Get("Link")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Link", link)
		_, _ = w.Write(body)
	})}
	go func() { _ = bare.Serve(ln) }()
	defer bare.Close()
	bareURL := "http://" + ln.Addr().String() + "/api/v1/organizations/" + f.orgID + "/networks?perPage=10"
	bareRes := run(ctx, "bare net/http, same bytes", p.Concurrency, p.Duration, func(ctx context.Context, w, i int) error {
		return getBearer(ctx, c, bareURL, "")
	})
	apiRes := run(ctx, "GET /api/v1/.../networks", p.Concurrency, p.Duration, func(ctx context.Context, w, i int) error {
		return getBearer(ctx, c, u, f.access[w%len(f.access)])
	})
	return []Result{bareRes, apiRes}, nil
}
