package identity

import (
	"embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

//go:embed templates/*.html
var templatesFS embed.FS

// Handler serves the login and logout endpoints, the organization list and
// the organization audit page.
type Handler struct {
	svc      *Service
	sessions *Sessions
	auditLog store.AuditLog
	clients  store.Clients // names integrations on the audit page; nil shows client ids
	render   *web.Renderer
	lg       *slog.Logger
	throttle *throttle
}

// NewHandler returns the identity pages. now may be nil for time.Now; it
// drives the login throttle's window.
func NewHandler(svc *Service, sessions *Sessions, auditLog store.AuditLog, lg *slog.Logger, now func() time.Time) (*Handler, error) {
	if now == nil {
		now = time.Now
	}
	rd, err := web.NewRenderer(templatesFS, lg, nil, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Handler{
		svc:      svc,
		sessions: sessions,
		auditLog: auditLog,
		render:   rd,
		lg:       lg,
		throttle: newThrottle(now),
	}, nil
}

// Routes registers the identity pages on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", h.getLogin)
	mux.HandleFunc("POST /login", h.postLogin)
	mux.HandleFunc("POST /logout", h.postLogout)
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /organizations", h.organizations)
	mux.HandleFunc("GET /organizations/{orgID}/audit", h.auditPage)
	mux.HandleFunc("GET /account", h.accountGet)
	mux.HandleFunc("POST /account/password", h.accountPassword)
	mux.HandleFunc("POST /account/sessions/{ref}/end", h.accountEndSession)
	mux.HandleFunc("POST /account/sessions/end-others", h.accountEndOtherSessions)
	mux.HandleFunc("POST /organizations", h.createOrganization)
	mux.HandleFunc("GET /organizations/{orgID}/admins", h.adminsList)
	mux.HandleFunc("POST /organizations/{orgID}/admins", h.adminInvite)
	mux.HandleFunc("POST /organizations/{orgID}/admins/{accountID}/access", h.adminSetAccess)
	mux.HandleFunc("GET /organizations/{orgID}/admins/{accountID}/remove", h.adminRemoveConfirm)
	mux.HandleFunc("POST /organizations/{orgID}/admins/{accountID}/remove", h.adminRemove)
}
