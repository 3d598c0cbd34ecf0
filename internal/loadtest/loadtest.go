// Package loadtest measures a grantflow server the way its clients use it:
// real HTTP on loopback against a real store, with many concurrent clients.
// It prepares its own fixtures (an organization, an admin, integrations and
// many token families) and reports requests per second and latency
// percentiles. `grantflow loadtest` runs it; the numbers in the README and in
// the closing notes come from it.
package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Result is one measured workload.
type Result struct {
	Name        string
	Requests    int
	Errors      int
	Duration    time.Duration
	Concurrency int
	P50, P90    time.Duration
	P99, Max    time.Duration
}

// RPS is the throughput.
func (r Result) RPS() float64 { return float64(r.Requests) / r.Duration.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%-28s %8.0f req/s  p50 %-8s p90 %-8s p99 %-8s max %-8s (%d requests, %d errors, %d clients, %s)",
		r.Name, r.RPS(), round(r.P50), round(r.P90), round(r.P99), round(r.Max), r.Requests, r.Errors, r.Concurrency, r.Duration.Round(time.Millisecond))
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// run calls do from concurrency workers until duration passes; worker w
// gets its own index so it can own a slice of the fixtures.
func run(ctx context.Context, name string, concurrency int, duration time.Duration, do func(ctx context.Context, worker, iter int) error) Result {
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var firstErr error
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			nerr := 0
			var ferr error
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t0 := time.Now()
				err := do(ctx, w, i)
				lat = append(lat, time.Since(t0))
				if err != nil {
					nerr++
					if ferr == nil {
						ferr = err
					}
				}
			}
			mu.Lock()
			all = append(all, lat...)
			errs += nerr
			if firstErr == nil {
				firstErr = ferr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	r := Result{Name: name, Requests: len(all), Errors: errs, Duration: elapsed, Concurrency: concurrency,
		P50: pct(0.50), P90: pct(0.90), P99: pct(0.99)}
	if len(all) > 0 {
		r.Max = all[len(all)-1]
	}
	if firstErr != nil {
		r.Name += " (first error: " + trim(firstErr.Error()) + ")"
	}
	return r
}

func trim(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// httpClient keeps one connection per worker alive.
func httpClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency * 2
	tr.MaxIdleConnsPerHost = concurrency * 2
	tr.MaxConnsPerHost = 0
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// postForm posts a form with HTTP Basic client authentication and decodes
// a JSON answer into out (if not nil).
func postForm(ctx context.Context, c *http.Client, u, user, pass string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", u, resp.StatusCode, trim(string(body)))
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// getBearer GETs u with a bearer token and discards the body.
func getBearer(ctx context.Context, c *http.Client, u, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return nil
}
