package registry

import (
	"embed"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/grantflow/grantflow/internal/web"
)

//go:embed templates/*.html
var templatesFS embed.FS

// Handler serves the registry's JSON API (/api/integrations) and its
// "My integrations" pages (/integrations) over one [Service].
type Handler struct {
	svc      *Service
	sessions web.Sessions
	pages    *web.Renderer
	lg       *slog.Logger
}

// NewHandler returns a Handler. It fails only if the templates do not parse.
func NewHandler(svc *Service, sessions web.Sessions, lg *slog.Logger) (*Handler, error) {
	pages, err := web.NewRenderer(templatesFS, lg, pageFuncs, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return &Handler{svc: svc, sessions: sessions, pages: pages, lg: lg}, nil
}

// Routes registers the JSON API and the pages on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/integrations", h.apiList)
	mux.HandleFunc("POST /api/integrations", h.apiCreate)
	mux.HandleFunc("GET /api/integrations/{id}", h.apiGet)
	mux.HandleFunc("PATCH /api/integrations/{id}", h.apiPatch)
	mux.HandleFunc("DELETE /api/integrations/{id}", h.apiDelete)
	mux.HandleFunc("POST /api/integrations/{id}/rotate-secret", h.apiRotate)
	mux.HandleFunc("GET /api/integrations/{id}/webhook", h.apiWebhook)

	mux.HandleFunc("GET /integrations", h.pageList)
	mux.HandleFunc("GET /integrations/new", h.pageNew)
	mux.HandleFunc("POST /integrations", h.pageCreate)
	mux.HandleFunc("GET /integrations/{id}", h.pageEdit)
	mux.HandleFunc("POST /integrations/{id}", h.pageUpdate)
	mux.HandleFunc("GET /integrations/{id}/rotate-secret", h.pageConfirmRotate)
	mux.HandleFunc("POST /integrations/{id}/rotate-secret", h.pageRotate)
	mux.HandleFunc("GET /integrations/{id}/delete", h.pageConfirmDelete)
	mux.HandleFunc("POST /integrations/{id}/delete", h.pageDelete)
	mux.HandleFunc("GET /integrations/{id}/webhook", h.pageWebhook)
	mux.HandleFunc("POST /integrations/{id}/webhook", h.pageSetWebhook)
	mux.HandleFunc("POST /integrations/{id}/webhook/rotate-secret", h.pageRotateWebhookSecret)
}
