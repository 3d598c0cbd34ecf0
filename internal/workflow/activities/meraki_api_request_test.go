package activities_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
)

// seen is what a test server received.
type seen struct {
	Method, Path, Query, Body, Auth string
	Header                          http.Header
}

// recorder is a test server that answers with answer(n) for its n-th
// request (from 0) and keeps what it received.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rc *recorder) server(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.reqs)
		rc.reqs = append(rc.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, string(b), r.Header.Get("Authorization"), r.Header.Clone()})
		rc.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (rc *recorder) got() []seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]seen(nil), rc.reqs...)
}

func merakiTarget(srv *httptest.Server) *engine.Target {
	return &engine.Target{ID: "meraki", Name: "Meraki", Type: "meraki.endpoint", BaseURL: srv.URL + "/api/v1",
		Authorize: func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer tok-1")
			return nil
		}}
}

// The two Meraki requests of Cisco's samples: the Blink LEDs POST and the
// device statuses GET whose api_body is the editor's empty object.
func TestMerakiRequestSamples(t *testing.T) {
	t.Parallel()
	rc := &recorder{}
	srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"id":"1284392014819","duration":30}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":["Not found"]}`)
	})
	vars := []ioVar{{"serial", "input", "datatype.string", "Q2XX-ABCD-1234"}, {"org", "input", "datatype.string", "549236"}}
	wf := ioExport(t, vars,
		ioAct{"blink", "meraki.api_request", map[string]any{"api_method": "POST", "api_body": "{\n    \"duration\": 30\n}",
			"api_url": "/api/v1/devices/" + ioRef("input", "serial") + "/liveTools/leds/blink", "target": map[string]any{"use_workflow_target": true}}},
		ioAct{"statuses", "meraki.api_request", map[string]any{"api_method": "GET", "api_body": "{\n\t\n}",
			"api_url": "/api/v1/organizations/" + ioRef("input", "org") + "/devices/statuses?perPage=5&statuses[]=online", "target": map[string]any{"use_workflow_target": true}}})
	res, rec := ioRun(t, wf, merakiTarget(srv))
	if res.Status != engine.RunSucceeded {
		t.Fatalf("run %s: %s", res.Status, res.Error)
	}
	got := rc.got()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if g := got[0]; g.Method != http.MethodPost || g.Path != "/api/v1/devices/Q2XX-ABCD-1234/liveTools/leds/blink" || g.Body != "{\n    \"duration\": 30\n}" ||
		g.Auth != "Bearer tok-1" || g.Header.Get("Content-Type") != "application/json" {
		t.Errorf("blink request %+v", g)
	}
	if g := got[1]; g.Method != http.MethodGet || g.Path != "/api/v1/organizations/549236/devices/statuses" || g.Query != "perPage=5&statuses[]=online" || g.Body != "" {
		t.Errorf("statuses request %+v (a GET's empty object is not sent)", g)
	}
	out := rec.of(t, "blink").Output
	if out["status_code"] != int64(202) || out["status_text"] != "Accepted" || out["response_body"] != `{"id":"1284392014819","duration":30}` || out["succeeded"] != true {
		t.Errorf("blink output %v", out)
	}
	// A 404 is an answer the workflow checks, not a failure.
	r := rec.of(t, "statuses")
	if r.Status != engine.StatusSucceeded || r.Output["status_code"] != int64(404) || r.Output["status_text"] != "Not Found" {
		t.Errorf("statuses: %s %v", r.Status, r.Output)
	}
	// The record shows the request but never the credentials.
	in := rec.of(t, "blink").Input
	if in["method"] != "POST" || in["url"] != srv.URL+"/api/v1/devices/Q2XX-ABCD-1234/liveTools/leds/blink" || in["body"] != "{\n    \"duration\": 30\n}" {
		t.Errorf("recorded input %v", in)
	}
	for k, v := range in {
		if s, _ := v.(string); strings.Contains(s, "tok-1") {
			t.Errorf("recorded %s holds the token", k)
		}
	}
}

func TestMerakiRequestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		answers  []int // status per attempt; the last repeats
		header   map[string]string
		timeout  int // action_timeout, seconds
		requests int
		status   int64
		atLeast  time.Duration
		atMost   time.Duration
	}{
		{name: "429 waits Retry-After", method: "GET", answers: []int{429, 200}, header: map[string]string{"Retry-After": "1"},
			requests: 2, status: 200, atLeast: time.Second, atMost: 5 * time.Second},
		{name: "503 twice then 200", method: "GET", answers: []int{503, 503, 200}, requests: 3, status: 200, atMost: 5 * time.Second},
		{name: "a POST is retried after 503", method: "POST", answers: []int{503, 200}, requests: 2, status: 200, atMost: 5 * time.Second},
		{name: "a POST is not repeated after 500", method: "POST", answers: []int{500, 200}, requests: 1, status: 500, atMost: time.Second},
		{name: "retries end", method: "GET", answers: []int{502}, requests: 5, status: 502, atMost: 20 * time.Second},
		{name: "no wait past the action timeout", method: "GET", answers: []int{429, 200}, header: map[string]string{"Retry-After": "30"}, timeout: 2,
			requests: 1, status: 429, atMost: 2 * time.Second},
		{name: "4xx is not retried", method: "GET", answers: []int{400, 200}, requests: 1, status: 400, atMost: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := &recorder{}
			srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) {
				code := tc.answers[min(n, len(tc.answers)-1)]
				if code != 200 {
					for k, v := range tc.header {
						w.Header().Set(k, v)
					}
				}
				w.WriteHeader(code)
				_, _ = io.WriteString(w, http.StatusText(code))
			})
			props := map[string]any{"api_method": tc.method, "api_url": "/api/v1/organizations", "target": map[string]any{"use_workflow_target": true}}
			if tc.timeout > 0 {
				props["action_timeout"] = tc.timeout
			}
			start := time.Now()
			r := ioOne(t, merakiTarget(srv), "meraki.api_request", props)
			took := time.Since(start)
			if r.Status != engine.StatusSucceeded || r.Output["status_code"] != tc.status {
				t.Errorf("%s %v, want status_code %d", r.Status, r.Output, tc.status)
			}
			if n := len(rc.got()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if took < tc.atLeast || took > tc.atMost {
				t.Errorf("took %s, want between %s and %s", took, tc.atLeast, tc.atMost)
			}
		})
	}
}

// A redirect to the target's own host gets the token again; one to
// another host does not.
func TestMerakiRequestRedirects(t *testing.T) {
	t.Parallel()
	other := &recorder{}
	elsewhere := other.server(t, func(n int, w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "elsewhere") })
	rc := &recorder{}
	srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/moved":
			http.Redirect(w, r, "/api/v1/here", http.StatusTemporaryRedirect)
		case "/api/v1/away":
			http.Redirect(w, r, elsewhere.URL+"/api/v1/there", http.StatusPermanentRedirect)
		default:
			_, _ = io.WriteString(w, "here")
		}
	})
	for _, tc := range []struct{ path, body string }{{"/api/v1/moved", "here"}, {"/api/v1/away", "elsewhere"}} {
		r := ioOne(t, merakiTarget(srv), "meraki.api_request", map[string]any{"api_method": "POST", "api_url": tc.path, "api_body": `{"a":1}`})
		if r.Output["status_code"] != int64(200) || r.Output["response_body"] != tc.body {
			t.Errorf("%s: %v", tc.path, r.Output)
		}
	}
	got := rc.got()
	if len(got) != 3 || got[1].Path != "/api/v1/here" || got[1].Auth != "Bearer tok-1" || got[1].Body != `{"a":1}` {
		t.Errorf("own host got %+v", got)
	}
	if g := other.got(); len(g) != 1 || g[0].Auth != "" || g[0].Body != `{"a":1}` {
		t.Errorf("other host got %+v, want the body and no token", g)
	}
}

// A GET interrupted by a crash runs again when the run resumes; a POST
// is not repeated, since it may have taken effect.
func TestMerakiRequestResume(t *testing.T) {
	t.Parallel()
	rc := &recorder{}
	srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "{}") })
	for _, tc := range []struct {
		method string
		runs   bool
	}{{"GET", true}, {"HEAD", true}, {"POST", false}, {"DELETE", false}} {
		wf := ioExport(t, nil, ioAct{"a", "meraki.api_request", map[string]any{"api_method": tc.method, "api_url": "/api/v1/x"}})
		before := len(rc.got())
		res, _ := ioRun(t, wf, merakiTarget(srv), func(_ *engine.Config, r *engine.Run) {
			r.Journal = map[string]*engine.Record{"/definition_activity_a#1": {Key: "/definition_activity_a#1", Status: engine.StatusRunning}}
		})
		ran := len(rc.got()) > before
		if ran != tc.runs || (res.Status == engine.RunSucceeded) != tc.runs {
			t.Errorf("%s: ran %v, run %s %s", tc.method, ran, res.Status, res.Error)
		}
	}
}

func TestMerakiRequestNoTarget(t *testing.T) {
	t.Parallel()
	r := ioOne(t, nil, "meraki.api_request", map[string]any{"api_method": "GET", "api_url": "/api/v1/organizations"})
	if !strings.Contains(failed(r), "no Meraki target") {
		t.Errorf("got %q", failed(r))
	}
}

// Credentials that cannot be had fail the request once, not five times.
func TestMerakiRequestAuthorizeFails(t *testing.T) {
	t.Parallel()
	rc := &recorder{}
	srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) {})
	calls := 0
	target := merakiTarget(srv)
	target.Authorize = func(context.Context, *http.Request) error {
		calls++
		return errors.New("the refresh token was revoked")
	}
	r := ioOne(t, target, "meraki.api_request", map[string]any{"api_method": "GET", "api_url": "/api/v1/organizations"})
	if msg := failed(r); msg != `the credentials of target "Meraki": the refresh token was revoked` || calls != 1 || len(rc.got()) != 0 {
		t.Errorf("%q after %d calls, %d requests", msg, calls, len(rc.got()))
	}
}
