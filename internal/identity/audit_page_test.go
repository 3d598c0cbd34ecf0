package identity_test

import (
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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

var (
	rowRE    = regexp.MustCompile(`<tr>\s*<td class="nowrap">`)
	targetRE = regexp.MustCompile(`<td title="(grant-\d+)">`)
)

// link finds the href of the link whose text is text, unescaped.
func link(t *testing.T, body, text string) string {
	t.Helper()
	m := regexp.MustCompile(`href="([^"]*)">` + regexp.QuoteMeta(text) + `<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestAuditPageContentAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	other, _ := e.svc.CreateOrganization(ctx, "Other Org")
	if err := e.st.Clients().CreateClient(ctx, store.Client{ID: "client-abc", Name: "Inventory Sync", SecretHash: "x", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// 250 token events in our organization, one in another.
	var evs []store.AuditEvent
	for i := range 250 {
		evs = append(evs, store.AuditEvent{
			At: e.clock.Now(), Action: "token.refreshed", ActorAccountID: e.admin.ID, ActorClientID: "client-abc",
			OrgID: e.org.ID, Target: "grant-" + strconv.Itoa(i),
			Details: map[string]string{"scope": "dashboard:general:config:read", "grant_id": "grant-" + strconv.Itoa(i), "b": "2"},
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
	// Plain words, the actor's email, the integration's name, key: value
	// details without the repeated grant id.
	for _, want := range []string{">Token refreshed<", "admin@example.com", ">Inventory Sync<", "grant-249", ">b: 2</span>; <span title=\"dashboard:general:config:read\">scope: dashboard:general:config:read<", "Acme Corp"} {
		mustContain(t, first.body, want)
	}
	for _, unwanted := range []string{"secret-other-grant", "<td>client-abc</td>", "grant id:", "Newer events"} {
		if strings.Contains(first.body, unwanted) {
			t.Errorf("first page shows %q", unwanted)
		}
	}

	// Older to the end, then newer back to the start: each event once per
	// direction, and the same pages.
	seen := map[string]int{}
	var older []string
	p := first
	for {
		older = append(older, strings.Join(targets(p.body), ","))
		for _, g := range targets(p.body) {
			seen[g]++
		}
		next := link(t, p.body, "Older events")
		if next == "" {
			break
		}
		p = b.get(next)
		if p.resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", next, p.resp.StatusCode)
		}
	}
	if len(older) != 3 || len(seen) != 250 {
		t.Fatalf("%d older pages with %d distinct events, want 3 and 250", len(older), len(seen))
	}
	for g, n := range seen {
		if n != 1 {
			t.Errorf("%s shown %d times paging older", g, n)
		}
	}
	// The last page also has org.created and admin.created from setup.
	mustContain(t, p.body, ">Organization created<")
	mustContain(t, p.body, ">Newest<")
	for i := len(older) - 2; i >= 0; i-- {
		next := link(t, p.body, "Newer events")
		if next == "" {
			t.Fatalf("page %d has no newer link", i+2)
		}
		p = b.get(next)
		if got := strings.Join(targets(p.body), ","); got != older[i] {
			t.Errorf("newer page %d differs from older page %d", i+1, i+1)
		}
	}
	if link(t, p.body, "Newer events") != "" {
		t.Error("the newest page links to newer events")
	}
	if p := b.get("/organizations/" + e.org.ID + "/audit?before=1&after=2"); p.resp.StatusCode != http.StatusBadRequest {
		t.Errorf("before and after: %d", p.resp.StatusCode)
	}
}

func targets(body string) []string {
	var out []string
	for _, m := range targetRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestAuditPageFiltersAndExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	viewer, err := e.svc.CreateAdmin(ctx, e.org.ID, "viewer@example.com", testPassword, store.AccessReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	for _, c := range []store.Client{{ID: "client-inv", Name: "Inventory Sync"}, {ID: "client-bkp", Name: "Backup Bot"}} {
		c.SecretHash, c.CreatedAt, c.UpdatedAt = "x", now, now
		if err := e.st.Clients().CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	day := func(d int) time.Time { return time.Date(2026, 4, d, 12, 0, 0, 0, time.UTC) }
	evs := []store.AuditEvent{
		{At: day(1), Action: "token.issued", ActorAccountID: e.admin.ID, ActorClientID: "client-inv", OrgID: e.org.ID, Target: "grant-1"},
		{At: day(2), Action: "token.refreshed", ActorClientID: "client-inv", OrgID: e.org.ID, Target: "grant-2"},
		{At: day(3), Action: "token.issued", ActorAccountID: viewer.Account.ID, ActorClientID: "client-bkp", OrgID: e.org.ID, Target: "grant-3"},
		{At: day(4), Action: "token.refreshed", ActorClientID: "client-bkp", OrgID: e.org.ID, Target: "grant-4", Details: map[string]string{"scope": "a b"}},
		{At: day(5), Action: "token.issued", ActorAccountID: viewer.Account.ID, ActorClientID: "client-inv", OrgID: e.org.ID, Target: "grant-5"},
	}
	if err := e.st.Audit().AppendAudit(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("viewer@example.com", testPassword, "/")
	base := "/organizations/" + e.org.ID + "/audit"
	tests := []struct {
		query string
		want  string
	}{
		{"action=token.issued", "grant-5,grant-3,grant-1"},
		{"actor=Viewer@example.com", "grant-5,grant-3"},
		{"integration=client-bkp", "grant-4,grant-3"},
		{"integration=inventory+sync", "grant-5,grant-2,grant-1"},
		{"from=2026-04-02&to=2026-04-04", "grant-4,grant-3,grant-2"},
		{"action=token.issued&integration=Inventory+Sync&from=2026-04-02", "grant-5"},
		{"actor=nobody@example.com", ""},
		{"integration=No+Such+App", ""},
	}
	for _, tc := range tests {
		p := b.get(base + "?" + tc.query)
		if p.resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", tc.query, p.resp.StatusCode)
		}
		if got := strings.Join(targets(p.body), ","); got != tc.want {
			t.Errorf("%s: rows %q, want %q", tc.query, got, tc.want)
		}
	}
	for _, q := range []string{"from=yesterday", "from=2026-04-05&to=2026-04-01", "format=xml"} {
		if p := b.get(base + "?" + q); p.resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, p.resp.StatusCode)
		}
	}

	// The export links keep the filter.
	p := b.get(base + "?integration=Backup+Bot")
	csvURL, jsonURL := link(t, p.body, "CSV"), link(t, p.body, "JSON")
	if !strings.Contains(csvURL, "integration=Backup+Bot") || !strings.Contains(jsonURL, "format=json") {
		t.Fatalf("export links %q %q", csvURL, jsonURL)
	}
	c := b.get(csvURL)
	if cd := c.resp.Header.Get("Content-Disposition"); c.resp.StatusCode != http.StatusOK || !strings.HasPrefix(cd, "attachment;") || !strings.HasPrefix(c.resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV export: %d %q %q", c.resp.StatusCode, cd, c.resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1][7] != "grant-4" || recs[1][5] != "Backup Bot" || recs[1][9] != "scope: a b" ||
		recs[2][7] != "grant-3" || recs[2][4] != "viewer@example.com" || recs[2][1] != "2026-04-03T12:00:00Z" {
		t.Errorf("CSV rows = %q", recs)
	}
	j := b.get(jsonURL)
	if cd := j.resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".json") {
		t.Errorf("JSON export disposition %q", cd)
	}
	var got []struct {
		Action, Target, Integration string
		ActorEmail                  string `json:"actor_email"`
	}
	if err := json.Unmarshal([]byte(j.body), &got); err != nil {
		t.Fatalf("JSON export: %v\n%s", err, j.body)
	}
	if len(got) != 2 || got[0].Target != "grant-4" || got[1].ActorEmail != "viewer@example.com" || got[0].Integration != "Backup Bot" {
		t.Errorf("JSON export = %+v", got)
	}

	// Another organization's admin cannot export.
	if _, err := e.svc.CreateOrganization(ctx, "Other"); err != nil {
		t.Fatal(err)
	}
	other, _ := e.svc.CreateOrganization(ctx, "Other Org")
	if _, err := e.svc.CreateAdmin(ctx, other.ID, "outsider@example.com", testPassword, store.AccessFull); err != nil {
		t.Fatal(err)
	}
	ob := e.browser()
	ob.login("outsider@example.com", testPassword, "/")
	if p := ob.get(csvURL); p.resp.StatusCode != http.StatusNotFound || strings.Contains(p.body, "grant-4") {
		t.Errorf("outsider export: %d", p.resp.StatusCode)
	}
}
