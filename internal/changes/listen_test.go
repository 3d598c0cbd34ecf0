package changes_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grantflow/grantflow/internal/changes"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/sqlstore"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

// slowChanges is a feed whose reads take a while and are counted.
type slowChanges struct {
	fakeChanges
	reads atomic.Int32
}

func (s *slowChanges) ChangesSince(ctx context.Context, seq int64, limit int) ([]store.Change, error) {
	s.reads.Add(1)
	chs, err := s.fakeChanges.ChangesSince(ctx, seq, limit)
	time.Sleep(20 * time.Millisecond)
	return chs, err
}

// A burst of notifications costs a few reads, not one each, and every
// change is still dispatched once, in order.
func TestListenCoalescesBursts(t *testing.T) {
	t.Parallel()
	src := &slowChanges{}
	f, err := changes.New(context.Background(), src, time.Hour, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	f.Subscribe(store.ChangeGrant, func(key string) {
		mu.Lock()
		defer mu.Unlock()
		if got = append(got, key); len(got) == n {
			close(done)
		}
	})
	f.SetListener(func(ctx context.Context, ready, notify func()) error {
		ready()
		for i := range n {
			src.commit(int64(i+1), strconv.Itoa(i+1))
			notify()
		}
		<-ctx.Done()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Run(ctx)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not every change dispatched within 10 s")
	}
	time.Sleep(50 * time.Millisecond) // let any read still pending finish
	mu.Lock()
	defer mu.Unlock()
	want := make([]string, n)
	for i := range want {
		want[i] = strconv.Itoa(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("dispatched %v, want 1..%d once each", got, n)
	}
	if r := src.reads.Load(); r > 5 {
		t.Errorf("%d notifications cost %d reads, want a few", n, r)
	}
}

// On PostgreSQL a change committed by anyone reaches a listening feed
// without waiting for the poll; when the listener's connection is killed
// and cannot come back, the poll still delivers; once it can, the listener
// reconnects and notifications flow again.
func TestListenFallsBackToPollAndReconnects(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dbURL := storetest.NewPostgresDatabase(t)
	lg := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlstore.OpenPostgres(ctx, dbURL, lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	// The writer is another store handle, as another replica or a CLI
	// command is.
	other, err := sqlstore.OpenPostgres(ctx, dbURL, lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })

	const poll = 300 * time.Millisecond
	f, err := changes.New(ctx, st.Changes(), poll, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 10)
	f.Subscribe(store.ChangeAccessToken, func(key string) { seen <- key })
	var blocked atomic.Bool
	var notified atomic.Int32
	ready := make(chan struct{}, 10)
	f.SetListener(func(ctx context.Context, r, notify func()) error {
		if blocked.Load() {
			return errors.New("listening refused by the test")
		}
		return st.ListenChanges(ctx, func() { r(); ready <- struct{}{} }, func() { notified.Add(1); notify() })
	})
	runDone := make(chan struct{})
	go func() { f.Run(ctx); close(runDone) }()
	defer func() { cancel(); <-runDone }()

	// publish commits a change from the other handle and returns how long
	// the feed took to dispatch it and whether a notification came.
	publish := func(key string) (time.Duration, bool) {
		t.Helper()
		before := notified.Load()
		start := time.Now()
		if err := other.Changes().PublishChange(ctx, store.ChangeAccessToken, key, time.Now()); err != nil {
			t.Fatal(err)
		}
		select {
		case k := <-seen:
			if k != key {
				t.Fatalf("dispatched %q, want %q", k, key)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("change %q not dispatched within 5 s", key)
		}
		d := time.Since(start)
		time.Sleep(20 * time.Millisecond) // a notification may trail the poll that found the change
		return d, notified.Load() > before
	}
	waitReady := func() {
		t.Helper()
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			t.Fatal("listener not listening within 10 s")
		}
	}
	listenerPID := func() (pid int) {
		t.Helper()
		err := st.Pool().QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
			sqlstore.ListenerName).Scan(&pid)
		if err != nil {
			t.Fatalf("listener connection in pg_stat_activity: %v", err)
		}
		return pid
	}

	waitReady()
	if d, heard := publish("listening"); !heard {
		t.Errorf("change dispatched after %s with no notification", d)
	}
	pid := listenerPID()

	// Kill the listener's connection and keep it from coming back.
	blocked.Store(true)
	var killed bool
	if err := st.Pool().QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, killed, err)
	}
	time.Sleep(50 * time.Millisecond) // the listener sees its connection end
	d, heard := publish("polled")
	if heard {
		t.Error("notification heard with the listener down")
	}
	if d > poll+500*time.Millisecond {
		t.Errorf("with the listener down the change took %s, want about the poll interval (%s)", d, poll)
	}
	t.Logf("listener down: change dispatched by the poll after %s (poll every %s)", d, poll)

	// Let it reconnect.
	blocked.Store(false)
	waitReady()
	if again := listenerPID(); again == pid {
		t.Errorf("listener still on the killed backend %d", pid)
	}
	d, heard = publish("reconnected")
	if !heard {
		t.Errorf("after reconnecting: change dispatched after %s with no notification", d)
	}
	t.Logf("listener reconnected: change dispatched after %s", d)
}
