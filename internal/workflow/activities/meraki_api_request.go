package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// meraki.api_request ("Generic Meraki API Request") sends api_method to
// api_url, a path that begins /api/v1/ with its query inline, on the
// activity's Meraki target, with api_body as raw JSON text (FORMAT.md
// §9.3). The target's base URL already ends in /api/v1, so that prefix
// is not repeated. Credentials come from the target's Authorize (a
// bearer token, refreshed by whoever built the target) on every attempt
// and every redirect to the target's own domain, never to another.
//
// A 429 waits Retry-After and 5xx answers and network errors are retried
// with backoff, as Meraki's SDK does ([httpRetry]). A non-2xx answer is
// not a failure: the Cisco atomics compare status_code themselves.
// Outputs: status_code, status_text (the reason phrase), response_body.
//
// Meraki ignores a GET body, so a GET, HEAD or DELETE whose api_body is
// blank or an empty object ("{\n\t\n}", what the editor leaves) goes
// without one; any other body is sent as it is.
var merakiRequest = engine.Type{Name: "meraki.api_request", Effect: true, Repeatable: readOnlyMethod("api_method"), Compile: func(a *export.Activity) (engine.Activity, error) {
	method, _ := a.Props["api_method"].(string)
	path, _ := a.Props["api_url"].(string)
	if strings.TrimSpace(path) == "" {
		return nil, errors.New("the request has no api_url")
	}
	body, _ := a.Props["api_body"].(string)
	spec, _ := a.Props["target"].(map[string]any)
	c := &merakiCall{method: expr.Parse(method), path: expr.Parse(path), body: expr.Parse(body), spec: spec}
	return engine.ActivityFunc(c.run), nil
}}

type merakiCall struct {
	method, path, body expr.Template
	spec               map[string]any
}

// maxRedirects bounds the redirects a Meraki request follows.
const maxRedirects = 10

func (c *merakiCall) run(ctx context.Context, x *engine.X) (engine.Output, error) {
	t, err := x.TargetFor(c.spec)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, engine.Failf("the request has no Meraki target")
	}
	method, err := methodOf(x.Text(c.method))
	if err != nil {
		return nil, err
	}
	u, err := merakiURL(t.BaseURL, x.Text(c.path))
	if err != nil {
		return nil, err
	}
	body := x.Text(c.body)
	if !merakiSendsBody(method, body) {
		body = ""
	}
	x.Input("method", method)
	x.Input("url", redactURL(u))
	x.Input("body", body)

	base, err := url.Parse(u)
	if err != nil {
		return nil, engine.Failf("%q is not a URL: %v", u, err)
	}
	client := *x.HTTPClient(t)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := httpRetry.send(ctx, method, func(ctx context.Context) (*http.Response, error) {
		return merakiDo(ctx, &client, t, base, method, body)
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, sendError(err)
	}
	text, err := readBody(resp, x.Limits().VariableSize)
	if err != nil {
		return nil, err
	}
	return engine.Output{
		"status_code":   int64(resp.StatusCode),
		"status_text":   reason(resp),
		"response_body": text,
	}, nil
}

// merakiDo sends one attempt and follows its redirects by hand, so that
// the credentials go again to a shard of the target's domain
// (api.meraki.com → n123.meraki.com) and to no other host.
func merakiDo(ctx context.Context, client *http.Client, t *engine.Target, base *url.URL, method, body string) (*http.Response, error) {
	u := base
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bodyReader(body))
		if err != nil {
			return nil, engine.Failf("%s %s: %v", method, redactURL(u.String()), err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "grantflow")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if t.Authorize != nil && sameSite(base, u) {
			if err := t.Authorize(ctx, req); err != nil {
				return nil, &engine.Failure{Message: fmt.Sprintf("the credentials of target %s: %v", targetName(t), err), Code: "authorization"}
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return resp, nil
		}
		if loc == "" || hop >= maxRedirects {
			return resp, nil
		}
		next, err := u.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			return resp, nil //nolint:nilerr // a Location we cannot follow: the redirect itself is the answer
		}
		discard(resp)
		// As browsers and Meraki's SDK do: 303, and 301/302 after a
		// POST, go on as a GET without the body.
		if resp.StatusCode == http.StatusSeeOther || (method == http.MethodPost && resp.StatusCode <= http.StatusFound) {
			method, body = http.MethodGet, ""
		}
		u = next
	}
}

// merakiURL joins a target base URL (…/api/v1) and an api_url
// (/api/v1/…), dropping the prefix they share.
func merakiURL(baseURL, path string) (string, error) {
	path = strings.TrimSpace(path)
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return "", engine.Failf("api_url must be a path on the Meraki target, like /api/v1/organizations, not %s", redactURL(path))
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	base := strings.TrimRight(baseURL, "/")
	if base == "" {
		return "", engine.Failf("the Meraki target has no URL")
	}
	if u, err := url.Parse(base); err == nil && u.Path != "" {
		if rest, ok := strings.CutPrefix(path, u.Path); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
			path = rest
		}
	}
	return wireURL(base + path), nil
}

func merakiSendsBody(method, body string) bool {
	s := strings.TrimSpace(body)
	if s == "" {
		return false
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		empty := len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' && strings.TrimSpace(s[1:len(s)-1]) == ""
		return !empty
	}
	return true
}

func bodyReader(body string) io.Reader {
	if body == "" {
		return nil
	}
	return strings.NewReader(body)
}

// sameSite reports whether credentials for base may go to u: the same
// host, or a host of the same parent domain over https.
func sameSite(base, u *url.URL) bool {
	if u.Host == base.Host && u.Scheme == base.Scheme {
		return true
	}
	if u.Scheme != "https" {
		return false
	}
	bh, h := base.Hostname(), u.Hostname()
	if net.ParseIP(bh) != nil || net.ParseIP(h) != nil {
		return false
	}
	labels := strings.Split(bh, ".")
	if len(labels) < 3 {
		return h == bh
	}
	parent := strings.Join(labels[1:], ".")
	return h == parent || strings.HasSuffix(h, "."+parent)
}

func targetName(t *engine.Target) string {
	if t.Name != "" {
		return strconv.Quote(t.Name)
	}
	return t.ID
}
