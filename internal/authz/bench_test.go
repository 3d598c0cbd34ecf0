package authz

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// backends are the stores benchmarks and backend-sensitive tests run on;
// PostgreSQL skips unless TEST_DATABASE_URL is set.
var backends = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store { return storetest.SQLite(t) }},
	{"postgres", func(t testing.TB) store.Store { return storetest.Postgres(t) }},
}

// eachBackend runs fn on a fresh env per backend, in parallel.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnvOn(t, be.open(t)))
		})
	}
}

// Load shape of issue 2: 50 concurrent clients.
const benchClients = 50

func benchHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients}}
}

// latencies collects per-request durations from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) { l.mu.Lock(); l.d = append(l.d, d...); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
}

// BenchmarkTokenRefresh drives the refresh grant through the real HTTP
// server with 50 concurrent clients, each rotating its own families, the
// load generator included (go test -bench TokenRefresh -benchtime 5000x).
func BenchmarkTokenRefresh(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newEnvOn(b, be.open(b))
			const families = 1000
			_, refresh := e.mint(families)
			var (
				next atomic.Int64
				lat  latencies
				hc   = benchHTTPClient()
				mu   sync.Mutex // guards refresh
			)
			b.SetParallelism((benchClients + 1) / 2) // × GOMAXPROCS (2 here)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				g := int(next.Add(1) - 1)
				var mine []time.Duration
				for i := 0; pb.Next(); i++ {
					f := (g + i*benchClients) % families
					mu.Lock()
					rt := refresh[f]
					refresh[f] = "" // one user of a family at a time
					mu.Unlock()
					if rt == "" {
						continue // in use by another goroutine (only with more than 50)
					}
					t0 := time.Now()
					newRT := benchRefresh(b, hc, e, rt)
					mine = append(mine, time.Since(t0))
					mu.Lock()
					refresh[f] = newRT
					mu.Unlock()
				}
				lat.add(mine)
			})
			lat.report(b, time.Since(start))
		})
	}
}

func benchRefresh(b *testing.B, hc *http.Client, e *env, rt string) string {
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.client.ID, e.secret)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("refresh: %d %v", resp.StatusCode, err)
	}
	return out.RefreshToken
}

// BenchmarkIntrospect introspects active access tokens (cached by the
// validator) over HTTP with 50 concurrent clients.
func BenchmarkIntrospect(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newEnvOn(b, be.open(b))
			access, _ := e.mint(1000)
			hc := benchHTTPClient()
			var (
				next atomic.Int64
				lat  latencies
			)
			b.SetParallelism((benchClients + 1) / 2)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				g := int(next.Add(1))
				var mine []time.Duration
				for i := 0; pb.Next(); i++ {
					body := url.Values{"token": {access[(g*31+i)%len(access)]}}.Encode()
					req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/introspect", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(e.client.ID, e.secret)
					t0 := time.Now()
					resp, err := hc.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mine = append(mine, time.Since(t0))
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("introspect: %d", resp.StatusCode)
					}
				}
				lat.add(mine)
			})
			lat.report(b, time.Since(start))
		})
	}
}

// BenchmarkIntrospectHandler is the server's own cost of an introspection,
// without the HTTP client and connection handling.
func BenchmarkIntrospectHandler(b *testing.B) {
	e := newEnv(b)
	access, _ := e.mint(1000)
	mux := http.NewServeMux()
	e.h.Routes(mux)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			req := httptest.NewRequest(http.MethodPost, "/oauth/introspect", strings.NewReader("token="+access[i%len(access)]))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(e.client.ID, e.secret)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			if w.Code != 200 || !strings.Contains(w.Body.String(), `"active":true`) {
				b.Fatalf("introspect: %d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkValidateCached is a Dashboard API request's token check when
// the token is in the cache.
func BenchmarkValidateCached(b *testing.B) {
	e := newEnv(b)
	access, _ := e.mint(1000)
	v := e.h.Validator()
	for _, a := range access {
		if _, err := v.Validate(e.ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := v.Validate(e.ctx, access[i%len(access)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
