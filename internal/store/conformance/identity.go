package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

var t0 = store.Micro(time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC))

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func seedOrgAccount(t *testing.T, s store.Store, orgID, accountID string, access store.Access) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Organizations().GetOrganization(ctx, orgID); errors.Is(err, store.ErrNotFound) {
		must(t, s.Organizations().CreateOrganization(ctx, store.Organization{ID: orgID, Name: "Org " + orgID, CreatedAt: t0}))
	}
	if _, err := s.Accounts().GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
		must(t, s.Accounts().CreateAccount(ctx, store.Account{ID: accountID, Email: accountID + "@example.com", PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}))
	}
	must(t, s.Accounts().PutMembership(ctx, store.Membership{OrgID: orgID, AccountID: accountID, Access: access, CreatedAt: t0}))
}

func testIdentity(t *testing.T, s store.Store) {
	ctx := context.Background()
	orgs, accs := s.Organizations(), s.Accounts()
	must(t, orgs.CreateOrganization(ctx, store.Organization{ID: "100200", Name: "Beta", CreatedAt: t0}))
	must(t, orgs.CreateOrganization(ctx, store.Organization{ID: "100100", Name: "Alpha", CreatedAt: t0}))
	if err := orgs.CreateOrganization(ctx, store.Organization{ID: "100100", Name: "Dup", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate org: err = %v, want ErrConflict", err)
	}
	got, err := orgs.GetOrganization(ctx, "100100")
	must(t, err)
	if got.Name != "Alpha" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("GetOrganization = %+v", got)
	}
	list, err := orgs.ListOrganizations(ctx)
	must(t, err)
	if len(list) != 2 || list[0].Name != "Alpha" {
		t.Fatalf("ListOrganizations = %+v", list)
	}
	if n, _ := orgs.CountOrganizations(ctx); n != 2 {
		t.Fatalf("CountOrganizations = %d", n)
	}
	if _, err := orgs.GetOrganization(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing org: %v", err)
	}

	a := store.Account{ID: "acc1", Email: "ann@example.com", Name: "Ann", PasswordHash: "h1", CreatedAt: t0, UpdatedAt: t0}
	must(t, accs.CreateAccount(ctx, a))
	if err := accs.CreateAccount(ctx, store.Account{ID: "acc2", Email: "ann@example.com", PasswordHash: "h", CreatedAt: t0, UpdatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate email: %v", err)
	}
	byEmail, err := accs.GetAccountByEmail(ctx, "ann@example.com")
	must(t, err)
	if byEmail != a {
		t.Fatalf("GetAccountByEmail = %+v, want %+v", byEmail, a)
	}
	must(t, accs.SetPasswordHash(ctx, "acc1", "h2", t0.Add(time.Hour)))
	if got, _ := accs.GetAccount(ctx, "acc1"); got.PasswordHash != "h2" || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after SetPasswordHash: %+v", got)
	}
	if err := accs.SetPasswordHash(ctx, "nobody", "h", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetPasswordHash unknown: %v", err)
	}

	must(t, accs.PutMembership(ctx, store.Membership{OrgID: "100100", AccountID: "acc1", Access: store.AccessFull, CreatedAt: t0}))
	must(t, accs.PutMembership(ctx, store.Membership{OrgID: "100200", AccountID: "acc1", Access: store.AccessReadOnly, CreatedAt: t0}))
	if err := accs.PutMembership(ctx, store.Membership{OrgID: "missing", AccountID: "acc1", Access: store.AccessFull, CreatedAt: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("membership of missing org: %v", err)
	}
	ms, err := accs.ListAccountMemberships(ctx, "acc1")
	must(t, err)
	if len(ms) != 2 || ms[0].OrgName != "Alpha" || ms[0].Access != store.AccessFull || ms[1].Access != store.AccessReadOnly {
		t.Fatalf("ListAccountMemberships = %+v", ms)
	}
	// Downgrade, then remove.
	must(t, accs.PutMembership(ctx, store.Membership{OrgID: "100100", AccountID: "acc1", Access: store.AccessReadOnly, CreatedAt: t0}))
	m, err := accs.GetMembership(ctx, "100100", "acc1")
	must(t, err)
	if m.Access != store.AccessReadOnly {
		t.Fatalf("after downgrade: %+v", m)
	}
	members, err := accs.ListOrgMembers(ctx, "100100")
	must(t, err)
	if len(members) != 1 || members[0].Account.Email != "ann@example.com" {
		t.Fatalf("ListOrgMembers = %+v", members)
	}
	must(t, accs.DeleteMembership(ctx, "100100", "acc1"))
	if _, err := accs.GetMembership(ctx, "100100", "acc1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := accs.DeleteMembership(ctx, "100100", "acc1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	// Membership changes are on the change feed.
	chs, err := s.Changes().ChangesSince(ctx, 0, 100)
	must(t, err)
	n := 0
	for _, c := range chs {
		if c.Kind == store.ChangeMembership && c.Key == "100100/acc1" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("membership changes for 100100/acc1 = %d, want 3 (%+v)", n, chs)
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedOrgAccount(t, s, "1", "acc", store.AccessFull)
	ss := s.Sessions()
	se := store.Session{IDHash: "h1", AccountID: "acc", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
	must(t, ss.CreateSession(ctx, se))
	got, err := ss.GetSession(ctx, "h1")
	must(t, err)
	if got != se {
		t.Fatalf("GetSession = %+v, want %+v", got, se)
	}
	must(t, ss.TouchSession(ctx, "h1", t0.Add(time.Hour)))
	must(t, ss.CreateSession(ctx, store.Session{IDHash: "h2", AccountID: "acc", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	// h2 idle since t0; h1 seen at t0+1h.
	n, err := ss.DeleteExpiredSessions(ctx, t0.Add(30*time.Minute), t0.Add(31*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, want 1", n)
	}
	if _, err := ss.GetSession(ctx, "h2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("h2 should be gone: %v", err)
	}
	must(t, ss.DeleteAccountSessions(ctx, "acc"))
	if _, err := ss.GetSession(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("h1 should be gone: %v", err)
	}
	if err := ss.CreateSession(ctx, store.Session{IDHash: "h3", AccountID: "ghost", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0}); err == nil {
		t.Fatal("session for unknown account accepted")
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Audit()
	for i := 0; i < 5; i++ {
		org := "1"
		if i%2 == 1 {
			org = "2"
		}
		must(t, a.AppendAudit(ctx, store.AuditEvent{At: t0.Add(time.Duration(i) * time.Second), Action: "token.issued", OrgID: org,
			ActorClientID: "c", Target: "g", Details: map[string]string{"i": string(rune('0' + i))}}))
	}
	got, err := a.ListAudit(ctx, store.AuditFilter{OrgID: "1"})
	must(t, err)
	if len(got) != 3 || got[0].Details["i"] != "4" || got[2].Details["i"] != "0" {
		t.Fatalf("ListAudit org 1 = %+v", got)
	}
	page, err := a.ListAudit(ctx, store.AuditFilter{OrgID: "1", BeforeID: got[0].ID, Limit: 1})
	must(t, err)
	if len(page) != 1 || page[0].ID != got[1].ID {
		t.Fatalf("page = %+v", page)
	}
	all, err := a.ListAudit(ctx, store.AuditFilter{ClientID: "c"})
	must(t, err)
	if len(all) != 5 || !all[4].At.Equal(t0) {
		t.Fatalf("ListAudit client = %+v", all)
	}
}

func testMarkers(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 8
	firsts := make(chan bool, n)
	for i := 0; i < n; i++ {
		go func() {
			first, err := s.Markers().Mark(ctx, "demo", t0)
			if err != nil {
				t.Error(err)
			}
			firsts <- first
		}()
	}
	won := 0
	for i := 0; i < n; i++ {
		if <-firsts {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d callers were first, want 1", won)
	}
	if first, err := s.Markers().Mark(ctx, "other", t0); err != nil || !first {
		t.Fatalf("Mark(other) = %v, %v", first, err)
	}
}
