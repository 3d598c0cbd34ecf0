package identity_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/grantflow/grantflow/internal/store"
)

func TestAuditPageAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	other, err := e.svc.CreateOrganization(ctx, "Other Org")
	if err != nil {
		t.Fatal(err)
	}
	for email, access := range map[string]store.Access{"viewer@example.com": store.AccessReadOnly} {
		if _, err := e.svc.CreateAdmin(ctx, e.org.ID, email, testPassword, access); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.CreateAdmin(ctx, other.ID, "outsider@example.com", testPassword, store.AccessFull); err != nil {
		t.Fatal(err)
	}
	path := "/organizations/" + e.org.ID + "/audit"

	// Logged out: to the login page and back.
	anon := e.browser()
	if p := anon.get(path); p.resp.StatusCode != http.StatusSeeOther || p.resp.Header.Get("Location") != "/login?return_to=%2Forganizations%2F"+e.org.ID+"%2Faudit" {
		t.Errorf("logged out: %d %q", p.resp.StatusCode, p.resp.Header.Get("Location"))
	}

	tests := []struct {
		email string
		path  string
		want  int
	}{
		{"admin@example.com", path, http.StatusOK},
		{"viewer@example.com", path, http.StatusOK},
		{"outsider@example.com", path, http.StatusNotFound},
		{"admin@example.com", "/organizations/424242/audit", http.StatusNotFound},
		{"admin@example.com", path + "?before=abc", http.StatusBadRequest},
	}
	for _, tc := range tests {
		b := e.browser()
		if p := b.login(tc.email, testPassword, "/"); p.resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %d", tc.email, p.resp.StatusCode)
		}
		p := b.get(tc.path)
		if p.resp.StatusCode != tc.want {
			t.Errorf("%s GET %s: %d, want %d", tc.email, tc.path, p.resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusNotFound && strings.Contains(p.body, "org.created") {
			t.Errorf("%s sees another organization's audit log", tc.email)
		}
	}
}

var rowRE = regexp.MustCompile(`<tr>\s*<td class="nowrap">`)

func TestAuditPageContentAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	other, _ := e.svc.CreateOrganization(ctx, "Other Org")
	// 150 token events in our organization, one in another.
	var evs []store.AuditEvent
	for i := range 150 {
		evs = append(evs, store.AuditEvent{
			At: e.clock.Now(), Action: "token.refreshed", ActorAccountID: e.admin.ID, ActorClientID: "client-abc",
			OrgID: e.org.ID, Target: "grant-" + strconv.Itoa(i), Details: map[string]string{"scope": "dashboard:general:config:read", "b": "2"},
		})
	}
	evs = append(evs, store.AuditEvent{At: e.clock.Now(), Action: "token.issued", OrgID: other.ID, Target: "secret-other-grant"})
	if err := e.st.Audit().AppendAudit(ctx, evs...); err != nil {
		t.Fatal(err)
	}

	b := e.browser()
	b.login("admin@example.com", testPassword, "/")
	first := b.get("/organizations/" + e.org.ID + "/audit")
	if first.resp.StatusCode != http.StatusOK {
		t.Fatalf("audit page: %d", first.resp.StatusCode)
	}
	if n := len(rowRE.FindAllString(first.body, -1)); n != 100 {
		t.Errorf("first page has %d rows, want 100", n)
	}
	for _, want := range []string{"token.refreshed", "admin@example.com", "client-abc", "grant-149", "b=2, scope=dashboard:general:config:read", "Acme Corp"} {
		mustContain(t, first.body, want)
	}
	if strings.Contains(first.body, "secret-other-grant") {
		t.Error("another organization's event is shown")
	}
	m := regexp.MustCompile(`audit\?before=(\d+)">Older events`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatalf("no link to older events:\n%s", first.body)
	}
	second := b.get("/organizations/" + e.org.ID + "/audit?before=" + m[1])
	// 50 older token events plus org.created and admin.created from setup.
	if n := len(rowRE.FindAllString(second.body, -1)); n != 52 {
		t.Errorf("second page has %d rows, want 52", n)
	}
	mustContain(t, second.body, "grant-0<")
	mustContain(t, second.body, "org.created")
	mustContain(t, second.body, ">Newest<")
	if strings.Contains(second.body, "Older events") {
		t.Error("last page links to older events")
	}
	if strings.Contains(second.body, "grant-149") {
		t.Error("second page repeats the first")
	}
}
