// Package registry is grantflow's integration registry: the OAuth 2.0
// confidential clients (RFC 6749 §2) that may ask administrators for access.
// An integration has an owner, a name, redirect URIs matched exactly
// (RFC 6749 §3.1.2, RFC 9700 §4.1.3; http only on loopback, RFC 8252 §7.3),
// Meraki scopes (RFC 6749 §3.3) and a client secret (RFC 6749 §2.3.1) that is
// shown once and stored only as a SHA-256 hash.
//
// One [Service] serves three front ends: the CLI (which the command wires to
// the unscoped methods), and, through [Handler], a JSON API and the
// "My integrations" pages, which use the account-scoped methods (the ones
// ending in "As") so that a developer only ever sees their own integrations.
package registry

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/grantflow/grantflow/internal/audit"
	"github.com/grantflow/grantflow/internal/authz/oauth"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/webhooks"
)

// Prefixes of generated credentials. The secret's prefix lets secret
// scanners recognise a leaked grantflow client secret.
const (
	ClientIDPrefix     = "gfc_"
	ClientSecretPrefix = "gfs_"
)

// Limits on what an integration may hold.
const (
	MaxNameLength     = 100
	MaxRedirectURIs   = 20
	MaxRedirectURILen = 2000
	MaxRefreshGrace   = 10 * time.Minute
)

// ErrNotFound is returned for an unknown integration and, by the account-
// scoped methods, for one owned by somebody else, so that the answer does
// not reveal that it exists. It is [store.ErrNotFound].
var ErrNotFound = store.ErrNotFound

// ValidationError lists every problem with the input at once, in words that
// can be shown to the person who typed it.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return "invalid integration: " + strings.Join(e.Problems, "; ")
}

// Service manages integrations.
type Service struct {
	clients store.Clients
	audit   *audit.Recorder
	now     func() time.Time
	lg      *slog.Logger
	changed func(ctx context.Context)
	// webhooks delivers integrations' events ([Service.SetWebhooks]).
	webhooks *webhooks.Service
}

// OnChange sets what runs after an integration is updated, its secret
// rotated or it is deleted: a server passes its change feed's Sync, so its
// own caches drop the old secret and the revoked tokens before the answer
// goes out, not a poll later.
func (s *Service) OnChange(fn func(ctx context.Context)) { s.changed = fn }

func (s *Service) notify(ctx context.Context) {
	if s.changed != nil {
		s.changed(ctx)
	}
}

// NewService returns a Service. now may be nil for time.Now.
func NewService(clients store.Clients, rec *audit.Recorder, now func() time.Time, lg *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{clients: clients, audit: rec, now: now, lg: lg}
}

// CreateParams are the arguments of [Service.Create].
type CreateParams struct {
	OwnerAccountID string // "" for an integration nobody owns (CLI without --owner)
	Name           string
	RedirectURIs   []string
	// Scopes are scope names; an element may also hold several separated
	// by spaces, as the CLI's --scope and the JSON API's string form do.
	Scopes         []string
	ResourceServer bool
	FirstParty     bool
	RefreshGrace   time.Duration
}

// UpdateParams are the arguments of [Service.Update]; nil fields stay as they are.
type UpdateParams struct {
	Name           *string
	RedirectURIs   *[]string
	Scopes         *[]string
	ResourceServer *bool
	RefreshGrace   *time.Duration
}

// actor says who acts and whether they may only touch their own integrations.
type actor struct {
	accountID string
	scoped    bool
}

// operator acts for the CLI: no account, every integration.
var operator = actor{}

func owner(accountID string) actor { return actor{accountID: accountID, scoped: true} }

func (a actor) allowed(c store.Client) bool {
	// An empty account id must never match the "" owner of CLI-made clients.
	return !a.scoped || (a.accountID != "" && c.OwnerAccountID == a.accountID)
}

func notFound(id string) error {
	return fmt.Errorf("registry: integration %q: %w", id, store.ErrNotFound)
}

// Create registers an integration and returns it with its client secret,
// which is not kept anywhere and cannot be shown again. The audit event has
// no actor; use [Service.CreateAs] when a person creates their own.
func (s *Service) Create(ctx context.Context, p CreateParams) (store.Client, string, error) {
	return s.create(ctx, operator, p)
}

// CreateAs registers an integration owned by accountID, who is the actor.
// p.OwnerAccountID is ignored and p.FirstParty must be false: only operators
// make first-party integrations.
func (s *Service) CreateAs(ctx context.Context, accountID string, p CreateParams) (store.Client, string, error) {
	if accountID == "" {
		return store.Client{}, "", errors.New("registry: CreateAs needs an account")
	}
	p.OwnerAccountID = accountID
	p.FirstParty = false
	return s.create(ctx, owner(accountID), p)
}

func (s *Service) create(ctx context.Context, a actor, p CreateParams) (store.Client, string, error) {
	var problems []string
	name, np := checkName(p.Name)
	problems = append(problems, np...)
	problems = append(problems, checkRedirectURIs(p.RedirectURIs)...)
	scopes, sp := checkScopes(p.Scopes)
	problems = append(problems, sp...)
	problems = append(problems, checkGrace(p.RefreshGrace)...)
	if a.scoped && p.ResourceServer {
		problems = append(problems, errResourceServer)
	}
	if len(problems) > 0 {
		return store.Client{}, "", &ValidationError{Problems: problems}
	}

	id, err := randomToken(ClientIDPrefix, 16)
	if err != nil {
		return store.Client{}, "", err
	}
	secret, err := randomToken(ClientSecretPrefix, 32)
	if err != nil {
		return store.Client{}, "", err
	}
	now := store.Micro(s.now())
	c := store.Client{
		ID:             id,
		OwnerAccountID: p.OwnerAccountID,
		Name:           name,
		SecretHash:     HashSecret(secret),
		RedirectURIs:   slices.Clone(p.RedirectURIs),
		Scopes:         scopes,
		ResourceServer: p.ResourceServer,
		FirstParty:     p.FirstParty,
		RefreshGrace:   p.RefreshGrace,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if err := s.clients.CreateClient(ctx, c); err != nil {
		return store.Client{}, "", fmt.Errorf("registry: create integration: %w", err)
	}
	s.record(ctx, a, "client.created", id, map[string]string{
		"name":            c.Name,
		"owner":           c.OwnerAccountID,
		"redirect_uris":   strings.Join(c.RedirectURIs, " "),
		"scopes":          scope.Format(c.Scopes),
		"resource_server": strconv.FormatBool(c.ResourceServer),
		"first_party":     strconv.FormatBool(c.FirstParty),
	})
	s.lg.InfoContext(ctx, "integration created", "client_id", id, "owner", c.OwnerAccountID)
	return c, secret, nil
}

// Get returns any integration.
func (s *Service) Get(ctx context.Context, id string) (store.Client, error) {
	return s.get(ctx, operator, id)
}

// GetAs returns an integration owned by accountID, or ErrNotFound.
func (s *Service) GetAs(ctx context.Context, accountID, id string) (store.Client, error) {
	return s.get(ctx, owner(accountID), id)
}

func (s *Service) get(ctx context.Context, a actor, id string) (store.Client, error) {
	c, err := s.clients.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, notFound(id)
	}
	if err != nil {
		return store.Client{}, fmt.Errorf("registry: get integration: %w", err)
	}
	if !a.allowed(c) {
		return store.Client{}, notFound(id)
	}
	return c, nil
}

// List returns the integrations owned by ownerAccountID, or all of them when it is "".
func (s *Service) List(ctx context.Context, ownerAccountID string) ([]store.Client, error) {
	cs, err := s.clients.ListClients(ctx, ownerAccountID)
	if err != nil {
		return nil, fmt.Errorf("registry: list integrations: %w", err)
	}
	return cs, nil
}

// ListAs returns the integrations accountID owns; never all of them.
func (s *Service) ListAs(ctx context.Context, accountID string) ([]store.Client, error) {
	if accountID == "" {
		return nil, nil
	}
	return s.List(ctx, accountID)
}

// Update changes any integration.
func (s *Service) Update(ctx context.Context, id string, p UpdateParams) (store.Client, error) {
	return s.update(ctx, operator, id, p)
}

// UpdateAs changes an integration owned by accountID, or returns ErrNotFound.
func (s *Service) UpdateAs(ctx context.Context, accountID, id string, p UpdateParams) (store.Client, error) {
	return s.update(ctx, owner(accountID), id, p)
}

// errResourceServer refuses self-service resource servers: introspecting
// any integration's tokens is an operator's decision.
const errResourceServer = "Only an operator can make an integration a resource server (grantflow app update --id CLIENT_ID --resource-server)."

// errUnchanged aborts an update that would change nothing, so that no
// change-feed entry makes every cache drop the client for nothing.
var errUnchanged = errors.New("unchanged")

func (s *Service) update(ctx context.Context, a actor, id string, p UpdateParams) (store.Client, error) {
	var (
		problems []string
		name     string
		scopes   []string
	)
	if p.Name != nil {
		var np []string
		name, np = checkName(*p.Name)
		problems = append(problems, np...)
	}
	if p.RedirectURIs != nil {
		problems = append(problems, checkRedirectURIs(*p.RedirectURIs)...)
	}
	if p.Scopes != nil {
		var sp []string
		scopes, sp = checkScopes(*p.Scopes)
		problems = append(problems, sp...)
	}
	if p.RefreshGrace != nil {
		problems = append(problems, checkGrace(*p.RefreshGrace)...)
	}
	if a.scoped && p.ResourceServer != nil && *p.ResourceServer {
		// An owner may give the privilege up, not take it.
		problems = append(problems, errResourceServer)
	}
	if len(problems) > 0 {
		return store.Client{}, &ValidationError{Problems: problems}
	}

	var (
		changed []string
		before  store.Client
	)
	c, err := s.clients.UpdateClient(ctx, id, func(c *store.Client) error {
		if !a.allowed(*c) {
			return store.ErrNotFound
		}
		before = *c
		changed = changed[:0]
		if p.Name != nil && name != c.Name {
			c.Name = name
			changed = append(changed, "name")
		}
		if p.RedirectURIs != nil && !slices.Equal(*p.RedirectURIs, c.RedirectURIs) {
			c.RedirectURIs = slices.Clone(*p.RedirectURIs)
			changed = append(changed, "redirect_uris")
		}
		if p.Scopes != nil && !slices.Equal(scopes, c.Scopes) {
			c.Scopes = scopes
			changed = append(changed, "scopes")
		}
		if p.ResourceServer != nil && *p.ResourceServer != c.ResourceServer {
			c.ResourceServer = *p.ResourceServer
			changed = append(changed, "resource_server")
		}
		if p.RefreshGrace != nil && *p.RefreshGrace != c.RefreshGrace {
			c.RefreshGrace = *p.RefreshGrace
			changed = append(changed, "refresh_grace")
		}
		if len(changed) == 0 {
			return errUnchanged
		}
		c.UpdatedAt = store.Micro(s.now())
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		return before, nil
	case errors.Is(err, store.ErrNotFound):
		return store.Client{}, notFound(id)
	case err != nil:
		return store.Client{}, fmt.Errorf("registry: update integration: %w", err)
	}
	details := map[string]string{"fields": strings.Join(changed, ",")}
	// The new values of these fields are not secret and tell an auditor
	// what the integration may now do.
	if slices.Contains(changed, "scopes") {
		details["scopes"] = scope.Format(c.Scopes)
	}
	if slices.Contains(changed, "redirect_uris") {
		details["redirect_uris"] = strings.Join(c.RedirectURIs, " ")
	}
	if slices.Contains(changed, "resource_server") {
		details["resource_server"] = strconv.FormatBool(c.ResourceServer)
	}
	s.notify(ctx)
	s.record(ctx, a, "client.updated", id, details)
	return c, nil
}

// RotateSecret gives any integration a new client secret and returns it; the
// old one stops working at once.
func (s *Service) RotateSecret(ctx context.Context, id string) (store.Client, string, error) {
	return s.rotate(ctx, operator, id)
}

// RotateSecretAs rotates the secret of an integration owned by accountID.
func (s *Service) RotateSecretAs(ctx context.Context, accountID, id string) (store.Client, string, error) {
	return s.rotate(ctx, owner(accountID), id)
}

func (s *Service) rotate(ctx context.Context, a actor, id string) (store.Client, string, error) {
	secret, err := randomToken(ClientSecretPrefix, 32)
	if err != nil {
		return store.Client{}, "", err
	}
	c, err := s.clients.UpdateClient(ctx, id, func(c *store.Client) error {
		if !a.allowed(*c) {
			return store.ErrNotFound
		}
		c.SecretHash = HashSecret(secret)
		c.UpdatedAt = store.Micro(s.now())
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, "", notFound(id)
	}
	if err != nil {
		return store.Client{}, "", fmt.Errorf("registry: rotate secret: %w", err)
	}
	s.notify(ctx)
	s.record(ctx, a, "client.secret_rotated", id, nil)
	return c, secret, nil
}

// Delete removes any integration; the store revokes every grant it holds.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.delete(ctx, operator, id)
}

// DeleteAs removes an integration owned by accountID.
func (s *Service) DeleteAs(ctx context.Context, accountID, id string) error {
	return s.delete(ctx, owner(accountID), id)
}

func (s *Service) delete(ctx context.Context, a actor, id string) error {
	// The owner never changes, so checking it before deleting is not racy.
	c, err := s.get(ctx, a, id)
	if err != nil {
		return err
	}
	err = s.clients.DeleteClient(ctx, id, store.Micro(s.now()))
	if errors.Is(err, store.ErrNotFound) {
		return notFound(id)
	}
	if err != nil {
		return fmt.Errorf("registry: delete integration: %w", err)
	}
	s.notify(ctx)
	s.record(ctx, a, "client.deleted", id, map[string]string{"name": c.Name, "owner": c.OwnerAccountID})
	s.lg.InfoContext(ctx, "integration deleted", "client_id", id)
	return nil
}

// record writes an audit event. A failed write is logged by the recorder;
// the change itself has already happened, so it is not undone.
func (s *Service) record(ctx context.Context, a actor, action, clientID string, details map[string]string) {
	_ = s.audit.Record(ctx, store.AuditEvent{
		Action:         action,
		ActorAccountID: a.accountID,
		Target:         clientID,
		Details:        details,
	})
}

// HashSecret returns the form in which a client secret is stored: the
// lowercase hex SHA-256. A 256-bit random secret needs no slow hash.
func HashSecret(secret string) string { return oauth.Hash(secret) }

// VerifySecret reports, in constant time, whether secret is c's client secret.
func VerifySecret(c store.Client, secret string) bool {
	return secret != "" && oauth.HashMatches(secret, c.SecretHash)
}

// randomToken returns prefix followed by n random bytes in unpadded
// base64url, so only A-Z a-z 0-9 - _ appear.
func randomToken(prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("registry: random: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func checkName(raw string) (string, []string) {
	name := strings.TrimSpace(raw)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return name, []string{"name: enter a name"}
	case n > MaxNameLength:
		return name, []string{fmt.Sprintf("name: use at most %d characters (this one has %d)", MaxNameLength, n)}
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return name, []string{"name: must not contain control characters"}
	}
	return name, nil
}

func checkRedirectURIs(uris []string) []string {
	if len(uris) == 0 {
		return []string{"redirect URIs: add at least one"}
	}
	var problems []string
	if len(uris) > MaxRedirectURIs {
		problems = append(problems, fmt.Sprintf("redirect URIs: at most %d are allowed", MaxRedirectURIs))
	}
	seen := make(map[string]bool, len(uris))
	for _, u := range uris {
		if p := checkRedirectURI(u); p != "" {
			problems = append(problems, p)
			continue
		}
		if seen[u] {
			problems = append(problems, fmt.Sprintf("redirect URI %q is listed twice", u))
		}
		seen[u] = true
	}
	return problems
}

// responseParams are the query parameters the authorization endpoint adds to
// a redirect URI.
var responseParams = []string{"code", "state", "iss", "error", "error_description", "error_uri"}

// checkRedirectURI refuses what RFC 6749 §3.1.2 and RFC 9700 §2.1 refuse,
// and query parameters the authorization response would duplicate.
// It does not normalise: the authorization endpoint compares the string
// the client sends with the registered one, byte for byte.
func checkRedirectURI(raw string) string {
	if raw == "" {
		return "redirect URI: an empty line is not a URI"
	}
	if len(raw) > MaxRedirectURILen {
		return fmt.Sprintf("redirect URI %.40q...: longer than %d characters", raw, MaxRedirectURILen)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= 0x20 || raw[i] >= 0x7f {
			return fmt.Sprintf("redirect URI %q: contains spaces or characters that must be percent-encoded", raw)
		}
	}
	if strings.Contains(raw, "#") {
		return fmt.Sprintf("redirect URI %q: must not contain a fragment (#...)", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Sprintf("redirect URI %q: not a valid URI", raw)
	}
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return fmt.Sprintf("redirect URI %q: must be an absolute URI such as https://app.example.com/callback", raw)
	}
	if u.User != nil {
		return fmt.Sprintf("redirect URI %q: must not contain a user name or password", raw)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Sprintf("redirect URI %q: its query is not valid", raw)
	}
	for _, p := range responseParams {
		if q.Has(p) {
			// The authorization response adds it (RFC 6749 §4.1.2,
			// §4.1.2.1, RFC 9207 §2): the client would see it twice.
			return fmt.Sprintf("redirect URI %q: must not carry %q in its query; the authorization response adds it", raw, p)
		}
	}
	switch u.Scheme { // url.Parse lower-cases the scheme
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Sprintf("redirect URI %q: use https; http is allowed only on 127.0.0.1, [::1] or localhost", raw)
		}
	default:
		return fmt.Sprintf("redirect URI %q: must use https (or http on a loopback address)", raw)
	}
	return ""
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || strings.EqualFold(host, "localhost")
}

// checkScopes parses the scope names (RFC 6749 §3.3) and keeps only
// Meraki's. It returns them sorted without duplicates.
func checkScopes(list []string) ([]string, []string) {
	parsed, err := scope.Parse(strings.Join(list, " "))
	if err != nil {
		return nil, []string{"scopes: " + err.Error()}
	}
	if len(parsed) == 0 {
		return nil, []string{"scopes: choose at least one"}
	}
	if unknown := scope.Unknown(parsed); len(unknown) > 0 {
		return nil, []string{fmt.Sprintf("scopes: not Meraki scopes: %s (they look like dashboard:general:config:read)", strings.Join(unknown, ", "))}
	}
	return parsed, nil
}

func checkGrace(d time.Duration) []string {
	if d < 0 || d > MaxRefreshGrace {
		return []string{fmt.Sprintf("refresh grace: must be between 0 and %s", MaxRefreshGrace)}
	}
	return nil
}
