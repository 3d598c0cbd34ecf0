package webhooks_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
	"github.com/grantflow/grantflow/internal/webhooks"
)

// TestEveryEventThroughTheRealFlows: each way an integration loses access
// reaches its receiver as a signed event naming the grant and the
// organization, and no token ever appears in a body.
func TestEveryEventThroughTheRealFlows(t *testing.T) {
	t.Parallel()
	everyEvent(t, startServer(t, "", nil, fastDelivery))
}

// TestEveryEventOnPostgres is the same on PostgreSQL.
func TestEveryEventOnPostgres(t *testing.T) {
	t.Parallel()
	everyEvent(t, startServer(t, storetest.NewPostgresDatabase(t), nil, fastDelivery))
}

func everyEvent(t *testing.T, e *env) {
	rcv := newReceiver(t, nil)
	cl, clientSecret := e.app(rcv)
	conf := e.oauthConfig(cl, clientSecret)
	b := e.browser()
	ctx := context.Background()
	var secrets []string // every credential that must never appear in an event

	// RFC 7009: the client revokes its refresh token.
	tok := e.authorize(b, conf)
	secrets = append(secrets, tok.AccessToken, tok.RefreshToken, clientSecret)
	revoked := e.grantOf(tok.AccessToken)
	resp, err := (&http.Client{}).Do(revokeRequest(e.url, cl.ID, clientSecret, tok.RefreshToken))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	d := rcv.waitFor("grant.revoked (RFC 7009)", ofType(store.EventGrantRevoked, revoked))
	if d.Payload.Data.Reason != authz.RevokeReasonClient || d.Payload.Data.OrganizationID != e.orgID || d.Payload.Data.ClientID != cl.ID {
		t.Errorf("revocation event = %+v", d.Payload)
	}

	// Reuse detection: a rotated refresh token presented again.
	tok = e.authorize(b, conf)
	secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	reused := e.grantOf(tok.AccessToken)
	fresh, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, fresh.AccessToken, fresh.RefreshToken)
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil {
		t.Fatal("a replayed refresh token was accepted")
	}
	d = rcv.waitFor("grant.revoked (reuse)", ofType(store.EventGrantRevoked, reused))
	if d.Payload.Data.Reason != "refresh_token_reuse" {
		t.Errorf("reuse event reason = %q", d.Payload.Data.Reason)
	}

	// An administrator removes the integration from the organization.
	tok = e.authorize(b, conf)
	secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	removed := e.grantOf(tok.AccessToken)
	_, page := e.get(b, e.url+"/organizations/"+e.orgID+"/integrations")
	form := url.Values{"csrf_token": {hiddenFields(page).Get("csrf_token")}}
	e.post(b, e.url+"/organizations/"+e.orgID+"/integrations/"+cl.ID+"/remove", form)
	d = rcv.waitFor("grant.removed", ofType(store.EventGrantRemoved, removed))
	if d.Payload.Data.Reason != store.RevokeReasonRemoved || d.Payload.Data.OrganizationID != e.orgID {
		t.Errorf("removal event = %+v", d.Payload)
	}
	if authz.RevokeReasonRemoved != store.RevokeReasonRemoved {
		t.Errorf("authz removes with %q, the store maps %q to grant.removed", authz.RevokeReasonRemoved, store.RevokeReasonRemoved)
	}

	// Idle expiry: the janitor deletes a grant unused for 90 days.
	tok = e.authorize(b, conf)
	secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	idle := e.grantOf(tok.AccessToken)
	e.clock.advance(91 * 24 * time.Hour)
	if _, err := authz.NewJanitor(e.st.Grants(), authz.Config{Now: e.clock.now}, logger(t)).RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	d = rcv.waitFor("grant.revoked (idle)", ofType(store.EventGrantRevoked, idle))
	if d.Payload.Data.Reason != store.ReasonIdleExpired {
		t.Errorf("idle event reason = %q", d.Payload.Data.Reason)
	}

	// The owner rotates the client secret, then deletes the integration.
	_, rotated, err := e.srv.Registry.RotateSecret(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, rotated)
	rcv.waitFor("client.secret_rotated", ofType(store.EventClientSecretRotated, ""))
	if err := e.srv.Registry.Delete(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	rcv.waitFor("client.deleted", ofType(store.EventClientDeleted, ""))

	seen := map[string]bool{}
	for _, d := range rcv.deliveries() {
		if !d.SignatureOK {
			t.Errorf("delivery %s (%s) fails an independent signature check: %s", d.ID, d.Payload.Type, d.Signature)
		}
		if seen[d.ID] {
			t.Errorf("webhook-id %s delivered twice", d.ID)
		}
		seen[d.ID] = true
		if d.Payload.Data.ClientID != cl.ID || d.Payload.Timestamp == "" {
			t.Errorf("event %s: %s", d.ID, d.Body)
		}
		for _, s := range secrets {
			if strings.Contains(string(d.Body), s) {
				t.Errorf("event %s carries a credential: %s", d.ID, d.Body)
			}
		}
	}
	if n := len(rcv.deliveries()); n != 6 {
		t.Errorf("%d deliveries, want 6 (one per event): %v", n, rcv.deliveries())
	}
}

func revokeRequest(base, clientID, secret, token string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	return req
}

// TestRetryThenSuccess: a receiver that answers 500 twice gets the same
// message again (same webhook-id and body) until it answers 2xx; each
// attempt is on the integration's page with its status and the answer's
// first kilobyte.
func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	e := startServer(t, "", nil, fastDelivery)
	rcv := newReceiver(t, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	cl, _ := e.app(rcv)
	ctx := context.Background()
	if _, _, err := e.srv.Registry.RotateSecret(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "three attempts", func() bool { return len(rcv.deliveries()) == 3 })
	ds := rcv.deliveries()
	for _, d := range ds[1:] {
		if d.ID != ds[0].ID || string(d.Body) != string(ds[0].Body) || !d.SignatureOK {
			t.Errorf("retry differs or is badly signed: %+v vs %+v", d, ds[0])
		}
	}
	var ev webhooks.Event
	waitUntil(t, "the event delivered", func() bool {
		st, err := e.srv.Registry.WebhookStatus(ctx, cl.ID)
		if err != nil || len(st.Events) != 1 {
			return false
		}
		ev = st.Events[0]
		return ev.State == store.WebhookDelivered
	})
	if len(ev.Attempts) != 3 || ev.Attempts[0].Status != 500 || ev.Attempts[1].Status != 500 || ev.Attempts[2].Status != 200 {
		t.Fatalf("attempts = %+v", ev.Attempts)
	}
	if len(ev.Attempts[0].Body) != webhooks.MaxAnswer || ev.Attempts[0].Error != "HTTP 500" || ev.Attempts[2].Error != "" {
		t.Errorf("first attempt kept %d bytes, error %q", len(ev.Attempts[0].Body), ev.Attempts[0].Error)
	}
	if got := ev.Attempts[1].At.Sub(ev.Attempts[0].At); got < 40*time.Millisecond {
		t.Errorf("retried after %s, before the backoff", got)
	}

	// The owner sees the attempts on the integration's page.
	b := e.browser()
	resp, page := e.get(b, e.url+"/integrations/"+cl.ID+"/webhook")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "client.secret_rotated") || strings.Count(page, "HTTP 500") != 2 ||
		!strings.Contains(page, "HTTP 200") || !strings.Contains(page, "delivered") {
		t.Errorf("webhook page (%d) does not show the attempts:\n%s", resp.StatusCode, page)
	}
}

// TestDisabledAfterRepeatedFailures: a receiver that always fails is
// disabled with a visible reason, gets no more events, and setting its URL
// again re-enables it.
func TestDisabledAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	cfg := fastDelivery
	cfg.DisableAfter = 3
	e := startServer(t, "", nil, cfg)
	var failing atomic.Bool
	failing.Store(true)
	rcv := newReceiver(t, func(int) int {
		if failing.Load() {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	cl, _ := e.app(rcv)
	ctx := context.Background()
	if _, _, err := e.srv.Registry.RotateSecret(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	var st webhooks.Status
	waitUntil(t, "the webhook disabled", func() bool {
		var err error
		st, err = e.srv.Registry.WebhookStatus(ctx, cl.ID)
		return err == nil && st.Configured && !st.Enabled
	})
	if !strings.Contains(st.DisabledReason, "HTTP 502") || st.Events[0].State != store.WebhookFailed || len(st.Events[0].Attempts) != 3 {
		t.Errorf("disabled webhook = %+v", st)
	}
	b := e.browser()
	if _, page := e.get(b, e.url+"/integrations/"+cl.ID+"/webhook"); !strings.Contains(page, "Deliveries are stopped") || !strings.Contains(page, "HTTP 502") {
		t.Errorf("the page does not say the webhook is disabled:\n%s", page)
	}
	if _, _, err := e.srv.Registry.RotateSecret(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(rcv.deliveries()); n != 3 {
		t.Errorf("a disabled webhook got %d requests, want 3", n)
	}

	// Setting the URL again (through the JSON API's owner, here the page)
	// re-enables it; the secret stays.
	failing.Store(false)
	_, page := e.get(b, e.url+"/integrations/"+cl.ID+"/webhook")
	form := url.Values{"csrf_token": {hiddenFields(page).Get("csrf_token")}, "webhook_url": {rcv.srv.URL + "/hooks"}}
	if resp, body := e.post(b, e.url+"/integrations/"+cl.ID+"/webhook", form); resp.StatusCode != http.StatusOK || strings.Contains(body, "whsec_") {
		t.Fatalf("setting the URL again answered %d (a new secret shown: %t)", resp.StatusCode, strings.Contains(body, "whsec_"))
	}
	if st, _ := e.srv.Registry.WebhookStatus(ctx, cl.ID); !st.Enabled || st.DisabledReason != "" {
		t.Fatalf("not re-enabled: %+v", st)
	}
	if _, _, err := e.srv.Registry.RotateSecret(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	d := rcv.waitFor("an event after re-enabling", func(d delivery) bool { return len(rcv.deliveries()) == 4 })
	if !d.SignatureOK {
		t.Error("the re-enabled webhook's event is not signed with its secret")
	}
}

// TestPendingEventSurvivesRestart: an event written while no server runs
// (a CLI command) and one whose server stopped before delivering it are
// both delivered by a new server on the same SQLite file.
func TestPendingEventSurvivesRestart(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	rcv := newReceiver(t, func(int) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	e := startServer(t, "", nil, webhooks.Config{Backoff: []time.Duration{time.Hour}, Poll: 20 * time.Millisecond})
	cl, _ := e.app(rcv)
	ctx := context.Background()
	if _, _, err := e.srv.Registry.RotateSecret(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a failed first attempt", func() bool { return len(rcv.deliveries()) == 1 })
	path := e.st.SQLiteDir() + "/grantflow.db"
	e.stop()

	// While no server runs, the CLI rotates the secret again.
	st := openStore(t, path)
	svc := registry.NewService(st.Clients(), audit.New(st.Audit(), nil, logger(t)), nil, logger(t))
	if _, _, err := svc.RotateSecret(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()

	// A new server, told that an hour has passed, delivers both.
	up.Store(true)
	clk := &clock{offset: time.Hour + time.Minute}
	e2 := startServer(t, path, clk, webhooks.Config{Backoff: []time.Duration{time.Hour}, Poll: 20 * time.Millisecond})
	waitUntil(t, "both events delivered", func() bool {
		st, err := e2.srv.Registry.WebhookStatus(ctx, cl.ID)
		if err != nil || len(st.Events) != 2 {
			return false
		}
		return st.Events[0].State == store.WebhookDelivered && st.Events[1].State == store.WebhookDelivered
	})
	ids := map[string]bool{}
	for _, d := range rcv.deliveries() {
		if !d.SignatureOK {
			t.Errorf("delivery %s badly signed", d.ID)
		}
		ids[d.ID] = true
	}
	if len(ids) != 2 || len(rcv.deliveries()) != 3 {
		t.Errorf("deliveries = %v", rcv.deliveries())
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKeyRotationKeepsSecrets: `keys rotate` re-seals webhook secrets
// before it deletes the old data keys, so deliveries stay signed.
func TestKeyRotationKeepsSecrets(t *testing.T) {
	t.Parallel()
	e := startServer(t, "", nil, fastDelivery)
	rcv := newReceiver(t, nil)
	cl, _ := e.app(rcv)
	ctx := context.Background()
	res, err := e.srv.Automation.RotateKeys(ctx, 0)
	if err != nil || len(res.DeletedKeys) == 0 {
		t.Fatalf("RotateKeys = %+v, %v", res, err)
	}
	if _, _, err := e.srv.Registry.RotateSecret(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	if d := rcv.waitFor("client.secret_rotated", ofType(store.EventClientSecretRotated, "")); !d.SignatureOK {
		t.Error("after a key rotation the delivery is not signed with the webhook's secret")
	}
}
