package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz/grants"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// Config configures the authorization server. Zero durations and a nil
// clock take the defaults (Meraki's lifetimes).
type Config struct {
	// Issuer is the server's URL (RFC 8414 §2), e.g. "https://as.example.com",
	// without a trailing slash, query or fragment.
	Issuer      string
	Now         func() time.Time
	AccessTTL   time.Duration // default 1h
	CodeTTL     time.Duration // default 10m
	RefreshIdle time.Duration // default 90 days
	// CacheSize bounds the access tokens the Validator caches; default
	// DefaultCacheSize.
	CacheSize int
}

func (c Config) withDefaults() Config {
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = time.Hour
	}
	if c.CodeTTL == 0 {
		c.CodeTTL = 10 * time.Minute
	}
	if c.RefreshIdle == 0 {
		c.RefreshIdle = 90 * 24 * time.Hour
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	return c
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.Issuer); c.Issuer == "" || err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("authz: issuer %q must be an absolute URL without query or fragment", c.Issuer))
	}
	for name, d := range map[string]time.Duration{"access TTL": c.AccessTTL, "code TTL": c.CodeTTL, "refresh idle": c.RefreshIdle} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("authz: %s must not be negative", name))
		}
	}
	if c.CacheSize < 0 {
		errs = append(errs, errors.New("authz: cache size must not be negative"))
	}
	return errors.Join(errs...)
}

// Handler serves the authorization server's endpoints and pages.
type Handler struct {
	cfg       Config
	st        store.Store
	sessions  web.Sessions
	audit     *groupAudit
	feed      Feed
	lg        *slog.Logger
	clients   *clients
	validator *Validator
	pages     *web.Renderer
	grants    map[string]grants.Grant
	meta      serverMetadata
}

// New returns the authorization server. feed may be nil in a process that
// needs no cache invalidation from elsewhere (a CLI); a server passes the
// change feed, to which New subscribes its caches.
func New(cfg Config, st store.Store, sessions web.Sessions, rec *audit.Recorder, feed Feed, lg *slog.Logger) (*Handler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pages, err := web.NewRenderer(templatesFS, lg, nil, "templates/*.html")
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg: cfg, st: st, sessions: sessions, audit: &groupAudit{rec: rec}, feed: feed, lg: lg,
		clients:   newClients(st.Clients()),
		validator: NewValidator(st.Grants(), feed, cfg.Now, cfg.CacheSize),
		pages:     pages,
		grants:    map[string]grants.Grant{},
	}
	if feed != nil {
		feed.Subscribe(store.ChangeClient, h.clients.drop)
	}
	env := &grants.Env{
		Grants: st.Grants(), Audit: rec, Changed: h.changed,
		AccessTTL: cfg.AccessTTL, RefreshIdle: cfg.RefreshIdle, Log: lg,
	}
	for _, g := range []grants.Grant{grants.NewAuthorizationCode(env), grants.NewRefreshToken(env)} {
		h.grants[g.Type()] = g
	}
	h.meta = h.metadataDocument()
	return h, nil
}

// Routes registers the endpoints and pages on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /oauth/authorize", h.authorize)
	mux.HandleFunc("POST /oauth/authorize", h.consent)
	mux.HandleFunc("POST /oauth/token", h.withClient(h.token))
	mux.HandleFunc("POST /oauth/revoke", h.withClient(h.revoke))
	mux.HandleFunc("POST /oauth/introspect", h.withClient(h.introspect))
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", h.metadata)
	mux.HandleFunc("GET /organizations/{orgID}/integrations", h.integrations)
	mux.HandleFunc("GET /organizations/{orgID}/integrations/{clientID}", h.integration)
	mux.HandleFunc("GET /organizations/{orgID}/integrations/{clientID}/remove", h.confirmRemove)
	mux.HandleFunc("POST /organizations/{orgID}/integrations/{clientID}/remove", h.removeIntegration)
}

// Validator returns the access token validator, whose cache this handler
// keeps current on every revocation it makes. Other packages taking bearer
// tokens should use this one instance.
func (h *Handler) Validator() *Validator { return h.validator }

// changed drops revoked grants from this process's caches and syncs the
// change feed, so every subscriber (other caches here, other replicas on
// their next poll) sees the revocation.
func (h *Handler) changed(ctx context.Context, grantIDs ...string) {
	for _, id := range grantIDs {
		h.validator.dropGrant(id)
	}
	if h.feed == nil {
		return
	}
	if err := h.feed.Sync(ctx); err != nil {
		h.lg.WarnContext(ctx, "change feed sync failed; caches catch up on the next poll", "err", err)
	}
}

// record writes an audit event, stamped now, together with those of
// concurrent requests; a failure is logged by the recorder and does not
// undo the action.
func (h *Handler) record(ctx context.Context, e store.AuditEvent) {
	if e.At.IsZero() {
		e.At = h.cfg.Now()
	}
	_ = h.audit.record(ctx, e)
}
