package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/grantflow/grantflow/internal/web"
)

// syncBuffer is a log sink the server goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newServer serves the chain the way the server package assembles it.
func newServer(t *testing.T) (*httptest.Server, *syncBuffer, *prometheus.Registry) {
	t.Helper()
	logs := &syncBuffer{}
	lg := slog.New(slog.NewJSONHandler(logs, nil))
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "id="+web.RequestIDFrom(r.Context()))
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom") })
	mux.HandleFunc("POST /teapot", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := web.Chain(mux, web.RequestID, web.Logging(lg), web.Metrics(reg), web.Recover(lg), web.SecurityHeaders)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, logs, reg
}

func get(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t)
	for _, path := range []string{"/callback", "/nowhere", "/boom"} {
		resp, _ := get(t, srv, "GET", path, nil)
		want := map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
		if strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action") {
			t.Errorf("%s: CSP must not restrict form-action (consent redirects to other origins)", path)
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	srv, _, _ := newServer(t)
	tests := []struct {
		name, incoming string
		keep           bool
	}{
		{"none", "", false},
		{"sane", "req-123_abc.def:1", true},
		{"spaces", "a b", false},
		{"markup", "<script>", false},
		{"too long", strings.Repeat("a", 129), false},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		hdr := map[string]string{}
		if tc.incoming != "" {
			hdr["X-Request-Id"] = tc.incoming
		}
		resp, body := get(t, srv, "GET", "/callback", hdr)
		id := resp.Header.Get("X-Request-Id")
		if body != "id="+id {
			t.Errorf("%s: handler saw %q, response header %q", tc.name, body, id)
		}
		if tc.keep && id != tc.incoming {
			t.Errorf("%s: id %q, want incoming %q kept", tc.name, id, tc.incoming)
		}
		if !tc.keep {
			if id == "" || id == tc.incoming || len(id) != 24 {
				t.Errorf("%s: id %q, want a fresh 24-hex-digit id", tc.name, id)
			}
			if seen[id] {
				t.Errorf("%s: id %q reused", tc.name, id)
			}
			seen[id] = true
		}
	}
}

func TestLoggingOmitsQueryAndRecordsRoute(t *testing.T) {
	t.Parallel()
	srv, logs, _ := newServer(t)
	resp, _ := get(t, srv, "GET", "/callback?code=SECRETCODE&state=xyz", nil)
	rid := resp.Header.Get("X-Request-Id")
	if strings.Contains(logs.String(), "SECRETCODE") {
		t.Fatalf("query string leaked into the log:\n%s", logs)
	}
	var line map[string]any
	for _, l := range logs.lines(t) {
		if l["request_id"] == rid {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("no log line with request_id %q:\n%s", rid, logs)
	}
	for k, v := range map[string]any{"method": "GET", "path": "/callback", "route": "GET /callback", "status": float64(200), "bytes": float64(len("id=") + len(rid))} {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("log line has no duration: %v", line)
	}
}

func TestRecover(t *testing.T) {
	t.Parallel()
	srv, logs, _ := newServer(t)
	resp, body := get(t, srv, "GET", "/boom", nil)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	if strings.Contains(body, "kaboom") {
		t.Errorf("panic value leaked to the client: %q", body)
	}
	var sawPanic, sawRequest bool
	for _, l := range logs.lines(t) {
		if l["msg"] == "handler panic" && l["panic"] == "kaboom" && l["stack"] != nil {
			sawPanic = true
		}
		if l["msg"] == "http request" && l["route"] == "GET /boom" && l["status"] == float64(500) {
			sawRequest = true
		}
	}
	if !sawPanic || !sawRequest {
		t.Errorf("want a panic log and a 500 request log, got:\n%s", logs)
	}
	// The server survives.
	if resp, _ := get(t, srv, "GET", "/callback", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after panic: status %d", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	srv, _, reg := newServer(t)
	get(t, srv, "GET", "/callback?x=1", nil)
	get(t, srv, "GET", "/callback", nil)
	get(t, srv, "POST", "/teapot", nil)
	get(t, srv, "GET", "/no/such/path/12345", nil)
	get(t, srv, "GET", "/boom", nil)
	get(t, srv, "BREW", "/callback", nil)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	observations := map[string]uint64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := labels(m)
			switch mf.GetName() {
			case "grantflow_http_requests_total":
				counts[l["method"]+" "+l["route"]+" "+l["code"]] = m.GetCounter().GetValue()
			case "grantflow_http_request_duration_seconds":
				observations[l["method"]+" "+l["route"]] = m.GetHistogram().GetSampleCount()
			}
		}
	}
	wantCounts := map[string]float64{
		"GET GET /callback 200": 2,
		"POST POST /teapot 418": 1,
		"GET unmatched 404":     1,
		"GET GET /boom 500":     1,
		"OTHER unmatched 405":   1,
	}
	for k, v := range wantCounts {
		if counts[k] != v {
			t.Errorf("requests_total{%s} = %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
	if len(counts) != len(wantCounts) {
		t.Errorf("unexpected series: %v", counts)
	}
	if observations["GET GET /callback"] != 2 || observations["GET unmatched"] != 1 {
		t.Errorf("duration observations: %v", observations)
	}

	// A second chain on the same registry reuses the registered collectors:
	// what it counts shows up in reg, not in a collector nobody gathers.
	second := web.Metrics(reg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	second.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	mfs, err = reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var reused float64
	for _, mf := range mfs {
		if mf.GetName() != "grantflow_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if l := labels(m); l["method"] == "GET" && l["route"] == "unmatched" && l["code"] == "204" {
				reused = m.GetCounter().GetValue()
			}
		}
	}
	if reused != 1 {
		t.Errorf("second chain's request counted %v times in the shared registry, want 1", reused)
	}
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

func TestChainOrder(t *testing.T) {
	t.Parallel()
	var order []string
	mw := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	h := web.Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { order = append(order, "handler") }), mw("a"), mw("b"))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if got := strings.Join(order, ","); got != "a,b,handler" {
		t.Errorf("order %s, want a,b,handler", got)
	}
}
