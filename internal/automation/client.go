package automation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/grantflow/grantflow/internal/automation/vault"
	"github.com/grantflow/grantflow/internal/registry"
	"github.com/grantflow/grantflow/internal/scope"
	"github.com/grantflow/grantflow/internal/store"
)

// clientRow is the key of Automation's registration row.
const clientRow = "automation"

// refreshGrace is Automation's refresh-token grace window at grantflow's
// server: a process killed after the server rotated the token but before
// saving the answer retries the old token within it (RFC 9700 §4.14.2).
const refreshGrace = 60 * time.Second

func clientAD(clientID string) string { return vault.AD("automation client secret", clientID) }

// ensureClient registers Automation with grantflow's own authorization
// server once: a first-party client (no consent page) with every Meraki
// scope and a refresh grace window. The registry shows a secret only once,
// so the secret is sealed in Automation's own row. Replicas starting
// together race on that row's key; the losers delete their registration
// and use the winner's.
func (s *Service) ensureClient(ctx context.Context) error {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	err := s.ensureClientLocked(ctx)
	s.clientErr = err
	return err
}

func (s *Service) ensureClientLocked(ctx context.Context) error {
	redirect := s.cfg.RedirectURI()
	s.creds = cachedCreds{} // the registration may change below
	for range 3 {
		row, err := s.auto.GetAutomationClient(ctx, clientRow)
		if err == nil {
			c, err := s.reg.Get(ctx, row.ClientID)
			if errors.Is(err, store.ErrNotFound) {
				// Someone deleted the integration: register again.
				if err := s.auto.DeleteAutomationClient(ctx, clientRow); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			if !slices.Equal(c.RedirectURIs, []string{redirect}) || c.RefreshGrace != refreshGrace || !slices.Equal(c.Scopes, scope.All()) {
				// The issuer changed (or the registration was edited).
				uris, grace, scopes := []string{redirect}, refreshGrace, scope.All()
				if _, err := s.reg.Update(ctx, c.ID, registry.UpdateParams{RedirectURIs: &uris, RefreshGrace: &grace, Scopes: &scopes}); err != nil {
					return fmt.Errorf("automation: update registration: %w", err)
				}
				if _, err := s.auto.UpdateAutomationClient(ctx, clientRow, func(r *store.AutomationClient) error {
					r.RedirectURI, r.UpdatedAt = redirect, s.now()
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		c, secret, err := s.reg.Create(ctx, registry.CreateParams{
			Name: "grantflow Automation", RedirectURIs: []string{redirect}, Scopes: scope.All(),
			FirstParty: true, RefreshGrace: refreshGrace,
		})
		if err != nil {
			return fmt.Errorf("automation: register client: %w", err)
		}
		sealed, err := s.vault.Seal(ctx, []byte(secret), clientAD(c.ID))
		if err != nil {
			return err
		}
		now := s.now()
		err = s.auto.CreateAutomationClient(ctx, store.AutomationClient{Name: clientRow, ClientID: c.ID, SecretSealed: sealed, RedirectURI: redirect, CreatedAt: now, UpdatedAt: now})
		if errors.Is(err, store.ErrConflict) {
			// Another replica won; drop ours and use theirs.
			if derr := s.reg.Delete(ctx, c.ID); derr != nil {
				s.lg.WarnContext(ctx, "could not delete a duplicate Automation registration", "client_id", c.ID, "err", derr)
			}
			continue
		}
		if err != nil {
			return err
		}
		s.record(ctx, store.AuditEvent{Action: "automation.client_registered", ActorClientID: c.ID, Target: c.ID,
			Details: map[string]string{"redirect_uri": redirect}})
		return nil
	}
	return errors.New("automation: could not settle on one client registration")
}

// credentials returns Automation's client id and secret for the token and
// revocation endpoints.
func (s *Service) credentials(ctx context.Context) (string, string, error) {
	if s.cfg.External() {
		return s.cfg.ClientID, s.cfg.ClientSecret, nil
	}
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	if s.creds.id != "" && s.cfg.Now().Sub(s.creds.at) < time.Minute {
		return s.creds.id, s.creds.secret, nil
	}
	row, err := s.auto.GetAutomationClient(ctx, clientRow)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", errors.New("automation is not registered with the authorization server yet (start the server once)")
	}
	if err != nil {
		return "", "", err
	}
	secret, err := s.vault.Open(ctx, row.SecretSealed, clientAD(row.ClientID))
	if err != nil {
		return "", "", fmt.Errorf("open client secret: %w", err)
	}
	s.creds = cachedCreds{id: row.ClientID, secret: string(secret), at: s.cfg.Now()}
	return row.ClientID, string(secret), nil
}

// clientID returns Automation's client id, registering first if needed.
func (s *Service) clientID(ctx context.Context) (string, error) {
	if s.cfg.External() {
		return s.cfg.ClientID, nil
	}
	id, _, err := s.credentials(ctx)
	if err == nil {
		return id, nil
	}
	if s.reg == nil {
		return "", err
	}
	if err := s.ensureClient(ctx); err != nil {
		return "", err
	}
	id, _, err = s.credentials(ctx)
	return id, err
}
