package identity_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/store"
)

// loggedIn returns a browser logged in as email.
func (e *env) loggedIn(email, password string) *browser {
	e.t.Helper()
	b := e.browser()
	if p := b.login(email, password, "/"); p.resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d", email, p.resp.StatusCode)
	}
	return b
}

// postForm posts form with the CSRF token of the page at from.
func (b *browser) postForm(from, path string, form url.Values) page {
	b.e.t.Helper()
	form.Set("csrf_token", csrfOf(b.e.t, b.get(from)))
	return b.post(path, form)
}

func (e *env) access(accountID string) store.Access {
	e.t.Helper()
	m, err := e.st.Accounts().GetMembership(context.Background(), e.org.ID, accountID)
	if err != nil {
		return ""
	}
	return m.Access
}

var passwordRE = regexp.MustCompile(`<code id="new-password">([^<]+)</code>`)

func TestAdminsInviteChangeRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.svc.CreateAdmin(ctx, e.org.ID, "viewer@example.com", testPassword, store.AccessReadOnly); err != nil {
		t.Fatal(err)
	}
	other, _ := e.svc.CreateOrganization(ctx, "Other Org")
	existing, err := e.svc.CreateAdmin(ctx, other.ID, "existing@example.com", testPassword, store.AccessFull)
	if err != nil {
		t.Fatal(err)
	}
	admins := "/organizations/" + e.org.ID + "/admins"
	b := e.loggedIn("admin@example.com", testPassword)

	list := b.get(admins)
	if list.resp.StatusCode != http.StatusOK {
		t.Fatalf("admins page: %d", list.resp.StatusCode)
	}
	for _, want := range []string{"admin@example.com", "viewer@example.com", "Read-only", "Add administrator", "Make read-only"} {
		mustContain(t, list.body, want)
	}

	// A new email: an account with a one-time password, shown once, that logs in.
	p := b.postForm(admins, admins, url.Values{"email": {"New.Person@example.com"}, "access": {"read-only"}})
	m := passwordRE.FindStringSubmatch(p.body)
	if p.resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("invite new: %d, no password shown:\n%s", p.resp.StatusCode, p.body)
	}
	if again := b.get(admins); strings.Contains(again.body, m[1]) {
		t.Error("the one-time password is shown again")
	}
	nb := e.loggedIn("new.person@example.com", m[1])
	if p := nb.get(admins); p.resp.StatusCode != http.StatusOK || strings.Contains(p.body, "Add administrator") {
		t.Errorf("new read-only admin: %d, sees forms: %v", p.resp.StatusCode, strings.Contains(p.body, "Add administrator"))
	}

	// An existing account keeps its password and is added; a second invite is refused.
	p = b.postForm(admins, admins, url.Values{"email": {"existing@example.com"}, "access": {"full"}})
	if p.resp.StatusCode != http.StatusSeeOther || passwordRE.MatchString(p.body) {
		t.Fatalf("invite existing: %d", p.resp.StatusCode)
	}
	if got := e.access(existing.Account.ID); got != store.AccessFull {
		t.Errorf("existing account access %q", got)
	}
	e.loggedIn("existing@example.com", testPassword)
	if p := b.postForm(admins, admins, url.Values{"email": {"existing@example.com"}, "access": {"read-only"}}); p.resp.StatusCode != http.StatusConflict {
		t.Errorf("second invite: %d, want 409", p.resp.StatusCode)
	}
	if got := e.access(existing.Account.ID); got != store.AccessFull {
		t.Errorf("second invite changed access to %q", got)
	}
	if p := b.postForm(admins, admins, url.Values{"email": {"not an email"}, "access": {"full"}}); p.resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad email: %d", p.resp.StatusCode)
	}

	// Change access, then remove after the confirmation page.
	access := admins + "/" + existing.Account.ID + "/access"
	if p := b.postForm(admins, access, url.Values{"access": {"read-only"}}); p.resp.StatusCode != http.StatusSeeOther {
		t.Errorf("set access: %d", p.resp.StatusCode)
	}
	if got := e.access(existing.Account.ID); got != store.AccessReadOnly {
		t.Errorf("after change: %q", got)
	}
	remove := admins + "/" + existing.Account.ID + "/remove"
	confirm := b.get(remove)
	mustContain(t, confirm.body, "Remove <strong>existing@example.com</strong>")
	p = b.postForm(remove, remove, url.Values{})
	if p.resp.StatusCode != http.StatusSeeOther {
		t.Errorf("remove: %d", p.resp.StatusCode)
	}
	if got := e.access(existing.Account.ID); got != "" {
		t.Errorf("removed admin still has %q", got)
	}
	if p := b.get(p.resp.Header.Get("Location")); !strings.Contains(p.body, "Administrator removed.") || strings.Contains(p.body, "existing@example.com") {
		t.Errorf("list after remove:\n%s", p.body)
	}

	evs, err := e.st.Audit().ListAudit(ctx, store.AuditFilter{OrgID: e.org.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.ActorAccountID == e.admin.ID {
			got = append(got, ev.Action+" "+ev.Target)
		}
	}
	slices.Reverse(got)
	want := []string{
		"admin.created new.person@example.com", "admin.created existing@example.com",
		"admin.access_changed existing@example.com", "admin.removed existing@example.com",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit events with the admin as actor:\n got %q\nwant %q", got, want)
	}
}

func TestAdminsRolesAndCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	viewer, err := e.svc.CreateAdmin(ctx, e.org.ID, "viewer@example.com", testPassword, store.AccessReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateAdmin(ctx, "", "x@example.com", testPassword, store.AccessFull); err == nil {
		t.Fatal("admin of no organization was created")
	}
	admins := "/organizations/" + e.org.ID + "/admins"
	before := len(e.auditActions())

	// Read-only: sees the list, no buttons, and every change is 403.
	v := e.loggedIn("viewer@example.com", testPassword)
	list := v.get(admins)
	if list.resp.StatusCode != http.StatusOK {
		t.Fatalf("viewer list: %d", list.resp.StatusCode)
	}
	for _, hidden := range []string{"Add administrator", "Make read-only", "Give full access", "/remove"} {
		if strings.Contains(list.body, hidden) {
			t.Errorf("read-only admin sees %q", hidden)
		}
	}
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{admins, url.Values{"email": {"evil@example.com"}, "access": {"full"}}},
		{admins + "/" + viewer.Account.ID + "/access", url.Values{"access": {"full"}}},
		{admins + "/" + e.admin.ID + "/access", url.Values{"access": {"read-only"}}},
		{admins + "/" + e.admin.ID + "/remove", url.Values{}},
	} {
		if p := v.postForm(admins, tc.path, tc.form); p.resp.StatusCode != http.StatusForbidden {
			t.Errorf("read-only POST %s: %d, want 403", tc.path, p.resp.StatusCode)
		}
	}
	if p := v.get(admins + "/" + e.admin.ID + "/remove"); p.resp.StatusCode != http.StatusForbidden {
		t.Errorf("read-only remove page: %d", p.resp.StatusCode)
	}

	// A full admin without the CSRF token: 403, nothing changes.
	b := e.loggedIn("admin@example.com", testPassword)
	if p := b.post(admins+"/"+viewer.Account.ID+"/remove", url.Values{}); p.resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d, want 403", p.resp.StatusCode)
	}
	if p := b.post(admins, url.Values{"email": {"csrf@example.com"}, "access": {"full"}, "csrf_token": {"wrong"}}); p.resp.StatusCode != http.StatusForbidden {
		t.Errorf("wrong CSRF: %d, want 403", p.resp.StatusCode)
	}
	if p := b.post("/organizations", url.Values{"name": {"CSRF Org"}}); p.resp.StatusCode != http.StatusForbidden {
		t.Errorf("create org without CSRF: %d, want 403", p.resp.StatusCode)
	}
	if got := e.access(viewer.Account.ID); got != store.AccessReadOnly {
		t.Errorf("viewer access now %q", got)
	}

	// Outsiders and unknown organizations: 404.
	if _, err := e.svc.CreateAdmin(ctx, mustOrg(t, e, "Other"), "outsider@example.com", testPassword, store.AccessFull); err != nil {
		t.Fatal(err)
	}
	o := e.loggedIn("outsider@example.com", testPassword)
	if p := o.get(admins); p.resp.StatusCode != http.StatusNotFound || strings.Contains(p.body, "viewer@example.com") {
		t.Errorf("outsider: %d", p.resp.StatusCode)
	}
	if p := o.postForm("/organizations", admins, url.Values{"email": {"o@example.com"}, "access": {"full"}}); p.resp.StatusCode != http.StatusNotFound {
		t.Errorf("outsider invite: %d", p.resp.StatusCode)
	}

	var changes []string
	for _, a := range e.auditActions()[before:] {
		if strings.HasPrefix(a, "admin.") {
			changes = append(changes, a)
		}
	}
	if len(changes) != 1 { // the outsider's own admin.created above
		t.Errorf("refused changes were audited as changes: %q", changes)
	}
}

func mustOrg(t *testing.T, e *env, name string) string {
	t.Helper()
	o, err := e.svc.CreateOrganization(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

func TestAdminsKeepOneFullAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	second, err := e.svc.CreateAdmin(t.Context(), e.org.ID, "second@example.com", testPassword, store.AccessReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	admins := "/organizations/" + e.org.ID + "/admins"
	b := e.loggedIn("admin@example.com", testPassword)
	self := admins + "/" + e.admin.ID

	p := b.postForm(admins, self+"/access", url.Values{"access": {"read-only"}})
	if p.resp.StatusCode != http.StatusConflict {
		t.Errorf("downgrade last full admin: %d, want 409", p.resp.StatusCode)
	}
	mustContain(t, p.body, "at least one full administrator")
	if p := b.postForm(admins, self+"/remove", url.Values{}); p.resp.StatusCode != http.StatusConflict {
		t.Errorf("remove last full admin: %d, want 409", p.resp.StatusCode)
	}
	if got := e.access(e.admin.ID); got != store.AccessFull {
		t.Fatalf("last full admin now %q", got)
	}

	// With a second full admin, the first may step down and then leave.
	if p := b.postForm(admins, admins+"/"+second.Account.ID+"/access", url.Values{"access": {"full"}}); p.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upgrade second: %d", p.resp.StatusCode)
	}
	if p := b.postForm(admins, self+"/access", url.Values{"access": {"read-only"}}); p.resp.StatusCode != http.StatusSeeOther {
		t.Errorf("downgrade with another full admin: %d", p.resp.StatusCode)
	}
	// Now read-only: no more changes.
	if p := b.postForm(admins, self+"/remove", url.Values{}); p.resp.StatusCode != http.StatusForbidden {
		t.Errorf("read-only self remove: %d, want 403", p.resp.StatusCode)
	}
	s := e.loggedIn("second@example.com", testPassword)
	if p := s.postForm(admins, admins+"/"+second.Account.ID+"/remove", url.Values{}); p.resp.StatusCode != http.StatusConflict {
		t.Errorf("second (now last full) removes self: %d, want 409", p.resp.StatusCode)
	}
}

func TestCreateOrganizationPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.loggedIn("admin@example.com", testPassword)
	orgs := b.get("/organizations")
	mustContain(t, orgs.body, "Create organization")

	if p := b.postForm("/organizations", "/organizations", url.Values{"name": {"   "}}); p.resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty name: %d", p.resp.StatusCode)
	}
	p := b.postForm("/organizations", "/organizations", url.Values{"name": {"  New Branch  "}})
	loc := p.resp.Header.Get("Location")
	m := regexp.MustCompile(`^/organizations/(\d+)/admins$`).FindStringSubmatch(loc)
	if p.resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %q", p.resp.StatusCode, loc)
	}
	org, err := e.st.Organizations().GetOrganization(t.Context(), m[1])
	if err != nil || org.Name != "New Branch" {
		t.Fatalf("created org %+v, %v", org, err)
	}
	mb, err := e.st.Accounts().GetMembership(t.Context(), org.ID, e.admin.ID)
	if err != nil || mb.Access != store.AccessFull {
		t.Errorf("creator membership %+v, %v", mb, err)
	}
	if p := b.get(loc); p.resp.StatusCode != http.StatusOK || !strings.Contains(p.body, "Add administrator") {
		t.Errorf("new org admins page: %d", p.resp.StatusCode)
	}
	evs, _ := e.st.Audit().ListAudit(t.Context(), store.AuditFilter{OrgID: org.ID, Limit: 10})
	var got []string
	for _, ev := range evs {
		if ev.ActorAccountID == e.admin.ID {
			got = append(got, ev.Action)
		}
	}
	if !slices.Equal(got, []string{"admin.created", "org.created"}) {
		t.Errorf("audit for the new org: %q", got)
	}
}
