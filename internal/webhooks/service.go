package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/store"
)

// Sealer seals signing secrets at rest: the Automation vault.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, ad string) (string, error)
	Open(ctx context.Context, sealed, ad string) ([]byte, error)
}

// Queue enqueues one-off River tasks ([jobs.Runner]).
type Queue interface {
	Enqueue(ctx context.Context, kind, key string) error
}

// TaskKind is the River task that delivers one event.
const TaskKind = "webhook_delivery"

// MaxURLLength bounds a webhook URL.
const MaxURLLength = 2000

// Config tunes deliveries; zero fields take the defaults.
type Config struct {
	// Backoff is the wait after each failed attempt: after the last, the
	// event is given up. Default: 5 s, 30 s, 2 min, 10 min, 1 h, 2 h, 4 h,
	// 8 h, 8 h (ten attempts over about 23 hours).
	Backoff []time.Duration
	// DisableAfter disables a receiver after this many failed attempts in
	// a row (default 20), DisableAfterFor after failing every attempt for
	// this long (default 24 h).
	DisableAfter    int
	DisableAfterFor time.Duration
	// Timeout bounds one POST (default 10 s).
	Timeout time.Duration
	// Poll is how often due events are looked for (default 1 s); the
	// change feed wakes the dispatcher sooner.
	Poll time.Duration
	// Retention is how long finished events stay visible (default 7 days).
	Retention time.Duration
	// Client sends the POSTs; its Timeout is replaced by Timeout and it
	// never follows redirects. Default: a new http.Client.
	Client *http.Client
	Now    func() time.Time
}

// DefaultBackoff is [Config.Backoff]'s default.
var DefaultBackoff = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour}

func (c Config) withDefaults() Config {
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = 20
	}
	if c.DisableAfterFor == 0 {
		c.DisableAfterFor = 24 * time.Hour
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Poll == 0 {
		c.Poll = time.Second
	}
	if c.Retention == 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	hc := &http.Client{}
	if c.Client != nil {
		*hc = *c.Client
	}
	hc.Timeout = c.Timeout
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Client = hc
	return c
}

// Service configures integration webhooks and delivers their events.
type Service struct {
	st     store.ClientWebhooks
	sealer Sealer
	cfg    Config
	audit  *audit.Recorder
	lg     *slog.Logger
	queue  Queue
	kick   chan struct{}
}

// New returns a Service over st; rec may be nil.
func New(st store.ClientWebhooks, sealer Sealer, cfg Config, rec *audit.Recorder, lg *slog.Logger) *Service {
	return &Service{st: st, sealer: sealer, cfg: cfg.withDefaults(), audit: rec, lg: lg, kick: make(chan struct{}, 1)}
}

// SetQueue gives the service the River runner its deliveries run on;
// without one (a CLI command) events wait for a server to deliver them.
func (s *Service) SetQueue(q Queue) { s.queue = q }

// secretAD binds a sealed secret to its client's webhook row.
func secretAD(clientID string) string { return vault.AD("integration webhook secret", clientID) }

// ValidationError is a URL that cannot be a webhook URL, in words for the
// person who typed it.
type ValidationError struct{ Problem string }

func (e *ValidationError) Error() string { return "webhook URL: " + e.Problem }

// CheckURL refuses what cannot receive events: anything but an absolute
// https URL, or http on a loopback host (as for redirect URIs, RFC 8252
// §7.3), with no credentials or fragment.
func CheckURL(raw string) error {
	bad := func(p string) error { return &ValidationError{Problem: p} }
	if len(raw) > MaxURLLength {
		return bad(fmt.Sprintf("use at most %d characters", MaxURLLength))
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("enter an absolute URL such as https://example.com/hooks/grantflow")
	}
	if u.User != nil {
		return bad("must not contain a user name or password")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("must not contain a fragment (#…)")
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return bad("use https (plain http only on a loopback address such as 127.0.0.1)")
		}
	default:
		return bad("use https (plain http only on a loopback address such as 127.0.0.1)")
	}
	return nil
}

// SetURL points clientID's events at rawURL and enables its webhook (which
// also re-enables a disabled one). A new signing secret is made when the
// client has none and returned: it is shown only then. Setting the URL of
// a webhook that has a secret keeps it and returns "". An empty rawURL
// removes the webhook and its events.
func (s *Service) SetURL(ctx context.Context, clientID, rawURL string) (string, error) {
	if rawURL == "" {
		err := s.st.DeleteClientWebhook(ctx, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return "", err
	}
	if err := CheckURL(rawURL); err != nil {
		return "", err
	}
	now := store.Micro(s.cfg.Now())
	w, err := s.st.GetClientWebhook(ctx, clientID)
	secret := ""
	switch {
	case errors.Is(err, store.ErrNotFound):
		w = store.ClientWebhook{ClientID: clientID, CreatedAt: now}
		if secret, w.SecretBox, err = s.newSecret(ctx, clientID); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	w.URL, w.UpdatedAt = rawURL, now
	if err := s.st.SetClientWebhook(ctx, w); err != nil {
		return "", err
	}
	return secret, nil
}

// RotateSecret gives clientID's webhook a new signing secret and returns
// it; the old one signs nothing from now on. ErrNotFound without a webhook.
func (s *Service) RotateSecret(ctx context.Context, clientID string) (string, error) {
	w, err := s.st.GetClientWebhook(ctx, clientID)
	if err != nil {
		return "", err
	}
	secret, box, err := s.newSecret(ctx, clientID)
	if err != nil {
		return "", err
	}
	w.SecretBox, w.UpdatedAt = box, store.Micro(s.cfg.Now())
	if err := s.st.SetClientWebhook(ctx, w); err != nil {
		return "", err
	}
	return secret, nil
}

func (s *Service) newSecret(ctx context.Context, clientID string) (secret, box string, err error) {
	if secret, err = NewSecret(); err != nil {
		return "", "", err
	}
	if box, err = s.sealer.Seal(ctx, []byte(secret), secretAD(clientID)); err != nil {
		return "", "", fmt.Errorf("webhooks: seal secret: %w", err)
	}
	return secret, box, nil
}

// Status is a webhook as its integration's page shows it.
type Status struct {
	Configured          bool
	URL                 string
	Enabled             bool
	DisabledReason      string
	ConsecutiveFailures int
	Events              []Event
}

// Event is one event with its attempts.
type Event struct {
	store.WebhookEvent
	Attempts []store.WebhookAttempt
}

// Status returns clientID's webhook and its newest events (at most limit).
func (s *Service) Status(ctx context.Context, clientID string, limit int) (Status, error) {
	w, err := s.st.GetClientWebhook(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, err
	}
	st := Status{Configured: true, URL: w.URL, Enabled: w.Enabled, DisabledReason: w.DisabledReason, ConsecutiveFailures: w.ConsecutiveFailures}
	events, attempts, err := s.st.ListWebhookEvents(ctx, clientID, limit)
	if err != nil {
		return st, err
	}
	for _, e := range events {
		st.Events = append(st.Events, Event{WebhookEvent: e, Attempts: attempts[e.ID]})
	}
	return st, nil
}

// SetConfig replaces the delivery settings (tests shorten the delays); call
// it before [Service.Run].
func (s *Service) SetConfig(cfg Config) { s.cfg = cfg.withDefaults() }

// Reseal moves every webhook secret in st to the vault's newest data key
// with reseal ([vault.Vault.Reseal]), for a key rotation, and counts them.
// A secret that no longer opens is left alone: its deliveries fail
// visibly until the owner rotates it.
func Reseal(ctx context.Context, st store.ClientWebhooks, reseal func(ctx context.Context, sealed, ad string) (string, error)) (int, error) {
	list, err := st.ListClientWebhooks(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, w := range list {
		sealed, err := reseal(ctx, w.SecretBox, secretAD(w.ClientID))
		if errors.Is(err, vault.ErrOpen) || errors.Is(err, vault.ErrUnknownKey) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("webhooks: reseal %s: %w", w.ClientID, err)
		}
		if sealed == w.SecretBox {
			continue
		}
		if err := st.ResealClientWebhook(ctx, w.ClientID, w.SecretBox, sealed); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
