package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationsFS embed.FS

// migrationLockID is the PostgreSQL advisory lock that serialises
// migrations when several replicas start at once: grantflow's own and, through
// [Store.WithMigrationLock], River's.
const migrationLockID = 7_245_116_001

// WithMigrationLock runs fn while this process holds the migration lock, so
// that schema changes made outside this package (River's migrations) never
// run in two processes at once: PostgreSQL's CREATE TABLE IF NOT EXISTS is
// not safe against a concurrent one. On SQLite it just runs fn; the
// database's single writer already serialises it.
func (s *Store) WithMigrationLock(ctx context.Context, fn func(context.Context) error) error {
	_, unlock, err := s.lockMigrations(ctx)
	if err != nil {
		return err
	}
	defer unlock() // fn uses connections of its own; the lock's stays held until then
	return fn(ctx)
}

// lockMigrations takes a connection and, on PostgreSQL, the migration lock
// on it; unlock releases both.
func (s *Store) lockMigrations(ctx context.Context) (*sql.Conn, func(), error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if s.dialect != "postgres" {
		return conn, func() { _ = conn.Close() }, nil
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("sqlstore: migration lock: %w", err)
	}
	return conn, func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockID)
		_ = conn.Close()
	}, nil
}

// migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	dir := "migrations/" + s.dialect
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)

	conn, unlock, err := s.lockMigrations(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	applied := map[int64]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	for _, name := range names {
		v, err := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
		if err != nil {
			return fmt.Errorf("sqlstore: migration %s: name must start with a number", name)
		}
		if applied[v] {
			continue
		}
		body, err := fs.ReadFile(migrationsFS, dir+"/"+name)
		if err != nil {
			return err
		}
		if err := applyMigration(ctx, conn, v, name, string(body)); err != nil {
			return fmt.Errorf("sqlstore: migration %s: %w", name, err)
		}
		s.lg.Info("applied migration", "name", name, "dialect", s.dialect)
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, v int64, name, body string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", v, name); err != nil {
		return err
	}
	return tx.Commit()
}
