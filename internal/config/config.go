// Package config is grantflow's configuration: one struct, defaults applied
// in one place, every problem reported at once by Validate, and a binding of
// command-line flags and GRANTFLOW_* environment variables onto it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything grantflow can be told.
type Config struct {
	// Store: SQLite in DataDir unless DatabaseURL is set.
	DataDir     string
	DatabaseURL string

	// Serving.
	Addr            string
	Issuer          string // public base URL; defaults to http://Addr
	NoDemo          bool
	LogLevel        string // debug, info, warn, error
	LogFormat       string // text or json
	ShutdownTimeout time.Duration
	// MetricsToken, when set, is the bearer secret /metrics requires;
	// empty: /metrics answers whoever reaches Addr.
	MetricsToken string

	// Dashboard sessions.
	SessionIdle     time.Duration
	SessionAbsolute time.Duration

	// Dashboard API rate limits (0 turns a limit off).
	RateLimitOrg   float64
	RateLimitIP    float64
	TrustedProxies []string // CIDRs whose X-Forwarded-For is believed

	// Background work.
	ChangePoll     time.Duration // how often the change feed is polled
	JanitorEvery   time.Duration
	AutomationSync time.Duration // the Meraki target sync (24h, as Cisco Workflows)

	// Automation (BindAutomation). AutomationKey is the vault master key
	// (base64 32 bytes; "new,old" while rotating it); empty: a key file in
	// the data directory. MerakiAuthURL and MerakiAPIURL point Automation at
	// another authorization server and Dashboard API (https://as.meraki.com,
	// https://api.meraki.com/api/v1); empty: grantflow's own. With another
	// authorization server, MerakiClientID/Secret are the integration
	// registered there.
	AutomationKey      string
	MerakiAuthURL      string
	MerakiAPIURL       string
	MerakiClientID     string
	MerakiClientSecret string
}

// Default returns the configuration with every default applied.
func Default() Config {
	return Config{
		DataDir:         "./grantflow-data",
		Addr:            "127.0.0.1:8080",
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: 20 * time.Second,
		SessionIdle:     2 * time.Hour,
		SessionAbsolute: 12 * time.Hour,
		RateLimitOrg:    10,
		RateLimitIP:     100,
		ChangePoll:      200 * time.Millisecond,
		JanitorEvery:    time.Hour,
		AutomationSync:  24 * time.Hour,
	}
}

// SQLitePath is the database file used when DatabaseURL is empty.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "grantflow.db") }

// TrustedProxyPrefixes parses TrustedProxies (Validate has checked them).
func (c Config) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.TrustedProxies {
		if pr, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pr.Masked())
		}
	}
	return out
}

// IssuerURL returns the configured issuer or the default http://Addr.
func (c Config) IssuerURL() string {
	if c.Issuer != "" {
		return strings.TrimRight(c.Issuer, "/")
	}
	return "http://" + c.Addr
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir or --database-url is required"))
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, fmt.Errorf("--database-url must be a postgres:// URL"))
		}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q: %w", c.Addr, err))
	}
	if c.Issuer != "" {
		u, err := url.Parse(c.Issuer)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("--issuer %q must be an http(s) URL without query or fragment", c.Issuer))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.SessionIdle <= 0 || c.SessionAbsolute < c.SessionIdle {
		errs = append(errs, errors.New("session lifetimes: need 0 < --session-idle <= --session-absolute"))
	}
	if c.RateLimitOrg < 0 || c.RateLimitIP < 0 {
		errs = append(errs, errors.New("rate limits cannot be negative (0 turns a limit off)"))
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil {
			errs = append(errs, fmt.Errorf("--trusted-proxy %q: want a CIDR like 10.0.0.0/8", p))
		}
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--change-poll", c.ChangePoll}, {"--janitor-every", c.JanitorEvery}, {"--automation-sync", c.AutomationSync}, {"--shutdown-timeout", c.ShutdownTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", d.flag))
		}
	}
	for name, v := range map[string]string{"--meraki-auth-url": c.MerakiAuthURL, "--meraki-api-url": c.MerakiAPIURL} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			errs = append(errs, fmt.Errorf("%s %q must be an http(s) URL", name, v))
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		errs = append(errs, errors.New("--metrics-token must be at least 16 characters"))
	}
	if c.MerakiAuthURL != "" && (c.MerakiClientID == "" || c.MerakiClientSecret == "" || c.MerakiAPIURL == "") {
		errs = append(errs, errors.New("--meraki-auth-url needs --meraki-api-url, --meraki-client-id and --meraki-client-secret"))
	}
	return errors.Join(errs...)
}

// BindAutomation registers Automation's flags (serve and the automation commands).
func (c *Config) BindAutomation(fs *flag.FlagSet) {
	fs.StringVar(&c.AutomationKey, "automation-key", c.AutomationKey, "Automation vault master key, base64 of 32 bytes (\"new,old\" while rotating); default: DATA_DIR/automation.key")
	fs.StringVar(&c.MerakiAuthURL, "meraki-auth-url", c.MerakiAuthURL, "authorization server Automation uses, e.g. https://as.meraki.com (default: this server)")
	fs.StringVar(&c.MerakiAPIURL, "meraki-api-url", c.MerakiAPIURL, "Dashboard API the Meraki - Current Org target points at, e.g. https://api.meraki.com/api/v1 (default: ISSUER/api/v1)")
	fs.StringVar(&c.MerakiClientID, "meraki-client-id", c.MerakiClientID, "Automation's client id at --meraki-auth-url")
	fs.StringVar(&c.MerakiClientSecret, "meraki-client-secret", c.MerakiClientSecret, "Automation's client secret at --meraki-auth-url (prefer the environment variable)")
}

// BindStore registers the store flags, which every command has.
func (c *Config) BindStore(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the SQLite database (used when --database-url is empty)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL (postgres://...); overrides --data-dir")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
}

// BindServe registers the flags of `grantflow serve`.
func (c *Config) BindServe(fs *flag.FlagSet) {
	c.BindStore(fs)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address HOST:PORT")
	fs.StringVar(&c.Issuer, "issuer", c.Issuer, "public base URL (default http://ADDR; use https in production)")
	fs.BoolVar(&c.NoDemo, "no-demo", c.NoDemo, "do not create the demo organization on a fresh store")
	fs.StringVar(&c.MetricsToken, "metrics-token", c.MetricsToken, "bearer secret /metrics requires (Authorization: Bearer ...; prefer the environment variable); empty: /metrics is open to whoever reaches --addr")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight requests may take to finish on SIGTERM")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "dashboard session idle lifetime")
	fs.DurationVar(&c.SessionAbsolute, "session-absolute", c.SessionAbsolute, "dashboard session absolute lifetime")
	fs.Float64Var(&c.RateLimitOrg, "rate-limit-org", c.RateLimitOrg, "Dashboard API requests per second per organization (0: off)")
	fs.Float64Var(&c.RateLimitIP, "rate-limit-ip", c.RateLimitIP, "Dashboard API requests per second per source IP (0: off)")
	fs.Func("trusted-proxy", "CIDR of a proxy whose X-Forwarded-For is trusted (repeatable; comma-separated in the environment)", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
		return nil
	})
	fs.DurationVar(&c.ChangePoll, "change-poll", c.ChangePoll, "how often the change feed is polled (cache invalidation across processes)")
	fs.DurationVar(&c.JanitorEvery, "janitor-every", c.JanitorEvery, "how often expired codes, tokens and sessions are deleted")
	fs.DurationVar(&c.AutomationSync, "automation-sync", c.AutomationSync, "how often the Meraki - Current Org targets are synced")
	c.BindAutomation(fs)
}

// ApplyEnv sets every flag of fs not given on the command line from the
// environment variable GRANTFLOW_<FLAG> (dashes become underscores).
func ApplyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// EnvName is the environment variable of a flag: GRANTFLOW_DATABASE_URL
// for --database-url.
func EnvName(flagName string) string {
	return "GRANTFLOW_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
