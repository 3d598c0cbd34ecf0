package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
)

// Webhooks (FORMAT.md §8.2): POST /automation/webhooks/{id} starts the
// workflows of the webhook's automation rules on the tenant's Org-scoped
// token. Only a caller holding the webhook's secret may call it; the
// secret is shown once, when a tenant_admin rotates it.

// Webhook delivery errors a front end maps to answers.
var (
	// ErrWebhookAuth: no secret, or the wrong one (401).
	ErrWebhookAuth = errors.New("workflow: the webhook's secret is missing or wrong")
	// ErrWebhookDisabled: the webhook is disabled (403).
	ErrWebhookDisabled = errors.New("workflow: the webhook is disabled")
)

// WebhookMaxBody is the largest body a webhook takes (the product's limit).
const WebhookMaxBody = 1 << 20

// WebhookBodyInput is the display name of the input variable that gets the
// request body, when the workflow declares one and the rule does not fix
// it.
const WebhookBodyInput = "request_body"

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
// keyed with the secret, as an alternative to a bearer secret.
const SignatureHeader = "X-Grantflow-Signature"

// WebhookContentTypes are the bodies a webhook takes.
var WebhookContentTypes = []string{"application/json", "application/x-www-form-urlencoded", "application/xml"}

// WebhookView is a webhook as the CLI, the JSON API and the pages show it.
type WebhookView struct {
	ID          string        `json:"id"`
	TenantID    string        `json:"tenant_id"`
	ExternalID  string        `json:"external_id"`
	Name        string        `json:"name"`
	URL         string        `json:"url"` // the path to POST to
	ContentType string        `json:"content_type"`
	Enabled     bool          `json:"enabled"`
	Reason      string        `json:"reason"`
	HasSecret   bool          `json:"has_secret"`
	SecretAt    *time.Time    `json:"secret_rotated_at"`
	Rules       []webhookRule `json:"rules"`
	Source      string        `json:"source"`
	CreatedBy   *string       `json:"created_by"`
	CreatedAt   time.Time     `json:"created_at"`
}

// WebhookDelivery is the answer to a call of a webhook.
type WebhookDelivery struct {
	Webhook string   `json:"webhook"`
	Runs    []string `json:"runs"`
	// Problems are the workflows that did not start, and why.
	Problems []string `json:"problems"`
}

func (s *Service) webhookStore() (store.Webhooks, error) {
	ws, ok := s.st.(store.WebhookStore)
	if !ok {
		return nil, errors.New("workflow: this store keeps no webhooks")
	}
	return ws.Webhooks(), nil
}

func webhookSecretAD(id string) string { return "workflow webhook secret\x00" + id }

func (s *Service) webhookView(ctx context.Context, w store.Webhook) WebhookView {
	v := WebhookView{ID: w.ID, TenantID: w.TenantID, ExternalID: w.ExternalID, Name: w.Name, URL: "/automation/webhooks/" + w.ID,
		ContentType: w.ContentType, Enabled: w.Enabled, Reason: w.Reason, HasSecret: w.SecretHash != nil, Source: w.Source,
		CreatedBy: s.email(ctx, w.CreatedBy), CreatedAt: w.CreatedAt, Rules: []webhookRule{}}
	if !w.SecretAt.IsZero() {
		at := w.SecretAt
		v.SecretAt = &at
	}
	_ = json.Unmarshal(w.Rules, &v.Rules)
	if v.Rules == nil {
		v.Rules = []webhookRule{}
	}
	return v
}

// Webhooks lists a tenant's webhooks. Anyone with a role may see them.
func (s *Service) Webhooks(ctx context.Context, tenantID string, a Actor) ([]WebhookView, error) {
	ws, err := s.webhookStore()
	if err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(ctx, t, a, permRead, "see webhooks"); err != nil {
		return nil, err
	}
	list, err := ws.ListWebhooks(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := make([]WebhookView, 0, len(list))
	for _, w := range list {
		out = append(out, s.webhookView(ctx, w))
	}
	return out, nil
}

func (s *Service) webhookFor(ctx context.Context, id string) (store.Webhook, store.Tenant, error) {
	ws, err := s.webhookStore()
	if err != nil {
		return store.Webhook{}, store.Tenant{}, err
	}
	w, err := ws.GetWebhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return w, store.Tenant{}, fmt.Errorf("%w: webhook %s", ErrNotFound, id)
	}
	if err != nil {
		return w, store.Tenant{}, err
	}
	t, err := s.tenant(ctx, w.TenantID)
	return w, t, err
}

// Webhook shows one webhook.
func (s *Service) Webhook(ctx context.Context, id string, a Actor) (WebhookView, error) {
	w, t, err := s.webhookFor(ctx, id)
	if err != nil {
		return WebhookView{}, err
	}
	if _, err := s.authorize(ctx, t, a, permRead, "see webhooks"); err != nil {
		return WebhookView{}, err
	}
	return s.webhookView(ctx, w), nil
}

// EnableWebhook enables or disables a webhook. Only a tenant_admin may.
func (s *Service) EnableWebhook(ctx context.Context, id string, a Actor, enable bool) (WebhookView, error) {
	w, t, err := s.webhookFor(ctx, id)
	if err != nil {
		return WebhookView{}, err
	}
	what := "disable webhooks"
	if enable {
		what = "enable webhooks"
	}
	if _, err := s.authorize(ctx, t, a, permAdmin, what); err != nil {
		return WebhookView{}, err
	}
	ws, _ := s.webhookStore()
	w, err = ws.UpdateWebhook(ctx, w.ID, func(w *store.Webhook) error {
		w.Enabled, w.UpdatedAt = enable, s.now()
		if enable {
			w.Reason = ""
			if w.SecretHash == nil {
				w.Reason = "enabled, but nobody can call it until a tenant_admin rotates its secret"
			}
		}
		return nil
	})
	if err != nil {
		return WebhookView{}, err
	}
	action := "workflow.webhook_disabled"
	if enable {
		action = "workflow.webhook_enabled"
	}
	s.record(ctx, store.AuditEvent{Action: action, ActorAccountID: a.id(), OrgID: t.OrgID, Target: w.ID, Details: map[string]string{"tenant": t.ID}})
	return s.webhookView(ctx, w), nil
}

// RotateWebhookSecret gives a webhook a new secret and returns it: the only
// time it is shown. The old one stops working at once. Only a
// tenant_admin may.
func (s *Service) RotateWebhookSecret(ctx context.Context, id string, a Actor) (WebhookView, string, error) {
	w, t, err := s.webhookFor(ctx, id)
	if err != nil {
		return WebhookView{}, "", err
	}
	if _, err := s.authorize(ctx, t, a, permAdmin, "rotate webhook secrets"); err != nil {
		return WebhookView{}, "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return WebhookView{}, "", err
	}
	secret := "whsec_" + hex.EncodeToString(b)
	box, err := s.auto.Vault().Seal(ctx, []byte(secret), webhookSecretAD(w.ID))
	if err != nil {
		return WebhookView{}, "", err
	}
	sum := sha256.Sum256([]byte(secret))
	ws, _ := s.webhookStore()
	w, err = ws.UpdateWebhook(ctx, w.ID, func(w *store.Webhook) error {
		w.SecretHash, w.SecretBox, w.SecretAt, w.UpdatedAt = sum[:], box, s.now(), s.now()
		if w.Enabled {
			w.Reason = ""
		}
		return nil
	})
	if err != nil {
		return WebhookView{}, "", err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.webhook_secret_rotated", ActorAccountID: a.id(), OrgID: t.OrgID, Target: w.ID,
		Details: map[string]string{"tenant": t.ID}})
	return s.webhookView(ctx, w), secret, nil
}

// DeleteWebhook deletes a webhook and its rules; their runs stay. Only a
// tenant_admin may.
func (s *Service) DeleteWebhook(ctx context.Context, id string, a Actor) error {
	w, t, err := s.webhookFor(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.authorize(ctx, t, a, permAdmin, "delete webhooks"); err != nil {
		return err
	}
	ws, _ := s.webhookStore()
	if err := ws.DeleteWebhook(ctx, w.ID); err != nil {
		return err
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.webhook_deleted", ActorAccountID: a.id(), OrgID: t.OrgID, Target: w.ID,
		Details: map[string]string{"tenant": t.ID, "webhook": w.ExternalID}})
	return nil
}

// WebhookCall is one inbound call of a webhook.
type WebhookCall struct {
	ID        string
	Bearer    string // the Authorization: Bearer value
	Signature string // the SignatureHeader value
	Body      []byte
}

// checkSecret accepts the call's bearer secret or signature, each
// compared in constant time.
func (s *Service) checkSecret(ctx context.Context, w store.Webhook, c WebhookCall) error {
	if w.SecretHash == nil {
		return ErrWebhookAuth
	}
	if c.Bearer != "" {
		sum := sha256.Sum256([]byte(c.Bearer))
		if subtle.ConstantTimeCompare(sum[:], w.SecretHash) == 1 {
			return nil
		}
		return ErrWebhookAuth
	}
	sig, ok := strings.CutPrefix(c.Signature, "sha256=")
	want, err := hex.DecodeString(sig)
	if !ok || err != nil || len(want) != sha256.Size {
		return ErrWebhookAuth
	}
	key, err := s.auto.Vault().Open(ctx, w.SecretBox, webhookSecretAD(w.ID))
	if err != nil {
		return fmt.Errorf("the webhook's secret cannot be opened: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(c.Body)
	if !hmac.Equal(mac.Sum(nil), want) {
		return ErrWebhookAuth
	}
	return nil
}

// Deliver checks a call of a webhook and starts its rules' workflows on
// the Org-scoped token: each enabled rule, each enabled workflow of it
// (the latest version), with the rule's fixed inputs and the body in the
// input variable request_body when the workflow has one.
func (s *Service) Deliver(ctx context.Context, c WebhookCall) (WebhookDelivery, error) {
	out := WebhookDelivery{Webhook: c.ID, Runs: []string{}, Problems: []string{}}
	w, t, err := s.webhookFor(ctx, c.ID)
	if err != nil {
		return out, err
	}
	if err := s.checkSecret(ctx, w, c); err != nil {
		s.record(ctx, store.AuditEvent{Action: "workflow.webhook_refused", OrgID: t.OrgID, Target: w.ID,
			Details: map[string]string{"tenant": t.ID, "why": "secret"}})
		return out, err
	}
	if !w.Enabled {
		return out, ErrWebhookDisabled
	}
	var rules []webhookRule
	if err := json.Unmarshal(w.Rules, &rules); err != nil {
		return out, fmt.Errorf("webhook %s: stored rules: %w", w.ID, err)
	}
	var firstErr error
	for _, r := range rules {
		if r.Disabled {
			continue
		}
		for _, rw := range r.Workflows {
			if rw.Disabled {
				continue
			}
			id, err := s.webhookRun(ctx, t, rw, c.Body)
			if id != "" {
				out.Runs = append(out.Runs, id) // stored; the sweeper queues it if queueing failed
			}
			if err != nil {
				out.Problems = append(out.Problems, fmt.Sprintf("%s (rule %s): %s", rw.UniqueName, r.Name, Plain(err)))
				if firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	s.record(ctx, store.AuditEvent{Action: "workflow.webhook_called", OrgID: t.OrgID, Target: w.ID,
		Details: map[string]string{"tenant": t.ID, "runs": strings.Join(out.Runs, " "), "problems": strings.Join(out.Problems, "; ")}})
	if len(out.Runs) == 0 && firstErr != nil {
		return out, firstErr
	}
	return out, nil
}

func (s *Service) webhookRun(ctx context.Context, t store.Tenant, rw ruleWorkflow, body []byte) (string, error) {
	w, err := s.wfs.LatestWorkflow(ctx, t.ID, rw.UniqueName)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: the tenant has no workflow %s", ErrInvalid, rw.UniqueName)
	}
	if err != nil {
		return "", err
	}
	pw, err := s.parse(w)
	if err != nil {
		return "", err
	}
	inputs := map[string]any{}
	for k, v := range rw.Inputs {
		inputs[k] = v
	}
	for _, v := range pw.file.Workflow.Variables {
		if v.Scope != "input" || !strings.EqualFold(strings.TrimSpace(v.Name), WebhookBodyInput) {
			continue
		}
		if _, fixed := inputs[v.ID]; !fixed {
			inputs[v.ID] = string(body)
		}
	}
	r, err := s.queueRun(ctx, t, w, RunParams{WorkflowID: w.ID, Inputs: inputs}, store.TokenOrg, "")
	return r.ID, err
}
