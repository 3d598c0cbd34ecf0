package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Unknown paths get the application's own 404 page (the layout, with the
// stylesheet and favicon); the APIs keep their own 404s and a known path's
// other method stays 405.
func TestNotFoundPageAndFavicon(t *testing.T) {
	t.Parallel()
	e := startServer(t, nil)
	fetch := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.url+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := fetch("GET", "/no/such/page")
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `href="/static/site.css"`) || !strings.Contains(body, "Page not found") || !strings.Contains(body, "/no/such/page") {
		t.Errorf("unknown page: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("the 404 page lost the security headers")
	}
	if resp, body := fetch("GET", "/api/v1/organizations/1/nope"); resp.StatusCode < 400 || strings.Contains(body, "Page not found") {
		t.Errorf("Dashboard API error: %d %s", resp.StatusCode, body)
	}
	if resp, _ := fetch("GET", "/oauth/token"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /oauth/token: %d, want 405", resp.StatusCode)
	}
	if resp, _ := fetch("GET", "/static/favicon.svg"); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, body := fetch("GET", "/login"); !strings.Contains(body, `<link rel="icon" href="/static/favicon.svg"`) {
		t.Error("pages do not link the favicon")
	}
	// The copy buttons' script is a file the CSP allows.
	if resp, body := fetch("GET", "/static/copy.js"); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(body, "data-copy") {
		t.Errorf("copy.js: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
