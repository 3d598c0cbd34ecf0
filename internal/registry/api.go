package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
)

// maxBodyBytes bounds a JSON request; an integration is a few kilobytes.
const maxBodyBytes = 64 << 10

// integrationJSON is an integration in the JSON API. ClientSecret is set
// only in the answers to create and rotate-secret.
type integrationJSON struct {
	ClientID       string   `json:"client_id"`
	ClientSecret   string   `json:"client_secret,omitempty"`
	Name           string   `json:"name"`
	RedirectURIs   []string `json:"redirect_uris"`
	Scopes         []string `json:"scopes"`
	ResourceServer bool     `json:"resource_server"`
	// WebhookSecret is set only in the answer of a PATCH that made one.
	WebhookURL    string    `json:"webhook_url,omitempty"`
	WebhookSecret string    `json:"webhook_secret,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toJSON(c store.Client) integrationJSON {
	return integrationJSON{
		ClientID:       c.ID,
		Name:           c.Name,
		RedirectURIs:   nonNil(c.RedirectURIs),
		Scopes:         nonNil(c.Scopes),
		ResourceServer: c.ResourceServer,
		CreatedAt:      c.CreatedAt,
		UpdatedAt:      c.UpdatedAt,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// scopeList accepts scopes as a JSON array or as one space-separated
// string, the form of OAuth's scope parameter.
type scopeList []string

func (l *scopeList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = scopeList{s}
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return errors.New("scopes: must be an array of strings or a space-separated string")
	}
	*l = a
	return nil
}

type createRequest struct {
	Name           string    `json:"name"`
	RedirectURIs   []string  `json:"redirect_uris"`
	Scopes         scopeList `json:"scopes"`
	ResourceServer bool      `json:"resource_server"`
}

type patchRequest struct {
	Name           *string    `json:"name"`
	RedirectURIs   *[]string  `json:"redirect_uris"`
	Scopes         *scopeList `json:"scopes"`
	ResourceServer *bool      `json:"resource_server"`
	// WebhookURL sets ("" removes) the webhook; RotateWebhookSecret makes
	// it a new signing secret.
	WebhookURL          *string `json:"webhook_url"`
	RotateWebhookSecret bool    `json:"rotate_webhook_secret"`
}

// apiAccount returns the logged-in account, or answers 401 (and, for an
// unsafe method without a valid CSRF token, 403) and returns false.
// The CSRF token comes in the X-CSRF-Token header; GET answers carry it in
// the same header so that a page's script can read it.
func (h *Handler) apiAccount(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	w.Header().Set("Cache-Control", "no-store")
	acct, ok := h.sessions.Current(r)
	if !ok || acct.ID == "" {
		web.JSONError(w, http.StatusUnauthorized, "log in to the dashboard first")
		return store.Account{}, false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		w.Header().Set("X-CSRF-Token", h.sessions.CSRFToken(w, r))
	default:
		if !h.sessions.VerifyCSRF(r) {
			web.JSONError(w, http.StatusForbidden, "missing or invalid X-CSRF-Token header")
			return store.Account{}, false
		}
	}
	return acct, true
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	cs, err := h.svc.ListAs(r.Context(), acct.ID)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := make([]integrationJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, toJSON(c))
	}
	web.JSON(w, http.StatusOK, out)
}

func (h *Handler) apiCreate(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	var req createRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	c, secret, err := h.svc.CreateAs(r.Context(), acct.ID, CreateParams{
		Name:           req.Name,
		RedirectURIs:   req.RedirectURIs,
		Scopes:         req.Scopes,
		ResourceServer: req.ResourceServer,
	})
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := toJSON(c)
	out.ClientSecret = secret
	w.Header().Set("Location", "/api/integrations/"+c.ID)
	web.JSON(w, http.StatusCreated, out)
}

func (h *Handler) apiGet(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	c, err := h.svc.GetAs(r.Context(), acct.ID, r.PathValue("id"))
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toJSON(c))
}

func (h *Handler) apiPatch(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	var req patchRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	p := UpdateParams{Name: req.Name, RedirectURIs: req.RedirectURIs, ResourceServer: req.ResourceServer}
	if req.Scopes != nil {
		s := []string(*req.Scopes)
		p.Scopes = &s
	}
	if !h.precheckWebhook(w, r, req) {
		return
	}
	c, err := h.svc.UpdateAs(r.Context(), acct.ID, r.PathValue("id"), p)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := toJSON(c)
	if !h.patchWebhook(w, r, acct, req, &out) {
		return
	}
	web.JSON(w, http.StatusOK, out)
}

func (h *Handler) apiDelete(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	if err := h.svc.DeleteAs(r.Context(), acct.ID, r.PathValue("id")); err != nil {
		h.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) apiRotate(w http.ResponseWriter, r *http.Request) {
	acct, ok := h.apiAccount(w, r)
	if !ok {
		return
	}
	c, secret, err := h.svc.RotateSecretAs(r.Context(), acct.ID, r.PathValue("id"))
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]string{"client_id": c.ID, "client_secret": secret})
}

// apiFail answers a service error: validation problems (all of them) with
// 400, unknown or foreign integrations with 404, anything else with 500
// after logging the details.
func (h *Handler) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		web.JSON(w, http.StatusBadRequest, map[string]any{
			"error":    strings.Join(ve.Problems, "; "),
			"problems": ve.Problems,
		})
	case errors.Is(err, ErrNotFound):
		web.JSONError(w, http.StatusNotFound, "no such integration")
	default:
		h.lg.ErrorContext(r.Context(), "integration API failed", "path", r.URL.Path, "err", err)
		web.JSONError(w, http.StatusInternalServerError, "internal error")
	}
}

// decodeJSON reads one JSON object into v, refusing unknown fields, and
// answers 400 or 415 itself when it cannot.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		web.JSONError(w, http.StatusUnsupportedMediaType, "send the body as application/json")
		return false
	}
	body, err := web.ReadJSONBody(w, r, maxBodyBytes)
	var be *web.BodyError
	if errors.As(err, &be) {
		web.JSONError(w, be.Status, be.Msg)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		web.JSONError(w, http.StatusBadRequest, describeJSONError(err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		web.JSONError(w, http.StatusBadRequest, "the body must hold a single JSON object")
		return false
	}
	return true
}

func describeJSONError(err error) string {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		message = err.Error()
	)
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty; send a JSON object"
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is not valid JSON"
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "the body must be a JSON object"
		}
		return fmt.Sprintf("%s: wrong type (got %s)", typ.Field, typ.Value)
	case strings.HasPrefix(message, "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(message, "json: unknown field ")
	}
	return strings.TrimPrefix(message, "json: ")
}
