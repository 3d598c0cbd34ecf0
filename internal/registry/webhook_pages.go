package registry

import (
	"errors"
	"net/http"
	"strings"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
	"github.com/grantflow/grantflow/internal/webhooks"
)

// webhookPage is webhook.html: the integration's webhook, its secret once
// after it was made, and its latest deliveries with their attempts.
type webhookPage struct {
	web.Chrome
	Client   store.Client
	URL      string // as stored, or as typed when refused
	Secret   string
	Problems []string
	Status   webhooks.Status
}

func (h *Handler) renderWebhook(w http.ResponseWriter, r *http.Request, acct store.Account, status int, c store.Client, d webhookPage) {
	st, err := h.svc.WebhookStatusAs(r.Context(), acct.ID, c.ID)
	if err != nil {
		h.pageFail(w, r, acct, err)
		return
	}
	d.Chrome, d.Client, d.Status = h.chrome(w, r, acct, "Webhook · "+c.Name), c, st
	if d.URL == "" && d.Problems == nil {
		d.URL = st.URL
	}
	d.Flash = map[string]string{"saved": "Webhook saved.", "removed": "Webhook removed."}[r.URL.Query().Get("done")]
	h.pages.Render(w, r, status, "webhook.html", d)
}

func (h *Handler) pageWebhook(w http.ResponseWriter, r *http.Request) {
	acct, c, ok := h.pageClient(w, r)
	if !ok {
		return
	}
	h.renderWebhook(w, r, acct, http.StatusOK, c, webhookPage{})
}

func (h *Handler) pageSetWebhook(w http.ResponseWriter, r *http.Request) {
	acct, c, ok := h.pageClient(w, r)
	if !ok {
		return
	}
	url := strings.TrimSpace(r.PostFormValue("webhook_url"))
	secret, err := h.svc.SetWebhookURLAs(r.Context(), acct.ID, c.ID, url)
	var ve *ValidationError
	if errors.As(err, &ve) {
		h.renderWebhook(w, r, acct, http.StatusBadRequest, c, webhookPage{URL: url, Problems: ve.Problems})
		return
	}
	if err != nil {
		h.pageFail(w, r, acct, err)
		return
	}
	if secret != "" {
		h.renderWebhook(w, r, acct, http.StatusOK, c, webhookPage{Secret: secret})
		return
	}
	done := "saved"
	if url == "" {
		done = "removed"
	}
	http.Redirect(w, r, "/integrations/"+c.ID+"/webhook?done="+done, http.StatusSeeOther)
}

func (h *Handler) pageRotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	acct, c, ok := h.pageClient(w, r)
	if !ok {
		return
	}
	secret, err := h.svc.RotateWebhookSecretAs(r.Context(), acct.ID, c.ID)
	var ve *ValidationError
	if errors.As(err, &ve) {
		h.renderWebhook(w, r, acct, http.StatusBadRequest, c, webhookPage{Problems: ve.Problems})
		return
	}
	if err != nil {
		h.pageFail(w, r, acct, err)
		return
	}
	h.renderWebhook(w, r, acct, http.StatusOK, c, webhookPage{Secret: secret})
}
