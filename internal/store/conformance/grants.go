package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func testClients(t *testing.T, s store.Store) {
	ctx := context.Background()
	cs := s.Clients()
	c := store.Client{ID: "cid", OwnerAccountID: "owner", Name: "App", SecretHash: "aa",
		RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1:9/cb?x=1"}, Scopes: []string{"a:read", "b:write"},
		ResourceServer: true, RefreshGrace: 1500 * time.Millisecond, CreatedAt: t0, UpdatedAt: t0}
	must(t, cs.CreateClient(ctx, c))
	if err := cs.CreateClient(ctx, c); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate client: %v", err)
	}
	got, err := cs.GetClient(ctx, "cid")
	must(t, err)
	if got.Name != c.Name || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.Scopes, c.Scopes) ||
		got.RefreshGrace != c.RefreshGrace || !got.ResourceServer || got.FirstParty || !got.CreatedAt.Equal(t0) {
		t.Fatalf("GetClient = %+v", got)
	}
	must(t, cs.CreateClient(ctx, store.Client{ID: "other", OwnerAccountID: "someone", Name: "B", SecretHash: "bb", RedirectURIs: []string{"https://b/cb"}, Scopes: []string{"a:read"}, CreatedAt: t0, UpdatedAt: t0}))
	mine, err := cs.ListClients(ctx, "owner")
	must(t, err)
	if len(mine) != 1 || mine[0].ID != "cid" {
		t.Fatalf("ListClients(owner) = %+v", mine)
	}
	all, _ := cs.ListClients(ctx, "")
	if len(all) != 2 {
		t.Fatalf("ListClients() = %d", len(all))
	}
	upd, err := cs.UpdateClient(ctx, "cid", func(c *store.Client) error {
		c.Name, c.SecretHash, c.ID = "Renamed", "cc", "hijack"
		c.UpdatedAt = t0.Add(time.Minute)
		return nil
	})
	must(t, err)
	if upd.ID != "cid" || upd.Name != "Renamed" {
		t.Fatalf("UpdateClient = %+v", upd)
	}
	if got, _ := cs.GetClient(ctx, "cid"); got.SecretHash != "cc" {
		t.Fatalf("secret hash not updated: %+v", got)
	}
	boom := errors.New("boom")
	if _, err := cs.UpdateClient(ctx, "cid", func(c *store.Client) error { c.Name = "X"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateClient error = %v", err)
	}
	if got, _ := cs.GetClient(ctx, "cid"); got.Name != "Renamed" {
		t.Fatalf("failed update was applied: %+v", got)
	}
	if _, err := cs.UpdateClient(ctx, "nope", func(*store.Client) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	// Deleting a client revokes its grants.
	seedOrgAccount(t, s, "1", "acc", store.AccessFull)
	g := issue(t, s, "cid", "1", "acc", "del")
	must(t, cs.DeleteClient(ctx, "cid", t0.Add(time.Hour)))
	if _, err := cs.GetClient(ctx, "cid"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted client: %v", err)
	}
	if gr, err := s.Grants().GetGrant(ctx, g); err != nil || !gr.Revoked() {
		t.Fatalf("grant of deleted client: %+v, %v", gr, err)
	}
}

// issue redeems a fresh code for client/org/account and returns the grant
// id; its first refresh token hash is "r-"+tag and access token "a-"+tag.
func issue(t *testing.T, s store.Store, clientID, orgID, accountID, tag string) string {
	t.Helper()
	ctx := context.Background()
	code := store.AuthCode{Hash: "code-" + tag, ClientID: clientID, AccountID: accountID, OrgID: orgID, RedirectURI: "https://app/cb",
		Scopes: []string{"a:read", "a:write"}, CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	must(t, s.Grants().CreateCode(ctx, code))
	grantID := "g-" + tag
	_, err := s.Grants().RedeemCode(ctx, store.RedeemCodeParams{CodeHash: code.Hash, Now: t0, Check: func(c store.AuthCode) (store.Grant, store.TokenPair, error) {
		return grantFor(c, grantID), pairFor(c, grantID, "r-"+tag, "a-"+tag, "", t0), nil
	}})
	must(t, err)
	return grantID
}

func grantFor(c store.AuthCode, id string) store.Grant {
	return store.Grant{ID: id, ClientID: c.ClientID, AccountID: c.AccountID, OrgID: c.OrgID, Scopes: c.Scopes, CreatedAt: t0, LastUsedAt: t0}
}

func pairFor(c store.AuthCode, grantID, refresh, access, parent string, now time.Time) store.TokenPair {
	return store.TokenPair{
		Refresh: store.RefreshToken{Hash: refresh, GrantID: grantID, ParentHash: parent, CreatedAt: now},
		Access: store.AccessToken{Hash: access, GrantID: grantID, RefreshHash: refresh, ClientID: c.ClientID, AccountID: c.AccountID,
			OrgID: c.OrgID, Scopes: c.Scopes, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	}
}

func testCodes(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedOrgAccount(t, s, "1", "acc", store.AccessFull)
	gs := s.Grants()
	code := store.AuthCode{Hash: "c1", ClientID: "cid", AccountID: "acc", OrgID: "1", RedirectURI: "https://app/cb",
		Scopes: []string{"a:read"}, CodeChallenge: "chal", Nonce: "n", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	must(t, gs.CreateCode(ctx, code))

	// A failing check leaves the code unredeemed.
	bad := errors.New("wrong redirect")
	if _, err := gs.RedeemCode(ctx, store.RedeemCodeParams{CodeHash: "c1", Now: t0, Check: func(store.AuthCode) (store.Grant, store.TokenPair, error) {
		return store.Grant{}, store.TokenPair{}, bad
	}}); !errors.Is(err, bad) {
		t.Fatalf("failing check: %v", err)
	}
	var seen store.AuthCode
	got, err := gs.RedeemCode(ctx, store.RedeemCodeParams{CodeHash: "c1", Now: t0.Add(time.Minute), Check: func(c store.AuthCode) (store.Grant, store.TokenPair, error) {
		seen = c
		return grantFor(c, "g1"), pairFor(c, "g1", "r1", "a1", "", t0.Add(time.Minute)), nil
	}})
	must(t, err)
	if seen.CodeChallenge != "chal" || seen.Nonce != "n" || !seen.RedeemedAt.IsZero() || !seen.ExpiresAt.Equal(code.ExpiresAt) {
		t.Fatalf("Check saw %+v", seen)
	}
	if got.GrantID != "g1" || !got.RedeemedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("RedeemCode = %+v", got)
	}
	at, gr, err := gs.GetAccessToken(ctx, "a1")
	must(t, err)
	if at.OrgID != "1" || gr.ID != "g1" || gr.Revoked() || !at.ExpiresAt.Equal(t0.Add(time.Minute+time.Hour)) {
		t.Fatalf("GetAccessToken = %+v %+v", at, gr)
	}
	// Replay: fails and revokes the grant issued from the code.
	called := false
	if _, err := gs.RedeemCode(ctx, store.RedeemCodeParams{CodeHash: "c1", Now: t0.Add(2 * time.Minute), Check: func(c store.AuthCode) (store.Grant, store.TokenPair, error) {
		called = true
		return grantFor(c, "g2"), pairFor(c, "g2", "r2", "a2", "", t0), nil
	}}); !errors.Is(err, store.ErrCodeRedeemed) {
		t.Fatalf("replay: %v", err)
	}
	if called {
		t.Fatal("Check called on replay")
	}
	if _, gr, _ := gs.GetAccessToken(ctx, "a1"); !gr.Revoked() || gr.RevokeReason != "code_replayed" {
		t.Fatalf("grant after replay: %+v", gr)
	}
	if _, err := gs.RedeemCode(ctx, store.RedeemCodeParams{CodeHash: "nope", Now: t0, Check: nil}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	assertChange(t, s, store.ChangeGrant, "g1")
}

func assertChange(t *testing.T, s store.Store, kind, key string) {
	t.Helper()
	chs, err := s.Changes().ChangesSince(context.Background(), 0, 10000)
	must(t, err)
	for _, c := range chs {
		if c.Kind == kind && c.Key == key {
			return
		}
	}
	t.Fatalf("no change %s/%s in feed %+v", kind, key, chs)
}

// rotate rotates old to new (hashes "r-"+new, "a-"+new) with a decide
// function that issues unless the token was rotated or revoked.
func rotate(s store.Store, old, next string, now time.Time) error {
	_, err := s.Grants().RotateRefresh(context.Background(), old, now, func(st store.RefreshState) (store.Rotation, error) {
		if st.Grant.Revoked() {
			return store.Rotation{}, errRevoked
		}
		if !st.Token.RotatedAt.IsZero() {
			return store.Rotation{RevokeGrant: true, RevokeReason: "refresh_token_reuse"}, errReuse
		}
		c := store.AuthCode{ClientID: st.Grant.ClientID, AccountID: st.Grant.AccountID, OrgID: st.Grant.OrgID, Scopes: st.Grant.Scopes}
		p := pairFor(c, st.Grant.ID, next, "a-"+next, old, now)
		return store.Rotation{Issue: &p}, nil
	})
	return err
}

var (
	errRevoked = errors.New("revoked")
	errReuse   = errors.New("reuse")
)

func testRotation(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedOrgAccount(t, s, "1", "acc", store.AccessFull)
	g := issue(t, s, "cid", "1", "acc", "x")
	gs := s.Grants()
	t1 := t0.Add(time.Hour)
	must(t, rotate(s, "r-x", "r-x2", t1))
	old, gr, err := gs.GetRefreshToken(ctx, "r-x")
	must(t, err)
	if !old.RotatedAt.Equal(t1) || old.ChildHash != "r-x2" || !gr.LastUsedAt.Equal(t1) {
		t.Fatalf("after rotation: %+v %+v", old, gr)
	}
	child, _, err := gs.GetRefreshToken(ctx, "r-x2")
	must(t, err)
	if child.ParentHash != "r-x" || !child.RotatedAt.IsZero() {
		t.Fatalf("child = %+v", child)
	}
	// Replay of the rotated token: the verdict's revocation is committed
	// although the call fails.
	if err := rotate(s, "r-x", "r-x3", t1.Add(time.Second)); !errors.Is(err, errReuse) {
		t.Fatalf("replay: %v", err)
	}
	if _, gr, _ := gs.GetRefreshToken(ctx, "r-x2"); !gr.Revoked() || gr.RevokeReason != "refresh_token_reuse" {
		t.Fatalf("family not revoked: %+v", gr)
	}
	if _, _, err := gs.GetRefreshToken(ctx, "r-x3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replay issued a token: %v", err)
	}
	if err := rotate(s, "r-x2", "r-x4", t1.Add(2*time.Second)); !errors.Is(err, errRevoked) {
		t.Fatalf("current token after family revocation: %v", err)
	}
	if err := rotate(s, "unknown", "r-y", t1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown refresh token: %v", err)
	}
	assertChange(t, s, store.ChangeGrant, g)

	// Grace-window retry: the child is revoked and a fresh pair issued.
	issue(t, s, "cid", "1", "acc", "z")
	must(t, rotate(s, "r-z", "r-z2", t1))
	_, err = gs.RotateRefresh(ctx, "r-z", t1.Add(time.Second), func(st store.RefreshState) (store.Rotation, error) {
		if st.Child == nil || st.Child.Hash != "r-z2" {
			t.Errorf("child = %+v", st.Child)
		}
		c := store.AuthCode{ClientID: st.Grant.ClientID, AccountID: st.Grant.AccountID, OrgID: st.Grant.OrgID, Scopes: st.Grant.Scopes}
		p := pairFor(c, st.Grant.ID, "r-z3", "a-z3", "r-z", t1.Add(time.Second))
		return store.Rotation{RevokeChild: true, Issue: &p}, nil
	})
	must(t, err)
	if c, _, _ := gs.GetRefreshToken(ctx, "r-z2"); c.RevokedAt.IsZero() {
		t.Fatalf("old child not revoked: %+v", c)
	}
	if a, _, _ := gs.GetAccessToken(ctx, "a-r-z2"); a.RevokedAt.IsZero() {
		t.Fatalf("old child's access token not revoked: %+v", a)
	}
	if a, gr, _ := gs.GetAccessToken(ctx, "a-r-z3"); !a.RevokedAt.IsZero() || gr.Revoked() {
		t.Fatalf("new access token: %+v %+v", a, gr)
	}
	if old, _, _ := gs.GetRefreshToken(ctx, "r-z"); old.ChildHash != "r-z3" {
		t.Fatalf("parent child pointer = %q", old.ChildHash)
	}
}

func testConcurrentRotation(t *testing.T, s store.Store) {
	seedOrgAccount(t, s, "1", "acc", store.AccessFull)
	issue(t, s, "cid", "1", "acc", "c")
	const n = 16
	var ok, reuse atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := rotate(s, "r-c", fmt.Sprintf("r-c-%d", i), t0.Add(time.Minute))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, errReuse), errors.Is(err, errRevoked):
				reuse.Add(1)
			default:
				t.Errorf("rotate: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || reuse.Load() != n-1 {
		t.Fatalf("concurrent rotations: %d succeeded, %d refused; want exactly 1", ok.Load(), reuse.Load())
	}
}

func testRevocation(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedOrgAccount(t, s, "1", "acc", store.AccessFull)
	seedOrgAccount(t, s, "2", "acc", store.AccessFull)
	gs := s.Grants()
	for _, id := range []string{"cid", "other"} {
		must(t, s.Clients().CreateClient(ctx, store.Client{ID: id, Name: "App " + id, SecretHash: "h", RedirectURIs: []string{"https://app/cb"},
			Scopes: []string{"a:read", "a:write"}, CreatedAt: t0, UpdatedAt: t0}))
	}
	g1 := issue(t, s, "cid", "1", "acc", "1")
	g2 := issue(t, s, "cid", "2", "acc", "2")
	g3 := issue(t, s, "other", "1", "acc", "3")

	must(t, gs.RevokeAccessToken(ctx, "a-1", t0.Add(time.Minute)))
	if a, gr, _ := gs.GetAccessToken(ctx, "a-1"); a.RevokedAt.IsZero() || gr.Revoked() {
		t.Fatalf("RevokeAccessToken: %+v %+v", a, gr)
	}
	assertChange(t, s, store.ChangeAccessToken, "a-1")
	if err := gs.RevokeAccessToken(ctx, "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	ints, err := gs.ListOrgIntegrations(ctx, "1")
	must(t, err)
	if len(ints) != 2 || ints[0].Client.ID != "cid" || ints[0].Grants != 1 || !slices.Equal(ints[0].Scopes, []string{"a:read", "a:write"}) ||
		!ints[0].GrantedAt.Equal(t0) || ints[1].Client.ID != "other" {
		t.Fatalf("ListOrgIntegrations = %+v", ints)
	}
	// Pending (unredeemed) codes go with the revocation that covers them,
	// so none can become a live grant afterwards; others stay.
	pending := func(hash, clientID, orgID string, orgBound bool) {
		must(t, gs.CreateCode(ctx, store.AuthCode{Hash: hash, ClientID: clientID, AccountID: "acc", OrgID: orgID, RedirectURI: "https://app/cb",
			Scopes: []string{"a:read"}, CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute), OrgBound: orgBound}))
	}
	pending("p-cid-1", "cid", "1", false)
	pending("p-cid-2", "cid", "2", false)
	pending("p-other-1", "other", "1", false)
	pending("p-other-1-ob", "other", "1", true)
	redeemable := func(hash string) bool {
		_, err := gs.RedeemCode(ctx, store.RedeemCodeParams{CodeHash: hash, Now: t0, Check: func(store.AuthCode) (store.Grant, store.TokenPair, error) {
			return store.Grant{}, store.TokenPair{}, errors.New("probe")
		}})
		return !errors.Is(err, store.ErrNotFound)
	}
	ids, err := gs.RevokeClientOrgGrants(ctx, "cid", "1", "removed", t0.Add(time.Hour))
	must(t, err)
	if redeemable("p-cid-1") || !redeemable("p-cid-2") || !redeemable("p-other-1") || !redeemable("code-1") {
		t.Fatal("RevokeClientOrgGrants: pending codes of the client in the organization must go, nothing else")
	}
	if !slices.Equal(ids, []string{g1}) {
		t.Fatalf("RevokeClientOrgGrants = %v", ids)
	}
	for id, want := range map[string]bool{g1: true, g2: false, g3: false} {
		if gr, _ := gs.GetGrant(ctx, id); gr.Revoked() != want {
			t.Fatalf("grant %s revoked = %v, want %v", id, gr.Revoked(), want)
		}
	}
	// An org-bound grant (Automation's org-scoped token) outlives its
	// creator's membership.
	orgCode := store.AuthCode{Hash: "code-orgbound", ClientID: "other", AccountID: "acc", OrgID: "1", RedirectURI: "https://app/cb",
		Scopes: []string{"a:read"}, CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	must(t, gs.CreateCode(ctx, orgCode))
	_, err = gs.RedeemCode(ctx, store.RedeemCodeParams{CodeHash: orgCode.Hash, Now: t0, Check: func(c store.AuthCode) (store.Grant, store.TokenPair, error) {
		g := grantFor(c, "g-orgbound")
		g.OrgBound = true
		return g, pairFor(c, "g-orgbound", "r-ob", "a-ob", "", t0), nil
	}})
	must(t, err)
	if a, gr, err := gs.GetAccessToken(ctx, "a-ob"); err != nil || !a.OrgBound || !gr.OrgBound {
		t.Fatalf("org-bound token: %+v %+v %v", a, gr, err)
	}
	ids, err = gs.RevokeAccountOrgGrants(ctx, "acc", "1", "left_org", t0.Add(time.Hour))
	must(t, err)
	if redeemable("p-other-1") || !redeemable("p-other-1-ob") || !redeemable("p-cid-2") {
		t.Fatal("RevokeAccountOrgGrants: the account's pending codes in the organization must go, org-bound ones stay")
	}
	if !slices.Equal(ids, []string{g3}) {
		t.Fatalf("RevokeAccountOrgGrants = %v", ids)
	}
	live, err := gs.ListAccountGrants(ctx, "acc")
	must(t, err)
	if len(live) != 2 || live[0].ID != g2 && live[1].ID != g2 {
		t.Fatalf("ListAccountGrants = %+v", live)
	}
	must(t, gs.RevokeGrant(ctx, g2, "test", t0.Add(2*time.Hour)))
	must(t, gs.RevokeGrant(ctx, g2, "again", t0.Add(3*time.Hour))) // idempotent
	if gr, _ := gs.GetGrant(ctx, g2); gr.RevokeReason != "test" || !gr.RevokedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("second revoke changed the grant: %+v", gr)
	}
	if err := gs.RevokeGrant(ctx, "nope", "x", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown grant: %v", err)
	}
}

func testCleanup(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedOrgAccount(t, s, "1", "acc", store.AccessFull)
	gs := s.Grants()
	live := issue(t, s, "cid", "1", "acc", "live")
	must(t, rotate(s, "r-live", "r-live2", t0.Add(80*24*time.Hour)))
	idle := issue(t, s, "cid", "1", "acc", "idle")
	revoked := issue(t, s, "cid", "1", "acc", "rev")
	must(t, gs.RevokeGrant(ctx, revoked, "test", t0.Add(time.Hour)))
	now := t0.Add(91 * 24 * time.Hour)
	res, err := gs.Cleanup(ctx, store.CleanupParams{Now: now, CodesExpiredBefore: now.Add(-24 * time.Hour),
		RevokedBefore: now.Add(-24 * time.Hour), IdleBefore: now.Add(-90 * 24 * time.Hour)})
	must(t, err)
	// The live grant's redeemed code stays: a late replay still revokes.
	if res.Grants != 2 || res.Codes != 2 || res.AccessTokens != 2 {
		t.Fatalf("Cleanup = %+v, want 2 grants, 2 codes, 2 access tokens (the others went with their grants)", res)
	}
	if _, err := gs.RedeemCode(ctx, store.RedeemCodeParams{CodeHash: "code-live", Now: now}); !errors.Is(err, store.ErrCodeRedeemed) {
		t.Fatalf("late replay of the live grant's code: %v", err)
	}
	if gr, _ := gs.GetGrant(ctx, live); !gr.Revoked() {
		t.Fatal("late code replay did not revoke the grant")
	}
	if _, err := gs.GetGrant(ctx, live); err != nil {
		t.Fatalf("live grant deleted: %v", err)
	}
	// The live family keeps its rotated token, so a replay is still caught.
	if tok, _, err := gs.GetRefreshToken(ctx, "r-live"); err != nil || tok.RotatedAt.IsZero() {
		t.Fatalf("rotated token of live family: %+v, %v", tok, err)
	}
	for _, id := range []string{idle, revoked} {
		if _, err := gs.GetGrant(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("grant %s not cleaned: %v", id, err)
		}
	}
	if _, _, err := gs.GetRefreshToken(ctx, "r-idle"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("tokens of cleaned grant remain: %v", err)
	}
	n, err := s.Changes().PruneChanges(ctx, time.Now().Add(time.Hour))
	must(t, err)
	if n == 0 {
		t.Fatal("PruneChanges deleted nothing")
	}
}

func fastParams(old, next, client string, now time.Time) store.FastRotateParams {
	return store.FastRotateParams{OldHash: old, ClientID: client, Now: now, IdleAfter: now.Add(-90 * 24 * time.Hour),
		RefreshHash: next, AccessHash: "a-" + next, AccessExpiresAt: now.Add(time.Hour)}
}

func testFastRotation(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedOrgAccount(t, s, "1", "acc", store.AccessFull)
	gs := s.Grants()
	gid := issue(t, s, "cid", "1", "acc", "f")
	t1 := t0.Add(time.Hour)
	fp := fastParams("r-f", "r-f2", "cid", t1)
	fp.AuditAction = "token.refreshed"
	g, ok, err := gs.RotateRefreshFast(ctx, fp)
	must(t, err)
	if !ok || g.ID != gid || !g.LastUsedAt.Equal(t1) || g.AccountID != "acc" || len(g.Scopes) != 2 {
		t.Fatalf("fast rotation = %+v, %v", g, ok)
	}
	// The audit event was written with the rotation.
	evs, err := s.Audit().ListAudit(ctx, store.AuditFilter{OrgID: "1"})
	must(t, err)
	if len(evs) != 1 || evs[0].Action != "token.refreshed" || evs[0].ActorClientID != "cid" || evs[0].ActorAccountID != "acc" ||
		evs[0].Target != gid || evs[0].Details["grant_id"] != gid || evs[0].Details["scope"] != "a:read a:write" || !evs[0].At.Equal(t1) {
		t.Fatalf("audit after fast rotation: %+v", evs)
	}
	if old, _, _ := gs.GetRefreshToken(ctx, "r-f"); old.ChildHash != "r-f2" || !old.RotatedAt.Equal(t1) {
		t.Fatalf("old token after fast rotation: %+v", old)
	}
	if a, _, err := gs.GetAccessToken(ctx, "a-r-f2"); err != nil || a.OrgID != "1" || a.RefreshHash != "r-f2" || !a.ExpiresAt.Equal(t1.Add(time.Hour)) || len(a.Scopes) != 2 {
		t.Fatalf("new access token: %+v %v", a, err)
	}
	// Every unusual case declines and changes nothing.
	for name, p := range map[string]store.FastRotateParams{
		"rotated":      fastParams("r-f", "r-x1", "cid", t1),
		"wrong client": fastParams("r-f2", "r-x2", "other", t1),
		"idle": func() store.FastRotateParams {
			p := fastParams("r-f2", "r-x3", "cid", t1)
			p.IdleAfter = t1.Add(time.Second)
			return p
		}(),
		"unknown": fastParams("nope", "r-x4", "cid", t1),
	} {
		if _, ok, err := gs.RotateRefreshFast(ctx, p); ok || err != nil {
			t.Fatalf("%s: ok=%v err=%v", name, ok, err)
		}
		if _, _, err := gs.GetRefreshToken(ctx, p.RefreshHash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: a token was issued", name)
		}
	}
	if cur, _, _ := gs.GetRefreshToken(ctx, "r-f2"); !cur.RotatedAt.IsZero() {
		t.Fatalf("declined rotation changed the current token: %+v", cur)
	}
	must(t, gs.RevokeGrant(ctx, gid, "test", t1))
	if _, ok, err := gs.RotateRefreshFast(ctx, fastParams("r-f2", "r-x5", "cid", t1)); ok || err != nil {
		t.Fatalf("revoked grant: ok=%v err=%v", ok, err)
	}

	// Fast and full paths racing on one token: exactly one rotation wins,
	// and no deadlock.
	issue(t, s, "cid", "1", "acc", "race")
	const n = 16
	var wins, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := fmt.Sprintf("r-race-%d", i)
			if i%2 == 0 {
				if _, ok, err := gs.RotateRefreshFast(ctx, fastParams("r-race", next, "cid", t1)); err != nil {
					t.Errorf("fast: %v", err)
				} else if ok {
					wins.Add(1)
					return
				}
			}
			switch err := rotate(s, "r-race", next, t1); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, errReuse), errors.Is(err, errRevoked):
				refused.Add(1)
			default:
				t.Errorf("rotate: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d rotations of one token succeeded, want 1 (%d refused)", wins.Load(), refused.Load())
	}
}
