package conformance

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func init() { register("AuditFilters", testAuditFilters) }

// testAuditFilters checks that every AuditFilter field narrows the query
// and that paging older (BeforeID) and newer (AfterID) returns each event
// once, newest first.
func testAuditFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := s.Audit()
	// 12 events in org 1, one a minute: actions alternate, actor and client
	// every third event; one event in org 2.
	var evs []store.AuditEvent
	for i := range 12 {
		e := store.AuditEvent{At: t0.Add(time.Duration(i) * time.Minute), Action: "token.issued", OrgID: "1", Target: strconv.Itoa(i)}
		if i%2 == 1 {
			e.Action = "token.refreshed"
		}
		if i%3 == 0 {
			e.ActorAccountID, e.ActorClientID = "acct-1", "client-1"
		}
		evs = append(evs, e)
	}
	evs = append(evs, store.AuditEvent{At: t0, Action: "token.issued", OrgID: "2", ActorAccountID: "acct-1", ActorClientID: "client-1", Target: "other"})
	must(t, a.AppendAudit(ctx, evs...))

	targets := func(es []store.AuditEvent) string {
		out := ""
		for _, e := range es {
			out += e.Target + " "
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want string
	}{
		{"action", store.AuditFilter{OrgID: "1", Action: "token.refreshed"}, "11 9 7 5 3 1 "},
		{"actor", store.AuditFilter{OrgID: "1", ActorAccountID: "acct-1"}, "9 6 3 0 "},
		{"client", store.AuditFilter{OrgID: "1", ClientID: "client-1"}, "9 6 3 0 "},
		{"time range", store.AuditFilter{OrgID: "1", Since: t0.Add(2 * time.Minute), Until: t0.Add(5 * time.Minute)}, "4 3 2 "},
		{"combined", store.AuditFilter{OrgID: "1", Action: "token.issued", ActorAccountID: "acct-1", Since: t0.Add(time.Minute)}, "6 "},
		{"no match", store.AuditFilter{OrgID: "1", Action: "org.created"}, ""},
	}
	for _, tc := range tests {
		got, err := a.ListAudit(ctx, tc.f)
		must(t, err)
		if targets(got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, targets(got), tc.want)
		}
	}

	// Older pages of 5, then newer pages back from the oldest one.
	f := store.AuditFilter{OrgID: "1", Limit: 5}
	var pages [][]store.AuditEvent
	for {
		p, err := a.ListAudit(ctx, f)
		must(t, err)
		if len(p) == 0 {
			break
		}
		pages = append(pages, p)
		f.BeforeID = p[len(p)-1].ID
	}
	if len(pages) != 3 || targets(pages[0]) != "11 10 9 8 7 " || targets(pages[2]) != "1 0 " {
		t.Fatalf("older pages = %v", pages)
	}
	newer, err := a.ListAudit(ctx, store.AuditFilter{OrgID: "1", Limit: 5, AfterID: pages[2][0].ID})
	must(t, err)
	if targets(newer) != targets(pages[1]) {
		t.Errorf("newer than the last page = %q, want %q", targets(newer), targets(pages[1]))
	}
	newest, err := a.ListAudit(ctx, store.AuditFilter{OrgID: "1", Limit: 5, AfterID: newer[0].ID})
	must(t, err)
	if targets(newest) != "11 10 9 8 7 " {
		t.Errorf("newer than the middle page = %q", targets(newest))
	}
	filtered, err := a.ListAudit(ctx, store.AuditFilter{OrgID: "1", Action: "token.issued", Limit: 2, AfterID: pages[2][0].ID})
	must(t, err)
	if targets(filtered) != "4 2 " {
		t.Errorf("newer with an action filter = %q, want \"4 2 \"", targets(filtered))
	}
}
