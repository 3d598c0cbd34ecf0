package registry

import (
	"errors"
	"net/http"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
	"github.com/grantflow/grantflow/internal/webhooks"
)

// precheckWebhook refuses a PATCH whose webhook_url cannot be one before
// anything else of it is applied.
func (h *Handler) precheckWebhook(w http.ResponseWriter, r *http.Request, req patchRequest) bool {
	if req.WebhookURL == nil || *req.WebhookURL == "" {
		return true
	}
	var ve *webhooks.ValidationError
	if err := webhooks.CheckURL(*req.WebhookURL); errors.As(err, &ve) {
		h.apiFail(w, r, &ValidationError{Problems: []string{ve.Error()}})
		return false
	}
	return true
}

// patchWebhook applies a PATCH's webhook fields; the answer carries the
// signing secret when one was made. It answers failures itself.
func (h *Handler) patchWebhook(w http.ResponseWriter, r *http.Request, acct store.Account, req patchRequest, out *integrationJSON) bool {
	ctx := r.Context()
	if req.WebhookURL != nil {
		secret, err := h.svc.SetWebhookURLAs(ctx, acct.ID, out.ClientID, *req.WebhookURL)
		if err != nil {
			h.apiFail(w, r, err)
			return false
		}
		out.WebhookSecret = secret
	}
	if req.RotateWebhookSecret {
		secret, err := h.svc.RotateWebhookSecretAs(ctx, acct.ID, out.ClientID)
		if err != nil {
			h.apiFail(w, r, err)
			return false
		}
		out.WebhookSecret = secret
	}
	st, err := h.svc.WebhookStatusAs(ctx, acct.ID, out.ClientID)
	if err != nil {
		h.apiFail(w, r, err)
		return false
	}
	out.WebhookURL = st.URL
	return true
}

// webhookJSON is GET /api/integrations/{id}/webhook: the webhook and its
// latest deliveries, never the secret.
type webhookJSON struct {
	URL                 string             `json:"url"`
	Enabled             bool               `json:"enabled"`
	DisabledReason      string             `json:"disabled_reason,omitempty"`
	ConsecutiveFailures int                `json:"consecutive_failures"`
	Events              []webhookEventJSON `json:"events"`
}

type webhookEventJSON struct {
	ID             string               `json:"id"`
	Type           string               `json:"type"`
	OrganizationID string               `json:"organization_id,omitempty"`
	GrantID        string               `json:"grant_id,omitempty"`
	Reason         string               `json:"reason"`
	CreatedAt      time.Time            `json:"created_at"`
	State          string               `json:"state"`
	NextAttemptAt  *time.Time           `json:"next_attempt_at,omitempty"`
	Attempts       []webhookAttemptJSON `json:"attempts"`
}

type webhookAttemptJSON struct {
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms"`
	Status     int       `json:"status,omitempty"`
	Error      string    `json:"error,omitempty"`
	Body       string    `json:"body,omitempty"`
}

func (h *Handler) apiWebhook(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	st, err := h.svc.WebhookStatusAs(r.Context(), acct.ID, r.PathValue("id"))
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	if !st.Configured {
		web.JSONError(w, http.StatusNotFound, "this integration has no webhook; PATCH webhook_url to set one")
		return
	}
	web.JSON(w, http.StatusOK, toWebhookJSON(st))
}

func toWebhookJSON(st webhooks.Status) webhookJSON {
	out := webhookJSON{URL: st.URL, Enabled: st.Enabled, DisabledReason: st.DisabledReason, ConsecutiveFailures: st.ConsecutiveFailures,
		Events: []webhookEventJSON{}}
	for _, e := range st.Events {
		ej := webhookEventJSON{ID: e.ID, Type: e.Type, OrganizationID: e.OrgID, GrantID: e.GrantID, Reason: e.Reason,
			CreatedAt: e.CreatedAt, State: e.State, Attempts: []webhookAttemptJSON{}}
		if e.State == store.WebhookPending && !e.NextAttemptAt.IsZero() {
			t := e.NextAttemptAt
			ej.NextAttemptAt = &t
		}
		for _, a := range e.Attempts {
			ej.Attempts = append(ej.Attempts, webhookAttemptJSON{At: a.At, DurationMS: a.Duration.Milliseconds(), Status: a.Status, Error: a.Error, Body: a.Body})
		}
		out.Events = append(out.Events, ej)
	}
	return out
}
