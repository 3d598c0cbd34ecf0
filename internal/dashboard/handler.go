package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/dashboard/catalog"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// BasePath is where the Dashboard API is mounted.
const BasePath = "/api/v1"

// Config configures the Dashboard API. The zero value is usable: defaults
// are Meraki's limits.
type Config struct {
	// BaseURL is the public URL the server is reached at (the issuer, e.g.
	// https://grantflow.example.com). Absolute URLs in answers (Link headers,
	// the url fields) are built on it, never on the request's Host header,
	// which a client can forge to poison them.
	BaseURL   string
	RateLimit RateLimitConfig
	// TrustedProxies are the networks whose X-Forwarded-For header is
	// believed (a load balancer). Empty: the source IP is the connection's.
	TrustedProxies []netip.Prefix
	// UsageFlushInterval is how often API request counts are written to
	// the store (default 10s).
	UsageFlushInterval time.Duration
	// UsageRetention is how long request counts are kept (default 31 days,
	// the longest timespan getOrganizationApiRequests accepts).
	UsageRetention time.Duration
}

// RateLimitConfig sets the token buckets. Buckets are per replica (see
// [limiter]).
type RateLimitConfig struct {
	Disabled     bool    // both limits off
	OrgDisabled  bool    // the per-organization limit off
	IPDisabled   bool    // the per-source-IP limit off
	OrgPerSecond float64 // default 10
	OrgBurst     int     // default 20: 10 more in the first second, as Meraki allows
	IPPerSecond  float64 // default 100
	IPBurst      int     // default 100
}

func (c *Config) applyDefaults() {
	if c.RateLimit.OrgPerSecond == 0 {
		c.RateLimit.OrgPerSecond = 10
	}
	if c.RateLimit.OrgBurst == 0 {
		c.RateLimit.OrgBurst = 20
	}
	if c.RateLimit.IPPerSecond == 0 {
		c.RateLimit.IPPerSecond = 100
	}
	if c.RateLimit.IPBurst == 0 {
		c.RateLimit.IPBurst = 100
	}
	if c.UsageFlushInterval == 0 {
		c.UsageFlushInterval = 10 * time.Second
	}
	if c.UsageRetention == 0 {
		c.UsageRetention = 31 * 24 * time.Hour
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.RateLimit.OrgPerSecond < 0 || c.RateLimit.IPPerSecond < 0 {
		errs = append(errs, errors.New("dashboard: rate limits must not be negative"))
	}
	if c.RateLimit.OrgBurst < 0 || c.RateLimit.IPBurst < 0 {
		errs = append(errs, errors.New("dashboard: rate limit bursts must not be negative"))
	}
	if c.UsageFlushInterval < 0 || c.UsageRetention < 0 {
		errs = append(errs, errors.New("dashboard: usage intervals must not be negative"))
	}
	return errors.Join(errs...)
}

// Params are the Dashboard API's dependencies.
type Params struct {
	Store     store.Store
	Validator TokenValidator
	// APIKeys checks API keys; nil makes one from Store, Audit and Feed.
	APIKeys  *APIKeys
	Feed     Feed // may be nil: nothing is cached across requests
	Audit    *audit.Recorder
	Sessions web.Sessions
	Logger   *slog.Logger
	Now      func() time.Time // nil for time.Now
	Config   Config
}

// Handler serves /api/v1 and the API keys and API requests pages.
type Handler struct {
	st        store.Store
	dash      store.Dashboard
	cat       *catalog.Catalog
	validator TokenValidator
	keys      *APIKeys
	members   *members
	nets      *networkCache
	audit     *audit.Recorder
	sessions  web.Sessions
	lg        *slog.Logger
	now       func() time.Time
	cfg       Config
	orgLimit  *limiter
	ipLimit   *limiter
	usage     *usage
	ops       map[string]opFunc
	pages     *web.Renderer
}

// New returns the Dashboard API handler.
func New(p Params) (*Handler, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	p.Config.applyDefaults()
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Store == nil || p.Validator == nil || p.Audit == nil || p.Logger == nil {
		return nil, errors.New("dashboard: Store, Validator, Audit and Logger are required")
	}
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	if p.APIKeys == nil {
		p.APIKeys = NewAPIKeys(p.Store, p.Audit, p.Feed, p.Now)
	}
	h := &Handler{
		st: p.Store, dash: p.Store.Dashboard(), cat: cat, validator: p.Validator, keys: p.APIKeys,
		members: newMembers(p.Store.Accounts(), p.Feed), nets: newNetworkCache(p.Store.Dashboard(), p.Feed), audit: p.Audit, sessions: p.Sessions, lg: p.Logger,
		now: p.Now, cfg: p.Config, usage: newUsage(p.Store.Dashboard(), p.Logger),
	}
	if !p.Config.RateLimit.Disabled && !p.Config.RateLimit.OrgDisabled {
		h.orgLimit = newLimiter(p.Config.RateLimit.OrgPerSecond, p.Config.RateLimit.OrgBurst, p.Now)
	}
	if !p.Config.RateLimit.Disabled && !p.Config.RateLimit.IPDisabled {
		h.ipLimit = newLimiter(p.Config.RateLimit.IPPerSecond, p.Config.RateLimit.IPBurst, p.Now)
	}
	h.ops = h.realOperations()
	for id := range h.ops {
		if _, ok := cat.Operation(id); !ok {
			return nil, fmt.Errorf("dashboard: implemented operation %s is not in the catalog", id)
		}
	}
	h.pages, err = web.NewRenderer(templatesFS, p.Logger, template.FuncMap{"fmtTime": fmtTime}, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Catalog returns the operation catalog the handler serves.
func (h *Handler) Catalog() *catalog.Catalog { return h.cat }

// Routes mounts /api/v1/ and the pages.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle(BasePath+"/", http.HandlerFunc(h.serveAPI))
	mux.HandleFunc("GET /account/api-keys", h.apiKeysPage)
	mux.HandleFunc("POST /account/api-keys", h.createAPIKey)
	mux.HandleFunc("GET /account/api-keys/{id}/revoke", h.confirmRevokeAPIKey)
	mux.HandleFunc("POST /account/api-keys/{id}/revoke", h.revokeAPIKey)
	mux.HandleFunc("GET /organizations/{orgID}/api-requests", h.apiRequestsPage)
	// The pages the API's url fields point at (estate_pages.go).
	mux.HandleFunc("GET /organizations/{orgID}", h.organizationPage)
	mux.HandleFunc("GET /organizations/{orgID}/networks", h.networksPage)
	mux.HandleFunc("GET /organizations/{orgID}/networks/{networkID}", h.networkPage)
	mux.HandleFunc("GET /organizations/{orgID}/devices/{serial}", h.devicePage)
}

// Run flushes API request counts every UsageFlushInterval and prunes old
// ones hourly, until ctx ends; then it flushes once more.
func (h *Handler) Run(ctx context.Context) {
	t := time.NewTicker(h.cfg.UsageFlushInterval)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := h.usage.flush(fctx); err != nil {
				h.lg.Error("flush api usage", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := h.usage.flush(ctx); err != nil {
				h.lg.Warn("flush api usage", "err", err)
			}
			if now := h.now(); now.Sub(lastPrune) > time.Hour {
				lastPrune = now
				if _, err := h.dash.PruneAPIUsage(ctx, now.Add(-h.cfg.UsageRetention)); err != nil {
					h.lg.Warn("prune api usage", "err", err)
				}
			}
		}
	}
}

// FlushUsage writes pending API request counts now (tests, shutdown).
func (h *Handler) FlushUsage(ctx context.Context) error { return h.usage.flush(ctx) }

// call is one API request being served.
type call struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	op     *catalog.Operation
	params catalog.Params
	caller *caller
	// orgID is the organization the request concerns ("" for none).
	orgID   string
	network *store.Network // the path's networkId, loaded
	device  *store.Device  // the path's serial, loaded
	body    map[string]json.RawMessage
	path    string // the request path below /api/v1, escaped
	now     time.Time
	qv      url.Values // the query, parsed once (see values)
	ip      string     // the source IP, found once (see clientIP)
}

// opFunc implements an operation: it returns the status and the value to
// write as JSON (nil for no body), or an error.
type opFunc func(c *call) (int, any, error)

// maxBody bounds request bodies; Meraki's largest documented bodies
// (action batches) are far smaller.
const maxBody = 1 << 20

func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request) {
	c := &call{h: h, w: w, r: r, now: h.now(), path: strings.TrimPrefix(r.URL.EscapedPath(), BasePath)}
	status, err := h.serve(c)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			h.lg.ErrorContext(r.Context(), "dashboard api", "operation", opID(c.op), "err", err)
		}
		status = writeError(w, err)
	}
	if c.caller != nil && c.op != nil {
		h.count(c, status)
	}
}

func opID(op *catalog.Operation) string {
	if op == nil {
		return ""
	}
	return op.ID
}

func (h *Handler) serve(c *call) (int, error) {
	r := c.r
	op, params, ok := h.cat.Match(r.Method, c.path)
	if !ok {
		return 0, errNotFound
	}
	c.op, c.params = op, params
	if h.ipLimit != nil {
		if ok, wait := h.ipLimit.allow(c.clientIP()); !ok {
			return 0, &apiError{status: http.StatusTooManyRequests, msgs: []string{"API rate limit exceeded for IP address"}, retryAfter: retryAfterSeconds(wait)}
		}
	}
	cl, err := h.authenticate(c.w, r)
	if err != nil {
		return 0, err
	}
	c.caller = cl
	if cl.oauth() {
		// Known before the path is resolved, so refusals count too.
		c.orgID = cl.tokenOrg
	}
	if err := authorize(cl, op); err != nil {
		return 0, err
	}
	if err := c.resolve(); err != nil {
		return 0, err
	}
	if c.orgID != "" && !op.Read() {
		if a, _ := cl.canSee(c.orgID); a != store.AccessFull {
			return 0, errorf(http.StatusForbidden, "Read-only administrators cannot make changes to this organization")
		}
	}
	if h.orgLimit != nil {
		key := c.orgID
		if key == "" {
			key = "account/" + cl.accountID
		}
		if ok, wait := h.orgLimit.allow(key); !ok {
			return 0, &apiError{status: http.StatusTooManyRequests, msgs: []string{"API rate limit exceeded for organization"}, retryAfter: retryAfterSeconds(wait)}
		}
	}
	if err := c.readBody(); err != nil {
		return 0, err
	}
	fn := h.ops[op.ID]
	if fn == nil {
		fn = genericOperation
	}
	status, v, err := fn(c)
	if err != nil {
		return 0, err
	}
	writeJSON(c.w, status, v)
	return status, nil
}

// resolve finds the organization the request concerns and checks that the
// caller may see it: every organizationId, networkId and serial in the
// path must belong to one organization the caller sees, else 404.
func (c *call) resolve() error {
	ctx := c.r.Context()
	var orgs []string
	if id := c.params.Get("organizationId"); id != "" {
		orgs = append(orgs, id)
	}
	if id := c.params.Get("networkId"); id != "" {
		n, err := c.h.nets.get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		c.network = &n
		orgs = append(orgs, n.OrgID)
	}
	if serial := c.params.Get("serial"); serial != "" {
		d, err := c.h.dash.GetDevice(ctx, serial)
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		c.device = &d
		orgs = append(orgs, d.OrgID)
	}
	for _, o := range orgs {
		if o != orgs[0] {
			return errNotFound
		}
		if _, ok := c.caller.canSee(o); !ok {
			return errNotFound
		}
	}
	// An organization the caller sees exists: a token's grant and an API
	// key's memberships go away with it.
	if len(orgs) > 0 {
		c.orgID = orgs[0]
	} else if c.caller.oauth() {
		c.orgID = c.caller.tokenOrg
	}
	return nil
}

// readBody parses a POST or PUT body: a JSON object whose top-level fields
// are all among the operation's documented request fields.
func (c *call) readBody() error {
	if c.r.Method != http.MethodPost && c.r.Method != http.MethodPut {
		return nil
	}
	raw, err := web.ReadJSONBody(c.w, c.r, maxBody)
	var be *web.BodyError
	if errors.As(err, &be) && be.Status == http.StatusRequestEntityTooLarge {
		return errorf(http.StatusRequestEntityTooLarge, "Request body too large")
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "The request body must be valid UTF-8 JSON")
	}
	raw = bytes.TrimSpace(raw)
	c.body = map[string]json.RawMessage{}
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, &c.body); err != nil || c.body == nil {
		return errorf(http.StatusBadRequest, "The request body must be a JSON object")
	}
	var unknown []string
	for k := range c.body {
		if !c.op.AcceptsBodyField(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		msgs := make([]string, len(unknown))
		for i, k := range sortedStrings(unknown) {
			msgs[i] = fmt.Sprintf("Unrecognized parameter '%s'", k)
		}
		return errList(http.StatusBadRequest, msgs)
	}
	return nil
}

// clientIP is the call's source IP, found once: the rate limit and the
// request count both need it.
func (c *call) clientIP() string {
	if c.ip == "" {
		c.ip = c.h.clientIP(c.r)
	}
	return c.ip
}

// clientIP is the request's source address: the connection's, or for a
// trusted proxy the rightmost X-Forwarded-For entry that is not itself a
// trusted proxy.
func (h *Handler) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !h.trusted(addr) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !h.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (h *Handler) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// base is the public base URL, without a trailing slash.
func (h *Handler) base() string { return strings.TrimRight(h.cfg.BaseURL, "/") }

// count records the request for getOrganizationApiRequests and the API
// requests page.
func (h *Handler) count(c *call, status int) {
	org := c.orgID
	if org == "" {
		return // requests about no organization (API key on /organizations) are not an org's usage
	}
	h.usage.add(c.now, org, c.caller.clientID, c.caller.accountID, c.op.ID, c.r.Method, status, store.APIUsage{
		Path: BasePath + c.path, Query: c.r.URL.RawQuery, Host: c.r.Host, SourceIP: c.clientIP(), UserAgent: c.r.UserAgent(),
	})
}
