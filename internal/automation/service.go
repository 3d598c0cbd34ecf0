package automation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/automation/keeper"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/config"
	"github.com/grantflow/grantflow/internal/dashboard/catalog"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/store"
)

// Config is Automation's configuration.
type Config struct {
	// Issuer is grantflow's public URL: Automation's redirect URI is
	// Issuer + "/automation/callback".
	Issuer string
	// AuthServer is the authorization server's base URL; "" is Issuer
	// (grantflow's own, silent flow). Another value (https://as.meraki.com)
	// makes it external: admins click Connect, and ClientID/ClientSecret
	// are the integration registered there.
	AuthServer   string
	ClientID     string
	ClientSecret string
	// APIURL is the Dashboard API the Current Org target points at; ""
	// is Issuer + "/api/v1".
	APIURL string
	// MetadataVersion is the Meraki module metadata version: the Dashboard
	// API catalog hash.
	MetadataVersion string
	Now             func() time.Time
	StateTTL        time.Duration // default 10m, as an authorization code
	// KeepAliveAfter: tokens not refreshed for this long are refreshed by
	// the keep-alive, far inside the 90-day inactivity limit.
	KeepAliveAfter time.Duration // default 30 days
	// Keeper tunes the token keeper (margin, lease); Tokens, Vault and the
	// like are filled in by New.
	Keeper keeper.Config
}

func (c Config) withDefaults() Config {
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	c.AuthServer = strings.TrimRight(c.AuthServer, "/")
	if c.AuthServer == "" {
		c.AuthServer = c.Issuer
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.APIURL == "" {
		c.APIURL = c.Issuer + "/api/v1"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.StateTTL == 0 {
		c.StateTTL = 10 * time.Minute
	}
	if c.KeepAliveAfter == 0 {
		c.KeepAliveAfter = 30 * 24 * time.Hour
	}
	return c
}

// External reports whether the authorization server is not grantflow's
// own: no silent flow then.
func (c Config) External() bool { return c.AuthServer != c.Issuer }

// RedirectURI is Automation's registered redirect URI.
func (c Config) RedirectURI() string { return c.Issuer + "/automation/callback" }

// Deps are the parts Automation is built on.
type Deps struct {
	Store    store.Store
	Registry *registry.Service // to register Automation as a client of the own server
	Audit    *audit.Recorder
	Feed     Feed // may be nil (a CLI)
	Log      *slog.Logger
	Masters  [][]byte // vault master keys, current first
}

// Feed is the change feed (package changes).
type Feed interface {
	Subscribe(kind string, fn func(key string))
}

// Service is Automation.
type Service struct {
	cfg    Config
	st     store.Store
	auto   store.Automation
	reg    *registry.Service
	audit  *audit.Recorder
	lg     *slog.Logger
	vault  *vault.Vault
	as     *keeper.AS
	Keeper *keeper.Keeper
	api    *http.Client

	clientMu  sync.Mutex
	clientErr error // why Automation could not register itself, if it could not
	creds     cachedCreds

	bg sync.WaitGroup // background work started by feed events

	resealMu    sync.Mutex
	extraReseal []Resealer
}

type cachedCreds struct {
	id, secret string
	at         time.Time
}

// New builds Automation. With grantflow's own authorization server it
// makes sure Automation is registered there (a failure is reported on the
// Automation page, not fatal: the rest of grantflow keeps working).
func New(ctx context.Context, cfg Config, d Deps) (*Service, error) {
	cfg = cfg.withDefaults()
	if _, err := url.Parse(cfg.APIURL); err != nil {
		return nil, fmt.Errorf("automation: API URL: %w", err)
	}
	if cfg.External() && (cfg.ClientID == "" || cfg.ClientSecret == "") {
		return nil, errors.New("automation: an external authorization server needs the client id and secret of the integration registered there")
	}
	v, err := vault.New(ctx, d.Store.Automation(), d.Masters, cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("automation: %w", err)
	}
	s := &Service{cfg: cfg, st: d.Store, auto: d.Store.Automation(), reg: d.Registry, audit: d.Audit, lg: d.Log, vault: v,
		api: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}}
	s.as = keeper.NewAS(keeper.EndpointsFor(cfg.AuthServer), s.credentials)
	kc := cfg.Keeper
	kc.Tokens, kc.Accounts, kc.Vault, kc.AS, kc.Audit, kc.Log, kc.Now = s.auto, d.Store.Accounts(), v, s.as, d.Audit, d.Log, cfg.Now
	s.Keeper = keeper.New(kc)
	if !cfg.External() && d.Registry != nil {
		if err := s.ensureClient(ctx); err != nil {
			d.Log.Error("automation could not register itself with the authorization server", "err", err)
		}
	}
	if d.Feed != nil {
		d.Feed.Subscribe(store.ChangeMembership, s.membershipChanged)
		if !cfg.External() {
			d.Feed.Subscribe(store.ChangeGrant, s.grantChanged)
		}
	}
	return s, nil
}

// Vault returns the vault (for key rotation).
func (s *Service) Vault() *vault.Vault { return s.vault }

// Wait waits for background work started by change-feed events.
func (s *Service) Wait() { s.bg.Wait() }

func (s *Service) now() time.Time { return store.Micro(s.cfg.Now()) }

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Service) record(ctx context.Context, e store.AuditEvent) {
	if s.audit != nil {
		_ = s.audit.Record(ctx, e)
	}
}

// MasterKeys returns the vault's master keys: from configuration (base64,
// comma-separated, current first) or, without one, from the key file
// automation.key in dir, created with mode 0600 on first use. A key beside
// the database protects only a copy of the database made without it.
func MasterKeys(configured, dir string) ([][]byte, error) {
	if configured != "" {
		return vault.ParseMasterKeys(configured)
	}
	if dir == "" {
		return nil, errors.New("automation: no master key configured (GRANTFLOW_AUTOMATION_KEY) and no data directory for a key file")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return vault.LoadOrCreateKeyFile(filepath.Join(dir, "automation.key"))
}

// ConfigFrom maps grantflow's configuration onto Automation's: the
// endpoints, and the Dashboard API catalog hash as the metadata version.
func ConfigFrom(c config.Config, now func() time.Time) Config {
	return Config{
		Issuer: c.IssuerURL(), AuthServer: c.MerakiAuthURL, APIURL: c.MerakiAPIURL,
		ClientID: c.MerakiClientID, ClientSecret: c.MerakiClientSecret,
		MetadataVersion: catalog.Version(), Now: now,
	}
}

// KeyDir is where the key file lives when no key is configured: beside the
// SQLite database, or in the data directory for PostgreSQL (where replicas
// on several machines must share GRANTFLOW_AUTOMATION_KEY instead).
func KeyDir(c config.Config, sqliteDir string) string {
	if sqliteDir != "" {
		return sqliteDir
	}
	return c.DataDir
}
