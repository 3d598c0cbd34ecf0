package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
	"github.com/grantflow/grantflow/internal/workflow/expr"
)

// web-service.http_request ("HTTP Request") sends method to the target's
// base URL (protocol://host:port and the target's path) joined to
// relative_url with exactly one "/" (FORMAT.md §3.8). References are
// substituted into the URL, the headers, the cookies and the body without
// escaping. accept and content_type set those headers, custom_headers
// [{name, value}] add more (and may replace them), cookie ["n=v", …]
// become one Cookie header. The target's credentials (Authorize) are
// added unless a custom header already sets Authorization.
//
// allow_auto_redirect follows up to 10 redirects; Go's client drops
// Authorization and Cookie on a redirect to another domain.
// continue_on_error_status_code: a non-2xx answer is an ordinary result;
// without it the activity fails with error.code the status ("404"),
// keeping status_code and response_body. Retries are those of
// [httpRetry]. Outputs: status_code, response_body (at most the variable
// limit), response_headers (name → values joined with ", ").
var httpRequest = engine.Type{Name: "web-service.http_request", Effect: true, Repeatable: readOnlyMethod("method"), Compile: func(a *export.Activity) (engine.Activity, error) {
	str := func(k string) expr.Template { s, _ := a.Props[k].(string); return expr.Parse(s) }
	c := &httpCall{
		method: str("method"), url: str("relative_url"), body: str("body"),
		contentType: str("content_type"), accept: str("accept"),
		redirect:     boolProp(a.Props["allow_auto_redirect"]),
		statusIsData: boolProp(a.Props["continue_on_error_status_code"]),
	}
	c.spec, _ = a.Props["target"].(map[string]any)
	if v, ok := a.Props["custom_headers"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			return nil, errors.New("custom_headers is not a list")
		}
		for i, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("custom_headers[%d] is not an object", i)
			}
			name, _ := m["name"].(string)
			value, _ := m["value"].(string)
			c.headers = append(c.headers, [2]expr.Template{expr.Parse(name), expr.Parse(value)})
		}
	}
	switch v := a.Props["cookie"].(type) {
	case nil:
	case string:
		c.cookies = append(c.cookies, expr.Parse(v))
	case []any:
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("cookie[%d] is not a string", i)
			}
			c.cookies = append(c.cookies, expr.Parse(s))
		}
	default:
		return nil, errors.New("cookie is not a list of name=value strings")
	}
	return engine.ActivityFunc(c.run), nil
}}

type httpCall struct {
	method, url, body, contentType, accept expr.Template
	headers                                [][2]expr.Template // name, value
	cookies                                []expr.Template
	redirect, statusIsData                 bool
	spec                                   map[string]any
}

func (c *httpCall) run(ctx context.Context, x *engine.X) (engine.Output, error) {
	t, err := x.TargetFor(c.spec)
	if err != nil {
		return nil, err
	}
	method, err := methodOf(x.Text(c.method))
	if err != nil {
		return nil, err
	}
	u, err := requestURL(t, strings.TrimSpace(x.Text(c.url)))
	if err != nil {
		return nil, err
	}
	h, err := c.header(x)
	if err != nil {
		return nil, err
	}
	body := x.Text(c.body)
	x.Input("method", method)
	x.Input("url", redactURL(u))
	x.Input("headers", recordedHeader(h))
	if body != "" {
		x.Input("body", body)
	}

	client := *x.HTTPClient(t)
	client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if !c.redirect {
			return http.ErrUseLastResponse
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	authorize := t != nil && t.Authorize != nil && h.Get("Authorization") == ""
	resp, err := httpRetry.send(ctx, method, func(ctx context.Context) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bodyReader(body))
		if err != nil {
			return nil, engine.Failf("%s %s: %v", method, redactURL(u), err)
		}
		req.Header = h.Clone()
		if host := h.Get("Host"); host != "" {
			req.Host = host
		}
		if authorize {
			if err := t.Authorize(ctx, req); err != nil {
				return nil, &engine.Failure{Message: fmt.Sprintf("the credentials of target %s: %v", targetName(t), err), Code: "authorization"}
			}
		}
		return client.Do(req)
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
	headers := make(map[string]any, len(resp.Header))
	for k, v := range resp.Header {
		headers[k] = strings.Join(v, ", ")
	}
	out := engine.Output{"status_code": int64(resp.StatusCode), "response_body": text, "response_headers": headers}
	if !succeeded2xx(resp.StatusCode) && !c.statusIsData {
		return out, &engine.Failure{Message: fmt.Sprintf("the server answered %d %s", resp.StatusCode, reason(resp)), Code: strconv.Itoa(resp.StatusCode)}
	}
	return out, nil
}

// header builds the request headers once; each attempt takes a copy.
func (c *httpCall) header(x *engine.X) (http.Header, error) {
	h := http.Header{}
	set := func(name, value string) error {
		if strings.ContainsAny(value, "\r\n") {
			return engine.Failf("the value of header %s holds a line break", name)
		}
		h.Set(name, value)
		return nil
	}
	if v := strings.TrimSpace(x.Text(c.accept)); v != "" {
		h.Set("Accept", v)
	}
	if v := strings.TrimSpace(x.Text(c.contentType)); v != "" {
		h.Set("Content-Type", v)
	}
	for _, p := range c.headers {
		name := strings.TrimSpace(x.Text(p[0]))
		if name == "" {
			continue
		}
		if !validHeaderName(name) {
			return nil, engine.Failf("%q is not a header name", name)
		}
		if err := set(name, x.Text(p[1])); err != nil {
			return nil, err
		}
	}
	var cookies []string
	for _, t := range c.cookies {
		if v := strings.TrimSpace(x.Text(t)); v != "" {
			cookies = append(cookies, v)
		}
	}
	if len(cookies) > 0 {
		if err := set("Cookie", strings.Join(cookies, "; ")); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// requestURL joins the target's base URL and relative_url with one "/".
// Without a target, relative_url must be a whole http(s) URL.
func requestURL(t *engine.Target, rel string) (string, error) {
	absolute := strings.HasPrefix(rel, "http://") || strings.HasPrefix(rel, "https://")
	if t == nil {
		if !absolute {
			return "", engine.Failf("the request has no target, and relative_url %q is not a whole URL", redactURL(rel))
		}
		return wireURL(rel), nil
	}
	if absolute {
		return "", engine.Failf("relative_url is a whole URL (%s); it must be relative to target %s", redactURL(rel), targetName(t))
	}
	base := strings.TrimRight(t.BaseURL, "/")
	if base == "" {
		return "", engine.Failf("target %s has no URL", targetName(t))
	}
	rel = strings.TrimLeft(rel, "/")
	switch {
	case rel == "":
		return wireURL(base), nil
	case rel[0] == '?' || rel[0] == '#':
		return wireURL(base + rel), nil
	}
	return wireURL(base + "/" + rel), nil
}

// recordedHeader is what the record shows of the headers: the values of
// credentials masked.
func recordedHeader(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		if secretName(k) {
			out[k] = export.Mask
			continue
		}
		out[k] = strings.Join(v, ", ")
	}
	return out
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
