package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/server"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// With --metrics-token, /metrics answers only that bearer secret.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.AutomationKey = testAutomationKey
	cfg.MetricsToken = "metrics-secret-0123456789"
	srv, err := server.New(context.Background(), cfg, storetest.New(t), slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	for auth, want := range map[string]int{
		"":                                 http.StatusUnauthorized,
		"Bearer wrong":                     http.StatusUnauthorized,
		"Bearer metrics-secret-012345678":  http.StatusUnauthorized,
		"Basic bWV0cmljczpzZWNyZXQ=":       http.StatusUnauthorized,
		"Bearer metrics-secret-0123456789": http.StatusOK,
	} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: %d, want %d", auth, resp.StatusCode, want)
		}
	}
	// /healthz and /readyz stay open for load balancers.
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
}
