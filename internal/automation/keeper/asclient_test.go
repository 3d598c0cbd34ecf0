package keeper_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/store"
)

// The wire format of the token and revocation endpoints as Meraki's: form
// bodies, HTTP Basic with form-encoded credentials (RFC 6749 §2.3.1), and
// error answers (RFC 6749 §5.2) turned into values the keeper acts on.
func TestASClient(t *testing.T) {
	t.Parallel()
	var last url.Values
	var user, pass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		last = r.PostForm
		user, pass, _ = r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		switch r.PostForm.Get("refresh_token") {
		case "dead":
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "revoked"})
		case "boom":
			w.WriteHeader(http.StatusBadGateway)
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "a", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "r2", "scope": "b:read a:read"})
		}
	}))
	defer srv.Close()
	as := keeper.NewAS(keeper.EndpointsFor(srv.URL+"/"), func(context.Context) (string, string, error) { return "id:1", "s&cret", nil })
	if as.Endpoints.Token != srv.URL+"/oauth/token" || as.Endpoints.Issuer != srv.URL {
		t.Fatalf("endpoints %+v", as.Endpoints)
	}
	ctx := context.Background()
	tr, err := as.Refresh(ctx, "live", []string{"a:read"})
	if err != nil || tr.RefreshToken != "r2" || len(tr.Scopes(nil)) != 2 {
		t.Fatalf("refresh: %+v %v", tr, err)
	}
	if last.Get("grant_type") != "refresh_token" || last.Get("scope") != "a:read" || user != "id%3A1" || pass != "s%26cret" {
		t.Fatalf("request: %v, basic %q:%q", last, user, pass)
	}
	if _, err := as.Refresh(ctx, "dead", nil); !keeper.IsInvalidGrant(err) {
		t.Fatalf("invalid_grant: %v", err)
	}
	if _, err := as.Refresh(ctx, "boom", nil); err == nil || keeper.IsInvalidGrant(err) {
		t.Fatalf("a 502 must be an error that is not invalid_grant: %v", err)
	}
	if last.Has("scope") {
		t.Fatal("scope sent without narrowing")
	}
	if _, err := as.Exchange(ctx, "code", "http://x/cb", "verifier"); err != nil || last.Get("code_verifier") != "verifier" || last.Get("grant_type") != "authorization_code" {
		t.Fatalf("exchange: %v %v", last, err)
	}
}

func TestStateAndScopes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tok  store.AutomationToken
		want string
	}{
		{store.AutomationToken{State: store.TokenValid}, store.TokenValid},
		{store.AutomationToken{State: store.TokenValid, InflightHash: "h"}, store.TokenRefreshing},
		{store.AutomationToken{State: store.TokenReconnectNeeded, InflightHash: "h"}, store.TokenReconnectNeeded},
	} {
		if got := keeper.State(c.tok); got != c.want {
			t.Errorf("State(%+v) = %s, want %s", c.tok, got, c.want)
		}
	}
	granted := []string{"a:read", "a:write"}
	if got := keeper.AllowedScopes(granted, store.AccessReadOnly); len(got) != 1 || got[0] != "a:read" {
		t.Errorf("read-only: %v", got)
	}
	user := store.AutomationToken{Kind: store.TokenUser, Scopes: granted}
	if !keeper.NeedsReissue(user, store.AccessReadOnly) || keeper.NeedsReissue(user, store.AccessFull) {
		t.Error("NeedsReissue of a user token")
	}
	if keeper.NeedsReissue(store.AutomationToken{Kind: store.TokenOrg, Scopes: granted}, store.AccessReadOnly) {
		t.Error("the org token's scopes are fixed at creation")
	}
}
