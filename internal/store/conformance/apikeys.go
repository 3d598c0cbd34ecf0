package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

func init() { register("APIKeyNamesAndLastUse", testAPIKeyNamesAndLastUse) }

// An API key keeps its name; its last use is written at most once per gap.
func testAPIKeyNamesAndLastUse(t *testing.T, s store.Store) {
	ctx := context.Background()
	ks := s.APIKeys()
	seedOrgAccount(t, s, "100", "acc", store.AccessFull)
	must(t, ks.CreateAPIKey(ctx, store.APIKey{ID: "k1", AccountID: "acc", Hash: "h1", Last4: "abcd", Name: "CI pipeline ✓", CreatedAt: t0}, 2))
	got, err := ks.GetAPIKeyByHash(ctx, "h1")
	must(t, err)
	if got.Name != "CI pipeline ✓" || !got.LastUsedAt.IsZero() {
		t.Fatalf("new key = %+v, want its name and no last use", got)
	}
	steps := []struct {
		at   time.Time
		want time.Time
	}{
		{t0.Add(time.Second), t0.Add(time.Second)},           // first use is written
		{t0.Add(30 * time.Second), t0.Add(time.Second)},      // within the gap: kept
		{t0.Add(61 * time.Second), t0.Add(61 * time.Second)}, // a gap later: written
		{t0.Add(-time.Hour), t0.Add(61 * time.Second)},       // an older time never goes back
	}
	for i, st := range steps {
		must(t, ks.TouchAPIKey(ctx, "k1", st.at, time.Minute))
		list, err := ks.ListAPIKeys(ctx, "acc")
		must(t, err)
		if len(list) != 1 || !list[0].LastUsedAt.Equal(st.want) {
			t.Fatalf("step %d: last use %v, want %v", i, list[0].LastUsedAt, st.want)
		}
	}
	// Touching a deleted key is not an error: a request may race a revoke.
	_, err = ks.DeleteAPIKey(ctx, "acc", "k1", t0)
	must(t, err)
	must(t, ks.TouchAPIKey(ctx, "k1", t0.Add(time.Hour), time.Minute))
}
