package automation_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// issueTokens makes an organization with a full-access admin whose first
// visit to Automation creates both tokens.
func (e *env) issueTokens() (store.Organization, store.Account, store.Tenant, *browser) {
	e.t.Helper()
	org := e.newOrg("Acme")
	admin := e.newAdmin(org.ID, "admin@example.com", store.AccessFull)
	b := e.login("admin@example.com")
	if resp, page := b.get("/automation"); resp.StatusCode != http.StatusOK {
		e.t.Fatalf("first visit: %d %s", resp.StatusCode, page)
	}
	ten := e.tenant(org.ID)
	if _, ok := e.token(ten.ID, store.TokenOrg, ""); !ok {
		e.t.Fatal("no org token after the first visit")
	}
	return org, admin, ten, b
}

// 200 uses of one token at the instant it expires, 100 in this process and
// 100 in another process on the same store: exactly one refresh reaches the
// authorization server and every use gets a valid token.
func TestConcurrentUseAcrossProcesses(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var st *sqlstore.Store
			pg := ""
			if backend == "postgres" {
				pg = storetest.NewPostgresDatabase(t)
				var err error
				if st, err = sqlstore.OpenPostgres(context.Background(), pg, testLogger(t)); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
			} else {
				st = storetest.New(t)
			}
			e := newEnvOn(t, st, masterKey())
			_, _, ten, _ := e.issueTokens()
			ref := keeper.Ref{TenantID: ten.ID, Kind: store.TokenOrg}
			tok, _ := e.token(ten.ID, store.TokenOrg, "")
			e.clock.Set(tok.AccessExpiresAt) // the instant it expires
			before := e.refreshCalls()

			c := startChild(t, e, dbURL(e, pg), append(refEnv(ref), nowEnv(e.clock.Now()), "GF_HELPER=use", "GF_N=100")...)
			c.expect("READY")
			start := time.Now()
			if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
				t.Fatal(err)
			}
			ok, fails, distinct, err := useConcurrently(e.ctx, e.svc.Keeper, ref, 100)
			cok, cfails, cdistinct, cerr := parseResult(t, c.expect("RESULT"))
			elapsed := time.Since(start)

			refreshes := e.refreshCalls() - before
			t.Logf("%s: %d uses in 2 processes in %v: %d ok, %d failed, %d refresh(es) at the authorization server",
				backend, ok+cok+fails+cfails, elapsed.Round(time.Millisecond), ok+cok, fails+cfails, refreshes)
			if fails+cfails != 0 {
				t.Errorf("failures: here %d (%v), other process %d (%s)", fails, err, cfails, cerr)
			}
			if ok != 100 || cok != 100 {
				t.Errorf("successes: here %d, other process %d; want 100 each", ok, cok)
			}
			if refreshes != 1 {
				t.Errorf("%d refreshes at the authorization server, want exactly 1", refreshes)
			}
			all := map[string]bool{}
			for _, d := range append(distinct, cdistinct...) {
				all[d] = true
			}
			if len(all) != 1 {
				t.Errorf("the uses got %d different access tokens, want the one new token", len(all))
			}
			after, _ := e.token(ten.ID, store.TokenOrg, "")
			if after.RefreshHash == tok.RefreshHash || after.LeaseHolder != "" || after.InflightHash != "" {
				t.Errorf("after: %+v", after)
			}
			if g := e.grantOf(after); g.Revoked() {
				t.Errorf("grant revoked: %s", g.RevokeReason)
			}
		})
	}
}

// A process killed with SIGKILL in the middle of a refresh never leaves a
// token silently broken: the next process recovers the chain with the old
// refresh token inside the client's grace window, or marks the token
// reconnect_needed with the reason, and the owner's next visit re-issues it.
func TestKillDuringRefresh(t *testing.T) {
	t.Parallel()
	cases := []struct {
		point    string
		restart  time.Duration // when the next process runs, after the kill
		recovers bool
	}{
		{keeper.FaultAfterMarkInFlight, 20 * time.Second, true},
		{keeper.FaultAfterResponse, 20 * time.Second, true},
		{keeper.FaultAfterResponse, 2 * time.Minute, false}, // past the 60s grace window
		{keeper.FaultAfterSave, 20 * time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.point+"/"+tc.restart.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, admin, ten, b := e.issueTokens()
			ref := keeper.Ref{TenantID: ten.ID, Kind: store.TokenUser, AccountID: admin.ID}
			tok, _ := e.token(ten.ID, store.TokenUser, admin.ID)
			oldRefresh := e.open(tok, "refresh")
			killedAt := tok.AccessExpiresAt
			e.clock.Set(killedAt)
			db := dbURL(e, "")

			c := startChild(t, e, db, append(refEnv(ref), nowEnv(killedAt), "GF_HELPER=fault", "GF_POINT="+tc.point, "GF_LEASE=10s")...)
			c.expect("AT " + tc.point)
			c.kill()

			row, _ := e.token(ten.ID, store.TokenUser, admin.ID)
			rt, _, _ := e.st.Grants().GetRefreshToken(e.ctx, oauth.Hash(oldRefresh))
			switch tc.point {
			case keeper.FaultAfterMarkInFlight:
				if row.InflightHash != tok.RefreshHash || keeper.State(row) != store.TokenRefreshing || !rt.RotatedAt.IsZero() {
					t.Fatalf("after the kill: in flight %q (want the old token's hash), state %s, rotated at the server %v", row.InflightHash, keeper.State(row), rt.RotatedAt)
				}
			case keeper.FaultAfterResponse:
				// The server rotated the token; the answer died with the process.
				if row.InflightHash != tok.RefreshHash || row.RefreshHash != tok.RefreshHash || rt.RotatedAt.IsZero() {
					t.Fatalf("after the kill: in flight %q, refresh hash changed %v, rotated at the server %v", row.InflightHash, row.RefreshHash != tok.RefreshHash, rt.RotatedAt)
				}
			case keeper.FaultAfterSave:
				if row.InflightHash != "" || row.RefreshHash == tok.RefreshHash {
					t.Fatalf("after the kill: the saved refresh is missing: %+v", row)
				}
			}
			if views, err := e.svc.List(e.ctx, ""); err != nil || len(views) != 1 {
				t.Fatalf("tenant list: %v %v", views, err)
			} else if tc.point != keeper.FaultAfterSave && !strings.Contains(jsonString(views), `"state":"refreshing"`) {
				t.Errorf("tenant list does not show the interrupted refresh: %s", jsonString(views))
			}

			// The next process, a while later.
			e.clock.Set(killedAt.Add(tc.restart))
			r := startChild(t, e, db, append(refEnv(ref), nowEnv(e.clock.Now()), "GF_HELPER=use", "GF_N=1", "GF_LEASE=10s")...)
			r.expect("READY")
			_, _ = io.WriteString(r.stdin, "go\n")
			ok, fail, _, errText := parseResult(t, r.expect("RESULT"))
			row, _ = e.token(ten.ID, store.TokenUser, admin.ID)

			if tc.recovers {
				if ok != 1 || fail != 0 || row.State != store.TokenValid || row.InflightHash != "" {
					t.Fatalf("not recovered: ok %d fail %d (%s), row %+v", ok, fail, errText, row)
				}
				if g := e.grantOf(row); g.Revoked() {
					t.Fatalf("recovered onto a revoked grant (%s)", g.RevokeReason)
				}
				if tc.point != keeper.FaultAfterSave {
					rec := e.audit("automation.token_refreshed")
					if len(rec) == 0 || rec[0].Details["recovered"] != "true" {
						t.Errorf("the recovery is not in the audit log: %+v", rec)
					}
				}
				// The chain goes on.
				e.clock.Advance(2 * time.Hour)
				if _, err := e.svc.Keeper.AccessToken(e.ctx, ref); err != nil {
					t.Fatalf("the next refresh after recovery: %v", err)
				}
				return
			}
			if ok != 0 || fail != 1 || !strings.Contains(errText, "reconnect needed") {
				t.Fatalf("want a reconnect error, got ok %d fail %d %q", ok, fail, errText)
			}
			if row.State != store.TokenReconnectNeeded || !strings.Contains(row.Reason, "interrupted") || row.RefreshSealed != "" {
				t.Fatalf("row after a failed recovery: state %s reason %q", row.State, row.Reason)
			}
			// The owner sees it, and the next visit re-issues it silently.
			_, page := b.get("/automation?auto=0")
			if !strings.Contains(page, "reconnect needed") || !strings.Contains(page, "interrupted") {
				t.Errorf("the page does not tell the owner:\n%s", page)
			}
			_, _ = b.get("/automation")
			row, _ = e.token(ten.ID, store.TokenUser, admin.ID)
			if row.State != store.TokenValid {
				t.Fatalf("not re-issued on the next visit: %+v", row)
			}
		})
	}
}
