package workflow

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/grantflow/grantflow/internal/web"
)

// webhookRoutes mounts the webhooks' JSON API and the endpoint the
// webhooks' callers POST to (docs/api.md "Webhooks"). The endpoint is not a
// session route: its secret is the caller's only credential.
func (h *Handler) webhookRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /automation/webhooks/{id}", h.deliverWebhook)
	mux.HandleFunc("GET /api/automation/tenants/{id}/webhooks", h.apiWebhooks)
	mux.HandleFunc("GET /api/automation/webhooks/{id}", h.apiWebhook)
	mux.HandleFunc("POST /api/automation/webhooks/{id}/enable", h.apiEnableWebhook(true))
	mux.HandleFunc("POST /api/automation/webhooks/{id}/disable", h.apiEnableWebhook(false))
	mux.HandleFunc("POST /api/automation/webhooks/{id}/secret", h.apiRotateWebhookSecret)
	mux.HandleFunc("DELETE /api/automation/webhooks/{id}", h.apiDeleteWebhook)
}

func (h *Handler) deliverWebhook(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(WebhookContentTypes, ct) {
		web.JSONError(w, http.StatusUnsupportedMediaType, "the Content-Type must be one of "+strings.Join(WebhookContentTypes, ", "))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, WebhookMaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		web.JSONError(w, http.StatusRequestEntityTooLarge, "the body is larger than 1 MB")
		return
	}
	if err != nil {
		web.JSONError(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	c := WebhookCall{ID: r.PathValue("id"), Signature: r.Header.Get(SignatureHeader), Body: body}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		c.Bearer = strings.TrimSpace(tok)
	}
	if c.Bearer == "" && c.Signature == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="webhook"`)
		web.JSONError(w, http.StatusUnauthorized, "send the webhook's secret: Authorization: Bearer SECRET, or "+SignatureHeader+": sha256=HMAC")
		return
	}
	d, err := h.svc.Deliver(r.Context(), c)
	switch {
	case err == nil:
		web.JSON(w, http.StatusAccepted, d)
	case errors.Is(err, ErrWebhookAuth):
		w.Header().Set("WWW-Authenticate", `Bearer realm="webhook", error="invalid_token"`)
		web.JSONError(w, http.StatusUnauthorized, Plain(err))
	case errors.Is(err, ErrWebhookDisabled):
		web.JSONError(w, http.StatusForbidden, Plain(err))
	case errors.Is(err, ErrNotFound):
		web.JSONError(w, http.StatusNotFound, "no such webhook")
	case errors.Is(err, ErrInvalid):
		// No workflow could start (a token to reconnect, a workflow
		// not runnable): the caller may try again later.
		web.JSON(w, http.StatusServiceUnavailable, d)
	default:
		h.lg.ErrorContext(r.Context(), "webhook delivery failed", "webhook", c.ID, "err", err)
		web.JSONError(w, http.StatusInternalServerError, "internal error")
	}
}

func (h *Handler) apiWebhooks(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	list, err := h.svc.Webhooks(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, list)
}

func (h *Handler) apiWebhook(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	v, err := h.svc.Webhook(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, v)
}

func (h *Handler) apiEnableWebhook(enable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.actor(w, r)
		if !ok {
			return
		}
		v, err := h.svc.EnableWebhook(r.Context(), r.PathValue("id"), a, enable)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		web.JSON(w, http.StatusOK, v)
	}
}

// apiRotateWebhookSecret answers the new secret once, as a client secret
// is shown once.
func (h *Handler) apiRotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	v, secret, err := h.svc.RotateWebhookSecret(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, map[string]any{"webhook": v, "secret": secret})
}

func (h *Handler) apiDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	if err := h.svc.DeleteWebhook(r.Context(), r.PathValue("id"), a); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
