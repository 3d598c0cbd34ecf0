package automation_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/automation"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// An external authorization server whose RFC 8414 metadata could not be
// read once (a 503) still has its RFC 9207 iss required once it answers:
// a passing failure must not switch the mix-up defence off for good.
func TestIssRequiredAfterMetadataOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	metadataDown := true
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		down := metadataDown
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			if down {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_response_iss_parameter_supported": true})
		default:
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		}
	}))
	t.Cleanup(srv.Close)

	st := storetest.New(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	acct := store.Account{ID: "acc_1", Email: "a@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := st.Organizations().CreateOrganization(ctx, store.Organization{ID: "1001", Name: "Acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.Accounts().CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if err := st.Accounts().PutMembership(ctx, store.Membership{OrgID: "1001", AccountID: acct.ID, Access: store.AccessFull, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	svc, err := automation.New(ctx, automation.Config{Issuer: "http://127.0.0.1:1", AuthServer: srv.URL, ClientID: "c", ClientSecret: "s",
		Now: func() time.Time { return now }}, automation.Deps{Store: st, Log: testLogger(t), Masters: [][]byte{make([]byte, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	ten, err := svc.EnsureTenant(ctx, "1001", true, automation.TriggerTenantCreated, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A response without iss, for a fresh state each time.
	respond := func() error {
		u, err := svc.AuthorizeURL(ctx, acct, ten, store.TokenUser)
		if err != nil {
			t.Fatal(err)
		}
		au, _ := url.Parse(u)
		_, err = svc.Callback(ctx, acct, url.Values{"state": {au.Query().Get("state")}, "code": {"code"}})
		return err
	}
	_ = respond() // metadata unreadable: iss cannot be known to be required
	mu.Lock()
	metadataDown = false
	mu.Unlock()
	if err := respond(); !errors.Is(err, automation.ErrBadCallback) {
		t.Fatalf("a response without iss from a server that sends one: %v, want ErrBadCallback", err)
	}
}
