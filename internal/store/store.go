// Package store defines grantflow's persistence: one small interface per
// aggregate (organizations and accounts, sessions, OAuth clients, grants and
// tokens, the audit log, the change feed, Automation, workflows and runs), implemented for SQLite and
// PostgreSQL by package sqlstore and checked by package conformance.
//
// Times are stored with microsecond precision in UTC. Secrets (passwords,
// client secrets, codes, tokens, session ids) never reach the store in plain
// text: callers pass hashes.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound is returned when the requested row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict is returned when a create would violate a uniqueness rule.
	ErrConflict = errors.New("store: conflict")
)

// Store is the whole persistence layer. Each accessor returns the interface
// for one aggregate; implementations return the same value every time.
type Store interface {
	Organizations() Organizations
	Accounts() Accounts
	Sessions() Sessions
	Clients() Clients
	Grants() Grants
	Audit() AuditLog
	SecurityLog() SecurityLog
	Changes() Changes
	Markers() Markers
	Dashboard() Dashboard
	APIKeys() APIKeys
	Automation() Automation
	Workflows() Workflows
	Runs() Runs
	// Dialect names the backend: "sqlite" or "postgres".
	Dialect() string
	Ping(ctx context.Context) error
	Close() error
}

// Micro truncates t to the precision the store keeps, in UTC. Tests compare
// times that went through the store after passing them through Micro.
func Micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
