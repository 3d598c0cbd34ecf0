package activities_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/workflow/engine"
)

func webTarget(base string) *engine.Target {
	return &engine.Target{ID: "definition_target_web", Name: "JSON Placeholder", Type: "web-service.endpoint", BaseURL: base}
}

func TestHTTPRequestURLJoin(t *testing.T) {
	t.Parallel()
	rc := &recorder{}
	srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "[]") })
	tests := []struct {
		path, rel   string // target path, relative_url
		wantPath    string
		wantQuery   string
		wantFailure string
	}{
		{"", "/users", "/users", "", ""},
		{"", "users", "/users", "", ""},
		{"/v1", "/users", "/v1/users", "", ""},
		{"/v1", "users/1", "/v1/users/1", "", ""},
		{"/rss/", "/feed", "/rss/feed", "", ""},
		{"/rss/", "feed", "/rss/feed", "", ""},
		{"/v2", "", "/v2", "", ""},
		{"/v2", "?zip=94107,us", "/v2", "zip=94107,us", ""},
		{"", "/data/2.5/weather?zip=" + ioRef("input", "zip") + ",us&units=imperial", "/data/2.5/weather", "zip=94107,us&units=imperial", ""},
		{"", "/search?q=" + ioRef("input", "words"), "/search", "q=two%20words", ""},
		{"", "https://example.com/users", "", "", "must be relative"},
	}
	vars := []ioVar{{"zip", "input", "datatype.string", "94107"}, {"words", "input", "datatype.string", "two words"}}
	for _, tc := range tests {
		before := len(rc.got())
		r := ioOne(t, webTarget(srv.URL+tc.path), "web-service.http_request", map[string]any{"method": "GET", "relative_url": tc.rel,
			"target": map[string]any{"use_workflow_target": true}}, vars...)
		if tc.wantFailure != "" {
			if !strings.Contains(failed(r), tc.wantFailure) {
				t.Errorf("%q + %q: failure %q, want %q", tc.path, tc.rel, failed(r), tc.wantFailure)
			}
			continue
		}
		got := rc.got()
		if len(got) != before+1 {
			t.Errorf("%q + %q: %s %s, no request", tc.path, tc.rel, r.Status, failed(r))
			continue
		}
		if g := got[len(got)-1]; g.Path != tc.wantPath || g.Query != tc.wantQuery {
			t.Errorf("%q + %q: sent %s?%s, want %s?%s", tc.path, tc.rel, g.Path, g.Query, tc.wantPath, tc.wantQuery)
		}
	}
}

// References go into the URL, the headers, the cookies and the body as
// text, without escaping.
func TestHTTPRequestSubstitution(t *testing.T) {
	t.Parallel()
	rc := &recorder{}
	srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "42")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":7}`)
	})
	vars := []ioVar{
		{"token", "input", "datatype.secure_string", "s3cret"},
		{"name", "input", "datatype.string", `Ada "the first"`},
		{"vdom", "input", "datatype.string", "root"},
		{"session", "input", "datatype.string", "abc"},
	}
	wf := ioExport(t, vars, ioAct{"a", "web-service.http_request", map[string]any{
		"method": "post", "relative_url": "v2/cmdb/firewall/addrgrp?access_token=" + ioRef("input", "token") + "&vdom=" + ioRef("input", "vdom"),
		"body":         `{"name": "` + ioRef("input", "name") + `"}`,
		"content_type": "application/json", "accept": "application/x-ndjson",
		"custom_headers": []any{map[string]any{"name": "Authorization", "value": "Bearer " + ioRef("input", "token")},
			map[string]any{"name": "X-Vdom", "value": ioRef("input", "vdom")}},
		"cookie":                        []any{"session=" + ioRef("input", "session"), "lang=en"},
		"continue_on_error_status_code": false, "allow_auto_redirect": true,
		"target": map[string]any{"use_workflow_target": true},
	}})
	target := webTarget(srv.URL)
	target.Authorize = func(_ context.Context, r *http.Request) error { r.SetBasicAuth("u", "p"); return nil }
	_, rec := ioRun(t, wf, target)
	r := rec.of(t, "a")
	if r.Status != engine.StatusSucceeded {
		t.Fatalf("%s: %s", r.Status, r.Error)
	}
	g := rc.got()[0]
	if g.Method != http.MethodPost || g.Path != "/v2/cmdb/firewall/addrgrp" || g.Query != "access_token=s3cret&vdom=root" {
		t.Errorf("sent %s %s?%s", g.Method, g.Path, g.Query)
	}
	if g.Body != `{"name": "Ada "the first""}` {
		t.Errorf("body %q, want the value spliced in unescaped", g.Body)
	}
	for k, want := range map[string]string{"Authorization": "Bearer s3cret", "X-Vdom": "root", "Cookie": "session=abc; lang=en",
		"Content-Type": "application/json", "Accept": "application/x-ndjson"} {
		if v := g.Header.Get(k); v != want {
			t.Errorf("%s: %q, want %q (a custom Authorization wins over the target's)", k, v, want)
		}
	}
	out := r.Output
	hdrs, _ := out["response_headers"].(map[string]any)
	if out["status_code"] != int64(201) || out["response_body"] != `{"id":7}` || hdrs["X-Request-Id"] != "42" {
		t.Errorf("output %v", out)
	}
	in := r.Input
	rh, _ := in["headers"].(map[string]any)
	if !strings.Contains(in["url"].(string), "access_token=*****") || rh["Authorization"] != "*****" || rh["Cookie"] != "*****" {
		t.Errorf("recorded %v, want credentials masked", in)
	}
	for _, v := range []any{in["url"], rh["Authorization"], rh["Cookie"]} {
		if strings.Contains(v.(string), "s3cret") {
			t.Errorf("record shows the secret: %v", in)
		}
	}
}

func TestHTTPRequestTargetCredentials(t *testing.T) {
	t.Parallel()
	rc := &recorder{}
	srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) {})
	target := webTarget(srv.URL)
	target.Authorize = func(_ context.Context, r *http.Request) error { r.SetBasicAuth("user", "pw"); return nil }
	ioOne(t, target, "web-service.http_request", map[string]any{"method": "GET", "relative_url": "/x"})
	if g := rc.got(); len(g) != 1 || g[0].Auth != "Basic dXNlcjpwdw==" {
		t.Errorf("got %+v", g)
	}
}

func TestHTTPRequestStatus(t *testing.T) {
	t.Parallel()
	srv := (&recorder{}).server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "{}")
	})
	tests := []struct {
		statusIsData, continueOnFailure bool
		record, run                     string
	}{
		{true, false, engine.StatusSucceeded, engine.RunSucceeded},
		{false, false, engine.StatusFailed, engine.RunFailed},
		{false, true, engine.StatusFailed, engine.RunSucceeded},
	}
	for _, tc := range tests {
		wf := ioExport(t, nil, ioAct{"a", "web-service.http_request", map[string]any{"method": "GET", "relative_url": "/users/99",
			"continue_on_error_status_code": tc.statusIsData, "continue_on_failure": tc.continueOnFailure}})
		res, rec := ioRun(t, wf, webTarget(srv.URL))
		r := rec.of(t, "a")
		if r.Status != tc.record || res.Status != tc.run || r.Output["status_code"] != int64(404) || r.Output["response_body"] != "{}" {
			t.Errorf("%+v: record %s, run %s, output %v", tc, r.Status, res.Status, r.Output)
		}
		if tc.record == engine.StatusFailed {
			e, _ := r.Output["error"].(map[string]any)
			if e["code"] != "404" || e["message"] != "the server answered 404 Not Found" || r.Output["succeeded"] != false {
				t.Errorf("error %v", r.Output)
			}
		}
	}
}

func TestHTTPRequestRedirect(t *testing.T) {
	t.Parallel()
	srv := (&recorder{}).server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "new")
	})
	for _, follow := range []bool{true, false} {
		r := ioOne(t, webTarget(srv.URL), "web-service.http_request", map[string]any{"method": "GET", "relative_url": "/old",
			"allow_auto_redirect": follow, "continue_on_error_status_code": true})
		hdrs, _ := r.Output["response_headers"].(map[string]any)
		switch {
		case follow && (r.Output["status_code"] != int64(200) || r.Output["response_body"] != "new"):
			t.Errorf("followed: %v", r.Output)
		case !follow && (r.Output["status_code"] != int64(302) || hdrs["Location"] != "/new"):
			t.Errorf("not followed: %v", r.Output)
		}
	}
}

func TestHTTPRequestRetries(t *testing.T) {
	t.Parallel()
	rc := &recorder{}
	srv := rc.server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case 1, 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	})
	r := ioOne(t, webTarget(srv.URL), "web-service.http_request", map[string]any{"method": "GET", "relative_url": "/"})
	if r.Status != engine.StatusSucceeded || r.Output["response_body"] != "ok" || len(rc.got()) != 4 {
		t.Errorf("%s %v after %d requests", r.Status, r.Output, len(rc.got()))
	}
}

// A response larger than a variable holds fails the activity, clearly.
func TestHTTPRequestBodyLimit(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1 << 20, 1<<20 + 1} {
		srv := (&recorder{}).server(t, func(n int, w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, strings.Repeat("x", size))
		})
		r := ioOne(t, webTarget(srv.URL), "web-service.http_request", map[string]any{"method": "GET", "relative_url": "/big"})
		msg := failed(r)
		switch {
		case size == 1<<20 && (msg != "" || len(r.Output["response_body"].(string)) != size):
			t.Errorf("1 MB: %q", msg)
		case size > 1<<20 && msg != "the answer is larger than 1048576 bytes, the most a variable holds":
			t.Errorf("1 MB + 1: %q", msg)
		}
	}
}

func TestHTTPRequestNetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	r := ioOne(t, webTarget(base), "web-service.http_request", map[string]any{"method": "POST", "relative_url": "/x?token=abc", "action_timeout": 3})
	msg := failed(r)
	if !strings.HasPrefix(msg, "the request failed: ") || strings.Contains(msg, "abc") {
		t.Errorf("got %q", msg)
	}
}
