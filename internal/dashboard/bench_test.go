package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/authz"
	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/store"
)

// realToken issues an access token through the store and swaps the env's
// validator for authz's real, cached one, so benchmarks measure the token
// check the server does.
func (e *env) realToken(scopes ...string) string {
	e.t.Helper()
	ctx := context.Background()
	now := store.Micro(e.clock.Now())
	raw, hash := oauth.NewAccessToken()
	must(e.t, e.st.Grants().CreateCode(ctx, store.AuthCode{Hash: "code-" + hash, ClientID: "bench-client", AccountID: e.fullA, OrgID: e.orgA,
		RedirectURI: "https://app.example/cb", Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}))
	_, err := e.st.Grants().RedeemCode(ctx, store.RedeemCodeParams{CodeHash: "code-" + hash, Now: now,
		Check: func(c store.AuthCode) (store.Grant, store.TokenPair, error) {
			g := store.Grant{ID: "grant-" + hash[:8], ClientID: c.ClientID, AccountID: c.AccountID, OrgID: c.OrgID, Scopes: c.Scopes, CreatedAt: now, LastUsedAt: now}
			return g, store.TokenPair{
				Refresh: store.RefreshToken{Hash: "r-" + hash, GrantID: g.ID, CreatedAt: now},
				Access: store.AccessToken{Hash: hash, GrantID: g.ID, RefreshHash: "r-" + hash, ClientID: c.ClientID, AccountID: c.AccountID,
					OrgID: c.OrgID, Scopes: c.Scopes, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			}, nil
		}})
	must(e.t, err)
	e.h.validator = authz.NewValidator(e.st.Grants(), nil, e.clock.Now, 0)
	return raw
}

// BenchmarkListNetworks is an authenticated GET
// /api/v1/organizations/{id}/networks?perPage=10 on the demo estate through
// the full handler (route, token check, org check, store query, JSON,
// Link header, usage count), with rate limits off.
func BenchmarkListNetworks(b *testing.B) {
	e := newEnv(b, Config{RateLimit: RateLimitConfig{Disabled: true}})
	tok := e.realToken("dashboard:general:config:read")
	req := httptest.NewRequest(http.MethodGet, BasePath+"/organizations/"+e.orgA+"/networks?perPage=10", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			e.h.serveAPI(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				w := httptest.NewRecorder()
				e.h.serveAPI(w, req.Clone(req.Context()))
				if w.Code != http.StatusOK {
					b.Errorf("%d", w.Code)
					return
				}
			}
		})
	})
}

// BenchmarkListNetworksHTTP drives the same request over real HTTP from 50
// keep-alive connections, beside a bare net/http handler answering the
// same bytes, and reports requests per second and p99 latency of each.
func BenchmarkListNetworksHTTP(b *testing.B) {
	e := newEnv(b, Config{RateLimit: RateLimitConfig{Disabled: true}})
	tok := e.realToken("dashboard:general:config:read")
	path := BasePath + "/organizations/" + e.orgA + "/networks?perPage=10"
	r := e.call("GET", e.srv.URL+path, tok, nil)
	if r.status != 200 {
		b.Fatalf("%d %s", r.status, r.body)
	}
	body, link := r.body, r.header.Get("Link")
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Link", link)
		_, _ = w.Write(body)
	}))
	defer bare.Close()
	for _, s := range []struct {
		name string
		url  string
	}{{"bare", bare.URL + path}, {"dashboard", e.srv.URL + path}} {
		b.Run(s.name, func(b *testing.B) { load(b, s.url, tok, 50) })
	}
}

// load sends b.N requests from conns goroutines, each with its own
// keep-alive connection.
func load(b *testing.B, url, tok string, conns int) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
}
