package sqlstore_test

import (
	"testing"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/store/conformance"
	"github.com/grantflow/grantflow/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	conformance.Run(t, func(t *testing.T) store.Store { return storetest.SQLite(t) })
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t)
	conformance.Run(t, func(t *testing.T) store.Store { return storetest.Postgres(t) })
}
