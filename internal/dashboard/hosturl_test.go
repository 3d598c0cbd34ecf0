package dashboard

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A forged Host header does not reach absolute URLs in answers: the Link
// header (which clients follow, sending their key along) and the url fields
// are built on the configured public URL.
func TestAbsoluteURLsIgnoreHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	get := func(path string) (http.Header, []map[string]any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+BasePath+path, nil)
		must(t, err)
		req.Host = "evil.example"
		req.Header.Set("Authorization", "Bearer "+e.keyFullA)
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := e.srv.Client().Do(req)
		must(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		must(t, err)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		var list []map[string]any
		if body[0] == '{' {
			var one map[string]any
			must(t, json.Unmarshal(body, &one))
			list = append(list, one)
		} else {
			must(t, json.Unmarshal(body, &list))
		}
		return resp.Header, list
	}
	want := e.srv.URL + "/"
	for _, path := range []string{
		"/organizations",
		"/organizations/" + e.orgA,
		"/organizations/" + e.orgA + "/networks?perPage=3",
		"/networks/" + e.hq.ID,
		"/networks/" + e.hq.ID + "/devices",
		"/devices/" + e.switchA.Serial,
	} {
		h, items := get(path)
		if link := h.Get("Link"); link != "" {
			for _, m := range linkRe.FindAllStringSubmatch(link, -1) {
				if !strings.HasPrefix(m[1], want) {
					t.Errorf("GET %s: Link rel=%s is %s, want it on %s", path, m[2], m[1], want)
				}
			}
		} else if strings.Contains(path, "perPage") {
			t.Errorf("GET %s: no Link header", path)
		}
		for _, it := range items {
			u, _ := it["url"].(string)
			if !strings.HasPrefix(u, want) {
				t.Errorf("GET %s: url %q, want it on %s", path, u, want)
			}
		}
	}
}
