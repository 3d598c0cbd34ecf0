package keeper_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// fakeAS is a token endpoint whose answers a test chooses.
type fakeAS struct {
	mu       sync.Mutex
	refreshs int
	// answer writes the response to the n-th refresh (1-based).
	answer func(w http.ResponseWriter, n int, asked string)
}

func (f *fakeAS) calls() int { f.mu.Lock(); defer f.mu.Unlock(); return f.refreshs }

// grant answers a refresh with a new pair carrying scopes.
func grant(w http.ResponseWriter, n int, scopes []string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + string(rune('a'+n)), "token_type": "Bearer",
		"expires_in": 3600, "refresh_token": "rt-" + string(rune('a'+n)), "scope": scope.Format(scopes)})
}

type harness struct {
	ctx   context.Context
	st    store.Store
	k     *keeper.Keeper
	as    *fakeAS
	tok   store.AutomationToken
	ref   keeper.Ref
	now   time.Time
	owner string
	org   string
}

// newHarness makes an organization with a full-access owner whose user
// token (all scopes, access token expired) is held by a keeper talking to
// a fake authorization server.
func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	st := storetest.New(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := &harness{ctx: ctx, st: st, as: &fakeAS{}, now: now, owner: "acc_1", org: "1001"}
	if err := st.Organizations().CreateOrganization(ctx, store.Organization{ID: h.org, Name: "Acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.Accounts().CreateAccount(ctx, store.Account{ID: h.owner, Email: "a@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.Accounts().PutMembership(ctx, store.Membership{OrgID: h.org, AccountID: h.owner, Access: store.AccessFull, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.Automation().CreateTenant(ctx, store.Tenant{ID: "ten_1", OrgID: h.org, Meraki: true, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		h.as.mu.Lock()
		h.as.refreshs++
		n := h.as.refreshs
		h.as.mu.Unlock()
		h.as.answer(w, n, r.PostForm.Get("scope"))
	}))
	t.Cleanup(srv.Close)
	v, err := vault.New(ctx, st.Automation(), [][]byte{make([]byte, 32)}, func() time.Time { return h.now })
	if err != nil {
		t.Fatal(err)
	}
	as := keeper.NewAS(keeper.EndpointsFor(srv.URL), func(context.Context) (string, string, error) { return "automation", "secret", nil })
	h.k = keeper.New(keeper.Config{Tokens: st.Automation(), Accounts: st.Accounts(), Vault: v, AS: as,
		Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})), Now: func() time.Time { return h.now }})
	tok := store.AutomationToken{ID: "atk_1", TenantID: "ten_1", OrgID: h.org, Kind: store.TokenUser, AccountID: h.owner, Issuer: srv.URL,
		ClientID: "automation", Scopes: scope.All(), AccessScopes: scope.All(), RefreshHash: oauth.Hash("rt-0"),
		AccessExpiresAt: now.Add(-time.Minute), State: store.TokenValid, CreatedAt: now, RefreshedAt: now}
	if tok.RefreshSealed, err = v.Seal(ctx, []byte("rt-0"), keeper.AD(tok, "refresh")); err != nil {
		t.Fatal(err)
	}
	if tok.AccessSealed, err = v.Seal(ctx, []byte("at-0"), keeper.AD(tok, "access")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Automation().PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	h.tok, h.ref = tok, keeper.Ref{TenantID: "ten_1", Kind: store.TokenUser, AccountID: h.owner}
	return h
}

// A downgraded owner's user token never hands out an access token with
// write scopes, even from an authorization server that ignores the
// narrower scope asked for on refresh (RFC 6749 §6 lets it refuse, not
// widen): the keeper must not fall back to using what it got.
func TestDowngradedOwnerNeverGetsWriteScopes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.st.Accounts().PutMembership(h.ctx, store.Membership{OrgID: h.org, AccountID: h.owner, Access: store.AccessReadOnly, CreatedAt: h.now}); err != nil {
		t.Fatal(err)
	}
	h.as.answer = func(w http.ResponseWriter, n int, asked string) {
		grant(w, n, scope.All()) // ignores the asked scope
	}
	acc, err := h.k.AccessToken(h.ctx, h.ref)
	if err == nil && !scope.Subset(acc.Scopes, scope.ReadOnly(scope.All())) {
		t.Fatalf("a read-only owner's token was handed out with scopes %v", acc.Scopes)
	}
	if err == nil {
		t.Fatal("no error, and no narrowed token either")
	}
	if n := h.as.calls(); n != 1 {
		t.Errorf("%d refreshes at the authorization server, want 1 (no refresh loop)", n)
	}
	tok, err := h.st.Automation().GetTokenByID(h.ctx, h.tok.ID)
	if err != nil || tok.AccessSealed != "" || tok.RefreshHash != oauth.Hash("rt-b") {
		t.Fatalf("after the refresh: access kept %v, chain moved on %v, err %v", tok.AccessSealed != "", tok.RefreshHash == oauth.Hash("rt-b"), err)
	}
}

// An authorization server that is down for a while (5xx, or not
// reachable) does not make a token reconnect_needed: the refresh token
// was never refused and is presented again once the server is back.
func TestOutageDoesNotKillToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	down := true
	h.as.answer = func(w http.ResponseWriter, n int, asked string) {
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		grant(w, n, scope.All())
	}
	for i := range 8 {
		_, err := h.k.AccessToken(h.ctx, h.ref)
		if err == nil || keeper.IsReconnect(err) {
			t.Fatalf("attempt %d during the outage: %v", i, err)
		}
	}
	down = false
	acc, err := h.k.AccessToken(h.ctx, h.ref)
	if err != nil {
		t.Fatalf("after the outage: %v", err)
	}
	if acc.Token == "" {
		t.Fatal("no access token")
	}
	tok, err := h.st.Automation().GetTokenByID(h.ctx, h.tok.ID)
	if err != nil || tok.State != store.TokenValid || tok.InflightHash != "" {
		t.Fatalf("token after the outage: state %q reason %q inflight %q err %v", tok.State, tok.Reason, tok.InflightHash, err)
	}
}
