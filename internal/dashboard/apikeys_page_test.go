package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// A key created on the page carries its name; the list shows its last use,
// written at most once a minute however many requests it makes.
func TestAPIKeyNameAndLastUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	acct := e.account("named@a.example", e.orgA, store.AccessReadOnly)

	if status, _, _ := e.page("POST", "/account/api-keys", acct, url.Values{"name": {"no token"}}); status != http.StatusForbidden {
		t.Errorf("create without CSRF token: %d", status)
	}
	if status, body, _ := e.page("POST", "/account/api-keys", acct, url.Values{"csrf_token": {"csrf-ok"}, "name": {strings.Repeat("x", 101)}}); status != http.StatusBadRequest || newKeyRe.MatchString(body) {
		t.Errorf("overlong name: %d", status)
	}
	status, body, _ := e.page("POST", "/account/api-keys", acct, url.Values{"csrf_token": {"csrf-ok"}, "name": {"  nightly <backup>  "}})
	m := newKeyRe.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("create: %d %s", status, body)
	}
	key := m[1]
	_, list, _ := e.page("GET", "/account/api-keys", acct, nil)
	for _, want := range []string{"nightly &lt;backup&gt;", "Last used", "never"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}

	lastUse := func() time.Time {
		t.Helper()
		ks, err := e.st.APIKeys().ListAPIKeys(context.Background(), acct)
		must(t, err)
		if len(ks) != 1 || ks[0].Name != "nightly <backup>" {
			t.Fatalf("stored keys %+v", ks)
		}
		return ks[0].LastUsedAt
	}
	t0 := store.Micro(e.clock.Now())
	for range 5 {
		if r := e.call("GET", "/organizations/"+e.orgA+"/networks", key, nil); r.status != http.StatusOK {
			t.Fatalf("API call with the key: %d", r.status)
		}
		e.clock.Advance(10 * time.Second)
	}
	if got := lastUse(); !got.Equal(t0) {
		t.Errorf("after 5 calls within a minute last use is %v, want the first call's %v", got, t0)
	}
	e.clock.Advance(20 * time.Second) // a minute after the first write
	t1 := store.Micro(e.clock.Now())
	if r := e.call("GET", "/organizations/"+e.orgA+"/networks", key, nil); r.status != http.StatusOK {
		t.Fatalf("API call: %d", r.status)
	}
	if got := lastUse(); !got.Equal(t1) {
		t.Errorf("a minute later last use is %v, want %v", got, t1)
	}
	_, list, _ = e.page("GET", "/account/api-keys", acct, nil)
	if !strings.Contains(list, t1.UTC().Format("2006-01-02 15:04 UTC")) || strings.Contains(list, "never") {
		t.Errorf("list does not show the last use %v:\n%s", t1, list)
	}

	// The revoke page names the key; the audit event carries the name.
	ks, _ := e.st.APIKeys().ListAPIKeys(context.Background(), acct)
	_, confirm, _ := e.page("GET", "/account/api-keys/"+ks[0].ID+"/revoke", acct, nil)
	if !strings.Contains(confirm, "<strong>nightly &lt;backup&gt;</strong>") {
		t.Errorf("revoke page does not name the key:\n%s", confirm)
	}
	evs, err := e.st.Audit().ListAudit(context.Background(), store.AuditFilter{Limit: 100})
	must(t, err)
	found := false
	for _, ev := range evs {
		if ev.Action == "apikey.created" && ev.ActorAccountID == acct && ev.Details["name"] == "nightly <backup>" {
			found = true
		}
	}
	if !found {
		t.Error("no apikey.created event with the key's name")
	}
}
