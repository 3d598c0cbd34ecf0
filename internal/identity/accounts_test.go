package identity_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/identity"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

func newService(t *testing.T) (*identity.Service, store.Store, *clock) {
	t.Helper()
	st := storetest.New(t)
	clk := newClock()
	lg := testLogger(t)
	return identity.NewService(st, audit.New(st.Audit(), clk.Now, lg), lg, clk.Now, identity.WithArgon2(identity.TestArgon2)), st, clk
}

func auditEvents(t *testing.T, st store.Store, action string) []store.AuditEvent {
	t.Helper()
	evs, err := st.Audit().ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range evs {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func TestCreateOrganization(t *testing.T) {
	t.Parallel()
	svc, st, _ := newService(t)
	ctx := context.Background()
	idRE := regexp.MustCompile(`^[1-9][0-9]{5,8}$`)
	ids := map[string]bool{}
	for range 20 {
		o, err := svc.CreateOrganization(ctx, "  Acme  ")
		if err != nil {
			t.Fatal(err)
		}
		if !idRE.MatchString(o.ID) {
			t.Errorf("id %q is not 6-9 digits without a leading zero", o.ID)
		}
		if o.Name != "Acme" {
			t.Errorf("name %q, want trimmed", o.Name)
		}
		ids[o.ID] = true
	}
	if len(ids) != 20 {
		t.Errorf("ids repeat: %v", ids)
	}
	if got := len(auditEvents(t, st, "org.created")); got != 20 {
		t.Errorf("%d org.created events, want 20", got)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 256), "a\nb"} {
		if _, err := svc.CreateOrganization(ctx, bad); !errors.Is(err, identity.ErrInvalidName) {
			t.Errorf("CreateOrganization(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

func TestCreateAdmin(t *testing.T) {
	t.Parallel()
	svc, st, _ := newService(t)
	ctx := context.Background()
	org1, _ := svc.CreateOrganization(ctx, "One")
	org2, _ := svc.CreateOrganization(ctx, "Two")

	res, err := svc.CreateAdmin(ctx, org1.ID, " Alice@Example.COM ", "alice's long password", store.AccessFull)
	if err != nil {
		t.Fatal(err)
	}
	if res.AccountExisted || !res.Changed || res.Account.Email != "alice@example.com" || res.Account.PasswordHash != "" {
		t.Errorf("first create: %+v", res)
	}
	stored, err := st.Accounts().GetAccountByEmail(ctx, "alice@example.com")
	if err != nil || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Fatalf("stored account %+v, %v", stored, err)
	}

	// Same email again, other organization: the account is reused and the
	// password ignored (even one that would fail the policy).
	res, err = svc.CreateAdmin(ctx, org2.ID, "alice@example.com", "short", store.AccessReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	if !res.AccountExisted || !res.Changed || res.Account.ID != stored.ID {
		t.Errorf("second org: %+v", res)
	}
	if _, err := svc.Authenticate(ctx, "alice@example.com", "alice's long password"); err != nil {
		t.Errorf("original password stopped working: %v", err)
	}

	// Unchanged access: nothing to do.
	res, err = svc.CreateAdmin(ctx, org2.ID, "alice@example.com", "", store.AccessReadOnly)
	if err != nil || res.Changed {
		t.Errorf("repeat: %+v, %v", res, err)
	}
	// Access change.
	if _, err := svc.CreateAdmin(ctx, org2.ID, "alice@example.com", "", store.AccessFull); err != nil {
		t.Fatal(err)
	}
	ms, _ := st.Accounts().ListAccountMemberships(ctx, stored.ID)
	if len(ms) != 2 || ms[0].Access != store.AccessFull || ms[1].Access != store.AccessFull {
		t.Errorf("memberships %+v", ms)
	}

	created := auditEvents(t, st, "admin.created")
	changed := auditEvents(t, st, "admin.access_changed")
	if len(created) != 2 || len(changed) != 1 {
		t.Fatalf("%d admin.created and %d admin.access_changed events, want 2 and 1", len(created), len(changed))
	}
	if c := changed[0]; c.OrgID != org2.ID || c.Target != "alice@example.com" || c.Details["access"] != "full" || c.Details["previous_access"] != "read-only" {
		t.Errorf("access_changed event %+v", c)
	}
	for _, e := range append(created, changed...) {
		for k, v := range e.Details {
			if strings.Contains(v, "password") {
				t.Errorf("event %s detail %s=%q mentions the password", e.Action, k, v)
			}
		}
	}
}

func TestCreateAdminRejects(t *testing.T) {
	t.Parallel()
	svc, _, _ := newService(t)
	ctx := context.Background()
	org, _ := svc.CreateOrganization(ctx, "One")
	tests := []struct {
		name, org, email, password string
		access                     store.Access
		want                       error
	}{
		{"bad access", org.ID, "a@example.com", testPassword, "owner", identity.ErrInvalidAccess},
		{"bad email", org.ID, "not-an-email", testPassword, store.AccessFull, identity.ErrInvalidEmail},
		{"display name", org.ID, "Bob <bob@example.com>", testPassword, store.AccessFull, identity.ErrInvalidEmail},
		{"weak password", org.ID, "a@example.com", "password1234", store.AccessFull, identity.ErrPasswordBreached},
		{"short password", org.ID, "a@example.com", "short", store.AccessFull, identity.ErrPasswordTooShort},
		{"unknown org", "999", "a@example.com", testPassword, store.AccessFull, store.ErrNotFound},
	}
	for _, tc := range tests {
		if _, err := svc.CreateAdmin(ctx, tc.org, tc.email, tc.password, tc.access); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	svc, st, _ := newService(t)
	ctx := context.Background()
	org, _ := svc.CreateOrganization(ctx, "One")
	if _, err := svc.CreateAdmin(ctx, org.ID, "bob@example.com", testPassword, store.AccessFull); err != nil {
		t.Fatal(err)
	}
	acct, err := svc.Authenticate(ctx, "BOB@example.com", testPassword)
	if err != nil || acct.Email != "bob@example.com" || acct.PasswordHash != "" {
		t.Fatalf("good login: %+v, %v", acct, err)
	}
	for _, tc := range []struct{ email, password string }{
		{"bob@example.com", testPassword + "x"},
		{"nobody@example.com", testPassword},
		{"not an email", testPassword},
	} {
		if _, err := svc.Authenticate(ctx, tc.email, tc.password); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("Authenticate(%q) = %v, want ErrInvalidCredentials", tc.email, err)
		}
	}
	if n := len(auditEvents(t, st, "login.succeeded")); n != 1 {
		t.Errorf("%d login.succeeded events, want 1", n)
	}
	failed := auditEvents(t, st, "login.failed")
	if len(failed) != 3 {
		t.Fatalf("%d login.failed events, want 3", len(failed))
	}
	// Newest first: the wrong password is the last one.
	if e := failed[2]; e.Details["account_id"] != acct.ID || e.Details["reason"] != "wrong password" || e.Target != "bob@example.com" {
		t.Errorf("wrong-password event %+v", e)
	}
}

// An unknown email must cost a password verification like a known one;
// otherwise response times tell an attacker which accounts exist. Not
// parallel, so other tests do not skew the timings.
func TestAuthenticateUnknownEmailDoesTheWork(t *testing.T) {
	st := storetest.New(t)
	lg := testLogger(t)
	// Costly enough that a skipped hash would stand out from query time.
	p := identity.Argon2Params{Memory: 8 * 1024, Time: 3, Threads: 1}
	svc := identity.NewService(st, audit.New(st.Audit(), nil, lg), lg, nil, identity.WithArgon2(p))
	ctx := context.Background()
	org, _ := svc.CreateOrganization(ctx, "One")
	if _, err := svc.CreateAdmin(ctx, org.ID, "erin@example.com", testPassword, store.AccessFull); err != nil {
		t.Fatal(err)
	}
	once := func(email string) time.Duration {
		start := time.Now()
		if _, err := svc.Authenticate(ctx, email, "wrong password here"); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	// The fastest of several tries, taken in turns, so that a busy
	// machine slows both alike: a skipped hash is then several times
	// faster, not merely a little.
	known, unknown := time.Hour, time.Hour
	for range 7 {
		known = min(known, once("erin@example.com"))
		unknown = min(unknown, once("nobody@example.com"))
	}
	if unknown < known/3 {
		t.Errorf("unknown email answered in %v, known email in %v: the unknown one skipped the hash", unknown, known)
	}
}

func TestSetPassword(t *testing.T) {
	t.Parallel()
	svc, st, clk := newService(t)
	ctx := context.Background()
	org, _ := svc.CreateOrganization(ctx, "One")
	res, _ := svc.CreateAdmin(ctx, org.ID, "carol@example.com", testPassword, store.AccessFull)
	now := store.Micro(clk.Now())
	for _, id := range []string{"s1", "s2"} {
		if err := st.Sessions().CreateSession(ctx, store.Session{IDHash: strings.Repeat(id, 32), AccountID: res.Account.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	if err := svc.SetPassword(ctx, "carol@example.com", "qwerty123456"); !errors.Is(err, identity.ErrPasswordBreached) {
		t.Errorf("breached password accepted: %v", err)
	}
	if err := svc.SetPassword(ctx, "nobody@example.com", "a new long password"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown email: %v", err)
	}
	if err := svc.SetPassword(ctx, "Carol@Example.com", "a new long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "carol@example.com", testPassword); err == nil {
		t.Error("old password still works")
	}
	if _, err := svc.Authenticate(ctx, "carol@example.com", "a new long password"); err != nil {
		t.Errorf("new password: %v", err)
	}
	for _, id := range []string{"s1", "s2"} {
		if _, err := st.Sessions().GetSession(ctx, strings.Repeat(id, 32)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s survived the password change: %v", id, err)
		}
	}
	if ev := auditEvents(t, st, "password.changed"); len(ev) != 1 || ev[0].Target != "carol@example.com" {
		t.Errorf("password.changed events %+v", ev)
	}
}

func TestLoginRehashesOldParameters(t *testing.T) {
	t.Parallel()
	svc, st, _ := newService(t)
	ctx := context.Background()
	org, _ := svc.CreateOrganization(ctx, "One")
	res, _ := svc.CreateAdmin(ctx, org.ID, "dave@example.com", testPassword, store.AccessFull)
	old, _ := identity.HashPassword(testPassword, identity.Argon2Params{Memory: 32, Time: 2, Threads: 1})
	if err := st.Accounts().SetPasswordHash(ctx, res.Account.ID, old, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "dave@example.com", testPassword); err != nil {
		t.Fatal(err)
	}
	a, _ := st.Accounts().GetAccount(ctx, res.Account.ID)
	if !strings.Contains(a.PasswordHash, "$m=64,t=1,p=1$") {
		t.Errorf("hash not upgraded to current parameters: %s", a.PasswordHash)
	}
}

// AddAdmin, the command line's, changes nothing it was not asked to.
func TestAddAdminStrict(t *testing.T) {
	t.Parallel()
	svc, _, _ := newService(t)
	ctx := context.Background()
	org, _ := svc.CreateOrganization(ctx, "One")
	p := identity.AdminParams{OrgID: org.ID, Email: "bob@example.com", Password: "bob's long password", Access: store.AccessReadOnly}
	if _, err := svc.AddAdmin(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Access = store.AccessFull
	if _, err := svc.AddAdmin(ctx, p); !errors.Is(err, identity.ErrPasswordNotUsed) {
		t.Fatalf("password for an existing account: %v", err)
	}
	p.Password = ""
	var ace *identity.AccessChangeError
	if _, err := svc.AddAdmin(ctx, p); !errors.As(err, &ace) || !errors.Is(err, identity.ErrAccessChange) || ace.From != store.AccessReadOnly {
		t.Fatalf("access change without ChangeAccess: %v", err)
	}
	p.ChangeAccess = true
	res, err := svc.AddAdmin(ctx, p)
	if err != nil || !res.Changed || res.PreviousAccess != store.AccessReadOnly || res.Access != store.AccessFull {
		t.Fatalf("with ChangeAccess: %+v %v", res, err)
	}
}
