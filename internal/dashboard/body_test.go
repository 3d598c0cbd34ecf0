package dashboard

import (
	"net/http"
	"strings"
	"testing"
)

// A body that is not UTF-8 is refused, not stored with U+FFFD in place of
// the bad bytes; one over the limit is 413.
func TestBodyUTF8AndSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	path := "/organizations/" + e.orgA + "/networks"
	r := e.call("POST", path, e.keyFullA, "{\"name\":\"Bad \xff name\",\"productTypes\":[\"switch\"]}")
	if r.status != http.StatusBadRequest || !strings.Contains(strings.Join(r.errors(t), " "), "UTF-8") {
		t.Fatalf("invalid UTF-8: %d %s", r.status, r.body)
	}
	r = e.call("POST", path, e.keyFullA, `{"name":"`+strings.Repeat("x", maxBody)+`"}`)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d %s", r.status, r.body)
	}
}
