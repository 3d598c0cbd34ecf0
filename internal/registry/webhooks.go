package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/grantflow/grantflow/internal/webhooks"
)

// SetWebhooks lets integrations register a webhook URL (package webhooks
// delivers their events); without it the webhook methods fail.
func (s *Service) SetWebhooks(w *webhooks.Service) { s.webhooks = w }

// Webhooks is the webhook service, nil when none was set.
func (s *Service) Webhooks() *webhooks.Service { return s.webhooks }

var errNoWebhooks = errors.New("registry: webhooks are not configured")

// SetWebhookURL points any integration's events at url ("" removes its
// webhook) and returns the new signing secret when one was made (the
// first time): it is shown only then.
func (s *Service) SetWebhookURL(ctx context.Context, id, url string) (string, error) {
	return s.setWebhookURL(ctx, operator, id, url)
}

// SetWebhookURLAs does [Service.SetWebhookURL] for an integration owned by accountID.
func (s *Service) SetWebhookURLAs(ctx context.Context, accountID, id, url string) (string, error) {
	return s.setWebhookURL(ctx, owner(accountID), id, url)
}

func (s *Service) setWebhookURL(ctx context.Context, a actor, id, url string) (string, error) {
	if s.webhooks == nil {
		return "", errNoWebhooks
	}
	if _, err := s.get(ctx, a, id); err != nil {
		return "", err
	}
	secret, err := s.webhooks.SetURL(ctx, id, url)
	var ve *webhooks.ValidationError
	if errors.As(err, &ve) {
		return "", &ValidationError{Problems: []string{ve.Error()}}
	}
	if err != nil {
		return "", fmt.Errorf("registry: set webhook: %w", err)
	}
	if url == "" {
		s.record(ctx, a, "client.webhook_removed", id, nil)
	} else {
		s.record(ctx, a, "client.webhook_set", id, map[string]string{"url": url, "new_secret": fmt.Sprint(secret != "")})
	}
	return secret, nil
}

// RotateWebhookSecret gives any integration's webhook a new signing secret.
func (s *Service) RotateWebhookSecret(ctx context.Context, id string) (string, error) {
	return s.rotateWebhookSecret(ctx, operator, id)
}

// RotateWebhookSecretAs does [Service.RotateWebhookSecret] for an integration owned by accountID.
func (s *Service) RotateWebhookSecretAs(ctx context.Context, accountID, id string) (string, error) {
	return s.rotateWebhookSecret(ctx, owner(accountID), id)
}

func (s *Service) rotateWebhookSecret(ctx context.Context, a actor, id string) (string, error) {
	if s.webhooks == nil {
		return "", errNoWebhooks
	}
	if _, err := s.get(ctx, a, id); err != nil {
		return "", err
	}
	secret, err := s.webhooks.RotateSecret(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return "", &ValidationError{Problems: []string{"webhook: set a webhook URL first"}}
	}
	if err != nil {
		return "", fmt.Errorf("registry: rotate webhook secret: %w", err)
	}
	s.record(ctx, a, "client.webhook_secret_rotated", id, nil)
	return secret, nil
}

// WebhookStatus returns any integration's webhook and its latest deliveries.
func (s *Service) WebhookStatus(ctx context.Context, id string) (webhooks.Status, error) {
	return s.webhookStatus(ctx, operator, id)
}

// WebhookStatusAs does [Service.WebhookStatus] for an integration owned by accountID.
func (s *Service) WebhookStatusAs(ctx context.Context, accountID, id string) (webhooks.Status, error) {
	return s.webhookStatus(ctx, owner(accountID), id)
}

func (s *Service) webhookStatus(ctx context.Context, a actor, id string) (webhooks.Status, error) {
	if s.webhooks == nil {
		return webhooks.Status{}, nil
	}
	if _, err := s.get(ctx, a, id); err != nil {
		return webhooks.Status{}, err
	}
	return s.webhooks.Status(ctx, id, 20)
}
