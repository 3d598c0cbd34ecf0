package authz

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// Concurrent events are each written exactly once, and every caller
// returns only after its own event is in the log.
func TestGroupAudit(t *testing.T) {
	t.Parallel()
	st := storetest.New(t)
	g := &groupAudit{rec: audit.New(st.Audit(), nil, slog.New(slog.NewTextHandler(t.Output(), nil)))}
	const n = 300 // more than one batch
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			target := fmt.Sprint("t", i)
			if err := g.record(t.Context(), store.AuditEvent{Action: "token.issued", Target: target}); err != nil {
				t.Error(err)
				return
			}
			evs, err := st.Audit().ListAudit(t.Context(), store.AuditFilter{Limit: 1000})
			if err != nil {
				t.Error(err)
				return
			}
			for _, ev := range evs {
				if ev.Target == target {
					return
				}
			}
			t.Errorf("record returned before %s was written", target)
		})
	}
	wg.Wait()
	evs, err := st.Audit().ListAudit(t.Context(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range evs {
		seen[ev.Target]++
	}
	if len(evs) != n || len(seen) != n {
		t.Fatalf("%d events, %d distinct, want %d", len(evs), len(seen), n)
	}
	if g.writing || len(g.pending) != 0 {
		t.Fatalf("left writing=%v with %d pending", g.writing, len(g.pending))
	}
}
