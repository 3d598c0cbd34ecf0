package dashboard

import (
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// apiKeyRow is one API key on the API keys page and its revoke page.
type apiKeyRow struct {
	ID         string
	Last4      string
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never
}

func keyRow(k store.APIKey) apiKeyRow {
	return apiKeyRow{ID: k.ID, Last4: k.Last4, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
}
