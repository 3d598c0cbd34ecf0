package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/web"
)

// /static/ serves its files and lists no directory.
func TestStaticNoListing(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("GET /static/", web.Static())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for path, want := range map[string]int{
		"/static/":          http.StatusNotFound,
		"/static/./":        http.StatusNotFound,
		"/static/site.css":  http.StatusOK,
		"/static/nope.css":  http.StatusNotFound,
		"/static/../go.mod": http.StatusNotFound,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || strings.Contains(string(body), `<a href="site.css">`) {
			t.Errorf("GET %s: %d, want %d\n%s", path, resp.StatusCode, want, body)
		}
	}
}
