package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// benchRun makes a SQLite store with one tenant, workflow and run.
func benchRun(b *testing.B) store.Store {
	b.Helper()
	ctx := context.Background()
	s := storetest.SQLite(b)
	now := store.Micro(time.Now())
	for _, err := range []error{
		s.Organizations().CreateOrganization(ctx, store.Organization{ID: "100", Name: "Org", CreatedAt: now}),
		s.Automation().CreateTenant(ctx, store.Tenant{ID: "ten_1", OrgID: "100", CreatedAt: now}),
	} {
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Workflows().CreateWorkflowVersion(ctx, store.Workflow{ID: "wf_1", TenantID: "ten_1", UniqueName: "a", Name: "A", CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	if err := s.Runs().CreateRun(ctx, store.Run{ID: "run_1", TenantID: "ten_1", WorkflowID: "wf_1", Status: store.RunRunning, CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPutActivities500 is one journal flush of 500 activities.
func BenchmarkPutActivities500(b *testing.B) {
	s := benchRun(b)
	ctx := context.Background()
	acts := make([]store.RunActivity, 500)
	now := store.Micro(time.Now())
	for i := range acts {
		acts[i] = store.RunActivity{RunID: "run_1", Seq: i + 1, Key: fmt.Sprintf("root/act_%d#1", i), ActivityID: fmt.Sprintf("act_%d", i),
			Type: "core.set_variables", Title: "Set", Status: "succeeded", StartedAt: now, EndedAt: now,
			Input: []byte(`{"variables":[{"name":"x","value":"1"}]}`), Output: []byte(`{"ok":true}`)}
	}
	for b.Loop() {
		if err := s.Runs().PutActivities(ctx, acts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateRun is one read-modify-write of a run.
func BenchmarkUpdateRun(b *testing.B) {
	s := benchRun(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Runs().UpdateRun(ctx, "run_1", func(r *store.Run) error { r.Attempt++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
