package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// TestRevocationLatencyAcrossReplicas: three server processes on one
// PostgreSQL (children of this one, which only sets up the integration).
// 50 access tokens, cached by every replica, are revoked one after the
// other, each at the next replica in turn; for each the test measures the
// time from sending the revocation until every other replica's
// introspection reports it inactive. The replicas poll the change feed only
// once a minute, so every revocation has to arrive by LISTEN/NOTIFY. The
// goal (issue 10) is 50 ms at p99; the bound asserted is looser so that a
// loaded machine does not make the test flaky, and the real figures are
// logged.
func TestRevocationLatencyAcrossReplicas(t *testing.T) {
	t.Parallel()
	dbURL := storetest.NewPostgresDatabase(t)
	st, err := sqlstore.OpenPostgres(context.Background(), dbURL, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := startServer(t, st)
	var replicas []string
	for range 3 {
		replicas = append(replicas, startChild(t, dbURL, childPollEnv+"=1m"))
	}
	for _, r := range replicas {
		waitStatus(t, r+"/readyz", "", http.StatusOK, 30*time.Second)
	}
	conf, tok, _ := issueToken(t, e, "dashboard:general:config:read")

	// Each refresh issues another access token of the same grant; the
	// earlier ones stay valid, so one grant gives all the tokens.
	const n = 50
	ctx := context.Background()
	tokens := make([]string, n)
	for i := range tokens {
		tok, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		tokens[i] = tok.AccessToken
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	for _, r := range replicas { // every replica caches every token
		for _, at := range tokens {
			if active, err := introspect(hc, conf, r, at); err != nil || !active {
				t.Fatalf("%s: fresh token inactive (%v)", r, err)
			}
		}
	}

	lat := make([]time.Duration, n)      // until every other replica refuses
	answered := make([]time.Duration, n) // until the revocation was answered
	for i, at := range tokens {
		revoker := replicas[i%len(replicas)]
		start := time.Now()
		revokeToken(t, hc, conf, revoker, at)
		answered[i] = time.Since(start)
		if active, err := introspect(hc, conf, revoker, at); err != nil || active {
			t.Fatalf("token %d still active at the replica that revoked it (%v)", i, err)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, r := range replicas {
			if r == revoker {
				continue
			}
			wg.Go(func() {
				for {
					active, err := introspect(hc, conf, r, at)
					if err != nil {
						t.Error(err)
						return
					}
					if !active {
						break
					}
					if time.Since(start) > 5*time.Second {
						t.Errorf("token %d still active at %s after 5 s", i, r)
						return
					}
					time.Sleep(time.Millisecond)
				}
				d := time.Since(start)
				mu.Lock()
				lat[i] = max(lat[i], d)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	after := make([]time.Duration, n) // from the answer until every other replica refuses
	for i := range lat {
		after[i] = lat[i] - answered[i]
	}
	summary := func(ds []time.Duration) string {
		ds = slices.Sorted(slices.Values(ds))
		pct := func(p float64) time.Duration {
			return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(100 * time.Microsecond)
		}
		return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s", pct(0.50), pct(0.90), pct(0.99), pct(1))
	}
	t.Logf("%d revoked tokens, %d replicas; refused by every other replica, from sending the revocation: %s", n, len(replicas), summary(lat))
	t.Logf("  from the revoking replica's answer: %s; the revocation itself took: %s", summary(after), summary(answered))
	// The bound is on what the feed controls: from the revoking replica's
	// answer to every other replica refusing. Under the race detector every
	// request is several times slower, so only the figures are logged.
	slices.Sort(after)
	if p99 := after[n*99/100]; p99 > 250*time.Millisecond && !raceEnabled {
		t.Errorf("p99 %s after the revocation was answered, want under 250 ms (goal: 50 ms)", p99)
	}
}

// introspect asks base's introspection endpoint, as the token's own
// client, whether token is active.
func introspect(hc *http.Client, conf *oauth2.Config, base, token string) (bool, error) {
	resp, err := postClient(hc, conf, base+"/oauth/introspect", token)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return false, fmt.Errorf("introspect at %s: %w", base, err)
	}
	return out.Active, nil
}

// revokeToken revokes token at base (RFC 7009) as its client.
func revokeToken(t *testing.T, hc *http.Client, conf *oauth2.Config, base, token string) {
	t.Helper()
	resp, err := postClient(hc, conf, base+"/oauth/revoke", token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// postClient posts token to u authenticated as conf's client and expects 200.
func postClient(hc *http.Client, conf *oauth2.Config, u, token string) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(conf.ClientID), url.QueryEscape(conf.ClientSecret))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %d", u, resp.StatusCode)
	}
	return resp, nil
}
