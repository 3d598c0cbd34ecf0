// Package sqlstore implements package store on SQLite (modernc.org/sqlite,
// pure Go) and PostgreSQL (pgx). Both backends run the same SQL, written with
// $N placeholders that both accept natively; where the dialects really differ
// (row locks, identity columns) the difference is a named fragment or a
// per-dialect migration, never a rewrite of one dialect into the other.
//
// On SQLite every write goes through one connection (SQLite has one writer
// at a time; queueing in Go is fairer and faster than the busy handler) and
// reads through a pool, with WAL so readers never wait for the writer.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/grantflow/grantflow/internal/store"
)

// Store is the SQL implementation of [store.Store].
type Store struct {
	dialect string
	w       *sql.DB // writes and transactions
	r       *sql.DB // reads (the same as w on PostgreSQL)
	pool    *pgxpool.Pool
	path    string // the SQLite file
	// writeTurn queues SQLite write transactions first come, first served.
	writeTurn chan struct{}
	lg        *slog.Logger
	// forUpdate locks the selected rows on PostgreSQL; SQLite transactions
	// are already exclusive (BEGIN IMMEDIATE on the single writer).
	forUpdate string
}

var _ store.Store = (*Store)(nil)

// OpenSQLite opens (creating if needed) the SQLite database at path and
// applies migrations.
func OpenSQLite(ctx context.Context, path string, lg *slog.Logger) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlstore: create data dir: %w", err)
	}
	s := &Store{dialect: "sqlite", path: path, lg: lg}
	w, err := sql.Open("sqlite", s.sqliteDSN("immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", s.sqliteDSN("deferred"))
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s.w, s.r = w, r
	s.writeTurn = make(chan struct{}, 1)
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lg.Warn("could not restrict database file mode", "path", path, "err", err)
	}
	return s, nil
}

// sqliteDSN is the connection string of every SQLite handle: WAL so that
// readers never wait for the writer, a busy timeout for the rare moments two
// handles write, foreign keys on.
func (s *Store) sqliteDSN(txlock string) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(ON)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", txlock)
	return "file:" + s.path + "?" + q.Encode()
}

// OpenPostgres connects to PostgreSQL at databaseURL and applies migrations.
func OpenPostgres(ctx context.Context, databaseURL string, lg *slog.Logger) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: database url: %w", err)
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: connect: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	s := &Store{dialect: "postgres", w: db, r: db, pool: pool, lg: lg, forUpdate: " FOR UPDATE"}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Dialect returns "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// DB returns the database handle for writes; River's SQLite driver uses it.
func (s *Store) DB() *sql.DB { return s.w }

// Pool returns the pgx pool on PostgreSQL (nil on SQLite); River's
// PostgreSQL driver and LISTEN/NOTIFY use it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes every connection.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

func (s *Store) Organizations() store.Organizations { return orgs{s} }
func (s *Store) Accounts() store.Accounts           { return accounts{s} }
func (s *Store) Sessions() store.Sessions           { return sessions{s} }
func (s *Store) Clients() store.Clients             { return clients{s} }
func (s *Store) Grants() store.Grants               { return grants{s} }
func (s *Store) Audit() store.AuditLog              { return auditLog{s} }
func (s *Store) Changes() store.Changes             { return changes{s} }
func (s *Store) Markers() store.Markers             { return markers{s} }

// scanner is a *sql.Row or *sql.Rows: what the scanX functions read.
type scanner interface{ Scan(dest ...any) error }

// joined lets a scanX function read its columns from a row of a join that
// selects other columns before (and after) them, so each row type is
// decoded in one place.
type joined struct {
	row           scanner
	before, after []any
}

func (j joined) Scan(dest ...any) error {
	return j.row.Scan(slices.Concat(j.before, dest, j.after)...)
}

// scanFunc is a scanner made of a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx runs fn in one transaction on the writer, committing if fn returns nil.
// fn may return a commitErr to commit what it did and still fail the call.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.writeTurn != nil {
		// database/sql hands a freed connection to a random waiter, so with
		// one SQLite writer and many requests some wait far longer than
		// others; a channel queues them in arrival order instead.
		select {
		case s.writeTurn <- struct{}{}:
			defer func() { <-s.writeTurn }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	err = fn(t)
	var ce commitErr
	if err != nil && !errors.As(err, &ce) {
		_ = t.Rollback()
		return err
	}
	if cerr := t.Commit(); cerr != nil {
		return fmt.Errorf("sqlstore: commit: %w", cerr)
	}
	if err != nil {
		return ce.err
	}
	return nil
}

// commitErr wraps an error that must not roll the transaction back: the
// work done so far (a revocation) is committed and err is returned.
type commitErr struct{ err error }

func (c commitErr) Error() string { return c.err.Error() }

// isUnique reports whether err is a uniqueness violation on either backend.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// conflictOr maps uniqueness violations to store.ErrConflict.
func conflictOr(err error) error {
	if err == nil {
		return nil
	}
	if isUnique(err) {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// us converts a time to unix microseconds; the zero time is NULL.
func us(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// usv converts a required time to unix microseconds.
func usv(t time.Time) int64 { return t.UnixMicro() }

// fromUS converts unix microseconds (NULL: zero time) to a UTC time.
func fromUS(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

func fromUSv(n int64) time.Time { return time.UnixMicro(n).UTC() }

// joinList and splitList store lists as one space- or newline-separated
// column; scopes and URIs never contain those characters.
func joinList(l []string) string { return strings.Join(l, " ") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// notFoundFK maps a foreign-key violation (a reference to a missing
// organization or account) to store.ErrNotFound.
func notFoundFK(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

func itoa(n int) string { return strconv.Itoa(n) }

// OpenJobDB opens a separate single-connection handle on the SQLite file
// for River, whose SQLite driver wants one connection of its own.
func (s *Store) OpenJobDB() (*sql.DB, error) {
	if s.dialect != "sqlite" {
		return nil, errors.New("sqlstore: OpenJobDB is for SQLite; use Pool on PostgreSQL")
	}
	db, err := sql.Open("sqlite", s.sqliteDSN("immediate"))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}
