package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/workflow/engine"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// What meraki.api_request and web-service.http_request share: retries the
// way Meraki's own SDK does them, the answer read within the variable
// limit, and URLs made fit to send and to record.

// retryPolicy says which answers are asked again and how long to wait.
type retryPolicy struct {
	retries int           // repeats after the first attempt
	base    time.Duration // the first backoff
	longest time.Duration // the longest backoff
	maxWait time.Duration // the longest Retry-After honoured
}

// httpRetry: 429 waits Retry-After (at most a minute); 502, 503 and 504
// (the request did not reach the application) and network errors before
// the request was sent are retried for every method; 500 and other 5xx
// answers and errors after sending only for idempotent methods, so a POST
// that may have taken effect is not sent twice. A request that cannot be
// made (no credentials) is not tried again.
var httpRetry = retryPolicy{retries: 4, base: 500 * time.Millisecond, longest: 8 * time.Second, maxWait: 60 * time.Second}

// send calls attempt until it gives an answer not worth repeating, the
// retries are used up, or the activity has no time left to wait; then it
// returns the last answer with its body unread.
func (p retryPolicy) send(ctx context.Context, method string, attempt func(ctx context.Context) (*http.Response, error)) (*http.Response, error) {
	for n := 0; ; n++ {
		resp, err := attempt(ctx)
		if ctx.Err() != nil {
			discard(resp)
			return nil, ctx.Err()
		}
		wait, again := p.next(n, method, resp, err)
		if !again || n >= p.retries {
			return resp, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			return resp, err
		}
		discard(resp)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// next decides whether attempt n's outcome is asked again, and after how long.
func (p retryPolicy) next(n int, method string, resp *http.Response, err error) (time.Duration, bool) {
	if err != nil {
		var f *engine.Failure // a bad request or credentials: asking again gives the same
		if errors.As(err, &f) {
			return 0, false
		}
		return p.backoff(n), idempotent(method) || notSent(err)
	}
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, p.maxWait), true
		}
		return p.backoff(n), true
	case c == http.StatusBadGateway, c == http.StatusServiceUnavailable, c == http.StatusGatewayTimeout:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, p.maxWait), true
		}
		return p.backoff(n), true
	case c >= 500:
		return p.backoff(n), idempotent(method)
	}
	return 0, false
}

// backoff is capped exponential with jitter: between half and all of
// base·2ⁿ, at most longest.
func (p retryPolicy) backoff(n int) time.Duration {
	d := p.longest
	if n < 16 {
		d = min(p.base<<n, p.longest)
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s > 1e6 {
			return 0, s >= 0
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// notSent reports a network error from before the request left: it
// could not have taken effect.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func discard(resp *http.Response) {
	if resp == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// sendError words a failed exchange without the URL, whose query may hold
// a key; the record's input has the URL with such values masked.
func sendError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var f *engine.Failure
	if errors.As(err, &f) {
		return f
	}
	return &engine.Failure{Message: "the request failed: " + err.Error(), Code: "network"}
}

// readBody reads an answer within limit bytes (the variable limit).
func readBody(resp *http.Response, limit int) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return "", &engine.Failure{Message: "reading the answer: " + err.Error(), Code: "network"}
	}
	if len(b) > limit {
		return "", &engine.Failure{Message: fmt.Sprintf("the answer is larger than %d bytes, the most a variable holds", limit), Code: "variable_size"}
	}
	return string(b), nil
}

// reason is the answer's reason phrase ("OK", "Too Many Requests").
func reason(resp *http.Response) string {
	if s, ok := strings.CutPrefix(resp.Status, strconv.Itoa(resp.StatusCode)); ok {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return http.StatusText(resp.StatusCode)
}

// wireURL percent-encodes what substitution may have put into a URL that
// cannot go on the wire as it is (spaces, quotes, braces, non-ASCII);
// existing escapes are kept.
func wireURL(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`{|}", c) >= 0 {
			if b.Len() == 0 {
				b.Grow(len(s) + 16)
				b.WriteString(s[:i])
			}
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// redactURL masks what a recorded URL must not show: a password in the
// user info and query values whose names look like credentials
// (access_token, api_key, appid, …).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), export.Mask)
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok && secretName(k) {
				parts[i] = k + "=" + export.Mask
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

// secretName reports a header or parameter name that usually carries a
// credential.
func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "token", "key", "secret", "password", "passwd", "cookie", "appid", "signature", "session"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// methodOf reads a method property: upper-cased, GET when blank.
func methodOf(s string) (string, error) {
	m := strings.ToUpper(strings.TrimSpace(s))
	if m == "" {
		return http.MethodGet, nil
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; c < 'A' || c > 'Z' {
			return "", engine.Failf("%q is not an HTTP method", s)
		}
	}
	return m, nil
}

// readOnlyMethod is a [engine.Type] Repeatable for request types: a GET
// or HEAD interrupted by a crash may be sent again.
func readOnlyMethod(key string) func(a *export.Activity) bool {
	return func(a *export.Activity) bool {
		s, _ := a.Props[key].(string)
		m, err := methodOf(s)
		return err == nil && (m == http.MethodGet || m == http.MethodHead)
	}
}

// boolProp reads a flag leniently (exports hold true and "true").
func boolProp(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(strings.TrimSpace(b), "true")
	}
	return false
}

func succeeded2xx(code int) bool { return code >= 200 && code <= 299 }
