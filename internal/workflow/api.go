package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grantflow/grantflow/internal/store"
	"github.com/grantflow/grantflow/internal/web"
	"github.com/grantflow/grantflow/internal/workflow/export"
)

// Handler serves the workflow JSON API (docs/api.md) and pages.
type Handler struct {
	svc      *Service
	sessions web.Sessions
	lg       *slog.Logger
	pages    *web.Renderer
}

// NewHandler builds the handler.
func NewHandler(svc *Service, sessions web.Sessions, lg *slog.Logger) (*Handler, error) {
	h := &Handler{svc: svc, sessions: sessions, lg: lg}
	return h, h.initPages()
}

// Routes mounts the API and the pages.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/automation/tenants/{id}/workflows", h.apiList)
	mux.HandleFunc("POST /api/automation/tenants/{id}/workflows", h.apiImport)
	mux.HandleFunc("GET /api/automation/tenants/{id}/runs", h.apiRuns)
	mux.HandleFunc("GET /api/automation/tenants/{id}/targets", h.apiTargets)
	mux.HandleFunc("PATCH /api/automation/targets/{id}", h.apiUpdateTarget)
	mux.HandleFunc("GET /api/automation/workflows/{id}", h.apiWorkflow)
	mux.HandleFunc("GET /api/automation/workflows/{id}/export", h.apiExport)
	mux.HandleFunc("PUT /api/automation/workflows/{id}/secrets/{name}", h.apiSecret)
	mux.HandleFunc("POST /api/automation/workflows/{id}/runs", h.apiStart)
	mux.HandleFunc("GET /api/automation/runs/{id}", h.apiRun)
	mux.HandleFunc("POST /api/automation/runs/{id}/answer", h.apiAnswer)
	mux.HandleFunc("POST /api/automation/runs/{id}/cancel", h.apiCancel)
	h.scheduleRoutes(mux)
	h.webhookRoutes(mux)
	h.pageRoutes(mux)
}

func (h *Handler) actor(w http.ResponseWriter, r *http.Request) (Actor, bool) {
	acct, ok := h.sessions.Current(r)
	if !ok || acct.ID == "" {
		web.JSONError(w, http.StatusUnauthorized, "log in first")
		return Actor{}, false
	}
	if r.Method != http.MethodGet && !h.sessions.VerifyCSRF(r) {
		web.JSONError(w, http.StatusForbidden, "missing or wrong X-CSRF-Token header")
		return Actor{}, false
	}
	return Actor{Account: acct}, true
}

// fail maps service errors to answers. A tenant, workflow or run the
// person cannot see answers 404 like one that does not exist.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		web.JSONError(w, http.StatusNotFound, Plain(err))
	case errors.Is(err, ErrForbidden):
		web.JSONError(w, http.StatusForbidden, Plain(err))
	case errors.Is(err, ErrInvalid):
		web.JSONError(w, http.StatusBadRequest, Plain(err))
	default:
		h.lg.ErrorContext(r.Context(), "workflow API request failed", "err", err)
		web.JSONError(w, http.StatusInternalServerError, "internal error")
	}
}

// Plain is an error's message without the package prefixes.
func Plain(err error) string {
	s := err.Error()
	for _, p := range []string{"workflow: ", "store: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			web.JSONError(w, http.StatusRequestEntityTooLarge, "the body is larger than 1 MB")
			return false
		}
		web.JSONError(w, http.StatusBadRequest, "the body must be a JSON object with the documented fields: "+err.Error())
		return false
	}
	return true
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	list, err := h.svc.Workflows(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, list)
}

// apiImport takes the export file itself as the body. Values for secure
// variables come in the X-Workflow-Secrets header (a JSON object of names
// to values), never in the URL, which is logged.
func (h *Handler) apiImport(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, export.MaxFileSize))
	if err != nil {
		web.JSONError(w, http.StatusRequestEntityTooLarge, "the export is larger than 32 MB")
		return
	}
	var secrets map[string]string
	if hs := r.Header.Get("X-Workflow-Secrets"); hs != "" {
		if err := json.Unmarshal([]byte(hs), &secrets); err != nil {
			web.JSONError(w, http.StatusBadRequest, "X-Workflow-Secrets must be a JSON object of names to values")
			return
		}
	}
	res, err := h.svc.Import(r.Context(), ImportParams{TenantID: r.PathValue("id"), Actor: a, File: r.URL.Query().Get("file"), Data: body, Secrets: secrets})
	if err != nil {
		if len(res.Problems) > 0 {
			web.JSON(w, http.StatusBadRequest, res)
			return
		}
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, res)
}

func (h *Handler) apiWorkflow(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	sw, f, err := h.svc.Workflow(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.svc.describe(r.Context(), sw)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"workflow": d, "variables": variablesOf(f.Workflow), "tree": Tree(f.Workflow)})
}

func (h *Handler) apiExport(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	data, err := h.svc.Export(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="workflow.json"`)
	_, _ = w.Write(data)
}

func (h *Handler) apiSecret(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	var body struct {
		Value string `json:"value"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if err := h.svc.SetSecret(r.Context(), r.PathValue("id"), a, r.PathValue("name"), body.Value); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) apiStart(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	var body struct {
		Inputs   map[string]any `json:"inputs"`
		TargetID string         `json:"target_id"`
		Wait     bool           `json:"wait"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	for k, v := range body.Inputs {
		body.Inputs[k] = export.Normalize(v)
	}
	run, err := h.svc.StartRun(r.Context(), RunParams{WorkflowID: r.PathValue("id"), Actor: a, Inputs: body.Inputs, TargetID: body.TargetID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !body.Wait {
		// Just created: no activities yet, and the starter may see it.
		v, err := h.svc.view(r.Context(), run, false)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		web.JSON(w, http.StatusCreated, v)
		return
	}
	h.answerRun(w, r, a, run.ID, body.Wait, http.StatusCreated)
}

func (h *Handler) answerRun(w http.ResponseWriter, r *http.Request, a Actor, id string, wait bool, status int) {
	if wait {
		ctx, cancel := contextWithTimeout(r, 60*time.Second)
		defer cancel()
		if _, err := h.svc.Wait(ctx, id); err != nil && ctx.Err() == nil {
			h.fail(w, r, err)
			return
		}
	}
	v, err := h.svc.Run(r.Context(), id, a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, status, v)
}

func (h *Handler) apiRun(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	v, err := h.svc.Run(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("details") == "1" {
		web.JSON(w, http.StatusOK, map[string]any{"run": v, "activities": v.Details})
		return
	}
	web.JSON(w, http.StatusOK, v)
}

func (h *Handler) apiRuns(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	list, err := h.svc.Runs(r.Context(), store.RunFilter{TenantID: r.PathValue("id"), WorkflowID: q.Get("workflow"), ScheduleID: q.Get("schedule"), Before: q.Get("before"), Limit: limit}, a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, list)
}

func (h *Handler) apiAnswer(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	var body struct {
		Fields map[string]string `json:"fields"`
		Wait   bool              `json:"wait"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	run, err := h.svc.Answer(r.Context(), r.PathValue("id"), a, body.Fields)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.answerRun(w, r, a, run.ID, body.Wait, http.StatusOK)
}

func (h *Handler) apiCancel(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	run, err := h.svc.Cancel(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.answerRun(w, r, a, run.ID, false, http.StatusOK)
}

func (h *Handler) apiTargets(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	list, err := h.svc.Targets(r.Context(), r.PathValue("id"), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, list)
}

func (h *Handler) apiUpdateTarget(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	var body TargetUpdate
	if !decodeBody(w, r, &body) {
		return
	}
	t, err := h.svc.UpdateTarget(r.Context(), r.PathValue("id"), a, body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, t)
}

func contextWithTimeout(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}
