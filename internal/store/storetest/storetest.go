// Package storetest opens real stores for tests: a fresh SQLite file in the
// test's temporary directory, or a fresh PostgreSQL schema on
// TEST_DATABASE_URL. Both are migrated and removed when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/grantflow/grantflow/internal/store/sqlstore"
)

// New returns a fresh SQLite store.
func New(t testing.TB) *sqlstore.Store {
	t.Helper()
	return SQLite(t)
}

// SQLite returns a fresh SQLite store in t.TempDir().
func SQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "grantflow.db"), logger(t))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// PostgresURL returns TEST_DATABASE_URL or skips the test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Skip("TEST_DATABASE_URL is not set: skipping PostgreSQL test (.ci/run sets it)")
	}
	return u
}

// Postgres returns a store in a fresh database on TEST_DATABASE_URL (skips
// the test when it is unset). The database is dropped when the test ends.
func Postgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	dbURL := NewPostgresDatabase(t)
	s, err := sqlstore.OpenPostgres(context.Background(), dbURL, logger(t))
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// NewPostgresDatabase creates an empty database on TEST_DATABASE_URL's
// server and returns its URL; it is dropped when the test ends. Tests that
// start several processes on one database use it directly.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "grantflow_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func logger(t testing.TB) *slog.Logger {
	if tt, ok := t.(*testing.T); ok {
		return slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
