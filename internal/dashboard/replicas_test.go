package dashboard

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSecondProcess runs a second Dashboard API (another replica, or a
// server beside a CLI) on the same store: what one changes, the other's
// caches drop within the feed's poll interval.
func TestSecondProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{RateLimit: RateLimitConfig{Disabled: true}})
	h2, feed2 := e.newHandler(Config{RateLimit: RateLimitConfig{Disabled: true}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	h2.Routes(mux)
	srv2 := httptest.NewServer(mux)
	defer srv2.Close()
	on2 := func(method, path, cred string) response {
		t.Helper()
		return e.call(method, srv2.URL+BasePath+path, cred, nil)
	}
	ctx := context.Background()
	list := "/organizations/" + e.orgA + "/networks"
	var before []networkView
	on2("GET", list, e.keyFullA).json(t, &before) // warms the second process's caches

	id := e.createNetwork(e.keyFullA, "Made on one", "wireless")
	keys, err := e.h.keys.List(ctx, e.readA)
	must(t, err)
	must(t, e.h.keys.Revoke(ctx, e.readA, keys[0].ID))
	if r := e.call("DELETE", "/organizations/"+e.orgA+"/admins/"+e.readA, e.keyFullA, nil); r.status != 204 {
		t.Fatalf("remove admin: %d %s", r.status, r.body)
	}

	// Within a second (the feed polls every 50ms here; Sync polls now).
	deadline := time.Now().Add(time.Second)
	for {
		var after []networkView
		on2("GET", list, e.keyFullA).json(t, &after)
		if len(after) == len(before)+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second process still lists %d networks", len(after))
		}
		time.Sleep(20 * time.Millisecond)
	}
	must(t, feed2.Sync(ctx))
	if r := on2("GET", "/networks/"+id, e.keyFullA); r.status != 200 {
		t.Errorf("new network on the second process: %d", r.status)
	}
	if r := on2("GET", list, e.keyReadA); r.status != http.StatusUnauthorized {
		t.Errorf("revoked key on the second process: %d", r.status)
	}
	// A network deleted on one process is gone on the other.
	if r := e.call("DELETE", "/networks/"+id, e.keyFullA, nil); r.status != 204 {
		t.Fatalf("delete network: %d", r.status)
	}
	must(t, feed2.Sync(ctx))
	if r := on2("GET", "/networks/"+id, e.keyFullA); r.status != http.StatusNotFound {
		t.Errorf("deleted network on the second process: %d", r.status)
	}
	// The full admin's key, whose memberships the second process cached,
	// no longer sees an organization taken from it.
	must(t, e.st.Accounts().DeleteMembership(ctx, e.orgA, e.fullA))
	must(t, feed2.Sync(ctx))
	if r := on2("GET", list, e.keyFullA); r.status != http.StatusNotFound {
		t.Errorf("removed membership on the second process: %d", r.status)
	}
}
