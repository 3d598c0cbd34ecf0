// Package conformance is the one test suite every store backend passes
// (SQLite always, PostgreSQL when TEST_DATABASE_URL is set). It is split by
// guarantee: CRUD, atomic token operations, concurrency, cleanup.
package conformance

import (
	"testing"

	"github.com/grantflow/grantflow/internal/store"
)

// Run runs every conformance test; newStore returns a fresh, empty store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Identity", func(t *testing.T) { t.Parallel(); testIdentity(t, newStore(t)) })
	t.Run("Sessions", func(t *testing.T) { t.Parallel(); testSessions(t, newStore(t)) })
	t.Run("Clients", func(t *testing.T) { t.Parallel(); testClients(t, newStore(t)) })
	t.Run("Codes", func(t *testing.T) { t.Parallel(); testCodes(t, newStore(t)) })
	t.Run("Rotation", func(t *testing.T) { t.Parallel(); testRotation(t, newStore(t)) })
	t.Run("FastRotation", func(t *testing.T) { t.Parallel(); testFastRotation(t, newStore(t)) })
	t.Run("ConcurrentRotation", func(t *testing.T) { t.Parallel(); testConcurrentRotation(t, newStore(t)) })
	t.Run("Revocation", func(t *testing.T) { t.Parallel(); testRevocation(t, newStore(t)) })
	t.Run("Cleanup", func(t *testing.T) { t.Parallel(); testCleanup(t, newStore(t)) })
	t.Run("Audit", func(t *testing.T) { t.Parallel(); testAudit(t, newStore(t)) })
	t.Run("Markers", func(t *testing.T) { t.Parallel(); testMarkers(t, newStore(t)) })
	for _, extra := range extras {
		t.Run(extra.name, func(t *testing.T) { t.Parallel(); extra.fn(t, newStore(t)) })
	}
}

// extras are suites other files of this package register (one per aggregate
// added later), so Run stays the single entry point.
var extras []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// register adds a suite to Run; call it from an init function.
func register(name string, fn func(t *testing.T, s store.Store)) {
	extras = append(extras, struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{name, fn})
}
