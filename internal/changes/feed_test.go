package changes_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/changes"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

func TestFeedDispatchesOnlyNewChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	if err := s.Changes().PublishChange(ctx, store.ChangeGrant, "before-start", time.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := changes.New(ctx, s.Changes(), time.Hour, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	f.Subscribe(store.ChangeGrant, func(key string) { mu.Lock(); got = append(got, key); mu.Unlock() })
	for _, k := range []string{"g1", "g2"} {
		if err := s.Changes().PublishChange(ctx, store.ChangeGrant, k, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Changes().PublishChange(ctx, store.ChangeClient, "c1", time.Now())
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil { // nothing new: no second dispatch
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != "g1" || got[1] != "g2" {
		t.Fatalf("dispatched %v, want [g1 g2]", got)
	}
}

// Changes written straight to the store, as another process (a replica, a
// CLI command) writes them, reach subscribers through polling alone.
func TestFeedSeesOtherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t)
	f, err := changes.New(ctx, s.Changes(), 20*time.Millisecond, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 1)
	f.Subscribe(store.ChangeAccessToken, func(key string) { seen <- key })
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go f.Run(ctx)
	if err := s.Changes().PublishChange(ctx, store.ChangeAccessToken, "tok", time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-seen:
		if k != "tok" {
			t.Fatalf("key = %q", k)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("change not seen within 5s")
	}
}

// fakeChanges is a change feed whose rows the test commits out of order,
// as concurrent PostgreSQL transactions can.
type fakeChanges struct {
	mu   sync.Mutex
	rows []store.Change
}

func (f *fakeChanges) commit(seq int64, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, store.Change{Seq: seq, Kind: store.ChangeGrant, Key: key})
}

func (f *fakeChanges) PublishChange(context.Context, string, string, time.Time) error { return nil }
func (f *fakeChanges) LatestChange(context.Context) (int64, error)                    { return 0, nil }
func (f *fakeChanges) PruneChanges(context.Context, time.Time) (int64, error)         { return 0, nil }
func (f *fakeChanges) ChangesSince(_ context.Context, seq int64, limit int) ([]store.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Change
	for _, c := range f.rows {
		if c.Seq > seq {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b store.Change) int { return int(a.Seq - b.Seq) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// A change whose transaction commits after a later one (seq 2 after 3) is
// still dispatched, exactly once.
func TestFeedFillsGaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := &fakeChanges{}
	f, err := changes.New(ctx, src, time.Hour, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	f.Subscribe(store.ChangeGrant, func(key string) { got = append(got, key) })
	src.commit(1, "a")
	src.commit(3, "c")
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	src.commit(2, "b") // the late commit
	for range 2 {
		if err := f.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, []string{"a", "c", "b"}) {
		t.Fatalf("dispatched %v, want [a c b]", got)
	}
}
